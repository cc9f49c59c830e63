// Fused neuron step (AssemblyScript, SIMD): in one pass over the neurons on [lo, hi)
//   synaptic current (isyn ≠ 0): I_syn = alpha·I_syn + I, used as the LIF input;
//   LIF update with reset, spike and membrane floor (as lifStep);
//   f(U − θ) → fOut and/or f'(U − θ) → dfOut of the new membrane (kind ≠ 0; 0 pointers skip).
import { lifScalar, lifVec } from './elementwise';
import { sgHasVector, sgScalar, sgVector } from './surrogate';

@inline function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

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
