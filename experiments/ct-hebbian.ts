/**
 * Continuous-time Hebbian sigprop on MNIST: leaky-integrator layers (τ·dh/dt = −h + W·a + b,
 * a = φ(h)) learning while they integrate with dW/dt = η·(a^t − a^h)·(a_{ℓ−1}^t)ᵀ, and a local
 * CE readout (or nearest class signal).
 *
 *   npx tsx experiments/ct-hebbian.ts --epochs 3
 *   npx tsx experiments/ct-hebbian.ts --pre input --eta 0.003
 *   npx tsx experiments/ct-hebbian.ts --etas 0.00001,0.001,0.003     # sweep η (η → 0: untrained integrator features)
 *
 * Writes runs/ct-hebbian-<time>.json.
 */
import { createBackend } from '../src/backend/registry.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { loadDataset } from '../src/data/index.js';
import { writeJsonAtomic } from '../src/io.js';
import { parseFlags, scheduleFromFlags, trainAndEvaluate, type TrainResult } from '../src/learning/index.js';

const f = parseFlags(process.argv.slice(2), {
  dataset: ['mnist', 'dataset'],
  hidden: ['1000', 'hidden layer sizes, comma-separated'],
  activation: ['tanh', "φ of the leaky integrators ('tanh', 'sigmoid', 'relu', ...)"],
  tau: [5, 'membrane time constant τ (ms)'],
  dt: [1, 'integration step dt (ms)'],
  steps: [10, 'integration steps per sample'],
  eta: [0.001, 'Hebbian rate η per ms'],
  etas: ['', 'sweep: several η values, comma-separated (overrides --eta)'],
  pre: ['target', "presynaptic factor: 'target' (a_{l-1}^t, the DESIGN rule), 'input' (a_{l-1}^h) or 'both' (each stream its own)"],
  post: ['delta', "postsynaptic factor: 'delta' (a^t[c] − a^h, the DESIGN rule), 'contrastive' (a^t[c] − Σ_j p_j a^t[j]) or 'similarity' (−∂L/∂a ⊙ φ'(h) of the layer's class-signal cosine CE; needs --pre both)"],
  apply: ['online', "'online' (W follows dW/dt each step, rate --eta) or 'optimizer' (window-integrated dW through Adam at --lr)"],
  temperature: [0.1, "temperature τ of the contrastive factor's softmax over classes"],
  'norm-eps': [1e-8, "ε of the row norm √(Σa² + ε) in the similarity factor's cosine (a larger one, e.g. 0.01, bounds the gradient of near-silent ReLU rows, which --apply online needs to stay stable)"],
  predict: ['readout', "'readout' (local CE readout) or 'classSignal' (last layer Hebbian, nearest class signal)"],
  target: ['fixed', "target projection: 'fixed' or 'learned'"],
  'init-scale': [8, 'weights start uniform in ±initScale/√fanIn'],
  norm: [false, 'keep each unit\'s incoming weight norm fixed'],
  lr: [0.01, "learning rate (Adam) of the readout, and of the hidden layers with --apply optimizer"],
  milestones: ['', 'epochs (comma-separated) at which the learning rate and η are multiplied by --gamma'],
  gamma: [0.1, 'learning-rate decay factor at each milestone'],
  epochs: [1, 'epochs'],
  batch: [64, 'batch size'],
  'train-size': [0, 'training subset (0 = all)'],
  'test-size': [0, 'test subset (0 = all)'],
  seed: [1, 'seed'],
  backend: ['auto', 'backend'],
  'log-every': [100, 'progress line every N batches'],
  out: ['', 'results JSON path'],
}, 'Continuous-time Hebbian sigprop on MNIST (leaky integrators learning while they integrate).');

const backend = await createBackend(f.backend);
const started = new Date().toISOString();
const out = f.out || `runs/ct-hebbian-${started.replace(/[:.]/g, '-')}.json`;
const command = `npx tsx experiments/ct-hebbian.ts ${process.argv.slice(2).join(' ')}`;
const ds = loadDataset(f.dataset, { trainSize: f['train-size'] || undefined, testSize: f['test-size'] || undefined, seed: f.seed });
const etas = f.etas ? String(f.etas).split(',').map(Number) : [f.eta];
const results: (TrainResult & { eta: number })[] = [];
for (const eta of etas) {
  const config: ExperimentConfig = {
    name: 'ct-hebbian', dataset: f.dataset, rule: 'sigprop', mode: 'continuous',
    layers: [...String(f.hidden).split(',').map((s) => ({ size: Number(s), model: 'leaky', params: { tauMs: f.tau, activation: f.activation } })), { size: 10 }],
    steps: f.steps, dtMs: f.dt, targetProjection: f.target as 'fixed', learningRate: f.lr, epochs: f.epochs, batchSize: f.batch, seed: f.seed,
    schedule: scheduleFromFlags(f.milestones, f.gamma),
    ruleParams: { eta, hebbPre: f.pre, hebbPost: f.post, hebbApply: f.apply, temperature: f.temperature, normEps: f['norm-eps'], predict: f.predict, initScale: f['init-scale'], hebbNorm: f.norm },
  };
  const r = trainAndEvaluate(config, { backend, dataset: ds, logEvery: f['log-every'] });
  results.push({ ...r, eta });
  console.log(`η = ${eta}: final test accuracy ${(100 * r.finalTestAccuracy).toFixed(2)}% (wall ${r.wallS.toFixed(0)}s)`);
  writeJsonAtomic(out, { command, started, results });
}
console.log(`-> ${out}`);
process.exit(0);
