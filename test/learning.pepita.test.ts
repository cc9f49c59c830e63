/**
 * PEPITA (src/learning/pepita.ts): one update against plain-JS loops for the rule and each variant,
 * the dropout masks shared by both passes, MEMPEPITA's equal updates and smaller stored activity,
 * the alignment angles, weight mirroring, config refusals, and learning a small task, on the
 * reference and wasm backends.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { createBackend } from '../src/backend/registry.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { loadDataset } from '../src/data/index.js';
import { createRule } from '../src/learning/index.js';
import { matrixProduct, PepitaRule } from '../src/learning/pepita.js';
import { Scratch } from '../src/learning/scratch.js';
import { dropoutMask } from '../src/learning/sigprop-common.js';
import { Rng } from '../src/rng.js';
import { stepPathViolation } from './rule-path.helpers.js';

const ref = new ReferenceBackend();

function makeRule(be: Backend, ruleParams: Record<string, unknown> = {}, extra: Partial<ExperimentConfig> = {}, sizes = [5, 3], K = 6, seed = 3): PepitaRule {
  const config: ExperimentConfig = {
    dataset: 'moons', rule: 'pepita', mode: 'rate', layers: [...sizes.map((size) => ({ size }))], optimizer: 'sgd', learningRate: 0.1,
    ruleParams: { dropout: 0, ...ruleParams }, ...extra,
  };
  return new PepitaRule(config, { backend: be, rng: new Rng(seed), inputSize: K, numClasses: sizes[sizes.length - 1] });
}

type Mat = number[][];
const zeros = (r: number, c: number): Mat => Array.from({ length: r }, () => new Array<number>(c).fill(0));
const fromFlat = (a: Float32Array, r: number, c: number): Mat => Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
/** a [r, k] · b [k, c] */
function mm(a: Mat, b: Mat): Mat {
  const out = zeros(a.length, b[0].length);
  for (let i = 0; i < a.length; i++) for (let k = 0; k < b.length; k++) for (let j = 0; j < b[0].length; j++) out[i][j] += a[i][k] * b[k][j];
  return out;
}
/** aᵀ [k, r]ᵀ · b: out[p][q] = Σ_i a[i][p]·b[i][q] */
function tmm(a: Mat, b: Mat): Mat {
  const out = zeros(a[0].length, b[0].length);
  for (let i = 0; i < a.length; i++) for (let p = 0; p < a[0].length; p++) for (let q = 0; q < b[0].length; q++) out[p][q] += a[i][p] * b[i][q];
  return out;
}
const map = (a: Mat, f: (v: number, i: number, j: number) => number): Mat => a.map((row, i) => row.map((v, j) => f(v, i, j)));
const add = (a: Mat, b: Mat, s = 1): Mat => map(a, (v, i, j) => v + s * b[i][j]);
function softmaxMinus(z: Mat, P: Mat): Mat {
  return z.map((row, i) => {
    const m = Math.max(...row), ex = row.map((v) => Math.exp(v - m)), s = ex.reduce((p, q) => p + q, 0);
    return ex.map((v, j) => v / s - P[i][j]);
  });
}
function frob(a: Mat): Mat {
  const n = Math.sqrt(a.flat().reduce((p, v) => p + v * v, 0));
  return n > 0 ? map(a, (v) => v / n) : a;
}

interface HandOptions {
  sign?: number;
  lastError?: 'modulated' | 'clean';
  update?: 'pepita' | 'hebbian' | 'time-local';
  normalize?: boolean;
  weightDecay?: number;
  masks?: Mat[];
  /** Masks of the second pass (time-local PEPITA draws new ones); default: masks. */
  masksMod?: Mat[];
}

/** One PEPITA step of plain SGD (lr) on a network of weights Ws ([in, out] each) in plain loops. */
function handStep(Ws: Mat[], F: Mat, x: Mat, labels: number[], lr: number, o: HandOptions = {}): Mat[] {
  const L = Ws.length - 1, B = x.length, C = Ws[L][0].length;
  const P = labels.map((l) => Array.from({ length: C }, (_, c) => (c === l ? 1 : 0)));
  const sgd = (W: Mat, g: Mat): Mat => map(W, (v, i, j) => v - lr * (g[i][j] + (o.weightDecay ?? 0) * v));
  const forward = (input: Mat, W: Mat[], masks = o.masks): { hs: Mat[]; out: Mat } => {
    const hs: Mat[] = [input];
    let cur = input;
    for (let l = 0; l < L; l++) {
      let h = map(mm(cur, W[l]), (v) => Math.max(0, v));
      if (masks) h = map(h, (v, i, j) => v * masks[l][i][j]);
      if (o.normalize) h = frob(h);
      hs.push(h);
      cur = h;
    }
    return { hs, out: mm(cur, W[L]) };
  };
  let W = Ws;
  const clean = forward(x, W);
  const e = softmaxMinus(clean.out, P);
  if (o.update === 'time-local') {
    W = W.map((w, l) => sgd(w, map(tmm(clean.hs[l], l === L ? add(e, P) : clean.hs[l + 1]), (v) => v / B)));
  }
  const xmod = add(x, mm(e, transpose(F)), o.sign ?? 1); // x ± F·e, row-wise
  const mod = forward(xmod, W, o.masksMod ?? o.masks);
  const em = softmaxMinus(mod.out, P);
  return W.map((w, l) => {
    let g: Mat;
    if (o.update === 'hebbian') {
      g = l === L ? add(tmm(clean.hs[l], add(e, P)), tmm(mod.hs[l], P), -1) : add(tmm(clean.hs[l], clean.hs[l + 1]), tmm(mod.hs[l], mod.hs[l + 1]), -1);
    } else if (o.update === 'time-local') {
      g = map(tmm(mod.hs[l], l === L ? P : mod.hs[l + 1]), (v) => -v);
    } else {
      g = l === L ? tmm(mod.hs[l], o.lastError === 'clean' ? e : em) : tmm(mod.hs[l], add(clean.hs[l + 1], mod.hs[l + 1], -1));
    }
    return sgd(w, map(g, (v) => v / B));
  });
}
function transpose(a: Mat): Mat {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

function weightsOf(be: Backend, rule: PepitaRule): Mat[] {
  return [...rule.layers, rule.readout].map((l) => fromFlat(be.read(l.W.value), l.inSize, l.outSize));
}

function expectClose(a: Mat[], b: Mat[], tol = 2e-5): void {
  expect(a.length).toBe(b.length);
  a.forEach((m, l) => m.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b[l][i][j]), `W${l}[${i}][${j}]: ${v} vs ${b[l][i][j]}`).toBeLessThan(tol))));
}

/** A tiny batch: B × K inputs in [0, 1] and labels. */
function batch(B: number, K: number, C: number, seed = 7): { x: Float32Array; labels: number[] } {
  const r = new Rng(seed);
  return { x: r.fillUniform(new Float32Array(B * K), 0, 1), labels: Array.from({ length: B }, () => r.int(C)) };
}

/** Check one trainBatch of `rule` against handStep (masks replayed from a copy of the rule's RNG). */
function checkOneStep(be: Backend, rule: PepitaRule, o: HandOptions & { dropout?: number; rng?: Rng }, B = 4): void {
  const K = rule.ctx.inputSize, C = rule.readout.outSize;
  const { x, labels } = batch(B, K, C);
  const W0 = weightsOf(be, rule), F = fromFlat(be.read(rule.F), K, C);
  let masks: Mat[] | undefined;
  if (o.dropout && o.rng) {
    const copy = new Rng();
    copy.setState(o.rng.getState());
    masks = rule.layers.map((l) => fromFlat(dropoutMask(copy, B, l.outSize, o.dropout!)!, B, l.outSize));
    if (o.update === 'time-local') o = { ...o, masksMod: rule.layers.map((l) => fromFlat(dropoutMask(copy, B, l.outSize, o.dropout!)!, B, l.outSize)) };
  }
  rule.trainBatch(x, labels);
  const expected = handStep(W0, F, fromFlat(x, B, K), labels, rule.settings.learningRate, { ...o, masks });
  expectClose(weightsOf(be, rule), expected);
}

describe('PEPITA: one update equals the published equations computed by hand', () => {
  it('default: x + F·e, hidden ΔW = −η(h − h^mod)(h_prev^mod)ᵀ/B, last layer with e^mod; no biases', () => {
    const rule = makeRule(ref, {}, {}, [5, 4, 3]);
    expect(rule.describe()).toContain('x+F·e');
    checkOneStep(ref, rule, {});
    for (const l of [...rule.layers, rule.readout]) expect(Array.from(ref.read(l.b.value)).every((v) => v === 0)).toBe(true);
  });

  it('defaults follow the paper: He-uniform weights, F = 0.05·U(±√(6/d_in)), dropout 0.1', () => {
    const K = 200;
    const rule = makeRule(ref, { dropout: undefined }, {}, [300, 10], K);
    expect(rule.settings.dropout).toBe(0.1);
    const w = ref.read(rule.layers[0].W.value), f = ref.read(rule.F);
    const wMax = Math.max(...Array.from(w, Math.abs)), fMax = Math.max(...Array.from(f, Math.abs));
    expect(wMax).toBeLessThanOrEqual(Math.sqrt(6 / K));
    expect(wMax).toBeGreaterThan(0.95 * Math.sqrt(6 / K));
    expect(fMax).toBeLessThanOrEqual(0.05 * Math.sqrt(6 / K));
    expect(fMax).toBeGreaterThan(0.95 * 0.05 * Math.sqrt(6 / K));
  });

  it('lastError clean (first pass e, as Srinivasan et al.) and modulationSign −1 (x − F·e)', () => {
    checkOneStep(ref, makeRule(ref, { lastError: 'clean' }), { lastError: 'clean' });
    checkOneStep(ref, makeRule(ref, { modulationSign: -1 }), { sign: -1 });
  });

  it('weight decay (the config weightDecay, L2 added to the update)', () => {
    checkOneStep(ref, makeRule(ref, {}, { weightDecay: 0.01 }, [5, 4, 3]), { weightDecay: 0.01 });
  });

  it('activation normalisation (Frobenius norm over the batch, each pass)', () => {
    checkOneStep(ref, makeRule(ref, { normalizeActivations: true }, {}, [5, 4, 3]), { normalize: true });
  });

  it('PEPITA-Hebbian and time-local PEPITA', () => {
    checkOneStep(ref, makeRule(ref, { pepitaUpdate: 'hebbian' }, {}, [5, 4, 3]), { update: 'hebbian' });
    checkOneStep(ref, makeRule(ref, { pepitaUpdate: 'time-local' }, {}, [5, 4, 3]), { update: 'time-local' });
  });

  it('a network without hidden layers: the delta rule on the modulated input', () => {
    checkOneStep(ref, makeRule(ref, {}, {}, [3]), {});
  });

  it('the second pass reuses the first pass\'s dropout masks', () => {
    const config: ExperimentConfig = { dataset: 'moons', rule: 'pepita', mode: 'rate', layers: [{ size: 6 }, { size: 5 }, { size: 3 }], optimizer: 'sgd', learningRate: 0.1, ruleParams: { dropout: 0.5 } };
    const make = (rng: Rng): PepitaRule => new PepitaRule(config, { backend: ref, rng, inputSize: 6, numClasses: 3 });
    const rng = new Rng(5);
    checkOneStep(ref, make(rng), { dropout: 0.5, rng });
    // the masks a second draw would give (fresh masks for the modulated pass) lead to another update
    const rng2 = new Rng(5), rule2 = make(rng2);
    const { x, labels } = batch(4, 6, 3);
    const W0 = weightsOf(ref, rule2), F = fromFlat(ref.read(rule2.F), 6, 3);
    const copy = new Rng();
    copy.setState(rng2.getState());
    rule2.layers.forEach((l) => dropoutMask(copy, 4, l.outSize, 0.5));
    const fresh = rule2.layers.map((l) => fromFlat(dropoutMask(copy, 4, l.outSize, 0.5)!, 4, l.outSize));
    rule2.trainBatch(x, labels);
    const other = handStep(W0, F, fromFlat(x, 4, 6), labels, 0.1, { masks: fresh });
    const diff = Math.max(...weightsOf(ref, rule2)[0].flat().map((v, k) => Math.abs(v - other[0].flat()[k])));
    expect(diff).toBeGreaterThan(1e-4);
  });

  it('time-local PEPITA draws new masks for its second pass (as Srinivasan et al.\'s code), and that changes the update', () => {
    const config: ExperimentConfig = {
      dataset: 'moons', rule: 'pepita', mode: 'rate', layers: [{ size: 6 }, { size: 5 }, { size: 3 }], optimizer: 'sgd', learningRate: 0.1,
      ruleParams: { dropout: 0.5, pepitaUpdate: 'time-local' },
    };
    const make = (rng: Rng): PepitaRule => new PepitaRule(config, { backend: ref, rng, inputSize: 6, numClasses: 3 });
    const rng = new Rng(5);
    checkOneStep(ref, make(rng), { dropout: 0.5, rng, update: 'time-local' });
    // the same rule with the first pass's masks kept would end elsewhere
    const rng2 = new Rng(5), rule2 = make(rng2);
    const { x, labels } = batch(4, 6, 3);
    const W0 = weightsOf(ref, rule2), F = fromFlat(ref.read(rule2.F), 6, 3);
    const copy = new Rng();
    copy.setState(rng2.getState());
    const first = rule2.layers.map((l) => fromFlat(dropoutMask(copy, 4, l.outSize, 0.5)!, 4, l.outSize));
    rule2.trainBatch(x, labels);
    const kept = handStep(W0, F, fromFlat(x, 4, 6), labels, 0.1, { masks: first, update: 'time-local' });
    const diff = Math.max(...weightsOf(ref, rule2)[0].flat().map((v, k) => Math.abs(v - kept[0].flat()[k])));
    expect(diff).toBeGreaterThan(1e-4);
  });
});

describe('MEMPEPITA', () => {
  for (const variant of [{}, { pepitaUpdate: 'hebbian', normalizeActivations: true }, { lastError: 'clean' }]) {
    it(`gives the same updates as PEPITA with less stored activity (${JSON.stringify(variant)}, dropout 0.2, momentum)`, () => {
      const extra: Partial<ExperimentConfig> = { optimizer: 'momentum', momentum: 0.9 };
      const a = makeRule(ref, { ...variant, dropout: 0.2 }, extra, [8, 7, 3], 6, 11);
      const b = makeRule(ref, { ...variant, dropout: 0.2, mempepita: true }, extra, [8, 7, 3], 6, 11);
      for (let k = 0; k < 4; k++) {
        const { x, labels } = batch(5, 6, 3, 20 + k);
        const ra = a.trainBatch(x, labels), rb = b.trainBatch(x, labels);
        expect(rb.loss).toBeCloseTo(ra.loss, 6);
      }
      expectClose(weightsOf(ref, b), weightsOf(ref, a), 1e-6);
      // stored between the passes: PEPITA B·(Σ hidden + C) floats, MEMPEPITA only e (B·C)
      expect(a.memory).toEqual({ storedBytes: 4 * 5 * (8 + 7 + 3), engineRows: 5, forwardRows: 10 });
      expect(b.memory).toEqual({ storedBytes: 4 * 5 * 3, engineRows: 10, forwardRows: 15 });
    });
  }

  it('the MNIST network (784-1024-10, batch 64; wasm): stored activity 259 KiB → 2.5 KiB', async () => {
    const wasm = await createBackend('wasm');
    const mk = (mem: boolean) => makeRule(wasm, { mempepita: mem }, {}, [1024, 10], 784, 1);
    const a = mk(false), b = mk(true);
    const { x, labels } = batch(64, 784, 10);
    a.trainBatch(x, labels);
    b.trainBatch(x, labels);
    expect(a.memory.storedBytes).toBe(4 * 64 * (1024 + 10));
    expect(b.memory.storedBytes).toBe(4 * 64 * 10);
    expectClose(weightsOf(wasm, b).map((m) => m.slice(0, 20)), weightsOf(wasm, a).map((m) => m.slice(0, 20)), 1e-6);
  });

  it('is refused with the time-local variant, naming both settings', () => {
    expect(() => makeRule(ref, { mempepita: true, pepitaUpdate: 'time-local' })).toThrow(/ruleParams\.mempepita.*time-local/);
  });
});

describe('alignment angles', () => {
  it('are 0 for F = (W_L…W_1)ᵀ, 180 for its negative, and reported in layerStats', () => {
    const rule = makeRule(ref, {}, {}, [5, 4, 3]);
    const sc = new Scratch(ref);
    const prod = ref.read(matrixProduct(ref, sc, [...rule.layers, rule.readout].map((l) => l.W.value)));
    expect(prod.length).toBe(6 * 3);
    ref.write(rule.F, prod);
    expect(rule.alignmentAngles().product).toBeLessThan(0.05);
    const stats = rule.layerStats();
    expect(stats.at(-1)!.productAlignmentAngle).toBeLessThan(0.05);
    ref.write(rule.F, prod.map((v) => -v));
    expect(rule.alignmentAngles().product).toBeGreaterThan(179.95);
  });

  it('with mirror: per-layer angles are 0 when each factor equals its weights', () => {
    const rule = makeRule(ref, { mirror: true }, {}, [5, 4, 3]);
    [...rule.layers, rule.readout].forEach((l, i) => ref.write(rule.factors[i], ref.read(l.W.value)));
    const ang = rule.alignmentAngles();
    expect(ang.layers!.every((a) => a < 0.05)).toBe(true);
  });
});

describe('weight mirroring', () => {
  it('aligns each factor B_ℓ with W_ℓ and keeps std(F) at fScale·√(2/d_in)', () => {
    const K = 20;
    const rule = makeRule(ref, { mirror: true, preMirror: 1, mirrorNoise: 1, mirrorLearningRate: 0.5, mirrorWeightDecay: 0.5 }, {}, [16, 4], K);
    expect(rule.pepita.modulationSign).toBe(-1);
    const before = rule.alignmentAngles().layers!;
    const W0 = weightsOf(ref, rule);
    rule.setEpoch(0); // a pre-mirror epoch: only mirroring, the forward weights stay
    for (let k = 0; k < 100; k++) {
      const { x, labels } = batch(16, K, 4, k);
      rule.trainBatch(x, labels);
    }
    expectClose(weightsOf(ref, rule), W0, 1e-12);
    const after = rule.alignmentAngles().layers!;
    after.forEach((a, i) => expect(a).toBeLessThan(before[i] - 20));
    const f = ref.read(rule.F), mean = f.reduce((p, v) => p + v, 0) / f.length;
    const std = Math.sqrt(f.reduce((p, v) => p + (v - mean) ** 2, 0) / (f.length - 1));
    expect(std).toBeCloseTo(0.05 * Math.sqrt(2 / K), 4);
  });
});

describe('config', () => {
  it('rule pepita resolves to the rate MLP (its spiking form on request); fa refuses a spiking mode; unknown settings are refused with the field and the fix', () => {
    expect(resolveConfig({ dataset: 'moons', rule: 'pepita', layers: [{ size: 8 }, { size: 2 }] }).mode).toBe('rate');
    expect(() => resolveConfig({ dataset: 'moons', rule: 'fa', mode: 'spiking', layers: [{ size: 8 }, { size: 2 }] })).toThrow(/mode = "spiking" cannot be used with rule "fa": it is implemented for mode "rate"; set mode to "rate" \(or leave it out\)/);
    expect(resolveConfig({ dataset: 'moons', rule: 'pepita', mode: 'spiking', layers: [{ size: 8 }, { size: 2 }] }).mode).toBe('spiking'); // its spiking form
    expect(() => makeRule(ref, { lastError: 'bogus' })).toThrow(/ruleParams\.lastError/);
    expect(() => makeRule(ref, { modulationSign: 2 })).toThrow(/ruleParams\.modulationSign/);
    expect(() => makeRule(ref, { mirrorNoise: 0.2 })).toThrow(/ruleParams\.mirrorNoise is set but ruleParams\.mirror is not true/);
    expect(() => makeRule(ref, { fscale: 0.1 })).toThrow(/ruleParams\.fscale is not known/);
  });

  it('the mnist-pepita preset holds the published settings', async () => {
    const { getPreset } = await import('../src/config/presets.js');
    const c = resolveConfig(getPreset('mnist-pepita'));
    expect(c).toMatchObject({ rule: 'pepita', mode: 'rate', optimizer: 'momentum', momentum: 0.9, learningRate: 0.1, batchSize: 64, epochs: 100, schedule: { milestones: [60, 90], gamma: 0.1 } });
    expect(c.layers.map((l) => l.size)).toEqual([1024, 10]);
    expect(resolveConfig(getPreset('mnist-mempepita')).ruleParams?.mempepita).toBe(true);
  });
});

/** Train a rule on a synthetic task for a few epochs; returns the test accuracy. */
function learn(be: Backend, config: ExperimentConfig, epochs: number): number {
  const ds = loadDataset(config.dataset, { trainSize: config.trainSize, testSize: config.testSize, seed: 1, params: config.datasetParams });
  const rule = createRule(config, { backend: be, rng: new Rng(2), inputSize: ds.inputSize, numClasses: ds.numClasses });
  const K = ds.inputSize, B = config.batchSize ?? 32, order = new Rng(9);
  for (let ep = 0; ep < epochs; ep++) {
    rule.setEpoch(ep);
    const idx = Array.from({ length: ds.train.n }, (_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = order.int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    for (let s = 0; s + B <= idx.length; s += B) {
      const x = new Float32Array(B * K), labels = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        x.set(ds.train.images.subarray(idx[s + b] * K, (idx[s + b] + 1) * K), b * K);
        labels[b] = ds.train.labels[idx[s + b]];
      }
      rule.trainBatch(x, labels);
    }
  }
  const pred = rule.predict(ds.test.images, ds.test.n);
  let correct = 0;
  for (let i = 0; i < ds.test.n; i++) if (pred[i] === ds.test.labels[i]) correct++;
  return correct / ds.test.n;
}

const taskConfig = (ruleParams: Record<string, unknown> = {}): ExperimentConfig => ({
  dataset: 'spike-patterns', datasetParams: { classes: 5, inputs: 40, timeSteps: 20 }, trainSize: 400, testSize: 200,
  rule: 'pepita', mode: 'rate', layers: [{ size: 64 }, { size: 5 }], optimizer: 'momentum', momentum: 0.9, learningRate: 0.1, batchSize: 32,
  ruleParams,
});

describe('PEPITA learns a small task', () => {
  it('5-class spike patterns (800 inputs) on the reference backend: ≥ 90% in 8 epochs', () => {
    expect(learn(ref, taskConfig(), 8)).toBeGreaterThanOrEqual(0.9);
  });

  it('the wasm backend gives the reference updates and learns the same task; MEMPEPITA too', async () => {
    const wasm = await createBackend('wasm');
    const a = makeRule(ref, { dropout: 0.2 }, { optimizer: 'momentum' }, [8, 7, 3], 6, 4);
    const b = makeRule(wasm, { dropout: 0.2 }, { optimizer: 'momentum' }, [8, 7, 3], 6, 4);
    for (let k = 0; k < 3; k++) {
      const { x, labels } = batch(5, 6, 3, k);
      a.trainBatch(x, labels);
      b.trainBatch(x, labels);
    }
    expectClose(weightsOf(wasm, b), weightsOf(ref, a), 1e-5);
    expect(learn(wasm, taskConfig({ mempepita: true }), 8)).toBeGreaterThanOrEqual(0.9);
  });
});

describe('run report', () => {
  it('plots the alignment angles per epoch when the run has them, and only then', async () => {
    const { metricFigures } = await import('../src/report/metrics.js');
    const epochs = [1, 2, 3].map((epoch) => ({
      epoch, testAccuracy: 0.5,
      layers: [{ layer: 0, weightNorm: 1, alignmentAngle: 80 - epoch }, { layer: 1, weightNorm: 1, alignmentAngle: 70 - epoch, productAlignmentAngle: 90 + epoch }],
    }));
    const fig = metricFigures({ title: 't', epochs }).find((f) => f.id === 'm-alignment');
    expect(fig).toBeDefined();
    expect(fig!.data.map((d) => (d as { name: string }).name)).toEqual(['(W_L…W_1)ᵀ vs F', 'layer 0: feedback vs W', 'layer 1: feedback vs W']);
    expect((fig!.data[0] as { y: number[] }).y).toEqual([91, 92, 93]);
    const plain = metricFigures({ title: 't', epochs: epochs.map((e) => ({ epoch: e.epoch, layers: [{ layer: 0, weightNorm: 1 }] })) });
    expect(plain.some((f) => f.id === 'm-alignment')).toBe(false);
  });
});

describe('the per-step path of PEPITA touches no host memory (guarded backend)', () => {
  const base: ExperimentConfig = { dataset: 'synthetic', rule: 'pepita', mode: 'rate', layers: [{ size: 5 }, { size: 4 }, { size: 3 }], optimizer: 'momentum', learningRate: 0.1 };
  for (const rp of [{}, { mempepita: true, dropout: 0.3 }, { pepitaUpdate: 'hebbian', normalizeActivations: true }, { pepitaUpdate: 'time-local', normalizeActivations: true }, { mempepita: true, normalizeActivations: true }, { mirror: true }]) {
    it(JSON.stringify(rp), () => {
      expect(stepPathViolation({ ...base, ruleParams: rp })).toBeUndefined();
    });
  }
});

describe('through the run loop', () => {
  it('a PEPITA run with mirror writes the angles to metrics.csv and plots them in report.html', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runExperiment } = await import('../src/runner.js');
    const outDir = mkdtempSync(join(tmpdir(), 'sigprop-pepita-'));
    const r = await runExperiment(resolveConfig({ ...taskConfig({ mirror: true }), trainSize: 64, testSize: 32, epochs: 2, outDir }), { backend: ref, log: () => {}, progress: false });
    expect(r.status).toBe('complete');
    expect(r.metrics[1].layers?.at(-1)?.productAlignmentAngle).toBeGreaterThan(0);
    const csv = readFileSync(join(r.runDir, 'metrics.csv'), 'utf8');
    expect(csv.split('\n')[0]).toMatch(/layer0\.alignmentAngle.*productAlignmentAngle/);
    expect(readFileSync(join(r.runDir, 'report.html'), 'utf8')).toContain('Alignment angle per epoch');
  });
});
