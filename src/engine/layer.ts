/**
 * A layer: a projection (weights W [in, out], optional bias [out], optional delays) feeding a
 * population of `size` neurons of one model. The layer is a thin stateful wrapper around the
 * model's pure step function: `step(x)` computes the synaptic input I = x·W (+ bias) and then
 * calls `model.step(backend, params, state, I)`.
 *
 * Propagation: spike inputs go through `backend.spikeMatmul` (event-driven: cost ∝ active
 * inputs); non-spike inputs (currents, rates) through the dense `backend.matmul`. Both give the
 * same numbers; the choice is only about speed.
 */
import type { Backend } from '../backend/backend.js';
import { checkNumber, checkOneOf, ParameterError, ShapeError } from '../errors.js';
import type { Rng } from '../rng.js';
import { shapeString, type Tensor } from '../tensor.js';
import { getModel, type AnyNeuronModel } from '../../models/registry.js';
import type { NeuronState } from '../../models/model.js';
import { checkDelays, DelayLine, type DelaySpec } from './delays.js';

/** How a layer's input is propagated: 'event' (spikeMatmul), 'dense' (matmul), 'auto' (decide from the input kind). */
export type Propagation = 'auto' | 'event' | 'dense';
export const PROPAGATIONS: readonly Propagation[] = ['auto', 'event', 'dense'];

/** Weight initialisation: uniform in ±scale/√in (PyTorch Linear default at scale 1) or normal with std scale/√in. */
export type WeightInit = 'uniform' | 'normal';

/** Declarative description of one layer. */
export interface LayerSpec {
  /** Number of neurons (integer >= 1). */
  size: number;
  /** Model name in the model registry ('lif', 'synaptic', ...) or a model object. Default 'lif'. */
  model?: string | AnyNeuronModel;
  /** Model parameters (resolved with the network's dtMs; defaults filled in by the model). */
  params?: Record<string, unknown>;
  /** Add a learnable bias [size] to the synaptic input every step. Default false. */
  bias?: boolean;
  /** Synaptic delays in steps: one integer for the projection, or one per connection [in, size] row-major. */
  delays?: DelaySpec;
  /** 'auto' (default): event-driven when the input is spikes, dense otherwise. */
  propagation?: Propagation;
  /** Weight initialisation. Default 'uniform'. */
  init?: WeightInit;
  /** Multiplies the initial weight range (uniform bound or normal std, both ∝ 1/√in). Default 1. */
  weightScale?: number;
  /** Display name (recordings, checkpoints). Default `layer<i>`. */
  name?: string;
}

/** Checkpoint form of one layer's parameters. */
export interface LayerWeights {
  name: string;
  /** [in, out] */
  shape: [number, number];
  /** Row-major [in, out]. */
  w: Float32Array;
  /** [out], when the layer has a bias. */
  bias?: Float32Array;
}

/** What setWeights accepts: w (and bias) with an optional shape check. */
export type LayerWeightsInput = Pick<LayerWeights, 'w'> & { bias?: Float32Array; shape?: readonly number[] };

/**
 * The output variable of a model, what the next layer receives: the spikes (spikeVar) when the
 * model has them; else an optional `outputVar` field; else the last state variable (by
 * convention the activity, e.g. a = φ(h) of 'leaky'); else the voltage.
 */
export function outputVarOf(model: AnyNeuronModel): string {
  return model.spikeVar ?? model.outputVar ?? model.stateVars[model.stateVars.length - 1] ?? model.voltageVar;
}

export class Layer {
  readonly name: string;
  readonly model: AnyNeuronModel;
  /** Resolved model parameters. */
  readonly params: unknown;
  /** Number of inputs (presynaptic neurons). */
  readonly inSize: number;
  /** Number of neurons. */
  readonly size: number;
  /** Weights [in, out]. Learning rules update this tensor in place. */
  readonly w: Tensor;
  /** Bias [out] or null. */
  readonly bias: Tensor | null;
  /** true: input propagated by spikeMatmul; false: by matmul. */
  readonly eventDriven: boolean;
  /** Name of the state variable returned by output(). */
  readonly outputVar: string;
  /** Delay ring buffer, or null when the layer has no delays. */
  readonly delayLine: DelayLine | null;
  /** Model state, each tensor [batch, size]. Empty until reset(). */
  state: NeuronState = {};
  /** Batch size of the current state (0 before reset). */
  batch = 0;
  /** The input x [batch, in] given to the last step (a reference, not a copy), or null. */
  presynaptic: Tensor | null = null;

  private initState: NeuronState = {};
  private current: Tensor | null = null;
  private ownCurrent: Tensor | null = null;

  constructor(
    readonly backend: Backend,
    readonly index: number,
    inSize: number,
    spec: LayerSpec,
    dtMs: number,
    rng: Rng,
    inputIsSpikes: boolean,
  ) {
    const where = spec.name ?? `layer${index}`;
    this.name = where;
    this.size = checkNumber(`${where}.size`, spec.size, { min: 1, integer: true });
    this.inSize = inSize;
    const model = spec.model ?? 'lif';
    this.model = typeof model === 'string' ? getModel(model) : model;
    if (!this.model || typeof this.model.step !== 'function') {
      throw new ParameterError(`${where}.model must be a model name or a NeuronModel object`);
    }
    this.params = this.model.resolve(spec.params as never, dtMs);
    this.outputVar = outputVarOf(this.model);
    const prop = checkOneOf(`${where}.propagation`, spec.propagation ?? 'auto', PROPAGATIONS);
    this.eventDriven = prop === 'auto' ? inputIsSpikes : prop === 'event';

    const init = checkOneOf(`${where}.init`, spec.init ?? 'uniform', ['uniform', 'normal'] as const);
    const scale = checkNumber(`${where}.weightScale`, spec.weightScale ?? 1, { min: 0 });
    const bound = scale / Math.sqrt(inSize);
    const wHost = new Float32Array(inSize * this.size);
    if (init === 'uniform') rng.fillUniform(wHost, -bound, bound);
    else rng.fillNormal(wHost, 0, bound);
    this.w = backend.fromArray([inSize, this.size], wHost);
    this.bias = spec.bias ? backend.fromArray([this.size], rng.fillUniform(new Float32Array(this.size), -bound, bound)) : null;

    this.delayLine =
      spec.delays === undefined ? null : new DelayLine(backend, inSize, this.size, checkDelays(where, spec.delays, inSize, this.size));
  }

  /** Allocate (or re-initialise) the state for `batch` rows at resting values and clear pending input. */
  reset(batch: number): void {
    checkNumber('batch', batch, { min: 1, integer: true });
    if (batch !== this.batch) {
      this.freeState();
      this.initState = this.model.init(this.backend, batch, this.size, this.params);
      this.state = {};
      for (const [k, t] of Object.entries(this.initState)) {
        const c = this.backend.tensor(t.shape);
        this.backend.copy(c, t);
        this.state[k] = c;
      }
      if (!this.delayLine) this.ownCurrent = this.backend.tensor([batch, this.size]);
      this.batch = batch;
    } else {
      for (const k of Object.keys(this.state)) this.backend.copy(this.state[k], this.initState[k]);
      if (this.ownCurrent) this.backend.fill(this.ownCurrent, 0);
    }
    this.delayLine?.reset(batch);
    this.current = this.ownCurrent;
    this.presynaptic = null;
  }

  /**
   * Advance one step: synaptic input from x [batch, in] (through delays if any), plus bias,
   * then the model step. `t` is the step index (needed by delays). No allocation.
   */
  step(x: Tensor, t: number): void {
    if (this.batch === 0) throw new ShapeError(`${this.name}: call reset(batch) before step()`);
    if (x.shape.length !== 2 || x.shape[0] !== this.batch || x.shape[1] !== this.inSize) {
      throw new ShapeError(
        `${this.name}: input x has shape ${shapeString(x.shape)} but ${shapeString([this.batch, this.inSize])} ([batch, in]) is needed to multiply W ${shapeString(this.w.shape)}`,
      );
    }
    let cur: Tensor;
    if (this.delayLine) cur = this.delayLine.push(t, x, this.w, this.eventDriven);
    else {
      cur = this.ownCurrent as Tensor;
      if (this.eventDriven) this.backend.spikeMatmul(cur, x, this.w, 0);
      else this.backend.matmul(cur, x, this.w);
    }
    if (this.bias) this.backend.addRow(cur, this.bias);
    this.current = cur;
    this.presynaptic = x;
    this.model.step(this.backend, this.params, this.state, cur);
  }

  /** The layer's output [batch, size]: spikes for spiking models, activity (or voltage) otherwise. */
  output(): Tensor {
    return this.stateVar(this.outputVar);
  }

  /** The membrane voltage [batch, size] (the model's voltageVar). */
  voltage(): Tensor {
    return this.stateVar(this.model.voltageVar);
  }

  /** The synaptic input current I = x·W (+ bias) given to the model at the last step, [batch, size]. */
  inputCurrent(): Tensor {
    if (!this.current) throw new ShapeError(`${this.name}: call reset(batch) before reading the input current`);
    return this.current;
  }

  /** A state variable by name; throws a ParameterError listing the model's variables. */
  stateVar(name: string): Tensor {
    const t = this.state[name];
    if (!t) {
      if (this.batch === 0) throw new ShapeError(`${this.name}: call reset(batch) before reading state`);
      throw new ParameterError(
        `${this.name}: state variable "${name}" is not known for model "${this.model.name}"; variables: ${Object.keys(this.state).join(', ')}`,
      );
    }
    return t;
  }

  /** A copy of the weights (and bias) for checkpoints. */
  getWeights(): LayerWeights {
    const out: LayerWeights = { name: this.name, shape: [this.inSize, this.size], w: this.backend.read(this.w) };
    if (this.bias) out.bias = this.backend.read(this.bias);
    return out;
  }

  /** Overwrite weights (and bias) from a checkpoint; shapes must match. */
  setWeights(lw: LayerWeightsInput): void {
    if (lw.shape && (lw.shape[0] !== this.inSize || lw.shape[1] !== this.size)) {
      throw new ShapeError(`${this.name}: weights have shape ${shapeString(lw.shape)} but W is ${shapeString(this.w.shape)}`);
    }
    if (lw.w.length !== this.w.size) {
      throw new ShapeError(`${this.name}: weights have ${lw.w.length} values but W ${shapeString(this.w.shape)} needs ${this.w.size}`);
    }
    this.backend.write(this.w, lw.w);
    if (this.bias) {
      if (!lw.bias || lw.bias.length !== this.size) {
        throw new ShapeError(`${this.name}: bias has ${lw.bias?.length ?? 0} values but the layer needs ${this.size}`);
      }
      this.backend.write(this.bias, lw.bias);
    } else if (lw.bias) {
      throw new ShapeError(`${this.name}: a bias was given but the layer has none (set bias: true in its spec)`);
    }
  }

  private freeState(): void {
    for (const t of Object.values(this.state)) this.backend.free(t);
    for (const t of Object.values(this.initState)) this.backend.free(t);
    if (this.ownCurrent) this.backend.free(this.ownCurrent);
    this.ownCurrent = null;
    this.state = {};
    this.initState = {};
  }

  /** Release every tensor of the layer. */
  free(): void {
    this.freeState();
    this.delayLine?.free();
    this.backend.free(this.w);
    if (this.bias) this.backend.free(this.bias);
    this.batch = 0;
  }
}
