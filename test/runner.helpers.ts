/**
 * Shared pieces of the test/runner.*.test.ts files: a tiny in-memory dataset, a tiny softmax
 * rule, rules whose loss misbehaves on purpose, the in-process CLI (cli.helpers.ts), and temp folders.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../src/config/resolve.js';
import type { Dataset } from '../src/data/index.js';
import type { RuleFactory, TrainingRule } from '../src/learning/rule.js';
import { Rng } from '../src/rng.js';
import type { ResumeChanges, RunExperimentOptions } from '../src/runner.js';

/** A fresh temporary folder. */
export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `sigprop-${tag}-`));
}

/** Two separable classes in 4-D: 40 train, 12 test samples. */
export function twoBlobs(seed = 5): Dataset {
  const rng = new Rng(seed);
  const make = (n: number) => {
    const images = new Float32Array(n * 4);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      for (let d = 0; d < 4; d++) images[i * 4 + d] = 0.5 + (d % 2 === labels[i] ? 0.3 : -0.3) + rng.normal(0, 0.1);
    }
    return { images, labels, n, inputSize: 4, numClasses: 2 };
  };
  return { name: 'blobs', inputShape: [4], inputSize: 4, numClasses: 2, train: make(40), test: make(12), normalisation: { kind: 'none' }, source: 'test' };
}

/**
 * Softmax regression trained with plain SGD. `lossAt(step, loss)` may replace the batch loss it
 * reports (step counts this rule's batches from 1), to make a run's loss misbehave on purpose.
 */
export function softmaxRule(lossAt?: (step: number, loss: number, lr: number) => number): RuleFactory {
  return (cfg, ctx) => {
    const nIn = ctx.inputSize, nOut = ctx.numClasses;
    const W = ctx.rng.fillNormal(new Float32Array(nIn * nOut), 0, 0.1);
    const lr = cfg.learningRate ?? 0.1;
    let step = 0;
    const logits = (x: Float32Array, b: number) => Array.from({ length: nOut }, (_, o) => {
      let s = 0;
      for (let i = 0; i < nIn; i++) s += x[b * nIn + i] * W[i * nOut + o];
      return s;
    });
    const rule: TrainingRule = {
      name: 'softmax',
      describe: () => 'softmax regression',
      setEpoch() {},
      trainBatch(x, labels) {
        const B = labels.length;
        let loss = 0, correct = 0;
        const G = new Float32Array(W.length);
        for (let b = 0; b < B; b++) {
          const z = logits(x, b);
          const mx = Math.max(...z);
          const e = z.map((v) => Math.exp(v - mx));
          const sum = e.reduce((p, q) => p + q, 0);
          loss -= Math.log(e[labels[b]] / sum);
          if (z.indexOf(mx) === labels[b]) correct++;
          for (let o = 0; o < nOut; o++) for (let i = 0; i < nIn; i++) G[i * nOut + o] += ((e[o] / sum - (o === labels[b] ? 1 : 0)) * x[b * nIn + i]) / B;
        }
        for (let k = 0; k < W.length; k++) W[k] -= lr * G[k];
        step++;
        const l = lossAt ? lossAt(step, loss / B, lr) : loss / B;
        return { loss: l, layerLosses: [l], accuracy: correct / B };
      },
      predict(x, B) {
        return Int32Array.from({ length: B }, (_, b) => {
          const z = logits(x, b);
          return z.indexOf(Math.max(...z));
        });
      },
      state: () => ({ W: W.slice() }),
      loadState(s) {
        W.set(s.W);
      },
    };
    return rule;
  };
}

/** A resolved config for the in-memory dataset (4 epochs of 4 batches). */
export function blobConfig(extra: Record<string, unknown> = {}) {
  return resolveConfig({ name: 'blobs', dataset: 'blobs', layers: [{ size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 4, batchSize: 10, learningRate: 0.1, seed: 3, backend: 'reference', ...extra }, 'test', { skipChecks: ['dataset'] });
}

/** Silent run options with the in-memory dataset and the softmax rule. */
export function quiet(extra: RunExperimentOptions & ResumeChanges = {}): RunExperimentOptions & ResumeChanges {
  return { dataset: twoBlobs(), createRule: softmaxRule(), progress: false, log: () => {}, warn: () => {}, report: false, ...extra };
}

export { cli } from './cli.helpers.js';

/** A tiny rate-sigprop config file on the moons task (reference backend); returns its path. */
export function moonsConfigFile(dir: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `moons-${Object.keys(extra).join('-') || 'base'}.json`);
  const cfg = { name: 'moons', dataset: 'moons', trainSize: 64, testSize: 32, layers: [{ size: 8 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 2, batchSize: 16, learningRate: 0.01, backend: 'reference', outDir: join(dir, 'runs'), ...extra };
  writeFileSync(path, JSON.stringify(cfg));
  return path;
}
