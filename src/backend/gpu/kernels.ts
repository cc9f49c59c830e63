/**
 * gpu.js kernel sources of the `gpu` backend. Each function runs once per output element
 * (`this.thread.x` over a flat 1-D output); gpu.js transpiles it to GLSL on the GL modes and runs it
 * as JavaScript in CPU mode. Rules the sources keep so that the same text compiles everywhere:
 *
 * - loop bounds and mode switches come only from `this.constants` (gpu.js caps loops bounded by
 *   arguments at loopMaxIterations, and a constant becomes a literal of the shader); the backend
 *   caches one compiled kernel per (kernel, constants, argument sizes);
 * - numeric settings that change from call to call (learning rate, step t) are float arguments;
 * - a row index is Math.floor((x + 0.5) / N): the +0.5 keeps the float division on GL from
 *   landing just below an integer;
 * - one `return` at the end (results are built in a variable), no helper functions, no Math
 *   functions beyond exp, log, sqrt, abs, floor, min, max (tanh is written out: GLSL ES 1.00 has
 *   none, and exp(2x) overflows for large x).
 *
 * The sources are plain functions of `this: GpuThis`; TypeScript's annotations are stripped before
 * gpu.js reads `fn.toString()`.
 */

/** What a kernel sees as `this`. */
export interface GpuThis {
  thread: { x: number };
  constants: Record<string, number>;
}
type A = Float32Array;

// ---- memory ----

export function kFill(this: GpuThis, v: number): number {
  return v;
}

export function kCopy(this: GpuThis, a: A): number {
  return a[this.thread.x];
}

export function kCopySlice(this: GpuThis, dst: A, src: A, dOff: number, sOff: number, count: number): number {
  const i = this.thread.x;
  let r = dst[i];
  if (i >= dOff && i < dOff + count) r = src[i - dOff + sOff];
  return r;
}

// ---- dense linear algebra ----

/** out = alpha·op(a)·op(b) + beta·out; constants M, K, N, strides sai, sak, sbk, sbj, hasBeta. */
export function kMatmul(this: GpuThis, a: A, b: A, c: A, alpha: number, beta: number): number {
  const i = Math.floor((this.thread.x + 0.5) / this.constants.N);
  const j = this.thread.x - i * this.constants.N;
  let acc = 0;
  for (let k = 0; k < this.constants.K; k++) {
    acc += a[i * this.constants.sai + k * this.constants.sak] * b[k * this.constants.sbk + j * this.constants.sbj];
  }
  let r = alpha * acc;
  if (this.constants.hasBeta === 1) r = alpha * acc + beta * c[this.thread.x];
  return r;
}

/** out[b,n] = beta·out[b,n] + Σ_k s[b,k]·W[k,n] over non-zero s; constants K, N, hasBeta. */
export function kSpikeMatmul(this: GpuThis, s: A, w: A, out: A, beta: number): number {
  const b = Math.floor((this.thread.x + 0.5) / this.constants.N);
  const n = this.thread.x - b * this.constants.N;
  let acc = 0;
  if (this.constants.hasBeta === 1) acc = beta * out[this.thread.x];
  for (let k = 0; k < this.constants.K; k++) {
    const sv = s[b * this.constants.K + k];
    if (sv !== 0) acc += sv * w[k * this.constants.N + n];
  }
  return acc;
}

/** W[k,n] += alpha·Σ_b s[b,k]·g[b,n] over non-zero s; constants B, K, N. */
export function kSpikeOuter(this: GpuThis, w: A, s: A, g: A, alpha: number): number {
  const k = Math.floor((this.thread.x + 0.5) / this.constants.N);
  const n = this.thread.x - k * this.constants.N;
  let acc = w[this.thread.x];
  for (let b = 0; b < this.constants.B; b++) {
    const sv = s[b * this.constants.K + k];
    if (sv !== 0) acc += alpha * sv * g[b * this.constants.N + n];
  }
  return acc;
}

/** One element of ring [D·B, N]: adds s[b,k]·W[k,n] of the k whose delay lands in this slot; constants B, K, N, D. */
export function kDelayedSpikeMatmul(this: GpuThis, ring: A, s: A, w: A, d: A, t: number): number {
  const bn = this.constants.B * this.constants.N;
  const slot = Math.floor((this.thread.x + 0.5) / bn);
  const rem = this.thread.x - slot * bn;
  const b = Math.floor((rem + 0.5) / this.constants.N);
  const n = rem - b * this.constants.N;
  let acc = ring[this.thread.x];
  for (let k = 0; k < this.constants.K; k++) {
    const xv = s[b * this.constants.K + k];
    if (xv !== 0) {
      const dd = t + d[k * this.constants.N + n];
      const sl = dd - this.constants.D * Math.floor((dd + 0.5) / this.constants.D);
      if (Math.abs(sl - slot) < 0.5) acc += xv * w[k * this.constants.N + n];
    }
  }
  return acc;
}

/** W[k,n] += alpha·Σ_b E[slot·B + b, k]·g[b,n], slot = (t − d[k,n]) mod D; constants B, K, N, D. */
export function kDelayedOuter(this: GpuThis, w: A, ring: A, g: A, d: A, t: number, alpha: number): number {
  const k = Math.floor((this.thread.x + 0.5) / this.constants.N);
  const n = this.thread.x - k * this.constants.N;
  const dd = t - d[this.thread.x];
  const slot = dd - this.constants.D * Math.floor((dd + 0.5) / this.constants.D);
  const base = slot * this.constants.B * this.constants.K + k;
  let acc = 0;
  for (let b = 0; b < this.constants.B; b++) acc += ring[base + b * this.constants.K] * g[b * this.constants.N + n];
  return w[this.thread.x] + alpha * acc;
}

// ---- neuron steps (one kernel per written tensor, all reading the old state) ----

/**
 * LIF membrane (out = 0) or spike (out = 1); constants reset (0 subtract, 1 zero, 2 none), delay
 * (1: reset from the previous spike), hasVMin, out.
 */
export function kLif(this: GpuThis, u: A, s: A, inp: A, beta: number, th: number, vMin: number): number {
  const x = this.thread.x;
  let r = 0;
  if (this.constants.delay === 1) r = s[x];
  let v = 0;
  if (this.constants.reset === 0) {
    v = beta * u[x] + inp[x] - r * th;
  } else if (this.constants.reset === 1) {
    v = beta * (1 - r) * u[x] + inp[x];
  } else {
    v = beta * u[x] + inp[x];
  }
  let spk = 0;
  if (v - th > 0) spk = 1;
  if (this.constants.delay === 0 && spk === 1) {
    if (this.constants.reset === 0) {
      v = v - th;
    } else if (this.constants.reset === 1) {
      v = 0;
    }
  }
  if (this.constants.hasVMin === 1 && v < vMin) v = vMin;
  let res = v;
  if (this.constants.out === 1) res = spk;
  return res;
}

/** Synaptic current α·I_syn + I. */
export function kSynCurrent(this: GpuThis, j: A, inp: A, alpha: number): number {
  return alpha * j[this.thread.x] + inp[this.thread.x];
}

/** Leaky integrator h + g·(I − h). */
export function kLeaky(this: GpuThis, h: A, inp: A, gain: number): number {
  const x = this.thread.x;
  return h[x] + gain * (inp[x] - h[x]);
}

/** Izhikevich substeps; constants nSub, out (0 v, 1 u, 2 spike). */
export function kIzhikevich(
  this: GpuThis, vv: A, uu: A, inp: A, a: number, b: number, c: number, d: number, vPeak: number, h: number,
): number {
  const x = this.thread.x;
  let v = vv[x];
  let u = uu[x];
  let spk = 0;
  const xi = inp[x];
  for (let k = 0; k < this.constants.nSub; k++) {
    v += h * (0.04 * v * v + 5 * v + 140 - u + xi);
    u += h * a * (b * v - u);
    if (v >= vPeak) {
      v = c;
      u += d;
      spk = 1;
    }
  }
  let res = v;
  if (this.constants.out === 1) res = u;
  if (this.constants.out === 2) res = spk;
  return res;
}

/** AdEx substeps; constants nSub, out (0 v, 1 w, 2 spike); q = [C, gL, EL, ΔT, VT, τw, a, b, Vr, Vpeak, h] as arguments. */
export function kAdex(
  this: GpuThis, vv: A, ww: A, inp: A, C: number, gL: number, EL: number, deltaT: number, VT: number, tauW: number,
  a: number, b: number, Vr: number, Vpeak: number, h: number,
): number {
  const x = this.thread.x;
  const maxArg = (Vpeak - VT) / deltaT;
  let v = vv[x];
  let w = ww[x];
  let spk = 0;
  const xi = inp[x];
  for (let k = 0; k < this.constants.nSub; k++) {
    const arg = Math.min((v - VT) / deltaT, maxArg);
    const dv = (-gL * (v - EL) + gL * deltaT * Math.exp(arg) - w + xi) / C;
    const dw = (a * (v - EL) - w) / tauW;
    v += h * dv;
    w += h * dw;
    if (v > Vpeak) {
      v = Vr;
      w += b;
      spk = 1;
    }
  }
  let res = v;
  if (this.constants.out === 1) res = w;
  if (this.constants.out === 2) res = spk;
  return res;
}

// ---- elementwise ----

/**
 * Native surrogate f / f' of x = u − th; constants kind (wasm/surrogates.ts NATIVE_SURROGATES ids),
 * deriv. p, q: the family's parameters.
 */
export function kSurrogate(this: GpuThis, u: A, th: number, p: number, q: number): number {
  const x = u[this.thread.x] - th;
  const kind = this.constants.kind;
  const deriv = this.constants.deriv;
  let y = 0;
  if (kind === 1 || kind === 2) {
    const d = 1 + Math.abs(p * x);
    if (deriv === 1) {
      if (kind === 1) {
        y = 1 / (d * d);
      } else {
        y = p / (2 * d * d);
      }
    } else if (kind === 1) {
      y = (1 + (p * x) / d) / p;
    } else {
      y = 0.5 * (1 + (p * x) / d);
    }
  } else if (kind === 3) {
    const z = 1.5707963267948966 * p * x;
    y = p / 2 / (1 + z * z);
  } else if (kind === 4) {
    const z1 = p * x;
    let s1 = 0;
    if (z1 >= 0) {
      s1 = 1 / (1 + Math.exp(-z1));
    } else {
      s1 = Math.exp(z1) / (1 + Math.exp(z1));
    }
    y = s1;
    if (deriv === 1) y = p * s1 * (1 - s1);
  } else if (kind === 5) {
    y = q * Math.max(0, 1 - Math.abs(x) / p);
  } else if (kind === 6) {
    if (deriv === 1) {
      if (Math.abs(x) < p / 2) y = 1 / p;
    } else {
      y = Math.min(1, Math.max(0, x / p + 0.5));
    }
  } else if (kind === 7) {
    y = Math.max(0, p - p * p * Math.abs(x));
  } else if (kind === 8) {
    y = x + 0.5;
    if (deriv === 1) y = 1;
  }
  return y;
}

/** Rate activation φ / φ'; constants kind (0 identity, 1 tanh, 2 sigmoid, 3 relu), deriv. */
export function kActivation(this: GpuThis, xs: A): number {
  const h = xs[this.thread.x];
  const kind = this.constants.kind;
  const deriv = this.constants.deriv;
  let y = h;
  if (kind === 0) {
    if (deriv === 1) y = 1;
  } else if (kind === 1) {
    const e = Math.exp(-2 * Math.abs(h));
    let t = (1 - e) / (1 + e);
    if (h < 0) t = -t;
    y = t;
    if (deriv === 1) y = 1 - t * t;
  } else if (kind === 2) {
    let s1 = 0;
    if (h >= 0) {
      s1 = 1 / (1 + Math.exp(-h));
    } else {
      s1 = Math.exp(h) / (1 + Math.exp(h));
    }
    y = s1;
    if (deriv === 1) y = s1 * (1 - s1);
  } else {
    y = 0;
    if (h > 0) {
      y = h;
      if (deriv === 1) y = 1;
    }
  }
  return y;
}

export function kAxpby(this: GpuThis, y: A, x: A, alpha: number, beta: number): number {
  return alpha * x[this.thread.x] + beta * y[this.thread.x];
}

export function kMul(this: GpuThis, a: A, b: A): number {
  return a[this.thread.x] * b[this.thread.x];
}

export function kAddScalar(this: GpuThis, x: A, c: number): number {
  return x[this.thread.x] + c;
}

/** x[b,n] + v[n]; constant N. */
export function kAddRow(this: GpuThis, x: A, v: A): number {
  const b = Math.floor((this.thread.x + 0.5) / this.constants.N);
  return x[this.thread.x] + v[this.thread.x - b * this.constants.N];
}

/** Rows [from, to) = value; constant N. */
export function kFillRows(this: GpuThis, x: A, from: number, to: number, value: number): number {
  const r = Math.floor((this.thread.x + 0.5) / this.constants.N);
  let y = x[this.thread.x];
  if (r >= from && r < to) y = value;
  return y;
}

export function kGateBelow(this: GpuThis, g: A, u: A, vMin: number): number {
  let y = g[this.thread.x];
  if (u[this.thread.x] <= vMin) y = 0;
  return y;
}

/** out [C, R] = xᵀ; constants R, C. */
export function kTranspose(this: GpuThis, x: A): number {
  const j = Math.floor((this.thread.x + 0.5) / this.constants.R);
  const i = this.thread.x - j * this.constants.R;
  return x[i * this.constants.C + j];
}

// ---- reductions ----

/** Partial sums of chunks of CH elements (sq = 1: of squares); constants n, CH, sq. */
export function kPartialSum(this: GpuThis, x: A): number {
  const i0 = this.thread.x * this.constants.CH;
  let acc = 0;
  for (let j = 0; j < this.constants.CH; j++) {
    if (i0 + j < this.constants.n) {
      const v = x[i0 + j];
      if (this.constants.sq === 1) {
        acc += v * v;
      } else {
        acc += v;
      }
    }
  }
  return acc;
}

/** out[n] = alpha·Σ_b x[b,n] + beta·out[n]; constants B, N, hasBeta. */
export function kSumRows(this: GpuThis, x: A, out: A, alpha: number, beta: number): number {
  let acc = 0;
  for (let b = 0; b < this.constants.B; b++) acc += x[b * this.constants.N + this.thread.x];
  let r = alpha * acc;
  if (this.constants.hasBeta === 1) r = alpha * acc + beta * out[this.thread.x];
  return r;
}

/** loss[0] + mul·Σ_i rows[i] / div, output [1]; constant R. */
export function kAccumulate(this: GpuThis, loss: A, rows: A, mul: number, div: number): number {
  let acc = 0;
  for (let i = 0; i < this.constants.R; i++) acc += rows[i];
  return loss[0] + (mul * acc) / div;
}

/** Σ_i rows[i] / div, output [1]; constant R. */
export function kMean(this: GpuThis, rows: A, div: number): number {
  let acc = 0;
  for (let i = 0; i < this.constants.R; i++) acc += rows[i];
  return acc / div;
}

// ---- loss kernels ----

/** Row norm √(Σ x² + eps) of row row0 + i (normalize = 0: 1); constants N, normalize. Output [R]. */
export function kRowNorm(this: GpuThis, x: A, row0: number, eps: number): number {
  const off = (row0 + this.thread.x) * this.constants.N;
  let s = 0;
  for (let k = 0; k < this.constants.N; k++) s += x[off + k] * x[off + k];
  let r = 1;
  if (this.constants.normalize === 1) r = Math.sqrt(s + eps);
  return r;
}

/** out[i,k] = x[row0 + i, k] / norms[i]; constant N. */
export function kNormalizeOut(this: GpuThis, x: A, norms: A, row0: number): number {
  const i = Math.floor((this.thread.x + 0.5) / this.constants.N);
  const k = this.thread.x - i * this.constants.N;
  return x[(row0 + i) * this.constants.N + k] * (1 / norms[i]);
}

/** Backward of the row normalisation over all of g [*, N]; constants N, R, normalize. */
export function kNormalizeBackward(this: GpuThis, g: A, x: A, dhat: A, norms: A, row0: number): number {
  const r = Math.floor((this.thread.x + 0.5) / this.constants.N);
  const k = this.thread.x - r * this.constants.N;
  const i = r - row0;
  let y = g[this.thread.x];
  if (i >= 0 && i < this.constants.R) {
    if (this.constants.normalize === 1) {
      let dot = 0;
      for (let kk = 0; kk < this.constants.N; kk++) dot += x[r * this.constants.N + kk] * dhat[i * this.constants.N + kk];
      const nrm = norms[i];
      y = (1 / nrm) * dhat[i * this.constants.N + k] - (dot / (nrm * nrm * nrm)) * x[this.thread.x];
    } else {
      y = dhat[i * this.constants.N + k];
    }
  }
  return y;
}

/** Per-row soft-target CE Σ_{p>0} −p·(y − lz); constant C. Output [R]. */
export function kCERow(this: GpuThis, y: A, p: A): number {
  const off = this.thread.x * this.constants.C;
  let mx = y[off];
  for (let j = 1; j < this.constants.C; j++) mx = Math.max(mx, y[off + j]);
  let z = 0;
  for (let j = 0; j < this.constants.C; j++) z += Math.exp(y[off + j] - mx);
  const lz = mx + Math.log(z);
  let loss = 0;
  for (let j = 0; j < this.constants.C; j++) {
    const pj = p[off + j];
    if (pj > 0) loss -= pj * (y[off + j] - lz);
  }
  return loss;
}

/** dy = (softmax(y) − p)·gs/gd; constant C. */
export function kCEGrad(this: GpuThis, y: A, p: A, gs: number, gd: number): number {
  const i = Math.floor((this.thread.x + 0.5) / this.constants.C);
  const off = i * this.constants.C;
  let mx = y[off];
  for (let j = 1; j < this.constants.C; j++) mx = Math.max(mx, y[off + j]);
  let z = 0;
  for (let j = 0; j < this.constants.C; j++) z += Math.exp(y[off + j] - mx);
  const lz = mx + Math.log(z);
  return ((Math.exp(y[this.thread.x] - lz) - p[this.thread.x]) * gs) / gd;
}

/** Row softmax; constant C. */
export function kSoftmax(this: GpuThis, x: A): number {
  const i = Math.floor((this.thread.x + 0.5) / this.constants.C);
  const off = i * this.constants.C;
  let mx = x[off];
  for (let j = 1; j < this.constants.C; j++) mx = Math.max(mx, x[off + j]);
  let z = 0;
  for (let j = 0; j < this.constants.C; j++) z += Math.exp(x[off + j] - mx);
  return Math.exp(x[this.thread.x] - mx) / z;
}

/** Σ_k (r[i,k] − r[nh + i, k])² of row i < nh; constants N, half (= nh·N). Output [nh]. */
export function kL2Row(this: GpuThis, r: A): number {
  const off = this.thread.x * this.constants.N;
  let acc = 0;
  for (let k = 0; k < this.constants.N; k++) {
    const d = r[off + k] - r[this.constants.half + off + k];
    acc += d * d;
  }
  return acc;
}

/** g of the L2 pair loss; constant half (= nh·N). */
export function kL2Grad(this: GpuThis, r: A, inv: number): number {
  const x = this.thread.x;
  let y = 0;
  if (x < this.constants.half) {
    y = (r[x] - r[this.constants.half + x]) * inv;
  } else {
    y = -(r[x - this.constants.half] - r[x]) * inv;
  }
  return y;
}

/** G_i = c·Σ_k y_ik²; constant N. Output [R]. */
export function kSquares(this: GpuThis, y: A, c: number): number {
  const off = this.thread.x * this.constants.N;
  let ss = 0;
  for (let k = 0; k < this.constants.N; k++) ss += y[off + k] * y[off + k];
  return c * ss;
}

/** goodness = gb·goodness + G (hasGb = 0: G). */
export function kGoodness(this: GpuThis, goodness: A, G: A, gb: number): number {
  let r = G[this.thread.x];
  if (this.constants.hasGb === 1) r = gb * goodness[this.thread.x] + G[this.thread.x];
  return r;
}

/** Per-row BCE softplus(−x), x = s·(G − θ), rows ≥ end give 0. Output [R]. */
export function kFFLoss(this: GpuThis, G: A, theta: number, nPos: number, end: number): number {
  const i = this.thread.x;
  let l = 0;
  if (i < end) {
    let s = -1;
    if (i < nPos) s = 1;
    const x = s * (G[i] - theta);
    l = Math.max(-x, 0) + Math.log(1 + Math.exp(-Math.abs(x)));
  }
  return l;
}

/** g of the FF goodness loss; constant N. */
export function kFFGrad(this: GpuThis, y: A, G: A, theta: number, c: number, gd: number, nPos: number, end: number): number {
  const i = Math.floor((this.thread.x + 0.5) / this.constants.N);
  let r = 0;
  if (i < end) {
    let s = -1;
    if (i < nPos) s = 1;
    const x = s * (G[i] - theta);
    let sig = 0;
    if (x >= 0) {
      sig = Math.exp(-x) / (1 + Math.exp(-x));
    } else {
      sig = 1 / (1 + Math.exp(x));
    }
    r = ((-s * sig * 2 * c) / gd) * y[this.thread.x];
  }
  return r;
}

/** running[k] = momentum·running[k] + (1 − momentum)·mean of the first P rows of y; constants N, P. */
export function kPeerRunning(this: GpuThis, running: A, y: A, momentum: number): number {
  let m = 0;
  for (let i = 0; i < this.constants.P; i++) m += y[i * this.constants.N + this.thread.x];
  return momentum * running[this.thread.x] + (1 - momentum) * (m / this.constants.P);
}

/** loss[0] + weight·Σ_k (running[k] − r̄)²/N, output [1]; constant N. */
export function kPeerLoss(this: GpuThis, loss: A, running: A, rbar: A, weight: number): number {
  let acc = 0;
  for (let k = 0; k < this.constants.N; k++) {
    const d = running[k] - rbar[0];
    acc += d * d;
  }
  return loss[0] + (weight * acc) / this.constants.N;
}

/** g[i,k] += a·(running[k] − r̄) for rows i < P; constants N, P. */
export function kPeerGrad(this: GpuThis, g: A, running: A, rbar: A, a: number): number {
  const i = Math.floor((this.thread.x + 0.5) / this.constants.N);
  const k = this.thread.x - i * this.constants.N;
  let y = g[this.thread.x];
  if (i < this.constants.P) y = g[this.thread.x] + a * (running[k] - rbar[0]);
  return y;
}

// ---- optimisers ----

export function kSgd(this: GpuThis, w: A, g: A, lr: number, wd: number): number {
  const x = this.thread.x;
  return w[x] - lr * (g[x] + wd * w[x]);
}

export function kMomentumV(this: GpuThis, w: A, g: A, v: A, mu: number, wd: number): number {
  const x = this.thread.x;
  return mu * v[x] + (g[x] + wd * w[x]);
}

/** w − lr·v with the new v. */
export function kMomentumW(this: GpuThis, w: A, v: A, lr: number): number {
  return w[this.thread.x] - lr * v[this.thread.x];
}

/** Adam moment: b·m + (1 − b)·gd (sq = 0) or b·v + (1 − b)·gd² (sq = 1); constant sq. */
export function kAdamMoment(this: GpuThis, w: A, g: A, m: A, b: number, wd: number): number {
  const x = this.thread.x;
  const gi = g[x] + wd * w[x];
  let r = b * m[x] + (1 - b) * gi;
  if (this.constants.sq === 1) r = b * m[x] + (1 - b) * gi * gi;
  return r;
}

/** w − lr·(m/c1)/(√(v/c2) + eps) with the new m, v. */
export function kAdamW(this: GpuThis, w: A, m: A, v: A, lr: number, c1: number, c2: number, eps: number): number {
  const x = this.thread.x;
  return w[x] - (lr * (m[x] / c1)) / (Math.sqrt(v[x] / c2) + eps);
}
