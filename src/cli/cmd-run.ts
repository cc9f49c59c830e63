/**
 * `sigprop run`: train a config file, a named experiment (preset) or an experiment script;
 * `--resume DIR` continues an interrupted run bit for bit.
 */
import { existsSync } from 'node:fs';
import { applyOverrides, loadConfigFile, resolveConfig } from '../config/resolve.js';
import { getPreset, hasPreset, presetNames } from '../config/presets.js';
import type { ResolvedConfig } from '../config/types.js';
import { accuracyText, resumeRun, runExperiment, type ResumeChanges, type RunResult } from '../runner.js';
import { UsageError, type ParsedArgs } from './args.js';
import { lineLogger, type CliIO, type Command } from './command.js';
import { experimentScripts, findExperimentScript, runScript } from './scripts.js';

/** Set a nested field from a `path=value` string, e.g. 'layers[0].size=100' (value parsed as JSON when it can be). */
export function setPath(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set ${JSON.stringify(assignment)} must look like field.path=value, e.g. layers[0].size=100`);
  const path = assignment.slice(0, eq);
  const text = assignment.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // a bare string
  }
  const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
  let obj: Record<string, unknown> = target;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i];
    if (typeof obj[k] !== 'object' || obj[k] === null) obj[k] = /^\d+$/.test(keys[i + 1]) ? [] : {};
    obj = obj[k] as Record<string, unknown>;
  }
  obj[keys[keys.length - 1]] = value;
}

/**
 * The raw (unvalidated) config named by a positional: a JSON file path or a preset name.
 * Returns undefined when it is neither (the caller may try an experiment script).
 */
export function rawConfigFor(source: string): Record<string, unknown> | undefined {
  if (existsSync(source) || source.endsWith('.json')) return loadConfigFile(source) as Record<string, unknown>;
  if (hasPreset(source)) return getPreset(source) as unknown as Record<string, unknown>;
  return undefined;
}

/** Resolve the config of a run/sweep command line: source + --set + override flags. `onWarning` gets settings that will have no effect. */
export function configFromArgs(source: string, args: ParsedArgs, onWarning?: (message: string) => void): ResolvedConfig {
  const raw = rawConfigFor(source);
  if (!raw) {
    const scripts = experimentScripts();
    throw new UsageError(
      `${JSON.stringify(source)} is not a config file, a named experiment or an experiment script`,
      `named experiments: ${presetNames().join(', ')}${scripts.length ? `; scripts: ${scripts.join(', ')}` : ''}`,
    );
  }
  for (const s of (args.flags.set as string[] | undefined) ?? []) setPath(raw, s);
  return resolveConfig(applyOverrides(raw, args.overrides), existsSync(source) ? source : `experiment ${source}`, { onWarning });
}

/** One line summarising a finished run (the accuracy with its number of test samples), and where its report is. */
export function resultLine(r: RunResult): string {
  const last = r.metrics.at(-1);
  const acc = last ? `, test accuracy ${accuracyText(last.testAccuracy, last.testSamples)}` : '';
  const report = r.reportPath ? `\nreport: ${r.reportPath}` : r.reportError ? `\nreport: not written (${r.reportError})` : '';
  return `run ${r.status}: ${r.runDir}${acc}${report}`;
}

/** What `--resume` may change: --epochs, --learning-rate and --set ruleParams.eta=X (anything else is a usage error). */
function resumeChanges(args: ParsedArgs): ResumeChanges {
  const extra = Object.keys(args.overrides).filter((k) => k !== 'epochs' && k !== 'learningRate');
  const sets: Record<string, unknown> = {};
  for (const s of (args.flags.set as string[] | undefined) ?? []) setPath(sets, s);
  const { ruleParams, ...otherSets } = sets as { ruleParams?: Record<string, unknown> };
  const { eta, ...otherParams } = ruleParams ?? {};
  const badSets = [...Object.keys(otherSets), ...Object.keys(otherParams).map((k) => `ruleParams.${k}`)];
  if (args.positionals.length || extra.length || badSets.length) {
    const got = [...args.positionals, ...extra.map((k) => `--${k}`), ...badSets.map((k) => `--set ${k}`)].join(', ');
    throw new UsageError(
      `--resume continues a run with its saved config; only --epochs, --learning-rate and --set ruleParams.eta=X may change (got ${got})`,
      'to change anything else, start a new run',
    );
  }
  const number = (flag: string, v: unknown): number => {
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`${flag} = ${JSON.stringify(v)} must be a number`);
    return n;
  };
  return {
    ...(args.overrides.epochs !== undefined ? { epochs: resolveEpochs(args.overrides.epochs) } : {}),
    ...(args.overrides.learningRate !== undefined ? { learningRate: number('--learning-rate', args.overrides.learningRate) } : {}),
    ...(eta !== undefined ? { eta: number('ruleParams.eta', eta) } : {}),
  };
}

export const runCommand: Command = {
  command: 'run',
  summary: 'train an experiment (config file, named experiment or script)',
  usage: 'sigprop run <config.json | experiment> [options] [config overrides]\n       sigprop run --resume <run-dir> [--epochs N] [--learning-rate LR] [--set ruleParams.eta=ETA]',
  description:
    'Trains the network a config describes and writes a run folder: config.json (resolved, defaults filled), run.json (status), ' +
    'metrics.json + metrics.csv (per epoch), checkpoint.ckpt and report.html (for spiking runs with voltage traces of 4 test samples ' +
    'before and after training, raw recordings in traces.*.json/csv, and the surrogate\'s shape). Ctrl-C finishes the current batch, writes a checkpoint ' +
    'and the report, and exits with code 130; continue with --resume. A run owns its folder while it runs (run.lock); a second run there is refused. ' +
    'A run stops with status diverged when a weight or the loss becomes NaN or infinite, or the loss exceeds 10^4 times its first batch\'s loss; ' +
    'the message names the --resume command that continues from the last good checkpoint with a lower learning rate.',
  positionals: [{ name: 'config', description: 'a JSON config file, a named experiment (see --list) or an experiments/ script name', required: false, variadic: true }],
  flags: [
    { name: 'run-dir', type: 'string', placeholder: 'DIR', description: 'run folder (default <outDir>/<name>-<UTC time>, with -2, -3, ... added when that name is taken)' },
    { name: 'resume', type: 'string', placeholder: 'DIR', description: 'continue the run in DIR from its checkpoint (same result as an uninterrupted run); may change --epochs, and after divergence --learning-rate or --set ruleParams.eta=X (recorded in run.json)' },
    { name: 'set', type: 'list', placeholder: 'PATH=VALUE', description: 'set a nested config field, e.g. --set layers[0].size=100 (repeatable)' },
    { name: 'dry-run', type: 'boolean', description: 'print the resolved config and exit without training' },
    { name: 'report', type: 'boolean', default: true, description: 'skip report.html' },
    { name: 'list', type: 'boolean', description: 'list the named experiments and scripts' },
  ],
  configFlags: true,
  examples: [
    'sigprop run quick',
    'sigprop run exp.json --epochs 10 --learning-rate 0.0005 --backend reference',
    'sigprop run mnist-lif --surrogate atan:alpha=2 --seed 3 --run-dir runs/atan-3',
    'sigprop run --resume runs/atan-3',
  ],
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    if (args.flags.list) {
      const { listPresets } = await import('../config/presets.js');
      io.out('Named experiments:\n');
      const presets = listPresets(), width = Math.max(...presets.map((p) => p.name.length));
      for (const p of presets) io.out(`  ${p.name.padEnd(width)}  ${p.description}\n`);
      const scripts = experimentScripts();
      if (scripts.length) io.out(`Experiment scripts (experiments/): ${scripts.join(', ')}\n`);
      return 0;
    }
    const common = {
      progress: args.flags.quiet ? (false as const) : io.progress,
      log: lineLogger(args, io),
      warn: (line: string) => io.err(`warning: ${line}\n`), // whatever the verbosity
      report: args.flags.report !== false,
      handleSigint: io.handleSigint,
    };
    if (args.flags.resume) {
      const r = await resumeRun(String(args.flags.resume), { ...common, ...resumeChanges(args) });
      io.out(`${resultLine(r)}\n`);
      return r.status === 'interrupted' ? 130 : 0;
    }
    const [source, ...rest] = args.positionals;
    if (!source) throw new UsageError("'sigprop run' needs a config file or experiment name (or --resume DIR)", "run 'sigprop run --list' for the named experiments");
    if (!rawConfigFor(source)) {
      const script = findExperimentScript(source);
      if (script) return runScript(script, rest);
    }
    if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])} for 'sigprop run'`, "run 'sigprop run --help' for the accepted flags");
    const cfg = configFromArgs(source, args, (w) => io.err(`warning: ${w}\n`));
    if (args.flags['dry-run']) {
      io.out(`${JSON.stringify(cfg, null, 2)}\n`);
      return 0;
    }
    const r = await runExperiment(cfg, { ...common, runDir: args.flags['run-dir'] as string | undefined });
    io.out(`${resultLine(r)}\n`);
    return r.status === 'interrupted' ? 130 : 0;
  },
};

function resolveEpochs(text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`--epochs = ${JSON.stringify(text)} must be an integer >= 1`);
  return v;
}
