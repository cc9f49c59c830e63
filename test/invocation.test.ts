/** The command that messages tell a user to type next is one that works where the user is. */
import { describe, expect, it } from 'vitest';
import { CLI_COMMAND_ENV, cliCommand, underTsxCli } from '../src/invocation.js';

const preflight = ['--require', '/repo/node_modules/tsx/dist/preflight.cjs', '--import', 'file:///repo/node_modules/tsx/dist/loader.mjs'];

describe('cliCommand', () => {
  it('under npm start or npm run sigprop: npm run sigprop --', () => {
    for (const event of ['start', 'sigprop']) {
      expect(cliCommand({ env: { npm_package_name: 'sigprop', npm_lifecycle_event: event }, argv: ['node', '/repo/src/cli/main.ts'], execArgv: ['--import', 'tsx'], cwd: '/repo' })).toBe('npm run sigprop --');
    }
  });
  it('in a checkout: node --import tsx or npx tsx with the script path relative to the working folder', () => {
    expect(cliCommand({ env: {}, argv: ['node', '/repo/src/cli/main.ts'], execArgv: ['--import', 'tsx'], cwd: '/repo' })).toBe('node --import tsx src/cli/main.ts');
    expect(cliCommand({ env: {}, argv: ['node', '/repo/src/cli/main.ts'], execArgv: preflight, cwd: '/repo' })).toBe('npx tsx src/cli/main.ts');
    expect(cliCommand({ env: {}, argv: ['node', '/repo/src/cli/main.ts'], execArgv: ['--import', 'tsx'], cwd: '/repo/runs' })).toBe('node --import tsx ../src/cli/main.ts');
    // tsx resolves from the working folder: outside the checkout, cd there first
    expect(cliCommand({ env: {}, argv: ['node', '/repo/src/cli/main.ts'], execArgv: ['--import', 'tsx'], cwd: '/elsewhere' })).toBe('cd /repo && node --import tsx src/cli/main.ts');
  });
  it('installed: npx sigprop in a project, sigprop globally', () => {
    expect(cliCommand({ env: {}, argv: ['node', '/p/node_modules/.bin/sigprop'], execArgv: [], cwd: '/p' })).toBe('npx sigprop');
    expect(cliCommand({ env: {}, argv: ['node', '/usr/local/bin/sigprop'], execArgv: [], cwd: '/p' })).toBe('sigprop');
  });
  it('a launcher that re-runs the CLI in a child passes on what the user typed', () => {
    expect(cliCommand({ env: { [CLI_COMMAND_ENV]: 'npx tsx src/cli/main.ts' }, argv: ['node', '/repo/src/cli/main.ts'], execArgv: ['--import', 'tsx'], cwd: '/repo' })).toBe('npx tsx src/cli/main.ts');
  });
  it('tells the tsx CLI child by its preflight', () => {
    expect(underTsxCli(preflight)).toBe(true);
    expect(underTsxCli(['--import', 'tsx'])).toBe(false);
  });
});
