/**
 * A small schema language and validator for JSON configuration (no dependencies).
 *
 * A schema is a tree of plain objects. `validate(schema, value)` collects every problem it finds
 * (not just the first) as a `ConfigIssue` naming the field path (`layers[1].size`), the value
 * given and what is allowed; unknown object fields are reported with a "did you mean" hint.
 * `applyDefaults(schema, value)` returns a deep copy with every missing field that has a default
 * filled in. The same schema drives the CLI: its descriptions, units and defaults make the
 * `--help` text, and its scalar fields become command-line flags.
 */
import { SigpropError, type RangeSpec } from '../errors.js';
import { closest } from './didyoumean.js';

interface Base {
  /** One line shown in errors and `--help`. */
  description?: string;
  /** Value filled in by applyDefaults when the field is missing. */
  default?: unknown;
  /**
   * Extra check run after the type check passes (e.g. a registry lookup). Throws or returns an
   * error message naming what is allowed; returns undefined when the value is fine.
   */
  check?: (value: never) => string | undefined;
}

/** A number with the bounds, integer flag and unit of errors.ts's RangeSpec (shown in messages and help). */
export interface NumberSchema extends Base, RangeSpec {
  type: 'number';
}

export interface StringSchema extends Base {
  type: 'string';
  /** Allowed values (exact). */
  enum?: readonly string[];
  /** Allowed values computed when validating (e.g. from a registry); undefined = no check. */
  enumFrom?: () => readonly string[] | undefined;
  /** A pattern the value must match, with a human description of it. */
  pattern?: RegExp;
  patternHint?: string;
  minLength?: number;
  /**
   * Also accept a plain object (e.g. an inline equation model instead of a model name): `hint`
   * says what it is in messages, `check` returns an error message or undefined when it is fine.
   */
  orObject?: { hint: string; check(value: Record<string, unknown>): string | undefined };
}

export interface BooleanSchema extends Base {
  type: 'boolean';
}

export interface ArraySchema extends Base {
  type: 'array';
  items: Schema;
  minItems?: number;
  maxItems?: number;
}

export interface ObjectSchema extends Base {
  type: 'object';
  properties: Record<string, Schema>;
  /** Names of properties that must be present. */
  required?: readonly string[];
}

/** An object with free keys whose values all follow one schema (e.g. model params). */
export interface RecordSchema extends Base {
  type: 'record';
  values: Schema;
}

/** Any JSON value (rule-specific extras checked by their owner). */
export interface AnySchema extends Base {
  type: 'any';
}

export type Schema = NumberSchema | StringSchema | BooleanSchema | ArraySchema | ObjectSchema | RecordSchema | AnySchema;

/** One problem found by `validate`. */
export interface ConfigIssue {
  /** Field path, e.g. 'layers[1].size' ('' for the whole document). */
  path: string;
  /** The offending value (undefined for a missing field). */
  value: unknown;
  /** What went wrong and what is allowed, one sentence. */
  message: string;
}

/** Thrown for an invalid configuration; `issues` lists every problem found. */
export class ConfigError extends SigpropError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], source = 'config') {
    const lines = issues.map((i) => `  - ${i.message}`);
    const head = issues.length === 1 ? `${source}: 1 problem` : `${source}: ${issues.length} problems`;
    super(`${head}\n${lines.join('\n')}`, 'config');
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** JSON-ish rendering of a value for messages (short). */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Human description of what a schema allows, e.g. 'an integer >= 1 (samples)'. */
export function describeAllowed(schema: Schema): string {
  switch (schema.type) {
    case 'number': {
      const kind = schema.integer ? 'an integer' : 'a number';
      const parts: string[] = [];
      if (schema.min !== undefined) parts.push(`${schema.minExclusive ? '>' : '>='} ${schema.min}`);
      if (schema.max !== undefined) parts.push(`${schema.maxExclusive ? '<' : '<='} ${schema.max}`);
      const unit = schema.unit ? ` (${schema.unit})` : '';
      return `${kind}${parts.length ? ' ' + parts.join(' and ') : ''}${unit}`;
    }
    case 'string': {
      const allowed = schema.enum ?? schema.enumFrom?.();
      const or = schema.orObject ? `, or ${schema.orObject.hint}` : '';
      if (allowed) return `one of: ${allowed.join(', ')}${or}`;
      if (schema.patternHint) return `a string ${schema.patternHint}${or}`;
      return `a string${or}`;
    }
    case 'boolean':
      return 'true or false';
    case 'array':
      return `a list of ${describeAllowed(schema.items)}${schema.minItems ? ` (at least ${schema.minItems})` : ''}`;
    case 'object':
      return `an object with fields: ${Object.keys(schema.properties).join(', ')}`;
    case 'record':
      return `an object whose values are ${describeAllowed(schema.values)}`;
    case 'any':
      return 'any JSON value';
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Check `value` against `schema`. Returns every problem found (empty when valid).
 * `path` prefixes field names in messages; `skipChecks` lists field paths whose `check` hook
 * (registry lookups) is skipped.
 */
export function validate(schema: Schema, value: unknown, path = '', skipChecks: ReadonlySet<string> = new Set()): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const name = path || 'value';
  const bad = (why: string): void => {
    issues.push({ path, value, message: `${name} = ${show(value)} ${why}; ${name} must be ${describeAllowed(schema)}` });
  };
  switch (schema.type) {
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        bad(typeof value === 'number' ? 'is not finite' : `is ${typeOf(value)}`);
        break;
      }
      if (schema.integer && !Number.isInteger(value)) bad('is not an integer');
      else if (schema.min !== undefined && (schema.minExclusive ? value <= schema.min : value < schema.min)) bad('is too small');
      else if (schema.max !== undefined && (schema.maxExclusive ? value >= schema.max : value > schema.max)) bad('is too large');
      break;
    }
    case 'string': {
      if (schema.orObject && isPlainObject(value)) {
        let msg: string | undefined;
        try {
          msg = schema.orObject.check(value);
        } catch (err) {
          msg = (err as Error).message;
        }
        if (msg) issues.push({ path, value, message: `${name} = ${show(value)} is not valid: ${msg}` });
        return issues;
      }
      if (typeof value !== 'string') {
        bad(`is ${typeOf(value)}`);
        break;
      }
      const allowed = schema.enum ?? schema.enumFrom?.();
      if (allowed && !allowed.includes(value)) {
        const hint = closest(value, allowed);
        issues.push({
          path,
          value,
          message: `${name} = ${show(value)} is not allowed${hint ? ` (did you mean "${hint}"?)` : ''}; ${name} must be ${describeAllowed(schema)}`,
        });
      } else if (schema.minLength !== undefined && value.length < schema.minLength) bad('is too short');
      else if (schema.pattern && !schema.pattern.test(value)) bad('has the wrong form');
      break;
    }
    case 'boolean':
      if (typeof value !== 'boolean') bad(`is ${typeOf(value)}`);
      break;
    case 'array': {
      if (!Array.isArray(value)) {
        bad(`is ${typeOf(value)}`);
        break;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) bad(`has ${value.length} items`);
      else if (schema.maxItems !== undefined && value.length > schema.maxItems) bad(`has ${value.length} items`);
      value.forEach((item, i) => issues.push(...validate(schema.items, item, `${path}[${i}]`, skipChecks)));
      break;
    }
    case 'object': {
      if (!isPlainObject(value)) {
        bad(`is ${typeOf(value)}`);
        break;
      }
      const known = Object.keys(schema.properties);
      for (const req of schema.required ?? []) {
        if (value[req] === undefined) {
          const p = join(path, req);
          issues.push({ path: p, value: undefined, message: `${p} is missing; ${p} must be ${describeAllowed(schema.properties[req])}` });
        }
      }
      for (const [k, v] of Object.entries(value)) {
        const sub = schema.properties[k];
        const p = join(path, k);
        if (!sub) {
          const hint = closest(k, known);
          issues.push({
            path: p,
            value: v,
            message: `${p} is not a known field${hint ? ` (did you mean "${join(path, hint)}"?)` : ''}; known fields${path ? ` of ${path}` : ''}: ${known.join(', ')}`,
          });
          continue;
        }
        if (v === undefined) continue;
        issues.push(...validate(sub, v, p, skipChecks));
      }
      break;
    }
    case 'record': {
      if (!isPlainObject(value)) {
        bad(`is ${typeOf(value)}`);
        break;
      }
      for (const [k, v] of Object.entries(value)) issues.push(...validate(schema.values, v, join(path, k), skipChecks));
      break;
    }
    case 'any':
      break;
  }
  if (!issues.length && schema.check && !skipChecks.has(path)) {
    let msg: string | undefined;
    try {
      msg = schema.check(value as never);
    } catch (err) {
      msg = (err as Error).message;
    }
    if (msg) issues.push({ path, value, message: `${name} = ${show(value)} is not valid: ${msg}` });
  }
  return issues;
}

/** Deep copy of a JSON value. */
function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * A deep copy of `value` with defaults filled in for missing object fields (recursively,
 * including inside arrays). Assumes `value` is valid.
 */
export function applyDefaults<T>(schema: Schema, value: T): T {
  if (value === undefined) return clone(schema.default) as T;
  if (schema.type === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, sub] of Object.entries(schema.properties)) {
      const v = applyDefaults(sub, value[k]);
      if (v !== undefined) out[k] = v;
    }
    return out as T;
  }
  if (schema.type === 'array' && Array.isArray(value)) return value.map((v) => applyDefaults(schema.items, v)) as T;
  return clone(value);
}
