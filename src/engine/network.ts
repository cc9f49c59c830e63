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
import { Layer, type LayerSpec, type LayerWeights, type LayerWeightsInput } from './layer.js';

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

export interface RunOptions {
  /** Number of steps (integer >= 0). */
  steps: number;
  /** Input of step t as a tensor [batch, inputSize] (may return the same tensor every step). */
  input?: (t: number) => Tensor;
  /** Or an encoder whose input was set beforehand (see src/encoders.ts). */
  encoder?: StepInput;
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
  private inputBuf: Tensor | null = null;

  constructor(
    readonly backend: Backend,
    spec: NetworkSpec,
    rng: Rng,
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
      const layer = new Layer(backend, i, inSize, ls, this.dtMs, rng, spikes);
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

  /** Put every layer at rest for `batch` rows (allocates only when the batch size changes); t = 0. */
  reset(batch: number): void {
    checkNumber('batch', batch, { min: 1, integer: true });
    for (const l of this.layers) l.reset(batch);
    if (this.batch !== batch) {
      if (this.inputBuf) this.backend.free(this.inputBuf);
      this.inputBuf = null;
    }
    this.batch = batch;
    this.t = 0;
  }

  /**
   * Advance every layer by one step with input x [batch, inputSize]. `afterLayer(layer)` is
   * called right after each layer's step (hook for online learning rules). Increments t.
   */
  step(x: Tensor, afterLayer?: (layer: Layer, t: number) => void): void {
    if (this.batch === 0) throw new ShapeError('Network: call reset(batch) before step()');
    if (x.shape.length !== 2 || x.shape[0] !== this.batch || x.shape[1] !== this.inputSize) {
      throw new ShapeError(
        `Network: input x has shape ${shapeString(x.shape)} but ${shapeString([this.batch, this.inputSize])} ([batch, inputSize]) is needed`,
      );
    }
    let cur = x;
    const t = this.t;
    for (const layer of this.layers) {
      layer.step(cur, t);
      if (afterLayer) afterLayer(layer, t);
      cur = layer.output();
    }
    this.t = t + 1;
  }

  /** A reusable input tensor [batch, inputSize] (allocated once per batch size). */
  inputTensor(): Tensor {
    if (this.batch === 0) throw new ShapeError('Network: call reset(batch) before inputTensor()');
    if (!this.inputBuf) this.inputBuf = this.backend.tensor([this.batch, this.inputSize]);
    return this.inputBuf;
  }

  /**
   * Run `steps` steps. Input comes from `input(t)` or from `encoder.encode(t, buffer)`; `t` is
   * the step index counted from the last reset. Recorders and onStep are called after each step.
   */
  run(opts: RunOptions): void {
    const steps = checkNumber('steps', opts.steps, { min: 0, integer: true });
    if (!opts.input === !opts.encoder) throw new ParameterError('run: give exactly one of input (t) => Tensor or encoder');
    if (this.batch === 0) throw new ShapeError('Network: call reset(batch) before run()');
    if (opts.reset) this.reset(this.batch);
    const recs = opts.recorder === undefined ? [] : Array.isArray(opts.recorder) ? opts.recorder : [opts.recorder];
    const buf = opts.encoder ? this.inputTensor() : null;
    for (let i = 0; i < steps; i++) {
      const t = this.t;
      let x: Tensor;
      if (buf) {
        (opts.encoder as StepInput).encode(t, buf, this.backend);
        x = buf;
      } else x = (opts.input as (t: number) => Tensor)(t);
      this.step(x);
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
    if (this.inputBuf) this.backend.free(this.inputBuf);
    this.inputBuf = null;
    this.batch = 0;
  }
}
