/**
 * Custom surrogates from mathjs expressions in x (x = U − θ) and declared parameters.
 *
 * - Give the primitive f: the derivative is derived symbolically with mathjs `derivative()`
 *   and checked against central finite differences of f.
 * - Give the derivative f' alone: the primitive is F(x) = ∫_{−10}^{x} f'(t) dt, computed by
 *   5-point Gauss–Legendre quadrature on 2000 cells of [−10, 10] (cumulative table, then one
 *   partial cell), and by Gauss–Legendre panels of width max(0.5, 5% of |x|) outside [−10, 10]. So F(−10) = 0
 *   and F' = f' to quadrature accuracy (about 1e-12 for smooth f'). With `normalize: true` both
 *   F and f' are divided by the area A = F(10), so that F rises to about 1 (CDF-like when f' ≥ 0
 *   and its mass lies inside [−10, 10]); without it your derivative is used exactly as given.
 * - Give both: each is used as given, and they must agree (finite-difference check).
 *
 * Expressions may use x, the declared parameters, the constants pi, e, tau, phi, numbers,
 * operators, conditionals (a ? b : c) and mathjs functions; any other free symbol is rejected.
 * The derivative (and the primitive) must be finite on [−10, 10] (checked on a grid of step 0.01,
 * which includes 0 and ±10), for the default parameters and again for every parameter set.
 * Limits of f are estimated numerically from f at |x| = 1e2, 1e4, 1e6 (see estimateLimits).
 * Monotonicity (f' ≥ 0 on the grid) is decided once, at the default parameters. Kinks are
 * unknown unless declared (`kinks`).
 *
 * String form: 'custom:f=0.5+atan(k*x)/pi;k=3' or 'custom:df=exp(-x^2)/sqrt(pi)' (see registry.ts),
 * or register once with registerSurrogate({ name, primitive, params }) and use 'name:k=3'.
 */
import type { EvalFunction, MathNode, SymbolNode } from 'mathjs';
import { mathjs } from '../src/lazy-mathjs.js'; // loaded on first use: importing the built-ins stays fast
import { ParameterError } from '../src/errors.js';
import { instantiate, type Surrogate, type SurrogateFamily, type SurrogateParamDef } from './types.js';

/** A parameter of a custom surrogate: a default value, or a default with a range. */
export type CustomParam =
  | number
  | { default: number; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; doc?: string };

/** Definition of a custom surrogate; at least one of primitive and derivative is required. */
export interface CustomSurrogateDefinition {
  /** Registry name (letters, digits, '_' or '-'). */
  name: string;
  /** mathjs expression for f(x). */
  primitive?: string;
  /** mathjs expression for f'(x). */
  derivative?: string;
  /** Declared parameters with defaults, e.g. { k: 3 } or { k: { default: 3, min: 0 } }. */
  params?: Readonly<Record<string, CustomParam>>;
  /** Only with derivative alone: divide f and f' by the area ∫_{−10}^{10} f'. Default false. */
  normalize?: boolean;
  /** Points where f' has kinks or jumps (used by finite-difference checks and tests). */
  kinks?: readonly number[];
  /** One-line description for listings. */
  title?: string;
}

/** True for a CustomSurrogateDefinition (as opposed to a built-in SurrogateFamily). */
export function isCustomDefinition(x: unknown): x is CustomSurrogateDefinition {
  if (typeof x !== 'object' || x === null) return false;
  const d = x as Partial<CustomSurrogateDefinition> & { make?: unknown };
  return d.make === undefined && (typeof d.primitive === 'string' || typeof d.derivative === 'string');
}

const CONSTANTS = new Set(['pi', 'e', 'tau', 'phi', 'PI', 'E']);
const ALLOWED_NODES = new Set([
  'ConstantNode', 'SymbolNode', 'OperatorNode', 'FunctionNode', 'ParenthesisNode', 'ConditionalNode',
]);
const GRID_LO = -10;
const GRID_HI = 10;

type Scope = Record<string, number>;

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return NaN; // complex, matrix, unit, ...: not a real scalar
}

/** Parse and vet one expression; returns the parsed node. */
function parseExpression(owner: string, role: string, text: string, paramNames: readonly string[]): MathNode {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ParameterError(`custom surrogate "${owner}": the ${role} is empty; write a mathjs expression in x`);
  }
  let node: MathNode;
  try {
    node = mathjs().parse(text);
  } catch (err) {
    throw new ParameterError(`custom surrogate "${owner}": cannot parse ${role} "${text}": ${(err as Error).message}`);
  }
  const allowed = new Set(['x', ...paramNames]);
  node.traverse((n: MathNode, path: string) => {
    if (!ALLOWED_NODES.has(n.type)) {
      throw new ParameterError(
        `custom surrogate "${owner}": ${role} "${text}" contains a ${n.type} (${n.toString()}); only arithmetic, functions and conditionals are allowed`,
      );
    }
    if ((n as SymbolNode).isSymbolNode) {
      const name = (n as SymbolNode).name;
      if (path === 'fn') {
        if (typeof (mathjs() as unknown as Record<string, unknown>)[name] !== 'function') {
          throw new ParameterError(`custom surrogate "${owner}": ${role} "${text}" calls unknown function ${name}()`);
        }
      } else if (!allowed.has(name) && !CONSTANTS.has(name)) {
        throw new ParameterError(
          `custom surrogate "${owner}": ${role} "${text}" uses the free symbol "${name}"; allowed symbols are x` +
            (paramNames.length ? `, the declared parameters (${paramNames.join(', ')})` : ' (no parameters declared)') +
            ` and the constants pi, e, tau, phi; declare parameters with params: { ${name}: <default> }`,
        );
      }
    }
  });
  return node;
}

/** Evaluate-at-x closure over a compiled expression and fixed parameter values. */
function scalar(code: EvalFunction, p: Readonly<Record<string, number>>): (x: number) => number {
  const scope: Scope = { ...p, x: 0 };
  return (x: number) => {
    scope.x = x;
    return toNumber(code.evaluate(scope));
  };
}

/** Throw unless g is finite at every grid point of [−10, 10] (step 0.01). */
function checkFinite(owner: string, role: string, text: string, g: (x: number) => number, p: Scope): void {
  for (let i = 0; i <= 2000; i++) {
    const x = GRID_LO + i * 0.01;
    const v = g(x);
    if (!Number.isFinite(v)) {
      const ps = Object.entries(p).map(([k, val]) => `${k}=${val}`).join(', ');
      throw new ParameterError(
        `custom surrogate "${owner}": ${role} "${text}" is not finite at x = ${Number(x.toFixed(2))} (value ${v})` +
          `${ps ? ` with ${ps}` : ''}; it must be finite on [-10, 10]`,
      );
    }
  }
}

/** Throw unless df agrees with central finite differences of f at 200 off-grid points. */
function checkAgainstFiniteDifferences(
  owner: string, what: string, f: (x: number) => number, df: (x: number) => number,
): void {
  for (let i = 0; i < 200; i++) {
    const x = GRID_LO + 0.1 * i + 0.0123;
    const d = df(x);
    let ok = false;
    for (const h of [1e-5, 1e-7]) {
      const fd = (f(x + h) - f(x - h)) / (2 * h);
      if (Math.abs(fd - d) <= 1e-4 * (1 + Math.abs(d))) ok = true;
      if (ok) break;
    }
    if (!ok) {
      const fd = (f(x + 1e-5) - f(x - 1e-5)) / 2e-5;
      throw new ParameterError(
        `custom surrogate "${owner}": ${what} disagrees with a central finite difference of the primitive at x = ${x.toFixed(4)}` +
          ` (derivative ${d}, finite difference ${fd})`,
      );
    }
  }
}

// 5-point Gauss–Legendre nodes and weights on [−1, 1].
const GL_X = [0, -0.5384693101056831, 0.5384693101056831, -0.906179845938664, 0.906179845938664];
const GL_W = [0.5688888888888889, 0.47862867049936647, 0.47862867049936647, 0.2369268850561891, 0.2369268850561891];

function gaussLegendre(g: (x: number) => number, a: number, b: number): number {
  const m = (a + b) / 2;
  const r = (b - a) / 2;
  let s = 0;
  for (let i = 0; i < 5; i++) s += GL_W[i] * g(m + r * GL_X[i]);
  return s * r;
}

/** Primitive F(x) = ∫_{−10}^{x} g by a cumulative table on [−10, 10] plus panels outside. */
function integratePrimitive(g: (x: number) => number): (x: number) => number {
  const cells = 2000;
  const h = (GRID_HI - GRID_LO) / cells;
  const cum = new Float64Array(cells + 1);
  for (let i = 0; i < cells; i++) cum[i + 1] = cum[i] + gaussLegendre(g, GRID_LO + i * h, GRID_LO + (i + 1) * h);
  // Outside [−10, 10]: panels from the grid edge outwards, width max(0.5, 5% of |t|) (geometric
  // growth keeps heavy 1/x² tails accurate out to |x| = 1e6 in a few hundred panels).
  const outside = (edge: number, x: number): number => {
    const dir = x > edge ? 1 : -1;
    let s = 0;
    let t = edge;
    for (let i = 0; i < 2000 && (x - t) * dir > 0; i++) {
      const next = dir > 0 ? Math.min(x, t + Math.max(0.5, 0.05 * Math.abs(t))) : Math.max(x, t - Math.max(0.5, 0.05 * Math.abs(t)));
      s += gaussLegendre(g, t, next);
      t = next;
    }
    return s;
  };
  return (x: number) => {
    if (Number.isNaN(x)) return NaN;
    if (x <= GRID_LO) return outside(GRID_LO, x);
    if (x >= GRID_HI) return cum[cells] + outside(GRID_HI, x);
    const i = Math.min(cells - 1, Math.floor((x - GRID_LO) / h));
    const a = GRID_LO + i * h;
    return cum[i] + (x > a ? gaussLegendre(g, a, x) : 0);
  };
}

function paramDefs(owner: string, params: Readonly<Record<string, CustomParam>>): SurrogateParamDef[] {
  return Object.entries(params).map(([name, spec]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === 'x' || CONSTANTS.has(name)) {
      throw new ParameterError(
        `custom surrogate "${owner}": parameter name "${name}" is not allowed (must be an identifier other than x, pi, e, tau, phi)`,
      );
    }
    const s = typeof spec === 'number' ? { default: spec } : spec;
    if (typeof s?.default !== 'number' || !Number.isFinite(s.default)) {
      throw new ParameterError(`custom surrogate "${owner}": parameter ${name} needs a finite default, got ${JSON.stringify(spec)}`);
    }
    return { name, default: s.default, min: s.min, max: s.max, minExclusive: s.minExclusive, maxExclusive: s.maxExclusive, doc: s.doc ?? 'custom parameter' };
  });
}

/**
 * Estimate [f(−∞), f(+∞)] numerically: f at |x| = 1e2, 1e4, 1e6; unbounded (±∞) when the
 * increments do not shrink (linear or logarithmic growth), otherwise the value at 1e6, snapped
 * to 0 or 1 when within 1e-5 (heavy 1/x tails such as atan converge slowly).
 */
function estimateLimits(f: (x: number) => number): [number, number] {
  const side = (s: number): number => {
    const [v1, v2, v3] = [f(1e2 * s), f(1e4 * s), f(1e6 * s)];
    if (![v1, v2, v3].every(Number.isFinite)) return s * Infinity;
    const d1 = v2 - v1;
    const d2 = v3 - v2;
    if (Math.abs(d2) > 1e-9 && Math.abs(d2) > 0.5 * Math.abs(d1)) return (d2 > 0 ? 1 : -1) * Infinity;
    if (Math.abs(v3) < 1e-5) return 0;
    if (Math.abs(v3 - 1) < 1e-5) return 1;
    return v3;
  };
  return [side(-1), side(1)];
}

/**
 * Build a SurrogateFamily from a custom definition. Validates the expressions (parse, free
 * symbols, finiteness, finite-difference agreement) for the default parameters right away, and
 * again whenever other parameter values are instantiated. Throws ParameterError with the
 * offending expression quoted.
 */
export function customFamily(def: CustomSurrogateDefinition): SurrogateFamily {
  const owner = def.name ?? 'custom';
  if (def.primitive === undefined && def.derivative === undefined) {
    throw new ParameterError(`custom surrogate "${owner}" needs a primitive (f) or a derivative (df) expression`);
  }
  if (def.normalize && def.primitive !== undefined) {
    throw new ParameterError(`custom surrogate "${owner}": normalize applies only when the derivative alone is given`);
  }
  const params = paramDefs(owner, def.params ?? {});
  const names = params.map((d) => d.name);
  const fNode = def.primitive === undefined ? undefined : parseExpression(owner, 'primitive', def.primitive, names);
  let dfNode = def.derivative === undefined ? undefined : parseExpression(owner, 'derivative', def.derivative, names);
  let derived = false;
  if (fNode && !dfNode) {
    try {
      dfNode = mathjs().derivative(fNode, 'x');
      derived = true;
    } catch (err) {
      throw new ParameterError(
        `custom surrogate "${owner}": mathjs cannot differentiate primitive "${def.primitive}" (${(err as Error).message}); give the derivative too`,
      );
    }
  }
  const fCode = fNode?.compile();
  const dfCode = dfNode!.compile();
  const dfText = dfNode!.toString();
  const fText = def.primitive ?? `integral from -10 to x of (${def.derivative})${def.normalize ? ', normalised to area 1' : ''}`;

  const cache = new Map<string, { f(x: number): number; df(x: number): number }>();
  const make = (p: Readonly<Record<string, number>>) => {
    const key = JSON.stringify(p);
    const hit = cache.get(key);
    if (hit) return hit;
    const built = build(p);
    if (cache.size < 32) cache.set(key, built);
    return built;
  };
  const build = (p: Readonly<Record<string, number>>) => {
    let df = scalar(dfCode, p);
    checkFinite(owner, derived ? 'derived derivative' : 'derivative', dfText, df, p);
    let f: (x: number) => number;
    if (fCode) {
      f = scalar(fCode, p);
      checkFinite(owner, 'primitive', def.primitive!, f, p);
      checkAgainstFiniteDifferences(owner, derived ? `derived derivative "${dfText}"` : `derivative "${dfText}"`, f, df);
    } else {
      const raw = integratePrimitive(df);
      if (def.normalize) {
        const area = raw(GRID_HI);
        let absArea = 0;
        for (let i = 0; i <= 2000; i++) absArea += Math.abs(df(GRID_LO + i * 0.01)) * 0.01;
        if (!(area > 1e-6 * absArea) || !Number.isFinite(area)) {
          throw new ParameterError(
            `custom surrogate "${owner}": cannot normalise derivative "${dfText}": its integral over [-10, 10] is ${area}, not positive`,
          );
        }
        const g = df;
        df = (x) => g(x) / area;
        f = (x) => raw(x) / area;
      } else f = raw;
    }
    return { f, df };
  };

  const family: SurrogateFamily = {
    name: owner,
    aliases: [],
    title: def.title ?? `custom (${fCode ? (derived ? 'primitive given, derivative derived' : 'primitive and derivative given') : 'derivative given, primitive integrated'})`,
    formulaF: fText,
    formulaDf: def.normalize ? `(${dfText}) / area` : dfText,
    params,
    source: 'custom',
    sourceNote: 'user-defined mathjs expression',
    monotone: false, // decided per instance below
    limits: (p) => estimateLimits(make(p).f),
    kinks: () => [...(def.kinks ?? [])],
    make,
    // An inline 'custom:' surrogate carries its expressions in its spec so that it can be re-created.
    specText:
      owner === 'custom'
        ? (p) =>
            ['custom:' + (def.primitive !== undefined ? `f=${def.primitive}` : `df=${def.derivative}`)]
              .concat(def.primitive !== undefined && def.derivative !== undefined ? [`df=${def.derivative}`] : [])
              .concat(def.normalize ? ['normalize=1'] : [])
              .concat(params.map((d) => `${d.name}=${p[d.name]}`))
              .join(';')
        : undefined,
  };
  // Validate eagerly with the defaults, and decide monotonicity there.
  const defaults = Object.fromEntries(params.map((d) => [d.name, d.default]));
  const { df } = make(defaults);
  let monotone = true;
  for (let i = 0; i <= 2000 && monotone; i++) if (df(GRID_LO + i * 0.01) < -1e-12) monotone = false;
  return { ...family, monotone };
}

/**
 * Build and instantiate a custom surrogate in one step (not registered; use registerSurrogate to
 * make it selectable by name). `params` overrides the declared defaults.
 */
export function customSurrogate(def: CustomSurrogateDefinition, params: Readonly<Record<string, number>> = {}): Surrogate {
  return instantiate(customFamily(def), params);
}
