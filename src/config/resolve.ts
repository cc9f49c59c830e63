/**
 * Loading, validating and resolving experiment configurations.
 *
 *   const cfg = resolveConfig(loadConfigFile('exp.json'));      // throws ConfigError listing every problem
 *   const cfg2 = resolveConfig(applyOverrides(raw, { epochs: '3' }));
 *
 * `resolveConfig` validates against `experimentSchema` (unknown fields rejected, with a
 * did-you-mean hint) and fills defaults; the result is what a run folder's config.json holds.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SigpropError } from '../errors.js';
import { writeJsonAtomic } from '../io.js';
import { datasetClassCount } from '../data/index.js';
import type { ExperimentConfig, ResolvedConfig } from './types.js';
import { experimentSchema } from './experiment-schema.js';
import { applyDefaults, ConfigError, describeAllowed, validate, type ConfigIssue, type Schema } from './schema.js';
import { ignoredSettingWarnings, layerIssues, RATE_DEFAULT_RULES } from './semantics.js';

export interface ResolveOptions {
  /**
   * Field paths whose registry check is skipped, e.g. ['dataset'] when the caller supplies its
   * own Dataset object under a name that is not registered (its class count is then unknown too).
   */
  skipChecks?: readonly string[];
  /**
   * Receives one sentence per setting that is valid but will not do what it seems to (e.g. a
   * surrogate in rate mode, which has none; more output units than classes). Only settings that
   * `raw` gives explicitly are mentioned, not defaults. The CLI prints them as `warning: ...` on
   * stderr; without a callback they are dropped (the run loop re-resolves saved configs silently).
   */
  onWarning?: (message: string) => void;
}

/**
 * Validate a raw configuration object and fill in defaults. Throws ConfigError (listing every
 * problem: field path, value, what is allowed) when invalid. `source` names the origin in messages.
 * Besides each field's own rule this checks, before any data is loaded: the hidden layers' neuron
 * models and parameters (with the models' own validation, naming `layers[i]`), the output layer
 * against the dataset's number of classes, and the datasetParams of synthetic tasks.
 */
export function resolveConfig(raw: unknown, source = 'config', opts: ResolveOptions = {}): ResolvedConfig {
  const skip = new Set(opts.skipChecks ?? []);
  const issues = validate(experimentSchema, raw, '', skip);
  if (issues.length) throw new ConfigError(issues, source);
  const cfg = applyDefaults(experimentSchema, raw) as ResolvedConfig;
  if (!cfg.name) cfg.name = `${cfg.dataset}-${cfg.rule}`.replace(/[^A-Za-z0-9._-]/g, '_');
  if (RATE_DEFAULT_RULES.includes(cfg.rule) && (raw as Record<string, unknown>).mode === undefined) cfg.mode = 'rate'; // their only network
  const warnings: string[] = [];
  const extra = crossFieldIssues(cfg, skip, warnings);
  if (extra.length) throw new ConfigError(extra, source);
  if (opts.onWarning) for (const w of [...ignoredSettingWarnings(raw, cfg), ...warnings]) opts.onWarning(w);
  return cfg;
}

/** The output layer against the dataset's class count (known without loading it for registered datasets). */
function classIssues(cfg: ResolvedConfig, skip: ReadonlySet<string>, warnings: string[]): ConfigIssue[] {
  if (skip.has('dataset')) return [];
  let classes: number | undefined;
  try {
    classes = datasetClassCount(cfg.dataset, cfg.datasetParams);
  } catch (err) {
    return [{ path: 'datasetParams', value: cfg.datasetParams, message: `datasetParams = ${JSON.stringify(cfg.datasetParams)} is not valid for dataset "${cfg.dataset}": ${(err as Error).message}` }];
  }
  return classes === undefined ? [] : outputSizeIssues(cfg, classes, warnings);
}

/**
 * The output layer (the last) against a class count: fewer units than classes is an issue, more
 * a warning. Resolution calls it for registered datasets; the run loop for a dataset a caller supplies.
 */
export function outputSizeIssues(cfg: ResolvedConfig, classes: number, warnings: string[] = []): ConfigIssue[] {
  const i = cfg.layers.length - 1;
  const size = cfg.layers[i].size;
  const of = `the ${classes} classes of dataset "${cfg.dataset}"${cfg.datasetParams?.classes !== undefined ? ' (datasetParams.classes)' : ''}`;
  if (size < classes) {
    return [{
      path: `layers[${i}].size`, value: size,
      message: `layers[${i}].size = ${size} is fewer than ${of}; the last layer is the output and needs one unit per class: set layers[${i}].size to ${classes}`,
    }];
  }
  if (size > classes) warnings.push(`layers[${i}].size = ${size} is more than ${of}; ${size - classes} output unit${size - classes > 1 ? 's' : ''} will never match a label (set it to ${classes})`);
  return [];
}

/** Checks that involve more than one field. Warnings (valid but suspicious settings) go to `warnings`. */
function crossFieldIssues(cfg: ResolvedConfig, skip: ReadonlySet<string>, warnings: string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [...layerIssues(cfg), ...classIssues(cfg, skip, warnings)];
  if (cfg.schedule) {
    const m = cfg.schedule.milestones;
    for (let i = 1; i < m.length; i++) {
      if (m[i] <= m[i - 1]) {
        issues.push({ path: 'schedule.milestones', value: m, message: `schedule.milestones = ${JSON.stringify(m)} is not increasing; list each milestone epoch once, in increasing order` });
        break;
      }
    }
  }
  return issues;
}

/** Convert a JSON.parse position to "line L, column C". */
function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}

/**
 * Offset of the first JSON syntax error in `text` (-1 if none found). A small scanner used for
 * messages only, because Node's JSON.parse does not always report a position.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const str = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const num = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else num();
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (pos) {
    return pos as number;
  }
}

/** Read and parse a JSON config file (not yet validated). Errors name the file and position. */
export function loadConfigFile(path: string): unknown {
  if (!existsSync(path)) throw new SigpropError(`config file ${path} does not exist; give the path of a JSON config file`, 'config');
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : jsonErrorOffset(text);
    const where = pos >= 0 ? ` at ${lineCol(text, pos)}` : '';
    throw new SigpropError(`config file ${path} is not valid JSON${where}: ${msg}`, 'config');
  }
}

/** Load, validate and resolve a config file in one call. */
export function loadConfig(path: string): ResolvedConfig {
  return resolveConfig(loadConfigFile(path), path);
}

/**
 * Parse a command-line string into the type a schema expects ('3' → 3, 'true' → true).
 * Throws ConfigError naming the field (as `--flag`) when it cannot be converted.
 */
export function parseValue(field: string, text: string, schema: Schema): unknown {
  if (schema.type === 'number') {
    const v = text.trim() === '' ? NaN : Number(text);
    if (!Number.isFinite(v)) throw new ConfigError([{ path: field, value: text, message: `--${field} = ${JSON.stringify(text)} is not a number; --${field} must be ${describeAllowed(schema)}` }], 'command line');
    return v;
  }
  if (schema.type === 'boolean') {
    if (text === 'true' || text === '') return true;
    if (text === 'false') return false;
    throw new ConfigError([{ path: field, value: text, message: `--${field} = ${JSON.stringify(text)} must be true or false` }], 'command line');
  }
  if (schema.type === 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError([{ path: field, value: text, message: `--${field} = ${JSON.stringify(text)} is not valid JSON; --${field} must be ${describeAllowed(schema)}` }], 'command line');
  }
}

/**
 * Return a copy of `raw` with top-level fields replaced by command-line values (strings parsed
 * by the field's schema). Unknown field names are left for `resolveConfig` to reject.
 */
export function applyOverrides(raw: unknown, overrides: Record<string, string>): Record<string, unknown> {
  const base = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? JSON.parse(JSON.stringify(raw)) : {}) as Record<string, unknown>;
  for (const [k, text] of Object.entries(overrides)) {
    const schema = experimentSchema.properties[k];
    base[k] = schema ? parseValue(k, text, schema) : text;
  }
  return base;
}

/** Save the resolved configuration as `<runDir>/config.json` (atomically). Returns the path. */
export function saveResolvedConfig(runDir: string, cfg: ResolvedConfig): string {
  const path = join(runDir, 'config.json');
  writeJsonAtomic(path, cfg);
  return path;
}

/** The resolved config of an existing run folder (validated again). */
export function loadRunConfig(runDir: string): ResolvedConfig {
  return loadConfig(join(runDir, 'config.json'));
}

export type { ExperimentConfig, ResolvedConfig };
