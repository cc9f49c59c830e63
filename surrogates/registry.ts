/**
 * Surrogate registry: families register by name (with aliases), and a surrogate is selected by
 * a spec — the same text in config files, on the command line and in code:
 *
 *   'atan'                          defaults
 *   'atan:alpha=3'                  one parameter
 *   'spikeRateEscape:beta=2,k=10'   several, separated by ',' or ';'
 *   'superspike:k=50'               aliases resolve to their family (fastSigmoid)
 *   { name: 'atan', params: { alpha: 3 } }
 *   'custom:f=0.5+atan(k*x)/pi;k=3' a mathjs surrogate defined inline (see custom.ts); its
 *                                   keys are f|primitive, df|derivative, normalize, and any
 *                                   other key declares a parameter with that default
 *
 * Names and parameter names match case-insensitively for families, exactly for parameters.
 * Unknown names, unknown parameters and bad values throw a ParameterError that names the
 * offender and lists what is allowed.
 */
import type { SurrogateKernelSpec } from '../src/backend/backend.js';
import { ParameterError } from '../src/errors.js';
import { atan } from './atan.js';
import { customFamily, isCustomDefinition, type CustomSurrogateDefinition } from './custom.js';
import { erfSurrogate } from './erf.js';
import { piecewiseExp, spikeRateEscape } from './exponential.js';
import { piecewiseQuadratic, rectangular, triangular } from './piecewise.js';
import { fastSigmoid, softSign } from './rational.js';
import { sigmoid } from './sigmoid.js';
import { straightThrough } from './straightThrough.js';
import { describeParam, instantiate, type Surrogate, type SurrogateFamily } from './types.js';

/** What getSurrogate accepts. */
export type SurrogateSpec =
  | string
  | { name: string; params?: Readonly<Record<string, number | string>> }
  | Surrogate;

/** A parsed spec string: family name plus raw parameter values (numbers where numeric). */
export interface ParsedSurrogateSpec {
  name: string;
  params: Record<string, number | string>;
}

const families = new Map<string, SurrogateFamily>();
/** The family objects shipped with the library (native kernels may implement exactly these). */
const builtinFamilies = new WeakSet<SurrogateFamily>();
/** lower-cased name or alias -> canonical name */
const lookup = new Map<string, string>();

/**
 * Register a surrogate family (built-in style) or a custom mathjs definition under its name.
 * Afterwards 'name:param=value' specs select it. Throws if the name or an alias is taken,
 * unless `replace` is set. Returns the registered family.
 */
export function registerSurrogate(
  def: SurrogateFamily | CustomSurrogateDefinition,
  opts: { replace?: boolean } = {},
): SurrogateFamily {
  const family = isCustomDefinition(def) ? customFamily(def) : def;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(family.name)) {
    throw new ParameterError(
      `surrogate name "${family.name}" is not allowed; use letters, digits, '_' or '-', starting with a letter`,
    );
  }
  const keys = [family.name, ...(family.aliases ?? [])].map((k) => k.toLowerCase());
  if (keys.includes('custom')) throw new ParameterError(`surrogate name "custom" is reserved for inline custom specs`);
  if (!opts.replace) {
    for (const k of keys) {
      const owner = lookup.get(k);
      if (owner !== undefined && owner !== family.name) {
        throw new ParameterError(`surrogate name "${k}" is already used by ${owner}; pick another name or pass { replace: true }`);
      }
      if (owner === family.name && families.get(owner) !== family) {
        throw new ParameterError(`surrogate "${family.name}" is already registered; pass { replace: true } to replace it`);
      }
    }
  } else {
    const old = families.get(family.name);
    if (old) for (const k of [old.name, ...(old.aliases ?? [])]) lookup.delete(k.toLowerCase());
  }
  families.set(family.name, family);
  for (const k of keys) lookup.set(k, family.name);
  return family;
}

/**
 * True when `sg` is an instance of a built-in family (not a custom or user-registered one, and
 * not a replacement registered under a built-in name). Native backends can implement these by
 * `sg.name` and `sg.params`; for anything else they must fall back to calling `sg.f` / `sg.df`.
 */
export function isBuiltinSurrogate(sg: SurrogateKernelSpec): boolean {
  const family = (sg as Partial<Surrogate>).family;
  return family !== undefined && builtinFamilies.has(family) && families.get(sg.name) === family;
}

/** Canonical names of all registered surrogate families, in registration order. */
export function surrogateNames(): string[] {
  return [...families.keys()];
}

/** The registered family for a name or alias (case-insensitive), or a ParameterError listing the names. */
export function getSurrogateFamily(name: string): SurrogateFamily {
  const canonical = lookup.get(name.trim().toLowerCase());
  const family = canonical === undefined ? undefined : families.get(canonical);
  if (!family) {
    const aliasText = [...families.values()]
      .filter((f) => f.aliases?.length)
      .map((f) => `${f.aliases!.join('/')} → ${f.name}`)
      .join(', ');
    throw new ParameterError(
      `unknown surrogate "${name}"; known surrogates: ${surrogateNames().join(', ')}` +
        (aliasText ? ` (aliases: ${aliasText})` : '') +
        `; or an inline 'custom:f=<mathjs expression in x>'`,
    );
  }
  return family;
}

/** Split on ',' or ';' outside parentheses and brackets. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth = Math.max(0, depth - 1);
    else if ((c === ',' || c === ';') && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/**
 * Parse 'name:key=value,key=value' into { name, params }. Values that read as numbers become
 * numbers; others stay strings (custom expressions; built-in families reject them later).
 * Throws a ParameterError for an empty name, a part without '=', or a repeated key.
 */
export function parseSurrogateSpec(text: string): ParsedSurrogateSpec {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ParameterError(`surrogate spec ${JSON.stringify(text)} is empty; write e.g. 'atan' or 'atan:alpha=2'`);
  }
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  if (name === '') throw new ParameterError(`surrogate spec "${text}" has no name before ':'; write e.g. 'atan:alpha=2'`);
  const params: Record<string, number | string> = {};
  for (const part of colon < 0 ? [] : splitTopLevel(text.slice(colon + 1))) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new ParameterError(`surrogate spec "${text}": "${part}" is not key=value; write e.g. '${name}:alpha=2'`);
    }
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (key in params) throw new ParameterError(`surrogate spec "${text}" sets "${key}" twice`);
    const num = Number(raw);
    params[key] = raw !== '' && Number.isFinite(num) ? num : raw;
  }
  return { name, params };
}

function isSurrogate(x: unknown): x is Surrogate {
  return typeof x === 'object' && x !== null && 'family' in x && typeof (x as Surrogate).f === 'function';
}

/**
 * Resolve a spec to a ready-to-use Surrogate (defaults filled in, parameters validated).
 * Strings use the spec syntax above; objects give { name, params }; a Surrogate is returned as is.
 */
export function getSurrogate(spec: SurrogateSpec): Surrogate {
  if (isSurrogate(spec)) return spec;
  const parsed =
    typeof spec === 'string'
      ? parseSurrogateSpec(spec)
      : typeof spec === 'object' && spec !== null && typeof spec.name === 'string'
        ? { name: spec.name, params: { ...(spec.params ?? {}) } }
        : null;
  if (!parsed) {
    throw new ParameterError(
      `surrogate spec ${JSON.stringify(spec)} is not understood; give a string like 'atan:alpha=2' or { name, params }`,
    );
  }
  if (parsed.name.toLowerCase() === 'custom') {
    return instantiate(customFamily(customDefinitionFromParams(parsed.params)));
  }
  return instantiate(getSurrogateFamily(parsed.name), parsed.params);
}

/** Turn the key=value pairs of an inline 'custom:' spec into a custom definition. */
function customDefinitionFromParams(raw: Record<string, number | string>): CustomSurrogateDefinition {
  const def: { name: string; primitive?: string; derivative?: string; params: Record<string, number>; normalize?: boolean } = {
    name: 'custom',
    params: {},
  };
  for (const [key, value] of Object.entries(raw)) {
    const text = String(value);
    if (key === 'f' || key === 'primitive') def.primitive = text;
    else if (key === 'df' || key === 'derivative') def.derivative = text;
    else if (key === 'name') def.name = text;
    else if (key === 'normalize') def.normalize = text === 'true' || text === '1';
    else if (typeof value === 'number') def.params[key] = value;
    else {
      throw new ParameterError(
        `custom surrogate parameter ${key} = "${text}" is not a number; keys are f|primitive, df|derivative, name, normalize, or a numeric parameter`,
      );
    }
  }
  return def;
}

/** One family's entry in a listing. */
export interface SurrogateInfo {
  name: string;
  aliases: string[];
  title: string;
  formulaF: string;
  formulaDf: string;
  params: { name: string; default: number; range: string; doc: string }[];
  source: string;
  sourceNote: string;
  /** At default parameters: f monotone with limits 0 and 1. */
  cdfLike: boolean;
  /** [f(−∞), f(+∞)] at default parameters. */
  limits: [number, number];
  /** Canonical spec with defaults, e.g. 'atan:alpha=2'. */
  defaultSpec: string;
}

/** Every registered family with formulas and defaults (for the CLI `surrogates` command). */
export function listSurrogates(): SurrogateInfo[] {
  return [...families.values()].map((fam) => {
    const s = instantiate(fam);
    return {
      name: fam.name,
      aliases: [...(fam.aliases ?? [])],
      title: fam.title,
      formulaF: fam.formulaF,
      formulaDf: fam.formulaDf,
      params: fam.params.map((d) => ({
        name: d.name,
        default: d.default,
        range: describeParam(d).replace(/^[^(]*\(default [^,)]*,?\s*/, '').replace(/\)$/, '') || 'any',
        doc: d.doc,
      })),
      source: fam.source,
      sourceNote: fam.sourceNote,
      cdfLike: s.cdfLike,
      limits: [s.limits[0], s.limits[1]],
      defaultSpec: s.spec,
    };
  });
}

/** Plain-text listing of all surrogates: name, aliases, formulas, parameters with defaults, source. */
export function formatSurrogateList(): string {
  const lines: string[] = [];
  for (const s of listSurrogates()) {
    lines.push(`${s.name}${s.aliases.length ? ` (aliases: ${s.aliases.join(', ')})` : ''} — ${s.title}`);
    lines.push(`    f(x)  = ${s.formulaF}`);
    lines.push(`    f'(x) = ${s.formulaDf}`);
    const params = s.params.map((p) => `${p.name}=${p.default} [${p.range}] ${p.doc}`);
    lines.push(`    params: ${params.length ? params.join('; ') : 'none'}`);
    const lim = `limits ${fmt(s.limits[0])} … ${fmt(s.limits[1])}${s.cdfLike ? ' (CDF-like)' : ''}`;
    lines.push(`    ${lim}; source: ${s.sourceNote}`);
    lines.push(`    spec: ${s.defaultSpec}`);
  }
  lines.push(`custom — inline mathjs surrogate: custom:f=<primitive in x>[;df=<derivative>][;param=value…]`);
  return lines.join('\n');
}

function fmt(v: number): string {
  if (v === Infinity) return '+∞';
  if (v === -Infinity) return '−∞';
  return String(Number(v.toPrecision(6)));
}

for (const fam of [
  fastSigmoid,
  atan,
  sigmoid,
  triangular,
  rectangular,
  straightThrough,
  piecewiseQuadratic,
  piecewiseExp,
  softSign,
  erfSurrogate,
  spikeRateEscape,
]) {
  registerSurrogate(fam);
  builtinFamilies.add(fam);
}
