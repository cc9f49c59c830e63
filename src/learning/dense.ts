/**
 * A dense weight layer of a local learning rule: W [in, out] (stored [in, out] so that a spike on
 * input k adds row k), bias b [out], their gradient accumulators and the layer's own optimiser.
 * Nothing here can see another layer's gradient: each DenseParams owns its optimiser state.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { ParameterError } from '../errors.js';
import type { Rng } from '../rng.js';
import { createOptimizer, scheduledLearningRate, type Optimizer, type Param } from './optimizers.js';
import { DivergenceError } from './rule.js';
import type { RuleSettings } from './settings.js';

export class DenseParams {
  readonly W: Param;
  readonly b: Param;
  /** Recurrent weights [out, out] of a recurrent layer (see src/engine/layer.ts initRecurrent), or null. */
  readonly R: Param | null;
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
    recurrent?: Float32Array,
  ) {
    const be = backend;
    const bound = settings.initScale / Math.sqrt(inSize);
    const w = rng.fillUniform(new Float32Array(inSize * outSize), -bound, bound);
    this.W = { name: `${name}.W`, value: be.fromArray([inSize, outSize], w), grad: be.tensor([inSize, outSize]) };
    this.b = { name: `${name}.b`, value: be.tensor([outSize]), grad: be.tensor([outSize]), decay: false };
    this.R = recurrent ? { name: `${name}.R`, value: be.fromArray([outSize, outSize], recurrent), grad: be.tensor([outSize, outSize]) } : null;
    this.baseLr = lr;
    this.opt = createOptimizer(be, settings.optimizer, this.params(), {
      learningRate: lr,
      momentum: settings.momentum,
      weightDecay: settings.weightDecay,
    });
  }

  /** The trained parameters: W, b and (recurrent layers) R. */
  params(): Param[] {
    return this.R ? [this.W, this.b, this.R] : [this.W, this.b];
  }

  /** The gradient accumulators as an engine layer takes them (Layer.accumulateGrad). */
  grads(): { w: Tensor; bias: Tensor; recurrent: Tensor | null } {
    return { w: this.W.grad, bias: this.b.grad, recurrent: this.R?.grad ?? null };
  }

  /** The parameter tensors as an engine layer uses them (Network constructor). */
  tensors(): { w: Tensor; bias: Tensor; recurrent?: Tensor } {
    return this.R ? { w: this.W.value, bias: this.b.value, recurrent: this.R.value } : { w: this.W.value, bias: this.b.value };
  }

  zeroGrad(): void {
    for (const p of this.params()) this.backend.fill(p.grad, 0);
  }

  /** Scale every gradient (e.g. 1/T to average per-step losses). */
  scaleGrad(s: number): void {
    for (const p of this.params()) this.backend.axpby(p.grad, p.grad, 0, s);
  }

  /**
   * Apply the optimiser, then check the weights are finite (DivergenceError names layer, step, lr).
   * check false: the optimiser step alone (kernels only, for a hook inside an engine window); the
   * caller runs checkFinite once the window is over.
   */
  step(stepIndex: number, check = true): void {
    this.opt.step();
    if (check) this.checkFinite(stepIndex);
  }

  /** Throw a DivergenceError when a weight is not finite (one device read of Σ w²). */
  checkFinite(stepIndex: number): void {
    let ss = 0;
    for (const p of this.params()) ss += this.backend.sumSquares(p.value);
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
      ...(this.R ? { [this.R.name]: this.backend.read(this.R.value) } : {}),
      ...this.opt.state(),
    };
  }

  loadState(s: Record<string, Float32Array>): void {
    for (const p of this.params()) {
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
    for (const p of this.params()) {
      this.backend.free(p.value);
      this.backend.free(p.grad);
    }
    this.opt.dispose();
  }
}

/** One DenseParams per hidden layer of `s` ('layer<i>'), the first fed by `inSize` inputs, drawn from `rng` in order. */
export function denseLayers(backend: Backend, rng: Rng, s: RuleSettings, inSize: number): DenseParams[] {
  let fanIn = inSize;
  return s.hidden.map((l, i) => {
    const d = new DenseParams(backend, rng, `layer${i}`, fanIn, l.size, s);
    fanIn = l.size;
    return d;
  });
}

/**
 * The dense parameters of an MLP-shaped network: denseLayers, then the readout ('readout'), drawn
 * from `rng` in that order; `readoutLearningRate` sets the readout's own base rate.
 */
export function denseChain(
  backend: Backend, rng: Rng, s: RuleSettings, inSize: number, readoutLearningRate: number = s.learningRate,
): { layers: DenseParams[]; readout: DenseParams } {
  const layers = denseLayers(backend, rng, s, inSize);
  const fanIn = layers.length ? layers[layers.length - 1].outSize : inSize;
  return { layers, readout: new DenseParams(backend, rng, 'readout', fanIn, s.outputSize, s, readoutLearningRate) };
}
