// Loss, optimiser and small elementwise kernels: hand-computed cases on `reference`, and parity of
// the wasm backend with `reference` (rtol 1e-5) on odd shapes.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import { ShapeError } from '../src/errors.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';
import { registerActivation } from '../models/activations.js';
import { l2Loss, lossValue, oneHotTargets, sameClassTargets, similarityCE, similarityTargets, softmaxCE } from '../src/learning/losses.js';
import { createOptimizer } from '../src/learning/optimizers.js';
import { Scratch } from '../src/learning/scratch.js';
import { expectClose, withWasm } from './wasm.helpers.js';

const ref = new ReferenceBackend();
let wasm: WasmBackend;
withWasm((b) => (wasm = b));


describe('loss kernels: hand-computed cases (reference)', () => {
  const be = ref;

  it('normalizeRows / normalizeRowsBackward', () => {
    const x = be.fromArray([3, 2], [9, 9, 3, 4, 0, 1]);
    const out = be.tensor([2, 2]), norms = be.tensor([2]);
    be.normalizeRows(out, norms, x, 1, true, 0);
    expectClose(be.read(norms), [5, 1]);
    expectClose(be.read(out), [0.6, 0.8, 0, 1]);
    // d(r/‖r‖)ᵀ·dhat for r = (3, 4), dhat = (1, 0): (1/5)(1, 0) − (3/125)(3, 4)
    const g = be.fromArray([3, 2], [7, 7, 0, 0, 0, 0]);
    be.normalizeRowsBackward(g, x, 1, be.fromArray([2, 2], [1, 0, 0, 0]), norms, true);
    expectClose(be.read(g), [7, 7, 0.2 - 9 / 125, -12 / 125, 0, 0]);
    be.normalizeRows(out, norms, x, 0, false, 1e-8);
    expectClose(be.read(norms), [1, 1]);
    expectClose(be.read(out), [9, 9, 3, 4]);
    be.normalizeRowsBackward(g, x, 0, be.fromArray([2, 2], [1, 2, 3, 4]), norms, false);
    expectClose(be.read(g), [1, 2, 3, 4, 0, 0]);
  });

  it('softmaxCrossEntropy: loss accumulates, gradient (q − p)·scale', () => {
    const y = be.fromArray([2, 2], [0, 0, Math.log(3), 0]);
    const p = be.fromArray([2, 2], [1, 0, 0.5, 0.5]);
    const loss = be.fromArray([1], [1]);
    const dy = be.tensor([2, 2]);
    be.softmaxCrossEntropy(loss, dy, y, p, { lossDivisor: 2, gradScale: 3, gradDivisor: 2 });
    // row 0: −log ½; row 1: q = (¾, ¼), −½ log ¾ − ½ log ¼
    const L = (Math.log(2) - 0.5 * Math.log(0.75) - 0.5 * Math.log(0.25)) / 2;
    expectClose(be.read(loss), [1 + L]);
    expectClose(be.read(dy), [-0.5 * 1.5, 0.5 * 1.5, 0.25 * 1.5, -0.25 * 1.5]);
    // dy may alias y; no dy: loss only
    be.softmaxCrossEntropy(loss, null, y, p, { lossDivisor: 2 });
    expectClose(be.read(loss), [1 + 2 * L]);
    be.softmaxCrossEntropy(loss, y, y, p);
    expectClose(be.read(y), [-0.5, 0.5, 0.25, -0.25]);
  });

  it('softmaxRows, l2PairLoss, transpose', () => {
    const x = be.fromArray([2, 2], [0, Math.log(3), 5, 5]);
    be.softmaxRows(x, x);
    expectClose(be.read(x), [0.25, 0.75, 0.5, 0.5]);
    const r = be.fromArray([2, 2], [1, 2, 0, 4]);
    const loss = be.tensor([1]), g = be.tensor([2, 2]);
    be.l2PairLoss(loss, g, r, 1);
    expectClose(be.read(loss), [0.5 * (1 + 4)]);
    expectClose(be.read(g), [1, -2, -1, 2]);
    const t = be.tensor([3, 2]);
    be.transpose(t, be.fromArray([2, 3], [1, 2, 3, 4, 5, 6]));
    expectClose(be.read(t), [1, 4, 2, 5, 3, 6]);
    expect(() => be.l2PairLoss(loss, g, be.tensor([3, 2]), 1)).toThrow(ShapeError);
  });

  it('addScalar, fillRows, gateBelow, activation', () => {
    const x = be.fromArray([3, 2], [1, 2, 3, 4, 5, 6]);
    be.addScalar(x, 0.5);
    expectClose(be.read(x), [1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
    be.fillRows(x, 1, 3, 0);
    expectClose(be.read(x), [1.5, 2.5, 0, 0, 0, 0]);
    expect(() => be.fillRows(x, 2, 4, 0)).toThrow(ShapeError);
    const g = be.fromArray([4], [1, 1, 1, 1]);
    be.gateBelow(g, be.fromArray([4], [-2, -1, 0, 1]), -1);
    expectClose(be.read(g), [0, 0, 1, 1]);
    const h = be.fromArray([3], [-1, 0, 2]), o = be.tensor([3]);
    be.activation(o, h, 'relu', false);
    expectClose(be.read(o), [0, 0, 2]);
    be.activation(o, h, 'relu', true);
    expectClose(be.read(o), [0, 0, 1]);
    be.activation(o, h, 'sigmoid', true);
    expectClose(be.read(o), [Math.exp(-1) / (1 + Math.exp(-1)) ** 2, 0.25, Math.exp(-2) / (1 + Math.exp(-2)) ** 2]);
    be.activation(o, h, 'tanh', false);
    expectClose(be.read(o), [Math.tanh(-1), 0, Math.tanh(2)]);
  });

  it('optimiser steps', () => {
    const w = be.fromArray([2], [1, -2]), g = be.fromArray([2], [0.5, -1]);
    be.sgdStep(w, g, 0.1, 0.01);
    expectClose(be.read(w), [1 - 0.1 * (0.5 + 0.01), -2 - 0.1 * (-1 - 0.02)]);
    const w2 = be.fromArray([2], [1, -2]), v = be.tensor([2]);
    be.momentumStep(w2, g, v, 0.1, 0.9, 0);
    be.momentumStep(w2, g, v, 0.1, 0.9, 0);
    expectClose(be.read(v), [1.9 * 0.5, -1.9]);
    expectClose(be.read(w2), [1 - 0.1 * 2.9 * 0.5, -2 + 0.1 * 2.9]);
    // first Adam step with bias correction moves every weight by lr·sign(g) (up to eps)
    const w3 = be.fromArray([2], [1, -2]), m = be.tensor([2]), v3 = be.tensor([2]);
    be.adamStep(w3, g, m, v3, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 0.1, c2: 1 - 0.999, weightDecay: 0 });
    expectClose(be.read(w3), [0.99, -1.99]);
    expectClose(be.read(m), [0.05, -0.1]);
  });
});

describe('loss kernels: wasm matches reference', () => {
  const rng = new Rng(11);
  const randn = (n: number, s = 1): Float32Array => {
    const a = rng.fillNormal(new Float32Array(n));
    for (let i = 0; i < n; i++) a[i] *= s;
    return a;
  };
  /** Run f on both backends with equal inputs; returns each backend's reads of the listed outputs. */
  function both(inputs: [number[], Float32Array][], f: (be: Backend, t: Tensor[]) => void): [Float32Array[], Float32Array[]] {
    const run = (be: Backend): Float32Array[] => {
      const t = inputs.map(([shape, data]) => be.fromArray(shape, data));
      f(be, t);
      return t.map((x) => be.read(x));
    };
    return [run(ref), run(wasm)];
  }
  function expectBoth(inputs: [number[], Float32Array][], f: (be: Backend, t: Tensor[]) => void, rtol = 1e-5, atol = 1e-6): void {
    const [a, b] = both(inputs, f);
    a.forEach((x, i) => expectClose(b[i], x, rtol, atol));
  }

  it('normalizeRows and backward', () => {
    for (const normalize of [true, false]) {
      const R = 13, N = 7, r0 = 5, rows = 6;
      expectBoth(
        [[[R, N], randn(R * N)], [[rows, N], new Float32Array(rows * N)], [[rows], new Float32Array(rows)], [[rows, N], randn(rows * N)], [[R, N], randn(R * N)]],
        (be, [x, out, norms, dhat, g]) => {
          be.normalizeRows(out, norms, x, r0, normalize, 1e-3);
          be.normalizeRowsBackward(g, x, r0, dhat, norms, normalize);
        },
      );
    }
  });

  it('softmaxCrossEntropy (soft and one-hot targets), softmaxRows', () => {
    const R = 9, C = 11;
    const P = new Float32Array(R * C);
    for (let i = 0; i < R; i++) {
      let s = 0;
      for (let j = 0; j < C; j++) s += P[i * C + j] = j % 3 === i % 3 ? rng.uniform() : 0;
      for (let j = 0; j < C; j++) P[i * C + j] /= s;
    }
    const onehot = new Float32Array(R * C).map((_, k) => (k % C === (Math.floor(k / C) * 7) % C ? 1 : 0));
    for (const p of [P, onehot]) {
      expectBoth(
        [[[1], Float32Array.of(0.25)], [[R, C], new Float32Array(R * C)], [[R, C], randn(R * C, 4)], [[R, C], p]],
        (be, [loss, dy, y, pt]) => {
          be.softmaxCrossEntropy(loss, dy, y, pt, { lossDivisor: 3, gradScale: 0.7, gradDivisor: 5 });
          be.softmaxCrossEntropy(loss, y, y, pt);
        },
      );
    }
    expectBoth([[[R, C], randn(R * C, 5)], [[R, C], new Float32Array(R * C)]], (be, [x, out]) => {
      be.softmaxRows(out, x);
      be.softmaxRows(x, x);
    });
  });

  it('l2PairLoss, transpose, addScalar, fillRows, gateBelow', () => {
    const nh = 7, N = 5;
    expectBoth([[[1], new Float32Array(1)], [[2 * nh, N], randn(2 * nh * N)], [[2 * nh, N], new Float32Array(2 * nh * N)], [[N, 2 * nh], new Float32Array(2 * nh * N)]], (be, [loss, r, g, t]) => {
      be.l2PairLoss(loss, g, r, nh);
      be.l2PairLoss(loss, null, r, nh);
      be.transpose(t, r);
      be.addScalar(r, 0.1);
      be.fillRows(r, 2, 5, -3);
      be.gateBelow(g, r, -0.2);
    });
  });

  it('activation (native names and a registered custom one)', () => {
    registerActivation({ name: 'testSquare', f: (h) => h * h, df: (h) => 2 * h });
    for (const name of ['identity', 'tanh', 'sigmoid', 'relu', 'testSquare']) {
      for (const deriv of [false, true]) {
        expectBoth([[[37], randn(37, 6)], [[37], new Float32Array(37)]], (be, [x, out]) => {
          be.activation(out, x, name, deriv);
          be.activation(x, x, name, deriv);
        });
      }
    }
  });

  it('optimiser steps (with and without weight decay)', () => {
    const n = 23;
    for (const wd of [0, 0.01]) {
      expectBoth([[[n], randn(n)], [[n], randn(n)], [[n], new Float32Array(n)], [[n], new Float32Array(n)]], (be, [w, g, m, v]) => {
        be.sgdStep(w, g, 0.1, wd);
        be.momentumStep(w, g, m, 0.05, 0.9, wd);
        be.momentumStep(w, g, m, 0.05, 0.9, wd);
        be.fill(m, 0);
        for (let t = 1; t <= 3; t++) {
          be.adamStep(w, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 1 - 0.9 ** t, c2: 1 - 0.999 ** t, weightDecay: wd });
        }
      });
    }
  });
});

describe('losses.ts and optimizers.ts on wasm match reference', () => {
  it('similarityCE, similarityTargets, l2Loss, softmaxCE', () => {
    const rng = new Rng(5);
    const nh = 6, n = 9, C = 4;
    const rData = rng.fillNormal(new Float32Array(2 * nh * n));
    const labels = [0, 1, 2, 0, 3, 1];
    const run = (be: Backend): Float32Array[] => {
      const sc = new Scratch(be);
      const r = be.fromArray([2 * nh, n], rData), g = be.tensor([2 * nh, n]);
      const out: Float32Array[] = [];
      for (const normalize of [true, false]) {
        const P = sameClassTargets(sc, labels, labels);
        out.push(Float32Array.of(lossValue(sc, (acc) => similarityCE(be, sc, r, nh, P, g, { temperature: 0.4, normalize }, acc))), be.read(g));
        out.push(be.read(similarityTargets(be, sc, r, nh, { temperature: 0.4, normalize })));
      }
      out.push(Float32Array.of(lossValue(sc, (acc) => l2Loss(be, r, nh, g, acc))), be.read(g));
      const z = be.fromArray([nh, C], rData.subarray(0, nh * C)), dz = be.tensor([nh, C]);
      out.push(Float32Array.of(lossValue(sc, (acc) => softmaxCE(be, z, oneHotTargets(sc, labels, C), dz, acc))), be.read(dz));
      return out;
    };
    const a = run(ref), b = run(wasm);
    a.forEach((x, i) => expectClose(b[i], x));
  });

  it('optimisers: same updates, state round-trips through checkpoints', () => {
    const rng = new Rng(9);
    const w0 = rng.fillNormal(new Float32Array(10)), g0 = rng.fillNormal(new Float32Array(10));
    for (const kind of ['sgd', 'momentum', 'adam']) {
      const run = (be: Backend): Float32Array[] => {
        const p = { name: 'w', value: be.fromArray([2, 5], w0), grad: be.fromArray([2, 5], g0) };
        const o = createOptimizer(be, kind, [p], { learningRate: 0.05, weightDecay: 0.01 });
        o.step();
        const st = o.state();
        const q = { name: 'w', value: be.fromArray([2, 5], be.read(p.value)), grad: be.fromArray([2, 5], g0) };
        const o2 = createOptimizer(be, kind, [q], { learningRate: 0.05, weightDecay: 0.01 });
        o2.loadState(st);
        o.step();
        o2.step();
        expect(Array.from(be.read(q.value))).toEqual(Array.from(be.read(p.value)));
        o.dispose();
        o2.dispose();
        return [be.read(p.value), ...Object.values(st)];
      };
      const a = run(ref), b = run(wasm);
      a.forEach((x, i) => expectClose(b[i], x));
    }
  });
});
