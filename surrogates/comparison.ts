/**
 * Comparison data for reports: every surrogate's f and f' on one grid of x = U − θ, as plain
 * JSON-ready objects (the reports module draws them).
 */
import { checkNumber, ParameterError } from '../src/errors.js';
import { getSurrogate, surrogateNames, type SurrogateSpec } from './registry.js';

export interface SurrogateComparisonOptions {
  /** Grid start (units of U − θ). Default −2. */
  xMin?: number;
  /** Grid end. Default 2. */
  xMax?: number;
  /** Number of grid points, including both ends (integer 2..100000). Default 401. */
  points?: number;
  /** Surrogates to include, as specs ('atan', 'atan:alpha=4', custom specs). Default: every registered family at its defaults. */
  names?: readonly SurrogateSpec[];
  /**
   * Divide f and f' by the range of f (limits[1] − limits[0]) and shift f to start at 0, for
   * surrogates with finite limits, so that all primitives rise from 0 to 1 on one plot.
   * Surrogates with infinite limits (straightThrough) are left as they are. Default false.
   */
  normalize?: boolean;
}

export interface SurrogateCurve {
  /** Family name, e.g. 'atan'. */
  name: string;
  /** Canonical spec, e.g. 'atan:alpha=2' (feed it back to getSurrogate). */
  spec: string;
  params: Record<string, number>;
  /** Formulas as text. */
  formula: { f: string; df: string };
  source: string;
  /** f monotone with limits 0 and 1. */
  cdfLike: boolean;
  /** [f(−∞), f(+∞)]; null stands for an infinite limit (JSON has no Infinity). */
  limits: [number | null, number | null];
  /** Factor f and df were divided by (1 unless normalize was set). */
  scale: number;
  /** f(x) at every grid point. */
  f: number[];
  /** f'(x) at every grid point. */
  df: number[];
}

export interface SurrogateComparison {
  /** Grid of x = U − θ, length `points`. */
  x: number[];
  surrogates: SurrogateCurve[];
}

/** f and f' of each surrogate on a uniform grid; JSON-serialisable. */
export function surrogateComparison(opts: SurrogateComparisonOptions = {}): SurrogateComparison {
  const xMin = checkNumber('xMin', opts.xMin ?? -2);
  const xMax = checkNumber('xMax', opts.xMax ?? 2);
  const points = checkNumber('points', opts.points ?? 401, { integer: true, min: 2, max: 100000 });
  if (!(xMax > xMin)) throw new ParameterError(`xMax = ${xMax} must be greater than xMin = ${xMin}`);
  const x: number[] = [];
  for (let i = 0; i < points; i++) x.push(Number((xMin + ((xMax - xMin) * i) / (points - 1)).toPrecision(12)));
  const specs = opts.names ?? surrogateNames();
  const surrogates = specs.map((spec): SurrogateCurve => {
    const s = getSurrogate(spec);
    const [lo, hi] = s.limits;
    const finite = Number.isFinite(lo) && Number.isFinite(hi) && hi > lo;
    const scale = opts.normalize && finite ? hi - lo : 1;
    const shift = opts.normalize && finite ? lo : 0;
    return {
      name: s.name,
      spec: s.spec,
      params: { ...s.params },
      formula: { f: s.formulaF, df: s.formulaDf },
      source: s.source,
      cdfLike: s.cdfLike,
      limits: [Number.isFinite(lo) ? lo : null, Number.isFinite(hi) ? hi : null],
      scale,
      f: x.map((v) => (s.f(v) - shift) / scale),
      df: x.map((v) => s.df(v) / scale),
    };
  });
  return { x, surrogates };
}
