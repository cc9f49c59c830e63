/**
 * Surrogate spike functions: shared types.
 *
 * The forward spike is always the step H(x), x = U − θ. A surrogate supplies a smooth
 * primitive f(x) (a differentiable stand-in for the spike) and its derivative f'(x) (the
 * surrogate gradient). Every family here keeps f and f' exactly consistent: f' is the true
 * derivative of f wherever f is differentiable. Families are registered by name in
 * surrogates/registry.ts; a resolved `Surrogate` (family + parameter values) satisfies the
 * backend's `SurrogateKernelSpec`, so it can be passed straight to `backend.surrogate(...)`.
 */
import type { SurrogateKernelSpec } from '../src/backend/backend.js';
import { checkNumber, ParameterError } from '../src/errors.js';

/** One numeric parameter of a surrogate family. */
export interface SurrogateParamDef {
  /** Name used in specs, e.g. 'alpha' in 'atan:alpha=2'. */
  readonly name: string;
  readonly default: number;
  /** Allowed range (checked with checkNumber). */
  readonly min?: number;
  readonly max?: number;
  readonly minExclusive?: boolean;
  readonly maxExclusive?: boolean;
  /** One line: what the parameter does. */
  readonly doc: string;
}

/** Where a family's definition and default parameters come from. */
export type SurrogateSource = 'snnTorch' | 'SpikingJelly' | 'Norse' | 'literature' | 'custom';

/**
 * A surrogate family: formulas with named parameters. `make(p)` returns the scalar pair
 * (f, f') for resolved parameters `p` (all parameters present, already validated).
 */
export interface SurrogateFamily {
  /** Registry name (camelCase), e.g. 'fastSigmoid'. */
  readonly name: string;
  /** Other accepted names, e.g. ['superspike']. Matched case-insensitively. */
  readonly aliases?: readonly string[];
  /** One line for listings. */
  readonly title: string;
  /** Primitive f(x) as text (parameter names as in `params`). */
  readonly formulaF: string;
  /** Derivative f'(x) as text. */
  readonly formulaDf: string;
  readonly params: readonly SurrogateParamDef[];
  /** Where the definition and defaults come from. */
  readonly source: SurrogateSource;
  /** Free-text citation of the defaults, e.g. 'snnTorch surrogate.atan(alpha=2.0)'. */
  readonly sourceNote: string;
  /**
   * Limits of the primitive [f(−∞), f(+∞)] for parameters p; ±Infinity where unbounded.
   * A family whose f is monotone with limits [0, 1] is "CDF-like".
   */
  limits(p: Readonly<Record<string, number>>): readonly [number, number];
  /** Whether f is non-decreasing for every allowed parameter value. */
  readonly monotone: boolean;
  /**
   * Points where f' is not continuously differentiable (kinks or jumps of f'); finite-difference
   * checks of f' skip points within h of these. Empty for smooth families.
   */
  kinks(p: Readonly<Record<string, number>>): number[];
  /** Canonical spec text for parameters p, when the default 'name:k=v,…' does not re-create it. */
  specText?(p: Readonly<Record<string, number>>): string;
  /** Build the scalar functions for resolved parameters. */
  make(p: Readonly<Record<string, number>>): { f(x: number): number; df(x: number): number };
}

/** A resolved surrogate: a family with parameter values. Pass it to backend.surrogate(). */
export interface Surrogate extends SurrogateKernelSpec {
  readonly family: SurrogateFamily;
  /** Canonical spec string, e.g. 'atan:alpha=2'. */
  readonly spec: string;
  readonly formulaF: string;
  readonly formulaDf: string;
  readonly source: SurrogateSource;
  /** [f(−∞), f(+∞)]. */
  readonly limits: readonly [number, number];
  /** f is monotone with limits exactly 0 and 1 (a CDF of a spread-out threshold). */
  readonly cdfLike: boolean;
  /** Points where f' has a kink or jump (see SurrogateFamily.kinks). */
  readonly kinks: readonly number[];
}

/**
 * Fill in defaults and validate parameters for `family`. Unknown parameter names and
 * out-of-range values throw a ParameterError naming the parameter and what is allowed.
 */
export function resolveParams(
  family: SurrogateFamily,
  given: Readonly<Record<string, unknown>> = {},
): Record<string, number> {
  const known = new Map(family.params.map((d) => [d.name, d]));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) {
      const allowed = family.params.length
        ? family.params.map(describeParam).join('; ')
        : 'none (this surrogate has no parameters)';
      throw new ParameterError(
        `surrogate ${family.name} has no parameter "${key}"; its parameters are: ${allowed}`,
      );
    }
  }
  const out: Record<string, number> = {};
  for (const d of family.params) {
    const raw = given[d.name];
    let v: unknown = raw === undefined ? d.default : raw;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) v = Number(v);
    out[d.name] = checkNumber(`${family.name}.${d.name}`, v, {
      min: d.min,
      max: d.max,
      minExclusive: d.minExclusive,
      maxExclusive: d.maxExclusive,
    });
  }
  return out;
}

/** 'alpha (default 2, > 0): steepness' — used in listings and error messages. */
export function describeParam(d: SurrogateParamDef): string {
  const parts: string[] = [];
  if (d.min !== undefined) parts.push(`${d.minExclusive ? '>' : '>='} ${d.min}`);
  if (d.max !== undefined) parts.push(`${d.maxExclusive ? '<' : '<='} ${d.max}`);
  const range = parts.length ? `, ${parts.join(', ')}` : '';
  return `${d.name} (default ${d.default}${range})`;
}

/** Canonical spec text: 'atan:alpha=2' (parameters in declaration order), or the bare name. */
export function formatSpec(name: string, params: Readonly<Record<string, number>>, order: readonly string[]): string {
  const parts = order.map((k) => `${k}=${params[k]}`);
  return parts.length ? `${name}:${parts.join(',')}` : name;
}

/** Resolve a family with (validated) parameters into a Surrogate. */
export function instantiate(family: SurrogateFamily, given: Readonly<Record<string, unknown>> = {}): Surrogate {
  const params = Object.freeze(resolveParams(family, given));
  const { f, df } = family.make(params);
  const limits = family.limits(params);
  return Object.freeze({
    name: family.name,
    params,
    f,
    df,
    family,
    spec: family.specText ? family.specText(params) : formatSpec(family.name, params, family.params.map((d) => d.name)),
    formulaF: family.formulaF,
    formulaDf: family.formulaDf,
    source: family.source,
    limits,
    cdfLike: family.monotone && limits[0] === 0 && limits[1] === 1,
    kinks: Object.freeze(family.kinks(params)),
  });
}
