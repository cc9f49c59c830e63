#!/usr/bin/env node
/**
 * The `sigprop` command line. `main(argv, io)` runs one command and returns the exit code
 * (0 ok, 1 failure, 2 wrong usage, 130 interrupted), so tests call it in-process; run as a
 * program (`npx sigprop ...` after install, `npx tsx src/cli/main.ts ...` in a checkout) it
 * exits with that code. Errors print one clear message; stack traces only with --debug.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closest } from '../config/didyoumean.js';
import { SigpropError } from '../errors.js';
import { columns, formatHelp, GLOBAL_FLAGS, parseArgs, prepareSpec, UsageError } from './args.js';
import type { CliIO, Command } from './command.js';
import { benchCommand, evalCommand, surrogatesCommand, tracesCommand } from './cmd-misc.js';
import { runCommand } from './cmd-run.js';
import { sweepCommand } from './cmd-sweep.js';
import { nirCommand } from './cmd-nir.js';
import { serveCommand } from './cmd-serve.js';

const commands = new Map<string, Command>();

/** Register (or replace) a subcommand. */
export function registerCommand(cmd: Command): void {
  commands.set(cmd.command, cmd);
}

/** Names of the registered subcommands. */
export function commandNames(): string[] {
  return [...commands.keys()];
}

for (const c of [runCommand, evalCommand, tracesCommand, surrogatesCommand, benchCommand, sweepCommand, nirCommand, serveCommand]) registerCommand(c);

/** The package version (from the nearest package.json named sigprop). */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sigprop') return pkg.version ?? 'unknown';
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** Top-level help. */
export function topHelp(): string {
  return [
    'sigprop — spiking and continuous-time networks trained with forward-only learning rules',
    '',
    'Usage: sigprop <command> [options]',
    '',
    'Commands:',
    columns([...commands.values()].map((c) => [c.command, c.summary])),
    '',
    'Global options:',
    columns([...GLOBAL_FLAGS.map((f): [string, string] => [`${f.short ? `-${f.short}, ` : '    '}--${f.name}`, f.description]), ['    --version', 'print the version']]),
    '',
    "Run 'sigprop <command> --help' for a command's options, units and defaults.",
    '',
  ].join('\n');
}

/** The real process's streams. */
export function processIO(): CliIO {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    progress: process.stderr,
    handleSigint: true,
  };
}

/** Run the CLI on `argv` (without 'node' and the script). Returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      if (name === 'help' && rest[0] && commands.has(rest[0])) {
        await prepareSpec(commands.get(rest[0])!);
        io.out(formatHelp(commands.get(rest[0])!));
        return 0;
      }
      io.out(topHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-V') {
      io.out(`${version()}\n`);
      return 0;
    }
    const cmd = commands.get(name);
    if (!cmd) {
      const hint = closest(name, commandNames());
      const what = name.startsWith('-') ? `unknown option ${name} (a command comes first)` : `unknown command '${name}'`;
      throw new UsageError(`${what}${hint ? ` (did you mean '${hint}'?)` : ''}`, `commands: ${commandNames().join(', ')}; run 'sigprop --help'`);
    }
    await prepareSpec(cmd);
    const args = parseArgs(rest, cmd);
    if (args.flags.help) {
      io.out(formatHelp(cmd));
      return 0;
    }
    return await cmd.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
      if (debug) io.err(`${err.stack}\n`);
      return 2;
    }
    if (err instanceof SigpropError) {
      io.err(`error: ${err.message}\n`);
      if (debug) io.err(`${err.stack}\n`);
      return 1;
    }
    const e = err as Error;
    io.err(`internal error: ${e?.message ?? String(err)}\n`);
    io.err(debug ? `${e?.stack ?? ''}\n` : 'run again with --debug for the stack trace, and report it as a bug\n');
    return 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const argv = process.argv.slice(2);
  // under the tsx CLI, training runs in a plain child so that Ctrl-C stops it gracefully (see launch.ts)
  const exitCode = import('../invocation.js').then(async (inv) =>
    inv.shouldRelaunch(argv)
      ? (await import('./launch.js')).relaunch(argv).catch((err: Error) => {
          process.stderr.write(`error: could not start the training process (${process.execPath}): ${err.message}\n`);
          return 1;
        })
      : main(argv),
  );
  exitCode.then((code) => {
    process.stdout.write('', () => process.exit(code));
  });
}
