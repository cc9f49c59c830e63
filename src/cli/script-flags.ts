/**
 * Command lines of the experiment scripts (experiments/*.ts): a compact flag table
 * (name → [default, description]) becomes a HelpSpec parsed by args.ts like any `sigprop`
 * command, so a script has the same strict parsing (unknown flags exit 2 with a did-you-mean
 * hint), `--help` text and error handling as the CLI.
 *
 *   const code = await runScriptMain(process.argv.slice(2), {
 *     script: 'sigprop-mnist', summary: '...', flags: { epochs: [1, 'training epochs'], ... },
 *   }, async (f) => { ... f.epochs ... });
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SigpropError, ParameterError } from '../errors.js';
import type { RunEpochMetrics, RunExperimentOptions, RunResult } from '../runner.js';
import { formatHelp, parseArgs, UsageError, type FlagSpec, type HelpSpec } from './args.js';

/** name (kebab-case) → [default, description]; the default's type is the flag's type ('' = no default text). */
export type ScriptFlagTable = Record<string, readonly [string | number | boolean, string]>;

export interface ScriptSpec<T extends ScriptFlagTable> {
  /** File name under experiments/ without extension, e.g. 'sigprop-mnist'. */
  script: string;
  summary: string;
  description?: string;
  examples?: readonly string[];
  flags: T;
}

/** Parsed flags: each with its table default's type, plus the global --quiet and --debug. */
export type ScriptFlags<T extends ScriptFlagTable> = {
  -readonly [K in keyof T]: T[K][0] extends boolean ? boolean : T[K][0] extends number ? number : string;
} & { quiet: boolean; debug: boolean };

/** How the script is run (shown in help and error hints). */
export const scriptCommand = (script: string): string => `npx tsx experiments/${script}.ts`;

/** The HelpSpec of a script's flag table (parseArgs / formatHelp). */
export function scriptHelpSpec<T extends ScriptFlagTable>(spec: ScriptSpec<T>): HelpSpec {
  const flags: FlagSpec[] = Object.entries(spec.flags).map(([name, [def, description]]) => ({
    name,
    type: typeof def === 'boolean' ? 'boolean' : typeof def === 'number' ? 'number' : 'string',
    description,
    ...(def === '' || def === false ? {} : { default: def }),
  }));
  return {
    command: `experiments/${spec.script}.ts`,
    summary: spec.summary,
    usage: `${scriptCommand(spec.script)} [options]`,
    description: spec.description,
    positionals: [],
    flags,
    examples: spec.examples,
  };
}

/** Parse argv against a script's flag table (UsageError on a wrong command line). */
export function parseScriptFlags<T extends ScriptFlagTable>(argv: readonly string[], spec: ScriptSpec<T>): ScriptFlags<T> & { help: boolean } {
  const parsed = parseArgs(argv, scriptHelpSpec(spec));
  const out: Record<string, unknown> = {};
  for (const [name, [def]] of Object.entries(spec.flags)) out[name] = parsed.flags[name] ?? def;
  return { ...out, quiet: parsed.flags.quiet === true, debug: parsed.flags.debug === true, help: parsed.flags.help === true } as ScriptFlags<T> & { help: boolean };
}

/** The help text of a script. */
export function scriptHelp<T extends ScriptFlagTable>(spec: ScriptSpec<T>): string {
  return formatHelp(scriptHelpSpec(spec)).replace(/^sigprop experiments\/\S+ — /, `${scriptCommand(spec.script)} — `);
}

export interface ScriptIO {
  out(text: string): void;
  err(text: string): void;
}

const processIO: ScriptIO = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

/**
 * Parse the flags and run `body`; returns the exit code: 0 (or body's), 0 after --help, 2 for a
 * wrong command line (UsageError, printed with a hint), 1 for other errors (a SigpropError as a
 * one-line message, anything else with its stack trace).
 */
export async function runScriptMain<T extends ScriptFlagTable>(
  argv: readonly string[], spec: ScriptSpec<T>, body: (flags: ScriptFlags<T>) => Promise<number | void>, io: ScriptIO = processIO,
): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const f = parseScriptFlags(argv, spec);
    if (f.help) {
      io.out(scriptHelp(spec));
      return 0;
    }
    return (await body(f)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message.replace(`'sigprop experiments/${spec.script}.ts'`, `experiments/${spec.script}.ts`)}\nhint: run '${scriptCommand(spec.script)} --help' for the accepted flags\n`);
      return 2;
    }
    if (err instanceof SigpropError) {
      io.err(`error: ${err.message}\n`);
      if (debug) io.err(`${err.stack}\n`);
      return 1;
    }
    io.err(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

/** Run a script's main and exit with its code once stdout is flushed (worker threads may otherwise keep the process alive). */
export function exitWith(code: Promise<number>): void {
  void code.then((c) => process.stdout.write('', () => process.exit(c)));
}

/**
 * The milestone schedule of the experiment scripts' `--milestones` / `--gamma` flags: undefined
 * for an empty list, else whole epochs (0-based epoch index at which the rate is multiplied by gamma).
 */
export function scheduleFromFlags(milestones: string, gamma: number): { milestones: number[]; gamma: number } | undefined {
  const text = String(milestones).trim();
  if (text === '') return undefined;
  const ms = text.split(',').map((m) => Number(m.trim()));
  if (ms.some((m) => !Number.isInteger(m) || m < 0)) {
    throw new ParameterError(`flag --milestones = "${text}" must be comma-separated whole epochs, e.g. 6,8`);
  }
  return { milestones: ms, gamma };
}

/** What an experiment script records of one training run (its results JSON). */
export interface ScriptRunSummary {
  runDir: string;
  status: RunResult['status'];
  config: RunResult['config'];
  backend?: string;
  trainSize?: number;
  testSize?: number;
  /** Per-epoch metrics, as the run folder's metrics.json. */
  epochs: RunEpochMetrics[];
  finalTestAccuracy: number;
  bestTestAccuracy: number;
  /** Wall time of the run (s), loading and report included. */
  wallS: number;
  /** Peak resident set size of the process so far (MiB). */
  peakRssMiB: number;
}

/** Summarise a finished (or interrupted) run that started at `startMs` (Date.now()). */
export function scriptRunSummary(r: RunResult, startMs: number): ScriptRunSummary {
  let backend: string | undefined;
  try {
    backend = (JSON.parse(readFileSync(join(r.runDir, 'run.json'), 'utf8')) as { backend?: string }).backend;
  } catch {
    backend = undefined;
  }
  const acc = r.metrics.map((m) => m.testAccuracy);
  return {
    runDir: r.runDir, status: r.status, config: r.config, backend,
    trainSize: r.metrics[0]?.trainSamples, testSize: r.metrics[0]?.testSamples,
    epochs: r.metrics,
    finalTestAccuracy: acc.at(-1) ?? NaN,
    bestTestAccuracy: acc.length ? Math.max(...acc) : NaN,
    wallS: (Date.now() - startMs) / 1000,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * Run-loop options of a script: Ctrl-C finishes the batch and writes a checkpoint (continue with
 * `sigprop run --resume DIR`), a progress bar on stderr unless --quiet or `progress` is false,
 * epoch lines on stdout unless --quiet.
 */
export function scriptRunOptions(f: { quiet: boolean }, more: { progress?: boolean; log?: boolean } = {}): Pick<RunExperimentOptions, 'handleSigint' | 'progress' | 'log'> {
  return {
    handleSigint: true,
    ...(f.quiet || more.progress === false ? { progress: false as const } : {}),
    ...(f.quiet || more.log === false ? { log: () => {} } : {}),
  };
}
