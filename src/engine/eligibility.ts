/**
 * Presynaptic eligibility traces kept by the engine for online learning rules.
 *
 * A model declares how its voltage responds to its input current (`inputResponse`, models/model.ts):
 * a chain of first-order filters with decays d₁..dₘ and a gain. For a projection I[t] = x[t]·W,
 *   e⁽¹⁾[t] = d₁·e⁽¹⁾[t−1] + x[t],   e⁽ᵐ⁾[t] = dₘ·e⁽ᵐ⁾[t−1] + e⁽ᵐ⁻¹⁾[t],
 * and ∂V[t]/∂W_kj = gain · e_k[t] (exact for models linear in their input between resets, a
 * factorised approximation otherwise). A bias is an input that is always 1; its trace is a scalar
 * per layer. 'instant' eligibility drops the filters: e[t] = x[t] (and the bias trace is 1).
 * Memory: m tensors [rows, inputs] per projection, whatever the number of steps.
 */
import type { Backend } from '../backend/backend.js';
import { ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { InputResponse } from '../../models/model.js';

/** 'trace': the model's exact (or factorised) filter chain; 'instant': e[t] = x[t]. */
export type EligibilityMode = 'trace' | 'instant';
export const ELIGIBILITY_MODES: readonly EligibilityMode[] = ['trace', 'instant'];

/** The filter-chain trace of one projection's input, for `rows` rows. */
export class InputTrace {
  private readonly stages: Tensor[];
  private readonly biasStages: number[];
  private last: Tensor | null = null;
  /** Steps since reset advanced by skip(): the tensor no longer holds the trace (reset clears it). */
  private stale = false;

  constructor(
    readonly backend: Backend,
    readonly rows: number,
    readonly inSize: number,
    readonly response: InputResponse,
    readonly mode: EligibilityMode,
  ) {
    if (response.decays.length < 1) throw new ParameterError('inputResponse.decays must hold at least one decay');
    const m = mode === 'trace' ? response.decays.length : 0;
    this.stages = Array.from({ length: m }, () => backend.tensor([rows, inSize]));
    this.biasStages = new Array<number>(m).fill(0);
  }

  /** ∂V/∂(trace): the model's gain. */
  get gain(): number {
    return this.response.gain;
  }

  /** Back to zero (start of a window). */
  reset(): void {
    for (const s of this.stages) this.backend.fill(s, 0);
    this.biasStages.fill(0);
    this.last = null;
    this.stale = false;
  }

  /** Advance with this step's presynaptic input x [rows, inSize]. */
  update(x: Tensor): void {
    this.last = x;
    const d = this.response.decays;
    for (let m = 0; m < this.stages.length; m++) {
      this.backend.axpby(this.stages[m], m === 0 ? x : this.stages[m - 1], 1, d[m]);
      this.advanceBias(m);
    }
  }

  /**
   * Advance the bias trace only, for a step after which nobody reads the tensor trace again before
   * the next reset (Layer's gathered updates in the last chunk of a window): the tensor is left
   * behind, and value() refuses to return it until reset().
   */
  skip(x: Tensor): void {
    this.last = x;
    for (let m = 0; m < this.stages.length; m++) this.advanceBias(m);
    if (this.stages.length) this.stale = true;
  }

  private advanceBias(m: number): void {
    const d = this.response.decays[m];
    this.biasStages[m] = d * this.biasStages[m] + (m === 0 ? 1 : this.biasStages[m - 1]);
  }

  /** The trace e [rows, inSize] of the last step (x itself in 'instant' mode). */
  value(): Tensor {
    if (this.stale) {
      throw new ParameterError(
        'eligibility trace read after steps that skipped it: the layer was told its windows last fewer steps (Layer.enableGradChunks(steps, windowSteps)) ' +
        'than this one; reset() between windows of at most windowSteps steps, or pass windowSteps 0',
      );
    }
    if (this.stages.length) return this.stages[this.stages.length - 1];
    if (!this.last) throw new ParameterError('eligibility trace read before the first step of the window');
    return this.last;
  }

  /** The bias trace (the trace of a constant input 1). */
  biasValue(): number {
    return this.biasStages.length ? this.biasStages[this.biasStages.length - 1] : 1;
  }

  /** Bytes held. */
  bytes(): number {
    return this.stages.length * this.rows * this.inSize * 4;
  }

  free(): void {
    for (const s of this.stages) this.backend.free(s);
    this.stages.length = 0;
  }
}
