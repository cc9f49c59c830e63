// Rate coding (AssemblyScript): Bernoulli spikes from the library's generator, xoshiro128**
// (src/rng.ts), so that the spikes are the ones the reference backend draws from the same state.
//   out[i] = 1 if p[i] > 0 and u < p[i] else 0, u = next / 2^32 drawn only where p[i] > 0, i ascending.
// state: 4 u32 words (s0..s3) read on entry and written back on exit.

@inline function rotl(x: u32, k: u32): u32 {
  return (x << k) | (x >>> (32 - k));
}

export function rateSpikes(out: usize, p: usize, n: i32, state: usize): void {
  let s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  const zero = f32x4.splat(0);
  const one: f32 = 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const pv = v128.load(p + (<usize>i << 2));
    if (!v128.any_true(f32x4.gt(pv, zero))) {
      v128.store(out + (<usize>i << 2), zero);
      continue;
    }
    for (let l = 0; l < 4; l++) {
      const q = load<f32>(p + (<usize>(i + l) << 2));
      let v: f32 = 0;
      if (q > 0) {
        const r = rotl(s1 * 5, 7) * 9;
        const t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
        if (<f64>r / 4294967296.0 < <f64>q) v = one;
      }
      store<f32>(out + (<usize>(i + l) << 2), v);
    }
  }
  for (; i < n; i++) {
    const q = load<f32>(p + (<usize>i << 2));
    let v: f32 = 0;
    if (q > 0) {
      const r = rotl(s1 * 5, 7) * 9;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
      if (<f64>r / 4294967296.0 < <f64>q) v = one;
    }
    store<f32>(out + (<usize>i << 2), v);
  }
  store<u32>(state, s0); store<u32>(state, s1, 4); store<u32>(state, s2, 8); store<u32>(state, s3, 12);
}
