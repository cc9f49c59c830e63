/**
 * Non-spiking sigprop MLP (the rule with T = 1), config mode 'rate'.
 *
 * Per batch: t0 = g(S·c + d) for the target rows; the input rows x and target rows t0 are
 * concatenated on the batch axis ([B + nt, inputSize]) and go through the same layers
 * a_ℓ = φ(a_{ℓ−1}·W_ℓ + b_ℓ). Layer ℓ's local loss L_ℓ(h_ℓ, t_ℓ) updates only W_ℓ, b_ℓ:
 * ∂L/∂W_ℓ = a_{ℓ−1}ᵀ·(∂L/∂a_ℓ ⊙ φ'(z_ℓ)), with a_{ℓ−1} treated as a constant (stop-gradient).
 * The readout layer learns with softmax cross-entropy on the last hidden layer's input rows only
 * (also local). Prediction: the readout's argmax or the nearest class signal.
 *
 * The layers (and the readout) are the engine's Network of stateless 'rate' units (models/rate.ts:
 * h = I, a = φ(h)) on the rule's parameter tensors, run for one step; the rule is the hook after
 * each layer (engine StepHooks.afterLayer): dropout on the layer's activity, its local loss and its
 * optimiser step, before the next layer reads the activity.
 */
import { getActivation, type Activation } from '../../models/activations.js';
import type { ExperimentConfig } from '../config/types.js';
import { Network } from '../engine/network.js';
import type { Layer, LayerSpec } from '../engine/layer.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, softmaxCELabels } from './losses.js';
import type { BatchResult, RuleContext, TrainingRule } from './rule.js';
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
  /** The engine network: the hidden 'rate' layers and the linear readout, on the rule's parameter tensors. */
  readonly net: Network;
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
    // every layer event-driven (spikeMatmul skips the zeros of ReLU activity and of dropped units)
    const specs: LayerSpec[] = [
      ...s.hidden.map((l, i) => ({ size: l.size, model: 'rate', params: { activation: s.activation }, propagation: 'event' as const, name: `layer${i}` })),
      { size: s.outputSize, model: 'rate', params: { activation: 'identity' }, propagation: 'event', name: 'readout' },
    ];
    this.net = new Network(ctx.backend, { inputSize: ctx.inputSize, dtMs: s.dtMs, inputKind: 'current', layers: specs }, rng, [...this.layers, this.readout].map((d) => d.tensors()));
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
    const input = sc.get('a.in', [rows, K]);
    input.data.set(x.subarray(0, B * K));
    applyMask(input.data, dropoutMask(this.ctx.rng, B, K, s.inputDropout));
    this.target.write(tl, input.data, B);
    let P = firstLayerTargets(sc, labels, tl);
    const layerLosses: number[] = [];
    this.stats = [];
    const L = this.layers.length;
    let ro = { loss: 0, correct: 0 };
    this.net.reset([{ name: 'input', rows: B }, { name: 'target', rows: tl.length }]);
    this.net.run({
      steps: 1,
      input: () => input,
      hooks: {
        afterLayer: (l: Layer) => {
          const i = l.index;
          if (i === L) {
            ro = this.trainReadout(headRows(sc, l.presynaptic as Tensor, B, 'last'), l.voltage(), labels, step);
            return;
          }
          const layer = this.layers[i], a = l.presynaptic as Tensor, z = l.voltage(), out = l.output();
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
        },
      },
    });
    layerLosses.push(ro.loss);
    if (targetLoss) layerLosses.unshift(targetLoss);
    return { loss: layerLosses.reduce((p, q) => p + q, 0), layerLosses, accuracy: ro.correct / B };
  }

  /** Local CE step of the readout from its input h [B, K] (input rows) and its output zAll [rows, C] (first B rows used). */
  private trainReadout(h: Tensor, zAll: Tensor, labels: ArrayLike<number>, step: number): { loss: number; correct: number } {
    const be = this.ctx.backend, ro = this.readout, B = labels.length, C = ro.outSize;
    const z = this.sc.get('ro.z', [B, C]);
    z.data.set(zAll.data.subarray(0, B * C));
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
    const sc = this.sc, K = this.ctx.inputSize, C = this.ctx.numClasses, net = this.net;
    const classRows = mode === 'classSignal' ? C : 0;
    const input = sc.get('p.in', [B + classRows, K]);
    input.data.set(x.subarray(0, B * K));
    if (classRows) this.target.write(Int32Array.from({ length: C }, (_, c) => c), input.data, B);
    net.reset([{ name: 'input', rows: B }, { name: 'target', rows: classRows }]);
    net.run({ steps: 1, input: () => input });
    if (classRows) {
      const a = this.layers.length ? net.layers[this.layers.length - 1].output() : input;
      return nearestClassSignal(a.data, B, C, a.shape[1]);
    }
    return argmaxRows(net.layers[this.layers.length].voltage().data, B, this.readout.outSize);
  }

  override dispose(): void {
    this.net.free();
    super.dispose();
  }
}
