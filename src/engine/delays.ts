/**
 * Integer synaptic delays: a ring buffer of pending synaptic input.
 *
 * A projection W [in, out] with delays d (in steps, integers >= 0) delivers the contribution
 * x[t, k]·W[k, n] of input k to neuron n at step t + d[k, n]. The buffer holds D = max(d) + 1
 * slots, each a backend tensor [batch, out]; at step t contributions go into slot (t + d) mod D
 * and the neurons read slot t mod D. Delay 0 is the same as no delay.
 *
 * Two paths:
 * - one delay for the whole projection (`delays` a number): each step writes one slot through
 *   the backend's spikeMatmul / matmul kernel (no JS loop over weights);
 * - a delay per connection (`delays` an Int32Array [in, out]): the backend's delayedSpikeMatmul
 *   kernel, event-driven (it touches only rows k of non-zero inputs; cost ∝ active inputs × out),
 *   deposits into a ring tensor [D·batch, out]; the slot due at step t is copied into the tensor
 *   handed to the model (copySlice) and cleared (fillRows). Everything stays in backend memory;
 *   the delays live in a backend tensor [in, out] (integers as floats), also used by the online
 *   gradient (Layer.accumulateGrad, Backend.delayedOuter).
 */
import type { Backend } from '../backend/backend.js';
import { checkNumber, ParameterError, ShapeError } from '../errors.js';
import { shapeString, type Tensor } from '../tensor.js';

/** Delay specification: one integer for the whole projection, or one per connection [in, out] row-major. */
export type DelaySpec = number | Int32Array | readonly number[];

/** Validate a delay spec for a projection [inSize, outSize]; returns a number or an Int32Array. */
export function checkDelays(name: string, delays: DelaySpec, inSize: number, outSize: number): number | Int32Array {
  if (typeof delays === 'number') return checkNumber(`${name}.delays`, delays, { min: 0, max: 1e6, integer: true });
  const n = inSize * outSize;
  if (delays.length !== n) {
    throw new ShapeError(
      `${name}.delays has ${delays.length} entries but the projection W is ${shapeString([inSize, outSize])} and needs ${n} (one delay per connection, row-major [in, out])`,
    );
  }
  const out = delays instanceof Int32Array ? delays : Int32Array.from(delays);
  for (let i = 0; i < n; i++) {
    const d = delays[i];
    if (!Number.isInteger(d) || d < 0 || d > 1e6) {
      throw new ParameterError(
        `${name}.delays[${i}] (input ${Math.floor(i / outSize)}, neuron ${i % outSize}) = ${d}; delays must be integers with 0 <= d <= 1000000 (steps)`,
      );
    }
  }
  return out;
}

/** Largest delay of a validated spec. */
export function maxDelay(delays: number | Int32Array): number {
  if (typeof delays === 'number') return delays;
  let m = 0;
  for (let i = 0; i < delays.length; i++) if (delays[i] > m) m = delays[i];
  return m;
}

/** Ring buffer of pending synaptic input for one projection. */
export class DelayLine {
  /** Number of slots, max delay + 1. */
  readonly slots: number;
  /** Uniform path: D backend tensors [batch, out]. */
  private readonly buf: Tensor[] = [];
  /** Per-connection path: the ring [D·batch, out] and the tensor handed to the model [batch, out]. */
  private ring: Tensor | null = null;
  private due: Tensor | null = null;
  /** Per-connection path: the delays as a backend tensor [in, out] (allocated on first reset). */
  private delayT: Tensor | null = null;
  private readonly uniform: number | null;
  private readonly perConnection: Int32Array | null;
  private batch = 0;

  constructor(
    private readonly backend: Backend,
    readonly inSize: number,
    readonly outSize: number,
    delays: number | Int32Array,
  ) {
    this.slots = maxDelay(delays) + 1;
    this.uniform = typeof delays === 'number' ? delays : null;
    this.perConnection = typeof delays === 'number' ? null : delays;
  }

  /** Per-connection path: the delays as a backend tensor [in, out] (after reset), else null. */
  delayTensor(): Tensor | null {
    return this.delayT;
  }

  /** The delays per connection (a copy), or the single delay. */
  delays(): number | Int32Array {
    return this.perConnection ? this.perConnection.slice() : (this.uniform as number);
  }

  /** (Re)allocate the slots for `batch` rows and clear all pending input. */
  reset(batch: number): void {
    const D = this.slots;
    if (this.perConnection && !this.delayT) this.delayT = this.backend.fromArray([this.inSize, this.outSize], this.perConnection);
    if (batch !== this.batch) {
      this.freeTensors();
      if (this.uniform !== null) {
        for (let i = 0; i < D; i++) this.buf.push(this.backend.tensor([batch, this.outSize]));
      } else {
        this.ring = this.backend.tensor([D * batch, this.outSize]);
        this.due = this.backend.tensor([batch, this.outSize]);
      }
      this.batch = batch;
    } else {
      for (const t of this.buf) this.backend.fill(t, 0);
      if (this.ring) this.backend.fill(this.ring, 0);
      if (this.due) this.backend.fill(this.due, 0);
    }
  }

  /**
   * Deposit the input x [batch, in] of step t through W [in, out] and return the tensor
   * [batch, out] of input due at step t (valid until the next call). Steps must come in order
   * t = 0, 1, 2, ... after reset. `eventDriven` selects spikeMatmul (true) or dense matmul
   * (false) on the uniform path; the per-connection path is always event-driven.
   */
  push(t: number, x: Tensor, w: Tensor, eventDriven: boolean): Tensor {
    const D = this.slots;
    if (this.uniform !== null) {
      const target = this.buf[(t + this.uniform) % D];
      if (eventDriven) this.backend.spikeMatmul(target, x, w, 0);
      else this.backend.matmul(target, x, w);
      return this.buf[t % D];
    }
    const B = this.batch, BN = B * this.outSize, slot = t % D;
    if (x.shape.length !== 2 || x.shape[0] !== B || x.shape[1] !== this.inSize) {
      throw new ShapeError(`delays: input has shape ${shapeString(x.shape)} but ${shapeString([B, this.inSize])} is needed`);
    }
    const ring = this.ring as Tensor, due = this.due as Tensor;
    this.backend.delayedSpikeMatmul(ring, x, w, this.delayT as Tensor, t);
    this.backend.copySlice(due, 0, ring, slot * BN, BN);
    this.backend.fillRows(ring, slot * B, (slot + 1) * B, 0); // consumed; this slot is the target of delay D−1 at step t+1
    return due;
  }

  private freeTensors(): void {
    for (const t of this.buf) this.backend.free(t);
    this.buf.length = 0;
    if (this.due) this.backend.free(this.due);
    if (this.ring) this.backend.free(this.ring);
    this.due = this.ring = null;
  }

  /** Release the buffers. */
  free(): void {
    this.freeTensors();
    if (this.delayT) this.backend.free(this.delayT);
    this.delayT = null;
    this.batch = 0;
  }
}
