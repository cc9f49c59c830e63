/**
 * What a `sigprop` subcommand is: its help spec (flags, arguments, examples) and a `run`
 * function. Commands are registered by name in src/cli/main.ts (a registry, not a switch).
 */
import type { ProgressStream } from '../progress.js';
import type { HelpSpec, ParsedArgs } from './args.js';

/** Where a command writes (injected so tests run commands in-process). */
export interface CliIO {
  /** Normal output (results, listings). */
  out(text: string): void;
  /** Diagnostics (errors, warnings). */
  err(text: string): void;
  /** Progress bar stream, or false for none. */
  progress: ProgressStream | false;
  /** Install a SIGINT handler during long work (true for the real CLI, false in tests). */
  handleSigint: boolean;
}

/** A subcommand. `run` returns the process exit code. */
export interface Command extends HelpSpec {
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/** Helper: the lines logger a command passes to the run loop (silent with --quiet). */
export function lineLogger(args: ParsedArgs, io: CliIO): (line: string) => void {
  return args.flags.quiet ? () => {} : (line) => io.out(`${line}\n`);
}
