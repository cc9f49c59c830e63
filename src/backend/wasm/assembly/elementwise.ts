// Elementwise kernels, reductions and fused neuron steps (AssemblyScript, SIMD).
// Every kernel works on an element range [lo, hi) (or a row/column range) so that two threads
// can split the work. Pointers are byte offsets into the shared memory.
import { at } from './mem';

/** y = alpha·x + beta·y on [lo, hi). */
export function axpby(y: usize, x: usize, alpha: f32, beta: f32, lo: i32, hi: i32): void {
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const py = at(y, i);
    v128.store(py, f32x4.add(f32x4.mul(va, v128.load(at(x, i))), f32x4.mul(vb, v128.load(py))));
  }
  for (; i < hi; i++) store<f32>(at(y, i), alpha * load<f32>(at(x, i)) + beta * load<f32>(at(y, i)));
}

/** out = a ⊙ b on [lo, hi). */
export function mul(out: usize, a: usize, b: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) v128.store(at(out, i), f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
  for (; i < hi; i++) store<f32>(at(out, i), load<f32>(at(a, i)) * load<f32>(at(b, i)));
}

/** x[r,:] += v for rows r in [r0, r1). x: [B,N], v: [N]. */
export function addRow(x: usize, v: usize, N: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const row = at(x, r * N);
    let j = 0;
    for (; j + 4 <= N; j += 4) v128.store(at(row, j), f32x4.add(v128.load(at(row, j)), v128.load(at(v, j))));
    for (; j < N; j++) store<f32>(at(row, j), load<f32>(at(row, j)) + load<f32>(at(v, j)));
  }
}

/** out[n] = beta·out[n] + alpha·Σ_b x[b,n] for columns n in [c0, c1). beta = 0 never reads out. */
export function sumRows(out: usize, x: usize, B: i32, N: i32, alpha: f32, beta: f32, c0: i32, c1: i32): void {
  const rowBytes = <usize>N << 2;
  let j = c0;
  for (; j + 16 <= c1; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let p = at(x, j);
    for (let b = 0; b < B; b++) {
      a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
      p += rowBytes;
    }
    const o = at(out, j);
    const va = f32x4.splat(alpha);
    a0 = f32x4.mul(va, a0); a1 = f32x4.mul(va, a1); a2 = f32x4.mul(va, a2); a3 = f32x4.mul(va, a3);
    if (beta != 0) {
      const vb = f32x4.splat(beta);
      a0 = f32x4.add(a0, f32x4.mul(vb, v128.load(o))); a1 = f32x4.add(a1, f32x4.mul(vb, v128.load(o, 16)));
      a2 = f32x4.add(a2, f32x4.mul(vb, v128.load(o, 32))); a3 = f32x4.add(a3, f32x4.mul(vb, v128.load(o, 48)));
    }
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
  }
  for (; j < c1; j++) {
    let acc: f32 = 0;
    let p = at(x, j);
    for (let b = 0; b < B; b++) {
      acc += load<f32>(p);
      p += rowBytes;
    }
    const o = at(out, j);
    store<f32>(o, alpha * acc + (beta == 0 ? <f32>0 : beta * load<f32>(o)));
  }
}

/** x = value on [lo, hi). */
export function fill(x: usize, value: f32, lo: i32, hi: i32): void {
  const v = f32x4.splat(value);
  let i = lo;
  for (; i + 4 <= hi; i += 4) v128.store(at(x, i), v);
  for (; i < hi; i++) store<f32>(at(x, i), value);
}

/** dst = src on [lo, hi) (non-overlapping tensors). */
export function copy(dst: usize, src: usize, lo: i32, hi: i32): void {
  if (hi > lo) memory.copy(at(dst, lo), at(src, lo), <usize>(hi - lo) << 2);
}

/** Σ x on [lo, hi), accumulated in f64 (as `reference` does). */
export function sum(x: usize, lo: i32, hi: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const v = v128.load(at(x, i));
    a = f64x2.add(a, f64x2.promote_low_f32x4(v));
    b = f64x2.add(b, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
  }
  let acc = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < hi; i++) acc += <f64>load<f32>(at(x, i));
  return acc;
}

/** Σ x² on [lo, hi), accumulated in f64. */
export function sumSquares(x: usize, lo: i32, hi: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const v = v128.load(at(x, i));
    const lo2 = f64x2.promote_low_f32x4(v);
    const hi2 = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo2, lo2));
    b = f64x2.add(b, f64x2.mul(hi2, hi2));
  }
  let acc = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < hi; i++) {
    const v = <f64>load<f32>(at(x, i));
    acc += v * v;
  }
  return acc;
}

// ---- fused neuron steps ----
// reset: 0 subtract, 1 zero, 2 none. delay: 1 = reset from the previous step's spike (snnTorch).
// vmin: membrane floor applied after the update and reset (−Infinity: none).

@inline export function lifVec(u: v128, r: v128, inp: v128, vbeta: v128, vth: v128, vvmin: v128, reset: i32, delay: i32, spkOut: usize): v128 {
  let v: v128;
  if (delay != 0 && reset == 0) v = f32x4.sub(f32x4.add(f32x4.mul(vbeta, u), inp), f32x4.mul(r, vth));
  else if (delay != 0 && reset == 1) v = f32x4.add(f32x4.mul(f32x4.mul(vbeta, f32x4.sub(f32x4.splat(1), r)), u), inp);
  else v = f32x4.add(f32x4.mul(vbeta, u), inp);
  const m = f32x4.gt(v, vth);
  const one = f32x4.splat(1);
  v128.store(spkOut, v128.and(m, one));
  if (delay == 0) {
    if (reset == 0) v = f32x4.sub(v, v128.and(m, vth));
    else if (reset == 1) v = v128.andnot(v, m);
  }
  return f32x4.max(v, vvmin);
}

@inline export function lifScalar(u: f32, r: f32, inp: f32, beta: f32, th: f32, vmin: f32, reset: i32, delay: i32, spkOut: usize): f32 {
  let v: f32;
  if (delay != 0 && reset == 0) v = beta * u + inp - r * th;
  else if (delay != 0 && reset == 1) v = beta * (1 - r) * u + inp;
  else v = beta * u + inp;
  const spk: f32 = v > th ? 1 : 0;
  store<f32>(spkOut, spk);
  if (delay == 0 && spk != 0) {
    if (reset == 0) v -= th;
    else if (reset == 1) v = 0;
  }
  return v < vmin ? vmin : v;
}

/** LIF step on [lo, hi): u, s (previous spikes in, new spikes out), inp: flat [B·N]. */
export function lifStep(u: usize, s: usize, inp: usize, beta: f32, th: f32, vmin: f32, reset: i32, delay: i32, lo: i32, hi: i32): void {
  const vbeta = f32x4.splat(beta), vth = f32x4.splat(th), vvmin = f32x4.splat(vmin);
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const pu = at(u, i), ps = at(s, i);
    v128.store(pu, lifVec(v128.load(pu), v128.load(ps), v128.load(at(inp, i)), vbeta, vth, vvmin, reset, delay, ps));
  }
  for (; i < hi; i++) {
    const pu = at(u, i), ps = at(s, i);
    store<f32>(pu, lifScalar(load<f32>(pu), load<f32>(ps), load<f32>(at(inp, i)), beta, th, vmin, reset, delay, ps));
  }
}

/** Synaptic LIF step on [lo, hi): isyn = alpha·isyn + inp, then the LIF step driven by isyn. */
export function synapticStep(
  u: usize, isyn: usize, s: usize, inp: usize, alpha: f32, beta: f32, th: f32, vmin: f32, reset: i32, delay: i32, lo: i32, hi: i32,
): void {
  const valpha = f32x4.splat(alpha), vbeta = f32x4.splat(beta), vth = f32x4.splat(th), vvmin = f32x4.splat(vmin);
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const pu = at(u, i), ps = at(s, i), pj = at(isyn, i);
    const j = f32x4.add(f32x4.mul(valpha, v128.load(pj)), v128.load(at(inp, i)));
    v128.store(pj, j);
    v128.store(pu, lifVec(v128.load(pu), v128.load(ps), j, vbeta, vth, vvmin, reset, delay, ps));
  }
  for (; i < hi; i++) {
    const pu = at(u, i), ps = at(s, i), pj = at(isyn, i);
    const j = alpha * load<f32>(pj) + load<f32>(at(inp, i));
    store<f32>(pj, j);
    store<f32>(pu, lifScalar(load<f32>(pu), load<f32>(ps), j, beta, th, vmin, reset, delay, ps));
  }
}

/** Number of non-zero elements on [lo, hi) (decides sparse vs dense paths). */
export function countNonZero(x: usize, lo: i32, hi: i32): i32 {
  const zero = f32x4.splat(0);
  let acc = i32x4.splat(0);
  let i = lo;
  for (; i + 4 <= hi; i += 4) acc = i32x4.sub(acc, f32x4.ne(v128.load(at(x, i)), zero));
  let n = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; i < hi; i++) if (load<f32>(at(x, i)) != 0) n++;
  return n;
}

/** counts[b] = number of non-zero values in row b of x [*, K] (i32 per row), rows [b0, b1). */
export function rowNonZero(x: usize, K: i32, counts: usize, b0: i32, b1: i32): void {
  for (let b = b0; b < b1; b++) store<i32>(counts + (<usize>b << 2), countNonZero(at(x, b * K), 0, K));
}
