/**
 * The network and bookkeeping shared by the spiking forms of PEPITA (pepita-spiking.ts) and DFA
 * (dfa-spiking.ts): the spiking sigprop network without its target stream. Hidden layers of a
 * spiking model (LIF by default; any model declaring a threshold and an input response), event-
 * driven, each on a DenseParams of the rule (weights [in, out], bias, its own optimiser); the
 * readout is the engine's last layer, a non-spiking leaky integrator ('li')
 * U_o[t] = β_o·U_o[t−1] + s_{L−1}[t]·W_o + b_o, β_o = ruleParams.readoutBeta (default: the last
 * hidden layer's β), learning at ruleParams.readoutLearningRate (default: learningRate). The prediction is argmax_c Σ_t U_o[t] (the time-averaged membrane), as in
 * spiking sigprop. The input is encoded per step by the config's encoder (rate coding by default)
 * or fed from pre-encoded rasters ('raster'). Every tensor the rules hold is [rows, n] or a weight:
 * memory is flat in T.
 */
import type { ExperimentConfig } from '../config/types.js';
import { makeStepSource, type Encoder, type StepSource } from '../encoders.js';
import { Network } from '../engine/network.js';
import { checkNumber, ParameterError } from '../errors.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { DenseParams, denseChain } from './dense.js';
import { argmaxRows, countCorrect, readLoss, syncedArgmax } from './losses.js';
import type { BatchResult, LayerStats, RuleContext } from './rule.js';
import { Scratch } from './scratch.js';
import { hiddenSpecs, readoutBeta } from './sigprop-spiking.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';

/** Per hidden layer: threshold θ of the surrogate f'(U − θ), membrane floor, label for reports. */
export interface SpikingLayerInfo {
  threshold: number;
  vMin: number | undefined;
  label: string;
}

const NO_TARGETS = new Float32Array(0);

/**
 * Base of the spiking forward-only rules: builds the network, encodes batches, predicts, and owns
 * checkpoints (the DenseParams of every layer plus the rule's fixed matrices, by name), schedules
 * and disposal.
 */
/** What a spiking forward rule's window leaves for the batch's read part. */
export interface WindowReads {
  /** The loss accumulator; the batch's loss is its value times lossScale. */
  loss: Tensor;
  lossScale: number;
  /** Scores [B, C] whose argmax is the training prediction. */
  scores: Tensor;
  /** The hidden layers' spike counts [B, n] (firing rates). */
  counts: Tensor[];
}

export abstract class SpikingForwardRule {
  abstract readonly name: string;
  readonly settings: RuleSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  readonly net: Network;
  readonly readoutBeta: number;
  /** Per-step input size (inputSize, or inputSize / T for pre-encoded rasters). */
  readonly stepInputSize: number;
  protected readonly info: SpikingLayerInfo[];
  protected readonly sc: Scratch;
  /** Fixed (untrained) matrices of the rule, saved in checkpoints under these names. */
  protected readonly fixed = new Map<string, Tensor>();
  protected stats: LayerStats[] = [];
  protected stepIndex = 0;
  private readonly predictEncoders = new Map<string, Encoder>();

  get network(): Network {
    return this.net;
  }

  constructor(rule: string, config: ExperimentConfig, readonly ctx: RuleContext) {
    const s = (this.settings = resolveRuleSettings(config));
    if (s.hidden.length < 1) throw new ParameterError(`spiking ${rule} needs at least one hidden layer: layers = [{ "size": 1000 }, { "size": 10 }]`);
    if (s.encoder === 'raster' && ctx.inputSize % s.steps !== 0) {
      throw new ParameterError(`encoder 'raster' needs inputSize (${ctx.inputSize}) to be steps (${s.steps}) × channels; set steps to the dataset's time steps`);
    }
    s.hidden.forEach((l, i) => {
      for (const key of ['recurrent', 'delays'] as const) {
        if (l[key] !== undefined) throw new ParameterError(`layers[${i}].${key} cannot be used with spiking ${rule}: it trains feed-forward projections only; drop it or use rule "sigprop"`);
      }
    });
    const specs = hiddenSpecs(s); // feed-forward only (refused above otherwise)
    this.stepInputSize = s.encoder === 'raster' ? ctx.inputSize / s.steps : ctx.inputSize;
    this.sc = new Scratch(ctx.backend);
    const roLr = config.ruleParams?.readoutLearningRate;
    ({ layers: this.layers, readout: this.readout } = denseChain(ctx.backend, ctx.rng, s, this.stepInputSize,
      roLr === undefined ? s.learningRate : checkNumber('ruleParams.readoutLearningRate', roLr, { min: 0, minExclusive: true })));
    this.readoutBeta = readoutBeta(s, specs);
    this.net = new Network(
      ctx.backend,
      { inputSize: this.stepInputSize, dtMs: s.dtMs, layers: [...specs, { size: s.outputSize, model: 'li', params: { beta: this.readoutBeta }, propagation: 'event', name: 'readout' }] },
      ctx.rng,
      [...this.layers, this.readout].map((d) => d.tensors()),
    );
    this.info = this.net.layers.slice(0, -1).map((layer, i) => {
      if (!layer.model.threshold || !layer.model.spikeVar) {
        throw new ParameterError(`layers[${i}].model = "${layer.model.name}" is not a spiking model with a firing threshold; spiking ${rule} needs one (e.g. "lif")`);
      }
      const p = layer.params as { vMin?: number };
      return { threshold: layer.model.threshold(layer.params as never), vMin: p.vMin, label: `${layer.name} (${layer.model.name}, ${layer.size})` };
    });
  }

  /** The layer sizes as 'in-h1-…-out'. */
  protected sizes(): string {
    return [this.stepInputSize, ...this.settings.hidden.map((l) => l.size), this.settings.outputSize].join('-');
  }

  /** Common part of describe(): network, β, T, encoder, optimiser. */
  protected describeNet(): string {
    const s = this.settings;
    const models = [...new Set(this.net.layers.slice(0, -1).map((l) => l.model.name))].join('/');
    return `${this.sizes()} ${models} T=${s.steps} readoutβ=${this.readoutBeta} encoder=${s.encoder} dropout=${s.dropout} ${s.optimizer} lr=${s.learningRate}`;
  }

  /** The per-step input of a window over x ([B, n] intensities or [B, T·n] rasters), encoders reused from `enc`, drawing from `rng`. */
  protected stepSource(x: Float32Array, B: number, rng: Rng, enc: Map<string, Encoder>): StepSource {
    return makeStepSource(this.settings, { backend: this.ctx.backend, rng }, x, B, NO_TARGETS, 0, this.stepInputSize, enc);
  }

  /**
   * The rule's window on a batch (kernels only, no weight changed): the gradients in each
   * DenseParams' grads, and what the batch's read part needs.
   */
  protected abstract deviceWindow(x: Float32Array, labels: ArrayLike<number>): WindowReads;

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    this.stepIndex++;
    const w = this.deviceWindow(x, labels);
    this.stepAll();
    return this.readBatch(w, labels);
  }

  /** trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, one sync before the reads. */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    this.stepIndex++;
    const w = this.deviceWindow(x, labels);
    for (const l of this.chain()) l.step(this.stepIndex, false); // a non-finite weight shows in the next loss
    await this.ctx.backend.sync?.([w.loss, w.scores, ...w.counts]);
    return this.readBatch(w, labels);
  }

  /** The read part of a batch: loss, accuracy (argmax of the scores) and per-layer firing rates. */
  private readBatch(w: WindowReads, labels: ArrayLike<number>): BatchResult {
    const be = this.ctx.backend, B = labels.length, T = this.settings.steps;
    this.stats = this.layers.map((layer, i) => ({
      layer: i, label: this.info[i].label, weightNorm: NaN,
      firingRate: be.sum(w.counts[i]) / (T * B * layer.outSize), learningRate: layer.opt.learningRate,
    }));
    this.stats.push({ layer: this.layers.length, label: `readout (leaky, ${this.readout.outSize})`, weightNorm: NaN, learningRate: this.readout.opt.learningRate });
    const loss = readLoss(be, w.loss) * w.lossScale;
    const correct = countCorrect(be.read(w.scores), labels, this.readout.outSize);
    return { loss, layerLosses: [loss], accuracy: correct / B };
  }

  /** Argmax of Σ_t U_o[t] over a window without learning (no traces, no dropout). */
  predict(x: Float32Array, B: number): Int32Array {
    return argmaxRows(this.ctx.backend.read(this.predictDevice(x, B)), B, this.readout.outSize);
  }

  /** predict on a backend with asynchronous read-back (rule.ts): the same kernels, a sync before the read. */
  predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    return syncedArgmax(this.ctx.backend, this.predictDevice(x, B), B, this.readout.outSize);
  }

  /** The prediction window (kernels only): Σ_t U_o [B, C]. */
  private predictDevice(x: Float32Array, B: number): Tensor {
    const be = this.ctx.backend, L = this.layers.length, C = this.readout.outSize;
    const src = this.stepSource(x, B, this.ctx.rng, this.predictEncoders);
    const zsum = this.sc.zeros('p.zsum', [B, C]);
    this.net.reset(B);
    this.net.useInputReference(src.mostLikely);
    this.net.setTracing(false);
    try {
      this.net.run({
        steps: this.settings.steps,
        write: (t, out) => src.write(t, out),
        hooks: { afterLayer: (layer) => void (layer.index === L && be.axpby(zsum, layer.voltage(), 1, 1)) },
      });
    } finally {
      this.net.setTracing(true);
    }
    return zsum;
  }

  /** Bytes of backend memory the rule's work tensors and the engine's traces hold now (flat in T). */
  workBytes(): number {
    return this.sc.bytes() + this.net.layers.reduce((n, l) => n + (l.trace?.bytes() ?? 0), 0);
  }

  /** Every trained block: the hidden layers, then the readout. */
  protected chain(): DenseParams[] {
    return [...this.layers, this.readout];
  }

  /** Step every block's optimiser and check its weights. */
  protected stepAll(): void {
    for (const l of this.chain()) l.step(this.stepIndex);
  }

  /** A fixed random matrix [rows, cols] uniform in ±bound, kept (and checkpointed) as `name`. */
  protected fixedUniform(name: string, rows: number, cols: number, bound: number): Tensor {
    const t = this.ctx.backend.fromArray([rows, cols], this.ctx.rng.fillUniform(new Float32Array(rows * cols), -bound, bound));
    this.fixed.set(name, t);
    return t;
  }

  setEpoch(epoch: number): void {
    for (const l of this.chain()) l.setEpoch(epoch);
  }

  state(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = Object.assign({}, ...this.chain().map((l) => l.state()));
    for (const [k, t] of this.fixed) out[k] = this.ctx.backend.read(t);
    return out;
  }

  loadState(st: Record<string, Float32Array>): void {
    for (const l of this.chain()) l.loadState(st);
    for (const [k, t] of this.fixed) {
      const v = st[k];
      if (!v || v.length !== t.size) throw new ParameterError(`checkpoint has no "${k}" of ${t.size} values; it was written for another network or rule`);
      this.ctx.backend.write(t, v);
    }
  }

  /** Per-layer statistics of the last batch; the weight norms are those of the weights now (read here, not per batch). */
  layerStats(): LayerStats[] {
    const chain = this.chain();
    return this.stats.map((st, i) => ({ ...st, weightNorm: chain[i].weightNorm() }));
  }

  dispose(): void {
    this.net.free();
    for (const l of this.chain()) l.dispose();
    for (const t of this.fixed.values()) this.ctx.backend.free(t);
    this.sc.dispose();
  }
}
