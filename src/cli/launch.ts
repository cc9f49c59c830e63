/**
 * Keeping Ctrl-C's promise under the tsx CLI (`npx tsx src/cli/main.ts run …`).
 *
 * The tsx CLI runs the script in a child node (`--require …/tsx/dist/preflight.cjs --import
 * …/loader.mjs`). On SIGINT/SIGTERM it waits ~30 ms for the child to acknowledge the signal (a
 * handler preflight installs, which runs only when the child's event loop turns); without an
 * acknowledgement it sends the signal itself, waits 30 ms more and SIGKILLs the child. A training
 * batch blocks the event loop for longer than that, so the run died without its checkpoint.
 *
 * So when main.ts finds itself in such a child and the command trains (shouldRelaunch in
 * src/invocation.ts: run, sweep), it runs the command in a plain node child instead (the same
 * loader, no preflight: exactly `node --import tsx`) and only waits for it. Its own event loop stays idle, so tsx gets its acknowledgement at
 * once. The trainer gets the terminal's SIGINT (same process group), and this process forwards
 * SIGINT/SIGTERM it receives (so `kill -INT <tsx pid>` still stops the run); the runner counts
 * copies that arrive together as one Ctrl-C (src/interrupt.ts). The exit code is the child's.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { CLI_COMMAND_ENV, cliCommand, isTsxPreflight } from '../invocation.js';

/** `execArgv` without tsx's preflight (and REPL patch) `--require`s; the loader stays. */
export function withoutTsxPreflight(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    if ((a === '--require' || a === '-r') && i + 1 < execArgv.length && isTsxPreflight(execArgv[i + 1])) {
      i++;
      continue;
    }
    if (a.startsWith('--require=') && isTsxPreflight(a.slice('--require='.length))) continue;
    out.push(a);
  }
  return out;
}

/**
 * Run this script again (`process.argv[1]` with `argv`) in a plain node child that shares the
 * terminal and process group; resolves to its exit code (128 + signal number when a signal
 * ended it). SIGINT and SIGTERM received meanwhile are forwarded, not acted on.
 */
export function relaunch(argv: readonly string[]): Promise<number> {
  // the child's messages name the command the user typed (npx tsx …), not the plain node it runs as
  const env = { ...process.env, [CLI_COMMAND_ENV]: cliCommand() };
  const child = spawn(process.execPath, [...withoutTsxPreflight(process.execArgv), process.argv[1], ...argv], { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal as NodeJS.Signals] ?? 0)));
  });
}
