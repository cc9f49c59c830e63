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
import type { Network } from '../engine/network.js';
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
  /** Angle in degrees between this layer's feedback matrix and the forward weights it stands for (PEPITA with mirror, FA, DFA). */
  alignmentAngle?: number;
  /** PEPITA, on the last layer's entry: angle in degrees between (W_L…W_1)ᵀ and the input projection F. */
  productAlignmentAngle?: number;
}

/**
 * A training rule. All arrays are host arrays; batch size is given explicitly where the input
 * is flattened. Implementations throw SigpropError (e.g. DivergenceError) on failure.
 */
export interface TrainingRule {
  /** Registry name ('sigprop', 'bp', 'bptt', ...). */
  readonly name: string;
  /**
   * The engine network the rule trains and predicts with (its layers use the rule's parameter
   * tensors): recorders attach here to record training windows and evaluations.
   */
  readonly network?: Network;
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
   * OPTIONAL: trainBatch for a backend with asynchronous read-back (Backend.asyncReads, WebGPU):
   * the same kernels in the same order, with `await backend.sync(...)` before each host read.
   * Gives trainBatch's result and weights. Call through `trainOn` (below).
   */
  trainBatchAsync?(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult>;
  /** OPTIONAL: predict for a backend with asynchronous read-back (see trainBatchAsync). Call through `predictOn`. */
  predictAsync?(x: Float32Array, batchSize: number): Promise<Int32Array>;
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

/** The refusal of a rule without an asynchronous form on a backend whose read-back is asynchronous. */
function noAsyncForm(rule: TrainingRule, backend: Backend): ParameterError {
  const forms = [...asyncForms.keys()].map((k) => k.replace('/*', '').replace('/', ' mode ')).join(', ');
  return new ParameterError(
    `rule "${rule.name}" reads results back inside its batches and has no asynchronous form yet, so it cannot run on backend "${backend.name}" ` +
      `(its read-back is asynchronous); the rules that run there: ${forms}; or use another backend (wasm; gpu on WebGL2)`,
  );
}

/**
 * One training batch on any backend: `rule.trainBatch` where reads are synchronous, its
 * `trainBatchAsync` where they are not (Backend.asyncReads); refuses a rule without that form there.
 */
export async function trainOn(rule: TrainingRule, backend: Backend, x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
  if (!backend.asyncReads) return rule.trainBatch(x, labels);
  if (!rule.trainBatchAsync) throw noAsyncForm(rule, backend);
  return rule.trainBatchAsync(x, labels);
}

/** `rule.predict` on any backend (see trainOn). */
export async function predictOn(rule: TrainingRule, backend: Backend, x: Float32Array, batchSize: number): Promise<Int32Array> {
  if (!backend.asyncReads) return rule.predict(x, batchSize);
  if (!rule.predictAsync) throw noAsyncForm(rule, backend);
  return rule.predictAsync(x, batchSize);
}

/** Build a rule from a config. The config is assumed validated by src/config (defaults may be missing). */
export type RuleFactory = (config: ExperimentConfig, ctx: RuleContext) => TrainingRule;

/** The network modes a config can name (config.mode). */
export type RuleMode = 'rate' | 'spiking' | 'continuous';

/** Factories by rule name, then by mode ('*': any mode the rule's config checks allow). */
const factories = new Map<string, Map<RuleMode | '*', RuleFactory>>();

/**
 * Register (or replace) a rule factory under `name`: for one config.mode (e.g. sigprop's 'rate',
 * 'spiking' and 'continuous' forms, or PEPITA's rate and spiking forms, each registered on its own),
 * or for every mode when `mode` is left out (the bp and bptt baselines).
 */
export function registerRule(name: string, factory: RuleFactory, mode?: RuleMode, opts: RuleFormOptions = {}): void {
  const forms = factories.get(name) ?? new Map<RuleMode | '*', RuleFactory>();
  forms.set(mode ?? '*', factory);
  factories.set(name, forms);
  const key = `${name}/${mode ?? '*'}`;
  if (opts.asyncReads) asyncForms.set(key, opts.asyncReads);
  else asyncForms.delete(key);
}

/** What a registered form offers beyond the contract. */
export interface RuleFormOptions {
  /**
   * The form implements trainBatchAsync and predictAsync (it trains on backends with asynchronous
   * read-back): true, or for the configs it does so for.
   */
  asyncReads?: boolean | ((config: ExperimentConfig) => boolean);
}

/** Forms ('name/mode') registered with asyncReads. */
const asyncForms = new Map<string, true | ((config: ExperimentConfig) => boolean)>();

/**
 * Whether the form of rule `name` for `mode` (default 'spiking') trains on a backend with
 * asynchronous read-back (WebGPU), for `config` where the form depends on it (without one: for some
 * configs): the run loop lets backend 'auto' try a GPU first for those.
 */
export function ruleHasAsyncForm(name: string, mode: RuleMode = 'spiking', config?: ExperimentConfig): boolean {
  const forms = factories.get(name);
  if (!forms) return false;
  const a = asyncForms.get(forms.has(mode) ? `${name}/${mode}` : `${name}/*`);
  return a === true || (typeof a === 'function' && (!config || a(config)));
}

/** Names of the registered rules. */
export function ruleNames(): string[] {
  return [...factories.keys()];
}

/** The modes rule `name` is registered for ('*' when one factory serves every mode); [] for an unknown rule. */
export function ruleModes(name: string): (RuleMode | '*')[] {
  return [...(factories.get(name)?.keys() ?? [])];
}

/**
 * Create the rule named by `config.rule`, in the form registered for `config.mode` (default
 * 'spiking', as in a config). Throws ParameterError for an unknown name or a mode the rule has no form for.
 */
export function createRule(config: ExperimentConfig, ctx: RuleContext): TrainingRule {
  const forms = factories.get(config.rule);
  if (!forms) {
    throw new ParameterError(
      `rule = "${config.rule}" is not known; rule must be one of: ${ruleNames().join(', ') || '(none registered — import src/learning/index.js)'}`,
    );
  }
  const mode = config.mode ?? 'spiking';
  const f = forms.get(mode) ?? forms.get('*');
  if (!f) throw new ParameterError(`mode = "${mode}" is not supported by rule "${config.rule}"; mode must be one of: ${[...forms.keys()].join(', ')}`);
  return f(config, ctx);
}

/** Options of a DivergenceError beyond layer, step and rate. */
export interface DivergenceDetails {
  /** What went wrong (default 'has NaN or infinite weights'). */
  what?: string;
  /** The config setting that scales the updates, named in the advice (default 'learningRate'; the Hebbian rule: 'ruleParams.eta'). */
  rateSetting?: string;
  /** Where in training it happened (default 'after step N'). */
  where?: string;
  /** Replaces the default advice (lower the rate or the batch size), e.g. with a resume command. */
  advice?: string;
}

/**
 * Thrown when training diverges: a weight becomes NaN or infinite (thrown by the rules), or the
 * loss is non-finite or explodes (thrown by the run loop, see `lossDivergence`). The message
 * names the layer (or 'train loss'), the training step and the learning rate; the run loop
 * keeps the last good checkpoint, stops with status 'diverged' and adds the command that
 * continues from that checkpoint with a lower rate.
 */
export class DivergenceError extends SigpropError {
  readonly what: string;
  readonly rateSetting: string;
  constructor(
    readonly layer: string,
    readonly step: number,
    readonly learningRate: number,
    readonly detail = '',
    opts: DivergenceDetails = {},
  ) {
    const what = opts.what ?? 'has NaN or infinite weights';
    const rateSetting = opts.rateSetting ?? 'learningRate';
    const rateName = rateSetting === 'learningRate' ? 'the learning rate' : rateSetting;
    super(
      `training diverged: ${layer} ${what} ${opts.where ?? `after step ${step}`} (learning rate ${learningRate}${detail ? `, ${detail}` : ''}); ` +
        (opts.advice ?? `lower ${rateName} (e.g. to ${learningRate / 10}) or the batch size, and resume from the last good checkpoint`),
      'divergence',
    );
    this.name = 'DivergenceError';
    this.what = what;
    this.rateSetting = rateSetting;
  }
}

/**
 * An exploding loss: a batch loss whose magnitude exceeds LOSS_EXPLOSION_FACTOR times the
 * reference loss (the run's first batch loss, measured on the initial weights, floored at 1).
 * Normal training lowers the loss, and the built-in rules start at O(1) to O(10) (a sum of
 * per-layer cross-entropies), so a 10,000-fold rise is never normal, while a noisy or unlucky
 * batch stays far below it.
 */
export const LOSS_EXPLOSION_FACTOR = 1e4;

/**
 * What is wrong with a batch loss (e.g. 'is NaN', 'is 3.10e+8 (more than 10000 × the first
 * batch's loss, 2.30)'), or undefined when it is fine: a loss diverges when it is non-finite (NaN,
 * ±Infinity) or when |loss| > factor · max(1, |reference|) (see LOSS_EXPLOSION_FACTOR).
 */
export function lossDivergence(loss: number, reference: number | undefined, factor = LOSS_EXPLOSION_FACTOR): string | undefined {
  if (!Number.isFinite(loss)) return `is ${loss}`;
  if (reference === undefined || !Number.isFinite(reference)) return undefined;
  const bound = factor * Math.max(1, Math.abs(reference));
  return Math.abs(loss) > bound ? `is ${loss.toPrecision(3)} (more than ${factor} × the first batch's loss, ${reference.toPrecision(3)})` : undefined;
}
