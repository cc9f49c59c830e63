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
 * the same tensor).
 */
import { getActivation, type Activation } from '../../models/activations.js';
import { resolveLeaky, type LeakyResolved } from '../../models/leaky.js';
import type { ExperimentConfig } from '../config/types.js';
import type { Layer } from '../engine/layer.js';
import { Network } from '../engine/network.js';
import { ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, lossValue, sameClassTargets, similarityCE, softmaxCEHost, softmaxCELabels } from './losses.js';
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
  private readonly phi: Activation[];
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
    this.phi = this.leaky.map((p) => getActivation(p.activation));
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
    a0.data.set(x.subarray(0, B * K));
    this.target.write(Int32Array.from({ length: C }, (_, c) => c), a0.data, B);
    net.reset([{ name: 'input', rows: B }, { name: 'target', rows: C }]);
    net.run({
      steps: s.steps,
      input: () => a0, // a constant current over the window
      hooks: learn ? { afterLayer: (l) => learn(l.index, l.presynaptic as Tensor, l.output(), l.inputCurrent(), l.voltage()) } : undefined,
    });
    return net.layers[net.layers.length - 1];
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const s = this.settings, be = this.ctx.backend, B = labels.length, C = this.ctx.numClasses;
    const step = ++this.stepIndex;
    const targetLoss = this.target.update(this.sc, x, labels, step);
    const mismatch = new Float64Array(this.layers.length);
    // 'online': W follows dW/dt at every Euler step; 'optimizer': the same dW, integrated over the
    // window, is handed to the layer's optimiser (config.optimizer / learningRate) once per batch
    const viaOpt = s.hebbApply === 'optimizer';
    const alpha = viaOpt ? -1 / (s.steps * B) : (this.eta * s.dtMs) / B;
    const dest = (l: DenseParams) => (viaOpt ? { W: l.W.grad, b: l.b.grad } : { W: l.W.value, b: l.b.value });
    const L = this.layers.length;
    let correct = 0;
    if (viaOpt) this.layers.forEach((l) => l.zeroGrad());
    else if (s.predict === 'readout') this.layers[L - 1].zeroGrad();
    const P = s.hebbPost === 'similarity' ? sameClassTargets(this.sc, labels, Int32Array.from({ length: C }, (_, c) => c)) : null;
    this.integrate(x, B, (i, aPrev, a, I, h) => {
      const layer = this.layers[i], n = layer.outSize, A = a.data;
      if (i === L - 1 && s.predict === 'readout') {
        // local delta-rule readout: dW/dt = η·a_{L−1}^hᵀ·(onehot − softmax(I)) on the input rows
        const z = this.sc.get('ro.z', [B, n]);
        z.data.set(I.data.subarray(0, B * n));
        const r = softmaxCELabels(be, this.sc, z, labels, z);
        correct = r.correct;
        mismatch[i] += r.loss;
        const K = aPrev.shape[1];
        const pre = this.sc.get(`preh${i}`, [B, K]);
        pre.data.set(aPrev.data.subarray(0, B * K));
        be.spikeOuter(layer.W.grad, pre, z, 1 / s.steps);
        be.sumRows(layer.b.grad, z, 1 / s.steps, 1);
        return;
      }
      const K = aPrev.shape[1], dst = dest(layer);
      if (P) {
        // similarity: every row's factor −∂L/∂a ⊙ φ'(h) (B × the batch-averaged gradient, as alpha
        // divides by B), with every row's own presynaptic activity
        const Dall = this.sc.get(`Dall${i}`, [B + C, n]), phi = this.phi[i];
        mismatch[i] += lossValue(this.sc, (loss) => similarityCE(be, this.sc, a, B, P, Dall, s.sim, loss));
        const X = Dall.data, Hd = h.data; // host views taken after similarityCE's allocations
        for (let k = 0; k < X.length; k++) X[k] *= -B * phi.df(Hd[k]);
        be.spikeOuter(dst.W, aPrev, Dall, alpha);
        be.sumRows(dst.b, Dall, alpha, 1);
        return;
      }
      // D[b] = a^t[c_b] − a^h[b] (delta) or Σ_j w_bj a^t[j] (contrastive); per-class sums Dc for the 'target' presynaptic factor
      const D = this.sc.get(`D${i}`, [B, n]), Dd = D.data;
      const Dc = this.sc.zeros(`Dc${i}`, [C, n]), Dcd = Dc.data;
      // w_bj = y_bj − p_bj (contrastive) or y_bj (delta): how much sample b pulls toward class signal j
      const contrastive = s.hebbPost === 'contrastive';
      const w = classWeights(A, B, C, n, labels, contrastive, s.sim.temperature);
      let mm = 0;
      for (let b = 0; b < B; b++) {
        const c = labels[b], ob = b * n, ot = (B + c) * n;
        for (let k = 0; k < n; k++) {
          const d = A[ot + k] - A[ob + k];
          mm += d * d;
          if (!contrastive) Dd[ob + k] = d;
          else {
            // a^t[c] − Σ_j p_bj a^t[j] = Σ_j w_bj a^t[j]
            let e = 0;
            for (let j = 0; j < C; j++) e += w[b * C + j] * A[(B + j) * n + k];
            Dd[ob + k] = e;
          }
          Dcd[c * n + k] += Dd[ob + k];
        }
      }
      mismatch[i] += mm / B;
      if (s.hebbPre === 'target') {
        const pre = this.sc.get(`pre${i}`, [C, K]);
        pre.data.set(aPrev.data.subarray(B * K, (B + C) * K));
        be.spikeOuter(dst.W, pre, Dc, alpha);
        be.sumRows(dst.b, D, alpha, 1);
      } else if (s.hebbPre === 'input') {
        const pre = this.sc.get(`preh${i}`, [B, K]);
        pre.data.set(aPrev.data.subarray(0, B * K));
        be.spikeOuter(dst.W, pre, D, alpha);
        be.sumRows(dst.b, D, alpha, 1);
      } else {
        // 'both': every row learns from its own presynaptic activity; the target rows' factor is
        // the same mismatch's negative gradient with respect to a^t[j]:
        //   delta: Σ_{b: c_b = j} (a^h_b − a^t[j]);  contrastive: Σ_b (y_bj − p_bj)(a^h_b − a^t[j])
        const Dall = this.sc.get(`Dall${i}`, [B + C, n]), X = Dall.data;
        X.set(Dd.subarray(0, B * n));
        X.fill(0, B * n);
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < C; j++) {
            const wbj = w[b * C + j];
            if (wbj === 0) continue;
            const ob = b * n, ot = (B + j) * n;
            for (let k = 0; k < n; k++) X[ot + k] += wbj * (A[ob + k] - A[ot + k]);
          }
        }
        be.spikeOuter(dst.W, aPrev, Dall, alpha);
        be.sumRows(dst.b, Dall, alpha, 1);
      }
    });
    if (viaOpt) this.layers.forEach((l) => l.step(step));
    else if (s.predict === 'readout') this.layers[L - 1].step(step);
    if (s.hebbNorm) this.layers.forEach((l, i) => (i < L - 1 || s.predict !== 'readout') && this.renormalize(l, i));
    this.stats = this.layers.map((layer, i) => {
      const ss = be.sumSquares(layer.W.value) + be.sumSquares(layer.b.value);
      if (!Number.isFinite(ss)) throw new DivergenceError(layer.name, step, this.eta, 'Hebbian rate η per ms');
      return { layer: i, label: `${layer.name} (leaky, ${layer.outSize})`, weightNorm: Math.sqrt(be.sumSquares(layer.W.value)), learningRate: this.eta };
    });
    const layerLosses = Array.from(mismatch, (v) => v / s.steps);
    if (targetLoss) layerLosses.unshift(targetLoss);
    return { loss: layerLosses.reduce((p, q) => p + q, 0), layerLosses, ...(s.predict === 'readout' ? { accuracy: correct / B } : {}) };
  }

  /** Column norms of each layer's W at initialisation (targets of the optional renormalisation). */
  private colNorms: Float32Array[] = [];

  /** Rescale each hidden unit's incoming weight vector (column of W) back to its initial norm. */
  private renormalize(layer: DenseParams, i: number): void {
    const W = layer.W.value.data, K = layer.inSize, N = layer.outSize;
    const norms = new Float64Array(N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) norms[n] += W[k * N + n] * W[k * N + n];
    if (!this.colNorms[i]) this.colNorms[i] = Float32Array.from(norms, Math.sqrt);
    const target = this.colNorms[i];
    const scale = Float32Array.from(norms, (v, n) => (v > 0 ? target[n] / Math.sqrt(v) : 1));
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) W[k * N + n] *= scale[n];
  }

  predict(x: Float32Array, B: number): Int32Array {
    const C = this.ctx.numClasses, n = this.layers[this.layers.length - 1].outSize;
    const last = this.integrate(x, B, null);
    if (this.settings.predict === 'readout') return argmaxRows(last.inputCurrent().data, B, n);
    const a = last.output().data;
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
    this.sc.dispose();
  }
}

/**
 * Per-sample class weights w [B, C] of the Hebbian factors, from the activities A ([B input rows;
 * C class-signal rows] × n): the one-hot labels y (delta rule), or y − p (contrastive) with p the
 * softmax over classes of −mean_k (a^h_k − a^t[j]_k)²/τ, taken from softmaxCE's gradient (p − y)/B.
 */
function classWeights(A: Float32Array, B: number, C: number, n: number, labels: ArrayLike<number>, contrastive: boolean, tau: number): Float32Array {
  const w = new Float32Array(B * C);
  if (!contrastive) {
    for (let b = 0; b < B; b++) w[b * C + labels[b]] = 1;
    return w;
  }
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < C; j++) {
      let d2 = 0;
      for (let k = 0; k < n; k++) {
        const v = A[b * n + k] - A[(B + j) * n + k];
        d2 += v * v;
      }
      w[b * C + j] = -d2 / (n * tau);
    }
  }
  softmaxCEHost(w, labels, C, w);
  for (let k = 0; k < w.length; k++) w[k] *= -B;
  return w;
}

function scaleWeights(layer: DenseParams, k: number): void {
  layer.backend.axpby(layer.W.value, layer.W.value, 0, k);
}
