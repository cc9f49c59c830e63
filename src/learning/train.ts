/**
 * A small train/evaluate loop for experiments and tests (the CLI's run loop in src/runner.ts adds
 * run folders, checkpoints and reports on top of the same TrainingRule contract). Prints one
 * progress line per `logEvery` batches with the rate and an ETA, evaluates on the test split
 * after every epoch, and returns per-epoch metrics with wall time and peak memory.
 */
import type { Backend } from '../backend/backend.js';
import type { ExperimentConfig } from '../config/types.js';
import { batches, loadDataset, type Dataset, type Split } from '../data/index.js';
import { ParameterError } from '../errors.js';
import { Rng } from '../rng.js';
import { createRule, type TrainingRule } from './rule.js';
import './index.js';

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Test accuracy of the other prediction method (readout vs nearest class signal), where the rule has both. */
  testAccuracyAlt?: { method: string; accuracy: number };
  layerLosses: number[];
  /** Wall time of the epoch's training (s), and of its evaluation (s). */
  trainS: number;
  evalS: number;
}

export interface TrainResult {
  config: ExperimentConfig;
  description: string;
  epochs: EpochMetrics[];
  finalTestAccuracy: number;
  bestTestAccuracy: number;
  wallS: number;
  /** Peak resident set size of the process (MiB). */
  peakRssMiB: number;
  trainSize: number;
  testSize: number;
  backend: string;
}

export interface TrainOptions {
  backend: Backend;
  /** Loaded dataset (else loaded from config.dataset with trainSize/testSize/seed). */
  dataset?: Dataset;
  /** Print a progress line every this many batches (0: only per epoch). */
  logEvery?: number;
  log?: (line: string) => void;
  /** Called after each epoch (e.g. to write partial results). */
  onEpoch?: (m: EpochMetrics, rule: TrainingRule) => void;
  /** Evaluate on at most this many test samples per epoch (default all). */
  evalBatch?: number;
}

type WithAltPredict = TrainingRule & { predictWith?(x: Float32Array, B: number, mode: 'readout' | 'classSignal'): Int32Array; settings?: { predict?: string } };

/** Fraction of `split` classified correctly (with `mode`, when the rule supports predictWith). */
export function accuracy(rule: TrainingRule, split: Split, batchSize = 500, mode?: 'readout' | 'classSignal'): number {
  let correct = 0;
  const r = rule as WithAltPredict;
  for (let start = 0; start < split.n; start += batchSize) {
    const size = Math.min(batchSize, split.n - start);
    const predict = mode && r.predictWith ? (x: Float32Array, b: number) => r.predictWith!(x, b, mode) : (x: Float32Array, b: number) => rule.predict(x, b);
    const pred = predict(split.images.subarray(start * split.inputSize, (start + size) * split.inputSize), size);
    for (let i = 0; i < size; i++) if (pred[i] === split.labels[start + i]) correct++;
  }
  return correct / split.n;
}

/** Train `config` for config.epochs epochs and evaluate after each. */
export function trainAndEvaluate(config: ExperimentConfig, opts: TrainOptions): TrainResult {
  const log = opts.log ?? ((l: string) => console.log(l));
  const seed = config.seed ?? 0;
  const ds = opts.dataset ?? loadDataset(config.dataset, {
    trainSize: config.trainSize, testSize: config.testSize, seed, params: config.datasetParams,
  });
  const rng = new Rng(seed);
  const rule = createRule(config, { backend: opts.backend, rng: rng.fork(), inputSize: ds.inputSize, numClasses: ds.numClasses });
  const batchRng = rng.fork();
  const B = config.batchSize ?? 64;
  if (!Number.isInteger(B) || B < 1) throw new ParameterError(`batchSize = ${B} must be a positive integer`);
  const epochs = config.epochs ?? 1;
  const nb = Math.ceil(ds.train.n / B);
  log(`# ${rule.describe()}`);
  log(`# data ${ds.name}: train ${ds.train.n}, test ${ds.test.n}; batch ${B}; epochs ${epochs}; backend ${opts.backend.name}; seed ${seed}`);
  const t0 = Date.now();
  const out: EpochMetrics[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    rule.setEpoch(epoch);
    const te = Date.now();
    let lossSum = 0, accSum = 0, seen = 0, bi = 0;
    let layerSum: number[] = [];
    for (const b of batches(ds.train, B, batchRng)) {
      const r = rule.trainBatch(b.x, b.labels);
      lossSum += r.loss * b.size;
      accSum += (r.accuracy ?? 0) * b.size;
      layerSum = r.layerLosses.map((v, i) => (layerSum[i] ?? 0) + v * b.size);
      seen += b.size;
      bi++;
      if (opts.logEvery && bi % opts.logEvery === 0) {
        const el = (Date.now() - te) / 1000, rate = bi / el;
        const fr = rule.layerStats?.()[0]?.firingRate;
        log(`epoch ${epoch + 1}/${epochs} batch ${bi}/${nb} loss ${(lossSum / seen).toFixed(4)} train-acc ${(accSum / seen).toFixed(4)}` +
          `${fr !== undefined ? ` rate0 ${fr.toFixed(3)}` : ''} ${rate.toFixed(2)} batch/s ETA ${((nb - bi) / rate).toFixed(0)}s`);
      }
    }
    const trainS = (Date.now() - te) / 1000;
    const tv = Date.now();
    const testAccuracy = accuracy(rule, ds.test, opts.evalBatch ?? 500);
    const alt = rule as WithAltPredict;
    const altMode = alt.predictWith && alt.settings?.predict ? (alt.settings.predict === 'readout' ? 'classSignal' : 'readout') : undefined;
    const testAccuracyAlt = altMode ? { method: altMode, accuracy: accuracy(rule, ds.test, opts.evalBatch ?? 500, altMode) } : undefined;
    const m: EpochMetrics = {
      epoch: epoch + 1, trainLoss: lossSum / seen, trainAccuracy: accSum / seen, testAccuracy, testAccuracyAlt,
      layerLosses: layerSum.map((v) => v / seen), trainS, evalS: (Date.now() - tv) / 1000,
    };
    out.push(m);
    log(`epoch ${epoch + 1}/${epochs} done: train-loss ${m.trainLoss.toFixed(4)} train-acc ${m.trainAccuracy.toFixed(4)} test-acc ${testAccuracy.toFixed(4)}${testAccuracyAlt ? ` (${testAccuracyAlt.method}: ${testAccuracyAlt.accuracy.toFixed(4)})` : ''} (${trainS.toFixed(0)}s train, ${m.evalS.toFixed(0)}s eval)`);
    opts.onEpoch?.(m, rule);
  }
  rule.dispose?.();
  return {
    config, description: rule.describe(), epochs: out,
    finalTestAccuracy: out[out.length - 1]?.testAccuracy ?? NaN,
    bestTestAccuracy: Math.max(...out.map((m) => m.testAccuracy)),
    wallS: (Date.now() - t0) / 1000,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    trainSize: ds.train.n, testSize: ds.test.n, backend: opts.backend.name,
  };
}

/** Flag spec for experiment scripts: name → [default, description]. */
export type FlagSpec = Record<string, [string | number | boolean, string]>;

/**
 * Parse `--name value` / `--name=value` / `--flag` arguments against a spec. Unknown flags and
 * values of the wrong type throw ParameterError; `--help` prints usage and exits.
 */
export function parseFlags<S extends FlagSpec>(argv: string[], spec: S, usage: string): { [K in keyof S]: S[K][0] } {
  const out: Record<string, string | number | boolean> = Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, v[0]]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(`${usage}\n\nFlags:`);
      for (const [k, [d, doc]] of Object.entries(spec)) console.log(`  --${k.padEnd(16)} ${doc} (default ${JSON.stringify(d)})`);
      process.exit(0);
    }
    if (!a.startsWith('--')) throw new ParameterError(`unexpected argument "${a}"; flags look like --name value (see --help)`);
    let [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!(name in spec)) throw new ParameterError(`unknown flag --${name}; known flags: ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    const d = spec[name][0];
    if (typeof d === 'boolean') {
      out[name] = value === undefined ? true : value !== 'false' && value !== '0';
      continue;
    }
    if (value === undefined) value = argv[++i];
    if (value === undefined) throw new ParameterError(`flag --${name} needs a value`);
    if (typeof d === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new ParameterError(`flag --${name} = "${value}" must be a number`);
      out[name] = n;
    } else out[name] = value;
  }
  return out as { [K in keyof S]: S[K][0] };
}

/**
 * The milestone schedule of the experiment scripts' `--milestones` / `--gamma` flags: undefined
 * for an empty list, else whole epochs (0-based epoch index at which the rate is multiplied by gamma).
 */
export function scheduleFromFlags(milestones: string, gamma: number): { milestones: number[]; gamma: number } | undefined {
  const text = String(milestones).trim();
  if (text === '') return undefined;
  const ms = text.split(',').map((m) => Number(m.trim()));
  if (ms.some((m) => !Number.isInteger(m) || m < 0)) {
    throw new ParameterError(`flag --milestones = "${text}" must be comma-separated whole epochs, e.g. 6,8`);
  }
  return { milestones: ms, gamma };
}
