/**
 * Forward-Forward on the rate MLP (Hinton 2022; reference implementation loeweX/Forward-Forward),
 * config rule 'ff', mode 'rate'.
 *
 * Per batch three streams of one engine batch go through the same layers: 'positive' (the sample
 * with its true label one-hot in the first input pixels), 'negative' (the same sample with a label
 * drawn uniformly from the wrong ones, never the true one) and, with ffPredict 'classifier',
 * 'neutral' (every label pixel 1/C). The input rows are length-normalised, and so is each layer's
 * activity before the next layer reads it (ffNorm: 'rms' y/√mean y² as loeweX, 'l2' or 'none').
 *
 * Layer ℓ's hook (engine StepHooks.afterLayer) takes y = φ(z), its goodness G = Σ y² (ffGoodness
 * 'sum') or mean y², p = σ(G − θ) (θ: ffThreshold, default the layer width for 'sum' as loeweX, 1
 * for 'mean') and the mean binary cross-entropy of p against 1 on the positive rows and 0 on the
 * negative ones (Backend.ffGoodness, softplus form), plus loeweX's optional peer normalisation
 * (Backend.ffPeerNorm). The gradient reaches z unchanged (loeweX's ReLU_full_grad; ffStraightThrough
 * false multiplies by φ'(z)), and layer ℓ's optimiser steps with ∂L/∂W_ℓ = xᵀ·∂L/∂z, x the
 * normalised input the layer saw. The next layer's input is a constant: no gradient crosses layers.
 *
 * Prediction ('goodness'): every sample is run once per label (B·C rows of one batch) and the
 * label with the highest goodness summed over the layers (the first left out with ffSkipFirst, as
 * Hinton and loeweX) wins. 'classifier' (loeweX's evaluation): a linear softmax classifier, zero
 * at init, on the normalised activity of the neutral rows of the predicting layers (concatenated;
 * here one weight block per layer, summed), trained by its own local cross-entropy; it predicts
 * from one neutral pass.
 */
import type { ExperimentConfig } from '../config/types.js';
import { Network } from '../engine/network.js';
import type { Layer, LayerSpec } from '../engine/layer.js';
import type { Tensor } from '../tensor.js';
import { DenseParams, denseLayers } from './dense.js';
import { argmaxRows, countCorrect, lossAccumulator, readLoss, syncedArgmax } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import {
  candidateRows, cooldownFactor, embeddedWidth, embedRows, lengthNorm, predictingLayers, resolveFfSettings, wrongLabel, type FfSettings,
} from './forward-forward-common.js';

export class ForwardForward implements TrainingRule {
  readonly name = 'ff';
  readonly settings: RuleSettings;
  readonly ff: FfSettings;
  readonly layers: DenseParams[];
  /** The classifier's weight block per predicting layer (ffPredict 'classifier'), else empty. */
  readonly classifier: DenseParams[];
  /** The engine network of the hidden 'rate' layers, on the rule's parameter tensors. */
  readonly net: Network;
  /** Per-sample input width (inputSize, + numClasses when the label is prepended). */
  readonly inputWidth: number;
  /** Threshold θ of each layer. */
  readonly thresholds: number[];
  /** Layers whose goodness (or activity) prediction uses. */
  readonly predicting: number[];
  /** Peer-normalisation running means per layer (ffPeerNorm > 0), else empty. */
  readonly running: Tensor[];
  private readonly sc: Scratch;
  private readonly epochs: number;
  private stepIndex = 0;
  private stats: LayerStats[] = [];

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    const s = (this.settings = resolveRuleSettings(config));
    const ff = (this.ff = resolveFfSettings(config, s.hidden.length, s.learningRate, s.weightDecay));
    const be = ctx.backend, rng = ctx.rng, C = ctx.numClasses;
    this.sc = new Scratch(be);
    this.epochs = config.epochs ?? 1;
    this.inputWidth = embeddedWidth(ctx.inputSize, C, ff.embed);
    this.layers = denseLayers(be, rng, s, this.inputWidth);
    this.thresholds = s.hidden.map((l) => ff.threshold ?? (ff.goodness === 'sum' ? l.size : 1));
    this.predicting = predictingLayers(this.layers.length, ff.skipFirst);
    const cs = { ...s, weightDecay: ff.classifierDecay };
    this.classifier = ff.predict === 'classifier'
      ? this.predicting.map((i) => {
        const d = new DenseParams(be, rng, `classifier${i}`, this.layers[i].outSize, C, cs, ff.classifierLr);
        be.fill(d.W.value, 0); // zero at init, as loeweX
        return d;
      })
      : [];
    this.running = ff.peerNorm > 0 ? this.layers.map((l) => be.fromArray([l.outSize], new Float32Array(l.outSize).fill(0.5))) : [];
    const specs: LayerSpec[] = s.hidden.map((l, i) => ({ size: l.size, model: 'rate', params: { activation: s.activation }, propagation: 'event' as const, name: `layer${i}` }));
    this.net = new Network(be, { inputSize: this.inputWidth, dtMs: s.dtMs, inputKind: 'current', layers: specs }, rng, this.layers.map((d) => d.tensors()));
  }

  get network(): Network {
    return this.net;
  }

  describe(): string {
    const s = this.settings, ff = this.ff;
    return `ff (rate) ${[this.inputWidth, ...s.hidden.map((l) => l.size)].join('-')} φ=${s.activation} goodness=${ff.goodness} θ=${this.thresholds.join('/')} ` +
      `norm=${ff.norm} embed=${ff.embed} predict=${ff.predict}${ff.skipFirst ? ' (first layer left out)' : ''}` +
      `${ff.peerNorm > 0 ? ` peerNorm=${ff.peerNorm}` : ''} ${s.optimizer} lr=${s.learningRate}${ff.cooldown ? ' (linear cooldown)' : ''}`;
  }

  /** The normalised network input [rows, width] of samples src with labels (−1: neutral), as a scratch tensor. */
  private input(name: string, x: Float32Array, src: ArrayLike<number>, labels: ArrayLike<number>): Tensor {
    const rows = labels.length, W = this.inputWidth, be = this.ctx.backend;
    const host = new Float32Array(rows * W);
    embedRows(host, 0, x, this.ctx.inputSize, src, labels, this.ctx.numClasses, this.ff.embed);
    const raw = this.sc.get(`${name}.raw`, [rows, W]);
    be.write(raw, host);
    return lengthNorm(be, this.sc, `${name}.n`, raw, this.ff.norm);
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    return this.readBatch(this.deviceBatch(x, labels, true));
  }

  /** trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, one sync before the reads. */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    const d = this.deviceBatch(x, labels, false);
    await this.ctx.backend.sync?.([...d.lossAcc, d.clsLoss, ...(d.logits ? [d.logits] : []), ...this.net.layers.map((l) => l.output())]);
    return this.readBatch(d);
  }

  /** The read part of a batch: losses, the classifier's accuracy, mean activities. */
  private readBatch(d: { lossAcc: Tensor[]; clsLoss: Tensor; logits: Tensor | null; labels: ArrayLike<number> }): BatchResult {
    const s = this.settings, be = this.ctx.backend, B = d.labels.length, C = this.ctx.numClasses, L = this.layers.length;
    this.stats = this.layers.map((layer, i) => {
      const y = this.net.layers[i].output();
      return { layer: i, label: `${layer.name} (${s.activation}, ${layer.outSize})`, weightNorm: NaN, meanActivity: be.sum(y) / y.size, learningRate: layer.opt.learningRate };
    });
    const layerLosses = d.lossAcc.map((t) => readLoss(be, t));
    let accuracy: number | undefined;
    if (d.logits) {
      layerLosses.push(readLoss(be, d.clsLoss));
      accuracy = countCorrect(be.read(d.logits), d.labels, C) / B;
      this.classifier.forEach((c, j) => this.stats.push({ layer: L + j, label: `${c.name} (linear, ${C})`, weightNorm: NaN, learningRate: c.opt.learningRate }));
    }
    return { loss: layerLosses.reduce((a, b) => a + b, 0), layerLosses, ...(accuracy === undefined ? {} : { accuracy }) };
  }

  /** The device part of a batch: the window with every layer's local step, then with `check` the finiteness checks. */
  private deviceBatch(x: Float32Array, labels: ArrayLike<number>, check: boolean): { lossAcc: Tensor[]; clsLoss: Tensor; logits: Tensor | null; labels: ArrayLike<number> } {
    const s = this.settings, ff = this.ff, be = this.ctx.backend, sc = this.sc, B = labels.length, C = this.ctx.numClasses;
    const step = ++this.stepIndex;
    const nn = this.classifier.length ? B : 0, rows = 2 * B + nn, L = this.layers.length;
    const src = new Int32Array(rows), rowLabels = new Int32Array(rows);
    for (let b = 0; b < B; b++) {
      src[b] = src[B + b] = b;
      rowLabels[b] = labels[b];
      rowLabels[B + b] = wrongLabel(this.ctx.rng, labels[b], C);
      if (nn) (src[2 * B + b] = b), (rowLabels[2 * B + b] = -1);
    }
    const input = this.input('in', x, src, rowLabels);
    const lossAcc = Array.from({ length: L }, (_, i) => lossAccumulator(sc, `loss.${i}`));
    const clsLoss = lossAccumulator(sc, 'loss.cls');
    const slices = new Map<number, Tensor>();
    const logits = nn ? sc.get('cls.z', [B, C]) : null;
    this.net.reset([{ name: 'positive', rows: B }, { name: 'negative', rows: B }, ...(nn ? [{ name: 'neutral', rows: nn }] : [])]);
    this.net.run({
      steps: 1,
      input: () => input,
      hooks: {
        afterLayer: (l: Layer) => {
          const i = l.index, layer = this.layers[i], y = l.output(), N = layer.outSize;
          const g = sc.get(`g.${i}`, [rows, N]);
          be.ffGoodness(lossAcc[i], g, null, y, {
            theta: this.thresholds[i], mean: ff.goodness === 'mean', nPos: B, nNeg: B, lossDivisor: 2 * B, gradDivisor: 2 * B,
          });
          if (this.running.length) be.ffPeerNorm(lossAcc[i], g, this.running[i], y, B, ff.peerMomentum, ff.peerNorm);
          if (!ff.straightThrough) {
            const d = sc.get(`d.${i}`, [rows, N]);
            be.activation(d, l.voltage(), s.activation, true);
            be.mul(g, g, d);
          }
          layer.zeroGrad();
          be.spikeOuter(layer.W.grad, l.presynaptic as Tensor, g, 1);
          be.sumRows(layer.b.grad, g);
          layer.step(step, false); // finiteness checked after the window
          const next = lengthNorm(be, sc, `n.${i}`, y, ff.norm);
          if (nn && this.predicting.includes(i)) {
            const slice = sc.get(`cls.x.${i}`, [nn, N]);
            be.copySlice(slice, 0, next, 2 * B * N, nn * N);
            slices.set(i, slice);
          }
          if (nn && i === L - 1) this.trainClassifier(slices, logits as Tensor, labels, clsLoss, step);
          return next;
        },
      },
    });
    if (check) for (const l of [...this.layers, ...this.classifier]) l.checkFinite(step);
    return { lossAcc, clsLoss, logits, labels };
  }

  /** logits [nn, C] = Σ_j x_j·W_j + b_j over the predicting layers' neutral-row activity x_j. */
  private classifierLogits(slices: Map<number, Tensor>, logits: Tensor): void {
    const be = this.ctx.backend;
    this.classifier.forEach((c, j) => {
      be.spikeMatmul(logits, slices.get(this.predicting[j]) as Tensor, c.W.value, j === 0 ? 0 : 1);
      be.addRow(logits, c.b.value);
    });
  }

  /** The classifier's local softmax-CE step on the neutral rows (its input is a constant). */
  private trainClassifier(slices: Map<number, Tensor>, logits: Tensor, labels: ArrayLike<number>, loss: Tensor, step: number): void {
    const be = this.ctx.backend, sc = this.sc, B = labels.length, C = this.ctx.numClasses;
    this.classifierLogits(slices, logits);
    const P = new Float32Array(B * C);
    for (let b = 0; b < B; b++) P[b * C + labels[b]] = 1;
    const onehot = sc.get('cls.P', [B, C]);
    be.write(onehot, P);
    const dz = sc.get('cls.dz', [B, C]);
    be.softmaxCrossEntropy(loss, dz, logits, onehot, { lossDivisor: B, gradDivisor: B });
    this.classifier.forEach((c, j) => {
      c.zeroGrad();
      be.spikeOuter(c.W.grad, slices.get(this.predicting[j]) as Tensor, dz, 1);
      be.sumRows(c.b.grad, dz);
      c.step(step, false);
    });
  }

  predict(x: Float32Array, B: number): Int32Array {
    return this.ff.predict === 'classifier' ? this.predictClassifier(x, B) : this.predictGoodness(x, B);
  }

  /**
   * Goodness of every (sample, label) pair: [B·C], row b·C + c = Σ over the predicting layers of the
   * goodness of sample b run with label c.
   */
  goodness(x: Float32Array, B: number): Float32Array {
    return this.ctx.backend.read(this.goodnessDevice(x, B));
  }

  /** The candidate pass of `goodness` (kernels only): the summed goodness [B·C]. */
  private goodnessDevice(x: Float32Array, B: number): Tensor {
    const be = this.ctx.backend, sc = this.sc, C = this.ctx.numClasses, R = B * C;
    const { src, labels } = candidateRows(B, C);
    const input = this.input('p', x, src, labels);
    const gsum = sc.zeros('p.G', [R]);
    this.net.reset([{ name: 'candidates', rows: R }]);
    this.net.run({
      steps: 1,
      input: () => input,
      hooks: {
        afterLayer: (l: Layer) => {
          const i = l.index, y = l.output();
          if (this.predicting.includes(i)) {
            be.ffGoodness(null, null, gsum, y, { theta: this.thresholds[i], mean: this.ff.goodness === 'mean', nPos: 0, nNeg: 0, goodnessBeta: 1 });
          }
          return i + 1 < this.layers.length ? lengthNorm(be, sc, `p.n.${i}`, y, this.ff.norm) : undefined;
        },
      },
    });
    return gsum;
  }

  /** The label of highest summed goodness per sample. */
  predictGoodness(x: Float32Array, B: number): Int32Array {
    return argmaxRows(this.goodness(x, B), B, this.ctx.numClasses);
  }

  /** The classifier's argmax on one neutral-label pass (needs ffPredict 'classifier'). */
  predictClassifier(x: Float32Array, B: number): Int32Array {
    return argmaxRows(this.ctx.backend.read(this.classifierDevice(x, B)), B, this.ctx.numClasses);
  }

  /** predict on a backend with asynchronous read-back (rule.ts): the same kernels, a sync before the read. */
  predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    const t = this.ff.predict === 'classifier' ? this.classifierDevice(x, B) : this.goodnessDevice(x, B);
    return syncedArgmax(this.ctx.backend, t, B, this.ctx.numClasses);
  }

  /** The neutral-label pass of predictClassifier (kernels only): the logits [B, C]. */
  private classifierDevice(x: Float32Array, B: number): Tensor {
    const be = this.ctx.backend, sc = this.sc, C = this.ctx.numClasses;
    const input = this.input('q', x, Int32Array.from({ length: B }, (_, b) => b), new Int32Array(B).fill(-1));
    const slices = new Map<number, Tensor>();
    this.net.reset([{ name: 'neutral', rows: B }]);
    this.net.run({
      steps: 1,
      input: () => input,
      hooks: {
        afterLayer: (l: Layer) => {
          const next = lengthNorm(be, sc, `q.n.${l.index}`, l.output(), this.ff.norm);
          if (this.predicting.includes(l.index)) slices.set(l.index, next);
          return next;
        },
      },
    });
    const logits = sc.get('q.z', [B, C]);
    this.classifierLogits(slices, logits);
    return logits;
  }

  setEpoch(epoch: number): void {
    const f = this.ff.cooldown ? cooldownFactor(epoch, this.epochs) : 1;
    for (const l of [...this.layers, ...this.classifier]) {
      l.setEpoch(epoch);
      l.opt.learningRate *= f;
    }
  }

  state(): Record<string, Float32Array> {
    const be = this.ctx.backend;
    const peer = Object.fromEntries(this.running.map((t, i) => [`layer${i}.peerMean`, be.read(t)]));
    return Object.assign({}, ...[...this.layers, ...this.classifier].map((l) => l.state()), peer);
  }

  loadState(st: Record<string, Float32Array>): void {
    for (const l of [...this.layers, ...this.classifier]) l.loadState(st);
    this.running.forEach((t, i) => {
      const v = st[`layer${i}.peerMean`];
      if (v && v.length === t.size) this.ctx.backend.write(t, v);
    });
  }

  /** Per-layer statistics of the last batch; the weight norms are those of the weights now (read here, not per batch). */
  layerStats(): LayerStats[] {
    const chain = [...this.layers, ...this.classifier];
    return this.stats.map((st, i) => ({ ...st, weightNorm: chain[i].weightNorm() }));
  }

  dispose(): void {
    this.net.free();
    for (const l of [...this.layers, ...this.classifier]) l.dispose();
    for (const t of this.running) this.ctx.backend.free(t);
    this.sc.dispose();
  }
}
