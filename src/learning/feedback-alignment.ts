/**
 * Feedback alignment ('fa', Lillicrap et al. 2016) and direct feedback alignment ('dfa', Nøkland
 * 2016) on the rate MLP: the structure of the backprop baseline (bptt.ts BackpropMlp: the forward
 * pass on the engine network rateNetwork, softmax cross-entropy at the linear readout, one
 * optimiser per layer) with the transposed forward weights of the backward pass replaced by fixed
 * random matrices. With e = (softmax(z_L) − onehot)/B the readout's error and a_ℓ = φ(z_ℓ):
 *   FA:  δ_L = e,  δ_ℓ = (δ_{ℓ+1}·B_{ℓ+1}ᵀ) ⊙ φ'(z_ℓ)   (B_{ℓ+1} has W_{ℓ+1}'s shape [n_ℓ, n_{ℓ+1}], in place of W_{ℓ+1})
 *   DFA: δ_L = e,  δ_ℓ = (e·B_ℓᵀ) ⊙ φ'(z_ℓ)            (B_ℓ [n_ℓ, C]: the error goes straight to every hidden layer)
 *   ∂W_ℓ = a_{ℓ−1}ᵀ·δ_ℓ,  ∂b_ℓ = Σ_rows δ_ℓ  (a_{−1} = x), applied by each layer's optimiser.
 * FA's B_ℓ are uniform in ±feedbackScale·initScale/√fanIn (the forward weights' own init scaled);
 * DFA's uniform in ±feedbackScale/√C. Every heavy op is a Backend kernel (matmul, activation, mul,
 * spikeOuter, sumRows). Neither rule reads a forward weight in its backward pass.
 *
 * Alignment: layerStats() reports per layer the angle (degrees) between the feedback and what
 * backprop would use there: FA, W_ℓ against B_ℓ (ℓ ≥ 1); DFA, the product W_{ℓ+1}·…·W_L (stored
 * [in, out], so this is (W_L…W_{ℓ+1})ᵀ) against B_ℓ.
 */
import { getActivation, type Activation } from '../../models/activations.js';
import type { ExperimentConfig } from '../config/types.js';
import type { Network } from '../engine/network.js';
import { checkNumber, ParameterError } from '../errors.js';
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { DenseParams, denseChain } from './dense.js';
import { argmaxRows, softmaxCELabels } from './losses.js';
import { alignmentAngleDeg, matrixProduct } from './pepita.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import { rateForward, rateNetwork } from './sigprop-rate.js';

export class FeedbackAlignmentMlp implements TrainingRule {
  readonly settings: RuleSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  readonly net: Network;
  /**
   * The fixed feedback matrices. FA: feedback[i] replaces chain[i + 1].W (i = 0..L−1, shape of that W);
   * DFA: feedback[i] [n_i, C] carries the error to hidden layer i.
   */
  readonly feedback: Tensor[];
  private readonly phi: Activation;
  private readonly sc: Scratch;
  private stats: LayerStats[] = [];
  private stepIndex = 0;

  constructor(readonly name: 'fa' | 'dfa', config: ExperimentConfig, readonly ctx: RuleContext) {
    const s = (this.settings = resolveRuleSettings(config));
    const scale = checkNumber('ruleParams.feedbackScale', config.ruleParams?.feedbackScale ?? 1, { min: 0, minExclusive: true });
    if (s.hidden.length < 1) throw new ParameterError(`rule "${name}" needs at least one hidden layer: layers = [{ "size": 1000 }, { "size": 10 }]`);
    const be = ctx.backend, rng = ctx.rng;
    this.phi = getActivation(s.activation);
    ({ layers: this.layers, readout: this.readout } = denseChain(be, rng, s, ctx.inputSize));
    const C = s.outputSize;
    const uniform = (rows: number, cols: number, bound: number): Tensor => be.fromArray([rows, cols], rng.fillUniform(new Float32Array(rows * cols), -bound, bound));
    this.feedback = name === 'fa'
      ? this.chain().slice(1).map((l) => uniform(l.inSize, l.outSize, (scale * s.initScale) / Math.sqrt(l.inSize)))
      : this.layers.map((l) => uniform(l.outSize, C, scale / Math.sqrt(C)));
    this.sc = new Scratch(be);
    this.net = rateNetwork(ctx, s, this.layers, this.readout, rng);
  }

  private chain(): DenseParams[] {
    return [...this.layers, this.readout];
  }

  get network(): Network {
    return this.net;
  }

  describe(): string {
    const s = this.settings;
    return `${this.name} (MLP) ${[this.ctx.inputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} φ=${s.activation} ${s.optimizer} lr=${s.learningRate}`;
  }

  private forward(x: Float32Array, B: number): { zs: Tensor[]; as: Tensor[]; logits: Tensor } {
    return rateForward(this.net, this.sc, this.ctx.inputSize, x, B);
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const be = this.ctx.backend, B = labels.length, step = ++this.stepIndex, L = this.layers.length;
    const { zs, as, logits } = this.forward(x, B);
    const res = softmaxCELabels(be, this.sc, logits, labels, logits); // logits now hold e = (softmax − onehot)/B
    const e = logits;
    const chain = this.chain();
    for (const l of chain) l.zeroGrad();
    let delta = e;
    for (let i = L; i >= 0; i--) {
      const layer = chain[i];
      be.spikeOuter(layer.W.grad, as[i], delta, 1);
      be.sumRows(layer.b.grad, delta);
      if (i === 0) break;
      const n = layer.inSize;
      const d = this.sc.get(`d${i - 1}`, [B, n]), df = this.sc.get(`df${i - 1}`, [B, n]);
      if (this.name === 'fa') be.matmul(d, delta, this.feedback[i - 1], { transB: true }); // δ_{i}·B_iᵀ
      else be.matmul(d, e, this.feedback[i - 1], { transB: true }); // e·B_{i−1}ᵀ
      be.activation(df, zs[i - 1], this.phi.name, true);
      be.mul(d, d, df);
      delta = d;
    }
    for (const l of chain) l.step(step);
    this.stats = chain.map((l, i) => ({ layer: i, label: l.name, weightNorm: l.weightNorm(), learningRate: l.opt.learningRate }));
    return { loss: res.loss, layerLosses: [res.loss], accuracy: res.correct / B };
  }

  /** Per layer the angle (degrees) between its feedback and what backprop would use (see the file comment); undefined where the layer has none. */
  alignmentAngles(): (number | undefined)[] {
    const be = this.ctx.backend, chain = this.chain(), L = this.layers.length;
    if (this.name === 'fa') return chain.map((l, i) => (i === 0 ? undefined : alignmentAngleDeg(be, this.sc, l.W.value, this.feedback[i - 1])));
    return [...dfaAlignmentAngles(be, this.sc, chain.map((l) => l.W.value), this.feedback), undefined];
  }

  layerStats(): LayerStats[] {
    const ang = this.alignmentAngles();
    return this.stats.map((st, i) => (ang[i] === undefined ? st : { ...st, alignmentAngle: ang[i] }));
  }

  predict(x: Float32Array, B: number): Int32Array {
    const { logits } = this.forward(x, B);
    return argmaxRows(this.ctx.backend.read(logits), B, this.readout.outSize);
  }

  setEpoch(epoch: number): void {
    for (const l of this.chain()) l.setEpoch(epoch);
  }

  state(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = Object.assign({}, ...this.chain().map((l) => l.state()));
    this.feedback.forEach((b, i) => (out[`${this.name}.B${i}`] = this.ctx.backend.read(b)));
    return out;
  }

  loadState(st: Record<string, Float32Array>): void {
    for (const l of this.chain()) l.loadState(st);
    this.feedback.forEach((b, i) => {
      const v = st[`${this.name}.B${i}`];
      if (!v || v.length !== b.size) throw new ParameterError(`checkpoint has no "${this.name}.B${i}" of ${b.size} values; it was written for another network or rule`);
      this.ctx.backend.write(b, v);
    });
  }

  dispose(): void {
    this.net.free();
    for (const l of this.chain()) l.dispose();
    for (const b of this.feedback) this.ctx.backend.free(b);
    this.sc.dispose();
  }
}

/**
 * DFA's alignment angles (rate and spiking forms): for each hidden layer ℓ < L, the angle in degrees
 * between the product W_{ℓ+1}·…·W_L of the forward weights above it (stored [in, out], so this is
 * (W_L…W_{ℓ+1})ᵀ, what backprop would send back) and its fixed feedback B_ℓ [n_ℓ, C].
 * weights: W_0 … W_L; feedback: B_0 … B_{L−1}.
 */
export function dfaAlignmentAngles(be: Backend, sc: Scratch, weights: readonly Tensor[], feedback: readonly Tensor[]): number[] {
  return feedback.map((b, i) => alignmentAngleDeg(be, sc, matrixProduct(be, sc, weights.slice(i + 1), `dfa.prod${i}`), b));
}
