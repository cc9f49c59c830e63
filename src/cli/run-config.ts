/**
 * The config of a `sigprop run` / `sigprop sweep` command line: a config file or named
 * experiment, `--set path=value` and the override flags. Imported by those commands' `run`
 * only (it loads the experiment schema and every registry), so `--help` stays quick.
 */
import { existsSync } from 'node:fs';
import { applyOverrides, loadConfigFile, resolveConfig } from '../config/resolve.js';
import { getPreset, hasPreset, presetNames } from '../config/presets.js';
import type { ResolvedConfig } from '../config/types.js';
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

/** Resolve the config of a run/sweep command line: source + --set + override flags. */
export function configFromArgs(source: string, args: ParsedArgs): ResolvedConfig {
  const raw = rawConfigFor(source);
  if (!raw) {
    const scripts = experimentScripts();
    throw new UsageError(
      `${JSON.stringify(source)} is not a config file, a named experiment or an experiment script`,
      `named experiments: ${presetNames().join(', ')}${scripts.length ? `; scripts: ${scripts.join(', ')}` : ''}`,
    );
  }
  for (const s of (args.flags.set as string[] | undefined) ?? []) setPath(raw, s);
  return resolveConfig(applyOverrides(raw, args.overrides), existsSync(source) ? source : `experiment ${source}`);
}
