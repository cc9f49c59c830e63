/**
 * The time-step engine: a feed-forward stack of layers, batched, advanced one step of dtMs at
 * a time. Each step feeds the input x[t] [batch, inputSize] to layer 0 and the output of layer
 * i−1 (spikes, or activity for rate models) to layer i, all within the same step.
 *
 *   const net = new Network(backend, { inputSize: 784, dtMs: 1,
 *     layers: [{ size: 100, model: 'lif', params: { beta: 0.9 } }, { size: 10, model: 'lif' }] }, rng);
 *   net.reset(batch);
 *   net.run({ steps: 25, encoder, recorder });          // or input: (t) => tensor
 *   net.layers[1].output();                              // spikes [batch, 10] of the last step
 *
 * Nothing is allocated inside step(); state, input currents and delay buffers are allocated by
 * reset(batch) and reused while the batch size stays the same.
 */
import type { Backend } from '../backend/backend.js';
import { checkNumber, checkOneOf, ParameterError, ShapeError } from '../errors.js';
import type { Rng } from '../rng.js';
import { shapeString, type Tensor } from '../tensor.js';
import type { EligibilityMode } from './eligibility.js';
import { Layer, type LayerSpec, type LayerTensors, type LayerWeights, type LayerWeightsInput } from './layer.js';

/** Whether the network input is spikes (0/1 or signed events) or currents/rates. */
export type InputKind = 'spikes' | 'current';

export interface NetworkSpec {
  /** Number of input channels (e.g. 784 for MNIST). */
  inputSize: number;
  /** Layers, input to output. */
  layers: LayerSpec[];
  /** Step size in ms (> 0). Models resolve their time constants with it. */
  dtMs: number;
  /** Kind of the network input: 'spikes' (default; event-driven first layer) or 'current' (dense). */
  inputKind?: InputKind;
}

/** Something that writes the network input of step t into a [batch, inputSize] tensor. */
export interface StepInput {
  /** 'spikes' or 'current'. */
  readonly kind: InputKind;
  /** Write the input of step t into out [batch, inputSize] (through backend.write or a kernel). */
  encode(t: number, out: Tensor, backend: Backend): void;
}

export interface RunObserver {
  /** Called after every step with the step index (the recorder interface). */
  record(t: number, net: Network): void;
}

/**
 * Plug-in points of a learning rule (or any observer) on the step loop. `afterLayer` runs right
 * after layer ℓ's neuron step and before layer ℓ+1 reads its output; it may read the layer's
 * input, state and eligibility traces and accumulate that layer's own update, and may return the
 * tensor layer ℓ+1 receives instead of the layer's output (e.g. after a dropout mask).
 */
export interface StepHooks {
  /** Before the first layer of step t, after the input of step t was written. */
  beforeStep?(t: number, input: Tensor): void;
  afterLayer?(layer: Layer, t: number): Tensor | void;
  /** After every layer stepped, before recorders. */
  afterStep?(t: number): void;
}

/** A named group of consecutive batch rows, each row with its own neuron state (see reset). */
export interface Stream {
  name: string;
  rows: number;
}

/** A stream's rows in the batch: [offset, offset + rows). */
export interface StreamRows extends Stream {
  offset: number;
}

export interface RunOptions {
  /** Number of steps (integer >= 0). */
  steps: number;
  /** Input of step t as a tensor [batch, inputSize] (may return the same tensor every step). */
  input?: (t: number) => Tensor;
  /** Or an encoder whose input was set beforehand (see src/encoders.ts). */
  encoder?: StepInput;
  /** Or a writer of the input of step t into the network's input tensor [batch, inputSize]. */
  write?: (t: number, out: Tensor) => void;
  /** A learning rule's hooks on the step loop. */
  hooks?: StepHooks;
  /** Recorder(s) called after every step. */
  recorder?: RunObserver | RunObserver[];
  /** Called after every step (after the recorders). */
  onStep?: (t: number, net: Network) => void;
  /** Reset the state to rest before running (default false: continue from the current state). */
  reset?: boolean;
}

/** Checkpoint form of the network's parameters. */
export interface NetworkWeights {
  inputSize: number;
  layers: LayerWeights[];
}

export class Network {
  readonly inputSize: number;
  readonly dtMs: number;
  readonly inputKind: InputKind;
  readonly layers: Layer[];
  /** Batch size of the current state (0 before reset). */
  batch = 0;
  /** Index of the next step (number of steps taken since reset). */
  t = 0;
  /** The streams of the current batch (one stream 'input' of all rows unless reset was given streams). */
  streams: StreamRows[] = [];
  private inputBuf: Tensor | null = null;
  /** useInputReference's r [batch, inputSize] (allocated once per batch size). */
  private refBuf: Tensor | null = null;
  private readonly attached: RunObserver[] = [];

  /**
   * @param tensors parameter tensors owned by the caller (a rule's weights and optimiser), one per
   *   layer; the layers use them instead of allocating and initialising their own (no random draw).
   */
  constructor(
    readonly backend: Backend,
    spec: NetworkSpec,
    rng: Rng,
    tensors?: LayerTensors[],
  ) {
    if (!spec || typeof spec !== 'object') throw new ParameterError('Network: spec must be an object { inputSize, layers, dtMs }');
    this.inputSize = checkNumber('inputSize', spec.inputSize, { min: 1, integer: true });
    this.dtMs = checkNumber('dtMs', spec.dtMs, { min: 0, minExclusive: true, unit: 'ms' });
    this.inputKind = checkOneOf('inputKind', spec.inputKind ?? 'spikes', ['spikes', 'current'] as const);
    if (!Array.isArray(spec.layers) || spec.layers.length === 0) {
      throw new ParameterError('Network: layers must be a non-empty array of { size, model, params }');
    }
    this.layers = [];
    let inSize = this.inputSize;
    let spikes = this.inputKind === 'spikes';
    spec.layers.forEach((ls, i) => {
      const layer = new Layer(backend, i, inSize, ls, this.dtMs, rng, spikes, tensors?.[i]);
      this.layers.push(layer);
      inSize = layer.size;
      spikes = layer.model.spikeVar !== undefined && layer.outputVar === layer.model.spikeVar;
    });
  }

  /** Output size of the last layer. */
  get outputSize(): number {
    return this.layers[this.layers.length - 1].size;
  }

  /** One line for logs, e.g. '784-128(lif)-10(lif) dt=1ms input=spikes'. */
  describe(): string {
    const layers = this.layers.map((l) => `${l.size}(${l.model.name}${l.delayLine ? ',delays' : ''})`);
    return `${[String(this.inputSize), ...layers].join('-')} dt=${this.dtMs}ms input=${this.inputKind}`;
  }

  /**
   * Put every layer at rest for `batch` rows (allocates only when the batch size changes); t = 0.
   * `batch` may be a list of streams (e.g. sigprop's input and target rows), stacked in order.
   */
  reset(batch: number | Stream[]): void {
    const streams = typeof batch === 'number' ? [{ name: 'input', rows: batch }] : batch;
    let offset = 0;
    this.streams = streams.map((s) => {
      const r = { name: s.name, rows: checkNumber(`stream ${s.name} rows`, s.rows, { min: 0, integer: true }), offset };
      offset += r.rows;
      return r;
    });
    batch = offset;
    checkNumber('batch', batch, { min: 1, integer: true });
    for (const l of this.layers) l.reset(batch);
    if (this.batch !== batch) {
      for (const t of [this.inputBuf, this.refBuf]) if (t) this.backend.free(t);
      this.inputBuf = this.refBuf = null;
    }
    this.batch = batch;
    this.t = 0;
  }

  /**
   * Advance every layer by one step with input x [batch, inputSize]. `afterLayer(layer)` is
   * called right after each layer's step (hook for online learning rules). Increments t.
   */
  step(x: Tensor, hooks?: StepHooks | ((layer: Layer, t: number) => Tensor | void)): void {
    if (this.batch === 0) throw new ShapeError('Network: call reset(batch) before step()');
    if (x.shape.length !== 2 || x.shape[0] !== this.batch || x.shape[1] !== this.inputSize) {
      throw new ShapeError(
        `Network: input x has shape ${shapeString(x.shape)} but ${shapeString([this.batch, this.inputSize])} ([batch, inputSize]) is needed`,
      );
    }
    const h: StepHooks | undefined = typeof hooks === 'function' ? { afterLayer: hooks } : hooks;
    let cur = x;
    const t = this.t;
    h?.beforeStep?.(t, x);
    for (const layer of this.layers) {
      layer.step(cur, t);
      cur = h?.afterLayer?.(layer, t) || layer.output();
    }
    h?.afterStep?.(t);
    this.t = t + 1;
  }

  /** The rows of a stream by name; throws naming the streams there are. */
  stream(name: string): StreamRows {
    const s = this.streams.find((x) => x.name === name);
    if (!s) throw new ParameterError(`no stream "${name}" in this batch; streams: ${this.streams.map((x) => x.name).join(', ')}`);
    return s;
  }

  /** Keep presynaptic eligibility traces in every layer (Layer.enableTraces), or stop (null). */
  enableTraces(mode: EligibilityMode | null): void {
    for (const l of this.layers) l.enableTraces(mode);
  }

  /** Whether steps update the eligibility traces (false for inference passes of a training network). */
  setTracing(on: boolean): void {
    for (const l of this.layers) l.tracing = on;
  }

  /** Attach a recorder called after every step of every run (training windows included) until detached. */
  attach(recorder: RunObserver): void {
    this.attached.push(recorder);
  }

  /** Detach a recorder given to attach. */
  detach(recorder: RunObserver): void {
    const i = this.attached.indexOf(recorder);
    if (i >= 0) this.attached.splice(i, 1);
  }

  /** A reusable input tensor [batch, inputSize] (allocated once per batch size). */
  inputTensor(): Tensor {
    if (this.batch === 0) throw new ShapeError('Network: call reset(batch) before inputTensor()');
    if (!this.inputBuf) this.inputBuf = this.backend.tensor([this.batch, this.inputSize]);
    return this.inputBuf;
  }

  /**
   * Where the backend's event kernels pay by the non-zero (Backend.inputReference), let the first
   * layer propagate this window's input x as its difference from the most likely input r
   * (Layer.setInputReference; on MNIST x − r has a quarter of x's non-zeros): `mostLikely` writes r
   * [batch, inputSize] (e.g. StepSource.mostLikely; false: none), times `mask` where given (the
   * input's dropout mask). Call after reset, with the weights the window will use. Returns whether
   * the first layer took it.
   */
  useInputReference(mostLikely: ((out: Tensor) => boolean) | undefined, mask: Tensor | null = null): boolean {
    const be = this.backend;
    if (!be.inputReference || !mostLikely) return false;
    if (this.batch === 0) throw new ShapeError('Network: call reset(batch) before useInputReference()');
    const r = (this.refBuf ??= be.tensor([this.batch, this.inputSize]));
    if (!mostLikely(r)) return false;
    if (mask) be.mul(r, r, mask);
    return this.layers[0].setInputReference(r);
  }

  /**
   * Run `steps` steps. Input comes from `input(t)` or from `encoder.encode(t, buffer)`; `t` is
   * the step index counted from the last reset. Recorders and onStep are called after each step.
   */
  run(opts: RunOptions): void {
    const steps = checkNumber('steps', opts.steps, { min: 0, integer: true });
    if ([opts.input, opts.encoder, opts.write].filter((o) => o !== undefined).length !== 1) {
      throw new ParameterError('run: give exactly one of input (t) => Tensor, encoder or write (t, out) => void');
    }
    if (this.batch === 0) throw new ShapeError('Network: call reset(batch) before run()');
    if (opts.reset) this.reset(this.streams);
    const recs = [...this.attached, ...(opts.recorder === undefined ? [] : Array.isArray(opts.recorder) ? opts.recorder : [opts.recorder])];
    const buf = opts.encoder || opts.write ? this.inputTensor() : null;
    for (let i = 0; i < steps; i++) {
      const t = this.t;
      let x: Tensor;
      if (opts.encoder) {
        opts.encoder.encode(t, buf as Tensor, this.backend);
        x = buf as Tensor;
      } else if (opts.write) {
        opts.write(t, buf as Tensor);
        x = buf as Tensor;
      } else x = (opts.input as (t: number) => Tensor)(t);
      this.step(x, opts.hooks);
      for (const r of recs) r.record(t, this);
      opts.onStep?.(t, this);
    }
  }

  /** Copies of every layer's weights and biases (for checkpoints). */
  getWeights(): NetworkWeights {
    return { inputSize: this.inputSize, layers: this.layers.map((l) => l.getWeights()) };
  }

  /** Restore weights from getWeights() output; layer count and shapes must match. */
  setWeights(weights: NetworkWeights | LayerWeightsInput[]): void {
    const layers = Array.isArray(weights) ? weights : weights.layers;
    if (!Array.isArray(layers) || layers.length !== this.layers.length) {
      throw new ShapeError(`Network: weights hold ${layers?.length ?? 0} layers but the network has ${this.layers.length}`);
    }
    layers.forEach((lw, i) => this.layers[i].setWeights(lw));
  }

  /** Release every tensor. */
  free(): void {
    for (const l of this.layers) l.free();
    for (const t of [this.inputBuf, this.refBuf]) if (t) this.backend.free(t);
    this.inputBuf = this.refBuf = null;
    this.batch = 0;
  }
}
