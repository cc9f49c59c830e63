/**
 * Spiking (or non-spiking) sigprop on MNIST / Fashion-MNIST.
 *
 *   npx tsx experiments/sigprop-mnist.ts --representation surrogate --epochs 3
 *   npx tsx experiments/sigprop-mnist.ts --dataset fashion-mnist --representation voltage
 *   npx tsx experiments/sigprop-mnist.ts --representation voltage --v-min 0   # with a membrane floor
 *   npx tsx experiments/sigprop-mnist.ts --mode rate                 # non-spiking MLP (T = 1)
 *   npx tsx experiments/sigprop-mnist.ts --rule bp --mode rate        # backprop baseline
 *
 * Network 784-<hidden>-10, LIF β = 0.95, T = 25, rate-coded input. Trains through the run loop of
 * `sigprop run` (src/runner.ts): a run folder under runs/ with metrics, checkpoint and report.html,
 * a progress bar, Ctrl-C (continue with `sigprop run --resume DIR`); also measures the other
 * prediction method's test accuracy each epoch, and writes a results JSON into runs/.
 */
import type { ExperimentConfig, RuleName } from '../src/config/types.js';
import { resolveConfig } from '../src/config/resolve.js';
import { ParameterError } from '../src/errors.js';
import { writeJsonAtomic } from '../src/io.js';
import { runExperiment } from '../src/runner.js';
import { exitWith, runScriptMain, scheduleFromFlags, scriptRunOptions, scriptRunSummary } from '../src/cli/script-flags.js';

exitWith(runScriptMain(process.argv.slice(2), {
  script: 'sigprop-mnist',
  summary: 'spiking / non-spiking sigprop on MNIST or Fashion-MNIST; writes a run folder and a results JSON into runs/',
  examples: ['npx tsx experiments/sigprop-mnist.ts --representation voltage --v-min 0 --loss classce --lr 0.001 --epochs 9 --milestones 6,8 --gamma 0.3 --input-dropout 0.2'],
  flags: {
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
    threads: [0, 'wasm worker threads (0: one per core, at most 4, as the config default; results do not depend on it)'],
    'log-every': [50, 'progress: 0 for none, else a progress bar on stderr (the run loop\'s)'],
    out: ['', 'results JSON path (default runs/sigprop-<dataset>-<mode>-<representation>-<time>.json)'],
  },
}, async (f) => {
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
  config.backend = f.backend;
  config.threads = f.threads;

  const cfg = resolveConfig(config, 'experiments/sigprop-mnist.ts flags');
  const started = new Date().toISOString();
  const tag = `${f.dataset}-${f.rule}-${f.mode}${f.mode === 'spiking' ? `-${f.representation}` : ''}`;
  const out = f.out || `runs/sigprop-${tag}-${started.replace(/[:.]/g, '-')}.json`;
  const command = `npx tsx experiments/sigprop-mnist.ts ${process.argv.slice(2).join(' ')}`;
  const t0 = Date.now();
  const r = await runExperiment(cfg, { ...scriptRunOptions(f, { progress: f['log-every'] !== 0 }), altPrediction: true });
  const res = scriptRunSummary(r, t0);
  writeJsonAtomic(out, { command, started, ...res });
  const alt = res.epochs.at(-1)?.testAccuracyAlt;
  console.log(`final test accuracy ${(res.finalTestAccuracy * 100).toFixed(2)}% (best ${(res.bestTestAccuracy * 100).toFixed(2)}%)` +
    `${alt ? `, ${alt.method} ${(alt.accuracy * 100).toFixed(2)}%` : ''}, wall ${res.wallS.toFixed(0)}s, peak RSS ${res.peakRssMiB.toFixed(0)} MiB -> ${out} (run folder ${r.runDir})`);
  return r.status === 'interrupted' ? 130 : 0;
}));
