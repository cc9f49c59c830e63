/**
 * Direct feedback alignment on the spiking network (rule 'dfa', mode 'spiking'; Nøkland 2016 in
 * the online, surrogate-gradient form), as hooks on the engine's one time loop.
 *
 * Network: spiking-forward-common.ts (LIF hidden layers, leaky readout U_o). At every step t,
 * once every layer has stepped (the engine's afterStep hook, so that each layer's membrane U_ℓ[t]
 * and presynaptic eligibility trace e_ℓ[t] are those of step t):
 *   output error (per step):  ε[t] = (softmax(U_o[t]) − onehot) / B     (the gradient of the
 *                             readout's per-step softmax CE, the loss spiking sigprop's readout uses)
 *   readout:                  ΔW_o += gain_o·e_o[t]ᵀ·ε[t]              (its own local CE, exact)
 *   hidden layer ℓ:           δ_ℓ[t] = (ε[t]·B_ℓᵀ) ⊙ f'(U_ℓ[t] − θ) ⊙ mask_ℓ
 *                             ΔW_ℓ += gain_ℓ·e_ℓ[t]ᵀ·δ_ℓ[t],  Δb_ℓ += gain_ℓ·e_b[t]·Σ_rows δ_ℓ[t]
 * with B_ℓ [n_ℓ, C] fixed, uniform in ±feedbackScale/√C (as the rate form), f' the config's
 * surrogate derivative, e_ℓ[t] the filtered presynaptic trace the engine keeps (LIF:
 * e[t] = β·e[t−1] + s_{ℓ−1}[t], the exact ∂U_ℓ[t]/∂W_ℓ with the reset detached; eligibility
 * 'instant': e[t] = s_{ℓ−1}[t]). The gradients are averaged over the T steps and applied by each
 * layer's optimiser at the window's end. With a membrane floor (LIF vMin) δ is zeroed where the
 * floor holds U. Dropout (ruleParams.dropout) is one inverted mask per sample and batch on each
 * hidden layer's spikes: the next layer receives the masked spikes and δ_ℓ is masked the same way.
 * Only the readout's error crosses layers, through the fixed B_ℓ; no hook reads a forward weight of
 * another layer. Memory: one step of state, the traces [B, n_{ℓ−1}] and the per-layer work tensors
 * [B, n_ℓ]: flat in T. layerStats() adds each hidden layer's alignment angle (as the rate form).
 */
import type { ExperimentConfig } from '../config/types.js';
import { checkNumber } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { lossAccumulator, oneHotTargets } from './losses.js';
import { dfaAlignmentAngles } from './feedback-alignment.js';
import type { LayerStats, RuleContext, TrainingRule } from './rule.js';
import { dropoutMaskTensor } from './sigprop-common.js';
import { SpikingForwardRule, type WindowReads } from './spiking-forward-common.js';
import type { Encoder } from '../encoders.js';

export class SpikingDfa extends SpikingForwardRule implements TrainingRule {
  readonly name = 'dfa';
  /** The fixed feedback matrices B_ℓ [n_ℓ, C], one per hidden layer. */
  readonly feedback: Tensor[];
  readonly feedbackScale: number;
  private readonly encoders = new Map<string, Encoder>();

  constructor(config: ExperimentConfig, ctx: RuleContext) {
    super('dfa', config, ctx);
    this.feedbackScale = checkNumber('ruleParams.feedbackScale', config.ruleParams?.feedbackScale ?? 1, { min: 0, minExclusive: true });
    const C = this.readout.outSize;
    this.feedback = this.layers.map((l, i) => this.fixedUniform(`dfa.B${i}`, l.outSize, C, this.feedbackScale / Math.sqrt(C)));
    this.net.enableTraces(this.settings.eligibility);
  }

  /** Per hidden layer the angle (degrees) between B_ℓ and (W_L…W_{ℓ+1})ᵀ, as the rate form reports it. */
  alignmentAngles(): number[] {
    return dfaAlignmentAngles(this.ctx.backend, this.sc, this.chain().map((l) => l.W.value), this.feedback);
  }

  override layerStats(): LayerStats[] {
    const ang = this.alignmentAngles();
    return super.layerStats().map((st, i) => (i < ang.length ? { ...st, alignmentAngle: ang[i] } : st));
  }

  describe(): string {
    const s = this.settings;
    return `dfa (spiking) ${this.describeNet()} surrogate=${s.surrogate.spec} eligibility=${s.eligibility} feedbackScale=${this.feedbackScale}`;
  }

  protected deviceWindow(x: Float32Array, labels: ArrayLike<number>): WindowReads {
    const w = this.window(x, labels);
    return { loss: w.loss, lossScale: 1 / this.settings.steps, scores: w.zsum, counts: w.counts };
  }

  /**
   * One window of T steps without changing a weight: every layer's gradient (averaged over the
   * steps) in its DenseParams grads; returns the accumulator of the readout's per-step CE (summed
   * over the T steps), the hidden layers' spike counts [B, n] and Σ_t U_o [B, C].
   */
  window(x: Float32Array, labels: ArrayLike<number>): { loss: Tensor; counts: Tensor[]; zsum: Tensor } {
    const s = this.settings, be = this.ctx.backend, sc = this.sc, B = labels.length, T = s.steps;
    const L = this.layers.length, C = this.readout.outSize, net = this.net;
    const src = this.stepSource(x, B, this.ctx.rng, this.encoders);
    net.reset(B);
    net.useInputReference(src.mostLikely); // the weights change after the window
    const st = this.layers.map((layer, i) => ({
      d: sc.get(`d${i}`, [B, layer.outSize]),
      df: sc.get(`df${i}`, [B, layer.outSize]),
      mask: dropoutMaskTensor(be, sc, this.ctx.rng, `m${i}`, B, B, layer.outSize, s.dropout),
      sd: s.dropout > 0 ? sc.get(`sd${i}`, [B, layer.outSize]) : null,
      count: sc.zeros(`n${i}`, [B, layer.outSize]),
    }));
    const eps = sc.get('eps', [B, C]);
    const zsum = sc.zeros('zsum', [B, C]);
    const P = oneHotTargets(this.sc, labels, this.readout.outSize, 'P');
    const loss = lossAccumulator(sc, 'loss');
    for (const l of this.chain()) l.zeroGrad();
    net.run({
      steps: T,
      write: (t, out) => src.write(t, out),
      hooks: {
        afterLayer: (layer) => {
          const i = layer.index;
          if (i === L) return;
          const q = st[i], out = layer.output();
          if (!q.mask || !q.sd) {
            be.axpby(q.count, out, 1, 1);
            return;
          }
          be.mul(q.sd, out, q.mask);
          be.axpby(q.count, q.sd, 1, 1);
          return q.sd;
        },
        afterStep: () => {
          const ro = net.layers[L], U = ro.voltage();
          be.axpby(zsum, U, 1, 1);
          be.softmaxCrossEntropy(loss, eps, U, P, { lossDivisor: B, gradDivisor: B });
          ro.accumulateGrad(eps, 1, this.readout.grads());
          for (let i = 0; i < L; i++) {
            const q = st[i], layer = net.layers[i], info = this.info[i];
            be.matmul(q.d, eps, this.feedback[i], { transB: true }); // ε·B_ℓᵀ
            be.surrogate(q.df, layer.voltage(), info.threshold, s.surrogate, true);
            be.mul(q.d, q.d, q.df);
            if (q.mask) be.mul(q.d, q.d, q.mask);
            if (info.vMin !== undefined) be.gateBelow(q.d, layer.voltage(), info.vMin);
            layer.accumulateGrad(q.d, 1, this.layers[i].grads());
          }
        },
      },
    });
    for (const l of this.chain()) l.scaleGrad(1 / T);
    return { loss, counts: st.map((q) => q.count), zsum };
  }
}
