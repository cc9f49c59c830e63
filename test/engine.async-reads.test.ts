/**
 * Backends with asynchronous read-back (Backend.asyncReads, WebGPU): the asynchronous forms of
 * spiking and rate sigprop and of the rate MLPs bp, fa and dfa (trainBatchAsync / predictAsync) give exactly
 * what trainBatch / predict give on reference, reading
 * only what they synced; rules without an asynchronous form are refused by name; a whole run
 * (runExperiment) goes through on such a backend with the same results as on reference.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { loadCheckpoint } from '../src/checkpoint.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { ReadNotSyncedError } from '../src/errors.js';
import { createRule, predictOn, trainOn, type LayerStats, type TrainingRule } from '../src/learning/index.js';
import { Rng } from '../src/rng.js';
import { runExperiment } from '../src/runner.js';
import { AsyncReadBackend } from './async-read-backend.js';
import { tempDir } from './runner.helpers.js';

const K = 12, C = 3, B = 6;

function cfg(over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    dataset: 'synthetic', rule: 'sigprop', mode: 'spiking', layers: [{ size: 10, params: { beta: 0.9, threshold: 0.5 } }, { size: 8 }, { size: C }],
    steps: 8, encoder: 'rate', optimizer: 'adam', learningRate: 0.01, ...over,
  };
}

function make(c: ExperimentConfig, be: Backend): TrainingRule {
  return createRule(c, { backend: be, rng: new Rng(7), inputSize: K, numClasses: C });
}

const data = (seed: number) => ({ x: new Rng(seed).fillUniform(new Float32Array(B * K)), labels: Int32Array.from({ length: B }, (_, i) => (i * 7 + seed) % C) });

describe('spiking sigprop on a backend with asynchronous read-back', () => {
  for (const [name, over] of [
    ['learned target projection, readout prediction', {}],
    ['fixed target projection, class-signal prediction, dropout', { targetProjection: 'fixed', predict: 'classSignal', ruleParams: { dropout: 0.2 } }],
  ] as [string, Partial<ExperimentConfig>][]) {
    it(`${name}: trainBatchAsync and predictAsync equal trainBatch and predict on reference`, async () => {
      const ref = new ReferenceBackend(), as = new AsyncReadBackend();
      const a = make(cfg(over), ref), b = make(cfg(over), as);
      for (let i = 0; i < 3; i++) {
        const { x, labels } = data(i);
        const ra = a.trainBatch(x, labels);
        const rb = await trainOn(b, as, x, labels);
        expect(rb).toEqual(ra);
      }
      const { x } = data(9);
      expect(Array.from(await predictOn(b, as, x, B))).toEqual(Array.from(a.predict(x, B)));
      await as.sync();
      const sa = a.state(), sb = b.state();
      for (const k of Object.keys(sa)) expect(Array.from(sb[k]), k).toEqual(Array.from(sa[k]));
      expect(b.layerStats!()).toEqual(a.layerStats!());
      expect(as.syncCalls).toBeGreaterThan(3);
    });
  }

  for (const [rule, over] of [
    ['bp', {}], ['fa', {}], ['dfa', {}],
    ['sigprop', { ruleParams: { dropout: 0.2 } }],
    ['sigprop', { targetProjection: 'fixed', predict: 'classSignal' }],
    ['pepita', { optimizer: 'momentum', ruleParams: { dropout: 0.1 } }],
    ['pepita', { ruleParams: { mempepita: true, normalizeActivations: true } }],
    ['pepita', { ruleParams: { mirror: true, pepitaUpdate: 'hebbian' } }],
    ['pepita', { ruleParams: { pepitaUpdate: 'time-local' } }],
    ['ff', { layers: [{ size: 9 }, { size: 7 }, { size: C }], optimizer: 'adam', learningRate: 0.01 }],
    ['ff', { layers: [{ size: 9 }, { size: 7 }, { size: C }], optimizer: 'adam', learningRate: 0.01, ruleParams: { ffPredict: 'classifier' } }],
    ['ff', { mode: 'spiking', layers: [{ size: 9, params: { beta: 0.9, threshold: 0.5 } }, { size: 7, params: { beta: 0.9, threshold: 0.5 } }, { size: C }], steps: 6, optimizer: 'adam', learningRate: 0.01 }],
    ['bptt', { mode: 'spiking', layers: [{ size: 9, params: { beta: 0.9, threshold: 0.5 } }, { size: C }], steps: 6, optimizer: 'adam', learningRate: 0.01 }],
    ['bptt', { mode: 'spiking', layers: [{ size: 9, model: 'synaptic', params: { alpha: 0.7, beta: 0.9, threshold: 0.5 } }, { size: C }], steps: 6, optimizer: 'adam', learningRate: 0.01 }],
    ['dfa', { mode: 'spiking', layers: [{ size: 9, params: { beta: 0.9, threshold: 0.5 } }, { size: C }], steps: 6, optimizer: 'adam', learningRate: 0.01, ruleParams: { dropout: 0.2 } }],
    ['pepita', { mode: 'spiking', layers: [{ size: 9, params: { beta: 0.9, threshold: 0.5 } }, { size: C }], steps: 6, ruleParams: { fScale: 4, antithetic: true } }],
  ] as [ExperimentConfig['rule'], Partial<ExperimentConfig>][]) {
    it(`${rule} (${over.mode ?? 'rate'} ${JSON.stringify(over)}): trainBatchAsync and predictAsync equal trainBatch and predict on reference`, async () => {
      const c = cfg({ rule, mode: 'rate', layers: [{ size: 9 }, { size: 7 }, { size: C }], optimizer: 'sgd', learningRate: 0.1, ...over });
      const ref = new ReferenceBackend(), as = new AsyncReadBackend();
      const a = make(c, ref), b = make(c, as);
      for (let i = 0; i < 3; i++) {
        const { x, labels } = data(i);
        expect(await trainOn(b, as, x, labels)).toEqual(a.trainBatch(x, labels));
      }
      const { x } = data(9);
      expect(Array.from(await predictOn(b, as, x, B))).toEqual(Array.from(a.predict(x, B)));
      await as.sync();
      const sa = a.state(), sb = b.state();
      for (const k of Object.keys(sa)) expect(Array.from(sb[k]), k).toEqual(Array.from(sa[k]));
      // the alignment angles sum on the host there (float64) and with kernels here: equal to 1e-5 degrees
      const angle = (st: { alignmentAngle?: number }[]) => st.map((x) => x.alignmentAngle);
      const [sta, stb] = [a.layerStats!(), b.layerStats!()];
      const plain = (st: LayerStats[]) => st.map(({ alignmentAngle: _a, productAlignmentAngle: _p, ...r }) => r);
      expect(plain(stb)).toEqual(plain(sta));
      angle(sta).forEach((v, i) => (v === undefined ? expect(angle(stb)[i]).toBeUndefined() : expect(angle(stb)[i]).toBeCloseTo(v, 5)));
      if (rule === 'fa' || rule === 'dfa') expect(angle(stb).filter((v) => v !== undefined).length).toBeGreaterThan(0);
      if (rule === 'pepita') expect(stb.at(-1)!.productAlignmentAngle).toBeCloseTo(sta.at(-1)!.productAlignmentAngle!, 5);
    });
  }

  it('the double is strict: the synchronous trainBatch on it fails with ReadNotSyncedError', () => {
    const as = new AsyncReadBackend();
    const { x, labels } = data(1);
    expect(() => make(cfg(), as).trainBatch(x, labels)).toThrow(ReadNotSyncedError);
  });

  it('a rule without an asynchronous form is refused by name', async () => {
    const as = new AsyncReadBackend();
    const r = make(cfg({ mode: 'continuous', layers: [{ size: 8, model: 'leaky' }, { size: C }], optimizer: 'sgd' }), as);
    const { x, labels } = data(1);
    await expect(trainOn(r, as, x, labels)).rejects.toThrow(/rule "sigprop" reads results back inside its batches .* backend "async-reads".* the rules that run there: .*pepita mode rate/);
    await expect(predictOn(r, as, x, B)).rejects.toThrow(/rule "sigprop"/);
    // BPTT through a layer whose backward step runs on the host: refused, naming the layer's model
    const iz = make(cfg({ rule: 'bptt', layers: [{ size: 6, model: 'izhikevich' }, { size: C }] }), as);
    await expect(trainOn(iz, as, x, labels)).rejects.toThrow(/layers\[0\]\.model = "izhikevich": BPTT's backward step through it runs on the host/);
  });

  it('runExperiment: the same metrics and weights as on reference, checkpoint included', async () => {
    const c = resolveConfig({ ...cfg(), dataset: 'spike-patterns', datasetParams: { classes: 3, inputs: 20 }, epochs: 2, batchSize: 8, trainSize: 32, testSize: 16 } as ExperimentConfig);
    const quiet = { progress: false as const, log: () => {}, report: false };
    const ra = await runExperiment(c, { ...quiet, runDir: `${tempDir('async-a')}/run`, backend: new ReferenceBackend() });
    const rb = await runExperiment(c, { ...quiet, runDir: `${tempDir('async-b')}/run`, backend: new AsyncReadBackend() });
    expect(rb.status).toBe('complete');
    const strip = (m: typeof ra.metrics) => m.map(({ timeS: _t, ...rest }) => rest);
    expect(strip(rb.metrics)).toEqual(strip(ra.metrics));
    const ca = loadCheckpoint(ra.checkpointPath), cb = loadCheckpoint(rb.checkpointPath);
    expect(Object.keys(cb.tensors).sort()).toEqual(Object.keys(ca.tensors).sort());
    for (const k of Object.keys(ca.tensors)) expect(Array.from(cb.tensors[k].data), k).toEqual(Array.from(ca.tensors[k].data));
  });
});
