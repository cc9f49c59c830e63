/**
 * Bit-for-bit resume and run determinism on the reference backend.
 * The rule is a tiny softmax classifier with momentum and random input dropout defined here
 * (it uses the rule RNG every batch and has optimiser state, so a resume that forgot either
 * would diverge), plus the real registered rule when src/learning provides one.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { Dataset } from '../src/data/index.js';
import type { RuleFactory, TrainingRule } from '../src/learning/rule.js';
import { Rng } from '../src/rng.js';
import { evaluateCheckpoint, resumeRun, runExperiment, type RunEpochMetrics, type RunExperimentOptions } from '../src/runner.js';

/** Two Gaussian blobs per class in 6-D, 4 classes: 96 train, 32 test samples. */
export function blobs(seed = 3): Dataset {
  const rng = new Rng(seed);
  const make = (n: number) => {
    const images = new Float32Array(n * 6);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 4;
      for (let d = 0; d < 6; d++) images[i * 6 + d] = Math.min(1, Math.max(0, 0.5 + (d % 4 === labels[i] ? 0.3 : -0.1) + rng.normal(0, 0.15)));
    }
    return { images, labels, n, inputSize: 6, numClasses: 4 };
  };
  return { name: 'blobs', inputShape: [6], inputSize: 6, numClasses: 4, train: make(96), test: make(32), normalisation: { kind: 'none' }, source: 'test' };
}

/** Softmax regression with momentum SGD and rng-driven input dropout. */
export const toyRule: RuleFactory = (cfg, ctx) => {
  const nIn = ctx.inputSize;
  const nOut = ctx.numClasses;
  const W = ctx.rng.fillNormal(new Float32Array(nIn * nOut), 0, 0.1);
  const V = new Float32Array(nIn * nOut);
  let lr = cfg.learningRate ?? 0.1;
  const logits = (x: Float32Array, b: number, out: Float32Array) => {
    for (let o = 0; o < nOut; o++) {
      let s = 0;
      for (let i = 0; i < nIn; i++) s += x[b * nIn + i] * W[i * nOut + o];
      out[o] = s;
    }
  };
  const rule: TrainingRule = {
    name: 'toy',
    describe: () => 'toy softmax',
    setEpoch(e) {
      lr = (cfg.learningRate ?? 0.1) * (e >= 2 ? 0.5 : 1);
    },
    trainBatch(x, labels) {
      const B = labels.length;
      const xd = Float32Array.from(x, (v) => (ctx.rng.uniform() < 0.1 ? 0 : v));
      const G = new Float32Array(nIn * nOut);
      const z = new Float32Array(nOut);
      let loss = 0;
      let correct = 0;
      for (let b = 0; b < B; b++) {
        logits(xd, b, z);
        const mx = Math.max(...z);
        let sum = 0;
        for (let o = 0; o < nOut; o++) sum += Math.exp(z[o] - mx);
        let arg = 0;
        for (let o = 0; o < nOut; o++) {
          const p = Math.exp(z[o] - mx) / sum;
          if (z[o] > z[arg]) arg = o;
          const g = p - (o === labels[b] ? 1 : 0);
          for (let i = 0; i < nIn; i++) G[i * nOut + o] += (g * xd[b * nIn + i]) / B;
        }
        loss -= Math.log(Math.exp(z[labels[b]] - mx) / sum);
        if (arg === labels[b]) correct++;
      }
      for (let k = 0; k < W.length; k++) {
        V[k] = 0.9 * V[k] + G[k];
        W[k] -= lr * V[k];
      }
      return { loss: loss / B, layerLosses: [loss / B], accuracy: correct / B };
    },
    predict(x, B) {
      const out = new Int32Array(B);
      const z = new Float32Array(nOut);
      for (let b = 0; b < B; b++) {
        logits(x, b, z);
        out[b] = z.indexOf(Math.max(...z));
      }
      return out;
    },
    state: () => ({ W: W.slice(), 'W.momentum': V.slice() }),
    loadState(s) {
      W.set(s.W);
      V.set(s['W.momentum']);
    },
    layerStats: () => [{ layer: 0, label: 'readout', weightNorm: Math.hypot(...W) }],
  };
  return rule;
};

const baseConfig = { dataset: 'blobs', layers: [{ size: 4 }], rule: 'sigprop', mode: 'rate', epochs: 4, batchSize: 10, learningRate: 0.2, seed: 11, backend: 'reference' };

function opts(extra: RunExperimentOptions & { epochs?: number } = {}): RunExperimentOptions & { epochs?: number } {
  return { dataset: blobs(), createRule: toyRule, progress: false, log: () => {}, report: false, ...extra };
}

const stripTime = (m: RunEpochMetrics[]) => m.map(({ timeS: _t, ...rest }) => rest);

function bits(path: string): Record<string, number[]> {
  const ck = loadCheckpoint(path);
  return Object.fromEntries(Object.entries(ck.tensors).map(([k, t]) => [k, Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length))]));
}

/**
 * A rule factory that aborts the run after `afterBatches` training batches in total. Wraps
 * trainBatch in place (not a spread copy) so that class-based rules keep their prototype methods.
 */
function abortingRule(controller: AbortController, afterBatches: number, factory: RuleFactory = toyRule): RuleFactory {
  return (cfg, ctx) => {
    const inner = factory(cfg, ctx);
    const train = inner.trainBatch.bind(inner);
    let n = 0;
    inner.trainBatch = (x, l) => {
      const r = train(x, l);
      if (++n === afterBatches) controller.abort();
      return r;
    };
    return inner;
  };
}

describe('run loop: determinism and bit-for-bit resume (reference backend)', () => {
  const root = mkdtempSync(join(tmpdir(), 'sigprop-resume-'));
  const cfg = resolveConfig(baseConfig, 'test', { skipChecks: ['dataset'] }); // data passed in

  it('two runs with the same seed give identical metrics and weights; another seed differs', async () => {
    const a = await runExperiment(cfg, opts({ runDir: join(root, 'a') }));
    const b = await runExperiment(cfg, opts({ runDir: join(root, 'b') }));
    expect(a.status).toBe('complete');
    expect(a.metrics).toHaveLength(4);
    expect(stripTime(b.metrics)).toEqual(stripTime(a.metrics));
    expect(bits(b.checkpointPath)).toEqual(bits(a.checkpointPath));
    expect(a.metrics.at(-1)!.testAccuracy).toBeGreaterThan(0.5); // it learns
    const c = await runExperiment(resolveConfig({ ...baseConfig, seed: 12 }, 'test', { skipChecks: ['dataset'] }), opts({ runDir: join(root, 'c') }));
    expect(bits(c.checkpointPath)).not.toEqual(bits(a.checkpointPath));
    // run folder contents, no temp files left behind
    expect(readdirSync(a.runDir).sort()).toEqual(['checkpoint.ckpt', 'config.json', 'metrics.csv', 'metrics.json', 'run.json']);
    expect(JSON.parse(readFileSync(join(a.runDir, 'run.json'), 'utf8')).status).toBe('complete');
    const csv = readFileSync(join(a.runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,trainLoss,trainAccuracy,trainSamples,testAccuracy,testSamples,learningRate,timeS,layer0.loss,layer0.weightNorm');
    expect(csv).toHaveLength(5);
  });

  for (const [label, afterBatches] of [['mid-epoch', 14], ['at an epoch boundary', 20], ['in the first batch', 1]] as const) {
    it(`interrupted ${label} and resumed, ends with the same weights bit for bit`, async () => {
      const full = await runExperiment(cfg, opts({ runDir: join(root, `full-${afterBatches}`) }));
      const controller = new AbortController();
      const dir = join(root, `int-${afterBatches}`);
      const part = await runExperiment(cfg, opts({ runDir: dir, signal: controller.signal, createRule: abortingRule(controller, afterBatches) }));
      expect(part.status).toBe('interrupted');
      const st = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      expect(st.status).toBe('interrupted');
      expect(st.epoch * 10 + st.batch).toBe(afterBatches); // 10 batches per epoch
      const done = await resumeRun(dir, opts());
      expect(done.status).toBe('complete');
      expect(bits(done.checkpointPath)).toEqual(bits(full.checkpointPath));
      expect(stripTime(done.metrics)).toEqual(stripTime(full.metrics));
    });
  }

  it('resume can extend training; a finished run folder is not overwritten', async () => {
    const dir = join(root, 'extend');
    const short = await runExperiment(resolveConfig({ ...baseConfig, epochs: 2 }, 'test', { skipChecks: ['dataset'] }), opts({ runDir: dir }));
    expect(short.metrics).toHaveLength(2);
    await expect(runExperiment(cfg, opts({ runDir: dir }))).rejects.toThrow(/already holds a run.*--resume/);
    const longer = await resumeRun(dir, opts({ epochs: 4 }));
    const full = await runExperiment(cfg, opts({ runDir: join(root, 'extend-ref') }));
    expect(bits(longer.checkpointPath)).toEqual(bits(full.checkpointPath));
  });

  it('refuses to resume a folder without a checkpoint, and a checkpoint of another architecture', async () => {
    await expect(resumeRun(join(root, 'nothing'), opts())).rejects.toThrow(/has no config\.json/);
    const dir = join(root, 'arch');
    await runExperiment(resolveConfig({ ...baseConfig, epochs: 1 }, 'test', { skipChecks: ['dataset'] }), opts({ runDir: dir }));
    const other = blobs();
    other.inputSize = 7; // a different network input
    await expect(resumeRun(dir, opts({ dataset: other }))).rejects.toThrow(/different network/);
  });

  it('evaluateCheckpoint reproduces the final test accuracy', async () => {
    const dir = join(root, 'eval');
    const r = await runExperiment(cfg, opts({ runDir: dir }));
    const ev = await evaluateCheckpoint(dir, {}, { dataset: blobs(), createRule: toyRule });
    expect(ev.accuracy).toBe(r.metrics.at(-1)!.testAccuracy);
    expect(ev.samples).toBe(32);
    expect(ev.epoch).toBe(4);
  });

  it('divergence leaves status diverged with the message and keeps the last good checkpoint', async () => {
    const dir = join(root, 'diverge');
    const { DivergenceError } = await import('../src/learning/rule.js');
    let n = 0;
    const diverging: RuleFactory = (c, ctx) => {
      const inner = toyRule(c, ctx);
      return { ...inner, trainBatch: (x, l) => {
        if (++n === 25) throw new DivergenceError('layer0', n, 0.2);
        return inner.trainBatch(x, l);
      } };
    };
    await expect(runExperiment(cfg, opts({ runDir: dir, createRule: diverging }))).rejects.toThrow(/training diverged: layer0/);
    const st = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(st.status).toBe('diverged');
    expect(st.error).toMatch(/lower the learning rate/);
    expect(loadCheckpoint(join(dir, 'checkpoint.ckpt')).epoch).toBe(2); // last completed epoch
    expect(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'))).toHaveLength(2);
  });

  it('a failing rule leaves run.json with status failed and the error', async () => {
    const dir = join(root, 'fail');
    const bad: RuleFactory = (c, ctx) => ({ ...toyRule(c, ctx), trainBatch: () => { throw new Error('boom'); } });
    await expect(runExperiment(cfg, opts({ runDir: dir, createRule: bad }))).rejects.toThrow('boom');
    const st = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(st.status).toBe('failed');
    expect(st.error).toBe('boom');
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
    // no checkpoint was written: --resume starts it over in the same folder
    const again = await resumeRun(dir, opts());
    expect(again.status).toBe('complete');
    expect(again.metrics).toHaveLength(4);
  });
});

describe('bit-for-bit resume with the registered sigprop rule (reference backend)', () => {
  const root = mkdtempSync(join(tmpdir(), 'sigprop-resume-real-'));
  const realCfg = resolveConfig({ dataset: 'moons', trainSize: 96, testSize: 32, layers: [{ size: 12 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 3, batchSize: 16, learningRate: 0.01, seed: 5, backend: 'reference' });
  const realOpts = (extra: RunExperimentOptions = {}): RunExperimentOptions => ({ progress: false, log: () => {}, report: false, ...extra });

  const spikingCfg = resolveConfig({ ...realCfg, mode: 'spiking', steps: 6, epochs: 2, layers: [{ size: 10, model: 'lif' }, { size: 2, model: 'lif' }] });

  it('spiking sigprop (random rate coding from the rule RNG): same seed gives identical metrics; resume is bit for bit', async () => {
    const a = await runExperiment(spikingCfg, realOpts({ runDir: join(root, 'spk-a') }));
    const b = await runExperiment(spikingCfg, realOpts({ runDir: join(root, 'spk-b') }));
    expect(stripTime(b.metrics)).toEqual(stripTime(a.metrics));
    expect(bits(b.checkpointPath)).toEqual(bits(a.checkpointPath));
    const controller = new AbortController();
    const { createRule } = await import('../src/learning/index.js');
    const counting = abortingRule(controller, 4, createRule);
    const dir = join(root, 'spk-part');
    expect((await runExperiment(spikingCfg, realOpts({ runDir: dir, signal: controller.signal, createRule: counting }))).status).toBe('interrupted');
    const done = await resumeRun(dir, realOpts());
    expect(bits(done.checkpointPath)).toEqual(bits(a.checkpointPath));
    expect(stripTime(done.metrics)).toEqual(stripTime(a.metrics));
    // evaluation draws input spikes from the rule RNG: eval of the checkpoint reproduces the logged accuracy
    const ev = await evaluateCheckpoint(a.runDir);
    expect(ev.accuracy).toBe(a.metrics.at(-1)!.testAccuracy);
  });

  it('interrupted mid-epoch (via abort) and resumed equals the uninterrupted run', async () => {
    const full = await runExperiment(realCfg, realOpts({ runDir: join(root, 'full') }));
    const controller = new AbortController();
    const { createRule } = await import('../src/learning/index.js');
    const counting = abortingRule(controller, 8, createRule); // epoch 2, batch 2 (6 batches per epoch)
    const dir = join(root, 'part');
    const part = await runExperiment(realCfg, realOpts({ runDir: dir, signal: controller.signal, createRule: counting }));
    expect(part.status).toBe('interrupted');
    const done = await resumeRun(dir, realOpts());
    expect(done.status).toBe('complete');
    expect(Object.keys(bits(full.checkpointPath)).length).toBeGreaterThan(1);
    expect(bits(done.checkpointPath)).toEqual(bits(full.checkpointPath));
    expect(stripTime(done.metrics)).toEqual(stripTime(full.metrics));
  });
});
