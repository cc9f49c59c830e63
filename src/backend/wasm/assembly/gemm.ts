// Blocked SIMD GEMM (AssemblyScript). C[M,N] = alpha·op(A)[M,K]·op(B)[K,N] + beta·C, row-major.
// GotoBLAS-style loops: B is packed in panels of KC×NC (strips of NR columns), A in blocks of
// MC×KC (strips of MR rows); a 4×8 register micro-kernel (8 f32x4 accumulators) does the work.
// The transposed forms only change how the panels are packed. Each call computes the region
// rows [i0, i1) × columns [j0, j1) of C, so two threads can split C without overlap.
// `scratch` is per-thread: packA (MC·KC f32) | packB (KC·NC f32) | tile (MR·NR f32).

import { at } from './mem';

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 512;

/** Bytes of scratch one thread needs for gemm. */
export function gemmScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** Pack op(B)[pc:pc+kc, jc:jc+nc] as strips of NR columns: dst[s][k][c]; columns past the end are 0. */
function packB(b: usize, transB: bool, K: i32, N: i32, pc: i32, kc: i32, jc: i32, nc: i32, dst: usize): void {
  const strips = (nc + NR - 1) / NR;
  for (let s = 0; s < strips; s++) {
    const j0 = jc + s * NR;
    const w = min(NR, jc + nc - j0);
    const d0 = at(dst, s * kc * NR);
    if (!transB) {
      if (w == NR) {
        let src = at(b, pc * N + j0);
        let d = d0;
        const stride = <usize>N << 2;
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          src += stride;
          d += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const src = at(b, (pc + k) * N + j0);
          const d = d0 + (<usize>k << 5);
          for (let c = 0; c < NR; c++) store<f32>(d + (<usize>c << 2), c < w ? load<f32>(src + (<usize>c << 2)) : 0);
        }
      }
    } else {
      // op(B)[k, j] = B[j*K + k]: read rows of B sequentially, write strided.
      for (let c = 0; c < NR; c++) {
        let d = d0 + (<usize>c << 2);
        if (c < w) {
          let src = at(b, (j0 + c) * K + pc);
          for (let k = 0; k < kc; k++) {
            store<f32>(d, load<f32>(src));
            src += 4;
            d += 32;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(d, 0);
            d += 32;
          }
        }
      }
    }
  }
}

/** Pack op(A)[ic:ic+mc, pc:pc+kc] as strips of MR rows: dst[s][k][r]; rows past the end are 0. */
function packA(a: usize, transA: bool, M: i32, K: i32, ic: i32, mc: i32, pc: i32, kc: i32, dst: usize): void {
  const strips = (mc + MR - 1) / MR;
  for (let s = 0; s < strips; s++) {
    const i0 = ic + s * MR;
    const h = min(MR, ic + mc - i0);
    const d0 = at(dst, s * kc * MR);
    if (transA) {
      // op(A)[i, k] = A[k*M + i]: four consecutive i at row k.
      if (h == MR) {
        let src = at(a, pc * M + i0);
        const stride = <usize>M << 2;
        let d = d0;
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(src));
          src += stride;
          d += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const src = at(a, (pc + k) * M + i0);
          const d = d0 + (<usize>k << 4);
          for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < h ? load<f32>(src + (<usize>r << 2)) : 0);
        }
      }
    } else {
      for (let r = 0; r < MR; r++) {
        let d = d0 + (<usize>r << 2);
        if (r < h) {
          let src = at(a, (i0 + r) * K + pc);
          for (let k = 0; k < kc; k++) {
            store<f32>(d, load<f32>(src));
            src += 4;
            d += 16;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(d, 0);
            d += 16;
          }
        }
      }
    }
  }
}

// mode 0: C = alpha·acc ; mode 1: C = alpha·acc + beta·C ; mode 2: C = C + alpha·acc
@inline function storeRow(p: usize, x0: v128, x1: v128, va: v128, vb: v128, mode: i32): void {
  let y0 = f32x4.mul(x0, va);
  let y1 = f32x4.mul(x1, va);
  if (mode == 1) {
    y0 = f32x4.add(y0, f32x4.mul(vb, v128.load(p)));
    y1 = f32x4.add(y1, f32x4.mul(vb, v128.load(p, 16)));
  } else if (mode == 2) {
    y0 = f32x4.add(v128.load(p), y0);
    y1 = f32x4.add(v128.load(p, 16), y1);
  }
  v128.store(p, y0);
  v128.store(p, y1, 16);
}

/** 4×8 micro-kernel over kc steps of packed A (pa) and packed B (pb). */
function micro(
  kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, alpha: f32, beta: f32, mode: i32,
  mr: i32, nr: i32, tile: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
    pb += 32;
  }
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const ld = <usize>ldc << 2;
  if (mr == MR && nr == NR) {
    storeRow(c, c00, c01, va, vb, mode);
    storeRow(c + ld, c10, c11, va, vb, mode);
    storeRow(c + 2 * ld, c20, c21, va, vb, mode);
    storeRow(c + 3 * ld, c30, c31, va, vb, mode);
    return;
  }
  // Edge tile: spill to the per-thread tile buffer and store the valid part.
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < mr; r++) {
    const row = c + <usize>r * ld;
    for (let j = 0; j < nr; j++) {
      const p = row + (<usize>j << 2);
      const acc = alpha * load<f32>(tile + (<usize>(r * NR + j) << 2));
      if (mode == 0) store<f32>(p, acc);
      else if (mode == 1) store<f32>(p, acc + beta * load<f32>(p));
      else store<f32>(p, load<f32>(p) + acc);
    }
  }
}

/** Block size ≤ max that splits n into equal parts. */
@inline function evenBlock(n: i32, max: i32): i32 {
  const parts = (n + max - 1) / max;
  return (n + parts - 1) / parts;
}

/**
 * C[i0:i1, j0:j1] of alpha·op(A)·op(B) + beta·C. a: [M,K] or [K,M] (transA), b: [K,N] or [N,K]
 * (transB), c: [M,N]; pointers are byte offsets. beta = 0 never reads C.
 */
export function gemm(
  M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, transA: i32, transB: i32,
  alpha: f32, beta: f32, i0: i32, i1: i32, j0: i32, j1: i32, scratch: usize,
): void {
  if (i1 <= i0 || j1 <= j0) return;
  if (K == 0) {
    for (let i = i0; i < i1; i++) {
      for (let j = j0; j < j1; j++) {
        const p = at(c, i * N + j);
        store<f32>(p, beta == 0 ? 0 : beta * load<f32>(p));
      }
    }
    return;
  }
  const pA = scratch;
  const pB = at(scratch, MC * KC);
  const tile = at(scratch, MC * KC + KC * NC);
  // Even block sizes (784 = 4 × 196 rather than 3 × 256 + 16): no thin last block.
  const kb = evenBlock(K, KC);
  const nb = (evenBlock(j1 - j0, NC) + NR - 1) / NR * NR;
  for (let jc = j0; jc < j1; jc += nb) {
    const nc = min(nb, j1 - jc);
    for (let pc = 0; pc < K; pc += kb) {
      const kc = min(kb, K - pc);
      packB(b, transB != 0, K, N, pc, kc, jc, nc, pB);
      const mode = pc > 0 ? 2 : beta == 0 ? 0 : 1;
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        packA(a, transA != 0, M, K, ic, mc, pc, kc, pA);
        for (let js = 0; js < nc; js += NR) {
          const nr = min(NR, nc - js);
          const pb = at(pB, js * kc);
          for (let is = 0; is < mc; is += MR) {
            const mr = min(MR, mc - is);
            micro(kc, at(pA, is * kc), pb, at(c, (ic + is) * N + jc + js), N, alpha, beta, mode, mr, nr, tile);
          }
        }
      }
    }
  }
}

/**
 * C[i, j] = alpha·Σ_k A[i, k]·B[j, k] + beta·C[i, j] for rows i in [i0, i1): the product with a
 * transposed B of few rows (N ≤ 16, e.g. sigprop's similarity logits ĥ·t̂ᵀ against 10 target rows),
 * as N dot products per row of A. B stays in the L1 cache; each row of A is read once per pair of
 * B rows. a: [M, K], b: [N, K], c: [M, N]. Each dot product is summed in 4 lanes of 4 vectors
 * (k mod 16), then the lanes in a fixed order, whatever the rows a thread runs.
 */
export function rowDots(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, alpha: f32, beta: f32, i0: i32, i1: i32): void {
  const K16 = K & ~15;
  for (let i = i0; i < i1; i++) {
    const ar = at(a, i * K);
    for (let j = 0; j < N; j += 2) {
      const two = j + 1 < N;
      const b0 = at(b, j * K), b1 = two ? at(b, (j + 1) * K) : b0;
      let x0 = f32x4.splat(0), x1 = f32x4.splat(0), x2 = f32x4.splat(0), x3 = f32x4.splat(0);
      let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0), y3 = f32x4.splat(0);
      for (let k = 0; k < K16; k += 16) {
        const o = <usize>k << 2;
        const v0 = v128.load(ar + o), v1 = v128.load(ar + o, 16), v2 = v128.load(ar + o, 32), v3 = v128.load(ar + o, 48);
        x0 = f32x4.add(x0, f32x4.mul(v0, v128.load(b0 + o))); x1 = f32x4.add(x1, f32x4.mul(v1, v128.load(b0 + o, 16)));
        x2 = f32x4.add(x2, f32x4.mul(v2, v128.load(b0 + o, 32))); x3 = f32x4.add(x3, f32x4.mul(v3, v128.load(b0 + o, 48)));
        y0 = f32x4.add(y0, f32x4.mul(v0, v128.load(b1 + o))); y1 = f32x4.add(y1, f32x4.mul(v1, v128.load(b1 + o, 16)));
        y2 = f32x4.add(y2, f32x4.mul(v2, v128.load(b1 + o, 32))); y3 = f32x4.add(y3, f32x4.mul(v3, v128.load(b1 + o, 48)));
      }
      const xs = f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3));
      const ys = f32x4.add(f32x4.add(y0, y1), f32x4.add(y2, y3));
      let sx: f32 = f32x4.extract_lane(xs, 0) + f32x4.extract_lane(xs, 1) + f32x4.extract_lane(xs, 2) + f32x4.extract_lane(xs, 3);
      let sy: f32 = f32x4.extract_lane(ys, 0) + f32x4.extract_lane(ys, 1) + f32x4.extract_lane(ys, 2) + f32x4.extract_lane(ys, 3);
      for (let k = K16; k < K; k++) {
        const x = load<f32>(at(ar, k));
        sx += x * load<f32>(at(b0, k));
        sy += x * load<f32>(at(b1, k));
      }
      const p = at(c, i * N + j);
      store<f32>(p, beta == 0 ? alpha * sx : alpha * sx + beta * load<f32>(p));
      if (two) store<f32>(p, beta == 0 ? alpha * sy : alpha * sy + beta * load<f32>(p, 4), 4);
    }
  }
}
