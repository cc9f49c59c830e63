/**
 * Spiking sigprop, online in time (config mode 'spiking').
 *
 * Input rows x and target rows t0 = g(S·c + d) are encoded the same way (rate coding by
 * default) and concatenated on the batch axis; every row has its own LIF state. At each step t,
 * layer ℓ integrates U[t] = β·U[t−1] + x[t]·W + b − S[t−1]·θ (snnTorch Leaky, reset detached),
 * its representation r[t] is f(U[t] − θ) (surrogate mode) or U[t] (voltage mode), and the per-step
 * local loss L[t](h[t], t[t]) gives g[t] = ∂L[t]/∂r[t]. Because ∂U[t]/∂W = e[t] with the
 * presynaptic eligibility trace e[t] = β·e[t−1] + x[t] (or x[t] itself for the 'instant'
 * variant), the update is accumulated online into one fixed-size buffer:
 *     ΔW ∝ Σ_t e[t]ᵀ·(g[t] ⊙ f'(U[t] − θ))          (f' ≡ 1 in voltage mode)
 * With a membrane floor (LIF vMin) the gradient is zeroed where the floor holds U (∂U/∂W = 0 there);
 * the presynaptic trace then runs on through clamped steps, an approximation of the same kind as the
 * detached reset. Memory holds one step of state per layer, never all T steps. Each layer's output spikes feed
 * the next layer as constants (stop-gradient). The readout is a non-spiking leaky integrator
 * U_o[t] = β_o·U_o[t−1] + s[t]·W_o + b_o trained the same way with per-step softmax CE on the
 * input rows; prediction is argmax Σ_t U_o[t] (or the nearest class signal).
 * Losses and gradients are averaged over the T steps.
 */
import { getModel } from '../../models/registry.js';
import { gateThroughFloor, resolveLif, type LifResolved } from '../../models/lif.js';
import type { ExperimentConfig } from '../config/types.js';
import { createEncoder, parseEncoderSpec, type Encoder } from '../encoders.js';
import { ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, lossAccumulator, oneHotTargets, readLoss, softmaxCE } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import {
  SigpropBlocks, applyMask, dropoutMask, firstLayerTargets, localLosses, nearestClassSignal, nextLayerTargets, targetRowLabels, zeroTargetRows,
} from './sigprop-common.js';
import { headRows } from './sigprop-rate.js';
import { TargetGenerator } from './target.js';

/** Per-row input of every step: an encoder over [x; t0] rows, or pre-encoded rasters. */
export interface StepSource {
  /** Write the input of step t into out [rows, n]. */
  write(t: number, out: Tensor): void;
}

/**
 * Build the step source for `rows` rows of per-step size n: x holds [B, n] intensities (or
 * [B, T·n] rasters when encoder = 'raster'), t0 [nt, n] target rates (always rate-coded like x;
 * for 'raster' the targets are rate-coded).
 */
export function makeStepSource(
  s: RuleSettings, ctx: RuleContext, x: Float32Array, B: number, t0: Float32Array, nt: number, n: number, enc: Map<string, Encoder>,
): StepSource {
  const be = ctx.backend;
  const get = (key: string, spec: string, params?: Record<string, number>): Encoder => {
    let e = enc.get(key);
    if (!e) {
      const parsed = parseEncoderSpec(spec);
      enc.set(key, (e = createEncoder({ name: parsed.name, params: { ...parsed.params, ...(params ?? {}) } }, { rng: ctx.rng, steps: s.steps })));
    }
    return e;
  };
  if (s.encoder !== 'raster') {
    const e = get('main', s.encoder, s.encoderParams);
    const both = new Float32Array((B + nt) * n);
    both.set(x.subarray(0, B * n));
    both.set(t0.subarray(0, nt * n), B * n);
    e.setInput(both, B + nt, n);
    return { write: (t, out) => e.encode(t, out, be) };
  }
  const rate = get('targets', 'rate');
  if (nt > 0) rate.setInput(t0.subarray(0, nt * n), nt, n);
  const T = s.steps;
  return {
    write(t, out) {
      const o = out.data;
      for (let b = 0; b < B; b++) o.set(x.subarray(b * T * n + t * n, b * T * n + (t + 1) * n), b * n);
      if (nt > 0) o.set(rate.encodeHost(t), B * n);
    },
  };
}

/** Voltage-mode representation r = U − shift (shift 0: U itself; θ: voltage relative to threshold). */
function voltageRepresentation(be: RuleContext['backend'], r: Tensor, u: Tensor, shift: number): void {
  be.copy(r, u);
  if (shift !== 0) {
    const R = r.data;
    for (let k = 0; k < R.length; k++) R[k] -= shift;
  }
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

/** Resolve LIF parameters of a hidden layer and check the eligibility trace is exact for them. */
export function resolveSpikingLayer(layer: ExperimentConfig['layers'][number], dtMs: number, index: number): LifResolved {
  const model = layer.model ?? 'lif';
  getModel(model); // unknown model names fail here with the list of known ones
  if (model !== 'lif') {
    throw new ParameterError(`layers[${index}].model = "${model}": online sigprop eligibility traces are implemented for 'lif' layers; use model 'lif'`);
  }
  const p = resolveLif(layer.params as never, dtMs);
  if (p.reset === 'zero') {
    throw new ParameterError(`layers[${index}].params.reset = "zero": the presynaptic trace is exact only for reset 'subtract' or 'none'; use one of those`);
  }
  return p;
}

export class SpikingSigprop extends SigpropBlocks implements TrainingRule {
  readonly name = 'sigprop';
  readonly settings: RuleSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  readonly target: TargetGenerator;
  readonly lif: LifResolved[];
  readonly readoutBeta: number;
  /** Per-step input size (inputSize, or inputSize / T for pre-encoded rasters). */
  readonly stepInputSize: number;
  /** Multiplier of each hidden layer's local loss (ablations; 0 switches a layer's learning off). */
  lossWeights: number[];
  protected readonly sc: Scratch;
  private readonly encoders = new Map<string, Encoder>();
  private stepIndex = 0;

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    super();
    const s = (this.settings = resolveRuleSettings(config));
    if (s.hidden.length < 1) throw new ParameterError('spiking sigprop needs at least one hidden layer: layers = [{ size: 1000 }, { size: 10 }]');
    this.lif = s.hidden.map((l, i) => resolveSpikingLayer(l, s.dtMs, i));
    this.readoutBeta = s.readoutBeta ?? this.lif[this.lif.length - 1].beta;
    if (s.encoder === 'raster' && ctx.inputSize % s.steps !== 0) {
      throw new ParameterError(`encoder 'raster' needs inputSize (${ctx.inputSize}) to be steps (${s.steps}) × channels; set steps to the dataset's time steps`);
    }
    this.stepInputSize = s.encoder === 'raster' ? ctx.inputSize / s.steps : ctx.inputSize;
    this.sc = new Scratch(ctx.backend);
    this.target = new TargetGenerator(ctx.backend, ctx.rng, ctx.numClasses, this.stepInputSize, s);
    let fanIn = this.stepInputSize;
    this.layers = s.hidden.map((l, i) => {
      const d = new DenseParams(ctx.backend, ctx.rng, `layer${i}`, fanIn, l.size, s);
      fanIn = l.size;
      return d;
    });
    this.readout = new DenseParams(ctx.backend, ctx.rng, 'readout', fanIn, s.outputSize, s);
    this.lossWeights = this.layers.map(() => 1);
  }

  describe(): string {
    const s = this.settings;
    return `sigprop (spiking LIF β=${this.lif.map((p) => p.beta).join('/')}, T=${s.steps}) ` +
      `${[this.stepInputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} representation=${s.representation}` +
      `${s.representation === 'surrogate' ? ` surrogate=${s.surrogate.spec}` : ''} eligibility=${s.eligibility} loss=${s.loss} ` +
      `encoder=${s.encoder} target=${s.targetProjection} predict=${s.predict} ${s.optimizer} lr=${s.learningRate}`;
  }

  /** Bytes of backend memory the rule's work tensors hold now (independent of T by construction). */
  workBytes(): number {
    return this.sc.bytes();
  }

  private targetRates(labels: ArrayLike<number>): Float32Array {
    const t0 = new Float32Array(labels.length * this.stepInputSize);
    this.target.write(labels, t0);
    return t0;
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const s = this.settings, be = this.ctx.backend, sc = this.sc, B = labels.length, T = s.steps;
    const step = ++this.stepIndex;
    const xr = s.encoder === 'raster' ? rasterRates(x, B, T, this.stepInputSize) : x;
    const targetLoss = this.target.update(sc, xr, labels, step);
    const tl = targetRowLabels(s.loss, labels, this.ctx.numClasses);
    const nt = tl.length, rows = B + nt, n0 = this.stepInputSize;
    const src = makeStepSource(s, this.ctx, x, B, this.targetRates(tl), nt, n0, this.encoders);
    const input = sc.get('in', [rows, n0]);
    const L = this.layers.length, C = this.readout.outSize;
    const surrogate = s.representation === 'surrogate';
    // one step of state per layer: u, s, trace e (of the layer's input), current, representation, gradient
    const st = this.layers.map((layer, i) => ({
      u: sc.zeros(`u${i}`, [rows, layer.outSize]),
      s: sc.zeros(`s${i}`, [rows, layer.outSize]),
      e: sc.zeros(`e${i}`, [rows, layer.inSize]),
      I: sc.get(`I${i}`, [rows, layer.outSize]),
      r: sc.get(`r${i}`, [rows, layer.outSize]),
      g: sc.get(`g${i}`, [rows, layer.outSize]),
      d: sc.get(`d${i}`, [rows, layer.outSize]),
      // dropout: one mask per sample over the whole window; the dropped spikes feed the next layer
      mask: dropoutMask(this.ctx.rng, B, layer.outSize, s.dropout),
      sd: s.dropout > 0 ? sc.get(`sd${i}`, [rows, layer.outSize]) : null,
      eb: 0,
      spikesH: 0,
      spikesT: 0,
    }));
    const ro = {
      u: sc.zeros('ro.u', [B, C]),
      e: sc.zeros('ro.e', [B, this.readout.inSize]),
      h: sc.get('ro.h', [B, this.readout.inSize]),
      dz: sc.get('ro.dz', [B, C]),
      zsum: new Float32Array(B * C),
      eb: 0,
    };
    for (const l of [...this.layers, this.readout]) l.zeroGrad();
    const inputMask = dropoutMask(this.ctx.rng, B, n0, s.inputDropout);
    const P0 = firstLayerTargets(sc, labels, tl), roP = oneHotTargets(sc, labels, C);
    const lossAcc = Array.from({ length: L + 1 }, (_, i) => lossAccumulator(sc, `loss${i}`));
    for (let t = 0; t < T; t++) {
      src.write(t, input);
      applyMask(input.data, inputMask);
      let x_t: Tensor = input;
      let P = P0;
      for (let i = 0; i < L; i++) {
        const layer = this.layers[i], p = this.lif[i], q = st[i];
        be.spikeMatmul(q.I, x_t, layer.W.value);
        be.addRow(q.I, layer.b.value);
        be.lifStep(q.u, q.s, q.I, p);
        // presynaptic eligibility trace of this layer's input: e = β·e + x (exact) or x (instant)
        let elig: Tensor = x_t;
        if (s.eligibility === 'trace') {
          be.axpby(q.e, x_t, 1, p.beta);
          elig = q.e;
          q.eb = p.beta * q.eb + 1;
        } else q.eb = 1;
        if (surrogate) be.surrogate(q.r, q.u, p.threshold, s.surrogate, false);
        else voltageRepresentation(be, q.r, q.u, s.voltageRelative ? p.threshold : 0);
        applyMask(q.r.data, q.mask);
        localLosses[s.loss](be, sc, q.r, B, P, q.g, s.sim, lossAcc[i]);
        if (s.detachTarget) zeroTargetRows(q.g, B);
        applyMask(q.g.data, q.mask);
        if (surrogate) {
          be.surrogate(q.d, q.u, p.threshold, s.surrogate, true);
          be.mul(q.g, q.g, q.d);
        }
        gateThroughFloor(q.g.data, q.u.data, p.vMin);
        const w = this.lossWeights[i];
        if (w !== 0) {
          be.spikeOuter(layer.W.grad, elig, q.g, w);
          be.sumRows(layer.b.grad, q.g, w * q.eb, 1);
        }
        P = i + 1 < L ? nextLayerTargets(s.loss, be, sc, q.r, B, P, s.sim) : P;
        this.countSpikes(q, B);
        x_t = q.s;
        if (q.sd) {
          be.copy(q.sd, q.s);
          applyMask(q.sd.data, q.mask);
          x_t = q.sd;
        }
      }
      // readout: leaky integrator on the last hidden layer's input-row spikes, per-step CE
      const h = ro.h;
      h.data.set(x_t.data.subarray(0, B * this.readout.inSize));
      be.spikeMatmul(ro.u, h, this.readout.W.value, this.readoutBeta);
      be.addRow(ro.u, this.readout.b.value);
      be.axpby(ro.e, h, 1, this.readoutBeta);
      ro.eb = this.readoutBeta * ro.eb + 1;
      const U = ro.u.data;
      for (let k = 0; k < U.length; k++) ro.zsum[k] += U[k];
      softmaxCE(be, ro.u, roP, ro.dz, lossAcc[L]);
      be.spikeOuter(this.readout.W.grad, ro.e, ro.dz, 1);
      be.sumRows(this.readout.b.grad, ro.dz, ro.eb, 1);
    }
    this.stats = [];
    this.layers.forEach((layer, i) => {
      layer.scaleGrad(1 / T);
      layer.step(step);
      const q = st[i];
      this.stats.push({
        layer: i, label: `${layer.name} (lif, ${layer.outSize})`, weightNorm: layer.weightNorm(),
        firingRate: q.spikesH / (T * B * layer.outSize), targetFiringRate: q.spikesT / (T * nt * layer.outSize),
        learningRate: layer.opt.learningRate,
      });
    });
    this.readout.scaleGrad(1 / T);
    this.readout.step(step);
    this.stats.push({ layer: L, label: `readout (leaky, ${C})`, weightNorm: this.readout.weightNorm(), learningRate: this.readout.opt.learningRate });
    const pred = argmaxRows(ro.zsum, B, C);
    let correct = 0;
    for (let b = 0; b < B; b++) if (pred[b] === labels[b]) correct++;
    const lossSum = lossAcc.map((t) => readLoss(be, t));
    const layerLosses = Array.from(lossSum, (v) => v / T);
    if (targetLoss) layerLosses.unshift(targetLoss);
    return { loss: layerLosses.reduce((a, b) => a + b, 0), layerLosses, accuracy: correct / B };
  }

  private countSpikes(q: { s: Tensor; spikesH: number; spikesT: number }, B: number): void {
    const S = q.s.data, split = B * q.s.shape[1];
    let h = 0;
    for (let k = 0; k < split; k++) h += S[k];
    q.spikesH += h;
    q.spikesT += this.ctx.backend.sum(q.s) - h;
  }

  predict(x: Float32Array, B: number): Int32Array {
    return this.predictWith(x, B, this.settings.predict);
  }

  /** Predict with an explicit method ('readout' or 'classSignal'), whatever the configured one. */
  predictWith(x: Float32Array, B: number, mode: 'readout' | 'classSignal'): Int32Array {
    const s = this.settings, n0 = this.stepInputSize, C = this.ctx.numClasses;
    const nt = mode === 'classSignal' ? C : 0;
    const tl = Int32Array.from({ length: nt }, (_, c) => c);
    const src = makeStepSource(s, this.ctx, x, B, this.targetRates(tl), nt, n0, this.encoders);
    return predictSpiking(this.ctx, this.sc, s, this.layers, this.lif, this.readout, this.readoutBeta, src, B, nt);
  }

}

/**
 * Forward-only pass of a spiking LIF stack with its leaky-integrator readout over T steps.
 * Returns argmax Σ_t U_o[t] per input row, or (nt = numClasses class-signal rows after the B
 * input rows) the nearest class signal of the last hidden layer's time-summed representation.
 */
export function predictSpiking(
  ctx: RuleContext, sc: Scratch, s: RuleSettings, layers: DenseParams[], lif: LifResolved[], readout: DenseParams,
  readoutBeta: number, src: StepSource, B: number, nt: number,
): Int32Array {
  const be = ctx.backend, T = s.steps, rows = B + nt, C = readout.outSize;
  const input = sc.get('p.in', [rows, layers[0].inSize]);
  const st = layers.map((layer, i) => ({
    u: sc.zeros(`p.u${i}`, [rows, layer.outSize]),
    s: sc.zeros(`p.s${i}`, [rows, layer.outSize]),
    I: sc.get(`p.I${i}`, [rows, layer.outSize]),
  }));
  const last = layers[layers.length - 1].outSize;
  const acc = new Float32Array(nt ? rows * last : 0);
  const uo = sc.zeros('p.ro.u', [B, C]);
  const h = sc.get('p.ro.h', [B, last]);
  const r = nt ? sc.get('p.r', [rows, last]) : null;
  const zsum = new Float32Array(B * C);
  for (let t = 0; t < T; t++) {
    src.write(t, input);
    let x_t: Tensor = input;
    layers.forEach((layer, i) => {
      be.spikeMatmul(st[i].I, x_t, layer.W.value);
      be.addRow(st[i].I, layer.b.value);
      be.lifStep(st[i].u, st[i].s, st[i].I, lif[i]);
      x_t = st[i].s;
    });
    if (r) {
      const L = layers.length - 1;
      if (s.representation === 'surrogate') be.surrogate(r, st[L].u, lif[L].threshold, s.surrogate, false);
      else voltageRepresentation(be, r, st[L].u, s.voltageRelative ? lif[L].threshold : 0);
      const R = r.data;
      for (let k = 0; k < R.length; k++) acc[k] += R[k];
      continue;
    }
    h.data.set(x_t.data.subarray(0, B * last));
    be.spikeMatmul(uo, h, readout.W.value, readoutBeta);
    be.addRow(uo, readout.b.value);
    const U = uo.data;
    for (let k = 0; k < U.length; k++) zsum[k] += U[k];
  }
  if (nt) return nearestClassSignal(acc, B, nt, last);
  return argmaxRows(zsum, B, C);
}
