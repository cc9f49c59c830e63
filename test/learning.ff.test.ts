/**
 * Forward-Forward (rule 'ff'): the goodness kernels by hand and against wasm; one rate update and
 * one spiking update recomputed in plain JavaScript; negative labels never the true one; prediction
 * by goodness on a hand-built network; learning a small synthetic task; spiking memory flat in T.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { resolveConfig } from '../src/config/resolve.js';
import { loadSynthetic } from '../src/data/synthetic.js';
import { createRule } from '../src/learning/index.js';
import type { ForwardForward } from '../src/learning/forward-forward.js';
import type { SpikingForwardForward } from '../src/learning/forward-forward-spiking.js';
import { cooldownFactor, wrongLabel } from '../src/learning/forward-forward-common.js';
import { accuracy } from '../src/runner.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';
import { expectClose as expectCloseTo, withWasm } from './wasm.helpers.js';

const ref = new ReferenceBackend();
let wasm: WasmBackend;
withWasm((b) => (wasm = b));

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.log(1 + Math.exp(x));


/** This file's default tolerance is rtol 1e-4 (float32 goodness sums over a row). */
const expectClose = (got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-4, atol = 1e-6): void => expectCloseTo(got, want, rtol, atol);

describe('ffGoodness / ffPeerNorm kernels', () => {
  const R = 5, N = 7;
  const y = new Rng(3).fillUniform(new Float32Array(R * N), -1, 1.5);

  it('reference equals the formulas (sum and mean goodness, positive, negative and unused rows)', () => {
    for (const mean of [false, true]) {
      const theta = mean ? 0.4 : 2.5, c = mean ? 1 / N : 1;
      const loss = ref.tensor([1]), g = ref.tensor([R, N]), G = ref.fromArray([R], [1, 1, 1, 1, 1]);
      ref.ffGoodness(loss, g, G, ref.fromArray([R, N], y), { theta, mean, nPos: 2, nNeg: 2, lossDivisor: 4, gradDivisor: 3, goodnessBeta: 0.5 });
      let want = 0;
      const wantG: number[] = [], wantg: number[] = [];
      for (let i = 0; i < R; i++) {
        let ss = 0;
        for (let k = 0; k < N; k++) ss += y[i * N + k] ** 2;
        const Gi = c * ss;
        wantG.push(0.5 + Gi);
        const s = i < 2 ? 1 : i < 4 ? -1 : 0;
        if (s) want += softplus(-s * (Gi - theta)) / 4;
        for (let k = 0; k < N; k++) wantg.push(s ? (-s * sig(-s * (Gi - theta)) * 2 * c * y[i * N + k]) / 3 : 0);
      }
      expectClose(ref.read(loss), [want]);
      expectClose(ref.read(G), wantG);
      expectClose(ref.read(g), wantg);
    }
  });

  it('peer normalisation: running mean, loss and gradient on the positive rows', () => {
    const nPos = 3, mom = 0.9, w = 0.03;
    const run0 = Array.from({ length: N }, (_, k) => 0.1 * k);
    const g0 = new Rng(4).fillUniform(new Float32Array(R * N));
    const loss = ref.tensor([1]), g = ref.fromArray([R, N], g0), running = ref.fromArray([N], run0);
    ref.ffPeerNorm(loss, g, running, ref.fromArray([R, N], y), nPos, mom, w);
    const rm = run0.map((r, k) => {
      let m = 0;
      for (let i = 0; i < nPos; i++) m += y[i * N + k];
      return mom * r + (1 - mom) * (m / nPos);
    });
    const rbar = rm.reduce((a, b) => a + b, 0) / N;
    expectClose(ref.read(running), rm);
    expectClose(ref.read(loss), [(w * rm.reduce((a, r) => a + (r - rbar) ** 2, 0)) / N]);
    const wantg = Array.from(g0, (v, idx) => {
      const i = Math.floor(idx / N), k = idx % N;
      return i < nPos ? v + (w * 2 * (rm[k] - rbar) * (1 - mom)) / (N * nPos) : v;
    });
    expectClose(ref.read(g), wantg);
  });

  it('wasm agrees with reference', () => {
    const run = (be: Backend) => {
      const loss = be.tensor([1]), g = be.tensor([R, N]), G = be.tensor([R]), running = be.fromArray([N], new Float32Array(N).fill(0.5));
      const yt = be.fromArray([R, N], y);
      be.ffGoodness(loss, g, G, yt, { theta: 3, mean: false, nPos: 2, nNeg: 3, lossDivisor: 5, gradDivisor: 5 });
      be.ffPeerNorm(loss, g, running, yt, 2, 0.9, 0.03);
      be.ffGoodness(null, null, G, yt, { theta: 0.2, mean: true, nPos: 0, nNeg: 0, goodnessBeta: 1 });
      return [be.read(loss), be.read(g), be.read(G), be.read(running)];
    };
    const a = run(ref), b = run(wasm);
    a.forEach((v, i) => expectClose(b[i], v, 1e-5, 1e-7));
  });
});

describe('negative labels', () => {
  it('wrongLabel never draws the true label and covers the wrong ones uniformly', () => {
    const rng = new Rng(11);
    for (const C of [2, 3, 10]) {
      for (let y = 0; y < C; y++) {
        const counts = new Array(C).fill(0);
        const n = 2000 * (C - 1);
        for (let i = 0; i < n; i++) counts[wrongLabel(rng, y, C)]++;
        expect(counts[y]).toBe(0);
        for (let c = 0; c < C; c++) if (c !== y) expect(Math.abs(counts[c] / 2000 - 1)).toBeLessThan(0.1);
      }
    }
  });

  it('the rule writes a wrong label into every negative row (over many batches)', () => {
    const K = 6, C = 4, B = 16;
    const written: Float32Array[] = [];
    const spy = new ReferenceBackend();
    const write = spy.write.bind(spy);
    spy.write = (t: Tensor, data: ArrayLike<number>) => {
      if (t.shape.length === 2 && t.shape[0] === 2 * B && t.shape[1] === K) written.push(Float32Array.from(data));
      write(t, data);
    };
    const rule = createRule(cfg({ layers: [{ size: 5 }, { size: C }] }), { backend: spy, rng: new Rng(2), inputSize: K, numClasses: C });
    const rng = new Rng(5);
    for (let batch = 0; batch < 40; batch++) {
      const labels = Int32Array.from({ length: B }, () => rng.int(C));
      rule.trainBatch(rng.fillUniform(new Float32Array(B * K)), labels);
      const rows = written[written.length - 1];
      const label = (r: number) => [0, 1, 2, 3].find((c) => rows[r * K + c] === 1);
      for (let b = 0; b < B; b++) {
        expect(label(b)).toBe(labels[b]);
        expect(label(B + b)).not.toBe(labels[b]);
        expect(label(B + b)).toBeDefined();
      }
    }
    expect(written.length).toBe(40);
  });
});

function cfg(over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return { dataset: 'synthetic', rule: 'ff', mode: 'rate', layers: [{ size: 4 }, { size: 3 }, { size: 3 }], optimizer: 'sgd', learningRate: 0.1, ...over };
}

/** rms-normalise a row: v·√n/‖v‖. */
function rms(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0) + 1e-12);
  return v.map((x) => (x * Math.sqrt(v.length)) / n);
}

describe('rate Forward-Forward', () => {
  it('one update equals a plain-JavaScript computation (two layers, rms norm, sgd)', () => {
    const K = 6, C = 3, B = 3, sizes = [4, 3], theta = 2;
    const rng = new Rng(7);
    const rule = createRule(cfg({ layers: [{ size: 4 }, { size: 3 }, { size: C }], ruleParams: { ffThreshold: theta, ffSkipFirst: false } }), {
      backend: ref, rng, inputSize: K, numClasses: C,
    }) as ForwardForward;
    const x = new Rng(1).fillUniform(new Float32Array(B * K));
    const labels = [0, 2, 1];
    const st0 = rule.state();
    const rngCopy = new Rng(0);
    rngCopy.setState(rng.getState());
    rule.trainBatch(x, Int32Array.from(labels));
    const st1 = rule.state();
    // hand computation
    const neg = labels.map((y) => {
      const k = Math.floor(rngCopy.uniform() * (C - 1));
      return k >= y ? k + 1 : k;
    });
    let rows = [...labels, ...neg].map((c, r) => {
      const v = Array.from(x.subarray((r % B) * K, (r % B + 1) * K));
      for (let k = 0; k < C; k++) v[k] = k === c ? 1 : 0;
      return rms(v);
    });
    let fanIn = K;
    sizes.forEach((N, l) => {
      const W = st0[`layer${l}.W`], b = st0[`layer${l}.b`];
      const y = rows.map((xr) => Array.from({ length: N }, (_, j) => Math.max(0, b[j] + xr.reduce((a, v, k) => a + v * W[k * N + j], 0))));
      const dz = y.map((yr, r) => {
        const G = yr.reduce((a, v) => a + v * v, 0), s = r < B ? 1 : -1;
        return yr.map((v) => (-s * sig(-s * (G - theta)) * 2 * v) / (2 * B));
      });
      const Wn = Array.from(W, (w, idx) => {
        const k = Math.floor(idx / N), j = idx % N;
        return w - 0.1 * rows.reduce((a, xr, r) => a + xr[k] * dz[r][j], 0);
      });
      const bn = Array.from(b, (v, j) => v - 0.1 * dz.reduce((a, d) => a + d[j], 0));
      expectClose(st1[`layer${l}.W`], Wn);
      expectClose(st1[`layer${l}.b`], bn);
      expect(Wn.some((w, i) => Math.abs(w - W[i]) > 1e-6)).toBe(true);
      rows = y.map(rms);
      fanIn = N;
    });
    expect(fanIn).toBe(3);
  });

  it('predicts the label of highest goodness on a hand-built network', () => {
    const K = 5, C = 3;
    const rule = createRule(cfg({ layers: [{ size: 3 }, { size: C }], ruleParams: { ffNorm: 'none' } }), {
      backend: ref, rng: new Rng(1), inputSize: K, numClasses: C,
    }) as ForwardForward;
    // unit j sees label pixel j; pixel 3 adds 2 to unit 1, pixel 4 adds 3 to unit 2
    const W = new Float32Array(K * 3);
    for (let j = 0; j < 3; j++) W[j * 3 + j] = 1;
    W[3 * 3 + 1] = 2;
    W[4 * 3 + 2] = 3;
    const st = rule.state();
    rule.loadState({ ...st, 'layer0.W': W, 'layer0.b': new Float32Array(3) });
    const x = Float32Array.from([9, 9, 9, 1, 0, /**/ 9, 9, 9, 0, 1, /**/ 9, 9, 9, 0, 0]);
    const G = rule.goodness(x, 3);
    // sample 0: label 0 → [1, 2, 0] → 5; label 1 → [0, 3, 0] → 9; label 2 → [0, 2, 1] → 5
    expectClose(G, [5, 9, 5, /**/ 10, 10, 16, /**/ 1, 1, 1]);
    expect(Array.from(rule.predict(x, 3).subarray(0, 2))).toEqual([1, 2]);
  });

  it('learns the XOR task (goodness) and moons with the classifier', () => {
    const run = (task: string, ruleParams: Record<string, unknown>, epochs: number) => {
      const ds = loadSynthetic(task, { trainSize: 512, testSize: 256, seed: 0 });
      const rule = createRule(cfg({ layers: [{ size: 32 }, { size: 32 }, { size: 2 }], optimizer: 'adam', learningRate: 0.01, epochs, ruleParams: { ffEmbed: 'prepend', ...ruleParams } }), {
        backend: ref, rng: new Rng(1), inputSize: ds.train.inputSize, numClasses: 2,
      });
      for (let e = 0; e < epochs; e++) {
        rule.setEpoch(e);
        for (let s = 0; s < ds.train.n; s += 32) rule.trainBatch(ds.train.images.subarray(s * 2, (s + 32) * 2), ds.train.labels.subarray(s, s + 32));
      }
      return accuracy(rule, ds.test, 64);
    };
    expect(run('xor', {}, 20)).toBeGreaterThan(0.9);
    expect(run('moons', { ffPredict: 'classifier', ffPeerNorm: 0.03, ffCooldown: true }, 20)).toBeGreaterThan(0.85);
  });

  it('loeweX cooldown: full rate for the first half, then linear to 2/E', () => {
    expect(cooldownFactor(0, 100)).toBe(1);
    expect(cooldownFactor(50, 100)).toBe(1);
    expect(cooldownFactor(51, 100)).toBeCloseTo(1, 10);
    expect(cooldownFactor(99, 100)).toBeCloseTo(0.04, 10);
  });
});

function spikingCfg(T: number, over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    dataset: 'synthetic', rule: 'ff', mode: 'spiking', steps: T, optimizer: 'sgd', learningRate: 0.5,
    layers: [{ size: 3, model: 'lif', params: { beta: 0.8, threshold: 1 } }, { size: 2 }], ...over,
  };
}

describe('spiking Forward-Forward', () => {
  it.each(['mean', 'sum'])('one update (T = 3, direct input, surrogate goodness, %s of squares) equals a plain-JavaScript computation', (goodness) => {
    const K = 4, C = 2, B = 2, N = 3, T = 3, beta = 0.8, theta = 0.01, k = 25, c = goodness === 'mean' ? 1 / N : 1;
    const rng = new Rng(3);
    const rule = createRule(spikingCfg(T, { encoder: 'direct', surrogate: 'fastSigmoid:k=25', ruleParams: { initScale: 3, ffThreshold: theta, ffSkipFirst: false, ffGoodness: goodness } }), {
      backend: ref, rng, inputSize: K, numClasses: C,
    }) as SpikingForwardForward;
    const x = Float32Array.from([0.2, 0.9, 0.5, 0.7, /**/ 0.6, 0.1, 0.8, 0.3]);
    const labels = [0, 1];
    const st0 = rule.state();
    rule.trainBatch(x, Int32Array.from(labels));
    const st1 = rule.state();
    const W = st0['layer0.W'], b = st0['layer0.b'];
    const f = (v: number) => (1 + (k * v) / (1 + k * Math.abs(v))) / k, df = (v: number) => 1 / (1 + k * Math.abs(v)) ** 2;
    // with two classes the negative label is the other one
    const rows = [...labels, ...labels.map((y) => 1 - y)].map((c, r) => {
      const v = Array.from(x.subarray((r % B) * K, (r % B + 1) * K));
      for (let j = 0; j < C; j++) v[j] = j === c ? 1 : 0;
      return v;
    });
    const I = rows.map((xr) => Array.from({ length: N }, (_, j) => b[j] + xr.reduce((a, v, kk) => a + v * W[kk * N + j], 0)));
    const dW = new Float64Array(K * N), db = new Float64Array(N);
    const U = rows.map(() => new Array(N).fill(0)), S = rows.map(() => new Array(N).fill(0));
    const e = rows.map(() => new Array(K).fill(0));
    let eb = 0, spikes = 0;
    for (let t = 0; t < T; t++) {
      eb = beta * eb + 1;
      rows.forEach((xr, r) => {
        for (let kk = 0; kk < K; kk++) e[r][kk] = beta * e[r][kk] + xr[kk];
        for (let j = 0; j < N; j++) {
          U[r][j] = beta * U[r][j] + I[r][j] - S[r][j] * 1;
          S[r][j] = U[r][j] >= 1 ? 1 : 0;
          spikes += S[r][j];
        }
        const rep = U[r].map((u) => f(u - 1));
        const G = c * rep.reduce((a, v) => a + v * v, 0), s = r < B ? 1 : -1;
        const g = rep.map((v, j) => ((-s * sig(-s * (G - theta)) * 2 * c * v) / (2 * B)) * df(U[r][j] - 1));
        for (let j = 0; j < N; j++) {
          for (let kk = 0; kk < K; kk++) dW[kk * N + j] += e[r][kk] * g[j];
          db[j] += eb * g[j];
        }
      });
    }
    expect(spikes).toBeGreaterThan(0); // the reset path is exercised
    expectClose(st1['layer0.W'], Array.from(W, (w, i) => w - (0.5 * dW[i]) / T));
    expectClose(st1['layer0.b'], Array.from(b, (v, j) => v - (0.5 * db[j]) / T));
  });

  it('learns a linear 2-D task, goodness of the surrogate and of spike counts', () => {
    const ds = loadSynthetic('linear2d', { trainSize: 256, testSize: 128, seed: 0 });
    for (const goodness of ['surrogate', 'count']) {
      const rule = createRule(
        spikingCfg(10, {
          layers: [{ size: 24, model: 'lif', params: { beta: 0.9, threshold: 1 } }, { size: 24, model: 'lif', params: { beta: 0.9, threshold: 1 } }, { size: 2 }],
          optimizer: 'adam', learningRate: 0.01, ruleParams: { ffEmbed: 'prepend', ffSpikeGoodness: goodness },
        }),
        { backend: ref, rng: new Rng(1), inputSize: 2, numClasses: 2 },
      );
      for (let e = 0; e < 4; e++) {
        for (let s = 0; s < ds.train.n; s += 32) rule.trainBatch(ds.train.images.subarray(s * 2, (s + 32) * 2), ds.train.labels.subarray(s, s + 32));
      }
      expect(accuracy(rule, ds.test, 64)).toBeGreaterThan(0.85);
    }
  });

  it('holds the same work memory at T = 25 and T = 400 (online in time)', () => {
    const bytes = (T: number) => {
      const rule = createRule(spikingCfg(T), { backend: ref, rng: new Rng(1), inputSize: 8, numClasses: 2 }) as SpikingForwardForward;
      rule.trainBatch(new Rng(2).fillUniform(new Float32Array(4 * 8)), Int32Array.from([0, 1, 1, 0]));
      return rule.workBytes();
    };
    const b25 = bytes(25);
    expect(b25).toBeGreaterThan(0);
    expect(bytes(400)).toBe(b25);
  });
});

describe('configuration', () => {
  const base = { dataset: 'moons', layers: [{ size: 8 }, { size: 2 }], rule: 'ff' };
  it('accepts rule ff in rate and spiking mode and refuses continuous with a clear message', () => {
    expect(resolveConfig({ ...base, mode: 'rate' }).rule).toBe('ff');
    expect(resolveConfig({ ...base, mode: 'spiking' }).mode).toBe('spiking');
    expect(() => resolveConfig({ ...base, mode: 'continuous' })).toThrow(/mode = "continuous" cannot be used with rule "ff"/);
  });
  it('refuses unknown or invalid ff rule parameters by name', () => {
    const make = (ruleParams: Record<string, unknown>, mode = 'rate') =>
      createRule({ ...(base as ExperimentConfig), mode: mode as 'rate', ruleParams }, { backend: ref, rng: new Rng(1), inputSize: 2, numClasses: 2 });
    expect(() => make({ ffGoodness: 'max' })).toThrow(/ruleParams.ffGoodness/);
    expect(() => make({ ffSkipFirst: true })).toThrow(/ffSkipFirst = true needs 2 or more hidden layers/);
    expect(() => make({ ffPredict: 'classifier' }, 'spiking')).toThrow(/mode 'rate' only/);
  });
});

describe('locality and backends', () => {
  const K = 8, C = 3, B = 6;
  const rate: ExperimentConfig = { dataset: 'synthetic', rule: 'ff', mode: 'rate', layers: [{ size: 7 }, { size: 5 }, { size: C }], optimizer: 'sgd', learningRate: 0.5 };
  const spiking: ExperimentConfig = {
    ...rate, mode: 'spiking', steps: 6, ruleParams: { initScale: 3 },
    layers: [{ size: 7, params: { beta: 0.9, threshold: 0.5 } }, { size: 5, params: { beta: 0.9, threshold: 0.5 } }, { size: C }],
  };
  const cases: [string, ExperimentConfig][] = [
    ['rate', rate],
    ['rate, classifier and peer normalisation', { ...rate, ruleParams: { ffPredict: 'classifier', ffPeerNorm: 0.03 } }],
    ['spiking, surrogate goodness', spiking],
    ['spiking, count goodness', { ...spiking, ruleParams: { initScale: 3, ffSpikeGoodness: 'count' } }],
  ];

  /** The rule's state after one batch, from its initial state with everything above layer 0 as it is or replaced. */
  function after(cfg: ExperimentConfig, backend: Backend, replaceAbove: boolean): Record<string, Float32Array> {
    const rule = createRule(cfg, { backend, rng: new Rng(5), inputSize: K, numClasses: C });
    if (replaceAbove) {
      const other = new Rng(99), s = rule.state();
      for (const k of Object.keys(s)) if (/^(layer[1-9]\d*|classifier\d+)\.(W|b)$/.test(k)) s[k] = other.fillUniform(new Float32Array(s[k].length), -1, 1);
      rule.loadState(s);
    }
    rule.trainBatch(new Rng(1).fillUniform(new Float32Array(B * K)), Int32Array.from([0, 1, 2, 0, 1, 2]));
    return rule.state();
  }

  for (const [name, c] of cases) {
    it(`${name}: layer 0 learns the same whatever the layers above hold`, () => {
      expect(Array.from(after(c, ref, true)['layer0.W'])).toEqual(Array.from(after(c, ref, false)['layer0.W']));
    });
    it(`${name}: one batch on wasm matches reference`, () => {
      const a = after(c, ref, false), b = after(c, wasm, false);
      for (const k of Object.keys(a)) expectClose(b[k], a[k], 1e-4, 1e-5);
    });
  }
});
