/**
 * The training-rule contract: what the CLI run loop (and experiments, and library users) call.
 *
 * A rule owns its network weights and optimiser state. The run loop hands it batches of
 * flattened inputs `x` [batch, inputSize] (float32, pixel intensities in [0, 1]) and integer
 * labels; a spiking rule encodes them over T steps itself (rate coding by default), so the run
 * loop does not need to know about time. Rules are created by name from a registry
 * (`registerRule` / `createRule`), never through a switch.
 *
 * Every weight update is local to one layer (sigprop, PEPITA, FF, ...) except in the baselines
 * ('bp', 'bptt'), which exist for the comparison table.
 */
import type { Backend } from '../backend/backend.js';
import type { ExperimentConfig } from '../config/types.js';
import { ParameterError, SigpropError } from '../errors.js';
import type { Rng } from '../rng.js';

/** What a rule needs besides its config. */
export interface RuleContext {
  /** Backend whose kernels the rule uses for all heavy work. */
  backend: Backend;
  /** The run's one seeded RNG (weight init, spike encoding, shuffles inside the rule). */
  rng: Rng;
  /** Number of input features per sample (e.g. 784 for MNIST). */
  inputSize: number;
  /** Number of classes (e.g. 10). */
  numClasses: number;
}

/** Result of one training step on one batch. */
export interface BatchResult {
  /** Total local loss of the batch (sum over layers of each layer's loss, averaged over time steps). */
  loss: number;
  /** Each layer's own local loss (index 0 = first hidden layer; the readout last). */
  layerLosses: number[];
  /** Fraction of the batch classified correctly during training (where the rule computes it cheaply). */
  accuracy?: number;
}

/** Per-layer statistics for reports (all optional except the index and the weight norm). */
export interface LayerStats {
  /** Layer index (0 = first hidden layer). */
  layer: number;
  /** Human-readable label, e.g. 'hidden0 (lif, 1000)' or 'readout (10)'. */
  label: string;
  /** Frobenius norm of the layer's weight matrix. */
  weightNorm: number;
  /** Mean firing rate of the last batch's input stream, spikes per neuron per step (spiking rules). */
  firingRate?: number;
  /** Mean firing rate of the target stream (sigprop), spikes per neuron per step. */
  targetFiringRate?: number;
  /** Mean activation of the last batch (rate rules). */
  meanActivity?: number;
  /** Learning rate in use now. */
  learningRate?: number;
}

/**
 * A training rule. All arrays are host arrays; batch size is given explicitly where the input
 * is flattened. Implementations throw SigpropError (e.g. DivergenceError) on failure.
 */
export interface TrainingRule {
  /** Registry name ('sigprop', 'bp', 'bptt', ...). */
  readonly name: string;
  /** Short description of the resolved settings (for logs and reports). */
  describe(): string;
  /**
   * One training step: forward, local losses, weight updates. x: [B, inputSize] row-major,
   * labels: [B] class indices in [0, numClasses). B = labels.length.
   */
  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult;
  /** Predicted class per sample. x: [B, inputSize]; returns [B]. No weights change. */
  predict(x: Float32Array, batchSize: number): Int32Array;
  /**
   * Called by the run loop at the start of each epoch (0-based) so that the rule can apply its
   * learning-rate schedule (milestones/gamma).
   */
  setEpoch(epoch: number): void;
  /** Weights and optimiser state, by name ('layer0.W', 'layer0.W.adam.m', ...): for checkpoints. */
  state(): Record<string, Float32Array>;
  /** Restore what `state()` returned (same architecture). Throws SigpropError on mismatch. */
  loadState(s: Record<string, Float32Array>): void;
  /** Per-layer statistics of the most recent batch (for reports). */
  layerStats?(): LayerStats[];
  /** Release backend tensors. */
  dispose?(): void;
}

/** Build a rule from a config. The config is assumed validated by src/config (defaults may be missing). */
export type RuleFactory = (config: ExperimentConfig, ctx: RuleContext) => TrainingRule;

const factories = new Map<string, RuleFactory>();

/** Register (or replace) a rule factory under `name`. */
export function registerRule(name: string, factory: RuleFactory): void {
  factories.set(name, factory);
}

/** Names of the registered rules. */
export function ruleNames(): string[] {
  return [...factories.keys()];
}

/** Create the rule named by `config.rule`. Throws ParameterError for an unknown name. */
export function createRule(config: ExperimentConfig, ctx: RuleContext): TrainingRule {
  const f = factories.get(config.rule);
  if (!f) {
    throw new ParameterError(
      `rule = "${config.rule}" is not known; rule must be one of: ${ruleNames().join(', ') || '(none registered — import src/learning/index.js)'}`,
    );
  }
  return f(config, ctx);
}

/**
 * Thrown when a weight becomes NaN or infinite. The message names the layer, the training step
 * and the learning rate; the run loop keeps the last good checkpoint and stops.
 */
export class DivergenceError extends SigpropError {
  constructor(
    readonly layer: string,
    readonly step: number,
    readonly learningRate: number,
    detail = '',
  ) {
    super(
      `training diverged: ${layer} has NaN or infinite weights after step ${step} (learning rate ${learningRate}${detail ? `, ${detail}` : ''}); ` +
        `lower the learning rate (e.g. to ${learningRate / 10}) or the batch size, and resume from the last good checkpoint`,
      'divergence',
    );
    this.name = 'DivergenceError';
  }
}
