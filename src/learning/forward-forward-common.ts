/**
 * Pieces shared by the rate and spiking Forward-Forward rules (Hinton 2022; reference
 * implementation loeweX/Forward-Forward): the FF settings read from config.ruleParams, the label
 * embedding, the negative labels, length normalisation between layers and loeweX's cooldown.
 */
import type { Backend } from '../backend/backend.js';
import type { ExperimentConfig } from '../config/types.js';
import { checkBoolean, checkNumber, checkOneOf, ParameterError } from '../errors.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import type { Scratch } from './scratch.js';

/** Forward-Forward settings (ruleParams.ff*, see RULE_PARAM_DOCS in settings.ts). */
export interface FfSettings {
  goodness: 'sum' | 'mean';
  /** θ given explicitly, or undefined: the default of the mode (ffThresholdOf). */
  threshold: number | undefined;
  norm: 'rms' | 'l2' | 'none';
  predict: 'goodness' | 'classifier';
  skipFirst: boolean;
  embed: 'replace' | 'prepend';
  peerNorm: number;
  peerMomentum: number;
  straightThrough: boolean;
  classifierLr: number;
  classifierDecay: number;
  cooldown: boolean;
  spikeGoodness: 'surrogate' | 'count';
}


/** Read and check the ff* keys of config.ruleParams (the other keys are resolveRuleSettings' business); defaultGoodness: 'sum' (rate) or 'mean' (spiking). */
export function resolveFfSettings(
  config: ExperimentConfig, hiddenLayers: number, learningRate: number, weightDecay: number, defaultGoodness: FfSettings['goodness'] = 'sum',
): FfSettings {
  const p = config.ruleParams ?? {};
  if (hiddenLayers < 1) throw new ParameterError('Forward-Forward needs at least one hidden layer: layers = [{ size: 1000 }, { size: 10 }] (the last entry is the number of classes)');
  const skipFirst = checkBoolean('ruleParams.ffSkipFirst', p.ffSkipFirst, hiddenLayers >= 2);
  if (skipFirst && hiddenLayers < 2) throw new ParameterError('ruleParams.ffSkipFirst = true needs 2 or more hidden layers (with one, no layer would be left to predict with)');
  return {
    goodness: checkOneOf('ruleParams.ffGoodness', p.ffGoodness ?? defaultGoodness, ['sum', 'mean'] as const),
    threshold: p.ffThreshold === undefined ? undefined : checkNumber('ruleParams.ffThreshold', p.ffThreshold),
    norm: checkOneOf('ruleParams.ffNorm', p.ffNorm ?? 'rms', ['rms', 'l2', 'none'] as const),
    predict: checkOneOf('ruleParams.ffPredict', p.ffPredict ?? 'goodness', ['goodness', 'classifier'] as const),
    skipFirst,
    embed: checkOneOf('ruleParams.ffEmbed', p.ffEmbed ?? 'replace', ['replace', 'prepend'] as const),
    peerNorm: checkNumber('ruleParams.ffPeerNorm', p.ffPeerNorm ?? 0, { min: 0 }),
    peerMomentum: checkNumber('ruleParams.ffPeerMomentum', p.ffPeerMomentum ?? 0.9, { min: 0, max: 1, maxExclusive: true }),
    straightThrough: checkBoolean('ruleParams.ffStraightThrough', p.ffStraightThrough, true),
    classifierLr: checkNumber('ruleParams.ffClassifierLr', p.ffClassifierLr ?? 10 * learningRate, { min: 0, minExclusive: true }),
    classifierDecay: checkNumber('ruleParams.ffClassifierDecay', p.ffClassifierDecay ?? 10 * weightDecay, { min: 0 }),
    cooldown: checkBoolean('ruleParams.ffCooldown', p.ffCooldown, false),
    spikeGoodness: checkOneOf('ruleParams.ffSpikeGoodness', p.ffSpikeGoodness ?? 'surrogate', ['surrogate', 'count'] as const),
  };
}

/**
 * A label drawn uniformly from the numClasses − 1 wrong ones (never `label`): k uniform in
 * [0, C − 1), shifted past the true label.
 */
export function wrongLabel(rng: Rng, label: number, numClasses: number): number {
  const k = rng.int(numClasses - 1);
  return k >= label ? k + 1 : k;
}

/** Per-sample input width after the embedding: inputSize, or inputSize + numClasses for 'prepend'. */
export function embeddedWidth(inputSize: number, numClasses: number, embed: FfSettings['embed']): number {
  return embed === 'prepend' ? inputSize + numClasses : inputSize;
}

/**
 * Write rows of x [*, K] with labels embedded into out [*, width] from row `row0`: row
 * row0 + j is sample src[j] with label labels[j] as a one-hot over the first C entries ('replace':
 * written over the sample's first C inputs; 'prepend': placed before them). A label of −1 is the
 * neutral label (1/C in every entry, loeweX's neutral sample).
 */
export function embedRows(
  out: Float32Array, row0: number, x: Float32Array, K: number, src: ArrayLike<number>, labels: ArrayLike<number>, C: number, embed: FfSettings['embed'],
): void {
  const width = embeddedWidth(K, C, embed), shift = embed === 'prepend' ? C : 0;
  for (let j = 0; j < labels.length; j++) {
    const o = (row0 + j) * width, b = src[j];
    out.set(x.subarray(b * K, (b + 1) * K), o + shift);
    const c = labels[j];
    for (let k = 0; k < C; k++) out[o + k] = c < 0 ? 1 / C : k === c ? 1 : 0;
  }
}

/**
 * Length normalisation of the rows of x [R, N] into the scratch tensor `name`: 'l2' y/‖y‖,
 * 'rms' y/√(mean y²) = √N·y/‖y‖ (loeweX), 'none' returns x itself. Kernels only (normalizeRows).
 */
export function lengthNorm(be: Backend, sc: Scratch, name: string, x: Tensor, mode: FfSettings['norm']): Tensor {
  if (mode === 'none') return x;
  const [R, N] = x.shape;
  const out = sc.get(name, [R, N]);
  be.normalizeRows(out, sc.get(`${name}.norms`, [R]), x, 0, true, 1e-12);
  if (mode === 'rms') be.axpby(out, out, Math.sqrt(N), 0);
  return out;
}

/** loeweX's linear cooldown factor of the learning rate at epoch e (0-based) of E: 1, then 2·(1 + E − e)/E for e > E/2. */
export function cooldownFactor(epoch: number, epochs: number): number {
  return epoch > Math.floor(epochs / 2) ? (2 * (1 + epochs - epoch)) / epochs : 1;
}

/** Sample index and label of every candidate row b·C + c (goodness prediction). */
export function candidateRows(B: number, C: number): { src: Int32Array; labels: Int32Array } {
  const src = new Int32Array(B * C), labels = new Int32Array(B * C);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) (src[b * C + c] = b), (labels[b * C + c] = c);
  return { src, labels };
}

/** Indices of the hidden layers whose goodness (or activity) prediction uses. */
export function predictingLayers(L: number, skipFirst: boolean): number[] {
  return Array.from({ length: L }, (_, i) => i).filter((i) => !(skipFirst && i === 0));
}
