/**
 * Baselines in the same engine, for the comparison table (not local learning rules):
 *
 * - 'bptt': backprop through time with a surrogate gradient on the same spiking network as
 *   spiking sigprop (LIF hidden layers, leaky-integrator readout with per-step softmax CE on its
 *   membrane, loss averaged over T). The forward pass stores x[t], U[t] and S[t] of every layer
 *   at every step, so its memory grows linearly with T: that is the point of the comparison.
 *   Backward:
 *     dU_o[t] = ∂L_t/∂U_o[t] + β_o·dU_o[t+1];  dS_ℓ[t] = dU_{ℓ+1}[t]·W_{ℓ+1}ᵀ;  ∂L/∂W_ℓ = Σ_t x_ℓ[t]ᵀ·dU_ℓ[t]
 *   with dU_ℓ[t] the gradient of the membrane the spike is decided on:
 *   - delayed reset (resetDelay true, the default; U[t] = β·U[t−1] + I[t] − θ·S[t−1]): the reset
 *     term is detached, as snnTorch's Leaky detaches its reset signal:
 *       dU_ℓ[t] = dS_ℓ[t] ⊙ f'(U_ℓ[t] − θ) + β·dU_ℓ[t+1];
 *   - immediate reset by subtraction (resetDelay false; A[t] = β·U[t−1] + I[t], S[t] = H(A[t] − θ),
 *     U[t] = A[t] − θ·S[t]): the surrogate is taken at the pre-reset A[t], and the gradient flows
 *     through the reset, as with snnTorch's reset_delay=False (its spike is not detached):
 *       dA_ℓ[t] = dS_ℓ[t] ⊙ f'(A_ℓ[t] − θ) + β·dA_ℓ[t+1] ⊙ (1 − θ·f'(A_ℓ[t] − θ)).
 *   Both are checked against autodiff of the forward in test/learning.bptt-grad.test.ts. Where a
 *   membrane floor vMin held U, the path to U[t−1] and W is cut (gateThroughFloor).
 * - 'bp' (mode 'rate'): the backprop MLP with the same activation and readout as the rate sigprop.
 */
import { getActivation, type Activation } from '../../models/activations.js';
import { gateThroughFloor, type LifResolved } from '../../models/lif.js';
import type { ExperimentConfig } from '../config/types.js';
import type { Encoder } from '../encoders.js';
import { ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, lossAccumulator, oneHotTargets, readLoss, softmaxCE, softmaxCELabels } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import { denseForward } from './sigprop-rate.js';
import { makeStepSource, predictSpiking, resolveSpikingLayer } from './sigprop-spiking.js';

/** Shared parameter bookkeeping of the two baselines. */
abstract class BaselineBase {
  abstract readonly layers: DenseParams[];
  abstract readonly readout: DenseParams;
  protected stats: LayerStats[] = [];
  setEpoch(epoch: number): void {
    for (const l of [...this.layers, this.readout]) l.setEpoch(epoch);
  }
  state(): Record<string, Float32Array> {
    return Object.assign({}, ...this.layers.map((l) => l.state()), this.readout.state());
  }
  loadState(st: Record<string, Float32Array>): void {
    for (const l of [...this.layers, this.readout]) l.loadState(st);
  }
  layerStats(): LayerStats[] {
    return this.stats;
  }
}

function makeLayers(ctx: RuleContext, s: RuleSettings, inSize: number): { layers: DenseParams[]; readout: DenseParams } {
  let fanIn = inSize;
  const layers = s.hidden.map((l, i) => {
    const d = new DenseParams(ctx.backend, ctx.rng, `layer${i}`, fanIn, l.size, s);
    fanIn = l.size;
    return d;
  });
  return { layers, readout: new DenseParams(ctx.backend, ctx.rng, 'readout', fanIn, s.outputSize, s) };
}

export class BpttRule extends BaselineBase implements TrainingRule {
  readonly name = 'bptt';
  readonly settings: RuleSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  readonly lif: LifResolved[];
  readonly readoutBeta: number;
  /** Per hidden layer: reset by subtraction right after the spike (the backward then needs the pre-reset membrane). */
  private readonly immediateReset: boolean[];
  private readonly sc: Scratch;
  /** Per-step stores (index t): grows with T by design. */
  private readonly store: Scratch;
  private readonly encoders = new Map<string, Encoder>();
  private stepIndex = 0;

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    super();
    const s = (this.settings = resolveRuleSettings(config));
    if (s.hidden.length < 1) throw new ParameterError('bptt needs at least one hidden layer: layers = [{ size: 1000 }, { size: 10 }]');
    if (s.encoder === 'raster') throw new ParameterError("bptt: encoder 'raster' is not supported; use 'rate'");
    this.lif = s.hidden.map((l, i) => resolveSpikingLayer(l, s.dtMs, i));
    this.immediateReset = this.lif.map((p) => !p.resetDelay && p.reset === 'subtract');
    this.readoutBeta = s.readoutBeta ?? this.lif[this.lif.length - 1].beta;
    ({ layers: this.layers, readout: this.readout } = makeLayers(ctx, s, ctx.inputSize));
    this.sc = new Scratch(ctx.backend);
    this.store = new Scratch(ctx.backend);
  }

  describe(): string {
    const s = this.settings;
    return `bptt (spiking LIF β=${this.lif.map((p) => p.beta).join('/')}, T=${s.steps}, surrogate=${s.surrogate.spec}) ` +
      `${[this.ctx.inputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} encoder=${s.encoder} ${s.optimizer} lr=${s.learningRate}`;
  }

  /** Bytes held by the per-step stores and work tensors (grows with T). */
  workBytes(): number {
    return this.sc.bytes() + this.store.bytes();
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const s = this.settings, be = this.ctx.backend, T = s.steps, B = labels.length, L = this.layers.length;
    const C = this.readout.outSize, step = ++this.stepIndex;
    const src = makeStepSource(s, this.ctx, x, B, new Float32Array(0), 0, this.ctx.inputSize, this.encoders);
    const u = this.layers.map((l, i) => this.sc.zeros(`u${i}`, [B, l.outSize]));
    const sp = this.layers.map((l, i) => this.sc.zeros(`s${i}`, [B, l.outSize]));
    const I = this.layers.map((l, i) => this.sc.get(`I${i}`, [B, l.outSize]));
    const uo = this.sc.zeros('uo', [B, C]);
    const zsum = new Float32Array(B * C);
    const lossAcc = lossAccumulator(this.sc, 'loss'), roP = oneHotTargets(this.sc, labels, C);
    // forward, storing every step
    for (let t = 0; t < T; t++) {
      const xin = this.store.get(`x${t}`, [B, this.ctx.inputSize]);
      src.write(t, xin);
      let x_t: Tensor = xin;
      for (let i = 0; i < L; i++) {
        be.spikeMatmul(I[i], x_t, this.layers[i].W.value);
        be.addRow(I[i], this.layers[i].b.value);
        // immediate subtract reset: keep the pre-reset membrane A[t] = β·U[t−1] + I[t], where the spike is decided
        if (this.immediateReset[i]) {
          const at = this.store.get(`a${i}.${t}`, u[i].shape);
          be.copy(at, I[i]);
          be.axpby(at, u[i], this.lif[i].beta, 1);
        }
        be.lifStep(u[i], sp[i], I[i], this.lif[i]);
        be.copy(this.store.get(`u${i}.${t}`, u[i].shape), u[i]);
        be.copy(this.store.get(`s${i}.${t}`, sp[i].shape), sp[i]);
        x_t = sp[i];
      }
      be.spikeMatmul(uo, x_t, this.readout.W.value, this.readoutBeta);
      be.addRow(uo, this.readout.b.value);
      const U = uo.data;
      for (let k = 0; k < U.length; k++) zsum[k] += U[k];
      const dz = this.store.get(`dz${t}`, [B, C]);
      softmaxCE(be, uo, roP, dz, lossAcc);
    }
    // backward through time
    for (const l of [...this.layers, this.readout]) l.zeroGrad();
    const dUo = this.sc.zeros('dUo', [B, C]);
    const dU = this.layers.map((l, i) => this.sc.zeros(`dU${i}`, [B, l.outSize]));
    const dS = this.layers.map((l, i) => this.sc.get(`dS${i}`, [B, l.outSize]));
    const fp = this.layers.map((l, i) => this.sc.get(`fp${i}`, [B, l.outSize]));
    for (let t = T - 1; t >= 0; t--) {
      be.axpby(dUo, this.store.get(`dz${t}`, [B, C]), 1 / T, this.readoutBeta);
      const top = this.store.get(`s${L - 1}.${t}`, sp[L - 1].shape);
      be.spikeOuter(this.readout.W.grad, top, dUo, 1);
      be.sumRows(this.readout.b.grad, dUo, 1, 1);
      let above: Tensor = dUo, aboveW = this.readout.W.value;
      for (let i = L - 1; i >= 0; i--) {
        be.matmul(dS[i], above, aboveW, { transB: true });
        const ut = this.store.get(`u${i}.${t}`, u[i].shape);
        const lif = this.lif[i];
        if (this.immediateReset[i]) {
          // dA[t] = dS ⊙ f'(A − θ) + g ⊙ (1 − θ·f'(A − θ)), g = β·dA[t+1] gated where the floor held U[t]
          const at = this.store.get(`a${i}.${t}`, u[i].shape);
          be.surrogate(fp[i], at, lif.threshold, s.surrogate, true);
          const g = dU[i].data, D = dS[i].data, F = fp[i].data;
          for (let k = 0; k < g.length; k++) g[k] *= lif.beta;
          gateThroughFloor(g, ut.data, lif.vMin);
          for (let k = 0; k < g.length; k++) g[k] = D[k] * F[k] + g[k] * (1 - lif.threshold * F[k]);
        } else {
          be.surrogate(fp[i], ut, lif.threshold, s.surrogate, true);
          be.mul(dS[i], dS[i], fp[i]);
          be.axpby(dU[i], dS[i], 1, lif.beta);
          // dU now holds ∂L/∂(U[t] before the floor): zero where the floor held U (no path to W or U[t−1])
          gateThroughFloor(dU[i].data, ut.data, lif.vMin);
        }
        const xin = i === 0 ? this.store.get(`x${t}`, [B, this.ctx.inputSize]) : this.store.get(`s${i - 1}.${t}`, sp[i - 1].shape);
        be.spikeOuter(this.layers[i].W.grad, xin, dU[i], 1);
        be.sumRows(this.layers[i].b.grad, dU[i], 1, 1);
        above = dU[i];
        aboveW = this.layers[i].W.value;
      }
    }
    this.stats = [];
    this.layers.forEach((l, i) => {
      l.step(step);
      this.stats.push({ layer: i, label: `${l.name} (lif, ${l.outSize})`, weightNorm: l.weightNorm(), learningRate: l.opt.learningRate });
    });
    this.readout.step(step);
    this.stats.push({ layer: L, label: `readout (leaky, ${C})`, weightNorm: this.readout.weightNorm(), learningRate: this.readout.opt.learningRate });
    const pred = argmaxRows(zsum, B, C);
    let correct = 0;
    for (let b = 0; b < B; b++) if (pred[b] === labels[b]) correct++;
    const lossSum = readLoss(be, lossAcc);
    return { loss: lossSum / T, layerLosses: [lossSum / T], accuracy: correct / B };
  }

  predict(x: Float32Array, B: number): Int32Array {
    const src = makeStepSource(this.settings, this.ctx, x, B, new Float32Array(0), 0, this.ctx.inputSize, this.encoders);
    return predictSpiking(this.ctx, this.sc, this.settings, this.layers, this.lif, this.readout, this.readoutBeta, src, B, 0);
  }

  dispose(): void {
    for (const l of [...this.layers, this.readout]) l.dispose();
    this.sc.dispose();
    this.store.dispose();
  }
}

export class BackpropMlp extends BaselineBase implements TrainingRule {
  readonly name = 'bp';
  readonly settings: RuleSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  private readonly phi: Activation;
  private readonly sc: Scratch;
  private stepIndex = 0;

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    super();
    const s = (this.settings = resolveRuleSettings(config));
    this.phi = getActivation(s.activation);
    ({ layers: this.layers, readout: this.readout } = makeLayers(ctx, s, ctx.inputSize));
    this.sc = new Scratch(ctx.backend);
  }

  describe(): string {
    const s = this.settings;
    return `bp (MLP) ${[this.ctx.inputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} φ=${s.activation} ${s.optimizer} lr=${s.learningRate}`;
  }

  private forward(x: Float32Array, B: number, tag: string): { zs: Tensor[]; as: Tensor[]; logits: Tensor } {
    const be = this.ctx.backend;
    let a = this.sc.get(`${tag}.in`, [B, this.ctx.inputSize]);
    a.data.set(x.subarray(0, B * this.ctx.inputSize));
    const zs: Tensor[] = [], as: Tensor[] = [a];
    this.layers.forEach((l, i) => {
      const r = denseForward(this.sc, l, a, this.phi, `${tag}${i}`);
      zs.push(r.z);
      as.push((a = r.a));
    });
    const logits = this.sc.get(`${tag}.logits`, [B, this.readout.outSize]);
    be.spikeMatmul(logits, a, this.readout.W.value);
    be.addRow(logits, this.readout.b.value);
    return { zs, as, logits };
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const be = this.ctx.backend, B = labels.length, step = ++this.stepIndex, L = this.layers.length;
    const { zs, as, logits } = this.forward(x, B, 'f');
    const res = softmaxCELabels(be, this.sc, logits, labels, logits);
    let delta = logits;
    const chain = [...this.layers, this.readout];
    for (const l of chain) l.zeroGrad();
    for (let i = L; i >= 0; i--) {
      const layer = chain[i];
      be.spikeOuter(layer.W.grad, as[i], delta, 1);
      be.sumRows(layer.b.grad, delta);
      if (i === 0) break;
      const d = this.sc.get(`d${i - 1}`, [B, layer.inSize]);
      be.matmul(d, delta, layer.W.value, { transB: true });
      const D = d.data, Z = zs[i - 1].data;
      for (let k = 0; k < D.length; k++) D[k] *= this.phi.df(Z[k]);
      delta = d;
    }
    this.stats = chain.map((l, i) => {
      l.step(step);
      return { layer: i, label: l.name, weightNorm: l.weightNorm(), learningRate: l.opt.learningRate };
    });
    return { loss: res.loss, layerLosses: [res.loss], accuracy: res.correct / B };
  }

  predict(x: Float32Array, B: number): Int32Array {
    const { logits } = this.forward(x, B, 'p');
    return argmaxRows(logits.data, B, this.readout.outSize);
  }

  dispose(): void {
    for (const l of [...this.layers, this.readout]) l.dispose();
    this.sc.dispose();
  }
}
