/**
 * Surrogates as backend kernels. `backend.surrogate(out, u, θ, sg, deriv)` writes f(u − θ) or
 * f'(u − θ) elementwise; the reference backend loops the scalar functions, native backends
 * dispatch on `sg.name` and `sg.params`. These helpers resolve a spec first.
 */
import type { Backend } from '../src/backend/backend.js';
import { ShapeError } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { getSurrogate, type SurrogateSpec } from './registry.js';
import type { Surrogate } from './types.js';

/**
 * out = f(u − threshold) (deriv false) or f'(u − threshold) (deriv true), elementwise on the
 * backend. u, out: same size (any shape, e.g. [batch, n]); threshold in the units of u.
 * `sg` is a Surrogate or any spec getSurrogate accepts ('atan:alpha=2'). Returns the surrogate used.
 */
export function applySurrogate(
  backend: Backend,
  out: Tensor,
  u: Tensor,
  threshold: number,
  sg: SurrogateSpec,
  deriv: boolean,
): Surrogate {
  if (out.size !== u.size) {
    throw new ShapeError(`applySurrogate: out has ${out.size} elements but u has ${u.size}; they must match`);
  }
  const s = getSurrogate(sg);
  backend.surrogate(out, u, threshold, s, deriv);
  return s;
}

/**
 * Scalar form over an array: f(x_i) or f'(x_i) for each x_i (x = U − θ already), in float64.
 * Used for plots and as the oracle that kernel outputs are compared with.
 */
export function evaluateSurrogate(sg: SurrogateSpec, xs: ArrayLike<number>, deriv: boolean): Float64Array {
  const s = getSurrogate(sg);
  const g = deriv ? s.df : s.f;
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = g(xs[i]);
  return out;
}
