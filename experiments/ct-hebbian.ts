/**
 * Continuous-time Hebbian sigprop on MNIST: leaky-integrator layers (τ·dh/dt = −h + W·a + b,
 * a = φ(h)) learning while they integrate with dW/dt = η·(a^t − a^h)·(a_{ℓ−1}^t)ᵀ, and a local
 * CE readout (or nearest class signal).
 *
 *   npx tsx experiments/ct-hebbian.ts --epochs 3
 *   npx tsx experiments/ct-hebbian.ts --pre input --eta 0.003
 *   npx tsx experiments/ct-hebbian.ts --etas 0.00001,0.001,0.003     # sweep η (η → 0: untrained integrator features)
 *
 * Each η trains through the run loop of `sigprop run` (src/runner.ts): one run folder per η under
 * runs/ (metrics, checkpoint, report.html), a progress bar, Ctrl-C (continue with `sigprop run
 * --resume DIR`). Writes runs/ct-hebbian-<time>.json.
 */
import type { ExperimentConfig } from '../src/config/types.js';
import { resolveConfig } from '../src/config/resolve.js';
import { writeJsonAtomic } from '../src/io.js';
import { loadConfigDataset, runExperiment } from '../src/runner.js';
import type { Dataset } from '../src/data/index.js';
import { exitWith, runScriptMain, scheduleFromFlags, scriptRunOptions, scriptRunSummary, type ScriptRunSummary } from '../src/cli/script-flags.js';

exitWith(runScriptMain(process.argv.slice(2), {
  script: 'ct-hebbian',
  summary: 'continuous-time Hebbian sigprop on MNIST (leaky integrators learning while they integrate)',
  examples: ['npx tsx experiments/ct-hebbian.ts --epochs 3', 'npx tsx experiments/ct-hebbian.ts --etas 0.00001,0.001,0.003'],
  flags: {
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
    'log-every': [100, 'progress: 0 for none, else a progress bar on stderr (the run loop\'s)'],
    out: ['', 'results JSON path'],
  },
}, async (f) => {
  const started = new Date().toISOString();
  const out = f.out || `runs/ct-hebbian-${started.replace(/[:.]/g, '-')}.json`;
  const command = `npx tsx experiments/ct-hebbian.ts ${process.argv.slice(2).join(' ')}`;
  const etas = f.etas ? String(f.etas).split(',').map(Number) : [f.eta];
  const results: (ScriptRunSummary & { eta: number })[] = [];
  let dataset: Dataset | undefined; // the same data for every η: loaded once
  for (const eta of etas) {
    const config: ExperimentConfig = {
      name: 'ct-hebbian', dataset: f.dataset, rule: 'sigprop', mode: 'continuous',
      layers: [...String(f.hidden).split(',').map((s) => ({ size: Number(s), model: 'leaky', params: { tauMs: f.tau, activation: f.activation } })), { size: 10 }],
      steps: f.steps, dtMs: f.dt, targetProjection: f.target as 'fixed', learningRate: f.lr, epochs: f.epochs, batchSize: f.batch, seed: f.seed,
      trainSize: f['train-size'] || undefined, testSize: f['test-size'] || undefined, backend: f.backend,
      schedule: scheduleFromFlags(f.milestones, f.gamma),
      ruleParams: { eta, hebbPre: f.pre, hebbPost: f.post, hebbApply: f.apply, temperature: f.temperature, normEps: f['norm-eps'], predict: f.predict, initScale: f['init-scale'], hebbNorm: f.norm },
    };
    const cfg = resolveConfig(config, 'experiments/ct-hebbian.ts flags');
    dataset ??= loadConfigDataset(cfg);
    const t0 = Date.now();
    const r = await runExperiment(cfg, { ...scriptRunOptions(f, { progress: f['log-every'] !== 0 }), altPrediction: true, dataset });
    const res = scriptRunSummary(r, t0);
    results.push({ ...res, eta });
    writeJsonAtomic(out, { command, started, results });
    console.log(`η = ${eta}: final test accuracy ${(100 * res.finalTestAccuracy).toFixed(2)}% (wall ${res.wallS.toFixed(0)}s, run folder ${r.runDir})`);
    if (r.status === 'interrupted') return 130;
  }
  console.log(`-> ${out}`);
  return 0;
}));
