// Native surrogate kernels (AssemblyScript). out[i] = f(u[i] − th) or f'(u[i] − th) on [lo, hi).
// `kind` selects the family (the JS side maps registry names to these ids and verifies them
// against the scalar f/f' before use):
//   1 fastSigmoid(k): f' = 1/(1 + k|x|)²,       f = (1 + kx/(1 + k|x|))/k
//   2 softSign(α):    f' = α/(2(1 + |αx|)²),     f = ½(1 + αx/(1 + |αx|))
//   3 atan(α):        f' = (α/2)/(1 + (π/2·αx)²)  (f' only)
//   4 sigmoid(k):     f' = k·σ(kx)·σ(−kx),        f = σ(kx)   (scalar exp)
//   5 triangular(width p, gain q): f' = q·max(0, 1 − |x|/p)   (f' only)
//   6 rectangular(a):  f' = 1/a if |x| < a/2 else 0, f = clip(x/a + ½, 0, 1)
//   7 piecewiseQuadratic(α): f' = max(0, α − α²|x|)   (f' only)
//   8 straightThrough: f' = 1, f = x + ½

import { at } from './mem';

@inline function sigma(z: f32): f32 {
  // Overflow-free logistic.
  if (z >= 0) return 1 / (1 + Mathf.exp(-z));
  const e = Mathf.exp(z);
  return e / (1 + e);
}

/** Whether kind supports the primitive (deriv = 0) natively. */
export function surrogateHasPrimitive(kind: i32): i32 {
  return kind == 1 || kind == 2 || kind == 4 || kind == 6 || kind == 8 ? 1 : 0;
}

/** Whether kind has a SIMD form (else sgScalar per lane). */
@inline export function sgHasVector(kind: i32, deriv: i32): bool {
  return kind != 4 && (deriv != 0 || kind == 1 || kind == 2 || kind == 6 || kind == 8);
}

/** f or f' of four x values (kinds with sgHasVector). */
@inline export function sgVector(kind: i32, x: v128, p: f32, q: f32, deriv: i32): v128 {
  const one = f32x4.splat(1);
  const vp = f32x4.splat(p);
  const zero = f32x4.splat(0);
  if (kind == 5) return f32x4.mul(f32x4.splat(q), f32x4.max(zero, f32x4.sub(one, f32x4.div(f32x4.abs(x), vp))));
  if (kind == 6) {
    if (deriv != 0) return v128.and(f32x4.lt(f32x4.abs(x), f32x4.splat(p / 2)), f32x4.splat(1 / p));
    return f32x4.min(one, f32x4.max(zero, f32x4.add(f32x4.div(x, vp), f32x4.splat(0.5))));
  }
  if (kind == 7) return f32x4.max(zero, f32x4.sub(vp, f32x4.mul(f32x4.splat(p * p), f32x4.abs(x))));
  if (kind == 8) return deriv != 0 ? one : f32x4.add(x, f32x4.splat(0.5));
  if (kind == 3) {
    const z = f32x4.mul(f32x4.splat(<f32>(Math.PI / 2) * p), x);
    return f32x4.div(f32x4.splat(p / 2), f32x4.add(one, f32x4.mul(z, z)));
  }
  // fastSigmoid and softSign share the rational shape 1/(1 + c|x|).
  const d = f32x4.add(one, f32x4.abs(f32x4.mul(vp, x)));
  const half = f32x4.splat(0.5);
  if (deriv != 0) {
    const r = f32x4.div(one, f32x4.mul(d, d));
    return kind == 1 ? r : f32x4.mul(f32x4.mul(half, vp), r);
  }
  const g = f32x4.add(one, f32x4.div(f32x4.mul(vp, x), d));
  return kind == 1 ? f32x4.div(g, vp) : f32x4.mul(half, g);
}

/** f or f' of one x value. */
@inline export function sgScalar(kind: i32, x: f32, p: f32, q: f32, deriv: i32): f32 {
  let y: f32 = 0;
  if (kind == 1 || kind == 2) {
    const d: f32 = 1 + Mathf.abs(p * x);
    if (deriv != 0) y = kind == 1 ? 1 / (d * d) : p / (2 * d * d);
    else y = kind == 1 ? (1 + (p * x) / d) / p : <f32>0.5 * (1 + (p * x) / d);
  } else if (kind == 3) {
    const z = <f32>(Math.PI / 2) * p * x;
    y = p / 2 / (1 + z * z);
  } else if (kind == 4) {
    const s = sigma(p * x);
    y = deriv != 0 ? p * s * sigma(-p * x) : s;
  } else if (kind == 5) {
    y = q * Mathf.max(0, 1 - Mathf.abs(x) / p);
  } else if (kind == 6) {
    if (deriv != 0) y = Mathf.abs(x) < p / 2 ? 1 / p : 0;
    else y = Mathf.min(1, Mathf.max(0, x / p + <f32>0.5));
  } else if (kind == 7) {
    y = Mathf.max(0, p - p * p * Mathf.abs(x));
  } else if (kind == 8) {
    y = deriv != 0 ? 1 : x + <f32>0.5;
  }
  return y;
}

export function surrogate(out: usize, u: usize, th: f32, kind: i32, p: f32, q: f32, deriv: i32, lo: i32, hi: i32): void {
  let i = lo;
  if (sgHasVector(kind, deriv)) {
    const vth = f32x4.splat(th);
    for (; i + 4 <= hi; i += 4) v128.store(at(out, i), sgVector(kind, f32x4.sub(v128.load(at(u, i)), vth), p, q, deriv));
  }
  for (; i < hi; i++) store<f32>(at(out, i), sgScalar(kind, load<f32>(at(u, i)) - th, p, q, deriv));
}
