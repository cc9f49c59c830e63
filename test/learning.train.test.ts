import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { scheduleFromFlags } from '../src/cli/script-flags.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { loadDataset, type Dataset } from '../src/data/index.js';
import { createRule } from '../src/learning/index.js';
import { BpttRule } from '../src/learning/bptt.js';
import { SpikingSigprop } from '../src/learning/sigprop-spiking.js';
import { runExperiment } from '../src/runner.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();

/** Train through the run loop (a run folder in a temp dir, no report), quietly. */
async function train(config: ExperimentConfig, dataset?: Dataset) {
  const outDir = mkdtempSync(join(tmpdir(), 'sigprop-learn-'));
  const r = await runExperiment(resolveConfig({ ...config, outDir }), { backend: be, dataset, log: () => {}, progress: false, report: false });
  expect(r.status).toBe('complete');
  return { epochs: r.metrics, finalTestAccuracy: r.metrics.at(-1)!.testAccuracy };
}

describe('sigprop learns synthetic tasks quickly', () => {
  it('spiking sigprop (surrogate, exact trace) on spike-pattern rasters: >= 90% test accuracy in 3 epochs', async () => {
    const ds = loadDataset('spike-patterns', { trainSize: 300, testSize: 200, seed: 1, params: { classes: 5, inputs: 40, timeSteps: 20 } });
    const t0 = Date.now();
    const r = await train({
      dataset: 'spike-patterns', datasetParams: { classes: 5, inputs: 40, timeSteps: 20 }, rule: 'sigprop', mode: 'spiking', layers: [{ size: 32, params: { beta: 0.9 } }, { size: 5 }],
      steps: 20, encoder: 'raster', learningRate: 0.01, epochs: 3, batchSize: 32, seed: 1,
    }, ds);
    expect(r.finalTestAccuracy).toBeGreaterThanOrEqual(0.9);
    // the hidden layer's own local loss went down (index 0 is the target generator's loss, 1 the hidden layer)
    expect(r.epochs[2].layerLosses[1]).toBeLessThan(r.epochs[0].layerLosses[1]);
    expect(Date.now() - t0).toBeLessThan(15000);
  });

  it('non-spiking sigprop MLP (T = 1) learns an MNIST subset well above chance while its hidden layer local loss falls', async () => {
    const ds = loadDataset('mnist', { trainSize: 1000, testSize: 500, seed: 3 });
    const cfg: ExperimentConfig = {
      dataset: 'mnist', rule: 'sigprop', mode: 'rate', layers: [{ size: 64 }, { size: 10 }],
      learningRate: 0.003, epochs: 3, batchSize: 32, seed: 2, ruleParams: { initScale: 0.3 },
    };
    const r = await train(cfg, ds);
    expect(r.finalTestAccuracy).toBeGreaterThanOrEqual(0.8);
    expect(r.epochs[2].layerLosses[1]).toBeLessThan(r.epochs[0].layerLosses[1]);
  });

  it('backprop MLP baseline learns the same task', async () => {
    const r = await train({
      dataset: 'circles', rule: 'bp', mode: 'rate', layers: [{ size: 32 }, { size: 2 }],
      learningRate: 0.03, epochs: 40, batchSize: 32, seed: 2, trainSize: 400, testSize: 200,
    });
    expect(r.finalTestAccuracy).toBeGreaterThanOrEqual(0.9);
  });
});

describe('BPTT baseline', () => {
  const K = 6, C = 3, B = 4;
  const cfg = (steps: number, rule: 'bptt' | 'sigprop' = 'bptt'): ExperimentConfig => ({
    dataset: 'x', rule, mode: 'spiking', layers: [{ size: 5, params: { beta: 0.9, threshold: 0.5 } }, { size: C }],
    steps, encoder: 'direct', optimizer: 'sgd', learningRate: 1, targetProjection: 'fixed', ruleParams: { initScale: 3 },
  });
  const rng = new Rng(4);
  const x = rng.fillUniform(new Float32Array(B * K));
  const labels = Int32Array.from([0, 1, 2, 0]);

  it('readout-weight gradient equals finite differences of the loss (no spike on that path)', () => {
    const rule = createRule(cfg(10), { backend: be, rng: new Rng(1), inputSize: K, numClasses: C });
    const s0 = rule.state();
    rule.trainBatch(x, labels);
    const w1 = rule.state()['readout.W'];
    const h = 1e-3;
    for (let i = 0; i < w1.length; i++) {
      const f = (d: number) => {
        const s = { ...s0, 'readout.W': s0['readout.W'].slice() };
        s['readout.W'][i] += d;
        rule.loadState(s);
        return rule.trainBatch(x, labels).loss;
      };
      const fd = (f(h) - f(-h)) / (2 * h);
      expect(s0['readout.W'][i] - w1[i]).toBeCloseTo(fd, 3);
    }
  });

  it('hidden layer learns through the surrogate gradient (weights move, loss falls)', () => {
    const rule = createRule({ ...cfg(10), optimizer: 'adam', learningRate: 0.02 }, { backend: be, rng: new Rng(1), inputSize: K, numClasses: C });
    const w0 = rule.state()['layer0.W'];
    const first = rule.trainBatch(x, labels).loss;
    let last = first;
    for (let i = 0; i < 30; i++) last = rule.trainBatch(x, labels).loss;
    expect(last).toBeLessThan(first * 0.7);
    expect(rule.state()['layer0.W'].some((v, i) => v !== w0[i])).toBe(true);
  });

  it('with a membrane floor, a unit the floor holds at every step gets no hidden-weight gradient (none flows through the clamp)', () => {
    const columnChange = (vMin?: number): number => {
      const c = cfg(10);
      c.layers[0].params = { ...c.layers[0].params, ...(vMin === undefined ? {} : { vMin }) };
      const rule = createRule(c, { backend: be, rng: new Rng(1), inputSize: K, numClasses: C });
      const s0 = rule.state(), W = s0['layer0.W'].slice(), N = 5;
      for (let k = 0; k < K; k++) W[k * N] = -5; // unit 0: inputs are non-negative, so its U is driven far below 0
      rule.loadState({ ...s0, 'layer0.W': W });
      rule.trainBatch(x, labels);
      const W1 = rule.state()['layer0.W'];
      let col = 0, rest = 0;
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) (n === 0 ? (v: number) => (col += v) : (v: number) => (rest += v))(Math.abs(W1[k * N + n] - W[k * N + n]));
      expect(rest).toBeGreaterThan(0); // the other units still learn
      return col;
    };
    expect(columnChange(0)).toBe(0);
    expect(columnChange()).toBeGreaterThan(0); // without the floor the surrogate passes gradient below threshold
  });

  it('BPTT memory grows with T; online sigprop memory does not', () => {
    const bytes = (rule: 'bptt' | 'sigprop', T: number) => {
      const r = createRule(cfg(T, rule), { backend: be, rng: new Rng(1), inputSize: K, numClasses: C }) as BpttRule | SpikingSigprop;
      r.trainBatch(x, labels);
      return r.workBytes();
    };
    expect(bytes('bptt', 40)).toBeGreaterThan(3 * bytes('bptt', 10));
    expect(bytes('sigprop', 40)).toBe(bytes('sigprop', 10));
  });
});

describe('experiment flags', () => {
  it('scheduleFromFlags: empty is no schedule, a list becomes milestones, anything else is refused by name', () => {
    expect(scheduleFromFlags('', 0.3)).toBeUndefined();
    expect(scheduleFromFlags('6, 8', 0.3)).toEqual({ milestones: [6, 8], gamma: 0.3 });
    expect(() => scheduleFromFlags('6,x', 0.3)).toThrow(/--milestones = "6,x" must be comma-separated whole epochs/);
    expect(() => scheduleFromFlags('2.5', 0.3)).toThrow(/--milestones/);
  });
});
