/**
 * Surrogate comparison: the same spiking sigprop run (surrogate mode) with each surrogate
 * function, several seeds, on a seeded subset of MNIST. Prints a table of test accuracy (mean ±
 * std over seeds) and time per surrogate, and writes runs/surrogate-compare-<time>.json. Each
 * (surrogate, seed) trains through the run loop of `sigprop run` (src/runner.ts), in its own run
 * folder under runs/.
 *
 *   npx tsx experiments/surrogate-compare.ts
 *   npx tsx experiments/surrogate-compare.ts --surrogates atan,erf --seeds 1,2,3 --train-size 10000
 */
import type { ExperimentConfig } from '../src/config/types.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { Dataset } from '../src/data/index.js';
import { writeJsonAtomic } from '../src/io.js';
import { loadConfigDataset, runExperiment } from '../src/runner.js';
import { exitWith, runScriptMain, scriptRunOptions, scriptRunSummary } from '../src/cli/script-flags.js';

exitWith(runScriptMain(process.argv.slice(2), {
  script: 'surrogate-compare',
  summary: 'spiking sigprop (surrogate mode) with each surrogate: accuracy and time over seeds',
  examples: ['npx tsx experiments/surrogate-compare.ts --surrogates atan,erf --seeds 1,2,3 --train-size 10000'],
  flags: {
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
  },
}, async (f) => {
  const started = new Date().toISOString();
  const out = f.out || `runs/surrogate-compare-${started.replace(/[:.]/g, '-')}.json`;
  const surrogates = String(f.surrogates).split(',').filter(Boolean).map((s) => s.replace(/;/g, ','));
  const seeds = String(f.seeds).split(',').map(Number);
  /** trainS: wall time of the run's epochs (training and per-epoch evaluation). */
  const runs: { surrogate: string; seed: number; testAccuracy: number; trainS: number; wallS: number; runDir: string }[] = [];
  const datasets = new Map<number, Dataset>(); // one per seed, shared by the surrogates
  const command = `npx tsx experiments/surrogate-compare.ts ${process.argv.slice(2).join(' ')}`;
  for (const surrogate of surrogates) {
    for (const seed of seeds) {
      const config: ExperimentConfig = {
        name: 'surrogate-compare', dataset: f.dataset, rule: 'sigprop', mode: 'spiking', representation: 'surrogate', surrogate,
        layers: [{ size: f.hidden, model: 'lif', params: { beta: f.beta } }, { size: 10 }], steps: f.steps,
        loss: f.loss as 'classce', eligibility: f.eligibility as 'trace', learningRate: f.lr, epochs: f.epochs, batchSize: f.batch, seed,
        trainSize: f['train-size'] || undefined, testSize: f['test-size'] || undefined, backend: f.backend,
      };
      const cfg = resolveConfig(config, 'experiments/surrogate-compare.ts flags');
      if (!datasets.has(seed)) datasets.set(seed, loadConfigDataset(cfg));
      const t0 = Date.now();
      const r = await runExperiment(cfg, { ...scriptRunOptions(f, { log: false }), dataset: datasets.get(seed) });
      const res = scriptRunSummary(r, t0);
      const trainS = r.metrics.reduce((a, e) => a + e.timeS, 0);
      runs.push({ surrogate, seed, testAccuracy: res.finalTestAccuracy, trainS, wallS: res.wallS, runDir: r.runDir });
      console.log(`${surrogate.padEnd(24)} seed ${seed}: test ${(100 * res.finalTestAccuracy).toFixed(2)}%  train ${trainS.toFixed(0)}s  (${r.runDir})`);
      writeJsonAtomic(out, { command, started, partial: true, runs });
      if (r.status === 'interrupted') return 130;
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
  writeJsonAtomic(out, { command, started, runs, table, peakRssMiB: process.resourceUsage().maxRSS / 1024 });
  console.log(`-> ${out}`);
  return 0;
}));
