/**
 * Spiking (or non-spiking) sigprop on MNIST / Fashion-MNIST.
 *
 *   npx tsx experiments/sigprop-mnist.ts --representation surrogate --epochs 3
 *   npx tsx experiments/sigprop-mnist.ts --dataset fashion-mnist --representation voltage
 *   npx tsx experiments/sigprop-mnist.ts --representation voltage --v-min 0   # with a membrane floor
 *   npx tsx experiments/sigprop-mnist.ts --mode rate                 # non-spiking MLP (T = 1)
 *   npx tsx experiments/sigprop-mnist.ts --rule bp --mode rate        # backprop baseline
 *
 * Network 784-<hidden>-10, LIF β = 0.95, T = 25, rate-coded input; prints progress lines and
 * writes a results JSON into runs/.
 */
import { createBackend } from '../src/backend/registry.js';
import type { ExperimentConfig, RuleName } from '../src/config/types.js';
import { ParameterError } from '../src/errors.js';
import { writeJsonAtomic } from '../src/io.js';
import { parseFlags, scheduleFromFlags, trainAndEvaluate } from '../src/learning/train.js';

const f = parseFlags(process.argv.slice(2), {
  dataset: ['mnist', "dataset registry name ('mnist', 'fashion-mnist', or a synthetic task)"],
  rule: ['sigprop', "learning rule ('sigprop', 'bp', 'bptt')"],
  mode: ['spiking', "'spiking' (LIF over T steps) or 'rate' (non-spiking MLP, T = 1)"],
  representation: ['surrogate', "spiking representation: 'surrogate' (f(U−θ)) or 'voltage' (U)"],
  surrogate: ['fastSigmoid:k=25', 'surrogate spec (surrogates/registry.ts)'],
  eligibility: ['trace', "'trace' (exact presynaptic trace) or 'instant' (x[t])"],
  loss: ['simce', "local loss: 'simce', 'classce' or 'l2'"],
  target: ['learned', "target projection: 'learned' or 'fixed'"],
  predict: ['readout', "'readout' or 'classSignal'"],
  hidden: ['1000', 'hidden layer sizes, comma-separated (e.g. 1000 or 500,500)'],
  beta: [0.95, 'LIF membrane decay per step'],
  threshold: [1, 'LIF threshold θ'],
  'v-min': ['', "LIF membrane floor vMin (U never falls below it; '' = none, e.g. 0 for the voltage-mode result)"],
  steps: [25, 'time steps T per sample'],
  encoder: ['rate', "input encoder spec ('rate', 'rate:gain=2', 'direct', ...)"],
  temperature: [0.1, 'similarity-loss temperature'],
  'voltage-relative': [false, 'voltage mode: use U − θ as the representation'],
  activation: ['relu', 'rate-mode hidden nonlinearity'],
  optimizer: ['adam', "'adam', 'momentum' or 'sgd'"],
  lr: [0.001, 'learning rate'],
  milestones: ['', 'epochs (comma-separated) at which the learning rate is multiplied by --gamma'],
  gamma: [0.1, 'learning-rate decay factor at each milestone'],
  'weight-decay': [0, 'L2 weight decay'],
  dropout: [0, 'dropout rate of hidden units (input stream, one mask per sample over the window)'],
  'input-dropout': [0, 'dropout rate of the input pixels (input stream)'],
  epochs: [1, 'training epochs'],
  batch: [64, 'batch size'],
  'train-size': [0, 'use a seeded class-balanced subset of this many training samples (0 = all)'],
  'test-size': [0, 'test samples (0 = all)'],
  seed: [1, 'random seed'],
  backend: ['auto', "backend: 'auto', 'wasm' or 'reference'"],
  threads: [1, 'wasm worker threads'],
  'log-every': [50, 'progress line every N batches'],
  out: ['', 'results JSON path (default runs/sigprop-<dataset>-<mode>-<representation>-<time>.json)'],
}, 'Spiking / non-spiking sigprop on MNIST or Fashion-MNIST; writes results JSON into runs/.');

const hidden = String(f.hidden).split(',').filter(Boolean).map(Number);
const vMinText = String(f['v-min']).trim();
if (vMinText !== '' && !Number.isFinite(Number(vMinText))) throw new ParameterError(`flag --v-min = "${vMinText}" must be a number below --threshold, or '' for no floor`);
const vMin = vMinText === '' ? {} : { vMin: Number(vMinText) };
const config: ExperimentConfig = {
  name: `sigprop-${f.dataset}`,
  dataset: f.dataset,
  rule: f.rule as RuleName,
  mode: f.mode as 'spiking' | 'rate',
  layers: [...hidden.map((size) => ({ size, model: 'lif', params: { beta: f.beta, threshold: f.threshold, ...vMin } })), { size: 10 }],
  representation: f.representation as 'surrogate' | 'voltage',
  surrogate: f.surrogate,
  eligibility: f.eligibility as 'trace' | 'instant',
  loss: f.loss as 'simce' | 'l2' | 'classce',
  targetProjection: f.target as 'learned' | 'fixed',
  steps: f.steps,
  encoder: f.encoder,
  optimizer: f.optimizer as 'adam',
  learningRate: f.lr,
  weightDecay: f['weight-decay'],
  schedule: scheduleFromFlags(f.milestones, f.gamma),
  epochs: f.epochs,
  batchSize: f.batch,
  trainSize: f['train-size'] || undefined,
  testSize: f['test-size'] || undefined,
  seed: f.seed,
  ruleParams: { temperature: f.temperature, predict: f.predict, ...(f.dropout ? { dropout: f.dropout } : {}), ...(f['input-dropout'] ? { inputDropout: f['input-dropout'] } : {}), ...(f['voltage-relative'] ? { voltageRelative: true } : {}), ...(f.mode === 'rate' ? { activation: f.activation } : {}) },
};
if (f.rule !== 'sigprop') config.ruleParams = f.mode === 'rate' ? { activation: f.activation } : {};

const backend = await createBackend(f.backend, { threads: f.threads });
const started = new Date().toISOString();
const tag = `${f.dataset}-${f.rule}-${f.mode}${f.mode === 'spiking' ? `-${f.representation}` : ''}`;
const out = f.out || `runs/sigprop-${tag}-${started.replace(/[:.]/g, '-')}.json`;
const command = `npx tsx experiments/sigprop-mnist.ts ${process.argv.slice(2).join(' ')}`;
const res = trainAndEvaluate(config, {
  backend,
  logEvery: f['log-every'],
  onEpoch: (m) => writeJsonAtomic(out, { command, started, partial: true, lastEpoch: m, config }),
});
writeJsonAtomic(out, { command, started, ...res });
console.log(`final test accuracy ${(res.finalTestAccuracy * 100).toFixed(2)}% (best ${(res.bestTestAccuracy * 100).toFixed(2)}%), wall ${res.wallS.toFixed(0)}s, peak RSS ${res.peakRssMiB.toFixed(0)} MiB -> ${out}`);
process.exit(0);
