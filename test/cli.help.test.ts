/**
 * `--help` says what exists: the names it lists come from the registries (encoders, backends,
 * datasets, rules, optimizers, surrogates, named experiments), its examples parse and name real
 * things; and it starts quickly: `sigprop --help` loads the flag specs, not the implementation.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { commandNames, main } from '../src/cli/main.js';
import { parseArgs, prepareSpec, splitListArg } from '../src/cli/args.js';
import type { Command } from '../src/cli/command.js';
import { captureIO as quiet } from './cli.helpers.js';
import { runCommand } from '../src/cli/cmd-run.js';
import { sweepCommand } from '../src/cli/cmd-sweep.js';
import { nirCommand } from '../src/cli/cmd-nir.js';
import { serveCommand } from '../src/cli/cmd-serve.js';
import { benchCommand, evalCommand, surrogatesCommand, tracesCommand } from '../src/cli/cmd-misc.js';
import { experimentScripts } from '../src/cli/scripts.js';
import { backendNames } from '../src/backend/registry.js';
import { encoderNames } from '../src/encoders.js';
import { datasetNames } from '../src/data/index.js';
import { ruleNames } from '../src/learning/index.js';
import { optimizerNames } from '../src/learning/optimizers.js';
import { getSurrogate, surrogateNames } from '../surrogates/index.js';
import { modelNames } from '../models/registry.js';
import { hasPreset, presetNames } from '../src/config/presets.js';


async function help(...argv: string[]): Promise<string> {
  const o = quiet();
  expect(await main([...argv, '--help'], o), o.stderr).toBe(0);
  return o.stdout;
}

const COMMANDS: Command[] = [runCommand, evalCommand, tracesCommand, surrogatesCommand, benchCommand, sweepCommand, nirCommand, serveCommand];

/** Help text on one line (wrapped columns joined), so a flag's description reads as one string. */
const flat = (text: string): string => text.replace(/\s+/g, ' ');

/** The `one of: a, b, c` list in the description of --flag, or undefined. */
function listedNames(text: string, flag: string): string[] | undefined {
  const m = new RegExp(`--${flag} \\S+ [^\\[]*?one of: ((?:[\\w.-]+, )*[\\w.-]+)`).exec(flat(text));
  return m?.[1].split(', ');
}

const sorted = (a: readonly string[]): string[] => [...a].sort();

describe('--help lists what the registries hold', () => {
  it('encoders, backends and datasets of the config flags (run, sweep) and of eval --backend', async () => {
    for (const cmd of ['run', 'sweep']) {
      const text = await help(cmd);
      expect(sorted(listedNames(text, 'encoder') ?? []), `${cmd} --encoder`).toEqual(sorted(encoderNames()));
      expect(sorted(listedNames(text, 'backend') ?? []), `${cmd} --backend`).toEqual(sorted(['auto', ...backendNames()]));
      expect(sorted(listedNames(text, 'dataset') ?? []), `${cmd} --dataset`).toEqual(sorted(datasetNames()));
      expect(sorted(listedNames(text, 'rule') ?? []), `${cmd} --rule`).toEqual(sorted(ruleNames()));
      expect(sorted(listedNames(text, 'optimizer') ?? []), `${cmd} --optimizer`).toEqual(sorted(optimizerNames()));
    }
    expect(sorted(listedNames(await help('eval'), 'backend') ?? [])).toEqual(sorted(['auto', ...backendNames()]));
  });

  it('every quoted name in any help text exists', async () => {
    const known = new Set([
      ...encoderNames(), 'auto', ...backendNames(), ...datasetNames(), ...ruleNames(), ...optimizerNames(), ...surrogateNames(),
      ...modelNames(), ...presetNames(), ...commandNames(), ...experimentScripts(),
    ]);
    const texts = [await help(), ...(await Promise.all(commandNames().map((c) => help(c))))].join('\n');
    const quoted = [...flat(texts).matchAll(/'([A-Za-z][\w-]*)(?::[^']*)?'/g)].map((m) => m[1]);
    expect(quoted.length).toBeGreaterThan(0);
    expect(quoted.filter((q) => !known.has(q))).toEqual([]);
  });

  it('surrogate specs given as examples in flag descriptions are valid', async () => {
    const specs: string[] = [];
    for (const [cmd, flag] of [['run', 'surrogate'], ['sweep', 'surrogates'], ['surrogates', 'names']]) {
      const m = new RegExp(`--${flag} \\S+ [^\\[]*?e\\.g\\. (.+?)(?: \\(| \\[|$)`).exec(flat(await help(cmd)));
      expect(m, `${cmd} --${flag}`).not.toBeNull();
      for (const alt of m![1].split(' or ')) specs.push(...splitListArg(alt.replace(/'/g, '')));
    }
    expect(specs.length).toBeGreaterThan(4);
    for (const s of specs) expect(() => getSurrogate(s), s).not.toThrow();
  });

  it('examples use existing flags, named experiments, surrogates and backends', async () => {
    let checked = 0;
    for (const cmd of COMMANDS) {
      await prepareSpec(cmd);
      for (const example of cmd.examples ?? []) {
        for (const part of example.split('&&')) {
          const words = part.trim().split(/\s+/);
          expect(words[0]).toBe('sigprop');
          const sub = COMMANDS.find((c) => c.command === words[1]);
          expect(sub, example).toBeDefined();
          await prepareSpec(sub!);
          const args = parseArgs(words.slice(2), sub!); // throws on a flag that does not exist
          checked++;
          if (sub!.command === 'run' || sub!.command === 'sweep') {
            const src = args.positionals[0];
            if (src !== undefined && !src.endsWith('.json')) expect(hasPreset(src) || experimentScripts().includes(src), `${example}: ${src}`).toBe(true);
          }
          const sg = [args.overrides.surrogate, ...((args.flags.surrogates ?? args.flags.names ?? []) as string[])].filter((s): s is string => !!s);
          for (const s of sg) expect(() => getSurrogate(s), `${example}: ${s}`).not.toThrow();
          for (const b of [args.overrides.backend, args.flags.backend]) if (typeof b === 'string') expect(['auto', ...backendNames()]).toContain(b);
        }
      }
    }
    expect(checked).toBeGreaterThan(8);
  });

  it('the top-level help lists every command with its summary', async () => {
    const text = await help();
    for (const c of COMMANDS) expect(flat(text)).toContain(`${c.command} ${c.summary}`);
    expect(sorted(commandNames())).toEqual(sorted(COMMANDS.map((c) => c.command)));
  });
});

describe('start-up: --help loads the flag specs, not the implementation', () => {
  const root = join(__dirname, '..');
  /** The source files (relative to the checkout) the CLI loads for `argv`. */
  function loaded(...argv: string[]): string[] {
    const r = spawnSync(process.execPath, ['--import', './test/fixtures/log-loads.mjs', '--import', 'tsx', 'src/cli/main.ts', ...argv], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const files = [...r.stderr.matchAll(/^LOAD file:\/\/(.*)$/gm)].map((m) => m[1]);
    expect(files.some((f) => f.endsWith('src/cli/main.ts'))).toBe(true);
    return files.map((f) => (f.startsWith(root) ? f.slice(root.length + 1) : f));
  }

  it('sigprop --help: no runner, config schema, registries, learning rules, reports, NIR (h5wasm) or mathjs', () => {
    const files = loaded('--help');
    const heavy = files.filter((f) => /^(src\/(runner|checkpoint|recorder)\.ts|src\/(learning|report|data|backend|engine|interop)\/|src\/config\/(experiment-schema|resolve)\.ts|models\/|surrogates\/)|node_modules\/(mathjs|h5wasm)/.test(f));
    expect(heavy).toEqual([]);
    // main, args, errors, io (with csv), schema, didyoumean, invocation, scripts, command and one light module per command group
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('models/') || f.startsWith('surrogates/')).length).toBeLessThanOrEqual(15);
  });

  it('sigprop run --help: the config schema, but no runner, learning rules, reports or mathjs', () => {
    const files = loaded('run', '--help');
    expect(files).toContain('src/config/experiment-schema.ts');
    expect(files.filter((f) => /^(src\/(runner|checkpoint)\.ts|src\/(learning|report|engine)\/)|node_modules\/mathjs/.test(f))).toEqual([]);
  });
});
