/** Running the CLI in-process in tests: a CliIO that captures what a command writes. */
import { main } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/command.js';

/** A quiet CliIO (no progress, no SIGINT handler) whose out and err text is kept. */
export function captureIO(): CliIO & { stdout: string; stderr: string } {
  const r = {
    stdout: '',
    stderr: '',
    out(t: string) { r.stdout += t; },
    err(t: string) { r.stderr += t; },
    progress: false as const,
    handleSigint: false,
  };
  return r;
}

/** Run `sigprop <argv>` in-process; returns the exit code and what it printed. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = captureIO();
  const code = await main(argv, o);
  return { code, out: o.stdout, err: o.stderr };
}
