/**
 * Input encoders: turn a static input x [batch, inputSize] (intensities, usually in [0, 1],
 * e.g. MNIST pixels / 255) into the network input of each time step. Every encoder writes
 * into a [batch, inputSize] backend tensor once per step without allocating.
 *
 * Built-in encoders (spec syntax 'name:key=value,key=value', as for surrogates):
 * - `rate:gain=1` — Bernoulli spikes, P(spike at t) = clamp(gain·x, 0, 1), independent per step
 *   (snnTorch spikegen.rate). Expected count over T steps: T·clamp(gain·x, 0, 1).
 * - `latency:mode=rc,tau=5,threshold=0.01,normalize=0` — one spike per input at
 *   t = round(tau·ln(x / (x − threshold))) (RC charging time, mode 'rc', tau in steps), or
 *   t = round(tau·(1 − x)) (mode 'linear', tau defaults to steps − 1). Inputs x <= threshold
 *   never spike, nor do inputs whose time is >= steps. Brighter inputs spike earlier (monotone).
 *   normalize=1 (rc only) sets tau = (steps − 1)/ln((threshold + ε)/ε), ε = 1e-7, as
 *   snnTorch's spikegen.latency(normalize=True) does, so that the weakest spiking input fires last.
 * - `direct:gain=1,offset=0` — no spikes: gain·x + offset is fed as a current every step.
 * - `delta:threshold=0.1,off=0,padding=0` — change-driven spikes: a spike where the input rose by
 *   at least threshold since the previous frame (off=1: also −1 where it fell by at least
 *   threshold). The frame before t = 0 is zero (padding=0) or the first frame itself (padding=1,
 *   no spikes at t = 0). For a static image (setInput) every frame is the same image, so with
 *   padding=0 the encoder emits one ON spike at t = 0 for each pixel >= threshold and nothing after;
 *   give a sequence with setSequence() for moving input.
 */
import type { Backend } from './backend/backend.js';
import { checkNumber, checkOneOf, ParameterError, ShapeError } from './errors.js';
import type { Rng } from './rng.js';
import { shapeString, type Tensor } from './tensor.js';
import type { InputKind, StepInput } from './engine/network.js';

export type EncoderParams = Record<string, number | string>;

export interface EncoderOptions {
  /** Random generator (required by 'rate'). */
  rng?: Rng;
  /** Number of steps the input will be presented (used by 'latency'). */
  steps?: number;
}

export interface Encoder extends StepInput {
  /** Registry name. */
  readonly name: string;
  /** 'spikes' or 'current'. */
  readonly kind: InputKind;
  /** Resolved parameters. */
  readonly params: Readonly<EncoderParams>;
  /** Set the static input: x holds [batch, inputSize] row-major values. Allocates only when the size changes. */
  setInput(x: ArrayLike<number>, batch: number, inputSize: number): void;
  /** Write the input of step t into out [batch, inputSize] through backend.write. */
  encode(t: number, out: Tensor, backend: Backend): void;
  /** Host values of step t (a view of an internal buffer, valid until the next call). */
  encodeHost(t: number): Float32Array;
  /** Release backend memory the encoder keeps (the rate encoder's probabilities); optional. */
  dispose?(): void;
  /**
   * The value each input takes most often over the steps of the input set, [batch, inputSize] (a view
   * of an internal buffer, valid until the next setInput), or null where the encoder has none worth
   * using; optional. The rate encoder: 1 where p > 0.5, else 0 (Layer.setInputReference).
   */
  mostLikely?(): Float32Array | null;
}

export interface EncoderEntry {
  name: string;
  /** One line for --help. */
  description: string;
  /** Known parameters with their defaults. */
  defaults: EncoderParams;
  create(params: EncoderParams, opts: EncoderOptions): Encoder;
}

const registry = new Map<string, EncoderEntry>();

/** Register an encoder factory by name (replace = true to override an existing name). */
export function registerEncoder(entry: EncoderEntry, replace = false): void {
  if (registry.has(entry.name) && !replace) {
    throw new ParameterError(`registerEncoder: an encoder named "${entry.name}" is already registered; pass replace = true`);
  }
  registry.set(entry.name, entry);
}

/** Names of the registered encoders, sorted. */
export function encoderNames(): string[] {
  return [...registry.keys()].sort();
}

/** The registry entry of an encoder (description, defaults). */
export function getEncoderEntry(name: string): EncoderEntry {
  const e = registry.get(name);
  if (!e) throw new ParameterError(`encoder = "${name}" is not known; encoder must be one of: ${encoderNames().join(', ')}`);
  return e;
}

/** Parse 'name:key=value,key=value' into a name and parameters (numbers where they parse). */
export function parseEncoderSpec(text: string): { name: string; params: EncoderParams } {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ParameterError(`encoder spec ${JSON.stringify(text)} is empty; write e.g. 'rate' or 'rate:gain=1'`);
  }
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  const params: EncoderParams = {};
  const rest = colon < 0 ? '' : text.slice(colon + 1).trim();
  for (const part of rest === '' ? [] : rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ParameterError(`encoder spec "${text}": "${part}" is not key=value; write e.g. '${name}:gain=1'`);
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (key in params) throw new ParameterError(`encoder spec "${text}" sets "${key}" twice`);
    const num = Number(raw);
    params[key] = raw !== '' && Number.isFinite(num) ? num : raw;
  }
  return { name, params };
}

/**
 * Create an encoder from a spec string ('rate:gain=2'), or a name plus parameters.
 * Unknown names or parameters throw a ParameterError listing the known ones.
 */
export function createEncoder(spec: string | { name: string; params?: EncoderParams }, opts: EncoderOptions = {}): Encoder {
  const { name, params } = typeof spec === 'string' ? parseEncoderSpec(spec) : { name: spec.name, params: spec.params ?? {} };
  const entry = getEncoderEntry(name);
  for (const k of Object.keys(params)) {
    if (!(k in entry.defaults)) {
      throw new ParameterError(`encoder "${name}": unknown parameter "${k}"; known parameters: ${Object.keys(entry.defaults).join(', ')}`);
    }
  }
  return entry.create({ ...entry.defaults, ...params }, opts);
}

/** Shared buffer handling: the static input and the per-step output scratch. */
export abstract class BaseEncoder implements Encoder {
  abstract readonly name: string;
  abstract readonly kind: InputKind;
  batch = 0;
  inputSize = 0;
  protected x = new Float32Array(0);
  protected out = new Float32Array(0);

  constructor(readonly params: Readonly<EncoderParams>) {}

  setInput(x: ArrayLike<number>, batch: number, inputSize: number): void {
    checkNumber('batch', batch, { min: 1, integer: true });
    checkNumber('inputSize', inputSize, { min: 1, integer: true });
    if (x.length !== batch * inputSize) {
      throw new ShapeError(`${this.name} encoder: input x has ${x.length} values but [batch, inputSize] = ${shapeString([batch, inputSize])} needs ${batch * inputSize}`);
    }
    if (this.x.length !== x.length) {
      this.x = new Float32Array(x.length);
      this.out = new Float32Array(x.length);
    }
    this.x.set(x);
    this.batch = batch;
    this.inputSize = inputSize;
    this.prepare();
  }

  /** Precompute per-input quantities after setInput. */
  protected prepare(): void {}

  /** Fill this.out with step t. */
  protected abstract fill(t: number): void;

  encodeHost(t: number): Float32Array {
    if (this.batch === 0) throw new ShapeError(`${this.name} encoder: call setInput(x, batch, inputSize) before encoding`);
    this.fill(t);
    return this.out;
  }

  encode(t: number, out: Tensor, backend: Backend): void {
    this.checkOut(out);
    backend.write(out, this.encodeHost(t));
  }

  /** Throw unless out is [batch, inputSize] of the input set. */
  protected checkOut(out: Tensor): void {
    if (out.shape.length !== 2 || out.shape[0] !== this.batch || out.shape[1] !== this.inputSize) {
      throw new ShapeError(
        `${this.name} encoder: output tensor has shape ${shapeString(out.shape)} but the input set is ${shapeString([this.batch, this.inputSize])} ([batch, inputSize])`,
      );
    }
  }
}

// The rate encoder's per-element loops, each in a function of its own: inside prepare / mostLikely
// V8 compiled the loop on its first run (on-stack replacement), before the property accesses after
// it had type feedback, and dropped that code at those accesses on every batch (node --trace-deopt:
// mostLikely 79 times in 80 batches), so the next batch ran the loop unoptimised again (mostLikely
// took 227 µs a batch in training against 72 µs in a loop of its own).

/** p = min(1, max(0, gain·x)) elementwise; a NaN stays NaN, −0 becomes 0. */
function clampedScale(p: Float32Array, x: Float32Array, gain: number): void {
  for (let i = 0; i < x.length; i++) {
    // the in-range test first, which a branch predictor learns (MNIST: 120 µs a batch of 128 against
    // 250 µs for v >= 1 ? 1 : v > 0 ? ..., whose first tests follow the pixels)
    const v = gain * x[i];
    p[i] = v >= 0 && v <= 1 ? v + 0 : v > 1 ? 1 : v <= 0 ? 0 : v;
  }
}

/** m = 1 where p > 0.5, else 0; +(test) has no branch on the values (72 µs a batch of 128 against 182 µs for test ? 1 : 0). */
function aboveHalf(m: Float32Array, p: Float32Array): void {
  for (let i = 0; i < p.length; i++) m[i] = +(p[i] > 0.5);
}

export class RateEncoder extends BaseEncoder {
  readonly name = 'rate';
  readonly kind = 'spikes' as const;
  private p = new Float32Array(0);
  private readonly gain: number;
  constructor(params: EncoderParams, private readonly rng: Rng) {
    super(params);
    this.gain = checkNumber('rate.gain', params.gain, { min: 0 });
  }
  /** The probabilities as a tensor of the backend that last encoded (written once per setInput), or null. */
  private pTensor: { backend: Backend; t: Tensor; fresh: boolean } | null = null;
  /** mostLikely's values (reused from one input set to the next) and whether they are the current set's. */
  private mode = new Float32Array(0);
  private modeFresh = false;
  protected override prepare(): void {
    if (this.p.length !== this.x.length) this.p = new Float32Array(this.x.length);
    clampedScale(this.p, this.x, this.gain);
    if (this.pTensor) this.pTensor.fresh = false;
    this.modeFresh = false;
  }
  mostLikely(): Float32Array {
    const p = this.p;
    if (!this.modeFresh) {
      if (this.mode.length !== p.length) this.mode = new Float32Array(p.length);
      aboveHalf(this.mode, p);
      this.modeFresh = true;
    }
    return this.mode;
  }
  protected fill(): void {
    const p = this.p, o = this.out, rng = this.rng;
    for (let i = 0; i < p.length; i++) o[i] = p[i] > 0 && rng.uniform() < p[i] ? 1 : 0;
  }
  /**
   * The spikes are drawn by the backend's rateSpikes kernel straight into out (the same random
   * stream as encodeHost), from a copy of the probabilities kept on that backend.
   */
  override encode(_t: number, out: Tensor, backend: Backend): void {
    if (this.batch === 0) throw new ShapeError(`${this.name} encoder: call setInput(x, batch, inputSize) before encoding`);
    this.checkOut(out);
    let pt = this.pTensor;
    if (!pt || pt.backend !== backend || pt.t.size !== this.p.length) {
      if (pt) pt.backend.free(pt.t);
      pt = this.pTensor = { backend, t: backend.tensor([this.p.length]), fresh: false };
    }
    if (!pt.fresh) {
      backend.write(pt.t, this.p);
      pt.fresh = true;
    }
    backend.rateSpikes(out, pt.t, this.rng);
  }
  dispose(): void {
    if (this.pTensor) this.pTensor.backend.free(this.pTensor.t);
    this.pTensor = null;
  }
}

/** Latency spike time of one intensity (steps, rounded), or −1 for no spike. Exported for tests and plots. */
export function latencyTime(x: number, mode: 'rc' | 'linear', tau: number, threshold: number): number {
  if (!(x > threshold)) return -1;
  const t = mode === 'rc' ? tau * Math.log(x / (x - threshold)) : tau * (1 - Math.min(x, 1));
  return Math.max(0, Math.round(t));
}

export class LatencyEncoder extends BaseEncoder {
  readonly name = 'latency';
  readonly kind = 'spikes' as const;
  private times = new Int32Array(0);
  readonly mode: 'rc' | 'linear';
  readonly tau: number;
  readonly threshold: number;
  private readonly steps: number;
  constructor(params: EncoderParams, steps: number | undefined) {
    super(params);
    this.mode = checkOneOf('latency.mode', params.mode, ['rc', 'linear'] as const);
    this.threshold = checkNumber('latency.threshold', params.threshold, { min: 0 });
    const normalize = checkNumber('latency.normalize', params.normalize, { min: 0, max: 1, integer: true }) === 1;
    this.steps = steps === undefined ? Infinity : checkNumber('steps', steps, { min: 1, integer: true });
    const needSteps = (why: string) => {
      if (steps === undefined) throw new ParameterError(`latency encoder: ${why} needs the number of steps; pass { steps } to createEncoder`);
      return this.steps;
    };
    if (this.mode === 'linear') {
      this.tau = params.tau === 'auto' ? needSteps('mode=linear without tau') - 1 : checkNumber('latency.tau', params.tau, { min: 0, unit: 'steps' });
    } else if (normalize) {
      this.tau = (needSteps('normalize=1') - 1) / Math.log((this.threshold + 1e-7) / 1e-7);
    } else {
      this.tau = checkNumber('latency.tau', params.tau === 'auto' ? 5 : params.tau, { min: 0, unit: 'steps' });
    }
  }
  protected override prepare(): void {
    if (this.times.length !== this.x.length) this.times = new Int32Array(this.x.length);
    for (let i = 0; i < this.x.length; i++) {
      const t = latencyTime(this.x[i], this.mode, this.tau, this.threshold);
      this.times[i] = t < this.steps ? t : -1;
    }
  }
  /** Spike time of each input (−1: none), [batch, inputSize]. */
  spikeTimes(): Int32Array {
    return this.times.slice();
  }
  protected fill(t: number): void {
    const times = this.times, o = this.out;
    for (let i = 0; i < times.length; i++) o[i] = times[i] === t ? 1 : 0;
  }
}

export class DirectEncoder extends BaseEncoder {
  readonly name = 'direct';
  readonly kind = 'current' as const;
  private readonly gain: number;
  private readonly offset: number;
  constructor(params: EncoderParams) {
    super(params);
    this.gain = checkNumber('direct.gain', params.gain);
    this.offset = checkNumber('direct.offset', params.offset);
  }
  protected override prepare(): void {
    for (let i = 0; i < this.x.length; i++) this.out[i] = this.gain * this.x[i] + this.offset;
  }
  protected fill(): void {}
}

export class DeltaEncoder extends BaseEncoder {
  readonly name = 'delta';
  readonly kind = 'spikes' as const;
  private readonly threshold: number;
  private readonly off: boolean;
  private readonly padding: boolean;
  private frames: Float32Array | null = null;
  private numFrames = 0;
  constructor(params: EncoderParams) {
    super(params);
    this.threshold = checkNumber('delta.threshold', params.threshold, { min: 0, minExclusive: true });
    this.off = checkNumber('delta.off', params.off, { min: 0, max: 1, integer: true }) === 1;
    this.padding = checkNumber('delta.padding', params.padding, { min: 0, max: 1, integer: true }) === 1;
  }
  override setInput(x: ArrayLike<number>, batch: number, inputSize: number): void {
    super.setInput(x, batch, inputSize);
    this.frames = null;
    this.numFrames = 0;
  }
  /**
   * Set a sequence of frames: `frames` holds [numFrames, batch, inputSize] row-major. Step t
   * compares frame t with frame t−1; after the last frame the input is held (no more spikes).
   */
  setSequence(frames: ArrayLike<number>, numFrames: number, batch: number, inputSize: number): void {
    checkNumber('numFrames', numFrames, { min: 1, integer: true });
    const per = batch * inputSize;
    if (frames.length !== numFrames * per) {
      throw new ShapeError(`delta encoder: frames have ${frames.length} values but [numFrames, batch, inputSize] = ${shapeString([numFrames, batch, inputSize])} needs ${numFrames * per}`);
    }
    super.setInput(Array.prototype.slice.call(frames, 0, per) as number[], batch, inputSize);
    this.frames = Float32Array.from(frames);
    this.numFrames = numFrames;
  }
  protected fill(t: number): void {
    const per = this.x.length, o = this.out, th = this.threshold;
    // Current and previous frame as (array, offset); frame −1 is zero (or the first frame with padding).
    const seq = this.frames, last = this.numFrames - 1;
    const cur = seq ?? this.x;
    const curOff = seq ? Math.min(t, last) * per : 0;
    const hasPrev = t > 0 || this.padding;
    const prevOff = seq ? (t > 0 ? Math.min(t - 1, last) * per : 0) : 0;
    for (let i = 0; i < per; i++) {
      const d = cur[curOff + i] - (hasPrev ? cur[prevOff + i] : 0);
      o[i] = d >= th ? 1 : this.off && d <= -th ? -1 : 0;
    }
  }
}

function requireRng(name: string, rng: Rng | undefined): Rng {
  if (!rng) throw new ParameterError(`${name} encoder needs a random generator; pass { rng } to createEncoder`);
  return rng;
}

registerEncoder({
  name: 'rate',
  description: 'Bernoulli spikes per step with probability clamp(gain·x, 0, 1)',
  defaults: { gain: 1 },
  create: (p, o) => new RateEncoder(p, requireRng('rate', o.rng)),
});
registerEncoder({
  name: 'latency',
  description: 'one spike per input, earlier for brighter input: t = tau·ln(x/(x−threshold)) (rc) or tau·(1−x) (linear)',
  defaults: { mode: 'rc', tau: 'auto', threshold: 0.01, normalize: 0 },
  create: (p, o) => new LatencyEncoder(p, o.steps),
});
registerEncoder({
  name: 'direct',
  description: 'no spikes: gain·x + offset fed as a current every step',
  defaults: { gain: 1, offset: 0 },
  create: (p) => new DirectEncoder(p),
});
registerEncoder({
  name: 'delta',
  description: 'spike where the input rose by >= threshold since the previous frame (off=1: −1 where it fell)',
  defaults: { threshold: 0.1, off: 0, padding: 0 },
  create: (p) => new DeltaEncoder(p),
});

/** Per-row input of every step of a learning rule's window: an encoder over [x; t0] rows, or pre-encoded rasters. */
export interface StepSource {
  /** Write the input of step t into out [rows, n]. */
  write(t: number, out: Tensor): void;
  /**
   * Write the value each input takes most often over the window into out [rows, n] (Encoder.mostLikely)
   * and return true; false (out untouched) where the source has none. Optional.
   */
  mostLikely?(out: Tensor): boolean;
}

/** What makeStepSource reads of a rule's settings: the encoder spec ('raster': x is pre-encoded), its parameters, T. */
export interface StepSourceSettings {
  encoder: string;
  encoderParams?: Record<string, number>;
  steps: number;
}

/**
 * Build the step source for `rows` = B + nt rows of per-step size n (the spiking rules' input,
 * see src/learning/sigprop-spiking.ts and bptt.ts): x holds [B, n] intensities (or [B, T·n]
 * rasters when encoder = 'raster'), t0 [nt, n] target rates (always rate-coded like x; for
 * 'raster' the targets are rate-coded). Encoders are created once per key in `enc` and reused.
 */
export function makeStepSource(
  s: StepSourceSettings, ctx: { backend: Backend; rng: Rng }, x: Float32Array, B: number, t0: Float32Array, nt: number, n: number,
  enc: Map<string, Encoder>,
): StepSource {
  const be = ctx.backend;
  const get = (key: string, spec: string, params?: Record<string, number>): Encoder => {
    let e = enc.get(key);
    if (!e) {
      const parsed = parseEncoderSpec(spec);
      enc.set(key, (e = createEncoder({ name: parsed.name, params: { ...parsed.params, ...(params ?? {}) } }, { rng: ctx.rng, steps: s.steps })));
    }
    return e;
  };
  if (s.encoder !== 'raster') {
    const e = get('main', s.encoder, s.encoderParams);
    const both = new Float32Array((B + nt) * n);
    both.set(x.subarray(0, B * n));
    both.set(t0.subarray(0, nt * n), B * n);
    e.setInput(both, B + nt, n);
    return {
      write: (t, out) => e.encode(t, out, be),
      mostLikely: (out) => {
        const m = e.mostLikely?.();
        if (!m) return false;
        be.write(out, m);
        return true;
      },
    };
  }
  const rate = get('targets', 'rate');
  if (nt > 0) rate.setInput(t0.subarray(0, nt * n), nt, n);
  const T = s.steps;
  const host = new Float32Array((B + nt) * n);
  return {
    write(t, out) {
      for (let b = 0; b < B; b++) host.set(x.subarray(b * T * n + t * n, b * T * n + (t + 1) * n), b * n);
      if (nt > 0) host.set(rate.encodeHost(t), B * n);
      be.write(out, host);
    },
  };
}
