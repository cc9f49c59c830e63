// The gpu backend (gpu.js kernels) in gpu.js CPU mode against `reference`: every Backend method on
// several shapes including odd sizes and empty batches, hand-computed small cases, the device-array
// bookkeeping (nothing leaks over many steps), tensor.data refusing host access, and the clear
// failure of 'auto' where Node has no device.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdamStepParams, Backend, LifKernelParams, SurrogateKernelSpec } from '../src/backend/backend.js';
import { createGpuBackend, GpuBackend, GpuTensor } from '../src/backend/gpu/backend.js';
import { fusedStepFallback, gradTailFallback, ReferenceBackend } from '../src/backend/reference.js';
import { createBackend } from '../src/backend/registry.js';
import { NATIVE_SURROGATES } from '../src/backend/wasm/surrogates.js';
import { ShapeError, SigpropError } from '../src/errors.js';
import { Rng } from '../src/rng.js';
import { inputMaker, randomSpikes, type In } from './tensor-inputs.js';
import type { Tensor } from '../src/tensor.js';
import { registerActivation } from '../models/activations.js';
import { getSurrogate, surrogateNames } from '../surrogates/registry.js';
import { expectClose } from './wasm.helpers.js';

const ref = new ReferenceBackend();
let gpu: GpuBackend;
beforeAll(async () => {
  gpu = await createGpuBackend({ mode: 'cpu' });
});
afterAll(async () => {
  await gpu?.dispose();
});

registerActivation({ name: 'softsign-gpu-test', f: (h) => h / (1 + Math.abs(h)), df: (h) => 1 / (1 + Math.abs(h)) ** 2 });

const rng = new Rng(21);
const randn = (n: number, scale = 1): Float32Array => rng.fillNormal(new Float32Array(n), 0, scale);
const spikes = (n: number, density: number, valued = false): Float32Array => randomSpikes(rng, n, density, valued);
const inp = inputMaker(rng);

/**
 * Run `op` on reference and on gpu with equal inputs; compare every input tensor afterwards (the
 * ops write in place) and the returned numbers.
 */
function parity(ins: In[], op: (be: Backend, ts: Tensor[]) => number | void, rtol = 1e-5, atol = 1e-6): void {
  const rs = ins.map(([s, d]) => ref.fromArray(s, d));
  const gs = ins.map(([s, d]) => gpu.fromArray(s, d));
  const rv = op(ref, rs);
  const gv = op(gpu, gs);
  for (let i = 0; i < rs.length; i++) {
    const want = ref.read(rs[i]), got = gpu.read(gs[i]);
    try {
      expectClose(got, want, rtol, atol);
    } catch (err) {
      throw new Error(`tensor ${i} ${JSON.stringify(rs[i].shape)}: ${(err as Error).message}`);
    }
  }
  if (typeof rv === 'number') expect(Math.abs((gv as number) - rv)).toBeLessThanOrEqual(atol + rtol * 10 * Math.abs(rv));
  for (const t of gs) gpu.free(t);
}

describe('gpu (cpu mode): hand-computed cases', () => {
  it('matmul 2×2, with transposes, alpha and beta', () => {
    const a = gpu.fromArray([2, 2], [1, 2, 3, 4]), b = gpu.fromArray([2, 2], [5, 6, 7, 8]);
    const c = gpu.fromArray([2, 2], [1, 1, 1, 1]);
    gpu.matmul(c, a, b);
    expect(Array.from(gpu.read(c))).toEqual([19, 22, 43, 50]);
    gpu.matmul(c, a, b, { transA: true, alpha: 2, beta: 1 }); // aᵀb = [[26, 30], [38, 44]]
    expect(Array.from(gpu.read(c))).toEqual([19 + 52, 22 + 60, 43 + 76, 50 + 88]);
    gpu.matmul(c, a, b, { transB: true }); // abᵀ = [[17, 23], [39, 53]]
    expect(Array.from(gpu.read(c))).toEqual([17, 23, 39, 53]);
  });

  it('a LIF step with subtract reset (delayed) and zero reset (immediate)', () => {
    const p: LifKernelParams = { beta: 0.5, threshold: 1, reset: 'subtract', resetDelay: true };
    const u = gpu.fromArray([1, 3], [2, 0.5, 1]), s = gpu.fromArray([1, 3], [1, 0, 0]), I = gpu.fromArray([1, 3], [0.5, 0.9, 0.2]);
    gpu.lifStep(u, s, I, p);
    // U = 0.5·U + I − S·θ: 1 − 1 + 0.5 = 0.5; 0.25 + 0.9 = 1.15; 0.5 + 0.2 = 0.7
    expectClose(gpu.read(u), [0.5, 1.15, 0.7]);
    expect(Array.from(gpu.read(s))).toEqual([0, 1, 0]);
    gpu.lifStep(u, s, I, { ...p, reset: 'zero', resetDelay: false, vMin: 0.3 });
    // 0.25 + 0.5 = 0.75; 0.575 + 0.9 = 1.475 → spike, reset to 0 → floor 0.3; 0.35 + 0.2 = 0.55
    expectClose(gpu.read(u), [0.75, 0.3, 0.55]);
    expect(Array.from(gpu.read(s))).toEqual([0, 1, 0]);
  });

  it('sum, sumSquares, softmaxCrossEntropy on a small case', () => {
    const x = gpu.fromArray([5], [1, -2, 3, 0.5, 0]);
    gpu.addScalar(x, 0); // drop the host mirror: the device reduction runs
    expect(gpu.sum(x)).toBeCloseTo(2.5, 6);
    expect(gpu.sumSquares(x)).toBeCloseTo(14.25, 6);
    const y = gpu.fromArray([1, 2], [0, 0]), p = gpu.fromArray([1, 2], [1, 0]), loss = gpu.fromArray([1], [1]);
    gpu.softmaxCrossEntropy(loss, y, y, p);
    expectClose(gpu.read(loss), [1 + Math.log(2)]);
    expectClose(gpu.read(y), [-0.5, 0.5]);
  });
});

describe('gpu (cpu mode) vs reference: linear algebra', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [37, 53, 29], [0, 4, 6], [4, 0, 6], [9, 1, 33]];
  for (const [M, Kd, N] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`matmul M=${M} K=${Kd} N=${N} transA=${ta} transB=${tb}`, () => {
          for (const [alpha, beta] of [[1, 0], [0.5, 1], [-1.25, 0.3]]) {
            parity([inp(ta ? [Kd, M] : [M, Kd]), inp(tb ? [N, Kd] : [Kd, N]), inp([M, N])], (be, [a, b, c]) => be.matmul(c, a, b, { transA: ta, transB: tb, alpha, beta }), 1e-5, 1e-5);
          }
        });
      }
    }
  }

  for (const [B, Kd, N] of [[3, 7, 5], [0, 4, 3], [5, 33, 17], [1, 1, 1]]) {
    it(`spikeMatmul / spikeOuter B=${B} K=${Kd} N=${N}`, () => {
      for (const beta of [0, 1, 0.7]) parity([inp([B, Kd], spikes(B * Kd, 0.3)), inp([Kd, N]), inp([B, N])], (be, [s, w, o]) => be.spikeMatmul(o, s, w, beta));
      parity([inp([B, Kd], spikes(B * Kd, 0.4, true)), inp([Kd, N]), inp([B, N])], (be, [s, w, o]) => be.spikeMatmul(o, s, w, 0.5));
      parity([inp([Kd, N]), inp([B, Kd], spikes(B * Kd, 0.3, true)), inp([B, N])], (be, [w, s, g]) => be.spikeOuter(w, s, g, -0.3));
    });
  }

  for (const [B, Kd, N, D] of [[2, 5, 3, 4], [3, 7, 6, 1], [1, 1, 1, 3]]) {
    it(`delayedSpikeMatmul / delayedOuter B=${B} K=${Kd} N=${N} D=${D}`, () => {
      const d = Float32Array.from({ length: Kd * N }, () => rng.int(D));
      for (const t of [0, 3, 17]) {
        parity([inp([D * B, N]), inp([B, Kd], spikes(B * Kd, 0.5, true)), inp([Kd, N]), inp([Kd, N], d)], (be, [r, s, w, dl]) => be.delayedSpikeMatmul(r, s, w, dl, t));
        parity([inp([Kd, N]), inp([D * B, Kd]), inp([B, N]), inp([Kd, N], d)], (be, [w, r, g, dl]) => be.delayedOuter(w, r, g, dl, t, 0.25));
      }
    });
  }

  it('transpose, addRow, sumRows (odd and empty shapes)', () => {
    for (const [R, C] of [[3, 5], [1, 1], [0, 4], [17, 9]]) {
      parity([inp([C, R]), inp([R, C])], (be, [o, x]) => be.transpose(o, x));
      parity([inp([R, C]), inp([C])], (be, [x, v]) => be.addRow(x, v));
      parity([inp([C]), inp([R, C])], (be, [o, x]) => be.sumRows(o, x));
      parity([inp([C]), inp([R, C])], (be, [o, x]) => be.sumRows(o, x, 0.5, 0.25));
    }
  });
});

describe('gpu (cpu mode) vs reference: neurons and elementwise', () => {
  const sizes = [[1, 1], [3, 7], [0, 5], [4, 33]];
  const lifs: LifKernelParams[] = [
    { beta: 0.9, threshold: 0.5, reset: 'subtract', resetDelay: true },
    { beta: 0.8, threshold: 1, reset: 'zero', resetDelay: true },
    { beta: 0.7, threshold: 0.3, reset: 'none', resetDelay: false },
    { beta: 0.95, threshold: 0.4, reset: 'subtract', resetDelay: false, vMin: -0.2 },
    { beta: 0.6, threshold: 0.5, reset: 'zero', resetDelay: false, vMin: -1 },
  ];
  for (const shape of sizes) {
    const n = shape[0] * shape[1];
    it(`lifStep / synapticStep / fused forms ${JSON.stringify(shape)}`, () => {
      for (const p of lifs) {
        parity([inp(shape), inp(shape, spikes(n, 0.5)), inp(shape)], (be, [u, s, i]) => {
          for (let k = 0; k < 3; k++) be.lifStep(u, s, i, p);
        });
        parity([inp(shape), inp(shape), inp(shape, spikes(n, 0.5)), inp(shape)], (be, [u, j, s, i]) => be.synapticStep(u, j, s, i, { ...p, alpha: 0.8 }));
        const sg = getSurrogate('fastSigmoid:k=5') as SurrogateKernelSpec;
        // the gpu backend has no fused forms: its separate kernels against reference's fused ones
        parity([inp(shape), inp(shape, spikes(n, 0.5)), inp(shape), inp(shape), inp(shape), inp([2, 3]), inp([2, 3])], (be, [u, s, i, f, df, e, x]) =>
          fusedStepFallback(be, u, s, i, p, { sg, f, df, trace: { e, x, decay: 0.6 } }));
        parity([inp(shape), inp(shape), inp(shape, spikes(n, 0.5)), inp(shape), inp(shape)], (be, [u, j, s, i, df]) =>
          fusedStepFallback(be, u, s, i, { ...p, alpha: 0.5 }, { sg, df }, j));
      }
    });

    it(`leakyStep, izhikevichStep, adexStep ${JSON.stringify(shape)}`, () => {
      for (const act of ['identity', 'tanh', 'sigmoid', 'relu', 'softsign-gpu-test']) {
        parity([inp(shape), inp(shape), inp(shape)], (be, [h, a, i]) => be.leakyStep(h, a, i, 0.3, act));
      }
      const izh = { a: 0.02, b: 0.2, c: -65, d: 8, vPeak: 30, nSub: 2, hMs: 0.5 };
      parity([inp(shape, randn(n, 20).map((v) => v - 60)), inp(shape, randn(n, 3)), inp(shape), inp(shape, randn(n, 10).map((v) => v + 5))], (be, [v, u, s, i]) => {
        for (let k = 0; k < 5; k++) be.izhikevichStep(v, u, s, i, izh);
      }, 1e-4, 1e-4);
      const adex = { C: 281, gL: 30, EL: -70.6, deltaT: 2, VT: -50.4, tauWMs: 144, a: 4, b: 80.5, Vr: -70.6, Vpeak: 20, nSub: 3, hMs: 0.1 };
      parity([inp(shape, randn(n, 15).map((v) => v - 55)), inp(shape, randn(n, 10)), inp(shape), inp(shape, randn(n, 300).map((v) => v + 600))], (be, [v, w, s, i]) => {
        for (let k = 0; k < 5; k++) be.adexStep(v, w, s, i, adex);
      }, 1e-4, 1e-4);
    });

    it(`elementwise ops ${JSON.stringify(shape)}`, () => {
      parity([inp(shape), inp(shape)], (be, [y, x]) => be.axpby(y, x, 0.3, -1.5));
      parity([inp(shape), inp(shape), inp(shape)], (be, [o, a, b]) => be.mul(o, a, b));
      parity([inp(shape), inp(shape)], (be, [a, b]) => be.mul(a, a, b)); // aliasing out and a
      parity([inp(shape)], (be, [x]) => be.addScalar(x, 0.25));
      parity([inp(shape)], (be, [x]) => be.fill(x, -3.5));
      parity([inp(shape), inp(shape)], (be, [d, s]) => be.copy(d, s));
      parity([inp(shape), inp(shape)], (be, [g, u]) => be.gateBelow(g, u, 0.1));
      for (const [from, to] of [[0, shape[0]], [0, 0], [Math.floor(shape[0] / 2), shape[0]]]) parity([inp(shape)], (be, [x]) => be.fillRows(x, from, to, 2));
      for (const act of ['identity', 'tanh', 'sigmoid', 'relu', 'softsign-gpu-test']) {
        for (const deriv of [false, true]) {
          parity([inp(shape), inp(shape, randn(n, 4))], (be, [o, x]) => be.activation(o, x, act, deriv));
          parity([inp(shape, randn(n, 4))], (be, [x]) => be.activation(x, x, act, deriv));
        }
      }
      parity([inp(shape)], (be, [x]) => be.sum(x), 1e-5, 1e-4);
      parity([inp(shape)], (be, [x]) => be.sumSquares(x), 1e-5, 1e-4);
      parity([inp(shape)], (be, [x]) => {
        be.addScalar(x, 1); // no host mirror
        return be.sum(x);
      }, 1e-5, 1e-4);
      parity([inp(shape), inp(shape), inp(shape, spikes(n, 0.5)), inp(shape), inp(shape)], (be, [g, d, mask, count, s]) =>
        be.gradTail ? be.gradTail(g, d, mask, Math.max(0, shape[0] - 1), count, s) : gradTailFallback(be, g, d, mask, Math.max(0, shape[0] - 1), count, s));
    });
  }

  it('copySlice: offsets and counts, including empty', () => {
    for (const [dOff, sOff, count] of [[0, 0, 5], [3, 1, 4], [7, 0, 0], [1, 6, 6]]) {
      parity([inp([12]), inp([3, 4])], (be, [d, s]) => be.copySlice(d, dOff, s, sOff, count));
    }
  });

  it('elementwise (compiled per-element functions) runs on the host over read-back arrays', () => {
    const kernel = (a: Float32Array[], p: readonly number[], lo: number, hi: number): void => {
      for (let i = lo; i < hi; i++) {
        a[0][i] = a[0][i] * p[0] + a[1][i];
        a[1][i] = Math.exp(-Math.abs(a[0][i]));
      }
    };
    parity([inp([3, 5]), inp([3, 5])], (be, [x, y]) => be.elementwise(kernel, [x, y], [0.5]));
  });

  it('surrogate: every registered family, f and f′ (native kernels and host fallbacks)', () => {
    for (const name of surrogateNames()) {
      const sg = getSurrogate(name) as SurrogateKernelSpec;
      for (const deriv of [false, true]) {
        let ok = true;
        try {
          sg.f(0.1);
        } catch {
          ok = false;
        }
        if (!ok && !deriv) continue;
        parity([inp([4, 9]), inp([4, 9], randn(36, 2))], (be, [o, u]) => be.surrogate(o, u, 0.3, sg, deriv), 1e-5, 1e-6);
      }
    }
  });

  it('the registry families with a device kernel run on it (no host fallback)', () => {
    for (const name of Object.keys(NATIVE_SURROGATES)) {
      const sg = getSurrogate(name) as SurrogateKernelSpec;
      const out = gpu.tensor([2, 3]) as GpuTensor;
      gpu.surrogate(out, gpu.fromArray([2, 3], [-1, -0.2, 0, 0.1, 0.5, 3]), 0.1, sg, true);
      expect(out.mirror, name).toBeNull(); // a host fallback writes from the host and leaves a mirror
    }
    const out = gpu.tensor([3]) as GpuTensor;
    gpu.activation(out, gpu.fromArray([3], [-1, 0, 2]), 'softsign-gpu-test', false);
    expect(out.mirror).not.toBeNull();
  });

  it('rateSpikes draws the xoshiro stream of reference (host mirror and read-back paths)', () => {
    const P = Float32Array.from({ length: 37 }, (_, i) => (i % 5 === 0 ? 0 : (i % 7) / 7));
    const r1 = new Rng(4), r2 = new Rng(4);
    const ro = ref.tensor([37]), go = gpu.tensor([37]);
    const rp = ref.fromArray([37], P), gp = gpu.fromArray([37], P);
    ref.rateSpikes(ro, rp, r1);
    gpu.rateSpikes(go, gp, r2);
    expect(Array.from(gpu.read(go))).toEqual(Array.from(ref.read(ro)));
    gpu.addScalar(gp, 0); // a device-written p: read back
    ref.rateSpikes(ro, rp, r1);
    gpu.rateSpikes(go, gp, r2);
    expect(Array.from(gpu.read(go))).toEqual(Array.from(ref.read(ro)));
    expect(r2.uniform()).toBe(r1.uniform());
  });
});

describe('gpu (cpu mode) vs reference: losses and optimisers', () => {
  for (const [R, N] of [[3, 5], [1, 1], [6, 17], [0, 4]]) {
    it(`normalizeRows (+ backward), softmax, CE, L2, FF [${R}, ${N}]`, () => {
      const rows = Math.max(0, R - 1), row0 = R > 0 ? 1 : 0;
      for (const normalize of [true, false]) {
        parity([inp([rows, N]), inp([rows]), inp([R, N])], (be, [o, nr, x]) => be.normalizeRows(o, nr, x, Math.min(row0, R - rows), normalize, 1e-6));
        parity([inp([R, N]), inp([R, N]), inp([rows, N]), inp([rows], randn(rows).map((v) => 1 + Math.abs(v)))], (be, [g, x, dh, nr]) =>
          be.normalizeRowsBackward(g, x, Math.min(row0, R - rows), dh, nr, normalize));
      }
      parity([inp([R, N]), inp([R, N], randn(R * N, 5))], (be, [o, x]) => be.softmaxRows(o, x));
      const P = rng.fillUniform(new Float32Array(R * N)).map((v) => (v < 0.5 ? 0 : v));
      parity([inp([1], new Float32Array([0.5])), inp([R, N]), inp([R, N], randn(R * N, 3)), inp([R, N], P)], (be, [l, dy, y, p]) =>
        be.softmaxCrossEntropy(l, dy, y, p, { lossDivisor: 3, gradScale: 2, gradDivisor: 5 }));
      parity([inp([1]), inp([R, N], randn(R * N, 3)), inp([R, N], P)], (be, [l, y, p]) => be.softmaxCrossEntropy(l, y, y, p));
      parity([inp([1]), inp([R, N], P)], (be, [l, p]) => be.softmaxCrossEntropy(l, null, p, p));
      if (R > 0) {
        const nh = Math.floor(R / 2) || 1;
        parity([inp([1]), inp([2 * nh, N]), inp([2 * nh, N])], (be, [l, g, r]) => be.l2PairLoss(l, g, r, nh));
        parity([inp([1]), inp([2 * nh, N])], (be, [l, r]) => be.l2PairLoss(l, null, r, nh));
      }
      const nPos = Math.floor(R / 2), nNeg = Math.max(0, R - nPos - 1);
      for (const mean of [true, false]) {
        for (const goodnessBeta of [0, 0.9]) {
          parity([inp([1]), inp([R, N]), inp([R]), inp([R, N])], (be, [l, g, good, y]) =>
            be.ffGoodness(l, g, good, y, { theta: 1.5, mean, nPos, nNeg, lossDivisor: 2, gradDivisor: 3, goodnessBeta }));
        }
      }
      parity([inp([R, N])], (be, [y]) => be.ffGoodness(null, null, null, y, { theta: 0, mean: true, nPos: 0, nNeg: 0 }));
      if (R > 0) {
        parity([inp([1]), inp([R, N]), inp([N]), inp([R, N])], (be, [l, g, run, y]) => be.ffPeerNorm(l, g, run, y, Math.max(1, nPos), 0.9, 0.03));
        parity([inp([N]), inp([R, N])], (be, [run, y]) => be.ffPeerNorm(null, null, run, y, R, 0, 1));
      }
    });
  }

  for (const n of [1, 7, 0, 130]) {
    it(`sgd, momentum, adam (n = ${n})`, () => {
      for (const wd of [0, 0.01]) {
        parity([inp([n]), inp([n])], (be, [w, g]) => be.sgdStep(w, g, 0.1, wd));
        parity([inp([n]), inp([n]), inp([n])], (be, [w, g, v]) => {
          for (let k = 0; k < 3; k++) be.momentumStep(w, g, v, 0.05, 0.9, wd);
        });
        const p: AdamStepParams = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001, weightDecay: wd };
        parity([inp([n]), inp([n]), inp([n]), inp([n], randn(n).map(Math.abs))], (be, [w, g, m, v]) => be.adamStep(w, g, m, v, p), 1e-5, 1e-5);
      }
    });
  }
});

describe('gpu backend: contract details', () => {
  it('shape errors as reference gives them', () => {
    const a = gpu.tensor([2, 3]), b = gpu.tensor([4, 5]), c = gpu.tensor([2, 5]);
    expect(() => gpu.matmul(c, a, b)).toThrow(ShapeError);
    expect(() => gpu.mul(a, a, b)).toThrow(ShapeError);
    expect(() => gpu.addRow(a, gpu.tensor([4]))).toThrow(ShapeError);
    expect(() => gpu.fillRows(a, 1, 3, 0)).toThrow(ShapeError);
    expect(() => gpu.copySlice(a, 4, b, 0, 3)).toThrow(ShapeError);
    expect(() => gpu.softmaxCrossEntropy(gpu.tensor([2]), null, a, a)).toThrow(ShapeError);
    expect(() => gpu.matmul(c, ref.tensor([2, 3]), b)).toThrow(SigpropError);
  });

  it('tensor.data throws a SigpropError naming backend.read()/backend.write()', () => {
    const t = gpu.fromArray([2], [1, 2]);
    expect(() => t.data).toThrow(SigpropError);
    expect(() => t.data).toThrow(/backend\.read\(t\).*backend\.write\(t, values\)/);
    expect(Array.from(gpu.read(t))).toEqual([1, 2]);
    gpu.write(t, [3, 4]);
    expect(Array.from(gpu.read(t))).toEqual([3, 4]);
  });

  it('the count of live device arrays stays flat over many steps', () => {
    const B = 4, Kd = 9, N = 6;
    const w = gpu.fromArray([Kd, N], randn(Kd * N)), x = gpu.tensor([B, Kd]), i = gpu.tensor([B, N]);
    const u = gpu.tensor([B, N]), s = gpu.tensor([B, N]), g = gpu.tensor([B, N]), m = gpu.tensor([Kd, N]), v = gpu.tensor([Kd, N]);
    const p = gpu.fromArray([B, Kd], rng.fillUniform(new Float32Array(B * Kd))), loss = gpu.tensor([1]);
    const sg = getSurrogate('fastSigmoid') as SurrogateKernelSpec;
    const r = new Rng(1);
    const step = (t: number): void => {
      gpu.rateSpikes(x, p, r);
      gpu.spikeMatmul(i, x, w);
      gpu.lifStep(u, s, i, { beta: 0.9, threshold: 0.5, reset: 'subtract', resetDelay: true });
      gpu.surrogate(g, u, 0.5, sg, true);
      gpu.softmaxCrossEntropy(loss, g, u, s);
      gpu.spikeOuter(m, x, g, 1);
      gpu.adamStep(w, m, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 1 - 0.9 ** t, c2: 1 - 0.999 ** t, weightDecay: 0 });
      gpu.sum(w);
    };
    step(1);
    const before = gpu.liveBuffers();
    for (let t = 2; t < 200; t++) step(t);
    expect(gpu.liveBuffers()).toBe(before);
    const extra = gpu.tensor([3]);
    expect(gpu.liveBuffers()).toBe(before + 1);
    gpu.free(extra);
    gpu.free(extra);
    expect(gpu.liveBuffers()).toBe(before);
  });

  it('describe() names the mode; the registry creates gpu with gpuMode or SIGPROP_GPU_MODE', async () => {
    expect(gpu.describe()).toMatch(/cpu/);
    const a = (await createBackend('gpu', { gpuMode: 'cpu' })) as GpuBackend;
    expect(a.name).toBe('gpu');
    expect(a.mode).toBe('cpu');
    await a.dispose();
    const old = process.env.SIGPROP_GPU_MODE;
    process.env.SIGPROP_GPU_MODE = 'cpu';
    try {
      const b = (await createBackend('gpu')) as GpuBackend;
      expect(b.mode).toBe('cpu');
      await b.dispose();
    } finally {
      if (old === undefined) delete process.env.SIGPROP_GPU_MODE;
      else process.env.SIGPROP_GPU_MODE = old;
    }
  });

  it('importing the registry does not load gpu.js (the gpu factory imports it on first use)', () => {
    const script = [
      "const { createRequire } = await import('node:module');",
      `await import(${JSON.stringify(new URL('../src/backend/registry.ts', import.meta.url).href)});`,
      'const n = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes("gpu.js")).length;',
      'process.stdout.write(String(n));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
    expect(out.trim()).toBe('0');
  }, 30_000);

  it("'auto' in Node without the gl package fails with what was tried and what to install", async () => {
    const err = await createGpuBackend({ mode: 'auto' }).then(
      () => null,
      (e: unknown) => e,
    );
    if (err === null) return; // a machine with headless-gl: nothing to check here
    expect(err).toBeInstanceOf(SigpropError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/headless-gl/);
    expect(msg).toMatch(/npm install gl/);
    expect(msg).toMatch(/WebGPU adapter/);
    expect(msg).toMatch(/gpuMode "cpu"/);
    await expect(createGpuBackend({ mode: 'webgl2' })).rejects.toThrow(/browser/);
    await expect(createGpuBackend({ mode: 'bogus' as never })).rejects.toThrow(SigpropError);
  }, 30_000);
});
