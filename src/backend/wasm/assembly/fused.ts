// Fused neuron step (AssemblyScript, SIMD): in one pass over the neurons on [lo, hi)
//   synaptic current (isyn ≠ 0): I_syn = alpha·I_syn + I, used as the LIF input;
//   LIF update with reset, spike and membrane floor (as lifStep);
//   f(U − θ) → fOut and/or f'(U − θ) → dfOut of the new membrane (kind ≠ 0; 0 pointers skip).
import { lifScalar, lifVec } from './elementwise';
import { at } from './mem';
import { sgHasVector, sgScalar, sgVector } from './surrogate';

export function neuronFused(
  u: usize, isyn: usize, s: usize, inp: usize, alpha: f32, beta: f32, th: f32, vmin: f32, reset: i32, delay: i32,
  kind: i32, p: f32, q: f32, fOut: usize, dfOut: usize, lo: i32, hi: i32,
): void {
  const valpha = f32x4.splat(alpha), vbeta = f32x4.splat(beta), vth = f32x4.splat(th), vvmin = f32x4.splat(vmin);
  const vecF = fOut != 0 && sgHasVector(kind, 0);
  const vecDf = dfOut != 0 && sgHasVector(kind, 1);
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const pu = at(u, i), ps = at(s, i);
    let cur = v128.load(at(inp, i));
    if (isyn != 0) {
      const pj = at(isyn, i);
      cur = f32x4.add(f32x4.mul(valpha, v128.load(pj)), cur);
      v128.store(pj, cur);
    }
    const v = lifVec(v128.load(pu), v128.load(ps), cur, vbeta, vth, vvmin, reset, delay, ps);
    v128.store(pu, v);
    if (kind != 0) {
      const x = f32x4.sub(v, vth);
      if (vecF) v128.store(at(fOut, i), sgVector(kind, x, p, q, 0));
      else if (fOut != 0) for (let l = 0; l < 4; l++) store<f32>(at(fOut, i + l), sgScalar(kind, load<f32>(at(u, i + l)) - th, p, q, 0));
      if (vecDf) v128.store(at(dfOut, i), sgVector(kind, x, p, q, 1));
      else if (dfOut != 0) for (let l = 0; l < 4; l++) store<f32>(at(dfOut, i + l), sgScalar(kind, load<f32>(at(u, i + l)) - th, p, q, 1));
    }
  }
  for (; i < hi; i++) {
    const pu = at(u, i), ps = at(s, i);
    let cur = load<f32>(at(inp, i));
    if (isyn != 0) {
      const pj = at(isyn, i);
      cur = alpha * load<f32>(pj) + cur;
      store<f32>(pj, cur);
    }
    const v = lifScalar(load<f32>(pu), load<f32>(ps), cur, beta, th, vmin, reset, delay, ps);
    store<f32>(pu, v);
    if (kind != 0) {
      if (fOut != 0) store<f32>(at(fOut, i), sgScalar(kind, v - th, p, q, 0));
      if (dfOut != 0) store<f32>(at(dfOut, i), sgScalar(kind, v - th, p, q, 1));
    }
  }
}

/**
 * The tail of a spiking sigprop hidden layer's step on [lo, hi) (Backend.gradTail): g = 0 from
 * element keepEnd on (the target-stream rows), g ·= mask (mask ≠ 0), g ·= d, and count += s
 * (count ≠ 0). The same float32 operations, in the same order, as fill, mul, mul and axpby(1, 1),
 * in one pass.
 */
export function gradTail(g: usize, d: usize, mask: usize, keepEnd: i32, count: usize, s: usize, lo: i32, hi: i32): void {
  const mid = min(max(keepEnd, lo), hi);
  if (mask == 0 && count != 0) {
    // the common case (no dropout mask, spike counts): one loop without branches
    const one = f32x4.splat(1);
    let i = lo;
    for (; i + 4 <= mid; i += 4) {
      const pg = at(g, i), pc = at(count, i);
      v128.store(pg, f32x4.mul(v128.load(pg), v128.load(at(d, i))));
      v128.store(pc, f32x4.add(f32x4.mul(one, v128.load(at(s, i))), f32x4.mul(one, v128.load(pc))));
    }
    if (i == mid) {
      const zero = f32x4.splat(0);
      for (; i + 4 <= hi; i += 4) {
        const pc = at(count, i);
        v128.store(at(g, i), f32x4.mul(zero, v128.load(at(d, i))));
        v128.store(pc, f32x4.add(f32x4.mul(one, v128.load(at(s, i))), f32x4.mul(one, v128.load(pc))));
      }
    }
    for (; i < hi; i++) {
      const pg = at(g, i);
      const v: f32 = i < keepEnd ? load<f32>(pg) : 0;
      store<f32>(pg, v * load<f32>(at(d, i)));
      store<f32>(at(count, i), load<f32>(at(s, i)) + load<f32>(at(count, i)));
    }
    return;
  }
  for (let i = lo; i < hi; i++) {
    const pg = at(g, i);
    let v: f32 = i < keepEnd ? load<f32>(pg) : 0;
    if (mask != 0) v = v * load<f32>(at(mask, i));
    store<f32>(pg, v * load<f32>(at(d, i)));
    if (count != 0) store<f32>(at(count, i), load<f32>(at(s, i)) + load<f32>(at(count, i)));
  }
}
