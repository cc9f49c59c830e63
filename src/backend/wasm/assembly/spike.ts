// Event-driven (spike) kernels (AssemblyScript, SIMD).
// spikeMatmul: out[b,:] = beta·c[b,:] + Σ_{k: s[b,k]≠0} s[b,k]·W[k,:], W: [K,N] (c: out itself, or
//   another [B,N] the beta term is read from: the input reference's base current, no copy into out).
//   The active list of every batch row is built once per call (SIMD scan of s), then columns are
//   processed in panels of 16 (4 f32x4 accumulators kept in registers; 8 accumulators over 32
//   columns measured no faster) with the panel outer and the batch inner, so the W column panel
//   (64 bytes per row of W, 50 KB for 784 inputs) stays in the L1 cache (16-column panels measured
//   3-5% faster than 32-column ones). The lists hold byte offsets of W rows (no
//   multiply on the address of each load: 6-7% faster than indices). Rows whose active values are all 1
//   (binary spikes) take an add-only path; rows whose active values are all one other value c
//   (spikes scaled by inverted dropout) sum with adds only and scale once by c.
// spikeOuter: W[k,:] += alpha·Σ_b s[b,k]·g[b,:] over non-zero s[b,k] only, k in [k0, k1).
//   Per weight row k the non-zeros of column k are compacted once; when they take at most two
//   values (spikes, possibly scaled per stream) the g rows of each value are summed with adds only
//   and each sum scaled once.

import { countNonZero } from './elementwise';
import { at } from './mem';

/** Bytes of scratch spikeMatmul needs for B rows of K inputs: the lists, counts, flags and one 16-column panel. */
export function spikeScratchBytes(B: i32, K: i32): i32 {
  return (2 * B * K + 2 * B + 16) * 4;
}

/**
 * Byte shuffles that pack the lanes selected by a 4-bit mask to the front of a vector (16 masks ×
 * 16 bytes), for the branch-free list building below.
 */
const PACK: usize = memory.data<u8>([
  0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, // 0000
  0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, // 0001: lane 0
  4, 5, 6, 7, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, // 0010: lane 1
  0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 0, 1, 2, 3, // 0011
  8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, // 0100
  0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3, // 0101
  4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3, // 0110
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, // 0111
  12, 13, 14, 15, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, // 1000
  0, 1, 2, 3, 12, 13, 14, 15, 0, 1, 2, 3, 0, 1, 2, 3, // 1001
  4, 5, 6, 7, 12, 13, 14, 15, 0, 1, 2, 3, 0, 1, 2, 3, // 1010
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 0, 1, 2, 3, // 1011
  8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 0, 1, 2, 3, // 1100
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, // 1101
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, // 1110
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, // 1111
]);

/**
 * Scan row `srow` of K values; write active indices/values (in order of k); return the count;
 * flag[0] = 1 if all active values are 1, 2 if they are all equal to another value, else 0. Branch-free: every 4 values are packed with a shuffle
 * and stored whole (the list has room for K entries; near its end lanes are stored one by one).
 */
function buildList(srow: usize, K: i32, idx: usize, val: usize, flag: usize): i32 {
  // flag 0: no flag wanted (the caller treats every list as valued)
  let n = 0;
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let other = i32x4.splat(0);
  let kv = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const v = v128.load(at(srow, k));
    const m = f32x4.ne(v, zero);
    other = v128.or(other, v128.and(m, f32x4.ne(v, one)));
    const bits = i32x4.bitmask(m);
    const shuf = v128.load(PACK + (<usize>bits << 4));
    if (n + 4 <= K) {
      v128.store(at(idx, n), i8x16.swizzle(kv, shuf));
      v128.store(at(val, n), i8x16.swizzle(v, shuf));
    } else {
      for (let l = 0; l < 4; l++) {
        const x = load<f32>(at(srow, k + l));
        if (x != 0) {
          const o = n + <i32>popcnt(bits & ((1 << l) - 1));
          store<i32>(at(idx, o), k + l);
          store<f32>(at(val, o), x);
        }
      }
    }
    n += <i32>popcnt(bits);
    kv = i32x4.add(kv, four);
  }
  let binary = v128.any_true(other) ? 0 : 1;
  for (; k < K; k++) {
    const x = load<f32>(at(srow, k));
    if (x != 0) {
      store<i32>(at(idx, n), k);
      store<f32>(at(val, n), x);
      if (x != 1) binary = 0;
      n++;
    }
  }
  if (flag == 0) return n;
  if (binary == 0 && n > 0) {
    // every active value the same (e.g. spikes scaled by inverted dropout): flag 2, the value is val[0]
    const c0 = load<f32>(val);
    let same = 1;
    for (let i = 1; i < n; i++) same &= i32(load<f32>(at(val, i)) == c0);
    if (same) binary = 2;
  }
  store<i32>(flag, binary);
  return n;
}

/**
 * Accumulate 16 columns starting at column offset `col` (bytes) of W for one active list: the beta
 * term is read at `o` (the output row itself, or the row of spikeMatmul's c), the new values stored
 * at `dst` (the output row, or a temporary panel).
 */
function chunk16(o: usize, dst: usize, w: usize, col: usize, idx: usize, val: usize, n: i32, flag: i32, beta: f32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  if (beta != 0 && flag != 2) {
    const vb = f32x4.splat(beta);
    a0 = f32x4.mul(vb, v128.load(o)); a1 = f32x4.mul(vb, v128.load(o, 16));
    a2 = f32x4.mul(vb, v128.load(o, 32)); a3 = f32x4.mul(vb, v128.load(o, 48));
  }
  const base = w + col;
  if (flag != 0) {
    for (let i = 0; i < n; i++) {
      const p = base + <usize>load<i32>(at(idx, i));
      a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
    }
    if (flag == 2) {
      // one value c for every active input: c·Σ W rows (+ beta·out), adds only in the loop
      const vc = v128.load32_splat(val);
      a0 = f32x4.mul(vc, a0); a1 = f32x4.mul(vc, a1); a2 = f32x4.mul(vc, a2); a3 = f32x4.mul(vc, a3);
      if (beta != 0) {
        const vb = f32x4.splat(beta);
        a0 = f32x4.add(f32x4.mul(vb, v128.load(o)), a0); a1 = f32x4.add(f32x4.mul(vb, v128.load(o, 16)), a1);
        a2 = f32x4.add(f32x4.mul(vb, v128.load(o, 32)), a2); a3 = f32x4.add(f32x4.mul(vb, v128.load(o, 48)), a3);
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const p = base + <usize>load<i32>(at(idx, i));
      const s = v128.load32_splat(at(val, i));
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(p))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(p, 16)));
      a2 = f32x4.add(a2, f32x4.mul(s, v128.load(p, 32))); a3 = f32x4.add(a3, f32x4.mul(s, v128.load(p, 48)));
    }
  }
  v128.store(dst, a0); v128.store(dst, a1, 16); v128.store(dst, a2, 32); v128.store(dst, a3, 48);
}

/** Copy lanes [keep, 16) of a 16-float panel at `tmp` to `dst` (the new columns of a shifted last panel). */
@inline function panelTail(dst: usize, tmp: usize, keep: i32): void {
  for (let l = keep; l < 16; l++) store<f32>(at(dst, l), load<f32>(at(tmp, l)));
}

/** Accumulate 4 columns (one vector): the beta term read at `o`, the result stored at `dst`. */
function chunk4(o: usize, dst: usize, w: usize, col: usize, idx: usize, val: usize, n: i32, beta: f32): void {
  let a = beta == 0 ? f32x4.splat(0) : f32x4.mul(f32x4.splat(beta), v128.load(o));
  const base = w + col;
  for (let i = 0; i < n; i++) {
    const p = base + <usize>load<i32>(at(idx, i));
    a = f32x4.add(a, f32x4.mul(v128.load32_splat(at(val, i)), v128.load(p)));
  }
  v128.store(dst, a);
}

/** Accumulate 1 column (the beta term read at `o`, the result stored at `dst`). */
function chunk1(o: usize, dst: usize, w: usize, col: usize, idx: usize, val: usize, n: i32, beta: f32): void {
  let a: f32 = beta == 0 ? 0 : beta * load<f32>(o);
  const base = w + col;
  for (let i = 0; i < n; i++) {
    a += load<f32>(at(val, i)) * load<f32>(base + <usize>load<i32>(at(idx, i)));
  }
  store<f32>(dst, a);
}

/** Turn the n input indices of a list into byte offsets k·rowBytes of rows of W (in place). */
@inline function toOffsets(il: usize, n: i32, rowBytes: i32): void {
  const vr = i32x4.splat(rowBytes);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(il, i), i32x4.mul(v128.load(at(il, i)), vr));
  for (; i < n; i++) store<i32>(at(il, i), load<i32>(at(il, i)) * rowBytes);
}

/**
 * Build the active lists of all B rows of s [B,K] into scratch (once per call, before spikeColumns),
 * each active input k stored as the byte offset k·rowBytes of its row of W
 * (rowBytes = 4·N), so the column kernels add no multiply to the address of their loads.
 */
export function spikeLists(B: i32, K: i32, s: usize, scratch: usize, rowBytes: i32): void {
  const idxBase = scratch;
  const valBase = at(scratch, B * K);
  const cnt = at(scratch, 2 * B * K);
  const flags = at(scratch, 2 * B * K + B);
  for (let b = 0; b < B; b++) {
    const n = buildList(at(s, b * K), K, at(idxBase, b * K), at(valBase, b * K), at(flags, b));
    store<i32>(at(cnt, b), n);
    toOffsets(at(idxBase, b * K), n, rowBytes);
  }
}

/**
 * Columns [j0, j1) of out for all B rows. s: [B,K], w: [K,N] with rows ldw ≥ N floats apart (N, or
 * a padded copy: see padRows), out and c: [B,N] (c = out: in place; the beta term is read from c).
 */
export function spikeMatmul(B: i32, K: i32, N: i32, s: usize, w: usize, ldw: i32, out: usize, c: usize, beta: f32, j0: i32, j1: i32, scratch: usize): void {
  if (B == 0 || j1 <= j0) return;
  spikeLists(B, K, s, scratch, ldw << 2);
  spikeColumns(B, K, N, w, out, c, beta, j0, j1, scratch);
}

/**
 * Rows [b0, b1) of out, all columns: the active lists of those rows are built in `scratch` (sized
 * for b1 − b0 rows), then the column panels as spikeMatmul. A thread that runs a range of rows reads
 * only its rows of s and writes only its rows of out; per element the same sums as spikeMatmul.
 */
export function spikeMatmulRows(B: i32, K: i32, N: i32, s: usize, w: usize, ldw: i32, out: usize, c: usize, beta: f32, b0: i32, b1: i32, scratch: usize): void {
  if (b1 <= b0 || b0 >= B) return;
  spikeMatmul(b1 - b0, K, N, at(s, b0 * K), w, ldw, at(out, b0 * N), at(c, b0 * N), beta, 0, N, scratch);
}

/**
 * d = x − r and counts[b] = the non-zeros of row b of d, rows [b0, b1) of [*, K] (i32 counts): the
 * difference from the input reference that spikeMatmul then propagates, and the counts that choose
 * its event or GEMM path, in one call (per element the same value as axpby(d, r, −1, 1) after a copy
 * of x into d; each row counted by countNonZero right after it is written, still in the L1 cache).
 */
export function rowDiffNonZero(x: usize, r: usize, d: usize, K: i32, counts: usize, b0: i32, b1: i32): void {
  for (let b = b0; b < b1; b++) {
    const o = b * K;
    let i = 0;
    for (; i + 4 <= K; i += 4) v128.store(at(d, o + i), f32x4.sub(v128.load(at(x, o + i)), v128.load(at(r, o + i))));
    for (; i < K; i++) store<f32>(at(d, o + i), load<f32>(at(x, o + i)) - load<f32>(at(r, o + i)));
    store<i32>(counts + (<usize>b << 2), countNonZero(at(d, o), 0, K));
  }
}

/**
 * Rows [r0, r1) of x [R, C] copied to dst with rows ld floats apart. The spike kernels read a
 * 16-column panel of every active row of W (or g) in turn; when rows lie a multiple of 512 bytes
 * apart, all of a panel falls into a few cache sets and does not stay in the L1 and L2 caches
 * (C = 1024 ran at 0.45x the speed of C = 1000). A copy with rows ld = C + 16 floats apart spreads
 * the panel over every set. Which widths are copied: src/backend/wasm/backend.ts PAD_COLUMNS.
 */
export function padRows(dst: usize, x: usize, C: i32, ld: i32, r0: i32, r1: i32): void {
  const bytes = <usize>C << 2;
  for (let r = r0; r < r1; r++) memory.copy(at(dst, r * ld), at(x, r * C), bytes);
}

/**
 * Columns [j0, j1) of out from the lists spikeLists built in `scratch`. Columns left over after the
 * 16-column panels (N not a multiple of 16, e.g. 8 of 1000) take one more panel shifted left to end
 * at j1, computed into a temporary panel of which only the new columns are kept (per element the
 * same sum as a panel of its own; before, 4-column and 1-column passes with one accumulator, whose
 * chained adds made 8 columns cost as much as 20).
 */
export function spikeColumns(B: i32, K: i32, N: i32, w: usize, out: usize, c: usize, beta: f32, j0: i32, j1: i32, scratch: usize): void {
  if (B == 0 || j1 <= j0) return;
  const idxBase = scratch;
  const valBase = at(scratch, B * K);
  const cnt = at(scratch, 2 * B * K);
  const flags = at(scratch, 2 * B * K + B);
  let j = j0;
  for (; j + 16 <= j1; j += 16) {
    const col = <usize>j << 2;
    for (let b = 0; b < B; b++) {
      const n = load<i32>(at(cnt, b)), flag = load<i32>(at(flags, b));
      chunk16(at(c, b * N + j), at(out, b * N + j), w, col, at(idxBase, b * K), at(valBase, b * K), n, flag, beta);
    }
  }
  if (j < j1 && j1 >= 16) {
    const c0 = j1 - 16, keep = j - c0;
    const tmp = at(scratch, 2 * B * K + 2 * B);
    for (let b = 0; b < B; b++) {
      const n = load<i32>(at(cnt, b)), flag = load<i32>(at(flags, b));
      chunk16(at(c, b * N + c0), tmp, w, <usize>c0 << 2, at(idxBase, b * K), at(valBase, b * K), n, flag, beta);
      panelTail(at(out, b * N + c0), tmp, keep);
    }
    j = j1;
  }
  for (; j + 4 <= j1; j += 4) {
    for (let b = 0; b < B; b++) {
      chunk4(at(c, b * N + j), at(out, b * N + j), w, <usize>j << 2, at(idxBase, b * K), at(valBase, b * K), load<i32>(at(cnt, b)), beta);
    }
  }
  for (; j < j1; j++) {
    for (let b = 0; b < B; b++) {
      chunk1(at(c, b * N + j), at(out, b * N + j), w, <usize>j << 2, at(idxBase, b * K), at(valBase, b * K), load<i32>(at(cnt, b)), beta);
    }
  }
}

/** Bytes of scratch spikeOuter needs for B rows: the lists and one 16-column panel. */
export function outerScratchBytes(B: i32): i32 {
  return (4 * B + 16) * 4;
}

// One 16-column panel of a weight row: the new values of W[k, j..j+16) from the previous ones at
// `src`, stored at `dst` (src itself, or a temporary panel); gc: the column j of g (bytes).

/** Spikes of two values: va·Σ_{idxA} g + vb·Σ_{idxB} g added once, sums with adds only. */
@inline function outerPanel2(src: usize, dst: usize, gc: usize, idxA: usize, nA: i32, idxB: usize, nB: i32, va: v128, vb: v128, rowBytes: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  for (let i = 0; i < nA; i++) {
    const q = gc + <usize>load<i32>(at(idxA, i)) * rowBytes;
    a0 = f32x4.add(a0, v128.load(q)); a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32)); a3 = f32x4.add(a3, v128.load(q, 48));
  }
  for (let i = 0; i < nB; i++) {
    const q = gc + <usize>load<i32>(at(idxB, i)) * rowBytes;
    b0 = f32x4.add(b0, v128.load(q)); b1 = f32x4.add(b1, v128.load(q, 16));
    b2 = f32x4.add(b2, v128.load(q, 32)); b3 = f32x4.add(b3, v128.load(q, 48));
  }
  v128.store(dst, f32x4.add(v128.load(src), f32x4.add(f32x4.mul(va, a0), f32x4.mul(vb, b0))));
  v128.store(dst, f32x4.add(v128.load(src, 16), f32x4.add(f32x4.mul(va, a1), f32x4.mul(vb, b1))), 16);
  v128.store(dst, f32x4.add(v128.load(src, 32), f32x4.add(f32x4.mul(va, a2), f32x4.mul(vb, b2))), 32);
  v128.store(dst, f32x4.add(v128.load(src, 48), f32x4.add(f32x4.mul(va, a3), f32x4.mul(vb, b3))), 48);
}

/** Spikes of one value: vc·Σ g added once. */
@inline function outerPanel1(src: usize, dst: usize, gc: usize, idx: usize, n: i32, vc: v128, rowBytes: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let i = 0; i < n; i++) {
    const q = gc + <usize>load<i32>(at(idx, i)) * rowBytes;
    a0 = f32x4.add(a0, v128.load(q)); a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32)); a3 = f32x4.add(a3, v128.load(q, 48));
  }
  v128.store(dst, f32x4.add(v128.load(src), f32x4.mul(vc, a0)));
  v128.store(dst, f32x4.add(v128.load(src, 16), f32x4.mul(vc, a1)), 16);
  v128.store(dst, f32x4.add(v128.load(src, 32), f32x4.mul(vc, a2)), 32);
  v128.store(dst, f32x4.add(v128.load(src, 48), f32x4.mul(vc, a3)), 48);
}

/** Any values: W + Σ_i c_i·g_i, added one by one (b ascending). */
@inline function outerPanelValued(src: usize, dst: usize, gc: usize, idx: usize, val: usize, n: i32, rowBytes: usize): void {
  let a0 = v128.load(src), a1 = v128.load(src, 16), a2 = v128.load(src, 32), a3 = v128.load(src, 48);
  for (let i = 0; i < n; i++) {
    const q = gc + <usize>load<i32>(at(idx, i)) * rowBytes;
    const c = v128.load32_splat(at(val, i));
    a0 = f32x4.add(a0, f32x4.mul(c, v128.load(q))); a1 = f32x4.add(a1, f32x4.mul(c, v128.load(q, 16)));
    a2 = f32x4.add(a2, f32x4.mul(c, v128.load(q, 32))); a3 = f32x4.add(a3, f32x4.mul(c, v128.load(q, 48)));
  }
  v128.store(dst, a0); v128.store(dst, a1, 16); v128.store(dst, a2, 32); v128.store(dst, a3, 48);
}

/**
 * W[k,:] += alpha·Σ_b s[b,k]·g[b,:] for k in [k0, k1). s: [B,K], g: [B,N] with rows ldg ≥ N floats
 * apart (see padRows), w: [K,N]. Columns left over after the 16-column panels take one more panel
 * shifted left to end at N, computed into a temporary panel of which only the new columns are kept
 * (as spikeColumns).
 */
export function spikeOuter(B: i32, K: i32, N: i32, s: usize, g: usize, ldg: i32, w: usize, alpha: f32, k0: i32, k1: i32, scratch: usize): void {
  const idx = scratch;
  const val = at(scratch, B);
  const idxA = at(scratch, 2 * B);
  const idxB = at(scratch, 3 * B);
  const tmp = at(scratch, 4 * B);
  const rowBytes = <usize>ldg << 2;
  // the shifted last panel: columns [c0, N), of which [c0, jt) are the previous panel's
  const jt = N & ~15, c0 = N - 16, keep = jt - c0;
  const shifted = jt < N && N >= 16;
  for (let k = k0; k < k1; k++) {
    // Branch-free compaction of the non-zeros of column k (no mispredictions at 10-50% density).
    let n = 0;
    let p = at(s, k);
    const stride = <usize>K << 2;
    for (let b = 0; b < B; b++) {
      const x = load<f32>(p);
      p += stride;
      store<i32>(at(idx, n), b);
      store<f32>(at(val, n), alpha * x);
      n += i32(x != 0);
    }
    if (n == 0) continue;
    const wr = at(w, k * N);
    let j = 0;
    // Spikes (every non-zero one of at most two values v0, v1, e.g. input spikes of 1.25 after
    // inverted dropout and target-stream spikes of 1): sum the g rows of each value with adds
    // only, then scale each sum once. The rows are split branch-free into two lists.
    const v0 = load<f32>(val);
    let v1: f32 = v0;
    let nA = 0, nB = 0, two = 1;
    for (let i = 0; i < n; i++) {
      const v = load<f32>(at(val, i)), b = load<i32>(at(idx, i));
      const eq = i32(v == v0);
      v1 = nB == 0 ? v : v1;
      two &= eq | i32(v == v1);
      store<i32>(at(idxA, nA), b);
      store<i32>(at(idxB, nB), b);
      nA += eq;
      nB += 1 - eq;
    }
    // One loop per kind of values (a kind switch inside one loop measured 5-11% slower), each with
    // its shifted last panel.
    if (two && nB > 0) {
      const va = f32x4.splat(v0), vb = f32x4.splat(v1);
      for (; j + 16 <= N; j += 16) {
        const q = wr + (<usize>j << 2);
        outerPanel2(q, q, g + (<usize>j << 2), idxA, nA, idxB, nB, va, vb, rowBytes);
      }
      if (shifted) {
        outerPanel2(wr + (<usize>c0 << 2), tmp, g + (<usize>c0 << 2), idxA, nA, idxB, nB, va, vb, rowBytes);
        panelTail(wr + (<usize>c0 << 2), tmp, keep);
        j = N;
      }
    } else if (two) {
      const vc = f32x4.splat(v0);
      for (; j + 16 <= N; j += 16) {
        const q = wr + (<usize>j << 2);
        outerPanel1(q, q, g + (<usize>j << 2), idx, n, vc, rowBytes);
      }
      if (shifted) {
        outerPanel1(wr + (<usize>c0 << 2), tmp, g + (<usize>c0 << 2), idx, n, vc, rowBytes);
        panelTail(wr + (<usize>c0 << 2), tmp, keep);
        j = N;
      }
    } else {
      for (; j + 16 <= N; j += 16) {
        const q = wr + (<usize>j << 2);
        outerPanelValued(q, q, g + (<usize>j << 2), idx, val, n, rowBytes);
      }
      if (shifted) {
        outerPanelValued(wr + (<usize>c0 << 2), tmp, g + (<usize>c0 << 2), idx, val, n, rowBytes);
        panelTail(wr + (<usize>c0 << 2), tmp, keep);
        j = N;
      }
    }
    // N < 16 (narrow outputs normally take spikeOuterNarrow): 4 columns, then 1, any values
    for (; j + 4 <= N; j += 4) {
      const p = wr + (<usize>j << 2);
      let a = v128.load(p);
      const gc = g + (<usize>j << 2);
      for (let i = 0; i < n; i++) {
        a = f32x4.add(a, f32x4.mul(v128.load32_splat(at(val, i)), v128.load(gc + <usize>load<i32>(at(idx, i)) * rowBytes)));
      }
      v128.store(p, a);
    }
    for (; j < N; j++) {
      const p = wr + (<usize>j << 2);
      let a = load<f32>(p);
      const gc = g + (<usize>j << 2);
      for (let i = 0; i < n; i++) a += load<f32>(at(val, i)) * load<f32>(gc + <usize>load<i32>(at(idx, i)) * rowBytes);
      store<f32>(p, a);
    }
  }
}

// Narrow outputs (N ≤ 16, e.g. a 10-class readout): one pass over each row's active list with the
// whole output row in registers. Per element the same products and the same order of additions as
// the column kernels above (and as the reference: inputs k ascending).

/** Rows of s whose active lists the narrow kernels build before they read them. */
const NARROW_BLOCK: i32 = 8;

/**
 * Bytes of scratch the narrow kernels (spikeMatmulNarrow, spikeOuterNarrow) need for rows of K
 * inputs: the lists of one block of rows.
 */
export function narrowScratchBytes(K: i32): i32 {
  return (2 * K + 1) * 4 * NARROW_BLOCK;
}

/** One row of a narrow output: o = beta·o + Σ_i val[i]·W[row at byte offset idx[i]]. */
@inline function narrowRow(o: usize, w: usize, idx: usize, val: usize, n: i32, N: i32, beta: f32): void {
  const nv = N >> 2, tail = N & 3;
  const tb = <usize>(nv << 4);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0;
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    if (nv > 0) a0 = f32x4.mul(vb, v128.load(o));
    if (nv > 1) a1 = f32x4.mul(vb, v128.load(o, 16));
    if (nv > 2) a2 = f32x4.mul(vb, v128.load(o, 32));
    if (nv > 3) a3 = f32x4.mul(vb, v128.load(o, 48));
    if (tail > 0) t0 = beta * load<f32>(o + tb);
    if (tail > 1) t1 = beta * load<f32>(o + tb, 4);
    if (tail > 2) t2 = beta * load<f32>(o + tb, 8);
  }
  for (let i = 0; i < n; i++) {
    const p = w + <usize>load<i32>(at(idx, i));
    const x = load<f32>(at(val, i));
    const s = f32x4.splat(x);
    if (nv > 0) a0 = f32x4.add(a0, f32x4.mul(s, v128.load(p)));
    if (nv > 1) a1 = f32x4.add(a1, f32x4.mul(s, v128.load(p, 16)));
    if (nv > 2) a2 = f32x4.add(a2, f32x4.mul(s, v128.load(p, 32)));
    if (nv > 3) a3 = f32x4.add(a3, f32x4.mul(s, v128.load(p, 48)));
    if (tail > 0) t0 += x * load<f32>(p + tb);
    if (tail > 1) t1 += x * load<f32>(p + tb, 4);
    if (tail > 2) t2 += x * load<f32>(p + tb, 8);
  }
  if (nv > 0) v128.store(o, a0);
  if (nv > 1) v128.store(o, a1, 16);
  if (nv > 2) v128.store(o, a2, 32);
  if (nv > 3) v128.store(o, a3, 48);
  if (tail > 0) store<f32>(o + tb, t0);
  if (tail > 1) store<f32>(o + tb, t1, 4);
  if (tail > 2) store<f32>(o + tb, t2, 8);
}

/**
 * Rows [b0, b1) of out [B, N] (N ≤ 16) = beta·out + s·W: the lists of a block of rows are built
 * (only those rows of s are read), then each row's sum runs with the output row in registers. A
 * thread that runs a range of rows reads and writes only its rows.
 */
export function spikeMatmulNarrow(B: i32, K: i32, N: i32, s: usize, w: usize, out: usize, beta: f32, b0: i32, b1: i32, scratch: usize): void {
  const cnt = scratch;
  const lists = at(scratch, NARROW_BLOCK);
  const rowBytes = N << 2;
  for (let r0 = b0; r0 < b1; r0 += NARROW_BLOCK) {
    const r1 = min(b1, r0 + NARROW_BLOCK);
    for (let b = r0; b < r1; b++) {
      const l = at(lists, (b - r0) * 2 * K);
      const n = buildList(at(s, b * K), K, l, at(l, K), 0);
      toOffsets(l, n, rowBytes);
      store<i32>(at(cnt, b - r0), n);
    }
    for (let b = r0; b < r1; b++) {
      const l = at(lists, (b - r0) * 2 * K);
      narrowRow(at(out, b * N), w, l, at(l, K), load<i32>(at(cnt, b - r0)), N, beta);
    }
  }
}

/**
 * W[k,:] += alpha·Σ_b s[b,k]·g[b,:] for k in [k0, k1), N ≤ 16 (a readout's update): row by row of
 * s, the active inputs of s[b, k0..k1) listed (SIMD scan of the contiguous row, no strided column
 * reads), the g row kept in registers and added into each active W row. The lists of a block of
 * rows are built before any is read (a list read right after its overlapping vector stores stalls
 * on store forwarding). Per element of W the same products (alpha·s)·g added in the same order
 * (b ascending) as spikeOuter's general path.
 */
export function spikeOuterNarrow(B: i32, K: i32, N: i32, s: usize, g: usize, w: usize, alpha: f32, k0: i32, k1: i32, scratch: usize): void {
  const len = k1 - k0;
  if (len <= 0 || N <= 0) return;
  const cnt = scratch;
  const lists = at(scratch, NARROW_BLOCK);
  const rowBytes = <usize>N << 2;
  const nv = N >> 2, tail = N & 3;
  const tb = <usize>(nv << 4);
  const wk = at(w, k0 * N);
  for (let b0 = 0; b0 < B; b0 += NARROW_BLOCK) {
    const b1 = min(B, b0 + NARROW_BLOCK);
    for (let b = b0; b < b1; b++) {
      const l = at(lists, (b - b0) * 2 * len);
      store<i32>(at(cnt, b - b0), buildList(at(s, b * K + k0), len, l, at(l, len), 0));
    }
    for (let b = b0; b < b1; b++) {
      const n = load<i32>(at(cnt, b - b0));
      const idx = at(lists, (b - b0) * 2 * len), val = at(idx, len);
      const gr = at(g, b * N);
      const g0 = nv > 0 ? v128.load(gr) : f32x4.splat(0);
      const g1 = nv > 1 ? v128.load(gr, 16) : f32x4.splat(0);
      const g2 = nv > 2 ? v128.load(gr, 32) : f32x4.splat(0);
      const g3 = nv > 3 ? v128.load(gr, 48) : f32x4.splat(0);
      const t0: f32 = tail > 0 ? load<f32>(gr + tb) : 0;
      const t1: f32 = tail > 1 ? load<f32>(gr + tb, 4) : 0;
      const t2: f32 = tail > 2 ? load<f32>(gr + tb, 8) : 0;
      for (let i = 0; i < n; i++) {
        const p = wk + <usize>load<i32>(at(idx, i)) * rowBytes;
        const c: f32 = alpha * load<f32>(at(val, i));
        const vc = f32x4.splat(c);
        if (nv > 0) v128.store(p, f32x4.add(v128.load(p), f32x4.mul(vc, g0)));
        if (nv > 1) v128.store(p, f32x4.add(v128.load(p, 16), f32x4.mul(vc, g1)), 16);
        if (nv > 2) v128.store(p, f32x4.add(v128.load(p, 32), f32x4.mul(vc, g2)), 32);
        if (nv > 3) v128.store(p, f32x4.add(v128.load(p, 48), f32x4.mul(vc, g3)), 48);
        if (tail > 0) store<f32>(p + tb, load<f32>(p + tb) + c * t0);
        if (tail > 1) store<f32>(p + tb, load<f32>(p + tb, 4) + c * t1, 4);
        if (tail > 2) store<f32>(p + tb, load<f32>(p + tb, 8) + c * t2, 8);
      }
    }
  }
}

/**
 * Two independent outer-product updates in one call over the range [lo, hi) of [0, 1 + K2) (see
 * Backend.spikeOuterPair): index 0 stands for the whole narrow update W1 += a1·s1ᵀ·g1 (N1 ≤ 16,
 * spikeOuterNarrow over every k), indices 1 + k for weight row k of the wide update W2 += a2·s2ᵀ·g2
 * (spikeOuter). A thread that claims the front of the range runs the narrow update whole while the
 * others share the wide one, so neither is split finer than it pays. The same values as the two
 * kernels, each element of W1 and W2 computed by one of them with their arithmetic.
 */
export function spikeOuterPair(
  B: i32, K1: i32, N1: i32, s1: usize, g1: usize, w1: usize, a1: f32,
  K2: i32, N2: i32, s2: usize, g2: usize, ldg2: i32, w2: usize, a2: f32, lo: i32, hi: i32, scratch: usize,
): void {
  if (lo == 0 && hi > 0) spikeOuterNarrow(B, K1, N1, s1, g1, w1, a1, 0, K1, scratch);
  const k0 = max(lo, 1) - 1, k1 = hi - 1;
  if (k1 > k0) spikeOuter(B, K2, N2, s2, g2, ldg2, w2, a2, k0, k1, scratch);
}
