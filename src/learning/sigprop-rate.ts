/**
 * Non-spiking sigprop MLP (the rule with T = 1), config mode 'rate'.
 *
 * Per batch: t0 = g(S·c + d) for the target rows; the input rows x and target rows t0 are
 * concatenated on the batch axis ([B + nt, inputSize]) and go through the same layers
 * a_ℓ = φ(a_{ℓ−1}·W_ℓ + b_ℓ). Layer ℓ's local loss L_ℓ(h_ℓ, t_ℓ) updates only W_ℓ, b_ℓ:
 * ∂L/∂W_ℓ = a_{ℓ−1}ᵀ·(∂L/∂a_ℓ ⊙ φ'(z_ℓ)), with a_{ℓ−1} treated as a constant (stop-gradient).
 * The readout layer learns with softmax cross-entropy on the last hidden layer's input rows only
 * (also local). Prediction: the readout's argmax or the nearest class signal.
 */
import { getActivation, type Activation } from '../../models/activations.js';
import type { ExperimentConfig } from '../config/types.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, softmaxCELabels } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import {
  SigpropBlocks, applyMask, dropoutMask, firstLayerTargets, localLossValue, nearestClassSignal, nextLayerTargets, targetRowLabels, zeroTargetRows,
} from './sigprop-common.js';
import { TargetGenerator } from './target.js';

/** Forward one dense layer over all rows: z = a·W + b, a' = φ(z). */
export function denseForward(sc: Scratch, layer: DenseParams, aPrev: Tensor, phi: Activation, tag: string): { z: Tensor; a: Tensor } {
  const be = layer.backend, rows = aPrev.shape[0];
  const z = sc.get(`z.${tag}`, [rows, layer.outSize]);
  be.spikeMatmul(z, aPrev, layer.W.value);
  be.addRow(z, layer.b.value);
  const a = sc.get(`a.${tag}`, [rows, layer.outSize]);
  const Z = z.data, A = a.data;
  for (let i = 0; i < Z.length; i++) A[i] = phi.f(Z[i]);
  return { z, a };
}

/** Copy the first B rows of r into a [B, N] scratch tensor. */
export function headRows(sc: Scratch, r: Tensor, B: number, tag: string): Tensor {
  const n = r.shape[1];
  const h = sc.get(`head.${tag}`, [B, n]);
  h.data.set(r.data.subarray(0, B * n));
  return h;
}

export class RateSigprop extends SigpropBlocks implements TrainingRule {
  readonly name = 'sigprop';
  readonly settings: RuleSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  readonly target: TargetGenerator;
  /** Multiplier of each hidden layer's local loss (ablations; 0 switches a layer's learning off). */
  lossWeights: number[];
  private readonly phi: Activation;
  protected readonly sc: Scratch;
  private stepIndex = 0;

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    super();
    const s = (this.settings = resolveRuleSettings(config));
    this.phi = getActivation(s.activation);
    this.sc = new Scratch(ctx.backend);
    const rng = ctx.rng;
    this.target = new TargetGenerator(ctx.backend, rng, ctx.numClasses, ctx.inputSize, s);
    let fanIn = ctx.inputSize;
    this.layers = s.hidden.map((l, i) => {
      const d = new DenseParams(ctx.backend, rng, `layer${i}`, fanIn, l.size, s);
      fanIn = l.size;
      return d;
    });
    this.readout = new DenseParams(ctx.backend, rng, 'readout', fanIn, s.outputSize, s);
    this.lossWeights = this.layers.map(() => 1);
  }

  describe(): string {
    const s = this.settings;
    return `sigprop (rate, T=1) ${[this.ctx.inputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} ` +
      `loss=${s.loss} φ=${s.activation} target=${s.targetProjection} predict=${s.predict} ${s.optimizer} lr=${s.learningRate}`;
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const s = this.settings, be = this.ctx.backend, sc = this.sc, B = labels.length, K = this.ctx.inputSize;
    const step = ++this.stepIndex;
    const targetLoss = this.target.update(sc, x, labels, step);
    const tl = targetRowLabels(s.loss, labels, this.ctx.numClasses);
    const rows = B + tl.length;
    let a = sc.get('a.in', [rows, K]);
    a.data.set(x.subarray(0, B * K));
    applyMask(a.data, dropoutMask(this.ctx.rng, B, K, s.inputDropout));
    this.target.write(tl, a.data, B);
    let P = firstLayerTargets(sc, labels, tl);
    const layerLosses: number[] = [];
    this.stats = [];
    this.layers.forEach((layer, i) => {
      const { z, a: out } = denseForward(sc, layer, a, this.phi, String(i));
      const mask = dropoutMask(this.ctx.rng, B, layer.outSize, s.dropout);
      applyMask(out.data, mask); // the loss, the next layer and the readout see the dropped units
      const g = sc.get(`g.${i}`, [rows, layer.outSize]);
      const loss = localLossValue(s.loss, be, sc, out, B, P, g, s.sim);
      layerLosses.push(loss);
      if (s.detachTarget) zeroTargetRows(g, B);
      applyMask(g.data, mask);
      const G = g.data, Z = z.data, w = this.lossWeights[i];
      for (let k = 0; k < G.length; k++) G[k] *= w * this.phi.df(Z[k]);
      layer.zeroGrad();
      be.spikeOuter(layer.W.grad, a, g, 1);
      be.sumRows(layer.b.grad, g);
      layer.step(step);
      this.stats.push({ layer: i, label: `${layer.name} (${s.activation}, ${layer.outSize})`, weightNorm: layer.weightNorm(), meanActivity: be.sum(out) / out.size, learningRate: layer.opt.learningRate });
      P = nextLayerTargets(s.loss, be, sc, out, B, P, s.sim);
      a = out;
    });
    const { loss: roLoss, correct } = this.trainReadout(headRows(sc, a, B, 'last'), labels, step);
    layerLosses.push(roLoss);
    if (targetLoss) layerLosses.unshift(targetLoss);
    return { loss: layerLosses.reduce((p, q) => p + q, 0), layerLosses, accuracy: correct / B };
  }

  private trainReadout(h: Tensor, labels: ArrayLike<number>, step: number): { loss: number; correct: number } {
    const be = this.ctx.backend, ro = this.readout, B = labels.length, C = ro.outSize;
    const z = this.sc.get('ro.z', [B, C]);
    be.spikeMatmul(z, h, ro.W.value);
    be.addRow(z, ro.b.value);
    const res = softmaxCELabels(be, this.sc, z, labels, z);
    ro.zeroGrad();
    be.spikeOuter(ro.W.grad, h, z, 1);
    be.sumRows(ro.b.grad, z);
    ro.step(step);
    this.stats.push({ layer: this.layers.length, label: `readout (${C})`, weightNorm: ro.weightNorm(), learningRate: ro.opt.learningRate });
    return res;
  }

  predict(x: Float32Array, B: number): Int32Array {
    return this.predictWith(x, B, this.settings.predict);
  }

  /** Predict with an explicit method ('readout' or 'classSignal'), whatever the configured one. */
  predictWith(x: Float32Array, B: number, mode: 'readout' | 'classSignal'): Int32Array {
    const s = this.settings, sc = this.sc, K = this.ctx.inputSize, C = this.ctx.numClasses;
    const classRows = mode === 'classSignal' ? C : 0;
    let a = sc.get('p.in', [B + classRows, K]);
    a.data.set(x.subarray(0, B * K));
    if (classRows) this.target.write(Int32Array.from({ length: C }, (_, c) => c), a.data, B);
    this.layers.forEach((layer, i) => (a = denseForward(sc, layer, a, this.phi, `p${i}`).a));
    if (classRows) return nearestClassSignal(a.data, B, C, a.shape[1]);
    const z = sc.get('p.z', [B, this.readout.outSize]);
    this.ctx.backend.spikeMatmul(z, headRows(sc, a, B, 'plast'), this.readout.W.value);
    this.ctx.backend.addRow(z, this.readout.b.value);
    return argmaxRows(z.data, B, this.readout.outSize);
  }

}
