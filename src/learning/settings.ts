/**
 * Resolve an ExperimentConfig into the settings a learning rule uses: defaults filled in,
 * every value validated (ParameterError naming the field and what is allowed). Rule-specific
 * extras come from `config.ruleParams`; unknown keys there are rejected.
 */
import type { ExperimentConfig, LayerConfig } from '../config/types.js';
import { checkBoolean, checkNumber, checkOneOf, ParameterError } from '../errors.js';
import { getSurrogate } from '../../surrogates/registry.js';
import type { Surrogate } from '../../surrogates/types.js';
import { DEFAULT_NORM_EPS, type SimilarityOptions } from './losses.js';
import { PEPITA_PARAM_DOCS } from './pepita-params.js';
import { SPIKING_FORWARD_PARAM_DOCS } from './spiking-forward-params.js';

/** Keys allowed in config.ruleParams, with a one-line description each. */
export const RULE_PARAM_DOCS: Record<string, string> = {
  temperature: 'similarity-loss softmax temperature τ (> 0, default 0.1)',
  normalize: 'L2-normalise rows before the similarity dot product (default true)',
  normEps: 'ε of the row norm √(Σr² + ε) in the cosine similarity (≥ 0, default 1e-8); a larger ε (e.g. 0.01) bounds the gradient of rows whose activity has almost vanished, which keeps online SGD updates of ReLU layers from blowing up',
  predict: "'readout' (local CE readout layer, default) or 'classSignal' (nearest class signal)",
  targetScale: 'std of the target projection S at init (default 1)',
  targetBias: 'initial bias d of the target projection (default -1.5: sparse targets)',
  targetLearningRate: 'learning rate of the learned target projection (default: learningRate)',
  detachTarget: 'stop the gradient through the target stream (default false: both streams learn)',
  activation: "rate-mode hidden nonlinearity (default 'relu'; see models/activations.ts)",
  initScale: 'weights start uniform in ±initScale/√fanIn (default 1)',
  readoutBeta: 'membrane decay of the spiking readout integrator (default: the hidden β)',
  eta: 'Hebbian rate η of the continuous-time rule, per ms (default 0.01)',
  voltageRelative: 'voltage mode: the representation is U − θ (voltage relative to threshold) instead of U (default false)',
  hebbNorm: 'Hebbian rule: keep each unit\'s incoming weight norm fixed (renormalised after each batch; default false)',
  dropout: 'inverted dropout rate p of each hidden layer\'s input-stream units, one mask per sample and batch (fixed over the T steps), applied to the representation the local loss sees and to what the next layer and the readout receive (0 ≤ p < 1, default 0)',
  inputDropout: 'inverted dropout rate p of the network input (input-stream rows only, one mask per sample and batch; 0 ≤ p < 1, default 0)',
  hebbPost: "postsynaptic factor of the Hebbian rule: 'delta' (a^t[c] − a^h, the DESIGN rule, default), 'contrastive' (a^t[c] − Σ_j p_j·a^t[j], p = softmax over classes of −mean((a^h − a^t[j])²)/temperature) or 'similarity' (−∂L/∂a ⊙ φ'(h) of the layer's own class-signal cosine-similarity CE at the current step, every row, input and class signal; needs hebbPre 'both')",
  hebbApply: "how the Hebbian dW is applied: 'online' (W follows dW/dt at every Euler step with rate eta, default) or 'optimizer' (dW integrated over the window and handed to the layer's optimiser once per batch)",
  ffGoodness: "Forward-Forward goodness of a layer's activity y: 'sum' (G = Σ y², default in mode rate) or 'mean' (G = mean y², default in mode spiking)",
  ffThreshold: 'Forward-Forward threshold θ of p = σ(G − θ) (default, rate: the layer width for goodness \'sum\', as loeweX/Forward-Forward, 1 for \'mean\'; spiking: the goodness of a layer whose units all sit at threshold, f(0)² per unit, or a rate of about 0.22 per unit with ffSpikeGoodness \'count\')',
  ffNorm: "Forward-Forward length normalisation of the input and between layers: 'rms' (y/√mean y², loeweX; default), 'l2' (y/‖y‖, unit length) or 'none'",
  ffPredict: "Forward-Forward prediction: 'goodness' (run every label, pick the highest goodness summed over layers; default) or 'classifier' (a linear softmax classifier on the normalised activity of a neutral-label pass, trained locally, loeweX's evaluation; rate mode)",
  ffSkipFirst: 'Forward-Forward: leave the first layer out of the goodness sum of prediction and of the classifier input (default true when there are 2 or more hidden layers, as Hinton and loeweX)',
  ffEmbed: "Forward-Forward label embedding: 'replace' (one-hot written over the first numClasses inputs, Hinton; default) or 'prepend' (one-hot placed before the inputs, nothing overwritten)",
  ffPeerNorm: 'Forward-Forward peer-normalisation weight (loeweX 0.03; default 0: off): pushes every unit\'s running mean activity on positive data towards the layer mean',
  ffPeerMomentum: 'Forward-Forward momentum of the peer-normalisation running mean (default 0.9)',
  ffStraightThrough: "Forward-Forward: pass the gradient through the activation unchanged (loeweX's ReLU_full_grad; default true), else multiply by φ'",
  ffClassifierLr: 'Forward-Forward classifier learning rate (default 10 × learningRate, as loeweX 1e-2 vs 1e-3)',
  ffClassifierDecay: 'Forward-Forward classifier L2 weight decay (default 10 × weightDecay, as loeweX 3e-3 vs 3e-4)',
  ffCooldown: 'Forward-Forward: loeweX\'s linear learning-rate cooldown over the second half of the epochs, lr·2·(1 + E − e)/E for epoch e > E/2 (default false)',
  ffSpikeGoodness: "spiking Forward-Forward goodness: 'surrogate' (of f(U − θ) at every step, loss per step; default) or 'count' (of the firing rates over the window; online with the running rate)",
  hebbPre: "presynaptic factor of the Hebbian rule: 'target' (a_{l-1}^t, default), 'input' (a_{l-1}^h) or 'both' (each stream's row with its own presynaptic activity; the target rows get the mismatch's gradient with respect to a^t, so the delta rule becomes (a^t − a^h)(a_{l-1}^h − a_{l-1}^t)ᵀ)",
  ...PEPITA_PARAM_DOCS,
  ...SPIKING_FORWARD_PARAM_DOCS,
};

export interface RuleSettings {
  hidden: LayerConfig[];
  outputSize: number;
  loss: 'simce' | 'l2' | 'classce';
  sim: SimilarityOptions;
  predict: 'readout' | 'classSignal';
  targetProjection: 'learned' | 'fixed';
  targetScale: number;
  targetBias: number;
  targetLearningRate: number;
  detachTarget: boolean;
  optimizer: string;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  schedule?: { milestones: number[]; gamma: number };
  steps: number;
  dtMs: number;
  /** Encoder spec of src/encoders.ts ('rate', 'rate:gain=2', 'direct', 'latency', ...) or 'raster' (x already holds [T, n] spikes). */
  encoder: string;
  encoderParams?: Record<string, number>;
  representation: 'surrogate' | 'voltage';
  surrogate: Surrogate;
  eligibility: 'trace' | 'instant';
  activation: string;
  initScale: number;
  readoutBeta?: number;
  eta: number;
  hebbPre: 'target' | 'input' | 'both';
  hebbPost: 'delta' | 'contrastive' | 'similarity';
  hebbApply: 'online' | 'optimizer';
  hebbNorm: boolean;
  voltageRelative: boolean;
  /** Dropout rate of hidden units (input stream only); 0 = off. */
  dropout: number;
  /** Dropout rate of the network input (input stream only); 0 = off. */
  inputDropout: number;
}

function rp(config: ExperimentConfig): Record<string, unknown> {
  const p = config.ruleParams ?? {};
  for (const k of Object.keys(p)) {
    if (!(k in RULE_PARAM_DOCS)) {
      throw new ParameterError(`ruleParams.${k} is not known; ruleParams keys are: ${Object.keys(RULE_PARAM_DOCS).join(', ')}`);
    }
  }
  return p;
}


/** Default learning rate per optimiser. */
const DEFAULT_LR: Record<string, number> = { sgd: 0.05, momentum: 0.01, adam: 1e-3 };

/** Resolve and validate the settings of any rule in src/learning. */
export function resolveRuleSettings(config: ExperimentConfig): RuleSettings {
  const p = rp(config);
  if (!config.layers || config.layers.length < 1) {
    throw new ParameterError('layers must list at least the output layer, e.g. [{ "size": 1000 }, { "size": 10 }]');
  }
  config.layers.forEach((l, i) => checkNumber(`layers[${i}].size`, l.size, { min: 1, integer: true }));
  const optimizer = config.optimizer ?? 'adam';
  const learningRate = checkNumber('learningRate', config.learningRate ?? DEFAULT_LR[optimizer] ?? 1e-3, { min: 0, minExclusive: true });
  return {
    hidden: config.layers.slice(0, -1),
    outputSize: config.layers[config.layers.length - 1].size,
    loss: checkOneOf('loss', config.loss ?? 'simce', ['simce', 'l2', 'classce'] as const),
    sim: {
      temperature: checkNumber('ruleParams.temperature', p.temperature ?? 0.1, { min: 0, minExclusive: true }),
      normalize: checkBoolean('ruleParams.normalize', p.normalize, true),
      normEps: checkNumber('ruleParams.normEps', p.normEps ?? DEFAULT_NORM_EPS, { min: 0 }),
    },
    predict: checkOneOf('ruleParams.predict', p.predict ?? 'readout', ['readout', 'classSignal'] as const),
    targetProjection: checkOneOf('targetProjection', config.targetProjection ?? 'learned', ['learned', 'fixed'] as const),
    targetScale: checkNumber('ruleParams.targetScale', p.targetScale ?? 1, { min: 0 }),
    targetBias: checkNumber('ruleParams.targetBias', p.targetBias ?? -1.5),
    targetLearningRate: checkNumber('ruleParams.targetLearningRate', p.targetLearningRate ?? learningRate, { min: 0, minExclusive: true }),
    detachTarget: checkBoolean('ruleParams.detachTarget', p.detachTarget, false),
    optimizer,
    learningRate,
    momentum: checkNumber('momentum', config.momentum ?? 0.9, { min: 0, max: 1, maxExclusive: true }),
    weightDecay: checkNumber('weightDecay', config.weightDecay ?? 0, { min: 0 }),
    schedule: config.schedule,
    steps: checkNumber('steps', config.steps ?? 25, { min: 1, integer: true }),
    dtMs: checkNumber('dtMs', config.dtMs ?? 1, { min: 0, minExclusive: true, unit: 'ms' }),
    encoder: config.encoder ?? 'rate',
    encoderParams: config.encoderParams,
    representation: checkOneOf('representation', config.representation ?? 'surrogate', ['surrogate', 'voltage'] as const),
    surrogate: getSurrogate(config.surrogate ?? 'fastSigmoid:k=25'),
    eligibility: checkOneOf('eligibility', config.eligibility ?? 'trace', ['trace', 'instant'] as const),
    activation: typeof p.activation === 'string' ? p.activation : 'relu',
    initScale: checkNumber('ruleParams.initScale', p.initScale ?? 1, { min: 0, minExclusive: true }),
    readoutBeta: p.readoutBeta === undefined ? undefined : checkNumber('ruleParams.readoutBeta', p.readoutBeta, { min: 0, max: 1 }),
    eta: checkNumber('ruleParams.eta', p.eta ?? 0.01, { min: 0, minExclusive: true }),
    hebbNorm: checkBoolean('ruleParams.hebbNorm', p.hebbNorm, false),
    voltageRelative: checkBoolean('ruleParams.voltageRelative', p.voltageRelative, false),
    dropout: checkNumber('ruleParams.dropout', p.dropout ?? 0, { min: 0, max: 1, maxExclusive: true }),
    inputDropout: checkNumber('ruleParams.inputDropout', p.inputDropout ?? 0, { min: 0, max: 1, maxExclusive: true }),
    hebbPost: checkOneOf('ruleParams.hebbPost', p.hebbPost ?? 'delta', ['delta', 'contrastive', 'similarity'] as const),
    hebbApply: checkOneOf('ruleParams.hebbApply', p.hebbApply ?? 'online', ['online', 'optimizer'] as const),
    hebbPre: checkOneOf('ruleParams.hebbPre', p.hebbPre ?? 'target', ['target', 'input', 'both'] as const),
  };
}
