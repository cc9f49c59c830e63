/**
 * Loss, optimiser and small elementwise kernels as plain loops over Float32Arrays: the `reference`
 * backend's implementation of them (and the wasm backend's path for activations it has no native
 * kernel for). The arithmetic is exactly the host code the learning rules ran before these were
 * kernels (same operation order, float64 accumulators, float32 stores), so that training results
 * on `reference` stay bit-identical.
 */
import { getActivation } from '../../models/activations.js';
import type { AdamStepParams, AdexKernelParams, FfGoodnessParams, IzhikevichKernelParams, SoftmaxCEScales } from './backend.js';

export function hostNormalizeRows(
  out: Float32Array, norms: Float32Array, r: Float32Array, r0: number, rows: number, n: number, normalize: boolean, eps: number,
): void {
  for (let i = 0; i < rows; i++) {
    const off = (r0 + i) * n;
    let s = 0;
    for (let k = 0; k < n; k++) s += r[off + k] * r[off + k];
    const nrm = normalize ? Math.sqrt(s + eps) : 1;
    norms[i] = nrm;
    const inv = 1 / nrm;
    for (let k = 0; k < n; k++) out[i * n + k] = r[off + k] * inv;
  }
}

export function hostNormalizeRowsBackward(
  g: Float32Array, r: Float32Array, r0: number, rows: number, n: number, dhat: Float32Array, norms: Float32Array, normalize: boolean,
): void {
  for (let i = 0; i < rows; i++) {
    const off = (r0 + i) * n;
    if (!normalize) {
      for (let k = 0; k < n; k++) g[off + k] = dhat[i * n + k];
      continue;
    }
    const nrm = norms[i];
    let dot = 0;
    for (let k = 0; k < n; k++) dot += r[off + k] * dhat[i * n + k];
    const a = 1 / nrm, b = dot / (nrm * nrm * nrm);
    for (let k = 0; k < n; k++) g[off + k] = a * dhat[i * n + k] - b * r[off + k];
  }
}

/** Returns the loss sum divided by lossDivisor (the caller adds it to loss[0]). */
export function hostSoftmaxCE(
  dy: Float32Array | null, y: Float32Array, P: Float32Array, R: number, C: number, scales: SoftmaxCEScales = {},
): number {
  const gs = scales.gradScale ?? 1, gd = scales.gradDivisor ?? 1;
  let loss = 0;
  for (let i = 0; i < R; i++) {
    const off = i * C;
    let mx = -Infinity;
    for (let j = 0; j < C; j++) mx = Math.max(mx, y[off + j]);
    let z = 0;
    for (let j = 0; j < C; j++) z += Math.exp(y[off + j] - mx);
    const lz = mx + Math.log(z);
    // the row's term, then the rows' terms in order (as the wasm kernel, whose threads take rows)
    let row = 0;
    for (let j = 0; j < C; j++) {
      const p = P[off + j];
      if (p > 0) row -= p * (y[off + j] - lz);
      // q = exp(y − max) / Σ exp(y − max) (the wasm kernel keeps the exponentials of the first pass)
      if (dy) dy[off + j] = ((Math.exp(y[off + j] - mx) / z - p) * gs) / gd;
    }
    loss += row;
  }
  return loss / (scales.lossDivisor ?? 1);
}

export function hostSoftmaxRows(out: Float32Array, x: Float32Array, R: number, C: number): void {
  for (let i = 0; i < R; i++) {
    const off = i * C;
    let mx = -Infinity;
    for (let j = 0; j < C; j++) mx = Math.max(mx, x[off + j]);
    let z = 0;
    for (let j = 0; j < C; j++) z += out[off + j] = Math.exp(x[off + j] - mx);
    for (let j = 0; j < C; j++) out[off + j] /= z;
  }
}

/** Returns (0.5·Σ d²)/nh (the caller adds it to loss[0]). */
export function hostL2PairLoss(G: Float32Array | null, R: Float32Array, nh: number, n: number): number {
  let loss = 0;
  const inv = 1 / nh;
  for (let i = 0; i < nh * n; i++) {
    const d = R[i] - R[nh * n + i];
    loss += d * d;
    if (G) {
      G[i] = d * inv;
      G[nh * n + i] = -d * inv;
    }
  }
  return (0.5 * loss) / nh;
}

/** Forward-Forward goodness loss (Backend.ffGoodness); returns the loss sum divided by lossDivisor. */
export function hostFfGoodness(
  g: Float32Array | null, goodness: Float32Array | null, y: Float32Array, R: number, n: number, p: FfGoodnessParams,
): number {
  const c = p.mean ? 1 / n : 1, gb = p.goodnessBeta ?? 0, gd = p.gradDivisor ?? 1, end = p.nPos + p.nNeg;
  let loss = 0;
  for (let i = 0; i < R; i++) {
    const off = i * n;
    let ss = 0;
    for (let k = 0; k < n; k++) ss += y[off + k] * y[off + k];
    const G = c * ss;
    if (goodness) goodness[i] = gb === 0 ? G : gb * goodness[i] + G;
    if (i >= end) {
      if (g) for (let k = 0; k < n; k++) g[off + k] = 0;
      continue;
    }
    const s = i < p.nPos ? 1 : -1;
    const x = s * (G - p.theta);
    // softplus(−x) = max(−x, 0) + log(1 + exp(−|x|)); σ(−x) computed without overflow
    loss += Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    if (g) {
      const sig = x >= 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + Math.exp(x));
      const a = (-s * sig * 2 * c) / gd;
      for (let k = 0; k < n; k++) g[off + k] = a * y[off + k];
    }
  }
  return loss / (p.lossDivisor ?? 1);
}

/** Forward-Forward peer normalisation (Backend.ffPeerNorm); returns the loss to add to loss[0]. */
export function hostFfPeerNorm(
  g: Float32Array | null, running: Float32Array, y: Float32Array, n: number, nPos: number, momentum: number, weight: number,
): number {
  let rbar = 0;
  for (let k = 0; k < n; k++) {
    let m = 0;
    for (let i = 0; i < nPos; i++) m += y[i * n + k];
    running[k] = momentum * running[k] + (1 - momentum) * (m / nPos);
    rbar += running[k];
  }
  rbar /= n;
  let loss = 0;
  const a = (weight * 2 * (1 - momentum)) / (n * nPos);
  for (let k = 0; k < n; k++) {
    const d = running[k] - rbar;
    loss += d * d;
    if (g) {
      const v = a * d;
      for (let i = 0; i < nPos; i++) g[i * n + k] += v;
    }
  }
  return (weight * loss) / n;
}

export function hostActivation(out: Float32Array, x: Float32Array, name: string, deriv: boolean): void {
  const a = getActivation(name);
  if (deriv) for (let k = 0; k < x.length; k++) out[k] = a.df(x[k]);
  else for (let k = 0; k < x.length; k++) out[k] = a.f(x[k]);
}

/** Leaky-integrator step (the arithmetic models/leaky.ts ran): h ← h + g·(I − h), a ← φ(h). */
export function hostLeakyStep(H: Float32Array, A: Float32Array, I: Float32Array, g: number, name: string): void {
  const phi = getActivation(name);
  for (let i = 0; i < H.length; i++) {
    H[i] = H[i] + g * (I[i] - H[i]);
    A[i] = phi.f(H[i]);
  }
}

/** Izhikevich step over nSub Euler substeps (the arithmetic models/izhikevich.ts ran). */
export function hostIzhikevichStep(V: Float32Array, U: Float32Array, S: Float32Array, I: Float32Array, p: IzhikevichKernelParams): void {
  const { a, b, c, d, vPeak, nSub, hMs: h } = p;
  for (let i = 0; i < V.length; i++) {
    let v = V[i], u = U[i], spk = 0;
    const x = I[i];
    for (let k = 0; k < nSub; k++) {
      v += h * (0.04 * v * v + 5 * v + 140 - u + x);
      u += h * a * (b * v - u);
      if (v >= vPeak) {
        v = c;
        u += d;
        spk = 1;
      }
    }
    V[i] = v;
    U[i] = u;
    S[i] = spk;
  }
}

/** AdEx step over nSub Euler substeps (the arithmetic models/adex.ts ran). */
export function hostAdexStep(V: Float32Array, W: Float32Array, S: Float32Array, I: Float32Array, p: AdexKernelParams): void {
  const { C, gL, EL, deltaT, VT, tauWMs, a, b, Vr, Vpeak, nSub, hMs: h } = p;
  const maxArg = (Vpeak - VT) / deltaT;
  for (let i = 0; i < V.length; i++) {
    let v = V[i], w = W[i], spk = 0;
    const x = I[i];
    for (let k = 0; k < nSub; k++) {
      const arg = Math.min((v - VT) / deltaT, maxArg);
      const dv = (-gL * (v - EL) + gL * deltaT * Math.exp(arg) - w + x) / C;
      const dw = (a * (v - EL) - w) / tauWMs;
      v += h * dv;
      w += h * dw;
      if (v > Vpeak) {
        v = Vr;
        w += b;
        spk = 1;
      }
    }
    V[i] = v;
    W[i] = w;
    S[i] = spk;
  }
}

export function hostSgdStep(w: Float32Array, g: Float32Array, lr: number, wd: number): void {
  for (let i = 0; i < w.length; i++) w[i] -= lr * (wd !== 0 ? g[i] + wd * w[i] : g[i]);
}

export function hostMomentumStep(w: Float32Array, g: Float32Array, v: Float32Array, lr: number, mu: number, wd: number): void {
  for (let i = 0; i < w.length; i++) {
    v[i] = mu * v[i] + (wd !== 0 ? g[i] + wd * w[i] : g[i]);
    w[i] -= lr * v[i];
  }
}

export function hostAdamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, p: AdamStepParams): void {
  const { lr, beta1: b1, beta2: b2, eps, c1, c2, weightDecay: wd } = p;
  for (let i = 0; i < w.length; i++) {
    const gi = wd !== 0 ? g[i] + wd * w[i] : g[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
  }
}
