// Neuron-model steps with float64 state arithmetic (the reference's host kernels,
// src/backend/host-kernels.ts): the leaky integrator, Izhikevich and AdEx. Elementwise on [lo, hi);
// float32 only where a value is stored.

import { activation } from './losses';

import { at, ld, st } from './mem';

/**
 * Leaky integrator on [lo, hi): h = h + gain·(I − h); then, for kind ≥ 0 (a native activation of
 * losses.ts `activation`), a = φ(h) of the stored h. kind −1 leaves a to the caller.
 */
export function leakyStep(h: usize, a: usize, inp: usize, gain: f64, kind: i32, lo: i32, hi: i32): void {
  for (let i = lo; i < hi; i++) {
    const v = ld(h, i);
    st(h, i, v + gain * (ld(inp, i) - v));
  }
  if (kind >= 0) activation(a, h, kind, 0, lo, hi);
}

/** Izhikevich step on [lo, hi): nSub Euler substeps of hMs with reset at vPeak; writes v, u, s. */
export function izhikevichStep(
  vp: usize, up: usize, sp: usize, inp: usize, a: f64, b: f64, c: f64, d: f64, vPeak: f64, nSub: i32, h: f64, lo: i32, hi: i32,
): void {
  for (let i = lo; i < hi; i++) {
    let v = ld(vp, i), u = ld(up, i), spk: f64 = 0;
    const x = ld(inp, i);
    for (let k = 0; k < nSub; k++) {
      v += h * (0.04 * v * v + 5 * v + 140 - u + x);
      u += h * a * (b * v - u);
      if (v >= vPeak) {
        v = c;
        u += d;
        spk = 1;
      }
    }
    st(vp, i, v);
    st(up, i, u);
    st(sp, i, spk);
  }
}

/** AdEx step on [lo, hi): nSub Euler substeps of hMs (exp argument clamped), reset above Vpeak; writes v, w, s. */
export function adexStep(
  vp: usize, wp: usize, sp: usize, inp: usize, C: f64, gL: f64, EL: f64, deltaT: f64, VT: f64, tauW: f64, a: f64, b: f64,
  Vr: f64, Vpeak: f64, nSub: i32, h: f64, lo: i32, hi: i32,
): void {
  const maxArg = (Vpeak - VT) / deltaT;
  for (let i = lo; i < hi; i++) {
    let v = ld(vp, i), w = ld(wp, i), spk: f64 = 0;
    const x = ld(inp, i);
    for (let k = 0; k < nSub; k++) {
      const arg = Math.min((v - VT) / deltaT, maxArg);
      const dv = (-gL * (v - EL) + gL * deltaT * Math.exp(arg) - w + x) / C;
      const dw = (a * (v - EL) - w) / tauW;
      v += h * dv;
      w += h * dw;
      if (v > Vpeak) {
        v = Vr;
        w += b;
        spk = 1;
      }
    }
    st(vp, i, v);
    st(wp, i, w);
    st(sp, i, spk);
  }
}
