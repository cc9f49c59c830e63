import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { createRule, DivergenceError } from '../src/learning/index.js';
import { SpikingSigprop } from '../src/learning/sigprop-spiking.js';
import { RateSigprop } from '../src/learning/sigprop-rate.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();
const K = 6, C = 3, B = 4, T = 8;

function tinyConfig(over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    dataset: 'synthetic', rule: 'sigprop', mode: 'spiking',
    layers: [{ size: 5, model: 'lif', params: { beta: 0.9, threshold: 0.5 } }, { size: 4, model: 'lif', params: { beta: 0.8, threshold: 0.5 } }, { size: C }],
    steps: T, encoder: 'direct', optimizer: 'sgd', learningRate: 1, targetProjection: 'fixed',
    ruleParams: { initScale: 3, temperature: 0.5, targetBias: 0 },
    ...over,
  };
}

function tinyData(seed = 1): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  return { x: rng.fillUniform(new Float32Array(B * K)), labels: Int32Array.from([0, 1, 2, 1]) };
}

/**
 * Gradient the rule applied (SGD with lr 1: ΔW = −∂L/∂W) versus central finite differences of
 * the layer's time-averaged per-step local loss, both from the same initial weights.
 */
function checkGradient(over: Partial<ExperimentConfig>, layer: number) {
  const rng = new Rng(7);
  const rule = createRule(tinyConfig(over), { backend: be, rng, inputSize: K, numClasses: C }) as SpikingSigprop;
  const { x, labels } = tinyData();
  const s0 = rule.state();
  const rng0 = rng.getState(); // dropout masks are drawn from ctx.rng: every evaluation reuses the same masks
  const key = `layer${layer}.W`;
  const w0 = s0[key];
  const res = rule.trainBatch(x, labels);
  const rates0 = rule.layerStats().map((s) => s.firingRate);
  const applied = Array.from(w0, (v, i) => v - rule.state()[key][i]); // = ∂L/∂W
  const lossAt = (i: number, h: number): { loss: number; rates: (number | undefined)[] } => {
    const s = { ...s0, [key]: w0.slice() };
    s[key][i] += h;
    rule.loadState(s);
    rng.setState(rng0);
    const r = rule.trainBatch(x, labels);
    return { loss: r.layerLosses[layer], rates: rule.layerStats().map((q) => q.firingRate) };
  };
  // A spike that flips inside ±h makes the loss non-smooth there; such elements are detected
  // (spike counts change, or two step sizes disagree) and left out.
  const h = 2e-3;
  const fd: number[] = [], flips: number[] = [];
  for (let i = 0; i < w0.length; i++) {
    const p = lossAt(i, h), m = lossAt(i, -h);
    const p2 = lossAt(i, h / 4), m2 = lossAt(i, -h / 4);
    const d1 = (p.loss - m.loss) / (2 * h), d2 = (p2.loss - m2.loss) / (h / 2);
    const countsMoved = [p, m].some((q) => q.rates.some((r, j) => r !== rates0[j]));
    if (countsMoved || Math.abs(d1 - d2) > 1e-2 * Math.abs(d1) + 1e-3) flips.push(i);
    fd.push(d1);
  }
  return { applied, fd, flips, res, rates0 };
}

describe('spiking sigprop: online eligibility-trace gradient = finite-difference gradient of the per-step local loss', () => {
  for (const representation of ['voltage', 'surrogate'] as const) {
    for (const layer of [0, 1]) {
      it(`${representation} mode, hidden layer ${layer}`, () => {
        const { applied, fd, flips, rates0 } = checkGradient({ representation, eligibility: 'trace' }, layer);
        expect(rates0[0]).toBeGreaterThan(0.05); // the layers spike, so the (detached) reset is exercised
        expect(rates0[1]).toBeGreaterThan(0.05);
        expect(flips.length).toBeLessThanOrEqual(fd.length / 4);
        let scale = 0;
        for (const v of fd) scale = Math.max(scale, Math.abs(v));
        expect(scale).toBeGreaterThan(1e-3);
        for (let i = 0; i < fd.length; i++) {
          if (flips.includes(i)) continue;
          expect(Math.abs(applied[i] - fd[i])).toBeLessThan(2e-3 * scale + 2e-5);
        }
      });
    }
  }

  for (const loss of ['classce', 'l2'] as const) {
    it(`loss ${loss}: exact trace gradient = finite differences (surrogate mode, layer 1)`, () => {
      const { applied, fd, flips } = checkGradient({ representation: 'surrogate', eligibility: 'trace', loss }, 1);
      expect(flips.length).toBeLessThanOrEqual(fd.length / 4);
      const scale = Math.max(...fd.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-4);
      for (let i = 0; i < fd.length; i++) if (!flips.includes(i)) expect(Math.abs(applied[i] - fd[i])).toBeLessThan(2e-3 * scale + 2e-5);
    });
  }

  it('with hidden and input dropout the applied gradient is the finite-difference gradient of the masked loss', () => {
    const ruleParams = { ...tinyConfig().ruleParams, dropout: 0.3, inputDropout: 0.3 };
    const { applied, fd, flips, res } = checkGradient({ representation: 'surrogate', eligibility: 'trace', ruleParams }, 0);
    const plain = checkGradient({ representation: 'surrogate', eligibility: 'trace' }, 0);
    expect(res.layerLosses[0]).not.toBeCloseTo(plain.res.layerLosses[0], 6); // the masks change the loss
    expect(flips.length).toBeLessThanOrEqual(fd.length / 4);
    const scale = Math.max(...fd.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-4);
    for (let i = 0; i < fd.length; i++) if (!flips.includes(i)) expect(Math.abs(applied[i] - fd[i])).toBeLessThan(2e-3 * scale + 2e-5);
  });

  for (const representation of ['voltage', 'surrogate'] as const) {
    it(`${representation} mode with a membrane floor (vMin −0.5), one step: floor-held units get no gradient, the rest match finite differences`, () => {
      // at T = 1 the trace is exact with a floor too (longer windows run the trace on through clamped steps)
      const layers = tinyConfig().layers.map((l, i) => (i < 2 ? { ...l, params: { ...l.params, vMin: -0.5 } } : l));
      const over = { representation, eligibility: 'trace', steps: 1, layers } as const;
      const { applied, fd, flips } = checkGradient(over, 0);
      const ungated = checkGradient({ ...over, layers: tinyConfig().layers }, 0);
      expect(flips.length).toBeLessThanOrEqual(fd.length / 4);
      const scale = Math.max(...fd.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-4);
      let held = 0;
      for (let i = 0; i < fd.length; i++) {
        if (flips.includes(i)) continue;
        expect(Math.abs(applied[i] - fd[i])).toBeLessThan(2e-3 * scale + 2e-5);
        // a unit the floor held: its whole column is zero with the floor and not without it
        if (applied[i] === 0 && Math.abs(ungated.applied[i]) > 1e-6) held++;
      }
      expect(held).toBeGreaterThan(0);
    });
  }

  it('the instant variant (x[t] in place of e[t]) is an approximation: it differs from the exact gradient', () => {
    const exact = checkGradient({ representation: 'voltage', eligibility: 'trace' }, 0);
    const inst = checkGradient({ representation: 'voltage', eligibility: 'instant' }, 0);
    let diff = 0, scale = 0;
    for (let i = 0; i < exact.fd.length; i++) {
      diff = Math.max(diff, Math.abs(inst.applied[i] - exact.fd[i]));
      scale = Math.max(scale, Math.abs(exact.fd[i]));
    }
    expect(diff).toBeGreaterThan(0.05 * scale);
  });
});

describe('non-spiking sigprop with dropout', () => {
  it('the applied gradient is the finite-difference gradient of the masked local loss (both layers)', () => {
    for (const layer of [0, 1]) {
      const rng = new Rng(11);
      const cfg = tinyConfig({ mode: 'rate', ruleParams: { ...tinyConfig().ruleParams, activation: 'tanh', dropout: 0.3, inputDropout: 0.3 } });
      const rule = createRule(cfg, { backend: be, rng, inputSize: K, numClasses: C }) as RateSigprop;
      const { x, labels } = tinyData(4);
      const s0 = rule.state(), rng0 = rng.getState(), key = `layer${layer}.W`, w0 = s0[key];
      rule.trainBatch(x, labels);
      const applied = Array.from(w0, (v, i) => v - rule.state()[key][i]);
      const lossAt = (i: number, h: number): number => {
        const st = { ...s0, [key]: w0.slice() };
        st[key][i] += h;
        rule.loadState(st);
        rng.setState(rng0);
        return rule.trainBatch(x, labels).layerLosses[layer];
      };
      const h = 1e-3;
      const fd = Array.from(w0, (_, i) => (lossAt(i, h) - lossAt(i, -h)) / (2 * h));
      const scale = Math.max(...fd.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-4);
      for (let i = 0; i < fd.length; i++) expect(Math.abs(applied[i] - fd[i])).toBeLessThan(2e-3 * scale + 2e-5);
    }
  });
});

describe('locality: no update reads another layer\'s loss', () => {
  const changed = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);
  for (const mode of ['spiking', 'rate'] as const) {
    it(`${mode}: zeroing one layer's loss stops only that layer changing`, () => {
      for (const off of [0, 1]) {
        const rule = createRule(tinyConfig({ mode, optimizer: 'adam', learningRate: 0.01 }), { backend: be, rng: new Rng(3), inputSize: K, numClasses: C }) as SpikingSigprop | RateSigprop;
        rule.lossWeights[off] = 0;
        const before = rule.state();
        const { x, labels } = tinyData(2);
        rule.trainBatch(x, labels);
        const after = rule.state();
        const on = 1 - off;
        expect(changed(before[`layer${off}.W`], after[`layer${off}.W`])).toBe(false);
        expect(changed(before[`layer${off}.b`], after[`layer${off}.b`])).toBe(false);
        expect(changed(before[`layer${on}.W`], after[`layer${on}.W`])).toBe(true);
        expect(changed(before['readout.W'], after['readout.W'])).toBe(true);
      }
    });
  }
});

describe('divergence guard', () => {
  it('NaN weights stop the run with a DivergenceError naming the layer, the step and the learning rate', () => {
    const rule = createRule(tinyConfig({ optimizer: 'sgd', learningRate: 0.25 }), { backend: be, rng: new Rng(3), inputSize: K, numClasses: C });
    const { x, labels } = tinyData();
    rule.trainBatch(x, labels);
    const s = rule.state();
    s['layer1.W'][3] = Number.NaN;
    rule.loadState(s);
    let err: unknown;
    try {
      rule.trainBatch(x, labels);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DivergenceError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/layer1/);
    expect(msg).toMatch(/step 2/);
    expect(msg).toMatch(/learning rate 0\.25/);
    expect((err as DivergenceError).code).toBe('divergence');
  });

  it('a huge learning rate on the rate MLP diverges with the message, not silently', () => {
    const rule = createRule(tinyConfig({ mode: 'rate', optimizer: 'sgd', learningRate: 1e30, ruleParams: { initScale: 1e10 } }), { backend: be, rng: new Rng(3), inputSize: K, numClasses: C });
    const { x, labels } = tinyData();
    expect(() => {
      for (let i = 0; i < 5; i++) rule.trainBatch(x, labels);
    }).toThrow(/NaN or infinite weights after step \d+ \(learning rate 1e\+30/);
  });
});
