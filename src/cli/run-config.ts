/**
 * The config of a `sigprop run` / `sigprop sweep` command line: a config file or named
 * experiment, `--set path=value` and the override flags, what `--resume` may change, and the
 * line that sums up a finished run. Imported by those commands' `run`
 * only (it loads the experiment schema and every registry), so `--help` stays quick.
 */
import { existsSync } from 'node:fs';
import { applyOverrides, loadConfigFile, resolveConfig } from '../config/resolve.js';
import { getPreset, hasPreset, presetNames } from '../config/presets.js';
import type { ResolvedConfig } from '../config/types.js';
import { accuracyText, type ResumeChanges, type RunResult } from '../runner.js';
import { UsageError, type ParsedArgs } from './args.js';
import { experimentScripts } from './scripts.js';

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
export function resumeChanges(args: ParsedArgs): ResumeChanges {
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

function resolveEpochs(text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`--epochs = ${JSON.stringify(text)} must be an integer >= 1`);
  return v;
}
