/**
 * Spiking sigprop, online in time (config mode 'spiking'), as hooks on the engine's step loop.
 *
 * Input rows x and target rows t0 = g(S·c + d) are encoded the same way (rate coding by
 * default) and run through the engine's Network as two streams of one batch ('input' and
 * 'target'); every row has its own neuron state. At each step t the engine advances layer ℓ
 * (synapses, then the neuron model) and keeps the presynaptic eligibility trace e[t] of the
 * layer's input from the model's input response (LIF: e[t] = β·e[t−1] + x[t], exact with a
 * detached reset; synaptic LIF: two filters α then β; models nonlinear in their state: a
 * factorised approximation, see models/model.ts InputResponse). The rule's per-layer hook then
 * takes the representation r[t] = f(U[t] − θ) (surrogate mode) or U[t] (voltage mode), the
 * per-step local loss L[t](h[t], t[t]) and g[t] = ∂L[t]/∂r[t], and accumulates
 *     ΔW ∝ Σ_t gain·e[t]ᵀ·(g[t] ⊙ f'(U[t] − θ))          (f' ≡ 1 in voltage mode)
 * into one fixed-size buffer (recurrent weights the same way from the trace of the layer's own
 * output at t−1). With a membrane floor (LIF vMin) the gradient is zeroed where the floor holds U
 * (∂U/∂W = 0 there); the presynaptic trace then runs on through clamped steps, an approximation
 * of the same kind as the detached reset. Memory holds one step of state per layer, never all T
 * steps. Each layer's output spikes feed the next layer as constants (stop-gradient): no hook
 * reads another layer's loss. The readout is the engine's last layer, a non-spiking leaky
 * integrator ('li') U_o[t] = β_o·U_o[t−1] + s[t]·W_o + b_o trained the same way with per-step
 * softmax CE on the input rows; prediction is argmax Σ_t U_o[t] (or the nearest class signal).
 * Losses and gradients are averaged over the T steps.
 */
import { getModel, modelNames } from '../../models/registry.js';
import { layerModel } from '../config/inline-model.js';
import type { ExperimentConfig } from '../config/types.js';
import { makeStepSource, type Encoder } from '../encoders.js';
import { ParameterError } from '../errors.js';
import { Network } from '../engine/network.js';
import { Layer, gradChunkLength, initRecurrent, type LayerSpec, type Recurrence } from '../engine/layer.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, countCorrect, lossAccumulator, readLoss } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import {
  SigpropBlocks, dropoutMaskTensor, firstLayerTargets, localLosses, nearestClassSignal, nextLayerTargets, targetRowLabels, zeroTargetRows,
} from './sigprop-common.js';
import { TargetGenerator } from './target.js';

/** Voltage-mode representation r = U − shift (shift 0: U itself; θ: voltage relative to threshold). */
export function voltageRepresentation(be: RuleContext['backend'], r: Tensor, u: Tensor, shift: number): void {
  be.copy(r, u);
  if (shift !== 0) be.addScalar(r, -shift);
}

/** Time-averaged rates [B, n] of rasters x [B, T·n]. */
export function rasterRates(x: Float32Array, B: number, T: number, n: number): Float32Array {
  const out = new Float32Array(B * n);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = b * T * n + t * n;
      for (let k = 0; k < n; k++) out[b * n + k] += x[o + k] / T;
    }
  }
  return out;
}

/** Engine layer specs of spiking sigprop's hidden layers (every layer event-driven, as spikes feed it). */
export function hiddenSpecs(s: RuleSettings): LayerSpec[] {
  return s.hidden.map((l, i) => {
    const model = layerModel(l.model ?? 'lif'); // a registered name (unknown ones fail with the list) or an inline equation model
    if (typeof model === 'string') getModel(model);
    return {
      size: l.size, model, params: l.params, propagation: 'event', name: `layer${i}`,
      ...(l.recurrent ? { recurrent: l.recurrent } : {}), ...(l.delays !== undefined ? { delays: l.delays } : {}),
    };
  });
}

/** Per-layer constants of the hook: threshold, membrane floor. */
interface HiddenLayerInfo {
  threshold: number;
  vMin: number | undefined;
  label: string;
}

/** What a training window leaves on the device: per-layer loss accumulators (the readout's last), spike counts [rows, n], Σ_t U_o [rows, C]. */
interface WindowResult {
  losses: Tensor[];
  counts: Tensor[];
  zsum: Tensor;
  /** Rows of the target stream. */
  targetRows: number;
}

export class SpikingSigprop extends SigpropBlocks implements TrainingRule {
  readonly name = 'sigprop';
  readonly settings: RuleSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  readonly target: TargetGenerator;
  /** The engine network: the hidden layers and the readout ('li'), on the rule's parameter tensors. */
  readonly net: Network;
  readonly readoutBeta: number;
  /** Per-step input size (inputSize, or inputSize / T for pre-encoded rasters). */
  readonly stepInputSize: number;
  /** Multiplier of each hidden layer's local loss (ablations; 0 switches a layer's learning off). */
  lossWeights: number[];
  protected readonly sc: Scratch;
  private readonly encoders = new Map<string, Encoder>();
  private readonly info: HiddenLayerInfo[];
  private stepIndex = 0;

  get network(): Network {
    return this.net;
  }

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    super();
    const s = (this.settings = resolveRuleSettings(config));
    if (s.hidden.length < 1) throw new ParameterError('spiking sigprop needs at least one hidden layer: layers = [{ size: 1000 }, { size: 10 }]');
    if (s.encoder === 'raster' && ctx.inputSize % s.steps !== 0) {
      throw new ParameterError(`encoder 'raster' needs inputSize (${ctx.inputSize}) to be steps (${s.steps}) × channels; set steps to the dataset's time steps`);
    }
    const specs = hiddenSpecs(s);
    this.stepInputSize = s.encoder === 'raster' ? ctx.inputSize / s.steps : ctx.inputSize;
    this.sc = new Scratch(ctx.backend);
    this.target = new TargetGenerator(ctx.backend, ctx.rng, ctx.numClasses, this.stepInputSize, s);
    let fanIn = this.stepInputSize;
    this.layers = s.hidden.map((l, i) => {
      const rec = specs[i].recurrent ? initRecurrent(ctx.rng, l.size, specs[i].recurrent as Recurrence, s.initScale) : undefined;
      const d = new DenseParams(ctx.backend, ctx.rng, `layer${i}`, fanIn, l.size, s, s.learningRate, rec);
      fanIn = l.size;
      return d;
    });
    this.readout = new DenseParams(ctx.backend, ctx.rng, 'readout', fanIn, s.outputSize, s);
    this.readoutBeta = readoutBeta(s, specs);
    const tensors = [...this.layers, this.readout].map((d) => d.tensors());
    this.net = new Network(
      ctx.backend,
      { inputSize: this.stepInputSize, dtMs: s.dtMs, layers: [...specs, { size: s.outputSize, model: 'li', params: { beta: this.readoutBeta }, propagation: 'event', name: 'readout' }] },
      ctx.rng,
      tensors,
    );
    this.info = this.net.layers.slice(0, -1).map((layer, i) => {
      const where = `layers[${i}]`;
      if (!layer.model.inputResponse) {
        throw new ParameterError(`${where}.model = "${layer.model.name}" does not declare how its voltage responds to its input, so spiking sigprop cannot train it; models that can: ${trainableModels()}`);
      }
      if (s.representation === 'surrogate' && !layer.model.threshold) {
        throw new ParameterError(`${where}.model = "${layer.model.name}" has no firing threshold for the surrogate f(U − θ); use representation 'voltage'`);
      }
      const p = layer.params as { vMin?: number };
      return { threshold: layer.model.threshold ? layer.model.threshold(layer.params as never) : 0, vMin: p.vMin, label: `${layer.name} (${layer.model.name}, ${layer.size})` };
    });
    this.net.enableTraces(s.eligibility);
    // the backend may prefer gathered eligibility updates (every layer ends a window with finishGrad);
    // the readout's then take its input spikes (12% non-zero in mnist-lif) instead of their trace (31%);
    // as few chunks per window as the backend's cap allows (T = 25: one)
    const chunk = gradChunkLength(s.steps, ctx.backend.gradChunkSteps ?? 0);
    if (chunk > 1) this.net.layers.forEach((l) => l.enableGradChunks(chunk, s.steps));
    this.lossWeights = this.layers.map(() => 1);
  }

  describe(): string {
    const s = this.settings;
    const models = this.net.layers.slice(0, -1).map((l) => `${l.model.name}${l.recurrence ? `+${l.recurrence}` : ''}${l.delayLine ? '+delays' : ''}`);
    const betas = this.net.layers.slice(0, -1).map((l) => (l.params as { beta?: number }).beta);
    return `sigprop (spiking ${[...new Set(models)].join('/')}${betas.every((b) => typeof b === 'number') ? ` β=${betas.join('/')}` : ''}, T=${s.steps}) ` +
      `${[this.stepInputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} representation=${s.representation}` +
      `${s.representation === 'surrogate' ? ` surrogate=${s.surrogate.spec}` : ''} eligibility=${s.eligibility} loss=${s.loss} ` +
      `encoder=${s.encoder} target=${s.targetProjection} predict=${s.predict} ${s.optimizer} lr=${s.learningRate}`;
  }

  /** Bytes of backend memory the rule's work tensors and the engine's traces hold now (independent of T by construction). */
  workBytes(): number {
    return this.sc.bytes() + this.target.workBytes() + this.net.layers.reduce((n, l) => n + (l.trace?.bytes() ?? 0) + (l.recTrace?.bytes() ?? 0), 0);
  }

  private targetRates(labels: ArrayLike<number>): Float32Array {
    const t0 = new Float32Array(labels.length * this.stepInputSize);
    this.target.write(labels, t0);
    return t0;
  }

  /** A dropout mask as a [rows, n] tensor (1 on the target rows), or null when p = 0 (no random draw). */
  private maskTensor(name: string, B: number, rows: number, n: number, p: number): Tensor | null {
    return dropoutMaskTensor(this.ctx.backend, this.sc, this.ctx.rng, name, B, rows, n, p);
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const step = this.nextStep();
    return this.finishBatch(this.deviceBatch(x, labels, this.target.update(this.targetInput(x, labels.length), labels, step), step, true));
  }

  /** trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, one sync before the reads. */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    const step = this.nextStep();
    const targetLoss = await this.target.updateAsync(this.targetInput(x, labels.length), labels, step);
    // no per-batch finiteness check of the weights (a full read-back): a non-finite weight shows in
    // the next batch's loss, which the run loop checks (lossDivergence)
    const b = this.deviceBatch(x, labels, targetLoss, step, false);
    await this.ctx.backend.sync?.([...b.w.counts, b.w.zsum, ...b.w.losses]);
    return this.finishBatch(b);
  }

  private nextStep(): number {
    return ++this.stepIndex;
  }

  /** The target generator's input: x, or the rates of a raster input. */
  private targetInput(x: Float32Array, B: number): Float32Array {
    const s = this.settings;
    return s.encoder === 'raster' ? rasterRates(x, B, s.steps, this.stepInputSize) : x;
  }

  /** The device part of a training batch: the window and every layer's optimiser step (with `check`, each then checks its weights are finite). */
  private deviceBatch(x: Float32Array, labels: ArrayLike<number>, targetLoss: number, step: number, check: boolean): { w: WindowResult; labels: ArrayLike<number>; targetLoss: number } {
    const w = this.window(x, labels);
    for (const layer of this.layers) layer.step(step, check);
    this.readout.step(step, check);
    return { w, labels, targetLoss };
  }

  /** The host part of a training batch: losses, accuracy and per-layer statistics, read back from the window's tensors. */
  private finishBatch({ w, labels, targetLoss }: { w: WindowResult; labels: ArrayLike<number>; targetLoss: number }): BatchResult {
    const s = this.settings, be = this.ctx.backend, B = labels.length, T = s.steps;
    this.stats = [];
    this.layers.forEach((layer, i) => {
      const [h, all] = this.countSums(w.counts[i], B, layer.outSize);
      this.stats.push({
        layer: i, label: this.info[i].label, weightNorm: NaN,
        firingRate: h / (T * B * layer.outSize), targetFiringRate: (all - h) / (T * w.targetRows * layer.outSize),
        learningRate: layer.opt.learningRate,
      });
    });
    const L = this.layers.length, C = this.readout.outSize;
    this.stats.push({ layer: L, label: `readout (leaky, ${C})`, weightNorm: NaN, learningRate: this.readout.opt.learningRate });
    const correct = countCorrect(be.read(w.zsum), labels, C);
    const layerLosses = w.losses.map((t) => readLoss(be, t) / T);
    if (targetLoss) layerLosses.unshift(targetLoss);
    return { loss: layerLosses.reduce((a, b) => a + b, 0), layerLosses, accuracy: correct / B };
  }

  /**
   * Spikes of the input-stream rows [0, B) and of all rows of a count tensor [rows, n]: two backend
   * sums (the counts are integers, so exact in float64) and a copy of the target rows, instead of
   * reading the whole tensor; on a backend with asynchronous reads (synced for a read, not for
   * sums) the tensor is read.
   */
  private countSums(counts: Tensor, B: number, n: number): [number, number] {
    const be = this.ctx.backend;
    if (be.asyncReads) return headSum(be.read(counts), B * n);
    const rows = counts.shape[0];
    const all = be.sum(counts);
    if (rows === B) return [all, all];
    const tail = this.sc.get(`n.tail${n}`, [rows - B, n]);
    be.copySlice(tail, 0, counts, B * n, (rows - B) * n);
    return [all - be.sum(tail), all];
  }

  /** Per-layer statistics of the last batch; the weight norms are those of the weights now (read here, not per batch). */
  override layerStats(): LayerStats[] {
    const chain = [...this.layers, this.readout];
    return this.stats.map((st, i) => ({ ...st, weightNorm: chain[i].weightNorm() }));
  }

  /**
   * One window of T steps on a batch without changing a weight: every layer's (and the readout's)
   * gradient accumulates in its DenseParams grads, averaged over the steps; returns each layer's
   * time-averaged local loss (the readout's last), the spike counts [rows, n] per hidden layer and
   * the readout's Σ_t U_o [rows, C]. trainBatch is this followed by each layer's optimiser step.
   */
  window(x: Float32Array, labels: ArrayLike<number>): WindowResult {
    const s = this.settings, be = this.ctx.backend, sc = this.sc, B = labels.length, T = s.steps;
    const tl = targetRowLabels(s.loss, labels, this.ctx.numClasses);
    const nt = tl.length, rows = B + nt, n0 = this.stepInputSize;
    const src = makeStepSource(s, this.ctx, x, B, this.targetRates(tl), nt, n0, this.encoders);
    const L = this.layers.length, C = this.readout.outSize;
    const surrogate = s.representation === 'surrogate';
    const net = this.net;
    net.reset([{ name: 'input', rows: B }, { name: 'target', rows: nt }]);
    // work tensors of the hooks: representation, gradient, surrogate derivative, spike counts
    const st = this.layers.map((layer, i) => ({
      r: sc.get(`r${i}`, [rows, layer.outSize]),
      g: sc.get(`g${i}`, [rows, layer.outSize]),
      d: sc.get(`d${i}`, [rows, layer.outSize]),
      // dropout: one mask per sample over the whole window; the dropped spikes feed the next layer
      mask: this.maskTensor(`m${i}`, B, rows, layer.outSize, s.dropout),
      sd: s.dropout > 0 ? sc.get(`sd${i}`, [rows, layer.outSize]) : null,
      count: sc.zeros(`n${i}`, [rows, layer.outSize]),
      // the neuron step writes r = f(U − θ) and d = f'(U − θ) in its own call where it can (Layer.setStepOutputs)
      fused: false,
    }));
    if (surrogate) st.forEach((q, i) => (q.fused = net.layers[i].setStepOutputs({ sg: s.surrogate, f: q.r, df: q.d })));
    const dz = sc.zeros('ro.dz', [rows, C]);
    const zsum = sc.zeros('ro.zsum', [rows, C]);
    for (const l of [...this.layers, this.readout]) l.zeroGrad();
    const inputMask = this.maskTensor('m.in', B, rows, n0, s.inputDropout);
    const P0 = firstLayerTargets(sc, labels, tl);
    const lossAcc = Array.from({ length: L + 1 }, (_, i) => lossAccumulator(sc, `loss${i}`));
    // the readout's CE targets: one-hot rows of the input stream; the target stream's rows take no part
    const roP = sc.get('ro.P', [rows, C]);
    const oneHot = new Float32Array(rows * C);
    for (let b = 0; b < B; b++) oneHot[b * C + labels[b]] = 1;
    be.write(roP, oneHot);
    let P = P0;
    // the per-step blocks of every layer's hook, issued from their recorded kernel calls where the
    // backend can (Backend.replayable: the same calls at every step but for the gathering slot g)
    const keys = Array.from({ length: L + 1 }, () => ({}));
    const replay = (i: number, g: Tensor, block: () => void): void => {
      if (be.replayable) be.replayable(keys[i], [g], block);
      else block();
    };
    const first = net.layers[0], x0 = net.inputTensor();
    net.useInputReference(src.mostLikely, inputMask);
    try {
      net.run({
        steps: T,
        // the input straight into the first layer's gathering buffer where it has one (no copy there)
        input: (t) => {
          const x = first.inputSlot() ?? x0;
          src.write(t, x);
          if (inputMask) be.mul(x, x, inputMask);
          return x;
        },
        hooks: {
          beforeStep: () => {
            P = P0;
          },
          afterLayer: (layer) => {
            const i = layer.index;
            if (i === L) {
              // readout: leaky integrator on the last hidden layer's spikes, per-step CE on the input rows
              const U = layer.voltage();
              // dz straight into the readout's gathering buffer where it has one (no copy in accumulateGrad)
              const g = layer.gradSlot() ?? dz;
              replay(L, g, () => {
                be.axpby(zsum, U, 1, 1);
                be.softmaxCrossEntropy(lossAcc[L], g, U, roP, { lossDivisor: B, gradDivisor: B });
                be.fillRows(g, B, rows, 0);
              });
              layer.accumulateGrad(g, 1, this.readout.grads());
              return;
            }
            const q = st[i], info = this.info[i], u = layer.voltage();
            // g straight into the layer's gathering buffer where it has one (no copy in accumulateGrad)
            const g = layer.gradSlot() ?? q.g;
            const out = layer.output();
            replay(i, g, () => {
              if (surrogate) {
                if (!q.fused) be.surrogate(q.r, u, info.threshold, s.surrogate, false);
              } else voltageRepresentation(be, q.r, u, s.voltageRelative ? info.threshold : 0);
              if (q.mask) be.mul(q.r, q.r, q.mask);
              localLosses[s.loss](be, sc, q.r, B, P, g, s.sim, lossAcc[i]);
              if (surrogate && info.vMin === undefined && be.gradTail) {
                // target rows, mask, f' and the spike count in one call (the same operations as below)
                if (!q.fused) be.surrogate(q.d, u, info.threshold, s.surrogate, true);
                be.gradTail(g, q.d, q.mask, s.detachTarget ? B : rows, q.count, out);
              } else {
                if (s.detachTarget) zeroTargetRows(be, g, B); // stop-gradient through the target stream
                if (q.mask) be.mul(g, g, q.mask);
                if (surrogate) {
                  if (!q.fused) be.surrogate(q.d, u, info.threshold, s.surrogate, true);
                  be.mul(g, g, q.d);
                }
                if (info.vMin !== undefined) be.gateBelow(g, u, info.vMin); // ∂U/∂W = 0 where the membrane floor holds U
                be.axpby(q.count, out, 1, 1);
              }
            });
            const w = this.lossWeights[i];
            if (w !== 0) layer.accumulateGrad(g, w, this.layers[i].grads());
            if (i + 1 < L) P = nextLayerTargets(s.loss, be, sc, q.r, B, P, s.sim);
            if (!q.sd || !q.mask) return;
            be.copy(q.sd, out);
            be.mul(q.sd, q.sd, q.mask);
            return q.sd;
          },
        },
      });
    } finally {
      for (const l of net.layers) l.setStepOutputs(null);
    }
    // every layer's gathered updates applied (the readout's beside the first layer's where the backend can)
    const blocks = [...this.layers, this.readout];
    Layer.finishGrads(blocks.map((d, i) => ({ layer: this.net.layers[i], grads: d.grads() })));
    for (const d of blocks) d.scaleGrad(1 / T);
    return { losses: lossAcc, counts: st.map((q) => q.count), zsum, targetRows: nt };
  }

  predict(x: Float32Array, B: number): Int32Array {
    return this.predictWith(x, B, this.settings.predict);
  }

  /** predict on a backend with asynchronous read-back (rule.ts): the same kernels, one sync before the read. */
  async predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    await this.target.syncHost(); // the class-signal rows and the target stream read S and d
    const p = this.predictDevice(x, B, this.settings.predict);
    await this.ctx.backend.sync?.([p.acc ?? p.zsum]);
    return this.predictFinish(p);
  }

  /** Predict with an explicit method ('readout' or 'classSignal'), whatever the configured one. */
  predictWith(x: Float32Array, B: number, mode: 'readout' | 'classSignal'): Int32Array {
    return this.predictFinish(this.predictDevice(x, B, mode));
  }

  /** The window of a prediction (kernels only): Σ_t U_o [rows, C], and with 'classSignal' the last hidden layer's summed representation. */
  private predictDevice(x: Float32Array, B: number, mode: 'readout' | 'classSignal'): { B: number; nt: number; last: number; acc: Tensor | null; zsum: Tensor } {
    const s = this.settings, n0 = this.stepInputSize, C = this.ctx.numClasses, be = this.ctx.backend;
    const nt = mode === 'classSignal' ? C : 0;
    const tl = Int32Array.from({ length: nt }, (_, c) => c);
    const src = makeStepSource(s, this.ctx, x, B, this.targetRates(tl), nt, n0, this.encoders);
    const net = this.net, L = this.layers.length, rows = B + nt;
    const last = this.layers[L - 1].outSize, info = this.info[L - 1];
    const acc = nt ? this.sc.zeros('p.acc', [rows, last]) : null;
    const r = nt ? this.sc.get('p.r', [rows, last]) : null;
    const zsum = this.sc.zeros('p.zsum', [rows, C]);
    net.reset([{ name: 'input', rows: B }, { name: 'target', rows: nt }]);
    net.setTracing(false);
    net.useInputReference(src.mostLikely);
    try {
      net.run({
        steps: s.steps,
        write: (t, out) => src.write(t, out),
        hooks: {
          afterLayer: (layer) => {
            if (layer.index === L) be.axpby(zsum, layer.voltage(), 1, 1);
            else if (layer.index === L - 1 && acc && r) {
              if (s.representation === 'surrogate') be.surrogate(r, layer.voltage(), info.threshold, s.surrogate, false);
              else voltageRepresentation(be, r, layer.voltage(), s.voltageRelative ? info.threshold : 0);
              be.axpby(acc, r, 1, 1);
            }
          },
        },
      });
    } finally {
      net.setTracing(true);
    }
    return { B, nt, last, acc, zsum };
  }

  /** The classes from a prediction window's sums (host read). */
  private predictFinish({ B, nt, last, acc, zsum }: { B: number; nt: number; last: number; acc: Tensor | null; zsum: Tensor }): Int32Array {
    const be = this.ctx.backend, C = this.ctx.numClasses;
    if (acc) return nearestClassSignal(be.read(acc), B, nt, last);
    return argmaxRows(be.read(zsum).subarray(0, B * C), B, C);
  }

  override dispose(): void {
    this.net.free();
    for (const e of this.encoders.values()) e.dispose?.();
    this.encoders.clear();
    super.dispose();
  }
}

/** Sum of the first `head` values and of all values (f64). */
function headSum(v: Float32Array, head: number): [number, number] {
  let h = 0, all = 0;
  for (let k = 0; k < v.length; k++) {
    all += v[k];
    if (k < head) h += v[k];
  }
  return [h, all];
}

/** A layer spec's resolved model parameters (for defaults taken from them, e.g. the readout β). */
/** The spiking readout's membrane decay: ruleParams.readoutBeta, else the last hidden layer's β (0.9 for a model without one). */
export function readoutBeta(s: RuleSettings, specs: readonly LayerSpec[]): number {
  if (s.readoutBeta !== undefined) return s.readoutBeta;
  const last = specs[specs.length - 1];
  const model = typeof last.model === 'string' || last.model === undefined ? getModel(last.model ?? 'lif') : last.model;
  const beta = (model.resolve(last.params as never, s.dtMs) as { beta?: unknown }).beta;
  return typeof beta === 'number' ? beta : 0.9;
}

/** Names of the registered models spiking sigprop can train (those declaring an input response). */
function trainableModels(): string {
  return modelNames().filter((n) => getModel(n).inputResponse).join(', ');
}
