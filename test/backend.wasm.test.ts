// Parity of the wasm backend with `reference`: every kernel on random shapes including odd sizes
// (not multiples of 4, of the 4×8 GEMM tile or of the 32-column spike chunk), sizes that cross
// the GEMM blocking (K > 256, M > 64, N > 512), empty batches, all-zero / all-one spikes.
import { describe, expect, it } from 'vitest';
import type { Backend, LifKernelParams, SurrogateKernelSpec } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { padsOuterGradient, padsSpikeWeights, WasmBackend } from '../src/backend/wasm/backend.js';
import { ParameterError, ShapeError, SigpropError } from '../src/errors.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';
import { getSurrogate, surrogateNames } from '../surrogates/registry.js';
import { expectClose, withWasm } from './wasm.helpers.js';

const ref = new ReferenceBackend();
let wasm: WasmBackend;
withWasm((b) => (wasm = b));

function randn(rng: Rng, n: number): Float32Array {
  return rng.fillNormal(new Float32Array(n));
}

/** A pair of tensors with equal contents on reference and wasm. */
function pair(shape: number[], data: Float32Array): [Tensor, Tensor] {
  return [ref.fromArray(shape, data), wasm.fromArray(shape, data)];
}

function spikes(rng: Rng, n: number, density: number, valued = false): Float32Array {
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) if (rng.uniform() < density) s[i] = valued ? rng.range(-2, 2) : 1;
  return s;
}


describe('wasm matmul vs reference', () => {
  const rng = new Rng(11);
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 5, 7], [4, 8, 8], [37, 53, 29], [65, 300, 17], [9, 1, 520], [70, 260, 530], [2, 3, 1],
    // transB with N ≤ 16 and K ≥ 16: the row-dot kernel (odd N, K not a multiple of 16, N = 1)
    [40, 203, 10], [7, 37, 13], [33, 64, 1], [5, 16, 16],
  ];
  const variants = [
    { transA: false, transB: false }, { transA: true, transB: false },
    { transA: false, transB: true }, { transA: true, transB: true },
  ];
  for (const [M, K, N] of shapes) {
    for (const v of variants) {
      it(`M=${M} K=${K} N=${N} transA=${v.transA} transB=${v.transB}`, () => {
        const A = randn(rng, M * K), B = randn(rng, K * N), C = randn(rng, M * N);
        const [ra, wa] = pair(v.transA ? [K, M] : [M, K], A);
        const [rb, wb] = pair(v.transB ? [N, K] : [K, N], B);
        for (const [alpha, beta] of [[1, 0], [0.5, 1], [-1.25, 0.3]]) {
          const [rc, wc] = pair([M, N], C);
          ref.matmul(rc, ra, rb, { ...v, alpha, beta });
          wasm.matmul(wc, wa, wb, { ...v, alpha, beta });
          // Error bound of float32 accumulation: scales with K·Σ|a||b|.
          const [absA, absB] = [ref.fromArray(ra.shape, A.map(Math.abs)), ref.fromArray(rb.shape, B.map(Math.abs))];
          const bound = ref.tensor([M, N]);
          ref.matmul(bound, absA, absB, v);
          const got = wasm.read(wc), want = rc.data;
          for (let i = 0; i < want.length; i++) {
            const tol = (K + 4) * 1.2e-7 * (Math.abs(alpha) * bound.data[i] + Math.abs(beta * C[i])) + 1e-6 * Math.abs(want[i]) + 1e-30;
            if (!(Math.abs(got[i] - want[i]) <= tol)) expect.fail(`element ${i}: got ${got[i]}, want ${want[i]} (tol ${tol})`);
          }
        }
      });
    }
  }

  it('beta = 0 ignores NaN in out; K = 0 gives beta·out; M = 0 (empty batch) is a no-op', () => {
    const [ra, wa] = pair([2, 3], randn(rng, 6));
    const [rb, wb] = pair([3, 5], randn(rng, 15));
    const [rc, wc] = pair([2, 5], new Float32Array(10).fill(NaN));
    ref.matmul(rc, ra, rb);
    wasm.matmul(wc, wa, wb);
    expectClose(wasm.read(wc), rc.data);
    const [ra0, wa0] = pair([4, 0], new Float32Array(0));
    const [rb0, wb0] = pair([0, 6], new Float32Array(0));
    const C = randn(rng, 24);
    const [rc0, wc0] = pair([4, 6], C);
    ref.matmul(rc0, ra0, rb0, { beta: 0.5 });
    wasm.matmul(wc0, wa0, wb0, { beta: 0.5 });
    expectClose(wasm.read(wc0), rc0.data);
    const wEmpty = wasm.tensor([0, 6]);
    wasm.matmul(wEmpty, wasm.tensor([0, 3]), wasm.tensor([3, 6]));
    expect(wasm.read(wEmpty).length).toBe(0);
  });

  it('rejects mismatched shapes and foreign tensors with clear errors', () => {
    expect(() => wasm.matmul(wasm.tensor([2, 2]), wasm.tensor([2, 3]), wasm.tensor([2, 2]))).toThrow(ShapeError);
    expect(() => wasm.matmul(wasm.tensor([2, 2]), ref.tensor([2, 2]), wasm.tensor([2, 2]))).toThrow(/not allocated by this wasm backend/);
  });
});

describe('wasm spikeMatmul / spikeOuter vs reference', () => {
  const rng = new Rng(12);
  const cases: [number, number, number, number, boolean][] = [
    // B, K, N, density, valued
    [1, 1, 1, 1, false], [3, 7, 5, 0.5, false], [5, 33, 37, 0.1, false], [8, 130, 70, 0.3, true],
    [17, 61, 100, 0, false], [6, 45, 67, 1, false], [4, 200, 257, 0.02, true], [0, 10, 9, 0.5, false],
    [12, 90, 75, 0.9, true], // dense, trace-like: spikeOuter takes the GEMM path
    [70, 300, 10, 0.1, true], [9, 50, 16, 0.4, true], [5, 21, 3, 0.9, false], [6, 40, 13, 0.35, true], // narrow outputs (a readout)
  ];
  for (const [B, K, N, density, valued] of cases) {
    it(`spikeMatmul B=${B} K=${K} N=${N} density=${density}${valued ? ' (real-valued)' : ''}`, () => {
      const S = spikes(rng, B * K, density, valued), W = randn(rng, K * N), O = randn(rng, B * N);
      const [rs, ws] = pair([B, K], S), [rw, ww] = pair([K, N], W);
      for (const beta of [0, 1, 0.7]) {
        const [ro, wo] = pair([B, N], O);
        ref.spikeMatmul(ro, rs, rw, beta);
        wasm.spikeMatmul(wo, ws, ww, beta);
        expectClose(wasm.read(wo), ro.data, 1e-5, 1e-5 * Math.sqrt(K + 1));
      }
    });
    it(`spikeOuter B=${B} K=${K} N=${N} density=${density}${valued ? ' (real-valued)' : ''}`, () => {
      const S = spikes(rng, B * K, density, valued), G = randn(rng, B * N), W = randn(rng, K * N);
      const [rs, ws] = pair([B, K], S), [rg, wg] = pair([B, N], G), [rw, ww] = pair([K, N], W);
      ref.spikeOuter(rw, rs, rg, -0.37);
      wasm.spikeOuter(ww, ws, wg, -0.37);
      expectClose(wasm.read(ww), rw.data, 1e-5, 1e-5 * Math.sqrt(B + 1));
    });
  }
  it('mixed batches: sparse spike rows and runs of dense real-valued rows (GEMM path) agree with reference', () => {
    const [K, N] = [90, 77];
    // rows: 5 sparse, 20 dense, 3 dense (short run: stays on the event path), 7 sparse, 17 dense
    const kinds = [...Array(5).fill(0.1), ...Array(20).fill(1), ...Array(3).fill(0.9), ...Array(7).fill(0.05), ...Array(17).fill(0.8)];
    const B = kinds.length;
    const S = new Float32Array(B * K);
    kinds.forEach((d, b) => S.set(spikes(rng, K, d, d > 0.5), b * K));
    const W = randn(rng, K * N), O = randn(rng, B * N), G = randn(rng, B * N);
    const [rs, ws] = pair([B, K], S), [rw, ww] = pair([K, N], W);
    for (const beta of [0, 0.5]) {
      const [ro, wo] = pair([B, N], O);
      ref.spikeMatmul(ro, rs, rw, beta);
      wasm.spikeMatmul(wo, ws, ww, beta);
      expectClose(wasm.read(wo), ro.data, 1e-5, 3e-6 * (K + 1));
    }
    const [rg, wg] = pair([B, N], G);
    ref.spikeOuter(rw, rs, rg, 0.2);
    wasm.spikeOuter(ww, ws, wg, 0.2);
    expectClose(wasm.read(ww), rw.data, 1e-5, 3e-6 * (B + 1));
  });
  it('rows of spikes scaled by one value (inverted dropout) agree with reference, sparse and dense', () => {
    const [K, N] = [150, 70];
    const S = new Float32Array(6 * K);
    for (let b = 0; b < 6; b++) S.set(spikes(rng, K, b < 3 ? 0.1 : 0.7).map((v) => v * (b % 2 ? 1.25 : 1)), b * K);
    const W = randn(rng, K * N), O = randn(rng, 6 * N);
    const [rs, ws] = pair([6, K], S), [rw, ww] = pair([K, N], W);
    for (const beta of [0, 0.7]) {
      const [ro, wo] = pair([6, N], O);
      ref.spikeMatmul(ro, rs, rw, beta);
      wasm.spikeMatmul(wo, ws, ww, beta);
      expectClose(wasm.read(wo), ro.data, 1e-5, 1e-5 * Math.sqrt(K + 1));
    }
  });
  it('spikeOuter with presynaptic spikes of two values (1.25 and 1 in one column) agrees with reference', () => {
    const [B, K, N] = [40, 60, 70];
    const S = new Float32Array(B * K);
    for (let b = 0; b < B; b++) S.set(spikes(rng, K, 0.2).map((v) => v * (b < 30 ? 1.25 : 1)), b * K);
    S[3 * K + 5] = 0.5; // one column with a third value takes the general path
    const G = randn(rng, B * N), W = randn(rng, K * N);
    const [rs, ws] = pair([B, K], S), [rg, wg] = pair([B, N], G), [rw, ww] = pair([K, N], W);
    ref.spikeOuter(rw, rs, rg, -0.37);
    wasm.spikeOuter(ww, ws, wg, -0.37);
    expectClose(wasm.read(ww), rw.data, 1e-5, 1e-5 * Math.sqrt(B + 1));
  });
  it('widths whose rows alias in the cache (N = 512, 1024) go through a padded copy: the same sums as reference', () => {
    expect([padsSpikeWeights(1024), padsSpikeWeights(512), padsSpikeWeights(1000), padsSpikeWeights(256)]).toEqual([true, true, false, false]);
    expect([padsOuterGradient(1024), padsOuterGradient(512), padsOuterGradient(640)]).toEqual([true, true, false]);
    for (const [B, K, N] of [[7, 53, 512], [5, 40, 1024]]) {
      const S = spikes(rng, B * K, 0.2), W = randn(rng, K * N), O = randn(rng, B * N), G = randn(rng, B * N);
      const [rs, ws] = pair([B, K], S), [rw, ww] = pair([K, N], W);
      for (const beta of [0, 0.6]) {
        const [ro, wo] = pair([B, N], O);
        ref.spikeMatmul(ro, rs, rw, beta);
        wasm.spikeMatmul(wo, ws, ww, beta);
        if (beta === 0) expect(Array.from(wasm.read(wo))).toEqual(Array.from(ro.data)); // binary spikes: exactly
        else expectClose(wasm.read(wo), ro.data, 1e-5, 1e-5 * Math.sqrt(K + 1));
      }
      expect(Array.from(wasm.read(ww))).toEqual(Array.from(W)); // W itself untouched by the copy
      const [rg, wg] = pair([B, N], G);
      ref.spikeOuter(rw, rs, rg, 0.3);
      wasm.spikeOuter(ww, ws, wg, 0.3);
      expectClose(wasm.read(ww), rw.data, 1e-5, 1e-5 * Math.sqrt(B + 1));
      expect(Array.from(wasm.read(wg))).toEqual(Array.from(G));
    }
  });
  it('binary spikes give exactly the reference sums (same order of additions)', () => {
    const [B, K, N] = [9, 77, 99];
    const S = spikes(rng, B * K, 0.2), W = randn(rng, K * N);
    const [rs, ws] = pair([B, K], S), [rw, ww] = pair([K, N], W);
    const ro = ref.tensor([B, N]), wo = wasm.tensor([B, N]);
    ref.spikeMatmul(ro, rs, rw);
    wasm.spikeMatmul(wo, ws, ww);
    expect(Array.from(wasm.read(wo))).toEqual(Array.from(ro.data));
    // narrow outputs too
    const [rn, wn] = pair([K, 10], randn(rng, K * 10));
    const rno = ref.tensor([B, 10]), wno = wasm.tensor([B, 10]);
    ref.spikeMatmul(rno, rs, rn);
    wasm.spikeMatmul(wno, ws, wn);
    expect(Array.from(wasm.read(wno))).toEqual(Array.from(rno.data));
  });
  it('checks shapes', () => {
    expect(() => wasm.spikeMatmul(wasm.tensor([2, 3]), wasm.tensor([2, 4]), wasm.tensor([4, 2]))).toThrow(ShapeError);
    expect(() => wasm.spikeOuter(wasm.tensor([4, 3]), wasm.tensor([2, 4]), wasm.tensor([2, 2]), 1)).toThrow(ShapeError);
  });
});

/** LIF parity: spikes may differ only where the membrane is within float32 rounding of θ. */
function lifCase(
  rng: Rng, n: number, p: LifKernelParams & { alpha?: number },
  step: (b: Backend, u: Tensor, j: Tensor, s: Tensor, i: Tensor) => void,
): void {
  const U = randn(rng, n), J = randn(rng, n), S = spikes(rng, n, 0.3), I = randn(rng, n);
  const [ru, wu] = pair([n], U), [rj, wj] = pair([n], J), [rs, ws] = pair([n], S), [ri, wi] = pair([n], I);
  for (let t = 0; t < 3; t++) {
    step(ref, ru, rj, rs, ri);
    step(wasm, wu, wj, ws, wi);
    const gu = wasm.read(wu), gs = wasm.read(ws);
    for (let k = 0; k < n; k++) {
      if (gs[k] !== rs.data[k]) {
        // A flip is acceptable only at the threshold; re-synchronise that neuron.
        expect(Math.min(Math.abs(gu[k] - p.threshold), Math.abs(ru.data[k] - p.threshold), Math.abs(gu[k]), Math.abs(ru.data[k]))).toBeLessThan(1e-4);
        continue;
      }
      expect(Math.abs(gu[k] - ru.data[k])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ru.data[k])));
    }
    wasm.write(wu, ru.data);
    wasm.write(ws, rs.data);
    if (p.alpha !== undefined) expectClose(wasm.read(wj), rj.data);
  }
}

describe('wasm per-connection delay kernels, copySlice and elementwise vs reference (bitwise)', () => {
  const rng = new Rng(23);
  const delaysOf = (n: number, D: number) => Float32Array.from({ length: n }, () => rng.int(D));
  for (const [B, K, N, D, density] of [[1, 1, 1, 1, 1], [3, 7, 5, 4, 0.3], [4, 33, 19, 6, 0.9], [2, 9, 40, 2, 0]] as const) {
    it(`delayedSpikeMatmul and delayedOuter B=${B} K=${K} N=${N} D=${D} density=${density}`, () => {
      const d = delaysOf(K * N, D), w = randn(rng, K * N), s = spikes(rng, B * K, density, true);
      const [dr, dw] = pair([K, N], d), [wr, ww] = pair([K, N], w), [sr, sw] = pair([B, K], s);
      const [rr, rw] = pair([D * B, N], randn(rng, D * B * N));
      for (const t of [0, 1, D + 2]) {
        ref.delayedSpikeMatmul(rr, sr, wr, dr, t);
        wasm.delayedSpikeMatmul(rw, sw, ww, dw, t);
      }
      expect(wasm.read(rw)).toEqual(ref.read(rr));
      const [er, ew] = pair([D * B, K], randn(rng, D * B * K)), [gr, gw] = pair([B, N], randn(rng, B * N));
      for (const t of [0, 3, 2 * D + 1]) {
        ref.delayedOuter(wr, er, gr, dr, t, 0.7);
        wasm.delayedOuter(ww, ew, gw, dw, t, 0.7);
      }
      expect(wasm.read(ww)).toEqual(ref.read(wr));
    });
  }

  it('delayedSpikeMatmul / delayedOuter equal a hand computation and check shapes', () => {
    // B = 1, K = 2, N = 2, D = 3: x = [2, 0]; W = [[1, 2], [3, 4]], d = [[0, 2], [1, 1]]
    for (const be of [ref, wasm] as Backend[]) {
      const ring = be.tensor([3, 2]), w = be.fromArray([2, 2], [1, 2, 3, 4]), d = be.fromArray([2, 2], [0, 2, 1, 1]);
      be.delayedSpikeMatmul(ring, be.fromArray([1, 2], [2, 0]), w, d, 1); // slots (1 + d) mod 3
      expect(Array.from(be.read(ring))).toEqual([0, 4, 2, 0, 0, 0]);
      const e = be.fromArray([3, 2], [1, 2, 3, 4, 5, 6]), gw = be.tensor([2, 2]);
      be.delayedOuter(gw, e, be.fromArray([1, 2], [1, 10]), d, 4, 1); // slots (4 − d) mod 3 = [[1, 2], [0, 0]]
      expect(Array.from(be.read(gw))).toEqual([3, 50, 2, 20]);
      expect(() => be.delayedOuter(gw, be.tensor([3, 3]), be.tensor([1, 2]), d, 0, 1)).toThrow(ShapeError);
      expect(() => be.delayedSpikeMatmul(be.tensor([4, 3]), be.tensor([1, 2]), w, d, 0)).toThrow(ShapeError);
    }
  });

  it('rateSpikes draws the same spikes as the reference and leaves the generator in the same state', () => {
    for (const n of [1, 3, 4, 17, 1000, 4097]) {
      // probabilities with zeros (no draw), ones, values above 1 and negative values (never, no draw)
      const p = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : i % 7 === 0 ? 1 : i % 11 === 0 ? -0.5 : rng.uniform()));
      if (n > 16) p.fill(0, 4, 12); // a run of zeros over whole vectors
      const [pr, pw] = pair([n], p), [or, ow] = pair([n], new Float32Array(n).fill(7));
      const ra = new Rng(n), rb = new Rng(n);
      for (let rep = 0; rep < 3; rep++) {
        ref.rateSpikes(or, pr, ra);
        wasm.rateSpikes(ow, pw, rb);
        expect(wasm.read(ow)).toEqual(ref.read(or));
      }
      expect(rb.getState()).toEqual(ra.getState());
      expect(rb.uniform()).toBe(ra.uniform());
    }
    expect(() => wasm.rateSpikes(wasm.tensor([3]), wasm.tensor([4]), new Rng(1))).toThrow(ShapeError);
  });

  it('copySlice copies a flat range and checks bounds', () => {
    for (const be of [ref, wasm] as Backend[]) {
      const dst = be.fromArray([2, 3], [0, 0, 0, 0, 0, 0]), src = be.fromArray([4], [1, 2, 3, 4]);
      be.copySlice(dst, 2, src, 1, 3);
      expect(Array.from(be.read(dst))).toEqual([0, 0, 2, 3, 4, 0]);
      expect(() => be.copySlice(dst, 4, src, 0, 3)).toThrow(ShapeError);
    }
  });

  it('elementwise runs a per-element function over the tensors in place', () => {
    const fn = (A: Float32Array[], P: readonly number[], lo: number, hi: number) => {
      for (let i = lo; i < hi; i++) A[0][i] = P[0] * A[0][i] + A[1][i];
    };
    const a = randn(rng, 37), b = randn(rng, 37);
    const [ar, aw] = pair([37], a), [br, bw] = pair([37], b);
    ref.elementwise(fn, [ar, br], [0.5]);
    wasm.elementwise(fn, [aw, bw], [0.5]);
    expect(wasm.read(aw)).toEqual(ref.read(ar));
    expect(() => wasm.elementwise(fn, [aw, wasm.tensor([3])], [0.5])).toThrow(ShapeError);
    expect(() => wasm.elementwise(fn, [ar], [0.5])).toThrow(ParameterError);
  });
});

describe('wasm fused neuron steps vs reference', () => {
  const rng = new Rng(13);
  for (const reset of ['subtract', 'zero', 'none'] as const) {
    for (const resetDelay of [true, false]) {
      for (const [n, vMin] of [[1, undefined], [7, undefined], [1003, undefined], [7, -0.3], [1003, -0.3]] as const) {
        const p = { beta: 0.9, threshold: 0.8, reset, resetDelay, vMin };
        it(`lifStep reset=${reset} resetDelay=${resetDelay} n=${n} vMin=${vMin}`, () => {
          lifCase(rng, n, p, (b, u, _j, s, i) => b.lifStep(u, s, i, p));
        });
        it(`synapticStep reset=${reset} resetDelay=${resetDelay} n=${n} vMin=${vMin}`, () => {
          const ps = { ...p, alpha: 0.6 };
          lifCase(rng, n, ps, (b, u, j, s, i) => b.synapticStep(u, j, s, i, ps));
        });
      }
    }
  }
  it('rejects an unknown reset mode', () => {
    const t = wasm.tensor([3]);
    expect(() => wasm.lifStep(t, wasm.tensor([3]), wasm.tensor([3]), { beta: 0.9, threshold: 1, reset: 'bogus' as never, resetDelay: true })).toThrow(
      ParameterError,
    );
  });
});

// Specs with the registry's names and formulas (surrogates/*.ts) built here, so this suite does
// not depend on the registry module.
function spec(name: string, params: Record<string, number>, f: (x: number) => number, df: (x: number) => number): SurrogateKernelSpec {
  return { name, params, f, df };
}
const logistic = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const SPECS: SurrogateKernelSpec[] = [
  spec('fastSigmoid', { k: 25 }, (x) => (1 + (25 * x) / (1 + 25 * Math.abs(x))) / 25, (x) => 1 / (1 + 25 * Math.abs(x)) ** 2),
  spec('softSign', { alpha: 2 }, (x) => 0.5 * (1 + (2 * x) / (1 + Math.abs(2 * x))), (x) => 2 / (2 * (1 + Math.abs(2 * x)) ** 2)),
  spec('atan', { alpha: 2 }, (x) => 0.5 + Math.atan(Math.PI * x) / Math.PI, (x) => 1 / (1 + (Math.PI * x) ** 2)),
  spec('sigmoid', { k: 5 }, (x) => logistic(5 * x), (x) => 5 * logistic(5 * x) * logistic(-5 * x)),
];

describe('wasm surrogate vs reference', () => {
  const rng = new Rng(14);
  for (const sg of SPECS) {
    for (const deriv of [true, false]) {
      it(`${sg.name} ${deriv ? "f'" : 'f'} (native where supported)`, () => {
        const n = 1001;
        const U = randn(rng, n);
        const [ru, wu] = pair([n], U);
        const ro = ref.tensor([n]), wo = wasm.tensor([n]);
        ref.surrogate(ro, ru, 0.3, sg, deriv);
        wasm.surrogate(wo, wu, 0.3, sg, deriv);
        expectClose(wasm.read(wo), ro.data, 2e-5, 1e-7);
        const nativeExpected = deriv || sg.name !== 'atan';
        expect(wasm.nativeSurrogate(sg, deriv) !== null).toBe(nativeExpected);
      });
    }
  }
  it('every registered family agrees with reference; the native ones are recognised', () => {
    const native = new Set(['fastSigmoid', 'softSign', 'atan', 'sigmoid', 'triangular', 'rectangular', 'piecewiseQuadratic', 'straightThrough']);
    for (const name of surrogateNames()) {
      const sg = getSurrogate(name);
      for (const deriv of [true, false]) {
        const n = 203;
        const U = randn(rng, n);
        const [ru, wu] = pair([n], U);
        const ro = ref.tensor([n]), wo = wasm.tensor([n]);
        ref.surrogate(ro, ru, 1, sg, deriv);
        wasm.surrogate(wo, wu, 1, sg, deriv);
        expectClose(wasm.read(wo), ro.data, 2e-5, 1e-7);
      }
      if (native.has(name)) expect(wasm.nativeSurrogate(sg, true), name).not.toBeNull();
    }
    expect(wasm.nativeSurrogate(getSurrogate('fastSigmoid:k=10'), false)).not.toBeNull();
    expect(wasm.nativeSurrogate(getSurrogate('triangular:width=0.5,gain=0.3'), true)).toMatchObject({ kind: 5, param: 0.5, param2: 0.3 });
  });
  it('custom surrogates and families whose formula differs from the native kernel take the generic path', () => {
    const custom = spec('myCustom', { a: 3 }, (x) => Math.tanh(3 * x), (x) => 3 / Math.cosh(3 * x) ** 2);
    const impostor = spec('fastSigmoid', { k: 25 }, (x) => x, (x) => 2 / (1 + 25 * Math.abs(x)) ** 2);
    for (const sg of [custom, impostor]) {
      expect(wasm.nativeSurrogate(sg, true)).toBeNull();
      const U = randn(rng, 13);
      const [ru, wu] = pair([13], U);
      const ro = ref.tensor([13]), wo = wasm.tensor([13]);
      ref.surrogate(ro, ru, 0.1, sg, true);
      wasm.surrogate(wo, wu, 0.1, sg, true);
      expectClose(wasm.read(wo), ro.data);
    }
  });
});

describe('wasm elementwise and reductions vs reference', () => {
  const rng = new Rng(15);
  for (const n of [0, 1, 3, 17, 1031]) {
    it(`axpby, mul, fill, copy, sum, sumSquares on n=${n}`, () => {
      const X = randn(rng, n), Y = randn(rng, n);
      const [rx, wx] = pair([n], X), [ry, wy] = pair([n], Y);
      ref.axpby(ry, rx, 0.3, -1.7);
      wasm.axpby(wy, wx, 0.3, -1.7);
      expectClose(wasm.read(wy), ry.data);
      const ro = ref.tensor([n]), wo = wasm.tensor([n]);
      ref.mul(ro, rx, ry);
      wasm.mul(wo, wx, wy);
      expectClose(wasm.read(wo), ro.data);
      expect(wasm.sum(wy)).toBeCloseTo(ref.sum(ry), 4);
      expect(wasm.sumSquares(wy)).toBeCloseTo(ref.sumSquares(ry), 3);
      wasm.copy(wo, wy);
      expect(Array.from(wasm.read(wo))).toEqual(Array.from(wasm.read(wy)));
      wasm.fill(wo, 2.5);
      expect(wasm.read(wo).every((v) => v === 2.5)).toBe(true);
    });
  }
  for (const [B, N] of [[0, 5], [1, 1], [5, 3], [7, 37], [33, 130]]) {
    it(`addRow and sumRows on [${B}, ${N}]`, () => {
      const X = randn(rng, B * N), V = randn(rng, N), O = randn(rng, N);
      const [rx, wx] = pair([B, N], X), [rv, wv] = pair([N], V);
      ref.addRow(rx, rv);
      wasm.addRow(wx, wv);
      expectClose(wasm.read(wx), rx.data);
      for (const [alpha, beta] of [[1, 0], [0.5, 2]]) {
        const [ro, wo] = pair([N], O);
        ref.sumRows(ro, rx, alpha, beta);
        wasm.sumRows(wo, wx, alpha, beta);
        expectClose(wasm.read(wo), ro.data, 1e-5, 1e-6 * (B + 1));
      }
    });
  }
});

describe('wasm memory', () => {
  it('views stay valid across memory growth; freed blocks are reused zero-filled', () => {
    const first = wasm.fromArray([4], [1, 2, 3, 4]);
    const view = first.data;
    const before = wasm.heap.capacityBytes;
    const big: Tensor[] = [];
    for (let i = 0; i < 6; i++) big.push(wasm.tensor([1024, 1024])); // 24 MiB: forces growth
    expect(wasm.heap.capacityBytes).toBeGreaterThan(before);
    expect(Array.from(first.data)).toEqual([1, 2, 3, 4]);
    expect(first.data).not.toBe(view); // re-created after growth
    wasm.fill(big[0], 7);
    wasm.free(big[0]);
    const again = wasm.tensor([1024, 1024]);
    expect(wasm.sum(again)).toBe(0);
    for (const t of [...big.slice(1), again]) wasm.free(t);
  });
  it('use after free and double free are reported', () => {
    const t = wasm.tensor([3]);
    wasm.free(t);
    expect(() => t.data).toThrow(SigpropError);
    expect(() => wasm.sum(t)).toThrow(/used after backend.free/);
    expect(() => wasm.free(t)).toThrow(SigpropError);
  });
  it('write/read round-trip and size checks', () => {
    const t = wasm.tensor([2, 3]);
    wasm.write(t, [1, 2, 3, 4, 5, 6]);
    const r = wasm.read(t);
    expect(Array.from(r)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(() => wasm.write(t, [1])).toThrow(RangeError);
    expect(() => wasm.tensor([2, -1])).toThrow(ShapeError);
  });
  it('a bad shape is a ShapeError naming it on both backends; data passed as the shape gets a short message and the hint', () => {
    for (const be of [ref, wasm]) {
      expect(() => be.tensor([2, 2.5])).toThrow(ShapeError);
      expect(() => be.tensor([2, 2.5])).toThrow('tensor: shape [2, 2.5] must hold integers >= 0');
      const data = new Float32Array(1000).fill(0.25);
      let msg = '';
      try {
        be.fromArray(data as unknown as number[], [2, 3]);
      } catch (err) {
        msg = (err as Error).message;
      }
      expect(msg).toBe('tensor: shape [0.25, 0.25, 0.25, …] (1000 entries) must hold integers >= 0; was the data passed as the shape? fromArray takes (shape, data)');
    }
  });
});
