/**
 * A dense weight layer of a local learning rule: W [in, out] (stored [in, out] so that a spike on
 * input k adds row k), bias b [out], their gradient accumulators and the layer's own optimiser.
 * Nothing here can see another layer's gradient: each DenseParams owns its optimiser state.
 */
import type { Backend } from '../backend/backend.js';
import { ParameterError } from '../errors.js';
import type { Rng } from '../rng.js';
import { createOptimizer, scheduledLearningRate, type Optimizer, type Param } from './optimizers.js';
import { DivergenceError } from './rule.js';
import type { RuleSettings } from './settings.js';

export class DenseParams {
  readonly W: Param;
  readonly b: Param;
  readonly opt: Optimizer;
  private readonly baseLr: number;

  /**
   * @param name   checkpoint prefix and label, e.g. 'layer0'
   * @param inSize fan-in K; @param outSize fan-out N
   * @param lr     base learning rate of this layer (defaults to the settings' rate)
   */
  constructor(
    readonly backend: Backend,
    rng: Rng,
    readonly name: string,
    readonly inSize: number,
    readonly outSize: number,
    readonly settings: RuleSettings,
    lr = settings.learningRate,
  ) {
    const be = backend;
    const bound = settings.initScale / Math.sqrt(inSize);
    const w = rng.fillUniform(new Float32Array(inSize * outSize), -bound, bound);
    this.W = { name: `${name}.W`, value: be.fromArray([inSize, outSize], w), grad: be.tensor([inSize, outSize]) };
    this.b = { name: `${name}.b`, value: be.tensor([outSize]), grad: be.tensor([outSize]), decay: false };
    this.baseLr = lr;
    this.opt = createOptimizer(be, settings.optimizer, [this.W, this.b], {
      learningRate: lr,
      momentum: settings.momentum,
      weightDecay: settings.weightDecay,
    });
  }

  zeroGrad(): void {
    this.backend.fill(this.W.grad, 0);
    this.backend.fill(this.b.grad, 0);
  }

  /** Scale both gradients (e.g. 1/T to average per-step losses). */
  scaleGrad(s: number): void {
    this.backend.axpby(this.W.grad, this.W.grad, 0, s);
    this.backend.axpby(this.b.grad, this.b.grad, 0, s);
  }

  /** Apply the optimiser, then check the weights are finite (DivergenceError names layer, step, lr). */
  step(stepIndex: number): void {
    this.opt.step();
    const ss = this.backend.sumSquares(this.W.value) + this.backend.sumSquares(this.b.value);
    if (!Number.isFinite(ss)) throw new DivergenceError(this.name, stepIndex, this.opt.learningRate);
  }

  setEpoch(epoch: number): void {
    this.opt.learningRate = scheduledLearningRate(this.baseLr, epoch, this.settings.schedule);
  }

  weightNorm(): number {
    return Math.sqrt(this.backend.sumSquares(this.W.value));
  }

  state(): Record<string, Float32Array> {
    return {
      [this.W.name]: this.backend.read(this.W.value),
      [this.b.name]: this.backend.read(this.b.value),
      ...this.opt.state(),
    };
  }

  loadState(s: Record<string, Float32Array>): void {
    for (const p of [this.W, this.b]) {
      const v = s[p.name];
      if (!v) throw new ParameterError(`checkpoint has no "${p.name}"; it was written for another network`);
      if (v.length !== p.value.size) {
        throw new ParameterError(`checkpoint "${p.name}" has ${v.length} values but this network needs ${p.value.size} (shape ${p.value.shape.join('x')})`);
      }
      this.backend.write(p.value, v);
    }
    this.opt.loadState(s);
  }

  dispose(): void {
    for (const t of [this.W.value, this.W.grad, this.b.value, this.b.grad]) this.backend.free(t);
    this.opt.dispose();
  }
}
