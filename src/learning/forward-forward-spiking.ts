/**
 * Spiking Forward-Forward, online in time (config rule 'ff', mode 'spiking'), as hooks on the
 * engine's step loop; spiking sigprop (sigprop-spiking.ts) is the template.
 *
 * The positive rows (true label one-hot in the first input pixels) and the negative rows (a wrong
 * label, never the true one) are rate-coded like any input and run as two streams ('positive',
 * 'negative') of one batch through the LIF (or any model declaring its input response) layers.
 * At each step t the engine keeps the presynaptic eligibility trace e[t] of each layer's input; the
 * rule's hook for layer ℓ takes the representation r[t] and the FF loss of its goodness
 * (Backend.ffGoodness: G = Σ r² or mean r², p = σ(G − θ), BCE against 1 / 0), and accumulates
 *     ΔW ∝ Σ_t gain·e[t]ᵀ·(∂L/∂r[t] ⊙ f'(U[t] − θ_spike))
 * in one fixed-size buffer (memory flat in T). ffSpikeGoodness:
 * ffGoodness defaults to 'mean' here: its logits G − θ stay small, so the BCE does not saturate
 * (MNIST pilots: about 70% after one epoch on 5k samples with 'mean', 20-40% with 'sum').
 * - 'surrogate' (default): r[t] = f(U[t] − θ_spike), one loss per step, averaged over the T steps;
 *   default θ = N·f(0)² ('sum') or f(0)² ('mean'): the goodness of a layer sitting at threshold.
 * - 'count': the goodness of the firing rates ν = (spike count)/T over the window. Online, step t
 *   uses the running rate ν[t] = count[t]/(t + 1) for ∂L/∂ν (exact at the last step) and
 *   ∂ν/∂U[t] ≈ f'(U[t] − θ_spike)/T; the loss reported is that of the final rates. Default
 *   θ = 0.05·N ('sum') or 0.05 ('mean'), i.e. an rms rate of about 0.22.
 * Each layer's output (its spikes, length-normalised per step with ffNorm) feeds the next layer as a
 * constant: no hook reads another layer's loss. Prediction runs every label (B·C rows) and picks the
 * highest goodness summed over the window and the predicting layers.
 */
import type { ExperimentConfig } from '../config/types.js';
import { makeStepSource, type Encoder } from '../encoders.js';
import { ParameterError } from '../errors.js';
import { Network } from '../engine/network.js';
import type { Layer } from '../engine/layer.js';
import type { Tensor } from '../tensor.js';
import { DenseParams, denseLayers } from './dense.js';
import { argmaxRows, lossAccumulator, readLoss, syncedArgmax } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import { hiddenSpecs } from './sigprop-spiking.js';
import {
  candidateRows, cooldownFactor, embeddedWidth, embedRows, lengthNorm, predictingLayers, resolveFfSettings, wrongLabel, type FfSettings,
} from './forward-forward-common.js';

interface LayerInfo {
  threshold: number;
  vMin: number | undefined;
  label: string;
}

export class SpikingForwardForward implements TrainingRule {
  readonly name = 'ff';
  readonly settings: RuleSettings;
  readonly ff: FfSettings;
  readonly layers: DenseParams[];
  readonly net: Network;
  readonly inputWidth: number;
  /** FF threshold θ of each layer's goodness. */
  readonly thresholds: number[];
  readonly predicting: number[];
  private readonly info: LayerInfo[];
  private readonly sc: Scratch;
  private readonly encoders = new Map<string, Encoder>();
  private readonly epochs: number;
  private stepIndex = 0;
  private stats: LayerStats[] = [];

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    const s = (this.settings = resolveRuleSettings(config));
    const ff = (this.ff = resolveFfSettings(config, s.hidden.length, s.learningRate, s.weightDecay, 'mean'));
    if (ff.predict === 'classifier') throw new ParameterError("ruleParams.ffPredict = 'classifier' is implemented for mode 'rate' only; spiking Forward-Forward predicts by goodness ('goodness')");
    if (ff.peerNorm > 0) throw new ParameterError("ruleParams.ffPeerNorm is implemented for mode 'rate' only; leave it out (0) in mode 'spiking'");
    if (s.encoder === 'raster') throw new ParameterError("encoder 'raster' cannot be used with Forward-Forward: the label is embedded in the input intensities before encoding; use a rate-type encoder");
    this.sc = new Scratch(ctx.backend);
    this.epochs = config.epochs ?? 1;
    this.inputWidth = embeddedWidth(ctx.inputSize, ctx.numClasses, ff.embed);
    const specs = hiddenSpecs(s);
    specs.forEach((sp, i) => {
      if (sp.recurrent || sp.delays !== undefined) throw new ParameterError(`layers[${i}]: recurrent projections and delays are not implemented for Forward-Forward; leave out layers[${i}].recurrent and .delays`);
    });
    this.layers = denseLayers(ctx.backend, ctx.rng, s, this.inputWidth);
    this.net = new Network(ctx.backend, { inputSize: this.inputWidth, dtMs: s.dtMs, layers: specs }, ctx.rng, this.layers.map((d) => d.tensors()));
    this.info = this.net.layers.map((layer, i) => {
      if (!layer.model.inputResponse || !layer.model.threshold) {
        throw new ParameterError(`layers[${i}].model = "${layer.model.name}" cannot be trained by spiking Forward-Forward: it needs a model that declares its input response and has a firing threshold (e.g. 'lif', 'synaptic')`);
      }
      const p = layer.params as { vMin?: number };
      return { threshold: layer.model.threshold(layer.params as never), vMin: p.vMin, label: `${layer.name} (${layer.model.name}, ${layer.size})` };
    });
    const f0 = s.surrogate.f(0);
    this.thresholds = s.hidden.map((l) => {
      if (ff.threshold !== undefined) return ff.threshold;
      const unit = ff.spikeGoodness === 'count' ? 0.05 : f0 * f0;
      return ff.goodness === 'sum' ? unit * l.size : unit;
    });
    this.predicting = predictingLayers(this.layers.length, ff.skipFirst);
    this.net.enableTraces(s.eligibility);
  }

  get network(): Network {
    return this.net;
  }

  describe(): string {
    const s = this.settings, ff = this.ff;
    return `ff (spiking ${[...new Set(this.net.layers.map((l) => l.model.name))].join('/')}, T=${s.steps}) ${[this.inputWidth, ...s.hidden.map((l) => l.size)].join('-')} ` +
      `goodness=${ff.spikeGoodness}/${ff.goodness} θ=${this.thresholds.map((t) => +t.toPrecision(4)).join('/')} surrogate=${s.surrogate.spec} norm=${ff.norm} ` +
      `embed=${ff.embed} encoder=${s.encoder} ${s.optimizer} lr=${s.learningRate}`;
  }

  /** Bytes of backend memory the rule's work tensors and the engine's traces hold now (independent of T by construction). */
  workBytes(): number {
    return this.sc.bytes() + this.net.layers.reduce((n, l) => n + (l.trace?.bytes() ?? 0), 0);
  }

  private embedded(x: Float32Array, src: ArrayLike<number>, labels: ArrayLike<number>): Float32Array {
    const out = new Float32Array(labels.length * this.inputWidth);
    embedRows(out, 0, x, this.ctx.inputSize, src, labels, this.ctx.numClasses, this.ff.embed);
    return out;
  }

  /**
   * Run T steps on `rows` embedded rows; for each layer the hook computes r[t] (surrogate or running
   * rate) and calls `use(i, layer, r, t)`; returns the spike counts per layer. The output fed on is
   * length-normalised.
   */
  private run(xs: Float32Array, streams: { name: string; rows: number }[], prefix: string, use: (i: number, layer: Layer, r: Tensor, t: number) => void): Tensor[] {
    const s = this.settings, be = this.ctx.backend, sc = this.sc, T = s.steps, rows = streams.reduce((n, q) => n + q.rows, 0);
    const src = makeStepSource(s, this.ctx, xs, rows, new Float32Array(0), 0, this.inputWidth, this.encoders);
    const counts = this.layers.map((l, i) => sc.zeros(`${prefix}.n${i}`, [rows, l.outSize]));
    const reps = this.layers.map((l, i) => sc.get(`${prefix}.r${i}`, [rows, l.outSize]));
    this.net.reset(streams);
    this.net.useInputReference(src.mostLikely); // the weights change after the window
    this.net.run({
      steps: T,
      write: (t, out) => src.write(t, out),
      hooks: {
        afterLayer: (layer, t) => {
          const i = layer.index, out = layer.output(), r = reps[i];
          be.axpby(counts[i], out, 1, 1);
          if (this.ff.spikeGoodness === 'count') be.axpby(r, counts[i], 1 / (t + 1), 0);
          else be.surrogate(r, layer.voltage(), this.info[i].threshold, s.surrogate, false);
          use(i, layer, r, t);
          return i + 1 < this.layers.length ? lengthNorm(be, sc, `${prefix}.x${i}`, out, this.ff.norm) : undefined;
        },
      },
    });
    return counts;
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    return this.readBatch(this.deviceBatch(x, labels, true));
  }

  /** trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, one sync before the reads. */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    const d = this.deviceBatch(x, labels, false);
    await this.ctx.backend.sync?.([...d.lossAcc, ...d.counts]);
    return this.readBatch(d);
  }

  /** The read part of a batch: each layer's goodness loss and the firing rates of both streams. */
  private readBatch(d: { lossAcc: Tensor[]; counts: Tensor[]; B: number }): BatchResult {
    const be = this.ctx.backend, T = this.settings.steps, count = this.ff.spikeGoodness === 'count', B = d.B;
    const layerLosses = d.lossAcc.map((t) => readLoss(be, t) / (count ? 1 : T));
    this.stats = this.layers.map((layer, i) => {
      const n = be.read(d.counts[i]);
      let pos = 0, neg = 0;
      for (let k = 0; k < n.length; k++) (k < B * layer.outSize ? (pos += n[k]) : (neg += n[k]));
      return {
        layer: i, label: this.info[i].label, weightNorm: NaN,
        firingRate: pos / (T * B * layer.outSize), targetFiringRate: neg / (T * B * layer.outSize), learningRate: layer.opt.learningRate,
      };
    });
    return { loss: layerLosses.reduce((a, b) => a + b, 0), layerLosses };
  }

  /** The device part of a batch: the window, then every layer's averaged gradient and step (with `check`, its finiteness check). */
  private deviceBatch(x: Float32Array, labels: ArrayLike<number>, check: boolean): { lossAcc: Tensor[]; counts: Tensor[]; B: number } {
    const s = this.settings, ff = this.ff, be = this.ctx.backend, sc = this.sc, B = labels.length, T = s.steps, C = this.ctx.numClasses;
    const step = ++this.stepIndex, rows = 2 * B, L = this.layers.length, count = ff.spikeGoodness === 'count';
    const src = new Int32Array(rows), rowLabels = new Int32Array(rows);
    for (let b = 0; b < B; b++) {
      src[b] = src[B + b] = b;
      rowLabels[b] = labels[b];
      rowLabels[B + b] = wrongLabel(this.ctx.rng, labels[b], C);
    }
    const lossAcc = Array.from({ length: L }, (_, i) => lossAccumulator(sc, `loss${i}`));
    for (const l of this.layers) l.zeroGrad();
    const counts = this.run(this.embedded(x, src, rowLabels), [{ name: 'positive', rows: B }, { name: 'negative', rows: B }], 't', (i, layer, r, t) => {
      const N = this.layers[i].outSize, g = sc.get(`g${i}`, [rows, N]), d = sc.get(`d${i}`, [rows, N]), u = layer.voltage();
      be.ffGoodness(!count || t === T - 1 ? lossAcc[i] : null, g, null, r, {
        theta: this.thresholds[i], mean: ff.goodness === 'mean', nPos: B, nNeg: B, lossDivisor: 2 * B, gradDivisor: 2 * B,
      });
      be.surrogate(d, u, this.info[i].threshold, s.surrogate, true);
      be.mul(g, g, d);
      if (this.info[i].vMin !== undefined) be.gateBelow(g, u, this.info[i].vMin as number);
      layer.accumulateGrad(g, 1, this.layers[i].grads());
    });
    this.layers.forEach((layer, i) => {
      this.net.layers[i].finishGrad(layer.grads());
      layer.scaleGrad(1 / T);
      layer.step(step, check);
    });
    return { lossAcc, counts, B };
  }

  /** Goodness of every (sample, label) pair [B·C] (row b·C + c), summed over the window and the predicting layers. */
  goodness(x: Float32Array, B: number): Float32Array {
    return this.ctx.backend.read(this.goodnessDevice(x, B));
  }

  /** predict on a backend with asynchronous read-back (rule.ts): the same kernels, a sync before the read. */
  predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    return syncedArgmax(this.ctx.backend, this.goodnessDevice(x, B), B, this.ctx.numClasses);
  }

  /** The candidate window of `goodness` (kernels only): the summed goodness [B·C]. */
  private goodnessDevice(x: Float32Array, B: number): Tensor {
    const be = this.ctx.backend, C = this.ctx.numClasses, R = B * C, T = this.settings.steps, count = this.ff.spikeGoodness === 'count';
    const { src, labels } = candidateRows(B, C);
    const gsum = this.sc.zeros('p.G', [R]);
    this.net.setTracing(false);
    try {
      this.run(this.embedded(x, src, labels), [{ name: 'candidates', rows: R }], 'p', (i, _layer, r, t) => {
        if (!this.predicting.includes(i) || (count && t !== T - 1)) return;
        be.ffGoodness(null, null, gsum, r, { theta: this.thresholds[i], mean: this.ff.goodness === 'mean', nPos: 0, nNeg: 0, goodnessBeta: 1 });
      });
    } finally {
      this.net.setTracing(true);
    }
    return gsum;
  }

  predict(x: Float32Array, B: number): Int32Array {
    return argmaxRows(this.goodness(x, B), B, this.ctx.numClasses);
  }

  setEpoch(epoch: number): void {
    const f = this.ff.cooldown ? cooldownFactor(epoch, this.epochs) : 1;
    for (const l of this.layers) {
      l.setEpoch(epoch);
      l.opt.learningRate *= f;
    }
  }

  state(): Record<string, Float32Array> {
    return Object.assign({}, ...this.layers.map((l) => l.state()));
  }

  loadState(st: Record<string, Float32Array>): void {
    for (const l of this.layers) l.loadState(st);
  }

  /** Per-layer statistics of the last batch; the weight norms are those of the weights now (read here, not per batch). */
  layerStats(): LayerStats[] {
    return this.stats.map((st, i) => ({ ...st, weightNorm: this.layers[i].weightNorm() }));
  }

  dispose(): void {
    this.net.free();
    for (const l of this.layers) l.dispose();
    this.sc.dispose();
  }
}
