/**
 * Surrogate comparison: the same spiking sigprop run (surrogate mode) with each surrogate
 * function, several seeds, on a seeded subset of MNIST. Prints a table of test accuracy (mean ±
 * std over seeds) and training time per surrogate, and writes runs/surrogate-compare-<time>.json.
 *
 *   npx tsx experiments/surrogate-compare.ts
 *   npx tsx experiments/surrogate-compare.ts --surrogates atan,erf --seeds 1,2,3 --train-size 10000
 */
import { createBackend } from '../src/backend/registry.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { loadDataset } from '../src/data/index.js';
import { writeJsonAtomic } from '../src/io.js';
import { parseFlags, trainAndEvaluate, type TrainResult } from '../src/learning/index.js';

const f = parseFlags(process.argv.slice(2), {
  surrogates: [
    'fastSigmoid:k=25,atan:alpha=2,sigmoid:k=5,triangular,rectangular,erf,piecewiseExp,softSign,spikeRateEscape',
    'surrogate specs, comma-separated (a spec with several parameters uses ; between them, e.g. triangular:width=1;gain=1)',
  ],
  seeds: ['1,2', 'seeds, comma-separated'],
  dataset: ['mnist', 'dataset'],
  'train-size': [5000, 'training samples (seeded class-balanced subset)'],
  'test-size': [2000, 'test samples'],
  hidden: [500, 'hidden layer size'],
  steps: [25, 'time steps T'],
  beta: [0.95, 'LIF β'],
  epochs: [1, 'epochs per run'],
  batch: [64, 'batch size'],
  lr: [0.003, 'learning rate (Adam)'],
  loss: ['classce', 'sigprop local loss'],
  eligibility: ['trace', "'trace' or 'instant'"],
  backend: ['auto', 'backend'],
  out: ['', 'results JSON path'],
}, 'Spiking sigprop (surrogate mode) with each surrogate: accuracy and training time over seeds.');

const backend = await createBackend(f.backend);
const started = new Date().toISOString();
const out = f.out || `runs/surrogate-compare-${started.replace(/[:.]/g, '-')}.json`;
const surrogates = String(f.surrogates).split(',').filter(Boolean).map((s) => s.replace(/;/g, ','));
const seeds = String(f.seeds).split(',').map(Number);
const runs: { surrogate: string; seed: number; testAccuracy: number; trainS: number; firingRate?: number }[] = [];
const datasets = new Map(seeds.map((seed) => [seed, loadDataset(f.dataset, { trainSize: f['train-size'], testSize: f['test-size'], seed })]));
const command = `npx tsx experiments/surrogate-compare.ts ${process.argv.slice(2).join(' ')}`;
for (const surrogate of surrogates) {
  for (const seed of seeds) {
    const config: ExperimentConfig = {
      dataset: f.dataset, rule: 'sigprop', mode: 'spiking', representation: 'surrogate', surrogate,
      layers: [{ size: f.hidden, model: 'lif', params: { beta: f.beta } }, { size: 10 }], steps: f.steps,
      loss: f.loss as 'classce', eligibility: f.eligibility as 'trace', learningRate: f.lr, epochs: f.epochs, batchSize: f.batch, seed,
    };
    const r: TrainResult = trainAndEvaluate(config, { backend, dataset: datasets.get(seed), log: () => {} });
    const trainS = r.epochs.reduce((a, e) => a + e.trainS, 0);
    runs.push({ surrogate, seed, testAccuracy: r.finalTestAccuracy, trainS });
    console.log(`${surrogate.padEnd(24)} seed ${seed}: test ${(100 * r.finalTestAccuracy).toFixed(2)}%  train ${trainS.toFixed(0)}s`);
    writeJsonAtomic(out, { command, started, partial: true, runs });
  }
}
const table = surrogates.map((s) => {
  const rs = runs.filter((r) => r.surrogate === s);
  const m = rs.reduce((a, r) => a + r.testAccuracy, 0) / rs.length;
  const sd = Math.sqrt(rs.reduce((a, r) => a + (r.testAccuracy - m) ** 2, 0) / Math.max(1, rs.length - 1));
  return { surrogate: s, meanAccuracy: m, stdAccuracy: sd, meanTrainS: rs.reduce((a, r) => a + r.trainS, 0) / rs.length, seeds: rs.length };
});
console.log('\n| surrogate | test accuracy (mean ± std) | train time per run (s) |\n|---|---|---|');
for (const t of table) console.log(`| ${t.surrogate} | ${(100 * t.meanAccuracy).toFixed(2)} ± ${(100 * t.stdAccuracy).toFixed(2)}% | ${t.meanTrainS.toFixed(0)} |`);
writeJsonAtomic(out, { command, started, runs, table });
console.log(`-> ${out}`);
process.exit(0);
