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
import { argmaxRows } from './losses.js';
import { mlpBatchDevice, mlpBatchRead, mlpLayerStats, mlpPredictAsync, type BackwardSource, type MlpParts } from './mlp.js';
import { alignmentAngleDeg, statsProduct } from './pepita.js';
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

  /** The parts of the shared MLP step (mlp.ts). */
  private parts(): MlpParts {
    return { be: this.ctx.backend, sc: this.sc, net: this.net, inputSize: this.ctx.inputSize, chain: this.chain(), activation: this.phi.name };
  }

  /** FA: δ_{i−1} = (δ_i·B_{i−1}ᵀ) ⊙ φ'; DFA: (e·B_{i−1}ᵀ) ⊙ φ' (the readout's error straight to every hidden layer). */
  private readonly back: BackwardSource = (i, delta, e) => ({ src: this.name === 'fa' ? delta : e, M: this.feedback[i - 1] });

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    return mlpBatchRead(this.ctx.backend, mlpBatchDevice(this.parts(), x, labels, ++this.stepIndex, true, this.back));
  }

  /** trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, one sync before the reads. */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    const ce = mlpBatchDevice(this.parts(), x, labels, ++this.stepIndex, false, this.back);
    await this.ctx.backend.sync?.([ce.z, ce.loss]);
    return mlpBatchRead(this.ctx.backend, ce);
  }

  /** Per layer the angle (degrees) between its feedback and what backprop would use (see the file comment); undefined where the layer has none. */
  alignmentAngles(): (number | undefined)[] {
    const be = this.ctx.backend, chain = this.chain(), L = this.layers.length;
    if (this.name === 'fa') return chain.map((l, i) => (i === 0 ? undefined : alignmentAngleDeg(be, this.sc, l.W.value, this.feedback[i - 1])));
    return [...dfaAlignmentAngles(be, this.sc, chain.map((l) => l.W.value), this.feedback), undefined];
  }

  layerStats(): LayerStats[] {
    const ang = this.alignmentAngles();
    return mlpLayerStats(this.chain()).map((st, i) => (ang[i] === undefined ? st : { ...st, alignmentAngle: ang[i] }));
  }

  predict(x: Float32Array, B: number): Int32Array {
    const { logits } = rateForward(this.net, this.sc, this.ctx.inputSize, x, B);
    return argmaxRows(this.ctx.backend.read(logits), B, this.readout.outSize);
  }

  predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    return mlpPredictAsync(this.parts(), x, B);
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
  return feedback.map((b, i) => alignmentAngleDeg(be, sc, statsProduct(be, sc, weights.slice(i + 1), `dfa.prod${i}`), b));
}
