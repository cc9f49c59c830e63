/**
 * Feedback alignment and direct feedback alignment (src/learning/feedback-alignment.ts): one update
 * against plain-JS loops, learning a small task on the reference and wasm backends, the alignment
 * angles, and the rule names through the config.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { createBackend } from '../src/backend/registry.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { loadDataset } from '../src/data/index.js';
import { createRule } from '../src/learning/index.js';
import { FeedbackAlignmentMlp } from '../src/learning/feedback-alignment.js';
import { Rng } from '../src/rng.js';
import { stepPathViolation } from './rule-path.helpers.js';

const ref = new ReferenceBackend();
type Mat = number[][];
const fromFlat = (a: Float32Array, r: number, c: number): Mat => Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
function mm(a: Mat, b: Mat): Mat {
  const out = Array.from({ length: a.length }, () => new Array<number>(b[0].length).fill(0));
  for (let i = 0; i < a.length; i++) for (let k = 0; k < b.length; k++) for (let j = 0; j < b[0].length; j++) out[i][j] += a[i][k] * b[k][j];
  return out;
}
const T = (a: Mat): Mat => a[0].map((_, j) => a.map((row) => row[j]));

function make(be: Backend, kind: 'fa' | 'dfa', sizes: number[], K: number, seed = 4, extra: Partial<ExperimentConfig> = {}): FeedbackAlignmentMlp {
  const config: ExperimentConfig = { dataset: 'moons', rule: kind, mode: 'rate', layers: sizes.map((size) => ({ size })), optimizer: 'sgd', learningRate: 0.1, ...extra };
  return new FeedbackAlignmentMlp(kind, config, { backend: be, rng: new Rng(seed), inputSize: K, numClasses: sizes[sizes.length - 1] });
}

/** One SGD step of FA / DFA in plain loops: returns the new weights and biases. */
function handStep(kind: 'fa' | 'dfa', Ws: Mat[], bs: number[][], Bf: Mat[], x: Mat, labels: number[], lr: number): { W: Mat[]; b: number[][] } {
  const L = Ws.length - 1, N = x.length;
  const zs: Mat[] = [], as: Mat[] = [x];
  let cur = x;
  for (let l = 0; l <= L; l++) {
    const z = mm(cur, Ws[l]).map((row) => row.map((v, j) => v + bs[l][j]));
    zs.push(z);
    cur = l < L ? z.map((row) => row.map((v) => Math.max(0, v))) : z;
    if (l < L) as.push(cur);
  }
  const e = cur.map((row, i) => {
    const m = Math.max(...row), ex = row.map((v) => Math.exp(v - m)), s = ex.reduce((p, q) => p + q, 0);
    return ex.map((v, j) => (v / s - (j === labels[i] ? 1 : 0)) / N);
  });
  const deltas: Mat[] = new Array(L + 1);
  deltas[L] = e;
  for (let l = L - 1; l >= 0; l--) {
    const back = kind === 'fa' ? mm(deltas[l + 1], T(Bf[l])) : mm(e, T(Bf[l]));
    deltas[l] = back.map((row, i) => row.map((v, j) => (zs[l][i][j] > 0 ? v : 0)));
  }
  return {
    W: Ws.map((W, l) => {
      const g = mm(T(as[l]), deltas[l]);
      return W.map((row, i) => row.map((v, j) => v - lr * g[i][j]));
    }),
    b: bs.map((b, l) => b.map((v, j) => v - lr * deltas[l].reduce((p, row) => p + row[j], 0))),
  };
}

describe('FA and DFA: one update equals the equations computed by hand', () => {
  for (const kind of ['fa', 'dfa'] as const) {
    it(`${kind}: 6-5-4-3 network, batch 4`, () => {
      const rule = make(ref, kind, [5, 4, 3], 6);
      const chain = [...rule.layers, rule.readout];
      // non-zero biases, so that they enter the forward pass
      chain.forEach((l, i) => ref.write(l.b.value, Array.from({ length: l.outSize }, (_, j) => 0.05 * (j - i))));
      const W0 = chain.map((l) => fromFlat(ref.read(l.W.value), l.inSize, l.outSize));
      const b0 = chain.map((l) => Array.from(ref.read(l.b.value)));
      const Bf = rule.feedback.map((t) => fromFlat(ref.read(t), t.shape[0], t.shape[1]));
      if (kind === 'fa') Bf.forEach((b, i) => expect([b.length, b[0].length]).toEqual([chain[i + 1].inSize, chain[i + 1].outSize]));
      else Bf.forEach((b, i) => expect([b.length, b[0].length]).toEqual([rule.layers[i].outSize, 3]));
      const r = new Rng(9), x = r.fillUniform(new Float32Array(4 * 6), 0, 1), labels = [0, 2, 1, 2];
      rule.trainBatch(x, labels);
      const want = handStep(kind, W0, b0, Bf, fromFlat(x, 4, 6), labels, 0.1);
      chain.forEach((l, i) => {
        const got = ref.read(l.W.value), gb = ref.read(l.b.value);
        want.W[i].flat().forEach((v, k) => expect(Math.abs(got[k] - v)).toBeLessThan(1e-6));
        want.b[i].forEach((v, k) => expect(Math.abs(gb[k] - v)).toBeLessThan(1e-6));
      });
    });
  }

  it('the feedback matrices stay fixed, and the wasm backend gives the reference updates', async () => {
    const wasm = await createBackend('wasm');
    for (const kind of ['fa', 'dfa'] as const) {
      const a = make(ref, kind, [7, 5, 3], 6, 2, { optimizer: 'momentum' }), b = make(wasm, kind, [7, 5, 3], 6, 2, { optimizer: 'momentum' });
      const fb = a.feedback.map((t) => ref.read(t));
      for (let k = 0; k < 3; k++) {
        const r = new Rng(k), x = r.fillUniform(new Float32Array(5 * 6), 0, 1), labels = [0, 1, 2, 1, 0];
        a.trainBatch(x, labels);
        b.trainBatch(x, labels);
      }
      a.feedback.forEach((t, i) => expect(ref.read(t)).toEqual(fb[i]));
      [...a.layers, a.readout].forEach((l, i) => {
        const got = wasm.read([...b.layers, b.readout][i].W.value), want = ref.read(l.W.value);
        want.forEach((v, k) => expect(Math.abs(got[k] - v)).toBeLessThan(1e-5));
      });
    }
  });
});

describe('FA and DFA learn a small task', () => {
  const learn = (be: Backend, rule: 'fa' | 'dfa'): number => {
    const config: ExperimentConfig = {
      dataset: 'circles', trainSize: 400, testSize: 200, rule, mode: 'rate', layers: [{ size: 32 }, { size: 32 }, { size: 2 }],
      optimizer: 'momentum', momentum: 0.9, learningRate: 0.05, batchSize: 16,
    };
    const ds = loadDataset('circles', { trainSize: 400, testSize: 200, seed: 1 });
    const r = createRule(resolveConfig(config), { backend: be, rng: new Rng(1), inputSize: ds.inputSize, numClasses: ds.numClasses });
    const K = ds.inputSize, B = 16;
    for (let ep = 0; ep < 30; ep++) {
      for (let s = 0; s + B <= ds.train.n; s += B) r.trainBatch(ds.train.images.subarray(s * K, (s + B) * K), ds.train.labels.subarray(s, s + B));
    }
    const pred = r.predict(ds.test.images, ds.test.n);
    return pred.reduce((n, p, i) => n + (p === ds.test.labels[i] ? 1 : 0), 0) / ds.test.n;
  };
  it('circles: ≥ 90% test accuracy (reference: fa; wasm: dfa)', async () => {
    expect(learn(ref, 'fa')).toBeGreaterThanOrEqual(0.9);
    expect(learn(await createBackend('wasm'), 'dfa')).toBeGreaterThanOrEqual(0.9);
  });
});

describe('alignment angles of FA and DFA', () => {
  it('are 0 when the feedback equals what backprop would use, and come with the layer statistics', () => {
    const fa = make(ref, 'fa', [5, 4, 3], 6);
    const chain = [...fa.layers, fa.readout];
    fa.feedback.forEach((t, i) => ref.write(t, ref.read(chain[i + 1].W.value)));
    const ang = fa.alignmentAngles();
    expect(ang[0]).toBeUndefined();
    expect(ang.slice(1).every((a) => a !== undefined && a < 0.05)).toBe(true);
    const dfa = make(ref, 'dfa', [5, 3], 6);
    ref.write(dfa.feedback[0], ref.read(dfa.readout.W.value)); // one hidden layer: (W_L)ᵀ against B_0 [5, 3]
    expect(dfa.alignmentAngles()[0]).toBeLessThan(0.05);
    const r = new Rng(1);
    dfa.trainBatch(r.fillUniform(new Float32Array(2 * 6), 0, 1), [0, 1]);
    expect(dfa.layerStats()[0].alignmentAngle).toBeGreaterThanOrEqual(0);
  });

  it('--rule fa and dfa resolve to the rate MLP; the presets exist', async () => {
    const { getPreset } = await import('../src/config/presets.js');
    for (const rule of ['fa', 'dfa'] as const) {
      expect(resolveConfig({ dataset: 'circles', rule, layers: [{ size: 8 }, { size: 2 }] }).mode).toBe('rate');
      expect(resolveConfig(getPreset(`mnist-${rule}`)).rule).toBe(rule);
    }
    expect(() => resolveConfig({ dataset: 'circles', rule: 'dfa', layers: [{ size: 2 }] })).toThrow(/layers has only the output layer, but rule "dfa" sends its error back to hidden layers; add one/);
    expect(() => resolveConfig({ dataset: 'circles', rule: 'fa', mode: 'continuous', layers: [{ size: 4 }, { size: 2 }] })).toThrow(/mode = "continuous" cannot be used with rule "fa"/);
    expect(() => make(ref, 'fa', [2], 2)).toThrow(/rule "fa" needs at least one hidden layer/);
  });
});

describe('the per-step path of FA and DFA touches no host memory (guarded backend)', () => {
  for (const rule of ['fa', 'dfa'] as const) {
    it(rule, () => {
      expect(stepPathViolation({ dataset: 'synthetic', rule, mode: 'rate', layers: [{ size: 5 }, { size: 4 }, { size: 3 }], optimizer: 'sgd', learningRate: 0.1 })).toBeUndefined();
    });
  }
});
