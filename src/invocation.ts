/**
 * How this process was started, so that a message naming a command to type next (`continue
 * with: … run --resume DIR`) names one that works where the user is: `npm run sigprop --` under
 * npm, `node --import tsx src/cli/main.ts` or `npx tsx src/cli/main.ts` in a source checkout,
 * `npx sigprop` for a project that installed the package, `sigprop` for a global install.
 */
import { dirname, isAbsolute, relative } from 'node:path';

/** Set by a launcher that re-runs the CLI in a child (src/cli/launch.ts): the command the user typed. */
export const CLI_COMMAND_ENV = 'SIGPROP_CLI_COMMAND';

/** Whether `arg` is tsx's preflight (or REPL patch) script, which the tsx CLI `--require`s in its child. */
export const isTsxPreflight = (arg: string): boolean => /[\\/]tsx[\\/]dist[\\/](preflight|patch-repl)\.cjs$/.test(arg);

/** Whether `execArgv` is that of a child of the tsx CLI (it loads tsx's preflight). */
export function underTsxCli(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((a) => isTsxPreflight(a.replace(/^--require=/, '')));
}

/** Commands that train for long and stop gracefully on Ctrl-C. */
export const TRAINING_COMMANDS: ReadonlySet<string> = new Set(['run', 'sweep']);

/** Whether the CLI invocation `argv` (without node and script) should run in a plain child (src/cli/launch.ts), so that Ctrl-C stops it gracefully under the tsx CLI. */
export function shouldRelaunch(argv: readonly string[], execArgv: readonly string[] = process.execArgv): boolean {
  if (!underTsxCli(execArgv)) return false;
  const [name, ...rest] = argv;
  return name !== undefined && TRAINING_COMMANDS.has(name) && !rest.some((a) => a === '--help' || a === '-h');
}

/** What `cliCommand` reads; the defaults are this process's. */
export interface Invocation {
  env?: Record<string, string | undefined>;
  /** process.argv: [node, script, ...]. */
  argv?: readonly string[];
  execArgv?: readonly string[];
  cwd?: string;
}

/** The command that runs the sigprop CLI the way this process was started (without the subcommand). */
export function cliCommand(inv: Invocation = {}): string {
  const env = inv.env ?? process.env;
  const script = (inv.argv ?? process.argv)[1] ?? '';
  if (env[CLI_COMMAND_ENV]) return env[CLI_COMMAND_ENV]!;
  if (env.npm_package_name === 'sigprop' && (env.npm_lifecycle_event === 'start' || env.npm_lifecycle_event === 'sigprop')) return 'npm run sigprop --';
  if (/[\\/]src[\\/]cli[\\/]main\.ts$/.test(script)) {
    const tsx = underTsxCli(inv.execArgv ?? process.execArgv) ? 'npx tsx' : 'node --import tsx';
    const cwd = inv.cwd ?? process.cwd();
    const root = dirname(dirname(dirname(script)));
    const fromRoot = relative(root, cwd);
    // tsx is found from the working folder up: inside the checkout the path is relative, outside it a cd comes first
    if (!fromRoot.startsWith('..') && !isAbsolute(fromRoot)) return `${tsx} ${relative(cwd, script)}`;
    return `cd ${root} && ${tsx} ${relative(root, script)}`;
  }
  return /[\\/]node_modules[\\/]/.test(script) ? 'npx sigprop' : 'sigprop';
}
