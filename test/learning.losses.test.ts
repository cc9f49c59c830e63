import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Rng } from '../src/rng.js';
import {
  l2Loss, lossValue, oneHotTargets, sameClassTargets, similarityCE, similarityTargets, softmaxCE, softmaxCELabels,
  type SimilarityOptions,
} from '../src/learning/losses.js';
import type { Tensor } from '../src/tensor.js';
import { Scratch } from '../src/learning/scratch.js';
import { createOptimizer, scheduledLearningRate, type Param } from '../src/learning/optimizers.js';

const be = new ReferenceBackend();

/** Central finite difference of f wrt every element of arr (float64 evaluation via float32 storage). */
function fdGrad(arr: Float32Array, f: () => number, h = 1e-3): Float64Array {
  const out = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    arr[i] = v + h;
    const fp = f();
    arr[i] = v - h;
    const fm = f();
    arr[i] = v;
    out[i] = (fp - fm) / (2 * h);
  }
  return out;
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 1e-6;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

/** The former host loop of softmax CE (integer labels, mean over B): the oracle the kernel form must equal. */
function softmaxCEHost(
  z: Float32Array, labels: ArrayLike<number>, C: number, dz: Float32Array | null,
): { loss: number; correct: number } {
  const B = labels.length;
  let loss = 0, correct = 0;
  for (let b = 0; b < B; b++) {
    const off = b * C;
    let mx = -Infinity, arg = 0;
    for (let c = 0; c < C; c++) if (z[off + c] > mx) (mx = z[off + c]), (arg = c);
    if (arg === labels[b]) correct++;
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(z[off + c] - mx);
    const lz = mx + Math.log(s);
    loss += lz - z[off + labels[b]];
    if (dz) for (let c = 0; c < C; c++) dz[off + c] = (Math.exp(z[off + c] - lz) - (c === labels[b] ? 1 : 0)) / B;
  }
  return { loss: loss / B, correct };
}

describe('local losses: gradients match finite differences', () => {
  const rng = new Rng(3);
  const nh = 5, n = 7;
  const labels = [0, 1, 0, 2, 1];
  /** similarityCE's value (a fresh accumulator, read back). */
  const simCE = (sc: Scratch, r: Tensor, P: Tensor, g: Tensor | null, opts: SimilarityOptions): number =>
    lossValue(sc, (acc) => similarityCE(be, sc, r, nh, P, g, opts, acc));

  for (const normalize of [true, false]) {
    it(`similarity CE (normalize=${normalize}) with same-class targets`, () => {
      const sc = new Scratch(be);
      const r = be.fromArray([2 * nh, n], rng.fillNormal(new Float32Array(2 * nh * n)));
      const P = sameClassTargets(sc, labels, labels);
      const g = be.tensor([2 * nh, n]);
      const opts = { temperature: 0.5, normalize };
      const loss = simCE(sc, r, P, g, opts);
      expect(loss).toBeGreaterThan(0);
      const fd = fdGrad(r.data, () => simCE(sc, r, P, null, opts));
      expect(maxRelErr(g.data, fd)).toBeLessThan(2e-3);
    });
  }

  it('class-signal CE (one target row per class, hard targets)', () => {
    const sc = new Scratch(be);
    const C = 3;
    const r = be.fromArray([nh + C, n], rng.fillNormal(new Float32Array((nh + C) * n)));
    const P = sameClassTargets(sc, labels, [0, 1, 2]);
    const g = be.tensor([nh + C, n]);
    const opts = { temperature: 0.3, normalize: true };
    simCE(sc, r, P, g, opts);
    const fd = fdGrad(r.data, () => simCE(sc, r, P, null, opts));
    expect(maxRelErr(g.data, fd)).toBeLessThan(2e-3);
  });

  it('normEps: gradients still match finite differences, and a near-silent row gets a bounded gradient', () => {
    const sc = new Scratch(be);
    const C = 3, tau = 0.3;
    const P = sameClassTargets(sc, labels, [0, 1, 2]);
    const r = be.fromArray([nh + C, n], rng.fillNormal(new Float32Array((nh + C) * n)));
    const g = be.tensor([nh + C, n]);
    const opts = { temperature: tau, normalize: true, normEps: 0.01 };
    simCE(sc, r, P, g, opts);
    const fd = fdGrad(r.data, () => simCE(sc, r, P, null, opts));
    expect(maxRelErr(g.data, fd)).toBeLessThan(2e-3);

    // input row 0 almost silent: ‖∂L/∂r_0‖ ≤ 4/(nh·τ·√ε) with ε = normEps (each dL/dY row sums
    // to at most 2/(nh·τ) in absolute value, and the normalisation adds at most 2/√ε)
    for (let k = 0; k < n; k++) r.data[k] *= 1e-5;
    const rowNorm = (eps: number): number => {
      simCE(sc, r, P, g, { ...opts, normEps: eps });
      let s = 0;
      for (let k = 0; k < n; k++) s += g.data[k] * g.data[k];
      return Math.sqrt(s);
    };
    const bounded = rowNorm(0.01), unbounded = rowNorm(1e-8);
    expect(bounded).toBeLessThanOrEqual(4 / (nh * tau * Math.sqrt(0.01)));
    expect(unbounded).toBeGreaterThan(100 * bounded);
  });

  it('similarity targets are a row-stochastic matrix peaked on the diagonal', () => {
    const sc = new Scratch(be);
    const r = be.fromArray([2 * nh, n], rng.fillNormal(new Float32Array(2 * nh * n)));
    const P = be.read(similarityTargets(be, sc, r, nh, { temperature: 0.1, normalize: true }));
    for (let i = 0; i < nh; i++) {
      let s = 0, mx = 0, arg = -1;
      for (let j = 0; j < nh; j++) {
        s += P[i * nh + j];
        if (P[i * nh + j] > mx) (mx = P[i * nh + j]), (arg = j);
      }
      expect(s).toBeCloseTo(1, 5);
      expect(arg).toBe(i);
    }
  });

  it('L2 loss', () => {
    const sc = new Scratch(be);
    const r = be.fromArray([2 * nh, n], rng.fillNormal(new Float32Array(2 * nh * n)));
    const g = be.tensor([2 * nh, n]);
    lossValue(sc, (acc) => l2Loss(be, r, nh, g, acc));
    const fd = fdGrad(r.data, () => lossValue(sc, (acc) => l2Loss(be, r, nh, null, acc)));
    expect(maxRelErr(g.data, fd)).toBeLessThan(2e-3);
  });

  it('softmax CE (one-hot targets; labels form; host form)', () => {
    const sc = new Scratch(be);
    const C = 4;
    const z = be.fromArray([nh, C], rng.fillNormal(new Float32Array(nh * C)));
    const lab = [0, 3, 1, 1, 2];
    const dz = be.tensor([nh, C]);
    const P = oneHotTargets(sc, lab, C);
    const loss = lossValue(sc, (acc) => softmaxCE(be, z, P, dz, acc));
    expect(loss).toBeGreaterThan(0);
    const fd = fdGrad(z.data, () => lossValue(sc, (acc) => softmaxCE(be, z, P, null, acc)));
    expect(maxRelErr(dz.data, fd)).toBeLessThan(2e-3);
    const hostDz = new Float32Array(nh * C);
    const host = softmaxCEHost(be.read(z), lab, C, hostDz);
    expect(Array.from(hostDz)).toEqual(Array.from(dz.data));
    const viaLabels = softmaxCELabels(be, sc, z, lab, null);
    expect(viaLabels.loss).toBeCloseTo(host.loss, 6);
    expect(viaLabels.correct).toBe(host.correct);
  });
});

describe('optimisers', () => {
  const mk = (): Param => ({ name: 'w', value: be.fromArray([2], [1, -2]), grad: be.fromArray([2], [0.5, -1]) });

  it('SGD: w -= lr·(g + wd·w)', () => {
    const p = mk();
    createOptimizer(be, 'sgd', [p], { learningRate: 0.1, weightDecay: 0.01 }).step();
    expect(p.value.data[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.01), 6);
    expect(p.value.data[1]).toBeCloseTo(-2 - 0.1 * (-1 - 0.02), 6);
  });

  it('momentum accumulates velocity', () => {
    const p = mk();
    const o = createOptimizer(be, 'momentum', [p], { learningRate: 0.1, momentum: 0.9 });
    o.step();
    o.step();
    // v1 = g, v2 = 0.9 g + g = 1.9 g; w = w0 − 0.1·(1 + 1.9)·g
    expect(p.value.data[0]).toBeCloseTo(1 - 0.1 * 2.9 * 0.5, 6);
  });

  it('Adam first step moves each weight by about lr against the gradient sign; state round-trips', () => {
    const p = mk();
    const o = createOptimizer(be, 'adam', [p], { learningRate: 0.01 });
    o.step();
    expect(p.value.data[0]).toBeCloseTo(1 - 0.01, 5);
    expect(p.value.data[1]).toBeCloseTo(-2 + 0.01, 5);
    const s = o.state();
    const q = mk();
    const o2 = createOptimizer(be, 'adam', [q], { learningRate: 0.01 });
    o2.loadState(s);
    q.value.data.set(p.value.data);
    o.step();
    o2.step();
    expect(Array.from(q.value.data)).toEqual(Array.from(p.value.data));
  });

  it('schedule and validation', () => {
    expect(scheduledLearningRate(1, 0, { milestones: [2, 4], gamma: 0.1 })).toBe(1);
    expect(scheduledLearningRate(1, 2, { milestones: [2, 4], gamma: 0.1 })).toBeCloseTo(0.1);
    expect(scheduledLearningRate(1, 5, { milestones: [2, 4], gamma: 0.1 })).toBeCloseTo(0.01);
    expect(() => createOptimizer(be, 'rmsprop', [mk()], { learningRate: 0.1 })).toThrow(/optimizer must be one of: sgd, momentum, adam/);
    expect(() => createOptimizer(be, 'sgd', [mk()], { learningRate: -1 })).toThrow(/learningRate/);
  });
});
