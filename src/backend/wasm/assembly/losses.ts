// Loss, optimiser and small elementwise kernels of the learning rules (AssemblyScript, scalar).
// They follow the reference arithmetic (src/backend/host-kernels.ts): float64 for every
// intermediate and accumulator, float32 only where a value is stored. Single-threaded (small next
// to the matmuls) except adamStep; elementwise ones take a range [lo, hi). A pointer 0 means "not
// given". The row normalisation and Adam run two float64 lanes per SIMD instruction.

import { rowDots } from './gemm';
import { at, ld, st } from './mem';

// float32x4 <-> two float64x2 (lanes 0-1 and 2-3), for kernels that keep the float64 arithmetic
// of the scalar code per element but run two elements per instruction.
@inline function lo2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
@inline function hi2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3));
}
/** Round two float64x2 to float32 and join them into one float32x4 (a in lanes 0-1). */
@inline function join4(a: v128, b: v128): v128 {
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}
/** Sum of a float64x2's lanes. */
@inline function hsum(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

/** x += c on [lo, hi). */
export function addScalar(x: usize, c: f64, lo: i32, hi: i32): void {
  for (let i = lo; i < hi; i++) st(x, i, ld(x, i) + c);
}

/** g[k] = 0 where u[k] ≤ vMin, on [lo, hi). */
export function gateBelow(g: usize, u: usize, vMin: f64, lo: i32, hi: i32): void {
  for (let i = lo; i < hi; i++) if (ld(u, i) <= vMin) store<f32>(at(g, i), 0);
}

@inline function sigmoid64(h: f64): f64 {
  if (h >= 0) return 1 / (1 + Math.exp(-h));
  const e = Math.exp(h);
  return e / (1 + e);
}

/** Rate activations: kind 0 identity, 1 tanh, 2 sigmoid, 3 relu; out = φ(x) or φ'(x) on [lo, hi). */
export function activation(out: usize, x: usize, kind: i32, deriv: i32, lo: i32, hi: i32): void {
  for (let i = lo; i < hi; i++) {
    const h = ld(x, i);
    let v: f64;
    if (kind == 0) v = deriv ? 1 : h;
    else if (kind == 1) {
      const y = Math.tanh(h);
      v = deriv ? 1 - y * y : y;
    } else if (kind == 2) {
      const y = sigmoid64(h);
      v = deriv ? y * (1 - y) : y;
    } else v = deriv ? (h > 0 ? 1 : 0) : h > 0 ? h : 0;
    st(out, i, v);
  }
}

/** out [C, R] = xᵀ, x [R, C]. */
export function transpose(out: usize, x: usize, R: i32, C: i32): void {
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) store<f32>(at(out, j * R + i), load<f32>(at(x, i * C + j)));
}

/**
 * out[i,:] = x[row0+i,:]/n_i, norms[i] = n_i = √(Σ x² + eps) (or 1), for i < rows. The sum of
 * squares runs in four float64 partial sums (then added in a fixed order); the scaling is the
 * scalar float64 arithmetic per element, two elements per instruction.
 */
export function normalizeRows(out: usize, norms: usize, x: usize, row0: i32, rows: i32, n: i32, normalize: i32, eps: f64): void {
  for (let i = 0; i < rows; i++) {
    const off = (row0 + i) * n;
    const xr = at(x, off), orow = at(out, i * n);
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    let k = 0;
    for (; k + 4 <= n; k += 4) {
      const v = v128.load(at(xr, k));
      const a = lo2(v), b = hi2(v);
      s0 = f64x2.add(s0, f64x2.mul(a, a));
      s1 = f64x2.add(s1, f64x2.mul(b, b));
    }
    let s: f64 = hsum(s0) + hsum(s1);
    for (let r = k; r < n; r++) {
      const v = ld(xr, r);
      s += v * v;
    }
    const nrm: f64 = normalize ? Math.sqrt(s + eps) : 1;
    st(norms, i, nrm);
    const inv = 1 / nrm;
    const vi = f64x2.splat(inv);
    k = 0;
    for (; k + 4 <= n; k += 4) {
      const v = v128.load(at(xr, k));
      v128.store(at(orow, k), join4(f64x2.mul(lo2(v), vi), f64x2.mul(hi2(v), vi)));
    }
    for (let r = k; r < n; r++) st(orow, r, ld(xr, r) * inv);
  }
}

/** Backward of normalizeRows into rows [row0, row0 + rows) of g (the dot product in four float64 partial sums). */
export function normalizeRowsBackward(g: usize, x: usize, row0: i32, rows: i32, n: i32, dhat: usize, norms: usize, normalize: i32): void {
  for (let i = 0; i < rows; i++) {
    const off = (row0 + i) * n;
    if (!normalize) {
      for (let k = 0; k < n; k++) store<f32>(at(g, off + k), load<f32>(at(dhat, i * n + k)));
      continue;
    }
    const xr = at(x, off), dr = at(dhat, i * n), gr = at(g, off);
    const nrm = ld(norms, i);
    let d0 = f64x2.splat(0), d1 = f64x2.splat(0);
    let k = 0;
    for (; k + 4 <= n; k += 4) {
      const v = v128.load(at(xr, k)), d = v128.load(at(dr, k));
      d0 = f64x2.add(d0, f64x2.mul(lo2(v), lo2(d)));
      d1 = f64x2.add(d1, f64x2.mul(hi2(v), hi2(d)));
    }
    let dot: f64 = hsum(d0) + hsum(d1);
    for (let r = k; r < n; r++) dot += ld(xr, r) * ld(dr, r);
    const a = 1 / nrm, b = dot / (nrm * nrm * nrm);
    const va = f64x2.splat(a), vb = f64x2.splat(b);
    k = 0;
    for (; k + 4 <= n; k += 4) {
      const v = v128.load(at(xr, k)), d = v128.load(at(dr, k));
      const lo = f64x2.sub(f64x2.mul(va, lo2(d)), f64x2.mul(vb, lo2(v)));
      const hi = f64x2.sub(f64x2.mul(va, hi2(d)), f64x2.mul(vb, hi2(v)));
      v128.store(at(gr, k), join4(lo, hi));
    }
    for (let r = k; r < n; r++) st(gr, r, a * ld(dr, r) - b * ld(xr, r));
  }
}

/**
 * Rows [r0, r1) of a soft-target softmax CE over y [R, C] with p [R, C]: row i's loss term
 * −Σ_j p·(y − log Σ_k exp y) (summed over j in order) into rowLoss[i] (float64), dy (0: none) =
 * (q − p)·gs/gd. `e`: C float64 of the thread's scratch for the row's exponentials (one exp per
 * element), or 0 to compute them twice. lossAddRows adds the row terms in row order, so the loss
 * is the same whichever thread ran which rows.
 */
export function softmaxCERange(rowLoss: usize, dy: usize, y: usize, p: usize, C: i32, gs: f64, gd: f64, e: usize, r0: i32, r1: i32): void {
  for (let i = r0; i < r1; i++) {
    const off = i * C;
    let mx: f64 = -Infinity;
    for (let j = 0; j < C; j++) mx = Math.max(mx, ld(y, off + j));
    let z: f64 = 0;
    for (let j = 0; j < C; j++) {
      const x = Math.exp(ld(y, off + j) - mx);
      if (e) store<f64>(e + (<usize>j << 3), x);
      z += x;
    }
    const lz = mx + Math.log(z);
    let acc: f64 = 0;
    for (let j = 0; j < C; j++) {
      const pj = ld(p, off + j);
      if (pj > 0) acc -= pj * (ld(y, off + j) - lz);
      // q = exp(y − max) / Σ exp(y − max), as the reference (host-kernels.ts hostSoftmaxCE)
      if (dy) st(dy, off + j, (((e ? load<f64>(e + (<usize>j << 3)) : Math.exp(ld(y, off + j) - mx)) / z - pj) * gs) / gd);
    }
    store<f64>(rowLoss + (<usize>i << 3), acc);
  }
}

/**
 * loss[0] += (Σ rowLoss[i] over rows [r0, r1) in row order, float64) / divisor, rounded once to
 * float32: softmaxCERange's row terms, added in one call after all its rows (never split), so that
 * the caller need not wait for them.
 */
export function lossAddRows(loss: usize, rowLoss: usize, divisor: f64, r0: i32, r1: i32): void {
  let acc: f64 = 0;
  for (let i = r0; i < r1; i++) acc += load<f64>(rowLoss + (<usize>i << 3));
  st(loss, 0, ld(loss, 0) + acc / divisor);
}

/** Row softmax out = softmax(x) over rows of [R, C] (may alias). */
export function softmaxRows(out: usize, x: usize, R: i32, C: i32): void {
  for (let i = 0; i < R; i++) {
    const off = i * C;
    let mx: f64 = -Infinity;
    for (let j = 0; j < C; j++) mx = Math.max(mx, ld(x, off + j));
    let z: f64 = 0;
    for (let j = 0; j < C; j++) {
      const e = Math.exp(ld(x, off + j) - mx);
      st(out, off + j, e);
      z += e;
    }
    for (let j = 0; j < C; j++) st(out, off + j, ld(out, off + j) / z);
  }
}

/** L2 loss between the halves of r [2·nh, n]; loss[0] += (0.5·Σ d²)/nh; g (0: none) = ±d/nh. */
export function l2PairLoss(loss: usize, g: usize, r: usize, nh: i32, n: i32): void {
  let acc: f64 = 0;
  const inv: f64 = 1 / <f64>nh;
  const half = nh * n;
  for (let i = 0; i < half; i++) {
    const d = ld(r, i) - ld(r, half + i);
    acc += d * d;
    if (g) {
      st(g, i, d * inv);
      st(g, half + i, -d * inv);
    }
  }
  st(loss, 0, ld(loss, 0) + (0.5 * acc) / <f64>nh);
}

/**
 * Forward-Forward goodness loss (Backend.ffGoodness) over y [R, n]; g, goodness, loss: 0 = not given.
 * mean: 1 (G = mean of squares) or 0 (sum); gb: goodness = gb·goodness + G.
 */
export function ffGoodness(
  loss: usize, g: usize, goodness: usize, y: usize, R: i32, n: i32, theta: f64, mean: i32, nPos: i32, nNeg: i32,
  lossDiv: f64, gradDiv: f64, gb: f64,
): void {
  const c: f64 = mean ? 1 / <f64>n : 1;
  const end = nPos + nNeg;
  let acc: f64 = 0;
  for (let i = 0; i < R; i++) {
    const off = i * n;
    let ss: f64 = 0;
    for (let k = 0; k < n; k++) {
      const v = ld(y, off + k);
      ss += v * v;
    }
    const G = c * ss;
    if (goodness) st(goodness, i, gb == 0 ? G : gb * ld(goodness, i) + G);
    if (i >= end) {
      if (g) for (let k = 0; k < n; k++) store<f32>(at(g, off + k), 0);
      continue;
    }
    const s: f64 = i < nPos ? 1 : -1;
    const x = s * (G - theta);
    acc += Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    if (g) {
      const sig: f64 = x >= 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + Math.exp(x));
      const a = (-s * sig * 2 * c) / gradDiv;
      for (let k = 0; k < n; k++) st(g, off + k, a * ld(y, off + k));
    }
  }
  if (loss) st(loss, 0, ld(loss, 0) + acc / lossDiv);
}

/** Forward-Forward peer normalisation (Backend.ffPeerNorm) of rows [0, nPos) of y [R, n]; g, loss: 0 = not given. */
export function ffPeerNorm(loss: usize, g: usize, running: usize, y: usize, n: i32, nPos: i32, momentum: f64, weight: f64): void {
  let rbar: f64 = 0;
  for (let k = 0; k < n; k++) {
    let m: f64 = 0;
    for (let i = 0; i < nPos; i++) m += ld(y, i * n + k);
    st(running, k, momentum * ld(running, k) + (1 - momentum) * (m / <f64>nPos));
    rbar += ld(running, k);
  }
  rbar /= <f64>n;
  let acc: f64 = 0;
  const a: f64 = (weight * 2 * (1 - momentum)) / (<f64>n * <f64>nPos);
  for (let k = 0; k < n; k++) {
    const d = ld(running, k) - rbar;
    acc += d * d;
    if (g) {
      const v = a * d;
      for (let i = 0; i < nPos; i++) st(g, i * n + k, ld(g, i * n + k) + v);
    }
  }
  if (loss) st(loss, 0, ld(loss, 0) + (weight * acc) / <f64>n);
}

@inline function decayed(g: usize, w: usize, wd: f64, i: i32): f64 {
  return wd != 0 ? ld(g, i) + wd * ld(w, i) : ld(g, i);
}

/** SGD on [lo, hi): w −= lr·(g + wd·w). */
export function sgdStep(w: usize, g: usize, lr: f64, wd: f64, lo: i32, hi: i32): void {
  for (let i = lo; i < hi; i++) st(w, i, ld(w, i) - lr * decayed(g, w, wd, i));
}

/** SGD with momentum on [lo, hi): v = μ·v + gd; w −= lr·v. */
export function momentumStep(w: usize, g: usize, v: usize, lr: f64, mu: f64, wd: f64, lo: i32, hi: i32): void {
  for (let i = lo; i < hi; i++) {
    st(v, i, mu * ld(v, i) + decayed(g, w, wd, i));
    st(w, i, ld(w, i) - lr * ld(v, i));
  }
}

/**
 * Adam with L2 decay on [lo, hi): the scalar float64 arithmetic per element (m and v rounded to
 * float32 where they are stored, and read back), two elements per instruction.
 */
export function adamStep(
  w: usize, g: usize, m: usize, v: usize, lr: f64, b1: f64, b2: f64, eps: f64, c1: f64, c2: f64, wd: f64, lo: i32, hi: i32,
): void {
  let i = lo;
  const vb1 = f64x2.splat(b1), vb2 = f64x2.splat(b2), vc1 = f64x2.splat(1 - b1), vc2 = f64x2.splat(1 - b2);
  const vlr = f64x2.splat(lr), vk1 = f64x2.splat(c1), vk2 = f64x2.splat(c2), veps = f64x2.splat(eps), vwd = f64x2.splat(wd);
  for (; i + 4 <= hi; i += 4) {
    const gv = v128.load(at(g, i)), wv = v128.load(at(w, i)), mv = v128.load(at(m, i)), vv = v128.load(at(v, i));
    let g0 = lo2(gv), g1 = hi2(gv);
    const w0 = lo2(wv), w1 = hi2(wv);
    if (wd != 0) {
      g0 = f64x2.add(g0, f64x2.mul(vwd, w0));
      g1 = f64x2.add(g1, f64x2.mul(vwd, w1));
    }
    const m4 = join4(f64x2.add(f64x2.mul(vb1, lo2(mv)), f64x2.mul(vc1, g0)), f64x2.add(f64x2.mul(vb1, hi2(mv)), f64x2.mul(vc1, g1)));
    const v4 = join4(
      f64x2.add(f64x2.mul(vb2, lo2(vv)), f64x2.mul(f64x2.mul(vc2, g0), g0)),
      f64x2.add(f64x2.mul(vb2, hi2(vv)), f64x2.mul(f64x2.mul(vc2, g1), g1)),
    );
    v128.store(at(m, i), m4);
    v128.store(at(v, i), v4);
    const u0 = f64x2.div(f64x2.mul(vlr, f64x2.div(lo2(m4), vk1)), f64x2.add(f64x2.sqrt(f64x2.div(lo2(v4), vk2)), veps));
    const u1 = f64x2.div(f64x2.mul(vlr, f64x2.div(hi2(m4), vk1)), f64x2.add(f64x2.sqrt(f64x2.div(hi2(v4), vk2)), veps));
    v128.store(at(w, i), join4(f64x2.sub(w0, u0), f64x2.sub(w1, u1)));
  }
  for (; i < hi; i++) {
    const gi = decayed(g, w, wd, i);
    st(m, i, b1 * ld(m, i) + (1 - b1) * gi);
    st(v, i, b2 * ld(v, i) + (1 - b2) * gi * gi);
    st(w, i, ld(w, i) - (lr * (ld(m, i) / c1)) / (Math.sqrt(ld(v, i) / c2) + eps));
  }
}

/** normalizeRows on the rows [lo, hi) of its R rows (out and norms offset to them): the row split over threads. */
export function normalizeRowsRange(out: usize, norms: usize, x: usize, row0: i32, n: i32, normalize: i32, eps: f64, lo: i32, hi: i32): void {
  normalizeRows(out + ((<usize>lo * <usize>n) << 2), norms + (<usize>lo << 2), x, row0 + lo, hi - lo, n, normalize, eps);
}

/** normalizeRowsBackward on the rows [lo, hi) of its R rows: the row split over threads. */
export function normalizeRowsBackwardRange(g: usize, x: usize, row0: i32, n: i32, dhat: usize, norms: usize, normalize: i32, lo: i32, hi: i32): void {
  normalizeRowsBackward(g, x, row0 + lo, hi - lo, n, dhat + ((<usize>lo * <usize>n) << 2), norms + (<usize>lo << 2), normalize);
}

/** Rows of the similarity kernels below handled together (their ĥ rows stay in the L1 cache). */
const SIM_BLOCK: i32 = 8;

/**
 * Rows [lo, hi) of sigprop's similarity logits: per block of rows, normalizeRowsRange of x's rows
 * (row0 = 0) into hHat and norms, then rowDots of those rows of hHat against the nt rows of tHat,
 * y = alpha·ĥ·t̂ᵀ (beta 0). The two kernels' arithmetic, per row, with each block's ĥ still in L1.
 */
export function simLogitsRange(
  hHat: usize, norms: usize, x: usize, n: i32, normalize: i32, eps: f64, tHat: usize, nt: i32, y: usize, alpha: f32, lo: i32, hi: i32,
): void {
  for (let b0 = lo; b0 < hi; b0 += SIM_BLOCK) {
    const b1 = min(hi, b0 + SIM_BLOCK);
    normalizeRowsRange(hHat, norms, x, 0, n, normalize, eps, b0, b1);
    rowDots(hi, nt, n, hHat, tHat, y, alpha, 0, b0, b1);
  }
}

/**
 * Rows [lo, hi) of the first stream's gradient of sigprop's similarity loss, two rows at a time:
 * dĥ_i = dy_i·t̂ (dy [R, nt], tHat [nt, n]; each sum from 0 with k ascending, as gemm's micro-kernel
 * does it for K = nt; 16 columns of two rows per pass, so each t̂ load serves both) into `row` (2n
 * floats of the thread's scratch), then normalizeRowsBackward of those rows into g (x's rows from
 * row0 = 0). The values of gemm into a stored dĥ followed by normalizeRowsBackward, without storing dĥ.
 */
export function simBackwardRange(
  g: usize, x: usize, n: i32, dy: usize, nt: i32, tHat: usize, norms: usize, normalize: i32, row: usize, lo: i32, hi: i32,
): void {
  const rowB = at(row, n);
  for (let i = lo; i < hi; i += 2) {
    const pair = i + 1 < hi;
    const d0 = at(dy, i * nt), d1 = pair ? at(dy, (i + 1) * nt) : d0;
    let j = 0;
    for (; j + 16 <= n; j += 16) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      for (let k = 0; k < nt; k++) {
        const t = at(tHat, k * n + j);
        const t0 = v128.load(t), t1 = v128.load(t, 16), t2 = v128.load(t, 32), t3 = v128.load(t, 48);
        const s = v128.load32_splat(at(d0, k)), u = v128.load32_splat(at(d1, k));
        a0 = f32x4.add(a0, f32x4.mul(s, t0)); a1 = f32x4.add(a1, f32x4.mul(s, t1));
        a2 = f32x4.add(a2, f32x4.mul(s, t2)); a3 = f32x4.add(a3, f32x4.mul(s, t3));
        b0 = f32x4.add(b0, f32x4.mul(u, t0)); b1 = f32x4.add(b1, f32x4.mul(u, t1));
        b2 = f32x4.add(b2, f32x4.mul(u, t2)); b3 = f32x4.add(b3, f32x4.mul(u, t3));
      }
      const o = at(row, j), p = at(rowB, j);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      v128.store(p, b0); v128.store(p, b1, 16); v128.store(p, b2, 32); v128.store(p, b3, 48);
    }
    for (; j < n; j++) {
      let a: f32 = 0, b: f32 = 0;
      for (let k = 0; k < nt; k++) {
        const t = load<f32>(at(tHat, k * n + j));
        a += load<f32>(at(d0, k)) * t;
        b += load<f32>(at(d1, k)) * t;
      }
      store<f32>(at(row, j), a);
      store<f32>(at(rowB, j), b);
    }
    normalizeRowsBackward(g, x, i, pair ? 2 : 1, n, row, norms + (<usize>i << 2), normalize);
  }
}
