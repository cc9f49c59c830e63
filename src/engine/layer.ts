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
import type { Backend, LifKernelParams, SurrogateKernelSpec } from '../backend/backend.js';
import { spikeMatmulDiffFallback } from '../backend/reference.js';
import { checkNumber, checkOneOf, ParameterError, ShapeError } from '../errors.js';
import type { Rng } from '../rng.js';
import { shapeString, type Tensor } from '../tensor.js';
import { getModel, type AnyNeuronModel } from '../../models/registry.js';
import { lifStep } from '../../models/lif.js';
import type { InputResponse, NeuronState } from '../../models/model.js';
import { checkDelays, DelayLine, type DelaySpec } from './delays.js';
import { InputTrace, type EligibilityMode } from './eligibility.js';

/** How a layer's input is propagated: 'event' (spikeMatmul), 'dense' (matmul), 'auto' (decide from the input kind). */
export type Propagation = 'auto' | 'event' | 'dense';
export const PROPAGATIONS: readonly Propagation[] = ['auto', 'event', 'dense'];

/**
 * A recurrent projection from the layer's own output at t−1 (its spikes, for spiking models) back
 * into its input current, as snnTorch RLeaky / RSynaptic: 'all-to-all' (a learned [size, size]
 * matrix) or 'one-to-one' (each neuron its own learned weight, the diagonal of that matrix).
 */
export type Recurrence = 'all-to-all' | 'one-to-one';
export const RECURRENCES: readonly Recurrence[] = ['all-to-all', 'one-to-one'];

/** An input reference of Layer.setInputReference and its buffers ([batch, in] / [batch, size]). */
interface InputReference {
  r: Tensor;
  base: Tensor;
  d: Tensor;
  sum: Tensor | null;
}

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
  /** Recurrent projection from the layer's own output at t−1. Default none. */
  recurrent?: Recurrence;
  /** Display name (recordings, checkpoints). Default `layer<i>`. */
  name?: string;
}

/**
 * Parameter tensors owned by the caller (a learning rule and its optimiser) that the layer uses
 * instead of allocating and initialising its own; the layer never frees them.
 */
export interface LayerTensors {
  /** [in, size] */
  w: Tensor;
  /** [size], or null for no bias. */
  bias: Tensor | null;
  /** [size, size] (recurrent layers only; for 'one-to-one' only the diagonal is used). */
  recurrent?: Tensor;
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
  /** [out, out] row-major, when the layer is recurrent. */
  recurrent?: Float32Array;
}

/** What setWeights accepts: w (and bias) with an optional shape check. */
export type LayerWeightsInput = Pick<LayerWeights, 'w'> & { bias?: Float32Array; recurrent?: Float32Array; shape?: readonly number[] };

/**
 * The chunk length for gathered eligibility updates (Layer.enableGradChunks) over a window of
 * `windowSteps` steps when a chunk may hold at most `maxSteps`: the length of the fewest chunks of
 * equal length that cover the window, ⌈T ÷ ⌈T ÷ max⌉⌉ (T = 25, max 32: one chunk of 25; T = 100:
 * four of 25). Every chunk boundary costs a pass of the dense trace over the gradient; equal chunks
 * hold no more buffers than the longest needs.
 */
export function gradChunkLength(windowSteps: number, maxSteps: number): number {
  if (!(windowSteps >= 1) || !(maxSteps >= 1)) return 0;
  return Math.ceil(windowSteps / Math.ceil(windowSteps / maxSteps));
}

/**
 * The output variable of a model, what the next layer receives: the spikes (spikeVar) when the
 * model has them; else an optional `outputVar` field; else the last state variable (by
 * convention the activity, e.g. a = φ(h) of 'leaky'); else the voltage.
 */
export function outputVarOf(model: AnyNeuronModel): string {
  return model.spikeVar ?? model.outputVar ?? model.stateVars[model.stateVars.length - 1] ?? model.voltageVar;
}

/** A closed chunk of gathered updates (Layer.closeChunk): W += alpha·sᵀ·g for each [s, g] of `terms`, in order. */
type ClosedChunk = { w: Tensor; alpha: number; terms: [Tensor, Tensor][] };

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
  /** Recurrent projection kind, or null. */
  readonly recurrence: Recurrence | null;
  /** Recurrent weights [size, size] (one-to-one: off-diagonal entries stay 0), or null. */
  readonly wRec: Tensor | null;
  /** Presynaptic eligibility trace of the feed-forward input (after enableTraces), or null. */
  trace: InputTrace | null = null;
  /** Eligibility trace of the recurrent input (the layer's own output at t−1), or null. */
  recTrace: InputTrace | null = null;
  /** Model state, each tensor [batch, size]. Empty until reset(). */
  state: NeuronState = {};
  /** Batch size of the current state (0 before reset). */
  batch = 0;
  /** The input x [batch, in] given to the last step (a reference, not a copy), or null. */
  presynaptic: Tensor | null = null;
  /**
   * An external current [batch, size] added to the synaptic input at every step (after the bias), or
   * null. It does not pass through W, so it has no eligibility trace. reset() clears it; set it after
   * reset for one window (e.g. PEPITA's modulation F·e of the input, as (F·e)·W₀ on the first layer).
   */
  injected: Tensor | null = null;

  private initState: NeuronState = {};
  private current: Tensor | null = null;
  private ownCurrent: Tensor | null = null;
  private readonly external: boolean;
  private traceMode: EligibilityMode | null = null;
  /** The layer's output at t−1, copied before the step (recurrent layers), [batch, size]. */
  private prevOut: Tensor | null = null;
  /** One-to-one recurrence: the identity mask [size, size] applied to its gradient. */
  private diagMask: Tensor | null = null;
  /** Whether steps update the eligibility traces (off for inference passes of a training network). */
  tracing = true;
  /** The state variable a plain-integrator model's input goes straight into, and its decay (set by reset), or null. */
  private direct: { v: Tensor; decay: number } | null = null;
  /** Delayed layers with traces: the last d + 1 inputs [batch, in]. */
  private inputRing: Tensor[] = [];
  /**
   * Per-connection delays with traces: the traces of the last D = max delay + 1 steps, slot t mod D
   * holding e[t] ([D·batch, in]); the trace of a delayed input is the delayed trace (the filters
   * are linear and time-invariant), so ∂V_n[t]/∂W_kn = gain·e_k[t − d_kn]. Memory O(D·batch·in).
   */
  private traceRing: Tensor | null = null;
  /** Index t of the last step (the per-connection gradient reads the trace ring relative to it). */
  private lastStep = 0;
  /** Surrogate outputs written by the fused neuron step (setStepOutputs), or null. */
  private stepOut: { sg: SurrogateKernelSpec; f?: Tensor; df?: Tensor } | null = null;
  /**
   * The window's input reference (setInputReference): r [batch, in], its projection r·W + bias
   * [batch, size] (computed when it was set), the difference x − r of the last
   * step [batch, in], and S = Σ h over the steps of an open chunk whose gathered inputs are x − r.
   */
  private ref: InputReference | null = null;
  /** The buffers of the last window's reference, kept for the next setInputReference. */
  private refSpare: InputReference | null = null;
  /** What accumulateGrad gathers as this step's input: x, or x − r with an input reference. */
  private gatherInput: Tensor | null = null;
  /** Steps per chunk of gathered eligibility updates (enableGradChunks; 0: off). */
  private chunkSteps = 0;
  /** Steps of the windows the gathered updates cover (enableGradChunks; 0: not told). */
  private chunkWindow = 0;
  /** The open chunk: its first step's trace, the later steps' inputs, every step's g, the target and scale. */
  private chunk: { e0: Tensor; xs: Tensor[]; gs: Tensor[]; n: number; grads: LayerGrads | null; a: number; decay: number } | null = null;

  constructor(
    readonly backend: Backend,
    readonly index: number,
    inSize: number,
    spec: LayerSpec,
    dtMs: number,
    rng: Rng,
    inputIsSpikes: boolean,
    tensors?: LayerTensors,
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

    this.recurrence = spec.recurrent === undefined ? null : checkOneOf(`${where}.recurrent`, spec.recurrent, RECURRENCES);
    this.external = tensors !== undefined;
    if (tensors) {
      checkTensorShape(`${where}: W`, tensors.w, [inSize, this.size]);
      if (tensors.bias) checkTensorShape(`${where}: bias`, tensors.bias, [this.size]);
      if (this.recurrence && !tensors.recurrent) throw new ShapeError(`${where}: a recurrent layer needs its recurrent weights [${this.size}, ${this.size}]`);
      if (tensors.recurrent) checkTensorShape(`${where}: recurrent weights`, tensors.recurrent, [this.size, this.size]);
      this.w = tensors.w;
      this.bias = tensors.bias;
      this.wRec = this.recurrence ? (tensors.recurrent as Tensor) : null;
    } else {
      const init = checkOneOf(`${where}.init`, spec.init ?? 'uniform', ['uniform', 'normal'] as const);
      const scale = checkNumber(`${where}.weightScale`, spec.weightScale ?? 1, { min: 0 });
      const bound = scale / Math.sqrt(inSize);
      const wHost = new Float32Array(inSize * this.size);
      if (init === 'uniform') rng.fillUniform(wHost, -bound, bound);
      else rng.fillNormal(wHost, 0, bound);
      this.w = backend.fromArray([inSize, this.size], wHost);
      this.bias = spec.bias ? backend.fromArray([this.size], rng.fillUniform(new Float32Array(this.size), -bound, bound)) : null;
      this.wRec = this.recurrence ? backend.fromArray([this.size, this.size], initRecurrent(rng, this.size, this.recurrence, scale)) : null;
    }

    this.delayLine =
      spec.delays === undefined ? null : new DelayLine(backend, inSize, this.size, checkDelays(where, spec.delays, inSize, this.size));
  }

  /** Allocate (or re-initialise) the state for `batch` rows at resting values and clear pending input. */
  reset(batch: number): void {
    checkNumber('batch', batch, { min: 1, integer: true });
    // an input reference holds for one window (the weights change between windows)
    if (this.ref) {
      this.refSpare = this.ref;
      this.ref = null;
    }
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
      if (this.recurrence) this.prevOut = this.backend.tensor([batch, this.size]);
      this.batch = batch;
      this.direct = this.directTarget();
    } else {
      for (const k of Object.keys(this.state)) this.backend.copy(this.state[k], this.initState[k]);
      if (this.ownCurrent) this.backend.fill(this.ownCurrent, 0);
    }
    this.delayLine?.reset(batch);
    this.resetTraces();
    this.current = this.ownCurrent;
    this.presynaptic = null;
    this.injected = null;
  }

  /**
   * Keep presynaptic eligibility traces from now on (see eligibility.ts): `trace` for the
   * feed-forward input and `recTrace` for the recurrent input. Needs the model's inputResponse.
   * null switches them off.
   */
  enableTraces(mode: EligibilityMode | null): void {
    if (mode !== null) {
      if (!this.model.inputResponse) {
        throw new ParameterError(
          `${this.name}: model "${this.model.name}" does not declare how its voltage responds to its input (inputResponse), so it cannot be trained online`,
        );
      }
    }
    this.traceMode = mode;
    this.freeTraces();
  }

  /**
   * The traces (and gathering buffers) for the current batch, allocated at the first step that
   * updates them after a reset to a new batch size (traced, not an inference pass: an evaluation
   * at another batch size between training windows allocates none), starting from zero.
   */
  private allocTraces(): void {
    if (this.traceMode === null || this.trace || this.batch === 0) return;
    const response = (this.model.inputResponse as (p: unknown) => InputResponse)(this.params);
    this.trace = new InputTrace(this.backend, this.batch, this.inSize, response, this.traceMode);
    const delays = this.delayLine?.delays() ?? 0;
    if (typeof delays === 'number') {
      for (let i = 0; delays > 0 && i <= delays; i++) this.inputRing.push(this.backend.tensor([this.batch, this.inSize]));
    } else {
      this.traceRing = this.backend.tensor([(this.delayLine as DelayLine).slots * this.batch, this.inSize]);
    }
    if (this.recurrence) this.recTrace = new InputTrace(this.backend, this.batch, this.size, response, this.traceMode);
    this.allocChunk();
    this.resetTraces();
  }

  /** Traces, their rings and the open chunk back to the start of a window. */
  private resetTraces(): void {
    if (this.chunk) this.chunk.n = 0;
    this.trace?.reset();
    this.recTrace?.reset();
    for (const r of this.inputRing) this.backend.fill(r, 0);
    if (this.traceRing) this.backend.fill(this.traceRing, 0);
  }

  /**
   * Gather the feed-forward eligibility updates of up to `steps` steps before applying them (0 or 1:
   * apply each at its step). For a trace with one decay β (e[t] = β·e[t−1] + x[t], e.g. LIF), the
   * updates of steps t0..t1 of a chunk sum to
   *   Σ_t e[t]ᵀ·g[t] = e[t0]ᵀ·h[t0] + Σ_{s=t0+1..t1} x[s]ᵀ·h[s],   h[s] = Σ_{t=s..t1} β^(t−s)·g[t],
   * so the chunk applies the (dense) trace once and then the (sparse) inputs: the same sum in another
   * order and with fewer non-zeros on spike input. Memory: `steps` tensors [batch, in] and
   * [batch, size], whatever the number of steps of a window. Layers with delays, a recurrence, a
   * trace of several filters or 'instant' eligibility keep the per-step updates. The caller must end
   * every window with finishGrad (which applies an open chunk). With `windowSteps` (the steps of
   * every window from reset to finishGrad) the trace tensor is no longer updated inside a window's
   * last chunk after its first step, where nothing reads it (T = 25 in one chunk: 24 of 25 steps);
   * the bias trace still is, and a window that runs longer than said fails at the next chunk.
   */
  enableGradChunks(steps: number, windowSteps = 0): void {
    this.chunkSteps = checkNumber('gradient chunk steps', steps, { min: 0, integer: true });
    this.chunkWindow = checkNumber('gradient chunk window steps', windowSteps, { min: 0, integer: true });
    this.freeChunk();
    if (this.batch > 0) this.allocChunk();
  }

  /** The steps per chunk enableGradChunks set (below 2: each step's update at its step). */
  get gradChunkSteps(): number {
    return this.chunkSteps;
  }

  /**
   * Propagate the input of the coming steps as its difference from a reference r [batch, in] (null:
   * plain x again): I = (r·W + b) + (x − r)·W, with r·W + b computed here, once. For a
   * rate-coded input whose most likely value r (1 where p > 0.5, times the dropout mask) x mostly
   * equals, x − r has far fewer non-zeros than x (mnist-lif: ~4x fewer), and the event kernels'
   * cost follows the non-zeros. The gathered eligibility updates (enableGradChunks) take x − r too,
   * plus rᵀ·Σh once per chunk. The same values up to float rounding (the sums regrouped). W and the
   * bias must not change while a reference is set: set it (again) after every weight update, before
   * the window's first step (between chunks). Returns false (and keeps plain x) where the layer
   * cannot: matmul propagation, delays, or a model that integrates its input directly.
   */
  setInputReference(r: Tensor | null): boolean {
    if (this.chunk && this.chunk.n > 0) throw new ParameterError(`${this.name}: setInputReference in the middle of a chunk of gathered updates; set it before the window's first step`);
    const be = this.backend;
    if (!r) {
      this.freeRef();
      return false;
    }
    if (!this.eventDriven || this.delayLine || this.direct || this.batch === 0) return false;
    if (r.shape.length !== 2 || r.shape[0] !== this.batch || r.shape[1] !== this.inSize) {
      throw new ShapeError(`${this.name}: input reference has shape ${shapeString(r.shape)} but ${shapeString([this.batch, this.inSize])} ([batch, in]) is needed`);
    }
    const ref = this.ref ?? this.refSpare ?? { r, base: be.tensor([this.batch, this.size]), d: be.tensor([this.batch, this.inSize]), sum: null };
    ref.r = r;
    be.spikeMatmul(ref.base, r, this.w, 0);
    if (this.bias) be.addRow(ref.base, this.bias);
    this.ref = ref;
    this.refSpare = null;
    return true;
  }

  private freeRef(): void {
    for (const ref of [this.ref, this.refSpare]) if (ref) for (const t of [ref.base, ref.d, ref.sum]) if (t) this.backend.free(t);
    this.ref = this.refSpare = null;
  }

  private allocChunk(): void {
    const tr = this.trace;
    if (this.chunkSteps < 2 || !tr || this.chunk || tr.mode !== 'trace' || tr.response.decays.length !== 1 || this.delayLine || this.wRec) return;
    const be = this.backend;
    this.chunk = {
      e0: be.tensor([this.batch, this.inSize]),
      xs: Array.from({ length: this.chunkSteps - 1 }, () => be.tensor([this.batch, this.inSize])),
      gs: Array.from({ length: this.chunkSteps }, () => be.tensor([this.batch, this.size])),
      n: 0, grads: null, a: 0, decay: tr.response.decays[0],
    };
  }

  private freeChunk(): void {
    const c = this.chunk;
    if (!c) return;
    for (const t of [c.e0, ...c.xs, ...c.gs]) this.backend.free(t);
    this.chunk = null;
  }

  /** Apply the open chunk of gathered updates (see enableGradChunks). */
  private flushChunk(): void {
    const u = this.closeChunk();
    if (u) Layer.applyTerms(this.backend, u);
  }

  /** W += alpha·sᵀ·g for each term of a closed chunk (closeChunk), one spikeOuter call each, in order. */
  private static applyTerms(be: Backend, u: ClosedChunk): void {
    for (const [s, g] of u.terms) be.spikeOuter(u.w, s, g, u.alpha);
  }

  /**
   * Close the open chunk of gathered updates: the backward recursion h[s] = g[s] + β·h[s+1] over its
   * gradients (and with an input reference Σ_{s≥1} h[s]), then the outer products that apply it, in
   * order, for the caller to make: W += alpha·sᵀ·g for each [s, g] of `terms`. null when no chunk is open.
   */
  private closeChunk(): ClosedChunk | null {
    const c = this.chunk;
    if (!c || c.n === 0) return null;
    const be = this.backend, gs = c.gs, grads = c.grads as LayerGrads;
    for (let s = c.n - 2; s >= 0; s--) be.axpby(gs[s], gs[s + 1], c.decay, 1); // h[s] = g[s] + β·h[s+1]
    const terms: [Tensor, Tensor][] = [[c.e0, gs[0]]];
    for (let s = 1; s < c.n; s++) terms.push([c.xs[s - 1], gs[s]]);
    const ref = this.ref;
    if (ref && c.n > 1) {
      // the gathered inputs were x − r: add rᵀ·Σ_{s≥1} h[s] (the same sum, regrouped)
      const sum = (ref.sum ??= be.tensor([this.batch, this.size]));
      be.copy(sum, gs[1]);
      for (let s = 2; s < c.n; s++) be.axpby(sum, gs[s], 1, 1);
      terms.push([ref.r, sum]);
    }
    const out = { w: grads.w, alpha: c.a, terms };
    c.n = 0;
    c.grads = null;
    return out;
  }

  /**
   * finishGrad of several layers at once (each with its grads, as finishGrad takes them): their
   * open chunks closed, then their outer products made — the first and the last layer's two at a
   * time, the i-th of one beside the i-th of the other, where the backend has
   * Backend.spikeOuterPair (on several threads a readout's narrow update then runs whole on one
   * thread while the others share a wide one), the others' one after another. The same values as
   * finishGrad on each layer.
   */
  static finishGrads(items: readonly { layer: Layer; grads: LayerGrads }[]): void {
    const ups = items.map(({ layer }) => layer.closeChunk());
    const be = items[0]?.layer.backend;
    const open = ups.filter((u) => u !== null);
    // the first and the last (a readout) side by side; any others before them, one by one
    const a = open[0], b = open[open.length - 1];
    if (be?.spikeOuterPair && open.length >= 2 && a.w !== b.w) {
      for (const u of open.slice(1, -1)) Layer.applyTerms(be, u);
      const n = Math.max(a.terms.length, b.terms.length);
      for (let i = 0; i < n; i++) {
        const x = a.terms[i], y = b.terms[i];
        if (x && y) be.spikeOuterPair({ w: a.w, s: x[0], g: x[1], alpha: a.alpha }, { w: b.w, s: y[0], g: y[1], alpha: b.alpha });
        else if (x) be.spikeOuter(a.w, x[0], x[1], a.alpha);
        else if (y) be.spikeOuter(b.w, y[0], y[1], b.alpha);
      }
    } else for (const u of open) Layer.applyTerms(be, u);
    for (const { layer, grads } of items) layer.finishGrad(grads);
  }

  private freeTraces(): void {
    this.freeChunk();
    this.trace?.free();
    this.recTrace?.free();
    this.trace = this.recTrace = null;
    for (const r of this.inputRing) this.backend.free(r);
    this.inputRing = [];
    if (this.traceRing) this.backend.free(this.traceRing);
    this.traceRing = null;
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
    this.gatherInput = x;
    this.lastStep = t;
    if (this.tracing && !this.trace) this.allocTraces();
    const direct = this.direct;
    if (direct) {
      // v ← decay·v + x·W + b in one pass (models with an `integrator`, e.g. the 'li' readout)
      if (this.eventDriven) this.backend.spikeMatmul(direct.v, x, this.w, direct.decay);
      else this.backend.matmul(direct.v, x, this.w, { beta: direct.decay });
      if (this.bias) this.backend.addRow(direct.v, this.bias);
      if (this.injected) this.backend.axpby(direct.v, this.injected, 1, 1);
      this.presynaptic = x;
      if (this.tracing && this.trace) this.traceStep(this.trace, x, t);
      return;
    }
    let cur: Tensor;
    const ref = this.ref;
    if (ref) {
      // I = (r·W + b) + (x − r)·W: the difference has the non-zeros where x departs from r
      const be = this.backend;
      // straight into the gathering buffer where it has one (not x itself: the trace reads x below)
      const c = this.chunk, slot = c && c.n > 0 ? c.xs[c.n - 1] : null;
      const d = slot && slot !== x ? slot : ref.d;
      cur = this.ownCurrent as Tensor;
      // d = x − r, I = base + d·W
      if (be.spikeMatmulDiff) be.spikeMatmulDiff(cur, d, x, ref.r, this.w, ref.base);
      else spikeMatmulDiffFallback(be, cur, d, x, ref.r, this.w, ref.base);
      this.gatherInput = d;
    } else if (this.delayLine) cur = this.delayLine.push(t, x, this.w, this.eventDriven);
    else {
      cur = this.ownCurrent as Tensor;
      if (this.eventDriven) this.backend.spikeMatmul(cur, x, this.w, 0);
      else this.backend.matmul(cur, x, this.w);
    }
    if (this.bias && !ref) this.backend.addRow(cur, this.bias);
    if (this.injected) this.backend.axpby(cur, this.injected, 1, 1);
    if (this.wRec) {
      const prev = this.prevOut as Tensor;
      this.backend.copy(prev, this.output());
      if (this.model.spikeVar !== undefined && this.outputVar === this.model.spikeVar) this.backend.spikeMatmul(cur, prev, this.wRec, 1);
      else this.backend.matmul(cur, prev, this.wRec, { beta: 1 });
      if (this.tracing) this.recTrace?.update(prev);
    }
    this.current = cur;
    this.presynaptic = x;
    if (this.tracing && this.trace) {
      if (this.traceRing) {
        // per-connection delays: keep the last D traces; the gradient picks e[t − d] per connection
        this.trace.update(x);
        const n = this.batch * this.inSize;
        this.backend.copySlice(this.traceRing, (t % (this.traceRing.shape[0] / this.batch)) * n, this.trace.value(), 0, n);
      } else this.traceStep(this.trace, this.delayedInput(x, t), t);
    }
    const so = this.stepOut;
    if (so) {
      // LIF with the surrogate outputs in the same call (setStepOutputs)
      const be = this.backend as Required<Pick<Backend, 'lifStepFused'>>;
      be.lifStepFused(this.state.u, this.state.s, cur, this.params as LifKernelParams, so);
    } else this.model.step(this.backend, this.params, this.state, cur);
  }

  /**
   * Ask every following step to also write f(U − θ) into `out.f` and f'(U − θ) into `out.df` (each
   * optional, the layer's shape [batch, size]) of the new membrane, in the neuron step's own call
   * (Backend.lifStepFused: the same values as surrogate() after the step). Only for the 'lif' model
   * on a backend with lifStepFused; returns whether the layer will write them (false: the caller
   * computes them itself). null switches it off.
   */
  setStepOutputs(out: { sg: SurrogateKernelSpec; f?: Tensor; df?: Tensor } | null): boolean {
    this.stepOut = out && this.model.step === (lifStep as unknown) && this.backend.lifStepFused ? out : null;
    return this.stepOut !== null;
  }

  /**
   * The input whose contribution arrives now: x itself without delays; with one delay d for the
   * projection, x[t − d] from a ring of the last d + 1 inputs (zeros before step d).
   */
  private delayedInput(x: Tensor, t: number): Tensor {
    const D = this.inputRing.length;
    if (D === 0) return x;
    this.backend.copy(this.inputRing[t % D], x);
    return this.inputRing[(t + 1) % D];
  }

  /**
   * The eligibility trace's step t: updated, or (gathered updates told the window's length) only its
   * bias part where the open chunk is the window's last and has its first step's trace already.
   */
  private traceStep(tr: InputTrace, x: Tensor, t: number): void {
    const c = this.chunk;
    // the open chunk began at step t − c.n and gathers up to chunkSteps steps: does another start after it?
    if (c && c.n > 0 && this.chunkWindow > 0 && t - c.n + this.chunkSteps >= this.chunkWindow) tr.skip(x);
    else tr.update(x);
  }

  /**
   * Accumulate this step's gradient of the layer's parameters from the postsynaptic factor
   * g = ∂L/∂V [batch, size] (every row of every stream) through the eligibility traces
   * (enableTraces first):
   *   W += alpha·gain·eᵀ·g,   bias += alpha·gain·e_b·Σ_rows g,   recurrent += alpha·gain·e_recᵀ·g.
   * For a 'one-to-one' recurrence the off-diagonal part is removed by `finishGrad`. With one
   * delay d for the projection e is the trace of x[t − d]; with a delay per connection
   * W[k,n] += alpha·gain·Σ_b e_k[t − d_kn]·g_n (Backend.delayedOuter over the ring of traces).
   */
  accumulateGrad(g: Tensor, alpha: number, grads: LayerGrads): void {
    const tr = this.trace;
    if (!tr) throw new ParameterError(`${this.name}: call enableTraces before accumulateGrad`);
    const a = alpha * tr.gain;
    const c = this.chunk;
    if (c) {
      // gather (enableGradChunks): the trace at the chunk's first step, the inputs of the later steps, every g
      if (c.n > 0 && (c.n === this.chunkSteps || c.grads?.w !== grads.w || c.a !== a)) this.flushChunk();
      const be = this.backend;
      if (c.n === 0) {
        be.copy(c.e0, tr.value());
        c.grads = grads;
        c.a = a;
      } else if (this.gatherInput !== c.xs[c.n - 1]) be.copy(c.xs[c.n - 1], (this.gatherInput ?? this.presynaptic) as Tensor);
      if (g !== c.gs[c.n]) be.copy(c.gs[c.n], g);
      // a chunk full at the window's last step is left to finishGrad (Layer.finishGrads: beside another layer's)
      if (++c.n === this.chunkSteps && !(this.chunkWindow > 0 && this.lastStep + 1 === this.chunkWindow)) this.flushChunk();
    } else if (this.traceRing) this.backend.delayedOuter(grads.w, this.traceRing, g, (this.delayLine as DelayLine).delayTensor() as Tensor, this.lastStep, a);
    else this.backend.spikeOuter(grads.w, tr.value(), g, a);
    if (grads.bias) this.backend.sumRows(grads.bias, g, a * tr.biasValue(), 1);
    if (grads.recurrent && this.recTrace) this.backend.spikeOuter(grads.recurrent, this.recTrace.value(), g, a);
  }

  /**
   * Where the next accumulateGrad keeps g when it gathers updates (enableGradChunks): a caller that
   * writes its g straight into this tensor saves the copy (accumulateGrad copies any other tensor).
   * null when the layer does not gather.
   */
  gradSlot(): Tensor | null {
    const c = this.chunk;
    return c && c.n < this.chunkSteps ? c.gs[c.n] : null;
  }

  /**
   * Where the next accumulateGrad keeps this step's input x when it gathers updates: a caller that
   * writes the next input x straight into this tensor (and steps the layer with it) saves the copy.
   * null when the layer does not gather or keeps no input at its next step.
   */
  inputSlot(): Tensor | null {
    const c = this.chunk;
    return c && c.n > 0 && c.n < this.chunkSteps && !this.ref ? c.xs[c.n - 1] : null;
  }

  /** End of a window: apply gathered updates (enableGradChunks); keep only the diagonal of a one-to-one recurrent gradient. */
  finishGrad(grads: LayerGrads): void {
    this.flushChunk();
    if (this.recurrence !== 'one-to-one' || !grads.recurrent) return;
    if (!this.diagMask) this.diagMask = this.backend.fromArray([this.size, this.size], initRecurrentMask(this.size));
    this.backend.mul(grads.recurrent, grads.recurrent, this.diagMask);
  }

  /** The layer's output [batch, size]: spikes for spiking models, activity (or voltage) otherwise. */
  output(): Tensor {
    return this.stateVar(this.outputVar);
  }

  /** The membrane voltage [batch, size] (the model's voltageVar). */
  voltage(): Tensor {
    return this.stateVar(this.model.voltageVar);
  }

  /**
   * A layer whose model is a plain integrator (NeuronModel.integrator, no delays, no recurrence)
   * propagates its input straight into that variable: the variable and its decay, else null.
   */
  private directTarget(): { v: Tensor; decay: number } | null {
    const integ = this.model.integrator;
    if (!integ || this.delayLine || this.wRec) return null;
    const { stateVar, decay } = integ(this.params as never);
    return { v: this.state[stateVar], decay };
  }

  /** The synaptic input current I = x·W (+ bias) given to the model at the last step, [batch, size]. */
  inputCurrent(): Tensor {
    if (this.direct) {
      throw new ParameterError(`${this.name}: model "${this.model.name}" integrates its input straight into its state, so there is no separate input current; record 'voltage'`);
    }
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

  /** A copy of the weights (and bias, recurrent weights) for checkpoints. */
  getWeights(): LayerWeights {
    const out: LayerWeights = { name: this.name, shape: [this.inSize, this.size], w: this.backend.read(this.w) };
    if (this.bias) out.bias = this.backend.read(this.bias);
    if (this.wRec) out.recurrent = this.backend.read(this.wRec);
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
    if (this.wRec) {
      if (!lw.recurrent || lw.recurrent.length !== this.size * this.size) {
        throw new ShapeError(`${this.name}: recurrent weights have ${lw.recurrent?.length ?? 0} values but the layer needs ${this.size * this.size}`);
      }
      this.backend.write(this.wRec, lw.recurrent);
    } else if (lw.recurrent) {
      throw new ShapeError(`${this.name}: recurrent weights were given but the layer is not recurrent (set recurrent in its spec)`);
    }
  }

  private freeState(): void {
    for (const t of Object.values(this.state)) this.backend.free(t);
    for (const t of Object.values(this.initState)) this.backend.free(t);
    if (this.ownCurrent) this.backend.free(this.ownCurrent);
    if (this.prevOut) this.backend.free(this.prevOut);
    this.ownCurrent = this.prevOut = null;
    this.state = {};
    this.initState = {};
    this.freeTraces();
    this.freeRef();
    this.direct = null;
  }

  /** Release every tensor of the layer (parameter tensors given by the caller stay theirs). */
  free(): void {
    this.freeState();
    this.delayLine?.free();
    if (this.diagMask) this.backend.free(this.diagMask);
    this.diagMask = null;
    if (!this.external) {
      this.backend.free(this.w);
      if (this.bias) this.backend.free(this.bias);
      if (this.wRec) this.backend.free(this.wRec);
    }
    this.batch = 0;
  }
}

/** Gradient accumulators of a layer's parameters (same shapes as the parameters). */
export interface LayerGrads {
  w: Tensor;
  bias?: Tensor | null;
  recurrent?: Tensor | null;
}

/** The identity matrix [n, n] as a mask. */
function initRecurrentMask(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** Check a caller-given tensor's shape. */
function checkTensorShape(what: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${what} has shape ${shapeString(t.shape)} but ${shapeString(shape)} is needed`);
  }
}

/**
 * Initial recurrent weights [n, n]: uniform in ±scale/√n (all-to-all), or the same range on the
 * diagonal only (one-to-one; off-diagonal entries 0 and never updated).
 */
export function initRecurrent(rng: Rng, n: number, kind: Recurrence, scale = 1): Float32Array {
  const bound = scale / Math.sqrt(n);
  const w = new Float32Array(n * n);
  if (kind === 'all-to-all') return rng.fillUniform(w, -bound, bound);
  const d = rng.fillUniform(new Float32Array(n), -bound, bound);
  for (let i = 0; i < n; i++) w[i * n + i] = d[i];
  return w;
}
