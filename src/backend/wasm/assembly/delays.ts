// Per-connection synaptic delays (src/engine/delays.ts): propagation into a ring of pending input
// and the weight-gradient outer product from a ring of presynaptic traces. Scalar loops with the
// reference's arithmetic (product and sum in float64, stored as float32), so results are bitwise equal.

import { at } from './mem';

/**
 * ring [D·B, N] += for every non-zero s[b,k]: s[b,k]·W[k,n] into slot (t + d[k,n]) mod D, row b.
 * s: [B, K], W and d: [K, N] (d integer-valued floats in [0, D)).
 */
export function delayedSpikeMatmul(ring: usize, s: usize, w: usize, d: usize, B: i32, K: i32, N: i32, D: i32, t: i32): void {
  const BN = B * N;
  for (let b = 0; b < B; b++) {
    const row = b * N;
    for (let k = 0; k < K; k++) {
      const xv = <f64>load<f32>(at(s, b * K + k));
      if (xv == 0) continue;
      const wr = k * N;
      for (let n = 0; n < N; n++) {
        const slot = (t + <i32>load<f32>(at(d, wr + n))) % D;
        const p = at(ring, slot * BN + row + n);
        store<f32>(p, <f32>(<f64>load<f32>(p) + xv * <f64>load<f32>(at(w, wr + n))));
      }
    }
  }
}

/**
 * W[k,n] += alpha·Σ_b E[slot·B + b, k]·g[b,n], slot = (t − d[k,n]) mod D, for weight rows k in [k0, k1).
 * E: ring [D·B, K], g: [B, N], W and d: [K, N].
 */
export function delayedOuter(w: usize, ring: usize, g: usize, d: usize, B: i32, K: i32, N: i32, D: i32, t: i32, alpha: f64, k0: i32, k1: i32): void {
  const BK = B * K;
  for (let k = k0; k < k1; k++) {
    for (let n = 0; n < N; n++) {
      const i = k * N + n;
      let slot = (t - <i32>load<f32>(at(d, i))) % D;
      if (slot < 0) slot += D;
      const base = slot * BK + k;
      let acc: f64 = 0;
      for (let b = 0; b < B; b++) acc += <f64>load<f32>(at(ring, base + b * K)) * <f64>load<f32>(at(g, b * N + n));
      const p = at(w, i);
      store<f32>(p, <f32>(<f64>load<f32>(p) + alpha * acc));
    }
  }
}
