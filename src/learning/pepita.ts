/**
 * PEPITA (Dellaferrera & Kreiman, ICML 2022, "Error-driven input modulation"; reference code
 * GiorgiaD/PEPITA), its variants (Srinivasan et al., ICLR 2024; code ravifrancesco/PEPITA) and
 * MEMPEPITA (Pau & Aymone, IEEE COINS 2023), on the rate MLP of the engine (rateNetwork: hidden
 * 'rate' layers a = φ(W·x), a linear readout; no biases: they stay at 0 and are never updated).
 *
 * Per batch (x [B, d_in], one-hot targets P [B, C]), with one dropout mask per hidden layer drawn
 * once and applied to the layer's activity in BOTH passes (inverted dropout, keep 1 − dropout):
 *   pass 1 (clean):      h_ℓ = mask_ℓ ⊙ relu(W_ℓ h_{ℓ−1}),  e = softmax(W_L h_{L−1}) − P
 *   modulated input:     x_mod = x + F·e        (modulationSign +1, Dellaferrera & Kreiman, default;
 *                                               −1 gives Srinivasan et al.'s x − F·e, the default with mirror)
 *   pass 2 (modulated):  h_ℓ^mod as pass 1 on x_mod (same masks), e^mod = softmax(out^mod) − P
 *   hidden update:       ΔW_ℓ = −η (h_ℓ − h_ℓ^mod)(h_{ℓ−1}^mod)ᵀ / B       (h_0^mod = x_mod)
 *   last layer:          ΔW_L = −η e^mod (h_{L−1}^mod)ᵀ / B  (lastError 'modulated', the default;
 *                        'clean' uses the first pass's e, as Srinivasan et al.'s code)
 * F = fScale·U(±√(6/d_in)), shape [d_in, C], fixed; fScale 0.05. The updates go through each
 * layer's own optimiser (SGD with momentum 0.9 in the presets: v = μv + g, W −= η·v, which equals the
 * reference code's v = μv + η·ΔW/B, W += v while η is constant; at a schedule milestone the
 * reference's velocity keeps the old η, ours takes the new one at once).
 *
 * Both passes run on the engine Network (rateNetwork) of the rule's parameter tensors, one step
 * each; the rule is the engine's afterLayer hook: it applies the dropout mask (and the optional
 * activation normalisation) to the layer's activity before the next layer reads it, and in the
 * modulated pass computes that layer's update from what the hook sees (its input and its activity)
 * and the clean activity, and steps the layer's optimiser. The clean activities come from:
 *   - PEPITA: copies taken by the hooks of pass 1 (stored between the passes: B·Σn_ℓ values);
 *   - MEMPEPITA (ruleParams.mempepita): nothing is kept from pass 1 but e; pass 2 runs the clean and
 *     the modulated input side by side as two streams of one batch (rows [0, B) and [B, 2B)), so each
 *     layer's hook has both activities of that layer at hand and the clean ones are recomputed, not
 *     stored. Same updates (same weights, masks and inputs), one more forward pass of B rows.
 *
 * Variants (ruleParams):
 *   - weight decay: the config's weightDecay (L2 added to each update, as torch's SGD);
 *   - normalizeActivations: h_ℓ ← h_ℓ / ‖h_ℓ‖_F (Frobenius norm over the batch, each pass and stream on
 *     its own), after ReLU and dropout, as Srinivasan et al.'s Normalization layer (the row-normalisation
 *     kernel on the block seen as one row, so the norm never leaves the device);
 *   - pepitaUpdate 'hebbian' (PEPITA-Hebbian): ΔW_ℓ = −η (h_ℓ h_{ℓ−1}ᵀ − h_ℓ^mod (h_{ℓ−1}^mod)ᵀ)/B,
 *     ΔW_L = −η (y h_{L−1}ᵀ − P (h_{L−1}^mod)ᵀ)/B with y = softmax output of pass 1;
 *   - pepitaUpdate 'time-local': the same two terms as two optimiser steps, the anti-Hebbian one in the
 *     hooks of the clean pass, the Hebbian one in those of the modulated pass (which then runs on the
 *     updated weights) with new dropout masks, as Srinivasan et al.'s code (ConsistentDropout reset
 *     after the first pass; every other mode keeps the first pass's masks);
 *   - mirror (weight mirroring): F = B_0·B_1·…·B_L, one factor per layer with W_ℓ's shape, drawn
 *     normal with std (fScale·√(2/d_in)/√Πn_hidden)^(1/(L+1)). After each batch's update (in mirroring
 *     epochs), noise ξ [B, n_{ℓ−1}] of std mirrorNoise (its mean removed) goes through layer ℓ alone
 *     (y = relu(ξ·W_ℓ), softmax for the last layer; no dropout), and B_ℓ ← B_ℓ + lr·(ξᵀy/B − wd·B_ℓ)
 *     (plain SGD, lr = mirrorLearningRate, wd = mirrorWeightDecay); then every B_ℓ is scaled by
 *     (fScale·√(2/d_in)/std(F))^(1/(L+1)) so that std(F) stays put.
 *
 * Alignment: layerStats() reports the angle between (W_L…W_1)ᵀ and F (productAlignmentAngle, on the
 * last layer's entry) and, with mirror, the angle between each W_ℓ and its factor B_ℓ
 * (alignmentAngle), in degrees, as Srinivasan et al.'s compute_angle (arccos of the cosine
 * similarity of the flattened matrices). Here weights are stored [in, out], so (W_L…W_1)ᵀ is the
 * product W_0·W_1·…·W_L of the stored matrices, [d_in, C], the shape of F.
 */
import type { Backend } from '../backend/backend.js';
import type { ExperimentConfig } from '../config/types.js';
import type { Network } from '../engine/network.js';
import type { Layer } from '../engine/layer.js';
import { checkBoolean, checkNumber, checkOneOf, ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { DenseParams, denseChain } from './dense.js';
import { argmaxRows, countCorrect, lossAccumulator, oneHotTargets, readLoss, syncedArgmax } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import { dropoutMask } from './sigprop-common.js';
import { rateNetwork } from './sigprop-rate.js';

/** ε of the activation normalisation h/√(Σh² + ε): keeps an all-zero (dead) layer at 0 instead of 0/0. */
const FROBENIUS_EPS = 1e-30;

/** PEPITA's own settings (ruleParams, see pepita-params.ts). */
export interface PepitaSettings {
  fScale: number;
  lastError: 'modulated' | 'clean';
  /** +1: x_mod = x + F·e; −1: x_mod = x − F·e. */
  modulationSign: 1 | -1;
  update: 'pepita' | 'hebbian' | 'time-local';
  normalizeActivations: boolean;
  mempepita: boolean;
  mirror: boolean;
  mirrorLearningRate: number;
  mirrorWeightDecay: number;
  mirrorNoise: number;
  mirrorEvery: number;
  preMirror: number;
}


/** Resolve and validate PEPITA's ruleParams (ParameterError naming the field and what is allowed). */
export function resolvePepitaSettings(config: ExperimentConfig): PepitaSettings {
  const p = config.ruleParams ?? {};
  const mirror = checkBoolean('ruleParams.mirror', p.mirror, false);
  const sign = p.modulationSign ?? (mirror ? -1 : 1);
  if (sign !== 1 && sign !== -1) throw new ParameterError(`ruleParams.modulationSign = ${JSON.stringify(sign)} must be 1 (x + F·e) or -1 (x − F·e)`);
  const update = checkOneOf('ruleParams.pepitaUpdate', p.pepitaUpdate ?? 'pepita', ['pepita', 'hebbian', 'time-local'] as const);
  const mempepita = checkBoolean('ruleParams.mempepita', p.mempepita, false);
  if (mempepita && update === 'time-local') {
    throw new ParameterError("ruleParams.mempepita = true cannot be used with ruleParams.pepitaUpdate = 'time-local': the time-local variant updates during each pass and stores no activations; drop mempepita");
  }
  const mirrorKeys = ['mirrorLearningRate', 'mirrorWeightDecay', 'mirrorNoise', 'mirrorEvery', 'preMirror'].filter((k) => p[k] !== undefined);
  if (!mirror && mirrorKeys.length) throw new ParameterError(`ruleParams.${mirrorKeys[0]} is set but ruleParams.mirror is not true; set ruleParams.mirror = true or drop ${mirrorKeys.map((k) => `ruleParams.${k}`).join(', ')}`);
  return {
    fScale: checkNumber('ruleParams.fScale', p.fScale ?? 0.05, { min: 0, minExclusive: true }),
    lastError: checkOneOf('ruleParams.lastError', p.lastError ?? 'modulated', ['modulated', 'clean'] as const),
    modulationSign: sign,
    update,
    normalizeActivations: checkBoolean('ruleParams.normalizeActivations', p.normalizeActivations, false),
    mempepita,
    mirror,
    mirrorLearningRate: checkNumber('ruleParams.mirrorLearningRate', p.mirrorLearningRate ?? 0.1, { min: 0, minExclusive: true }),
    mirrorWeightDecay: checkNumber('ruleParams.mirrorWeightDecay', p.mirrorWeightDecay ?? 0.5, { min: 0 }),
    mirrorNoise: checkNumber('ruleParams.mirrorNoise', p.mirrorNoise ?? 0.1, { min: 0, minExclusive: true }),
    mirrorEvery: checkNumber('ruleParams.mirrorEvery', p.mirrorEvery ?? 1, { min: 1, integer: true }),
    preMirror: checkNumber('ruleParams.preMirror', p.preMirror ?? 0, { min: 0, integer: true }),
  };
}

/**
 * The angle in degrees between two matrices of one shape, flattened (arccos of their cosine
 * similarity); 90 when either is zero. Kernels: mul, sum, sumSquares; on a backend with
 * asynchronous read-back the sums run on host copies of a and b (synced by the caller).
 */
export function alignmentAngleDeg(be: Backend, sc: Scratch, a: Tensor, b: Tensor): number {
  let dot = 0, na = 0, nb = 0;
  if (be.asyncReads) {
    const A = be.read(a), Bv = be.read(b);
    for (let i = 0; i < A.length; i++) {
      dot += A[i] * Bv[i];
      na += A[i] * A[i];
      nb += Bv[i] * Bv[i];
    }
  } else {
    const t = sc.get(`angle.${a.shape.join('x')}`, a.shape);
    be.mul(t, a, b);
    dot = be.sum(t);
    na = be.sumSquares(a);
    nb = be.sumSquares(b);
  }
  if (!(na > 0) || !(nb > 0)) return 90;
  const c = Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
  return (Math.acos(c) * 180) / Math.PI;
}

/** The product m_0·m_1·…·m_k of matrices (matmul kernels) as the scratch tensor `${name}.k`; m_0 itself when k = 0. */
export function matrixProduct(be: Backend, sc: Scratch, ms: readonly Tensor[], name = 'prod'): Tensor {
  let p = ms[0];
  for (let i = 1; i < ms.length; i++) {
    const q = sc.get(`${name}.${i}`, [p.shape[0], ms[i].shape[1]]);
    be.matmul(q, p, ms[i]);
    p = q;
  }
  return p;
}

/**
 * matrixProduct for the alignment statistics: on a backend with asynchronous read-back formed on
 * host copies of the matrices (synced by the caller) and written, so that it can be read at once.
 */
export function statsProduct(be: Backend, sc: Scratch, ms: readonly Tensor[], name = 'prod'): Tensor {
  if (!be.asyncReads || ms.length < 2) return matrixProduct(be, sc, ms, name);
  let p = ms[0], host = be.read(p);
  for (let i = 1; i < ms.length; i++) {
    const [m, k] = p.shape, n = ms[i].shape[1];
    const W = be.read(ms[i]), out = new Float32Array(m * n);
    for (let r = 0; r < m; r++) for (let j = 0; j < k; j++) {
      const v = host[r * k + j];
      if (v !== 0) for (let c = 0; c < n; c++) out[r * n + c] += v * W[j * n + c];
    }
    const q = sc.get(`${name}.${i}`, [m, n]);
    be.write(q, out);
    p = q;
    host = out;
  }
  return p;
}

/** What PEPITA keeps between its passes, for the memory comparison with MEMPEPITA. */
export interface PepitaMemory {
  /** Bytes of activity kept from the clean pass until the modulated pass (float32): clean hidden activities (PEPITA) and the output error e. */
  storedBytes: number;
  /** Rows the engine network holds state for in the modulated pass (B, or 2B with MEMPEPITA). */
  engineRows: number;
  /** Sample rows sent forward per batch (2B for PEPITA, 3B for MEMPEPITA). */
  forwardRows: number;
}

export class PepitaRule implements TrainingRule {
  readonly name = 'pepita';
  readonly settings: RuleSettings;
  readonly pepita: PepitaSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  /** The engine network both passes run on (hidden 'rate' layers, linear readout, on the rule's tensors). */
  readonly net: Network;
  /** The input projection F [d_in, C] (fixed, or the product of the mirror factors). */
  readonly F: Tensor;
  /** Mirror factors B_ℓ with W_ℓ's shape [n_{ℓ−1}, n_ℓ] (mirror only; empty otherwise). */
  readonly factors: Tensor[];
  /** Storage of the last batch (see PepitaMemory). */
  memory: PepitaMemory = { storedBytes: 0, engineRows: 0, forwardRows: 0 };
  private readonly sc: Scratch;
  private stepIndex = 0;
  private epoch = 0;
  /** Mean activity of each hidden layer in the last batch's clean pass. */
  private activity: number[] = [];

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    const rp = config.ruleParams ?? {};
    // published defaults: He-uniform init (±√(6/fanIn)), dropout 0.1 (keep 0.9) on hidden layers
    const base = resolveRuleSettings(config);
    this.settings = { ...base, initScale: rp.initScale === undefined ? Math.sqrt(6) : base.initScale, dropout: rp.dropout === undefined ? 0.1 : base.dropout };
    this.pepita = resolvePepitaSettings(config);
    const s = this.settings, be = ctx.backend, rng = ctx.rng;
    this.sc = new Scratch(be);
    ({ layers: this.layers, readout: this.readout } = denseChain(be, rng, s, ctx.inputSize));
    this.net = rateNetwork(ctx, s, this.layers, this.readout, rng);
    const K = ctx.inputSize, C = s.outputSize;
    if (!this.pepita.mirror) {
      const bound = Math.sqrt(6 / K);
      const f = rng.fillUniform(new Float32Array(K * C), -bound, bound);
      for (let i = 0; i < f.length; i++) f[i] *= this.pepita.fScale;
      this.F = be.fromArray([K, C], f);
      this.factors = [];
    } else {
      const n = this.chain().length;
      const el = s.hidden.reduce((p, l) => p * l.size, 1);
      const std = Math.pow(this.targetStd() / Math.sqrt(el), 1 / n);
      this.factors = this.chain().map((l) => be.fromArray([l.inSize, l.outSize], rng.fillNormal(new Float32Array(l.inSize * l.outSize), 0, std)));
      this.F = be.tensor([K, C]);
      this.updateF();
    }
  }

  /** Hidden layers then the readout. */
  private chain(): DenseParams[] {
    return [...this.layers, this.readout];
  }

  /** The std F keeps under mirroring: fScale·√(2/d_in). */
  private targetStd(): number {
    return this.pepita.fScale * Math.sqrt(2 / this.ctx.inputSize);
  }

  /** F = B_0·…·B_L (mirror). */
  private updateF(): void {
    this.ctx.backend.copy(this.F, matrixProduct(this.ctx.backend, this.sc, this.factors, 'Fprod'));
  }

  get network(): Network {
    return this.net;
  }

  describe(): string {
    const s = this.settings, p = this.pepita;
    const variants = [
      p.update !== 'pepita' ? p.update : '', p.mempepita ? 'mempepita' : '', p.normalizeActivations ? 'normalized' : '', p.mirror ? 'mirror' : '',
      s.weightDecay > 0 ? `wd=${s.weightDecay}` : '',
    ].filter(Boolean);
    return `pepita ${[this.ctx.inputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} φ=${s.activation} F=${p.fScale}·U(±√(6/d_in)) ` +
      `x${p.modulationSign > 0 ? '+' : '−'}F·e last=${p.lastError} dropout=${s.dropout}${variants.length ? ` ${variants.join(' ')}` : ''} ${s.optimizer} lr=${s.learningRate}`;
  }

  /**
   * What every hook does to a hidden layer's activity before the next layer reads it: the dropout
   * mask, then the optional normalisation (each stream of `streams` equal row blocks on its own).
   */
  private shape(out: Tensor, mask: Tensor | null, streams: number): void {
    const be = this.ctx.backend, sc = this.sc;
    if (mask) be.mul(out, out, mask);
    if (!this.pepita.normalizeActivations) return;
    // each stream's block [rows, n] as one row of rows·n values through the row-normalisation kernel (no read-back)
    const [R, n] = out.shape, len = (R / streams) * n;
    const flat = sc.get(`norm.in.${len}`, [1, len]), res = sc.get(`norm.out.${len}`, [1, len]), norms = sc.get('norm.n', [1]);
    for (let k = 0; k < streams; k++) {
      be.copySlice(flat, 0, out, k * len, len);
      be.normalizeRows(res, norms, flat, 0, true, FROBENIUS_EPS);
      be.copySlice(out, k * len, res, 0, len);
    }
  }

  /** Rows block k of `streams` equal blocks of t [R, n], copied into the scratch tensor `${name}.${n}`. */
  private half(t: Tensor, k: number, streams: number, name: string): Tensor {
    const [R, n] = t.shape, rows = R / streams;
    const o = this.sc.get(`${name}.${n}`, [rows, n]);
    this.ctx.backend.copySlice(o, 0, t, k * rows * n, rows * n);
    return o;
  }

  /** Hidden layer i's update from the clean and modulated activities (pc, c) and (pm, m) of its input and output. */
  private hiddenUpdate(i: number, pc: Tensor | null, pm: Tensor, c: Tensor | null, m: Tensor, B: number, step: number): void {
    const be = this.ctx.backend, layer = this.layers[i];
    layer.zeroGrad();
    switch (this.pepita.update) {
      case 'pepita': {
        const d = this.sc.get(`diff.${m.shape[1]}`, m.shape);
        be.copy(d, c as Tensor);
        be.axpby(d, m, -1, 1); // h − h^mod
        be.spikeOuter(layer.W.grad, pm, d, 1 / B);
        break;
      }
      case 'hebbian':
        be.spikeOuter(layer.W.grad, pc as Tensor, c as Tensor, 1 / B);
        be.spikeOuter(layer.W.grad, pm, m, -1 / B);
        break;
      case 'time-local':
        be.spikeOuter(layer.W.grad, pm, m, -1 / B);
        break;
    }
    layer.step(step, false);
  }

  /** The last layer's update from its clean and modulated inputs (pc, pm), the two errors and the targets P. */
  private readoutUpdate(pc: Tensor | null, pm: Tensor, e: Tensor, em: Tensor, P: Tensor, B: number, step: number): void {
    const be = this.ctx.backend, ro = this.readout;
    ro.zeroGrad();
    switch (this.pepita.update) {
      case 'pepita':
        be.spikeOuter(ro.W.grad, pm, this.pepita.lastError === 'modulated' ? em : e, 1 / B);
        break;
      case 'hebbian': // y = e + P
        be.spikeOuter(ro.W.grad, pc as Tensor, e, 1 / B);
        be.spikeOuter(ro.W.grad, pc as Tensor, P, 1 / B);
        be.spikeOuter(ro.W.grad, pm, P, -1 / B);
        break;
      case 'time-local':
        be.spikeOuter(ro.W.grad, pm, P, -1 / B);
        break;
    }
    ro.step(step, false);
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const d = this.deviceBatch(x, labels, true);
    if (d.mirror) {
      this.mirrorFactors(labels.length);
      this.rescaleF();
    }
    return this.readBatch(d);
  }

  /** trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, a sync before each read. */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    const be = this.ctx.backend;
    const d = this.deviceBatch(x, labels, false);
    if (d.mirror) {
      this.mirrorFactors(labels.length);
      await be.sync?.([this.F]);
      this.rescaleF();
    }
    await be.sync?.([d.loss, d.scores, ...d.activity]);
    return this.readBatch(d);
  }

  /** The read part of a batch: the clean pass's loss, accuracy and mean activities. */
  private readBatch(d: { loss: Tensor; scores: Tensor; activity: Tensor[]; labels: ArrayLike<number> }): BatchResult {
    const be = this.ctx.backend, B = d.labels.length;
    this.activity = d.activity.map((t) => be.sum(t) / t.size);
    const correct = countCorrect(be.read(d.scores), d.labels, this.readout.outSize);
    const l1 = readLoss(be, d.loss);
    return { loss: l1, layerLosses: [l1], accuracy: correct / B };
  }

  /**
   * The device part of a batch: both passes with their updates (kernels only), copies of what the
   * read part needs from the clean pass, then with `check` every layer's finiteness check; says
   * whether a weight-mirroring step follows.
   */
  private deviceBatch(x: Float32Array, labels: ArrayLike<number>, check: boolean): { loss: Tensor; scores: Tensor; activity: Tensor[]; labels: ArrayLike<number>; mirror: boolean } {
    const be = this.ctx.backend, sc = this.sc, s = this.settings, ps = this.pepita;
    const B = labels.length, K = this.ctx.inputSize, C = this.readout.outSize, L = this.layers.length;
    const step = ++this.stepIndex;
    const mirrorOnly = ps.mirror && this.epoch < ps.preMirror;
    const mem = ps.mempepita && !mirrorOnly;
    const tl = ps.update === 'time-local' && !mirrorOnly;
    const keep = !mem && !tl && !mirrorOnly; // PEPITA proper: keep the clean activities
    const xin = sc.get('x', [B, K]);
    be.write(xin, x.subarray(0, B * K));
    const P = oneHotTargets(sc, labels, C, 'pep.P');
    // one dropout mask per hidden layer and batch, for both passes (and both streams with MEMPEPITA);
    // time-local PEPITA draws new ones for its second pass (below), as Srinivasan et al.'s code
    const drawMasks = (tag: string) => this.layers.map((l, i) => {
      const m = dropoutMask(this.ctx.rng, B, l.outSize, s.dropout);
      if (!m) return { one: null, two: null };
      const one = sc.get(`mask${tag}.${i}`, [B, l.outSize]);
      be.write(one, m);
      let two: Tensor | null = null;
      if (mem) {
        two = sc.get(`mask2.${i}`, [2 * B, l.outSize]);
        be.copySlice(two, 0, one, 0, m.length);
        be.copySlice(two, m.length, one, 0, m.length);
      }
      return { one, two };
    });
    const masks = drawMasks('');
    const stored = keep ? this.layers.map((l, i) => sc.get(`clean.${i}`, [B, l.outSize])) : [];
    // pass 1: clean input
    const e = sc.get('pep.e', [B, C]);
    const loss = lossAccumulator(sc, 'pep.loss');
    this.net.reset(B);
    this.net.run({
      steps: 1,
      input: () => xin,
      hooks: {
        afterLayer: (l: Layer) => {
          const i = l.index, a = l.presynaptic as Tensor;
          if (i < L) {
            const out = l.output();
            this.shape(out, masks[i].one, 1);
            if (keep) be.copy(stored[i], out);
            if (tl) { // anti-Hebbian step on the clean pass
              const layer = this.layers[i];
              layer.zeroGrad();
              be.spikeOuter(layer.W.grad, a, out, 1 / B);
              layer.step(step, false);
            }
            return;
          }
          be.softmaxCrossEntropy(loss, e, l.voltage(), P, { lossDivisor: B }); // e = softmax − P
          if (tl) { // anti-Hebbian step of the last layer: y h_{L−1}ᵀ, y = e + P
            const ro = this.readout;
            ro.zeroGrad();
            be.spikeOuter(ro.W.grad, a, e, 1 / B);
            be.spikeOuter(ro.W.grad, a, P, 1 / B);
            ro.step(step, false);
          }
        },
      },
    });
    // kept for the read part: the clean pass's outputs (mean activity) and scores (accuracy)
    const activity = this.layers.map((l, i) => {
      const t = sc.get(`act.${i}`, [B, l.outSize]);
      be.copy(t, this.net.layers[i].output());
      return t;
    });
    const scores = sc.get('pep.z1', [B, C]);
    be.copy(scores, this.net.layers[L].voltage());
    if (!mirrorOnly) {
      // x_mod = x ± F·e
      const xmod = sc.get('pep.xmod', [B, K]);
      be.copy(xmod, xin);
      be.matmul(xmod, e, this.F, { transB: true, alpha: ps.modulationSign, beta: 1 });
      const em = sc.get('pep.em', [B, C]);
      const lossMod = lossAccumulator(sc, 'pep.lossMod');
      if (!mem) {
        const masksMod = tl ? drawMasks('.tl') : masks;
        this.net.reset(B);
        this.net.run({
          steps: 1,
          input: () => xmod,
          hooks: {
            afterLayer: (l: Layer) => {
              const i = l.index, pm = l.presynaptic as Tensor;
              const pc = keep ? (i === 0 ? xin : stored[i - 1]) : null;
              if (i < L) {
                const out = l.output();
                this.shape(out, masksMod[i].one, 1);
                this.hiddenUpdate(i, pc, pm, keep ? stored[i] : null, out, B, step);
                return;
              }
              be.softmaxCrossEntropy(lossMod, em, l.voltage(), P, { lossDivisor: B });
              this.readoutUpdate(pc, pm, e, em, P, B, step);
            },
          },
        });
        this.memory = { storedBytes: 4 * B * (C + stored.reduce((n, t) => n + t.size / B, 0)), engineRows: B, forwardRows: 2 * B };
      } else {
        // MEMPEPITA: clean rows [0, B) and modulated rows [B, 2B) side by side; the clean activities are recomputed
        const both = sc.get('pep.both', [2 * B, K]);
        be.copySlice(both, 0, xin, 0, B * K);
        be.copySlice(both, B * K, xmod, 0, B * K);
        this.net.reset([{ name: 'clean', rows: B }, { name: 'modulated', rows: B }]);
        this.net.run({
          steps: 1,
          input: () => both,
          hooks: {
            afterLayer: (l: Layer) => {
              const i = l.index, a = l.presynaptic as Tensor;
              const pc = this.half(a, 0, 2, 'in.clean'), pm = this.half(a, 1, 2, 'in.mod');
              if (i < L) {
                const out = l.output();
                this.shape(out, masks[i].two, 2);
                this.hiddenUpdate(i, pc, pm, this.half(out, 0, 2, 'out.clean'), this.half(out, 1, 2, 'out.mod'), B, step);
                return;
              }
              const zm = this.half(l.voltage(), 1, 2, 'out.mod');
              be.softmaxCrossEntropy(lossMod, em, zm, P, { lossDivisor: B });
              this.readoutUpdate(pc, pm, e, em, P, B, step);
            },
          },
        });
        this.memory = { storedBytes: 4 * B * C, engineRows: 2 * B, forwardRows: 3 * B };
      }
    }
    if (check) for (const l of this.chain()) l.checkFinite(step);
    return { loss, scores, activity, labels, mirror: ps.mirror && (mirrorOnly || (this.epoch + 1) % ps.mirrorEvery === 0) };
  }

  /** One weight-mirroring step of every factor B_ℓ (see the file comment); rescaleF follows. */
  private mirrorFactors(B: number): void {
    const be = this.ctx.backend, sc = this.sc, ps = this.pepita, rng = this.ctx.rng;
    this.chain().forEach((layer, i) => {
      const nIn = layer.inSize, nOut = layer.outSize;
      const xi = rng.fillNormal(new Float32Array(B * nIn), 0, ps.mirrorNoise);
      let mean = 0;
      for (let k = 0; k < xi.length; k++) mean += xi[k];
      mean /= xi.length;
      for (let k = 0; k < xi.length; k++) xi[k] -= mean;
      const noise = sc.get(`mir.x.${nIn}`, [B, nIn]);
      be.write(noise, xi);
      const y = sc.get(`mir.y.${nOut}`, [B, nOut]);
      be.matmul(y, noise, layer.W.value);
      if (i < this.layers.length) {
        be.activation(y, y, this.settings.activation, false);
        this.shape(y, null, 1);
      } else be.softmaxRows(y, y);
      be.matmul(this.factors[i], noise, y, { transA: true, alpha: ps.mirrorLearningRate / B, beta: 1 - ps.mirrorLearningRate * ps.mirrorWeightDecay });
    });
    this.updateF();
  }

  /** After a mirroring step: every factor scaled so that std(F) stays at its target (reads F's sums). */
  private rescaleF(): void {
    const be = this.ctx.backend;
    const N = this.F.size, mean = be.sum(this.F) / N;
    const std = Math.sqrt(Math.max(0, (be.sumSquares(this.F) - N * mean * mean) / (N - 1)));
    if (std > 0) {
      const f = Math.pow(this.targetStd() / std, 1 / this.factors.length);
      for (const b of this.factors) be.axpby(b, b, f, 0);
      this.updateF();
    }
  }

  /** Angles in degrees: (W_L…W_1)ᵀ against F, and with mirror each W_ℓ against its factor B_ℓ. */
  alignmentAngles(): { product: number; layers?: number[] } {
    const be = this.ctx.backend;
    const prod = statsProduct(be, this.sc, this.chain().map((l) => l.W.value));
    const product = alignmentAngleDeg(be, this.sc, prod, this.F);
    if (!this.pepita.mirror) return { product };
    return { product, layers: this.chain().map((l, i) => alignmentAngleDeg(be, this.sc, l.W.value, this.factors[i])) };
  }

  layerStats(): LayerStats[] {
    const s = this.settings, ang = this.alignmentAngles(), L = this.layers.length;
    return this.chain().map((l, i) => ({
      layer: i,
      label: i < L ? `${l.name} (${s.activation}, ${l.outSize})` : `readout (${l.outSize})`,
      weightNorm: l.weightNorm(),
      learningRate: l.opt.learningRate,
      ...(i < L && this.activity[i] !== undefined ? { meanActivity: this.activity[i] } : {}),
      ...(ang.layers ? { alignmentAngle: ang.layers[i] } : {}),
      ...(i === L ? { productAlignmentAngle: ang.product } : {}),
    }));
  }

  predict(x: Float32Array, B: number): Int32Array {
    return argmaxRows(this.ctx.backend.read(this.predictDevice(x, B)), B, this.readout.outSize);
  }

  /** predict on a backend with asynchronous read-back (rule.ts): the same kernels, a sync before the read. */
  predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    return syncedArgmax(this.ctx.backend, this.predictDevice(x, B), B, this.readout.outSize);
  }

  /** The prediction pass (kernels only): the readout's scores [B, C]. */
  private predictDevice(x: Float32Array, B: number): Tensor {
    const be = this.ctx.backend, K = this.ctx.inputSize, L = this.layers.length;
    const input = this.sc.get('p.in', [B, K]);
    be.write(input, x.subarray(0, B * K));
    this.net.reset(B);
    this.net.run({
      steps: 1,
      input: () => input,
      hooks: this.pepita.normalizeActivations ? { afterLayer: (l: Layer) => void (l.index < L && this.shape(l.output(), null, 1)) } : undefined,
    });
    return this.net.layers[L].voltage();
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
    for (const l of this.chain()) l.setEpoch(epoch);
  }

  state(): Record<string, Float32Array> {
    const be = this.ctx.backend;
    const out: Record<string, Float32Array> = Object.assign({}, ...this.chain().map((l) => l.state()));
    out['pepita.F'] = be.read(this.F);
    this.factors.forEach((b, i) => (out[`pepita.B${i}`] = be.read(b)));
    return out;
  }

  loadState(st: Record<string, Float32Array>): void {
    for (const l of this.chain()) l.loadState(st);
    const be = this.ctx.backend;
    const put = (name: string, t: Tensor): void => {
      const v = st[name];
      if (!v || v.length !== t.size) throw new ParameterError(`checkpoint has no "${name}" of ${t.size} values; it was written for another network or rule`);
      be.write(t, v);
    };
    put('pepita.F', this.F);
    this.factors.forEach((b, i) => put(`pepita.B${i}`, b));
  }

  dispose(): void {
    const be = this.ctx.backend;
    this.net.free();
    for (const l of this.chain()) l.dispose();
    be.free(this.F);
    for (const b of this.factors) be.free(b);
    this.sc.dispose();
  }
}
