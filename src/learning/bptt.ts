/**
 * Baselines in the same engine, for the comparison table (not local learning rules):
 *
 * - 'bptt': backprop through time with a surrogate gradient on the same spiking network as
 *   spiking sigprop: LIF or synaptic LIF hidden layers and a leaky-integrator readout ('li') with
 *   per-step softmax CE on its membrane, loss averaged over T. The forward pass is the rule's own
 *   engine Network (src/engine/network.ts) on the rule's parameter tensors; its afterLayer hook
 *   copies, at every step, each layer's input x_ℓ[t] (the spikes of the layer below, which are
 *   also what the backward needs of them), its membrane U_ℓ[t] (and, with an immediate reset, the
 *   pre-reset membrane A_ℓ[t]) and the readout's per-step CE gradient into per-step tensors, so its
 *   memory grows linearly with T: that is the point of the comparison. The backward pass through
 *   time runs at the window's end and is not local: every layer's gradient needs the layers above
 *   it at every step. Backward:
 *     dU_o[t] = ∂L_t/∂U_o[t] + β_o·dU_o[t+1];  dS_ℓ[t] = dJ_{ℓ+1}[t]·W_{ℓ+1}ᵀ;  ∂L/∂W_ℓ = Σ_t x_ℓ[t]ᵀ·dJ_ℓ[t]
 *   with dJ_ℓ[t] the gradient of the layer's input current, and dU_ℓ[t] that of the membrane the
 *   spike is decided on:
 *   - delayed reset (resetDelay true, the default; U[t] = β·U[t−1] + I[t] − θ·S[t−1]): the reset
 *     term is detached, as snnTorch's Leaky detaches its reset signal:
 *       dU_ℓ[t] = dS_ℓ[t] ⊙ f'(U_ℓ[t] − θ) + β·dU_ℓ[t+1];
 *   - immediate reset by subtraction (resetDelay false; A[t] = β·U[t−1] + I[t], S[t] = H(A[t] − θ),
 *     U[t] = A[t] − θ·S[t]): the surrogate is taken at the pre-reset A[t], and the gradient flows
 *     through the reset, as with snnTorch's reset_delay=False (its spike is not detached):
 *       dA_ℓ[t] = dS_ℓ[t] ⊙ f'(A_ℓ[t] − θ) + β·dA_ℓ[t+1] ⊙ (1 − θ·f'(A_ℓ[t] − θ)).
 *   LIF: dJ_ℓ[t] = dU_ℓ[t] (or dA_ℓ[t]). Synaptic LIF (I_syn[t] = α·I_syn[t−1] + I[t] drives the
 *   membrane in place of I[t]): the gradient runs back through the second state variable too,
 *       dJ_ℓ[t] = dU_ℓ[t] + α·dJ_ℓ[t+1]   (dA_ℓ[t] in place of dU_ℓ[t] with an immediate reset).
 *   All are checked against autodiff of the forward in test/learning.bptt-grad.test.ts. Where a
 *   membrane floor vMin held U, the path to U[t−1] and W is cut (Backend.gateBelow).
 * - 'bp' (mode 'rate'): the backprop MLP with the same activation and readout as the rate sigprop.
 */
import { getActivation, type Activation } from '../../models/activations.js';
import { resolveLif, type LifResolved } from '../../models/lif.js';
import { getModel } from '../../models/registry.js';
import { resolveSynaptic } from '../../models/synaptic.js';
import { modelLabel } from '../config/inline-model.js';
import type { ExperimentConfig } from '../config/types.js';
import { makeStepSource, type Encoder } from '../encoders.js';
import { Network } from '../engine/network.js';
import { ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { argmaxRows, lossAccumulator, oneHotTargets, readLoss, softmaxCE, softmaxCELabels } from './losses.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import { rateNetwork } from './sigprop-rate.js';

/** Hidden-layer models the BPTT baseline has a backward pass for. */
export const BPTT_MODELS = ['lif', 'synaptic'] as const;

/** A BPTT hidden layer's resolved parameters: LIF, plus the synaptic current's decay α for 'synaptic'. */
export interface SpikingLayerParams extends LifResolved {
  model: (typeof BPTT_MODELS)[number];
  /** Synaptic current decay α ('synaptic'), absent for 'lif'. */
  alpha?: number;
}

/**
 * Resolve a BPTT hidden layer's parameters ('lif' or 'synaptic') and check the gradient is
 * implemented for them (reset 'subtract' or 'none'; no recurrent or delayed projection).
 */
export function resolveSpikingLayer(layer: ExperimentConfig['layers'][number], dtMs: number, index: number): SpikingLayerParams {
  const model = layer.model ?? 'lif';
  if (typeof model === 'string') getModel(model); // unknown model names fail here with the list of known ones
  if (model !== 'lif' && model !== 'synaptic') {
    throw new ParameterError(`layers[${index}].model = ${modelLabel(model)}: bptt is implemented for ${BPTT_MODELS.map((m) => `'${m}'`).join(' and ')} layers; use one of those (spiking sigprop trains every model)`);
  }
  for (const key of ['recurrent', 'delays'] as const) {
    if (layer[key] !== undefined) throw new ParameterError(`layers[${index}].${key}: bptt does not train recurrent or delayed projections; use rule 'sigprop'`);
  }
  const p: SpikingLayerParams = model === 'lif'
    ? { ...resolveLif(layer.params as never, dtMs), model }
    : { ...resolveSynaptic(layer.params as never, dtMs), model };
  if (p.reset === 'zero') {
    throw new ParameterError(`layers[${index}].params.reset = "zero": the gradient is implemented for reset 'subtract' or 'none'; use one of those`);
  }
  return p;
}

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
  /** Per hidden layer: the resolved LIF (or synaptic LIF) parameters. */
  readonly lif: SpikingLayerParams[];
  readonly readoutBeta: number;
  /** The forward pass: the hidden layers and the readout ('li'), on the rule's parameter tensors. */
  readonly net: Network;
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
    const hidden = s.hidden.map((l, i) => ({ size: l.size, model: this.lif[i].model, params: l.params, propagation: 'event' as const, name: `layer${i}` }));
    this.net = new Network(
      ctx.backend,
      { inputSize: ctx.inputSize, dtMs: s.dtMs, layers: [...hidden, { size: s.outputSize, model: 'li', params: { beta: this.readoutBeta }, propagation: 'event', name: 'readout' }] },
      ctx.rng,
      [...this.layers, this.readout].map((d) => d.tensors()),
    );
  }

  describe(): string {
    const s = this.settings;
    const models = [...new Set(this.lif.map((p) => (p.model === 'lif' ? 'LIF' : 'synaptic LIF')))].join('/');
    const alphas = this.lif.some((p) => p.alpha !== undefined) ? ` α=${this.lif.map((p) => p.alpha ?? '-').join('/')}` : '';
    return `bptt (spiking ${models} β=${this.lif.map((p) => p.beta).join('/')}${alphas}, T=${s.steps}, surrogate=${s.surrogate.spec}) ` +
      `${[this.ctx.inputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} encoder=${s.encoder} ${s.optimizer} lr=${s.learningRate}`;
  }

  get network(): Network {
    return this.net;
  }

  /** Bytes held by the per-step stores and work tensors (grows with T). */
  workBytes(): number {
    return this.sc.bytes() + this.store.bytes();
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const s = this.settings, be = this.ctx.backend, T = s.steps, B = labels.length, L = this.layers.length;
    const C = this.readout.outSize, step = ++this.stepIndex, store = this.store;
    const src = makeStepSource(s, this.ctx, x, B, new Float32Array(0), 0, this.ctx.inputSize, this.encoders);
    // per-step stores: layer ℓ's input x_ℓ[t] (the readout's is the top layer's spikes), U_ℓ[t], A_ℓ[t], the readout's ∂L_t/∂U_o
    const xs = (i: number, t: number) => store.get(`x${i}.${t}`, [B, this.net.layers[i].inSize]);
    const us = (i: number, t: number) => store.get(`u${i}.${t}`, [B, this.layers[i].outSize]);
    const as = (i: number, t: number) => store.get(`a${i}.${t}`, [B, this.layers[i].outSize]);
    const dzs = (t: number) => store.get(`dz${t}`, [B, C]);
    const zsum = this.sc.zeros('zsum', [B, C]);
    const lossAcc = lossAccumulator(this.sc, 'loss'), roP = oneHotTargets(this.sc, labels, C);
    // forward on the engine, storing every step
    this.net.reset(B);
    this.net.run({
      steps: T,
      write: (t, out) => src.write(t, out),
      hooks: {
        afterLayer: (layer, t) => {
          const i = layer.index;
          be.copy(xs(i, t), layer.presynaptic as Tensor);
          if (i === L) {
            const U = layer.voltage();
            be.axpby(zsum, U, 1, 1);
            softmaxCE(be, U, roP, dzs(t), lossAcc);
            return;
          }
          // immediate subtract reset: keep the pre-reset membrane A[t] = β·U[t−1] + I[t] (synaptic: + I_syn[t]), where the spike is decided
          if (this.immediateReset[i]) {
            const at = as(i, t);
            be.copy(at, this.lif[i].model === 'synaptic' ? layer.stateVar('isyn') : layer.inputCurrent());
            if (t > 0) be.axpby(at, us(i, t - 1), this.lif[i].beta, 1);
          }
          be.copy(us(i, t), layer.voltage());
        },
      },
    });
    // backward through time
    for (const l of [...this.layers, this.readout]) l.zeroGrad();
    const dUo = this.sc.zeros('dUo', [B, C]);
    const dU = this.layers.map((l, i) => this.sc.zeros(`dU${i}`, [B, l.outSize]));
    const dJ = this.layers.map((l, i) => (this.lif[i].alpha !== undefined ? this.sc.zeros(`dJ${i}`, [B, l.outSize]) : null));
    const dS = this.layers.map((l, i) => this.sc.get(`dS${i}`, [B, l.outSize]));
    const fp = this.layers.map((l, i) => this.sc.get(`fp${i}`, [B, l.outSize]));
    const oneMinus = this.layers.map((l, i) => (this.immediateReset[i] ? this.sc.get(`om${i}`, [B, l.outSize]) : null));
    for (let t = T - 1; t >= 0; t--) {
      be.axpby(dUo, dzs(t), 1 / T, this.readoutBeta);
      be.spikeOuter(this.readout.W.grad, xs(L, t), dUo, 1);
      be.sumRows(this.readout.b.grad, dUo, 1, 1);
      let above: Tensor = dUo, aboveW = this.readout.W.value;
      for (let i = L - 1; i >= 0; i--) {
        be.matmul(dS[i], above, aboveW, { transB: true });
        const ut = us(i, t);
        const lif = this.lif[i];
        if (this.immediateReset[i]) {
          // dA[t] = dS ⊙ f'(A − θ) + g ⊙ (1 − θ·f'(A − θ)), g = β·dA[t+1] gated where the floor held U[t]
          be.surrogate(fp[i], as(i, t), lif.threshold, s.surrogate, true);
          const g = dU[i], h = oneMinus[i] as Tensor;
          be.axpby(g, g, 0, lif.beta);
          if (lif.vMin !== undefined) be.gateBelow(g, ut, lif.vMin);
          be.axpby(h, fp[i], -lif.threshold, 0);
          be.addScalar(h, 1); // 1 − θ·f'(A − θ)
          be.mul(g, g, h);
          be.mul(dS[i], dS[i], fp[i]);
          be.axpby(g, dS[i], 1, 1);
        } else {
          be.surrogate(fp[i], ut, lif.threshold, s.surrogate, true);
          be.mul(dS[i], dS[i], fp[i]);
          be.axpby(dU[i], dS[i], 1, lif.beta);
          // dU now holds ∂L/∂(U[t] before the floor): zero where the floor held U (no path to W or U[t−1])
          if (lif.vMin !== undefined) be.gateBelow(dU[i], ut, lif.vMin);
        }
        // the gradient of the input current: dU itself (LIF), or through the synaptic current dJ[t] = dU[t] + α·dJ[t+1]
        const dj = dJ[i];
        if (dj) be.axpby(dj, dU[i], 1, lif.alpha as number);
        const g = dj ?? dU[i];
        be.spikeOuter(this.layers[i].W.grad, xs(i, t), g, 1);
        be.sumRows(this.layers[i].b.grad, g, 1, 1);
        above = g;
        aboveW = this.layers[i].W.value;
      }
    }
    this.stats = [];
    this.layers.forEach((l, i) => {
      l.step(step);
      this.stats.push({ layer: i, label: `${l.name} (${this.lif[i].model}, ${l.outSize})`, weightNorm: l.weightNorm(), learningRate: l.opt.learningRate });
    });
    this.readout.step(step);
    this.stats.push({ layer: L, label: `readout (leaky, ${C})`, weightNorm: this.readout.weightNorm(), learningRate: this.readout.opt.learningRate });
    const pred = argmaxRows(be.read(zsum), B, C);
    let correct = 0;
    for (let b = 0; b < B; b++) if (pred[b] === labels[b]) correct++;
    const lossSum = readLoss(be, lossAcc);
    return { loss: lossSum / T, layerLosses: [lossSum / T], accuracy: correct / B };
  }

  /** argmax_c Σ_t U_o[t]: the rule's own network run forward, a hook summing the readout. */
  predict(x: Float32Array, B: number): Int32Array {
    const be = this.ctx.backend, L = this.layers.length, C = this.readout.outSize;
    const src = makeStepSource(this.settings, this.ctx, x, B, new Float32Array(0), 0, this.ctx.inputSize, this.encoders);
    const zsum = this.sc.zeros('p.zsum', [B, C]);
    this.net.reset(B);
    this.net.run({
      steps: this.settings.steps,
      write: (t, out) => src.write(t, out),
      hooks: {
        afterLayer: (layer) => {
          if (layer.index === L) be.axpby(zsum, layer.voltage(), 1, 1);
        },
      },
    });
    return argmaxRows(be.read(zsum), B, C);
  }

  dispose(): void {
    this.net.free();
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
  /** The engine network (rate layers on this rule's tensors) the forward pass runs on. */
  readonly net: Network;
  private readonly phi: Activation;
  private readonly sc: Scratch;
  private stepIndex = 0;

  constructor(config: ExperimentConfig, readonly ctx: RuleContext) {
    super();
    const s = (this.settings = resolveRuleSettings(config));
    this.phi = getActivation(s.activation);
    ({ layers: this.layers, readout: this.readout } = makeLayers(ctx, s, ctx.inputSize));
    this.sc = new Scratch(ctx.backend);
    this.net = rateNetwork(ctx, s, this.layers, this.readout, ctx.rng);
  }

  describe(): string {
    const s = this.settings;
    return `bp (MLP) ${[this.ctx.inputSize, ...s.hidden.map((l) => l.size), s.outputSize].join('-')} φ=${s.activation} ${s.optimizer} lr=${s.learningRate}`;
  }

  get network(): Network {
    return this.net;
  }

  /** One step of the rule's engine network on x: every layer's pre-activation z and activity a stay in its state until the next reset. */
  private forward(x: Float32Array, B: number): { zs: Tensor[]; as: Tensor[]; logits: Tensor } {
    const input = this.sc.get('in', [B, this.ctx.inputSize]);
    this.ctx.backend.write(input, x.subarray(0, B * this.ctx.inputSize));
    this.net.reset(B);
    this.net.run({ steps: 1, input: () => input });
    const hidden = this.net.layers.slice(0, -1);
    return { zs: hidden.map((l) => l.voltage()), as: [input, ...hidden.map((l) => l.output())], logits: this.net.layers[hidden.length].output() };
  }

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    const be = this.ctx.backend, B = labels.length, step = ++this.stepIndex, L = this.layers.length;
    const { zs, as, logits } = this.forward(x, B);
    const res = softmaxCELabels(be, this.sc, logits, labels, logits);
    let delta = logits;
    const chain = [...this.layers, this.readout];
    for (const l of chain) l.zeroGrad();
    for (let i = L; i >= 0; i--) {
      const layer = chain[i];
      be.spikeOuter(layer.W.grad, as[i], delta, 1);
      be.sumRows(layer.b.grad, delta);
      if (i === 0) break;
      const d = this.sc.get(`d${i - 1}`, [B, layer.inSize]), df = this.sc.get(`df${i - 1}`, [B, layer.inSize]);
      be.matmul(d, delta, layer.W.value, { transB: true });
      be.activation(df, zs[i - 1], this.phi.name, true);
      be.mul(d, d, df);
      delta = d;
    }
    this.stats = chain.map((l, i) => {
      l.step(step);
      return { layer: i, label: l.name, weightNorm: l.weightNorm(), learningRate: l.opt.learningRate };
    });
    return { loss: res.loss, layerLosses: [res.loss], accuracy: res.correct / B };
  }

  predict(x: Float32Array, B: number): Int32Array {
    const { logits } = this.forward(x, B);
    return argmaxRows(this.ctx.backend.read(logits), B, this.readout.outSize);
  }

  dispose(): void {
    this.net.free();
    for (const l of [...this.layers, this.readout]) l.dispose();
    this.sc.dispose();
  }
}
