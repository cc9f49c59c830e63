/**
 * Continuous-time Hebbian sigprop (config mode 'continuous').
 *
 * Every layer is a leaky integrator τ·dh/dt = −h + a_{ℓ−1}·W_ℓ + b_ℓ, a_ℓ = φ(h_ℓ) (exponential
 * Euler at dtMs, models/leaky.ts). The input rows receive x as a constant current, the target
 * rows the class signals t0_c = g(S·c + d) (one row per class). While the network integrates,
 * every layer's weights follow
 *     dW_ℓ/dt = η·(a_ℓ^t − a_ℓ^h)·(a_{ℓ−1}^t)ᵀ      (hebbPre 'target', default)
 * or with a_{ℓ−1}^h as the presynaptic factor (hebbPre 'input'), where a^h is a sample's input-
 * stream activity and a^t the activity of its class's target row. The contrastive variant
 * (hebbPost 'contrastive') replaces the postsynaptic factor a^t[c] − a^h by a^t[c] − Σ_j p_j·a^t[j]
 * with p = softmax_j(−mean_k (a^h_k − a^t[j]_k)²/τ): the layer's own soft guess of which class
 * signal the sample is nearest to. It is the negative gradient of the cross-entropy of that guess
 * with respect to a^h (φ' dropped), so it vanishes once a sample sits nearest its own class signal
 * and pushes it away from the class signals it is confused with; dW/dt is integrated with Euler
 * steps of dtMs and averaged over the batch. The similarity variant (hebbPost 'similarity', with
 * hebbPre 'both') takes as every row's postsynaptic factor −∂L/∂a ⊙ φ'(h), where L is the layer's
 * class-signal cross-entropy of cosine similarities at the current step (the classce local loss of
 * the rate and spiking rules, losses.ts similarityCE, temperature ruleParams.temperature): a
 * three-factor rule, presynaptic activity × the layer's own similarity mismatch × φ'. Nothing but
 * the layer's own pre- and postsynaptic activities enters its update. With 'target' presynaptic
 * factors, the batch sum collapses to one outer product per class (C rows instead of B).
 * Prediction (ruleParams.predict): 'classSignal' — the class whose target-stream activity at the
 * last layer is nearest (L2) to the sample's input-stream activity after T steps; 'readout' — the
 * last layer is a linear readout of the last hidden layer trained while integrating with the
 * local delta rule: the CE gradient a_{L−1}^hᵀ·(softmax(z) − onehot) of its own input is
 * accumulated over the T steps and applied once per batch by the layer's optimiser
 * (config.optimizer / learningRate); prediction is argmax z at the last step.
 * The layers are the engine's Network of 'leaky' layers on the rule's own W and b (input and class
 * signals as two streams of one batch); time advances only in Network.run, and the rule is the hook
 * after each layer's step (an online update of W takes effect at the next step, the engine using
 * the same tensor). The hook runs only Backend kernels: the factors are products of the layer's
 * activity with per-batch selection matrices written before the window (HebbianSigprop.selections),
 * and the mismatch, the readout's loss and its accuracy are read back after it.
 */
import { resolveLeaky, type LeakyResolved } from '../../models/leaky.js';
import type { ExperimentConfig } from '../config/types.js';
import type { Layer } from '../engine/layer.js';
import { Network } from '../engine/network.js';
import { ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, countCorrect, lossAccumulator, readLoss, sameClassTargets, similarityCE } from './losses.js';
import { inputRowTargets } from './sigprop-common.js';
import { scheduledLearningRate } from './optimizers.js';
import { DivergenceError, type BatchResult, type LayerStats, type RuleContext, type TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import { TargetGenerator } from './target.js';
import { CONTINUOUS_LAYER_DEFAULTS } from '../config/semantics.js';

export class HebbianSigprop implements TrainingRule {
  readonly name = 'sigprop';
  readonly settings: RuleSettings;
  /** All layers, the last one (numClasses units) included: each learns with the Hebbian rule. */
  readonly layers: DenseParams[];
  readonly target: TargetGenerator;
  readonly leaky: LeakyResolved[];
  /** The engine network of leaky integrators (models/leaky.ts) on the layers' parameter tensors. */
  readonly net: Network;
  private readonly sc: Scratch;
  private eta: number;
  private stepIndex = 0;
  private stats: LayerStats[] = [];

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    const s = (this.settings = resolveRuleSettings(config));
    const all = [...s.hidden, { size: s.outputSize, model: 'leaky', params: s.hidden[s.hidden.length - 1]?.params }];
    this.leaky = all.map((l, i) => {
      if ((l.model ?? 'leaky') !== 'leaky') {
        throw new ParameterError(`layers[${i}].model = "${l.model}": continuous-time Hebbian sigprop uses 'leaky' integrator layers`);
      }
      return resolveLeaky({ ...CONTINUOUS_LAYER_DEFAULTS, ...(l.params ?? {}) } as never, s.dtMs);
    });
    if (s.hebbPost === 'similarity' && s.hebbPre !== 'both') {
      throw new ParameterError(`ruleParams.hebbPost = 'similarity' gives every row (input and class signal) its own factor and its own presynaptic activity; ruleParams.hebbPre = '${s.hebbPre}' does not fit it: set ruleParams.hebbPre to 'both'`);
    }
    this.sc = new Scratch(ctx.backend);
    this.target = new TargetGenerator(ctx.backend, ctx.rng, ctx.numClasses, ctx.inputSize, s);
    let fanIn = ctx.inputSize;
    this.layers = all.map((l, i) => {
      const d = new DenseParams(ctx.backend, ctx.rng, i === all.length - 1 ? 'output' : `layer${i}`, fanIn, l.size, s);
      fanIn = l.size;
      return d;
    });
    this.eta = s.eta;
    // the readout starts at the usual ±1/√fanIn whatever initScale the integrator layers use
    if (s.predict === 'readout') scaleWeights(this.layers[this.layers.length - 1], 1 / s.initScale);
    if (s.hebbNorm) this.layers.forEach((l, i) => this.renormalize(l, i)); // records the initial column norms
    // the leaky integrators on the rule's own W and b (zero-initialised biases), every projection
    // event-driven (spikeMatmul skips the zeros of ReLU activity)
    this.net = new Network(
      ctx.backend,
      {
        inputSize: ctx.inputSize, dtMs: s.dtMs, inputKind: 'current',
        layers: all.map((l, i) => ({ size: l.size, model: 'leaky', params: { ...CONTINUOUS_LAYER_DEFAULTS, ...(l.params ?? {}) }, propagation: 'event' as const, name: this.layers[i].name })),
      },
      ctx.rng,
      this.layers.map((d) => d.tensors()),
    );
  }

  get network(): Network {
    return this.net;
  }

  describe(): string {
    const s = this.settings;
    return `sigprop (continuous-time Hebbian, leaky τ=${this.leaky.map((p) => p.tauMs).join('/')}ms φ=${this.leaky[0].activation}, ` +
      `T=${s.steps}×${s.dtMs}ms) ${[this.ctx.inputSize, ...this.layers.map((l) => l.outSize)].join('-')} η=${this.eta}/ms pre=${s.hebbPre} post=${s.hebbPost} target=${s.targetProjection}`;
  }

  /**
   * Run T steps of the network over rows [x (B rows); class signals (C rows)] (streams 'input' and
   * 'target'); calls `learn` after each layer's step. Returns the last layer.
   */
  private integrate(x: Float32Array, B: number, learn: ((i: number, aPrev: Tensor, a: Tensor, I: Tensor, h: Tensor) => void) | null): Layer {
    const s = this.settings, C = this.ctx.numClasses, K = this.ctx.inputSize, net = this.net;
    const a0 = this.sc.get('input', [B + C, K]);
    const a0Host = new Float32Array((B + C) * K);
    a0Host.set(x.subarray(0, B * K));
    this.target.write(Int32Array.from({ length: C }, (_, c) => c), a0Host, B);
    this.ctx.backend.write(a0, a0Host);
    net.reset([{ name: 'input', rows: B }, { name: 'target', rows: C }]);
    net.run({
      steps: s.steps,
      input: () => a0, // a constant current over the window
      hooks: learn ? { afterLayer: (l) => learn(l.index, l.presynaptic as Tensor, l.output(), l.inputCurrent(), l.voltage()) } : undefined,
    });
    return net.layers[net.layers.length - 1];
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const s = this.settings, be = this.ctx.backend, sc = this.sc, B = labels.length, C = this.ctx.numClasses, rows = B + C;
    const step = ++this.stepIndex;
    const targetLoss = this.target.update(x, labels, step);
    // 'online': W follows dW/dt at every Euler step; 'optimizer': the same dW, integrated over the
    // window, is handed to the layer's optimiser (config.optimizer / learningRate) once per batch
    const viaOpt = s.hebbApply === 'optimizer';
    const alpha = viaOpt ? -1 / (s.steps * B) : (this.eta * s.dtMs) / B;
    const dest = (l: DenseParams) => (viaOpt ? { W: l.W.grad, b: l.b.grad } : { W: l.W.value, b: l.b.value });
    const L = this.layers.length;
    if (viaOpt) this.layers.forEach((l) => l.zeroGrad());
    else if (s.predict === 'readout') this.layers[L - 1].zeroGrad();
    const P = s.hebbPost === 'similarity' ? sameClassTargets(sc, labels, Int32Array.from({ length: C }, (_, c) => c)) : null;
    const sel = P ? null : this.selections(labels, C);
    const lossAcc = this.layers.map((_, i) => lossAccumulator(sc, `mm${i}`));
    const readout = s.predict === 'readout' ? this.layers[L - 1] : null;
    const roP = readout ? inputRowTargets(be, sc, 'ro.P', labels, rows, readout.outSize) : null;
    this.integrate(x, B, (i, aPrev, a, I, h) => {
      const layer = this.layers[i], n = layer.outSize;
      if (i === L - 1 && roP) {
        // local delta-rule readout: dW/dt = η·a_{L−1}^hᵀ·(onehot − softmax(I)) on the input rows (the target rows' gradient zeroed)
        const dz = sc.get('ro.dz', [rows, n]);
        be.softmaxCrossEntropy(lossAcc[i], dz, I, roP, { lossDivisor: B, gradDivisor: B });
        be.fillRows(dz, B, rows, 0);
        be.spikeOuter(layer.W.grad, aPrev, dz, 1 / s.steps);
        be.sumRows(layer.b.grad, dz, 1 / s.steps, 1);
        return;
      }
      const dst = dest(layer);
      if (P) {
        // similarity: every row's factor −∂L/∂a ⊙ φ'(h) (B × the batch-averaged gradient, as alpha
        // divides by B), with every row's own presynaptic activity
        const Dall = sc.get(`Dall${i}`, [rows, n]), d = sc.get(`dphi${i}`, [rows, n]);
        similarityCE(be, sc, a, B, P, Dall, s.sim, lossAcc[i]);
        be.activation(d, h, this.leaky[i].activation, true);
        be.axpby(d, d, -B, 0);
        be.mul(Dall, Dall, d);
        be.spikeOuter(dst.W, aPrev, Dall, alpha);
        be.sumRows(dst.b, Dall, alpha, 1);
        return;
      }
      const m = sel as Selections;
      // the squared mismatch Σ (a^t[c_b] − a^h_b)², as 2 × the pair loss of [a^t[c_b]; a^h_b]
      const pairs = sc.get(`pairs${i}`, [2 * B, n]);
      be.spikeMatmul(pairs, m.pairs, a);
      be.l2PairLoss(lossAcc[i], null, pairs, B);
      // D [rows, n]: D[b] = a^t[c_b] − a^h[b] (delta) or Σ_j w_bj a^t[j] (contrastive) on the input rows, 0 on the target rows
      const D = sc.get(`D${i}`, [rows, n]);
      const contrastive = s.hebbPost === 'contrastive';
      const w = contrastive ? this.contrastiveWeights(i, a, B, C, m) : null;
      if (!w) be.spikeMatmul(D, m.delta, a);
      else {
        be.matmul(D, w, sc.get(`at${i}`, [C, n])); // a^t written by contrastiveWeights
      }
      if (s.hebbPre === 'target') {
        // per-class sums Dc on the target rows (the target stream's presynaptic activity), 0 on the input rows
        const Dc = sc.get(`Dc${i}`, [rows, n]);
        be.spikeMatmul(Dc, m.classSum, D);
        be.spikeOuter(dst.W, aPrev, Dc, alpha);
        be.sumRows(dst.b, D, alpha, 1);
      } else if (s.hebbPre === 'input') {
        be.spikeOuter(dst.W, aPrev, D, alpha);
        be.sumRows(dst.b, D, alpha, 1);
      } else {
        // 'both': every row learns from its own presynaptic activity; the target rows' factor is
        // the same mismatch's negative gradient with respect to a^t[j]:
        //   delta: Σ_{b: c_b = j} (a^h_b − a^t[j]);  contrastive: Σ_b (y_bj − p_bj)(a^h_b − a^t[j])
        const Dall = sc.get(`Dall${i}`, [rows, n]);
        if (!w) be.spikeMatmul(Dall, m.both, a);
        else {
          // Σ_b w_bj a^h_b − (Σ_b w_bj)·a^t[j] into the target rows
          const xt = sc.get(`xt${i}`, [C, n]), cs = sc.get(`cs${i}`, [C, n]), at = sc.get(`at${i}`, [C, n]);
          be.matmul(xt, w, a, { transA: true });
          be.matmul(cs, w, this.ones(`ones${i}`, rows, n), { transA: true });
          be.mul(cs, cs, at);
          be.axpby(xt, cs, -1, 1);
          be.copy(Dall, D);
          be.spikeMatmul(Dall, m.toTargetRows, xt, 1);
        }
        be.spikeOuter(dst.W, aPrev, Dall, alpha);
        be.sumRows(dst.b, Dall, alpha, 1);
      }
    });
    const correct = readout ? countCorrect(be.read(this.net.layers[L - 1].inputCurrent()), labels, readout.outSize) : 0;
    if (viaOpt) this.layers.forEach((l) => l.step(step));
    else if (s.predict === 'readout') this.layers[L - 1].step(step);
    if (s.hebbNorm) this.layers.forEach((l, i) => (i < L - 1 || s.predict !== 'readout') && this.renormalize(l, i));
    this.stats = this.layers.map((layer, i) => {
      const ss = be.sumSquares(layer.W.value) + be.sumSquares(layer.b.value);
      if (!Number.isFinite(ss)) throw new DivergenceError(layer.name, step, this.eta, 'Hebbian rate η per ms');
      return { layer: i, label: `${layer.name} (leaky, ${layer.outSize})`, weightNorm: Math.sqrt(be.sumSquares(layer.W.value)), learningRate: this.eta };
    });
    // the pair loss is half the squared mismatch
    const layerLosses = lossAcc.map((t, i) => (readLoss(be, t) * (P || (i === L - 1 && readout) ? 1 : 2)) / s.steps);
    if (targetLoss) layerLosses.unshift(targetLoss);
    return { loss: layerLosses.reduce((p, q) => p + q, 0), layerLosses, ...(s.predict === 'readout' ? { accuracy: correct / B } : {}) };
  }

  /**
   * The batch's selection matrices (written once per batch, before the window), which turn the
   * layer activity a [rows, n] (rows = B input rows, then one row per class) into the Hebbian
   * factors by spikeMatmul (event-driven: two or a few non-zeros per row).
   */
  private selections(labels: ArrayLike<number>, C: number): Selections {
    const be = this.ctx.backend, sc = this.sc, B = labels.length, rows = B + C;
    const delta = new Float32Array(rows * rows), both = new Float32Array(rows * rows), classSum = new Float32Array(rows * rows);
    const pairs = new Float32Array(2 * B * rows), targetRows = new Float32Array(C * rows), toTargetRows = new Float32Array(rows * C);
    const count = new Float32Array(C);
    for (let b = 0; b < B; b++) {
      const c = labels[b];
      delta[b * rows + b] = -1;
      delta[b * rows + B + c] = 1;
      both[b * rows + b] = -1;
      both[b * rows + B + c] = 1;
      both[(B + c) * rows + b] = 1;
      classSum[(B + c) * rows + b] = 1;
      pairs[b * rows + B + c] = 1;
      pairs[(B + b) * rows + b] = 1;
      count[c]++;
    }
    for (let c = 0; c < C; c++) {
      both[(B + c) * rows + B + c] = -count[c];
      targetRows[c * rows + B + c] = 1;
      toTargetRows[(B + c) * C + c] = 1;
    }
    const put = (name: string, shape: number[], data: Float32Array): Tensor => {
      const t = sc.get(name, shape);
      be.write(t, data);
      return t;
    };
    const needContrastive = this.settings.hebbPost === 'contrastive';
    return {
      delta: put('sel.delta', [rows, rows], delta),
      both: put('sel.both', [rows, rows], both),
      classSum: put('sel.classSum', [rows, rows], classSum),
      pairs: put('sel.pairs', [2 * B, rows], pairs),
      targetRows: put('sel.targetRows', [C, rows], targetRows),
      toTargetRows: put('sel.toTargetRows', [rows, C], toTargetRows),
      oneHot: needContrastive ? inputRowTargets(be, sc, 'sel.oneHot', labels, rows, C) : null,
    };
  }

  /** A [rows, n] tensor of ones (scratch `name`, written when first asked for at this shape). */
  private ones(name: string, rows: number, n: number): Tensor {
    const fresh = !this.onesShapes.has(name) || this.onesShapes.get(name) !== `${rows}x${n}`;
    const t = this.sc.get(name, [rows, n]);
    if (fresh) {
      this.ctx.backend.fill(t, 1);
      this.onesShapes.set(name, `${rows}x${n}`);
    }
    return t;
  }

  private readonly onesShapes = new Map<string, string>();

  /**
   * Contrastive class weights w [rows, C] (zero on the target rows) with kernels: w_bj = y_bj − p_bj,
   * p_b = softmax_j(−‖a^h_b − a^t[j]‖²/(n·τ)), the per-row constant ‖a^h_b‖² dropped (softmax is
   * invariant to it): logits (2·a^h_b·a^t[j] − ‖a^t[j]‖²)/(n·τ), then softmax CE's gradient scaled by −B.
   */
  private contrastiveWeights(i: number, a: Tensor, B: number, C: number, m: Selections): Tensor {
    const be = this.ctx.backend, sc = this.sc, rows = B + C, n = a.shape[1], tau = this.settings.sim.temperature;
    const at = sc.get(`at${i}`, [C, n]), sq = sc.get(`atsq${i}`, [C, n]);
    be.spikeMatmul(at, m.targetRows, a);
    be.mul(sq, at, at);
    const z = sc.get(`cw.z${i}`, [rows, C]), w = sc.get(`cw.w${i}`, [rows, C]);
    be.matmul(z, a, at, { transB: true, alpha: 2 / (n * tau) });
    be.matmul(z, this.ones(`ones${i}`, rows, n), sq, { transB: true, alpha: -1 / (n * tau), beta: 1 });
    const dummy = lossAccumulator(sc, 'cw.loss');
    be.softmaxCrossEntropy(dummy, w, z, m.oneHot as Tensor, { gradScale: -B, gradDivisor: B });
    be.fillRows(w, B, rows, 0);
    return w;
  }

  /** Column norms of each layer's W at initialisation (targets of the optional renormalisation). */
  private colNorms: Float32Array[] = [];

  /** Rescale each hidden unit's incoming weight vector (column of W) back to its initial norm. */
  private renormalize(layer: DenseParams, i: number): void {
    const W = this.ctx.backend.read(layer.W.value), K = layer.inSize, N = layer.outSize;
    const norms = new Float64Array(N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) norms[n] += W[k * N + n] * W[k * N + n];
    if (!this.colNorms[i]) this.colNorms[i] = Float32Array.from(norms, Math.sqrt);
    const target = this.colNorms[i];
    const scale = Float32Array.from(norms, (v, n) => (v > 0 ? target[n] / Math.sqrt(v) : 1));
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) W[k * N + n] *= scale[n];
    this.ctx.backend.write(layer.W.value, W);
  }

  predict(x: Float32Array, B: number): Int32Array {
    const C = this.ctx.numClasses, n = this.layers[this.layers.length - 1].outSize;
    const last = this.integrate(x, B, null);
    if (this.settings.predict === 'readout') return argmaxRows(this.ctx.backend.read(last.inputCurrent()), B, n);
    const a = this.ctx.backend.read(last.output());
    const out = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      let best = Infinity;
      for (let c = 0; c < C; c++) {
        let d = 0;
        for (let k = 0; k < n; k++) {
          const v = a[b * n + k] - a[(B + c) * n + k];
          d += v * v;
        }
        if (d < best) (best = d), (out[b] = c);
      }
    }
    return out;
  }

  setEpoch(epoch: number): void {
    this.eta = scheduledLearningRate(this.settings.eta, epoch, this.settings.schedule);
    for (const l of [this.target.proj, ...this.layers]) l.setEpoch(epoch);
  }

  state(): Record<string, Float32Array> {
    return Object.assign({}, this.target.proj.state(), ...this.layers.map((l) => l.state()));
  }

  loadState(st: Record<string, Float32Array>): void {
    for (const l of [this.target.proj, ...this.layers]) l.loadState(st);
  }

  layerStats(): LayerStats[] {
    return this.stats;
  }

  dispose(): void {
    this.net.free();
    for (const l of [this.target.proj, ...this.layers]) l.dispose();
    this.target.dispose();
    this.sc.dispose();
  }
}

function scaleWeights(layer: DenseParams, k: number): void {
  layer.backend.axpby(layer.W.value, layer.W.value, 0, k);
}

/** Per-batch selection matrices of the Hebbian factors (see HebbianSigprop.selections); rows = B + C. */
interface Selections {
  /** [rows, rows]: row b picks a^t[c_b] − a^h_b; target rows zero. */
  delta: Tensor;
  /** [rows, rows]: delta's rows, and row B + j picks Σ_{b: c_b = j} a^h_b − count_j·a^t[j]. */
  both: Tensor;
  /** [rows, rows]: row B + c sums the input rows of class c. */
  classSum: Tensor;
  /** [2B, rows]: rows b pick a^t[c_b], rows B + b pick a^h_b. */
  pairs: Tensor;
  /** [C, rows]: row j picks a^t[j]. */
  targetRows: Tensor;
  /** [rows, C]: row B + j picks row j. */
  toTargetRows: Tensor;
  /** One-hot labels of the input rows [rows, C] (contrastive only). */
  oneHot: Tensor | null;
}
