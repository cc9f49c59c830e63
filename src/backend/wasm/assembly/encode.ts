// Rate coding (AssemblyScript): Bernoulli spikes from the library's generator, xoshiro128**
// (src/rng.ts), so that the spikes are the ones the reference backend draws from the same state.
//   out[i] = 1 if p[i] > 0 and u < p[i] else 0, u = next / 2^32 drawn only where p[i] > 0, i ascending.
// A range [lo, hi) of the elements starts from the generator state after the draws of [0, lo):
// D = #{i < lo: p[i] > 0} steps ahead, reached by the jump table (the state transition is linear
// over GF(2), so D steps are the product of the matrices M^(2^j) of D's bits). Threads that run
// ranges draw exactly the numbers one thread running [0, n) draws.
// state: the start state (4 u32 words); the range that ends at n writes the state after its last
// draw to next (4 words; not state itself, which the other ranges of the call may still read): a
// backend that alternates two places draws call after call without the host reading the state.

@inline function rotl(x: u32, k: u32): u32 {
  return (x << k) | (x >>> (32 - k));
}

/** Matrices in the jump table: M^(2^j) for j < JUMP_BITS (any D < 2^32). */
const JUMP_BITS: i32 = 32;
/** Bytes of one matrix: 128 columns of 128 bits. */
const MATRIX_BYTES: i32 = 128 * 16;

/** Bytes of the jump table rngJumpInit fills. */
export function rngJumpTableBytes(): i32 {
  return JUMP_BITS * MATRIX_BYTES;
}

// The vector the matrices act on: wasm globals, so each thread's instance has its own.
let v0: u32 = 0, v1: u32 = 0, v2: u32 = 0, v3: u32 = 0;

/** (v0..v3) ← A·(v0..v3), A given by its 128 columns of 128 bits at `a`. */
function applyMatrix(a: usize): void {
  let r0: u32 = 0, r1: u32 = 0, r2: u32 = 0, r3: u32 = 0;
  for (let w = 0; w < 4; w++) {
    let bits = w == 0 ? v0 : w == 1 ? v1 : w == 2 ? v2 : v3;
    while (bits != 0) {
      const b = <i32>ctz(bits);
      bits &= bits - 1;
      const col = a + (<usize>((w << 5) + b) << 4);
      r0 ^= load<u32>(col); r1 ^= load<u32>(col, 4); r2 ^= load<u32>(col, 8); r3 ^= load<u32>(col, 12);
    }
  }
  v0 = r0; v1 = r1; v2 = r2; v3 = r3;
}

/** (v0..v3) ← M^d·(v0..v3): d generator steps ahead, by the bits of d. */
function jump(table: usize, d: u32): void {
  for (let j = 0; d != 0; j++, d >>= 1) if (d & 1) applyMatrix(table + <usize>(j * MATRIX_BYTES));
}

/** Fill the jump table: the columns of M (one generator step), then M^2, M^4, ... by squaring. */
export function rngJumpInit(table: usize): void {
  for (let c = 0; c < 128; c++) {
    let s0: u32 = 0, s1: u32 = 0, s2: u32 = 0, s3: u32 = 0;
    const bit: u32 = 1 << <u32>(c & 31);
    if (c < 32) s0 = bit; else if (c < 64) s1 = bit; else if (c < 96) s2 = bit; else s3 = bit;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
    const col = table + (<usize>c << 4);
    store<u32>(col, s0); store<u32>(col, s1, 4); store<u32>(col, s2, 8); store<u32>(col, s3, 12);
  }
  for (let j = 1; j < JUMP_BITS; j++) {
    const prev = table + <usize>((j - 1) * MATRIX_BYTES), cur = table + <usize>(j * MATRIX_BYTES);
    // column c of A·A = A·(column c of A)
    for (let c = 0; c < 128; c++) {
      const src = prev + (<usize>c << 4), dst = cur + (<usize>c << 4);
      v0 = load<u32>(src); v1 = load<u32>(src, 4); v2 = load<u32>(src, 8); v3 = load<u32>(src, 12);
      applyMatrix(prev);
      store<u32>(dst, v0); store<u32>(dst, v1, 4); store<u32>(dst, v2, 8); store<u32>(dst, v3, 12);
    }
  }
}

/** Number of i in [lo, hi) with p[i] > 0. */
function countPositive(p: usize, lo: i32, hi: i32): i32 {
  const zero = f32x4.splat(0);
  let acc = i32x4.splat(0);
  let i = lo;
  for (; i + 4 <= hi; i += 4) acc = i32x4.sub(acc, f32x4.gt(v128.load(p + (<usize>i << 2)), zero));
  let n = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; i < hi; i++) n += i32(load<f32>(p + (<usize>i << 2)) > 0);
  return n;
}

// The last range this thread's instance drew in a call (wasm globals: one set per thread): the call's
// tag, the range's bounds, the draws before each bound, and the generator state at its end. A thread
// that takes the next range of the same call continues from that state (no count, no jump); one that
// takes the range just before it counts only that range.
let chainCall: i32 = 0, chainLo: i32 = 0, chainHi: i32 = 0, chainLoDraws: i32 = 0, chainHiDraws: i32 = 0;
let chain0: u32 = 0, chain1: u32 = 0, chain2: u32 = 0, chain3: u32 = 0;

/**
 * Elements [lo, hi) of out from p (n elements in all); see the file comment for the state words.
 * `call`: a tag of the call (non-zero, the same for every range of one call, new for every call;
 * 0: no reuse of the previous range's state).
 */
export function rateSpikes(out: usize, p: usize, n: i32, state: usize, next: usize, table: usize, call: i32, lo: i32, hi: i32): void {
  let s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  let before = 0; // draws of [0, lo)
  const same = call != 0 && call == chainCall;
  if (same && lo == chainHi) {
    // the range after this thread's last one: its end state is this range's start state
    s0 = chain0; s1 = chain1; s2 = chain2; s3 = chain3;
    before = chainHiDraws;
  } else if (lo > 0) {
    // jump over the draws of [0, lo); counted from the range after it where this thread drew that one
    before = same && hi == chainLo ? chainLoDraws - countPositive(p, lo, hi) : countPositive(p, 0, lo);
    v0 = s0; v1 = s1; v2 = s2; v3 = s3;
    jump(table, <u32>before);
    s0 = v0; s1 = v1; s2 = v2; s3 = v3;
  }
  let draws = 0;
  const zero = f32x4.splat(0);
  const one: f32 = 1;
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const pv = v128.load(p + (<usize>i << 2));
    if (!v128.any_true(f32x4.gt(pv, zero))) {
      v128.store(out + (<usize>i << 2), zero);
      continue;
    }
    for (let l = 0; l < 4; l++) {
      // branch-free: the next state and the draw are computed always and kept only where p > 0
      // (the comparisons are data-dependent coin flips that a branch predictor cannot learn). Masks
      // and a conversion, not select: V8 compiled the f32 select to a branch, whose mispredictions
      // made a call 2x slower than the same call repeated from one state (which the predictor learns).
      const q = load<f32>(p + (<usize>(i + l) << 2));
      const take = i32(q > 0);
      const m: u32 = -<u32>take;
      const r = rotl(s1 * 5, 7) * 9;
      const t = s1 << 9;
      const n2 = s2 ^ s0, n3 = s3 ^ s1;
      const n1 = s1 ^ n2, n0 = s0 ^ n3;
      s0 ^= (n0 ^ s0) & m;
      s1 ^= (n1 ^ s1) & m;
      s2 ^= (n2 ^ t ^ s2) & m;
      s3 ^= (rotl(n3, 11) ^ s3) & m;
      draws += take;
      // u < q with u = r / 2^32  ⟺  r < q·2^32 (both sides exact in f64)
      store<f32>(out + (<usize>(i + l) << 2), <f32>(take & i32(<f64>r < <f64>q * 4294967296.0)));
    }
  }
  for (; i < hi; i++) {
    const q = load<f32>(p + (<usize>i << 2));
    let v: f32 = 0;
    if (q > 0) {
      const r = rotl(s1 * 5, 7) * 9;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
      draws++;
      if (<f64>r < <f64>q * 4294967296.0) v = one;
    }
    store<f32>(out + (<usize>i << 2), v);
  }
  chainCall = call; chainLo = lo; chainHi = hi; chainLoDraws = before; chainHiDraws = before + draws;
  chain0 = s0; chain1 = s1; chain2 = s2; chain3 = s3;
  if (hi == n) {
    store<u32>(next, s0); store<u32>(next, s1, 4); store<u32>(next, s2, 8); store<u32>(next, s3, 12);
  }
}

/**
 * Inverted-dropout mask on elements [lo, hi) of out (n elements): out[i] = 0 if u < p else keep for
 * i < nDraw, one u = next / 2^32 per element in order (Rng.fillDropMask's stream), and 1 for
 * nDraw ≤ i < n (rows that take no dropout). A range starting at lo < nDraw jumps the generator lo
 * steps (one draw per element, so no count is needed). state: the start at state[0..3]; the
 * range that draws the last element writes the state after it to state[4..7].
 */
export function dropMask(out: usize, n: i32, nDraw: i32, p: f64, keep: f32, state: usize, table: usize, lo: i32, hi: i32): void {
  const end = min(hi, nDraw);
  if (lo < end) {
    let s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
    if (lo > 0) {
      v0 = s0; v1 = s1; v2 = s2; v3 = s3;
      jump(table, <u32>lo);
      s0 = v0; s1 = v1; s2 = v2; s3 = v3;
    }
    // u < p  ⟺  r < p·2^32 (both sides exact in f64)
    const lim = p * 4294967296.0;
    for (let i = lo; i < end; i++) {
      const r = rotl(s1 * 5, 7) * 9;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
      // keep or 0 by a mask (a select compiled to a branch on a coin flip: see rateSpikes)
      store<f32>(out + (<usize>i << 2), reinterpret<f32>(reinterpret<u32>(keep) & (<u32>i32(<f64>r < lim) - 1)));
    }
    if (end == nDraw) {
      store<u32>(state, s0, 16); store<u32>(state, s1, 20); store<u32>(state, s2, 24); store<u32>(state, s3, 28);
    }
  }
  for (let i = max(lo, nDraw); i < hi; i++) store<f32>(out + (<usize>i << 2), 1);
}
