/**
 * Named experiment configurations: `sigprop run <name>` runs one, and a config file may start
 * from a copy of one (`sigprop run quick --dry-run` prints it resolved). Each is an
 * ExperimentConfig validated like a file when it is used.
 */
import { closest } from './didyoumean.js';
import { SigpropError } from '../errors.js';
import type { ExperimentConfig } from './types.js';

export interface Preset {
  name: string;
  description: string;
  config: ExperimentConfig;
}

const presets = new Map<string, Preset>();

/** Register (or replace) a named experiment configuration. */
export function registerPreset(preset: Preset): void {
  presets.set(preset.name, preset);
}

/** Names of the registered presets, in registration order. */
export function presetNames(): string[] {
  return [...presets.keys()];
}

/** All presets (for listings). */
export function listPresets(): Preset[] {
  return [...presets.values()];
}

/** Whether `name` names a preset. */
export function hasPreset(name: string): boolean {
  return presets.has(name);
}

/** A deep copy of the preset's config. Unknown names throw with a did-you-mean hint. */
export function getPreset(name: string): ExperimentConfig {
  const p = presets.get(name);
  if (!p) {
    const hint = closest(name, presetNames());
    throw new SigpropError(`unknown experiment "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; known experiments: ${presetNames().join(', ')}`, 'config');
  }
  return JSON.parse(JSON.stringify(p.config)) as ExperimentConfig;
}

registerPreset({
  name: 'quick',
  description: 'seconds-long smoke test: rate sigprop on the 2-D moons task',
  config: { name: 'quick', dataset: 'moons', trainSize: 512, testSize: 256, layers: [{ size: 32 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 3, batchSize: 32, learningRate: 0.01, seed: 0 },
});
registerPreset({
  name: 'mnist-rate',
  description: 'non-spiking sigprop MLP on MNIST (784-500-10)',
  config: { name: 'mnist-rate', dataset: 'mnist', layers: [{ size: 500 }, { size: 10 }], rule: 'sigprop', mode: 'rate', epochs: 5, batchSize: 64, learningRate: 0.001, optimizer: 'adam' },
});
registerPreset({
  name: 'mnist-mlp',
  description: 'non-spiking sigprop MLP on MNIST (the >= 98% configuration of RESULTS.md): ReLU 784-1000-10, class-signal CE at temperature 0.05, input dropout 0.2, learned targets, Adam 0.001, 15 epochs (lr x0.3 at 10 and 13)',
  config: {
    name: 'mnist-mlp', dataset: 'mnist', layers: [{ size: 1000 }, { size: 10 }], rule: 'sigprop', mode: 'rate', loss: 'classce',
    targetProjection: 'learned', optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 15, seed: 1,
    schedule: { milestones: [10, 13], gamma: 0.3 }, ruleParams: { temperature: 0.05, inputDropout: 0.2 },
  },
});
/**
 * The reference spiking sigprop network and settings (RESULTS.md): LIF 784-1000-10, beta 0.95,
 * T = 25, rate coding, fastSigmoid k=5, class-signal CE at temperature 0.05, learned targets,
 * Adam 0.003. getPreset deep-copies, so presets may share this object.
 */
const spikingSigprop: Omit<ExperimentConfig, 'dataset'> = {
  layers: [{ size: 1000, model: 'lif', params: { beta: 0.95, threshold: 1 } }, { size: 10 }],
  rule: 'sigprop', mode: 'spiking', representation: 'surrogate', surrogate: 'fastSigmoid:k=5', eligibility: 'trace',
  loss: 'classce', targetProjection: 'learned', steps: 25, encoder: 'rate', optimizer: 'adam', learningRate: 0.003,
  batchSize: 64, seed: 1, ruleParams: { temperature: 0.05 },
};
registerPreset({
  name: 'mnist-lif',
  description: 'spiking sigprop on MNIST (the README main job, 97.62% in RESULTS.md): LIF 784-1000-10, beta 0.95, T = 25, rate coding, fastSigmoid k=5 surrogate, class-signal CE at temperature 0.05, input dropout 0.2, learned targets, 9 epochs (lr x0.3 at 6 and 8)',
  config: {
    ...spikingSigprop, name: 'mnist-lif', dataset: 'mnist', schedule: { milestones: [6, 8], gamma: 0.3 }, epochs: 9,
    ruleParams: { ...spikingSigprop.ruleParams, inputDropout: 0.2 },
  },
});
registerPreset({
  name: 'fashion-lif',
  description: 'spiking sigprop on Fashion-MNIST (87.54% and 87.39% with seeds 1 and 2 in RESULTS.md): the mnist-lif network and settings without input dropout (it cost 0.4-0.5 points on Fashion-MNIST pilots), 9 epochs (lr x0.3 at 6 and 8)',
  config: { ...spikingSigprop, name: 'fashion-lif', dataset: 'fashion-mnist', schedule: { milestones: [6, 8], gamma: 0.3 }, epochs: 9 },
});
registerPreset({
  name: 'mnist-lif-voltage',
  description: 'spiking sigprop in voltage mode on MNIST (97.74% in RESULTS.md): the mnist-lif network with the loss on U itself, a membrane floor vMin = 0 (U never falls below rest, so the trained voltages stay where spikes can carry them), class-signal CE at temperature 0.1, input dropout 0.2, Adam 0.001, 9 epochs (lr x0.3 at 6 and 8)',
  config: {
    ...spikingSigprop, name: 'mnist-lif-voltage', dataset: 'mnist', representation: 'voltage', learningRate: 0.001,
    surrogate: undefined, // voltage mode has no surrogate (getPreset's copy drops the key; resolution then fills the unused default)
    layers: [{ size: 1000, model: 'lif', params: { beta: 0.95, threshold: 1, vMin: 0 } }, { size: 10 }],
    schedule: { milestones: [6, 8], gamma: 0.3 }, epochs: 9, ruleParams: { temperature: 0.1, inputDropout: 0.2 },
  },
});
registerPreset({
  name: 'fashion-lif-voltage',
  description: 'spiking sigprop in voltage mode on Fashion-MNIST (88.22% by the script, 88.52% through the CLI in RESULTS.md, ahead of surrogate mode): the mnist-lif-voltage network and settings (membrane floor vMin = 0, class-signal CE at temperature 0.1, Adam 0.001, 9 epochs) without input dropout, as fashion-lif',
  config: { ...getPreset('mnist-lif-voltage'), name: 'fashion-lif-voltage', dataset: 'fashion-mnist', ruleParams: { temperature: 0.1 } },
});
registerPreset({
  name: 'mnist-ct',
  description: "continuous-time Hebbian sigprop on MNIST (98.12% in RESULTS.md): leaky integrators 784-1000 (tau 5 ms, ReLU, T = 10 x 1 ms) learning while they integrate with the three-factor similarity rule (presynaptic activity x the layer's class-signal cosine-CE mismatch at temperature 0.05 x phi'), fixed target projection, the window's dW through Adam 0.003, local CE readout, 10 epochs (lr x0.3 at 7 and 9)",
  config: {
    name: 'mnist-ct', dataset: 'mnist', rule: 'sigprop', mode: 'continuous',
    layers: [{ size: 1000, model: 'leaky', params: { tauMs: 5, activation: 'relu' } }, { size: 10 }],
    steps: 10, dtMs: 1, targetProjection: 'fixed', optimizer: 'adam', learningRate: 0.003, batchSize: 64, epochs: 10, seed: 1,
    schedule: { milestones: [7, 9], gamma: 0.3 },
    ruleParams: { hebbPre: 'both', hebbPost: 'similarity', hebbApply: 'optimizer', temperature: 0.05, initScale: 1, predict: 'readout' },
  },
});
registerPreset({
  name: 'mnist-ct-online',
  description: "continuous-time Hebbian sigprop on MNIST with the weights changing at every Euler step (97.87% in RESULTS.md): the mnist-ct network and three-factor similarity rule, applied online as dW/dt at eta = 0.03 per ms (no optimiser; x0.3 at epochs 7 and 9), with the cosine's norm epsilon normEps = 0.01 so a near-silent ReLU row cannot get a runaway update",
  config: {
    ...getPreset('mnist-ct'), name: 'mnist-ct-online',
    ruleParams: { ...getPreset('mnist-ct').ruleParams, hebbApply: 'online', eta: 0.03, normEps: 0.01 },
  },
});
registerPreset({
  name: 'mnist-bp',
  description: 'the backprop baseline on MNIST (98.55% in RESULTS.md, "Forward-only rules"): ReLU MLP 784-1024-10, softmax cross-entropy, Adam 0.001, batch 64, 20 epochs (lr x0.3 at 12 and 17)',
  config: {
    name: 'mnist-bp', dataset: 'mnist', layers: [{ size: 1024 }, { size: 10 }], rule: 'bp', mode: 'rate', optimizer: 'adam', learningRate: 0.001,
    batchSize: 64, epochs: 20, seed: 1, schedule: { milestones: [12, 17], gamma: 0.3 },
  },
});
registerPreset({
  name: 'mnist-bptt',
  description: 'the spiking baseline on MNIST (98.17% in RESULTS.md, "Forward-only rules"): backprop through time with the fastSigmoid k=5 surrogate on the mnist-lif network (LIF 784-1000-10, beta 0.95, T = 25, rate coding), Adam 0.001, batch 64, 6 epochs (lr x0.3 at 4 and 5)',
  config: {
    name: 'mnist-bptt', dataset: 'mnist', layers: [{ size: 1000, model: 'lif', params: { beta: 0.95, threshold: 1 } }, { size: 10 }],
    rule: 'bptt', mode: 'spiking', surrogate: 'fastSigmoid:k=5', steps: 25, encoder: 'rate', optimizer: 'adam', learningRate: 0.001,
    batchSize: 64, epochs: 6, seed: 1, schedule: { milestones: [4, 5], gamma: 0.3 },
  },
});
/**
 * PEPITA as published (Dellaferrera & Kreiman 2022, MNIST 98.01%): 784-1024-10 ReLU, no biases,
 * He-uniform init, F = 0.05·U(±√(6/784)), dropout keep 0.9 on the hidden layer (the same mask in
 * both passes), SGD momentum 0.9, batch 64, η 0.1, ×0.1 at epochs 60 and 90, 100 epochs; last layer
 * updated with the modulated pass's error (ruleParams.lastError 'modulated').
 */
const pepitaMnist: ExperimentConfig = {
  name: 'mnist-pepita', dataset: 'mnist', layers: [{ size: 1024 }, { size: 10 }], rule: 'pepita', mode: 'rate',
  optimizer: 'momentum', momentum: 0.9, learningRate: 0.1, batchSize: 64, epochs: 100, seed: 1,
  schedule: { milestones: [60, 90], gamma: 0.1 }, ruleParams: { fScale: 0.05, dropout: 0.1, lastError: 'modulated' },
};
registerPreset({
  name: 'mnist-pepita',
  description: 'PEPITA as published on MNIST (98.01% in the paper): 784-1024-10 ReLU without biases, He-uniform init, F = 0.05·U(±√(6/784)), x + F·e, dropout keep 0.9 (same mask in both passes), SGD momentum 0.9, batch 64, lr 0.1 (x0.1 at 60 and 90), 100 epochs',
  config: pepitaMnist,
});
registerPreset({
  name: 'mnist-mempepita',
  description: 'MEMPEPITA on MNIST: the mnist-pepita network and settings with the clean activations recomputed in the modulated pass instead of stored (same updates, less stored activity)',
  config: { ...pepitaMnist, name: 'mnist-mempepita', ruleParams: { ...pepitaMnist.ruleParams, mempepita: true } },
});
registerPreset({
  name: 'cifar10-pepita',
  description: 'PEPITA as published on CIFAR-10 (52.57% in the paper): 3072-1024-10, the mnist-pepita settings with lr 0.01 (x0.1 at 60 and 90), 100 epochs; give the CIFAR folder with --data-dir',
  config: { ...pepitaMnist, name: 'cifar10-pepita', dataset: 'cifar10', learningRate: 0.01 },
});
registerPreset({
  name: 'mnist-fa',
  description: 'feedback alignment on MNIST: the mnist-bp network and settings (ReLU MLP 784-1024-10, softmax CE, Adam 0.001, batch 64, 20 epochs, lr x0.3 at 12 and 17) with fixed random feedback B_l in place of W_l transposed',
  config: { ...getPreset('mnist-bp'), name: 'mnist-fa', rule: 'fa' },
});
registerPreset({
  name: 'mnist-dfa',
  description: 'direct feedback alignment on MNIST: the mnist-fa network and settings with the output error sent straight to the hidden layer through a fixed random B',
  config: { ...getPreset('mnist-fa'), name: 'mnist-dfa', rule: 'dfa' },
});
registerPreset({
  name: 'mnist-pepita-wm',
  description: 'PEPITA with weight mirroring and weight decay (Srinivasan et al. 2024): the mnist-pepita network and schedule, F = B_0·B_1 mirrored after every batch (noise 0.1, mirror lr 0.1, mirror decay 0.5) with x - F·e, last layer with the first pass\'s error, weight decay 1e-4',
  config: { ...pepitaMnist, name: 'mnist-pepita-wm', weightDecay: 1e-4, ruleParams: { ...pepitaMnist.ruleParams, lastError: 'clean', mirror: true } },
});
/**
 * Forward-Forward on MNIST with loeweX/Forward-Forward's settings (1.45% test error there): ReLU
 * 3×1000, label one-hot in the first 10 pixels, rms length normalisation of the input and between
 * layers, goodness Σy² against θ = 1000, peer normalisation 0.03, SGD momentum 0.9 at lr 1e-3 with
 * weight decay 3e-4 (the classifier 1e-2 and 3e-3), batch 100, 100 epochs with the linear cooldown
 * over the second half, weights of std about 1/√1000, and loeweX's evaluation: a linear classifier on
 * a neutral-label pass of layers 2 and 3.
 */
registerPreset({
  name: 'mnist-ff',
  description: "Forward-Forward on MNIST with loeweX/Forward-Forward's settings (1.45% error there): ReLU 784-1000-1000-1000, label in the first 10 pixels, rms normalisation, goodness sum of squares vs 1000, peer normalisation 0.03, SGD momentum 0.9 lr 0.001 weight decay 3e-4, batch 100, 100 epochs with linear cooldown, linear classifier on layers 2-3 of a neutral-label pass (ruleParams.ffPredict goodness: Hinton's label-by-goodness)",
  config: {
    name: 'mnist-ff', dataset: 'mnist', rule: 'ff', mode: 'rate', layers: [{ size: 1000 }, { size: 1000 }, { size: 1000 }, { size: 10 }],
    optimizer: 'momentum', momentum: 0.9, learningRate: 0.001, weightDecay: 3e-4, batchSize: 100, epochs: 100, seed: 1,
    ruleParams: {
      ffGoodness: 'sum', ffNorm: 'rms', ffEmbed: 'replace', ffPeerNorm: 0.03, ffPeerMomentum: 0.9, ffPredict: 'classifier', ffSkipFirst: true,
      ffClassifierLr: 0.01, ffClassifierDecay: 0.003, ffCooldown: true, initScale: 1.73,
    },
  },
});
registerPreset({
  name: 'mnist-ff-lif',
  description: 'spiking Forward-Forward on MNIST (settings from short pilots only: 76.7% after one epoch on 10k samples with 784-500-500): LIF 784-1000-1000 (beta 0.9, threshold 1), T = 10, rate coding, fastSigmoid k=5, goodness = mean of f(U - threshold)^2 at every step, online with eligibility traces, rms normalisation between layers, label by goodness of layer 2, Adam 0.001, batch 25, 20 epochs (lr x0.3 at 15)',
  config: {
    name: 'mnist-ff-lif', dataset: 'mnist', rule: 'ff', mode: 'spiking',
    layers: [{ size: 1000, model: 'lif', params: { beta: 0.9, threshold: 1 } }, { size: 1000, model: 'lif', params: { beta: 0.9, threshold: 1 } }, { size: 10 }],
    steps: 10, encoder: 'rate', surrogate: 'fastSigmoid:k=5', eligibility: 'trace', optimizer: 'adam', learningRate: 0.001, batchSize: 25, epochs: 20, seed: 1,
    schedule: { milestones: [15], gamma: 0.3 },
    ruleParams: { ffSpikeGoodness: 'surrogate', ffGoodness: 'mean', ffNorm: 'rms', ffPredict: 'goodness', initScale: 1.73 },
  },
});
/**
 * The spiking forms of PEPITA and DFA (src/learning pepita-spiking.ts, dfa-spiking.ts) on the
 * mnist-lif network: LIF 784-1024-10, beta 0.95, threshold 1, T = 25, rate coding, leaky readout.
 */
const spikingForward: Omit<ExperimentConfig, 'rule' | 'name'> = {
  dataset: 'mnist', mode: 'spiking', layers: [{ size: 1024, model: 'lif', params: { beta: 0.95, threshold: 1 } }, { size: 10 }],
  steps: 25, encoder: 'rate', batchSize: 64, seed: 1,
};
registerPreset({
  name: 'mnist-lif-pepita',
  description: 'spiking PEPITA on MNIST: LIF 784-1024-10, beta 0.95, T = 25, rate coding; passes over the same input spikes and dropout masks (keep 0.9): clean, then x + F·e and x − F·e (antithetic) with F = 0.05·U(±√(6/784)) added to the input as a current; hidden update from the spike-rate difference (r^− − r^+)/2 centred over the batch, readout from the modulated error; SGD momentum 0.9, batch 64, lr 0.5 (readout 0.1), x0.1 at 20 and 26, 30 epochs',
  config: {
    ...spikingForward, name: 'mnist-lif-pepita', rule: 'pepita', optimizer: 'momentum', momentum: 0.9, learningRate: 0.5,
    epochs: 30, schedule: { milestones: [20, 26], gamma: 0.1 },
    ruleParams: { fScale: 0.05, dropout: 0.1, lastError: 'modulated', antithetic: true, centerDifference: true, readoutLearningRate: 0.1 },
  },
});
registerPreset({
  name: 'mnist-lif-dfa',
  description: 'spiking DFA on MNIST: LIF 784-1024-10, beta 0.95, T = 25, rate coding; the readout\'s per-step softmax error sent to the hidden layer through a fixed random B, times the surrogate f\' (fastSigmoid k=5), with presynaptic eligibility traces, online in time; Adam 0.001, batch 64',
  config: {
    ...spikingForward, name: 'mnist-lif-dfa', rule: 'dfa', surrogate: 'fastSigmoid:k=5', eligibility: 'trace', optimizer: 'adam', learningRate: 0.001,
    epochs: 15, schedule: { milestones: [10, 13], gamma: 0.3 },
  },
});
