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
 * optimiser step, before the next layer reads the activity. The hooks run only Backend kernels
 * (dropout masks and the readout's one-hot targets are written before the window; losses, accuracy
 * and layer statistics are read back after it).
 */
import type { ExperimentConfig } from '../config/types.js';
import { Network } from '../engine/network.js';
import type { Layer, LayerSpec } from '../engine/layer.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, countCorrect, lossAccumulator, readLoss } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import {
  SigpropBlocks, applyMask, dropoutMask, dropoutMaskTensor, firstLayerTargets, inputRowTargets, localLosses, nearestClassSignal, nextLayerTargets,
  targetRowLabels, zeroTargetRows,
} from './sigprop-common.js';
import { TargetGenerator } from './target.js';

/**
 * The engine network of a rate (T = 1) MLP on the rule's parameter tensors: hidden 'rate' layers
 * h = W·x + b, a = φ(h), and a linear readout (a 'rate' layer with the identity), every projection
 * through spikeMatmul (cost ∝ non-zero inputs, e.g. ReLU zeros and black pixels).
 */
export function rateNetwork(ctx: RuleContext, s: RuleSettings, layers: DenseParams[], readout: DenseParams, rng: Rng): Network {
  const specs: LayerSpec[] = [
    ...s.hidden.map((l, i) => ({ size: l.size, model: 'rate', params: { activation: s.activation }, propagation: 'event' as const, name: `layer${i}` })),
    { size: s.outputSize, model: 'rate', params: { activation: 'identity' }, propagation: 'event', name: 'readout' },
  ];
  return new Network(ctx.backend, { inputSize: ctx.inputSize, dtMs: s.dtMs, inputKind: 'current', layers: specs }, rng, [...layers, readout].map((d) => d.tensors()));
}

/**
 * One step of a rateNetwork on x [B, inputSize] (written into scratch tensor 'in'): each hidden
 * layer's pre-activation z, the activities a (the input first) and the readout's logits, valid
 * until the network's next reset. The forward pass of the rules that send an error back through
 * the MLP afterwards (bp, fa, dfa).
 */
export function rateForward(net: Network, sc: Scratch, inputSize: number, x: Float32Array, B: number): { zs: Tensor[]; as: Tensor[]; logits: Tensor } {
  const input = sc.get('in', [B, inputSize]);
  net.backend.write(input, x.subarray(0, B * inputSize));
  net.reset(B);
  net.run({ steps: 1, input: () => input });
  const hidden = net.layers.slice(0, -1);
  return { zs: hidden.map((l) => l.voltage()), as: [input, ...hidden.map((l) => l.output())], logits: net.layers[hidden.length].output() };
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
  protected readonly sc: Scratch;
  private stepIndex = 0;

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    super();
    const s = (this.settings = resolveRuleSettings(config));
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
    this.net = rateNetwork(ctx, s, this.layers, this.readout, rng);
  }

  describe(): string {
    const s = this.settings;
    return `sigprop (rate, T=1) ${[this.ctx.inputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} ` +
      `loss=${s.loss} φ=${s.activation} target=${s.targetProjection} predict=${s.predict} ${s.optimizer} lr=${s.learningRate}`;
  }

  get network(): Network {
    return this.net;
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const step = ++this.stepIndex;
    const targetLoss = this.target.update(x, labels, step);
    return this.finishBatch(this.deviceBatch(x, labels, step, true), labels, targetLoss);
  }

  /** trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, a sync before each read. */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    const step = ++this.stepIndex;
    const targetLoss = await this.target.updateAsync(x, labels, step);
    const lossAcc = this.deviceBatch(x, labels, step, false);
    const L = this.layers.length;
    await this.ctx.backend.sync?.([...lossAcc, ...this.net.layers.slice(0, L).map((l) => l.output()), this.net.layers[L].voltage()]);
    return this.finishBatch(lossAcc, labels, targetLoss);
  }

  /**
   * The device part of a batch: the window with every layer's local update (kernels only), then with
   * `check` every layer's finiteness check; returns the loss accumulators (the readout's last).
   */
  private deviceBatch(x: Float32Array, labels: ArrayLike<number>, step: number, check: boolean): Tensor[] {
    const s = this.settings, be = this.ctx.backend, sc = this.sc, B = labels.length, K = this.ctx.inputSize;
    const tl = targetRowLabels(s.loss, labels, this.ctx.numClasses);
    const rows = B + tl.length;
    const input = sc.get('a.in', [rows, K]);
    const inputHost = new Float32Array(rows * K);
    inputHost.set(x.subarray(0, B * K));
    applyMask(inputHost, dropoutMask(this.ctx.rng, B, K, s.inputDropout));
    this.target.write(tl, inputHost, B);
    be.write(input, inputHost);
    let P = firstLayerTargets(sc, labels, tl);
    const L = this.layers.length, C = this.readout.outSize;
    // work tensors of the hooks, and the dropout masks (drawn in layer order, as the hooks used to)
    const st = this.layers.map((layer, i) => ({
      g: sc.get(`g.${i}`, [rows, layer.outSize]),
      d: sc.get(`d.${i}`, [rows, layer.outSize]),
      mask: dropoutMaskTensor(be, sc, this.ctx.rng, `m.${i}`, B, rows, layer.outSize, s.dropout),
    }));
    const lossAcc = Array.from({ length: L + 1 }, (_, i) => lossAccumulator(sc, `loss.${i}`));
    const roP = inputRowTargets(be, sc, 'ro.P', labels, rows, C);
    const dz = sc.get('ro.dz', [rows, C]);
    this.net.reset([{ name: 'input', rows: B }, { name: 'target', rows: tl.length }]);
    this.net.run({
      steps: 1,
      input: () => input,
      hooks: {
        afterLayer: (l: Layer) => {
          const i = l.index;
          if (i === L) {
            this.trainReadout(l.presynaptic as Tensor, l.voltage(), roP, dz, lossAcc[L], B, step);
            return;
          }
          const layer = this.layers[i], q = st[i], a = l.presynaptic as Tensor, z = l.voltage(), out = l.output();
          if (q.mask) be.mul(out, out, q.mask); // the loss, the next layer and the readout see the dropped units
          localLosses[s.loss](be, sc, out, B, P, q.g, s.sim, lossAcc[i]);
          if (s.detachTarget) zeroTargetRows(be, q.g, B);
          if (q.mask) be.mul(q.g, q.g, q.mask);
          // g ⊙ w·φ'(z)
          be.activation(q.d, z, s.activation, true);
          const w = this.lossWeights[i];
          if (w !== 1) be.axpby(q.d, q.d, w, 0);
          be.mul(q.g, q.g, q.d);
          layer.zeroGrad();
          be.spikeOuter(layer.W.grad, a, q.g, 1);
          be.sumRows(layer.b.grad, q.g);
          layer.step(step, false); // finiteness checked after the window
          P = nextLayerTargets(s.loss, be, sc, out, B, P, s.sim);
        },
      },
    });
    // divergence check once the window is over (a host read)
    if (check) for (const l of [...this.layers, this.readout]) l.checkFinite(step);
    return lossAcc;
  }

  /** The read part of a batch: per-layer activity, accuracy and losses, read back from the window's tensors. */
  private finishBatch(lossAcc: Tensor[], labels: ArrayLike<number>, targetLoss: number): BatchResult {
    const s = this.settings, be = this.ctx.backend, B = labels.length, L = this.layers.length, C = this.readout.outSize;
    this.stats = this.layers.map((layer, i) => {
      const out = this.net.layers[i].output();
      return { layer: i, label: `${layer.name} (${s.activation}, ${layer.outSize})`, weightNorm: NaN, meanActivity: be.sum(out) / out.size, learningRate: layer.opt.learningRate };
    });
    this.stats.push({ layer: L, label: `readout (${C})`, weightNorm: NaN, learningRate: this.readout.opt.learningRate });
    const correct = countCorrect(be.read(this.net.layers[L].voltage()), labels, C);
    const layerLosses = lossAcc.map((t) => readLoss(be, t));
    if (targetLoss) layerLosses.unshift(targetLoss);
    return { loss: layerLosses.reduce((p, q) => p + q, 0), layerLosses, accuracy: correct / B };
  }

  /** Per-layer statistics of the last batch; the weight norms are those of the weights now (read here, not per batch). */
  override layerStats(): LayerStats[] {
    const chain = [...this.layers, this.readout];
    return this.stats.map((st, i) => ({ ...st, weightNorm: chain[i].weightNorm() }));
  }

  /**
   * Local CE step of the readout from its input h [rows, K] and its output zAll [rows, C]: softmax
   * CE over the input rows (roP is zero on the target rows, whose gradient rows are then zeroed,
   * so they add nothing to the update).
   */
  private trainReadout(h: Tensor, zAll: Tensor, roP: Tensor, dz: Tensor, loss: Tensor, B: number, step: number): void {
    const be = this.ctx.backend, ro = this.readout;
    be.softmaxCrossEntropy(loss, dz, zAll, roP, { lossDivisor: B, gradDivisor: B });
    be.fillRows(dz, B, dz.shape[0], 0);
    ro.zeroGrad();
    be.spikeOuter(ro.W.grad, h, dz, 1);
    be.sumRows(ro.b.grad, dz);
    ro.step(step, false); // finiteness checked after the window
  }

  predict(x: Float32Array, B: number): Int32Array {
    return this.predictWith(x, B, this.settings.predict);
  }

  /** predict on a backend with asynchronous read-back (rule.ts): the same kernels, a sync before the read. */
  async predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    await this.target.syncHost(); // the class-signal rows read S and d
    const read = this.predictDevice(x, B, this.settings.predict);
    await this.ctx.backend.sync?.([read]);
    return this.predictRead(read, B, this.settings.predict);
  }

  /** Predict with an explicit method ('readout' or 'classSignal'), whatever the configured one. */
  predictWith(x: Float32Array, B: number, mode: 'readout' | 'classSignal'): Int32Array {
    return this.predictRead(this.predictDevice(x, B, mode), B, mode);
  }

  /** The classes from the tensor a prediction reads (the last hidden layer's output, or the readout). */
  private predictRead(t: Tensor, B: number, mode: 'readout' | 'classSignal'): Int32Array {
    if (mode === 'classSignal') return nearestClassSignal(this.ctx.backend.read(t), B, this.ctx.numClasses, t.shape[1]);
    return argmaxRows(this.ctx.backend.read(t), B, this.readout.outSize);
  }

  /** The prediction window (kernels only); returns the tensor predictRead reads. */
  private predictDevice(x: Float32Array, B: number, mode: 'readout' | 'classSignal'): Tensor {
    const sc = this.sc, K = this.ctx.inputSize, C = this.ctx.numClasses, net = this.net;
    const classRows = mode === 'classSignal' ? C : 0;
    const input = sc.get('p.in', [B + classRows, K]);
    const inputHost = new Float32Array((B + classRows) * K);
    inputHost.set(x.subarray(0, B * K));
    if (classRows) this.target.write(Int32Array.from({ length: C }, (_, c) => c), inputHost, B);
    this.ctx.backend.write(input, inputHost);
    net.reset([{ name: 'input', rows: B }, { name: 'target', rows: classRows }]);
    net.run({ steps: 1, input: () => input });
    if (classRows) return this.layers.length ? net.layers[this.layers.length - 1].output() : input;
    return net.layers[this.layers.length].voltage();
  }

  override dispose(): void {
    this.net.free();
    super.dispose();
  }
}
