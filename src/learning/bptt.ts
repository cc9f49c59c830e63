/**
 * Baselines in the same engine, for the comparison table (not local learning rules):
 *
 * - 'bptt': backprop through time with a surrogate gradient on the same spiking network as
 *   spiking sigprop: LIF, synaptic LIF, Izhikevich, AdEx or equation-defined hidden layers (with
 *   recurrent and delayed projections, one delay or one per connection) and a leaky-integrator readout ('li') with
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
 *   Izhikevich and AdEx (Euler substeps with a reset, models/izhikevich.ts, models/adex.ts): the
 *   hook keeps the input current I[t] and the state (v, u / w) at every step's end (and the initial
 *   state); the backward recomputes the step's substeps from the state at its start and runs back
 *   through them on the host (substepBackward), each substep adding dS_ℓ[t]·f'(v − vPeak) to its
 *   post-update v, a reset detached (v = c carries no gradient to the past, u += d passes it).
 *   Equation-defined models (models/equation.ts, registered or inline; threshold 'x > θ'): the hook
 *   keeps every state variable and the spikes at every step's end (and the initial state) and the
 *   input current I[t]; the backward of x[t] = F(x[t−1], I[t]) runs on the host with Jacobians
 *   built symbolically once (mathjs derivative, through the model's integration scheme) and
 *   compiled to a per-element function, surrogate f'(x − θ) on the pre-reset value, resets
 *   detached ('v -= vth' keeps the un-reset Jacobian, 'v = c' cuts it): src/learning/bptt-equation.ts.
 *   Projections: with a recurrent projection (I[t] += S_ℓ[t−1]·R; 'one-to-one': R's diagonal)
 *       dS_ℓ[t−1] += dJ_ℓ[t]·Rᵀ,  ∂L/∂R = Σ_t S_ℓ[t−1]ᵀ·dJ_ℓ[t]  (off-diagonal part removed for one-to-one);
 *   with one delay d (I[t] = x_ℓ[t−d]·W + b)
 *       dS_{ℓ−1}[t−d] += dJ_ℓ[t]·Wᵀ,  ∂L/∂W_ℓ = Σ_{t≥d} x_ℓ[t−d]ᵀ·dJ_ℓ[t];
 *   with one delay per connection d_kn (I_n[t] = Σ_k x_k[t − d_kn]·W_kn + b_n), per delay value δ
 *   present (mask M_δ = [d = δ], built once):
 *       dS_{ℓ−1}[t−δ] += dJ_ℓ[t]·(W ⊙ M_δ)ᵀ,  ∂L/∂W_ℓ = Σ_δ M_δ ⊙ Σ_{t≥δ} x_ℓ[t−δ]ᵀ·dJ_ℓ[t]
 *   (matmul, spikeOuter and mul kernels; the stored inputs of every step serve as the delay ring);
 *   those contributions to earlier steps wait in per-step buffers until the backward reaches them.
 *   All are checked against autodiff of the forward in test/learning.bptt-grad.test.ts (the
 *   substeps also against finite differences of the kernels). Where a
 *   membrane floor vMin held U, the path to U[t−1] and W is cut (Backend.gateBelow).
 * - 'bp' (mode 'rate'): the backprop MLP with the same activation and readout as the rate sigprop.
 */
import { getActivation, type Activation } from '../../models/activations.js';
import { resolveLif, type LifResolved } from '../../models/lif.js';
import { getModel } from '../../models/registry.js';
import { resolveSynaptic } from '../../models/synaptic.js';
import { resolveIzhikevich, type IzhikevichResolved } from '../../models/izhikevich.js';
import { resolveAdex, type AdexResolved } from '../../models/adex.js';
import type { SurrogateKernelSpec } from '../backend/backend.js';
import { initRecurrent, type Recurrence } from '../engine/layer.js';
import { buildInlineModel, layerModel, modelLabel } from '../config/inline-model.js';
import { compileEquationBackward, equationSpecOf, type EquationBackward } from './bptt-equation.js';
import type { ExperimentConfig } from '../config/types.js';
import { makeStepSource, type Encoder } from '../encoders.js';
import { Network } from '../engine/network.js';
import { ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { DenseParams, denseChain } from './dense.js';
import { argmaxRows, countCorrect, lossAccumulator, oneHotTargets, readLoss, softmaxCE, syncedArgmax } from './losses.js';
import { mlpBatchDevice, mlpBatchRead, mlpLayerStats, mlpPredictAsync, type BackwardSource, type MlpParts } from './mlp.js';
import type { BatchResult, LayerStats, RuleContext, TrainingRule } from './rule.js';
import { Scratch } from './scratch.js';
import { resolveRuleSettings, type RuleSettings } from './settings.js';
import { rateForward, rateNetwork } from './sigprop-rate.js';

/** Hidden-layer models the BPTT baseline has a backward pass for. */
export const BPTT_MODELS = ['lif', 'synaptic', 'izhikevich', 'adex'] as const;

/** What every BPTT hidden layer has besides its model: its projection's recurrence and delays. */
interface ProjectionParams {
  /** Recurrent projection from the layer's own spikes at t−1, or absent. */
  recurrent?: Recurrence;
  /** One synaptic delay d (steps) for the feed-forward projection: x[t] arrives at t + d (0: none, or per-connection delays). */
  delay: number;
  /** One delay per connection [in, out] row-major (x_k[t] reaches n at t + d_kn), or absent. */
  connDelays?: Int32Array;
}

/** A LIF or synaptic LIF BPTT hidden layer: LIF, plus the synaptic current's decay α for 'synaptic'. */
export interface LifLayerParams extends LifResolved, ProjectionParams {
  model: 'lif' | 'synaptic';
  /** Synaptic current decay α ('synaptic'), absent for 'lif'. */
  alpha?: number;
}

/** An Izhikevich or AdEx BPTT hidden layer: Euler substeps with a reset, backward through them (threshold = vPeak). */
export type SubstepLayerParams = ProjectionParams & (
  | { model: 'izhikevich'; p: IzhikevichResolved; threshold: number; beta?: undefined }
  | { model: 'adex'; p: AdexResolved; threshold: number; beta?: undefined }
);

/** An equation-defined BPTT hidden layer (registered or inline): its compiled step backward (src/learning/bptt-equation.ts). */
export interface EquationLayerParams extends ProjectionParams {
  model: 'equation';
  /** The model's name (messages), and what the engine layer is given: the registry name or the inline spec. */
  name: string;
  source: NonNullable<ExperimentConfig['layers'][number]['model']>;
  backward: EquationBackward;
  beta?: undefined;
}

/** A BPTT hidden layer's resolved parameters. */
export type SpikingLayerParams = LifLayerParams | SubstepLayerParams | EquationLayerParams;

/**
 * Resolve a BPTT hidden layer's parameters ('lif', 'synaptic', 'izhikevich', 'adex', or an
 * equation-defined model, registered or inline, whose threshold is 'x > θ') and check the gradient
 * is implemented for them (LIF: reset 'subtract' or 'none'). Delays: one integer for the
 * projection, or one per connection (an Int32Array or array [in, out] row-major; its length is
 * checked by the engine's layer).
 */
export function resolveSpikingLayer(layer: ExperimentConfig['layers'][number], dtMs: number, index: number): SpikingLayerParams {
  const model = layer.model ?? 'lif';
  const built = typeof model === 'string' ? getModel(model) : undefined; // unknown model names fail here with the list of known ones
  const spec = typeof model === 'string' ? equationSpecOf(built) : model;
  if (!spec && !(BPTT_MODELS as readonly string[]).includes(model as string)) {
    throw new ParameterError(`layers[${index}].model = ${modelLabel(model)}: bptt is implemented for ${BPTT_MODELS.map((m) => `'${m}'`).join(', ')} and equation-defined layers; use one of those (spiking sigprop trains every model)`);
  }
  const delays = layer.delays as unknown;
  let proj: ProjectionParams;
  if (delays === undefined || typeof delays === 'number') {
    if (delays !== undefined && (!Number.isInteger(delays) || delays < 0)) {
      throw new ParameterError(`layers[${index}].delays = ${delays}: give one integer delay d >= 0 (steps) for the projection, or one per connection`);
    }
    proj = { delay: (delays as number | undefined) ?? 0 };
  } else {
    const arr = delays instanceof Int32Array ? delays : Array.isArray(delays) ? Int32Array.from(delays as number[]) : null;
    if (!arr || (Array.isArray(delays) && (delays as unknown[]).some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0))) {
      throw new ParameterError(`layers[${index}].delays: give one integer delay d >= 0 (steps) for the projection, or one per connection (integers >= 0, [in, out] row-major)`);
    }
    for (let k = 0; k < arr.length; k++) {
      if (arr[k] < 0) throw new ParameterError(`layers[${index}].delays[${k}] = ${arr[k]}: delays are integers >= 0 (steps)`);
    }
    proj = { delay: 0, connDelays: arr };
  }
  if (layer.recurrent !== undefined) proj.recurrent = layer.recurrent;
  if (spec) {
    const m = typeof model === 'string' ? built! : buildInlineModel(model);
    m.resolve(layer.params as never, dtMs); // parameter errors, as the engine's layer would give them
    let backward: EquationBackward;
    try {
      backward = compileEquationBackward(equationSpecOf(m) as never);
    } catch (e) {
      throw new ParameterError(`layers[${index}].model = ${modelLabel(model)}: ${(e as Error).message}`);
    }
    return { model: 'equation', name: m.name, source: model, backward, ...proj };
  }
  const kind = model as (typeof BPTT_MODELS)[number];
  if (kind === 'izhikevich') {
    const p = resolveIzhikevich(layer.params as never, dtMs);
    return { model: kind, p, threshold: p.vPeak, ...proj };
  }
  if (kind === 'adex') {
    const p = resolveAdex(layer.params as never, dtMs);
    return { model: kind, p, threshold: p.Vpeak, ...proj };
  }
  const p: LifLayerParams = kind === 'lif'
    ? { ...resolveLif(layer.params as never, dtMs), model: kind, ...proj }
    : { ...resolveSynaptic(layer.params as never, dtMs), model: 'synaptic', ...proj };
  if (p.reset === 'zero') {
    throw new ParameterError(`layers[${index}].params.reset = "zero": the gradient is implemented for reset 'subtract' or 'none'; use one of those`);
  }
  return p;
}

/**
 * Backward of one step of an Izhikevich or AdEx layer through its nSub Euler substeps, on the host
 * in float64 (as the forward kernel runs them). From the state at the step's start (v0, w0: u for
 * Izhikevich, w for AdEx) and the input current x, the substeps are recomputed; then, from
 * dS (∂L/∂S[t]) and gv, gw (∂L/∂ of the state at the step's end, overwritten with ∂L/∂ of the
 * state at its start), gx is written with ∂L/∂x. The step's spike S is 1 when any substep's
 * post-update v reached the peak: each substep adds dS·f'(v − peak) to its v. A reset is detached:
 * v = c (Vr) carries no gradient to the past, u (w) += d (b) passes it through unchanged.
 */
export function substepBackward(layer: SubstepLayerParams, sg: SurrogateKernelSpec, v0: Float32Array, w0: Float32Array, x: Float32Array, dS: Float32Array, gv: Float64Array, gw: Float64Array, gx: Float32Array): void {
  const n = layer.p.nSub, h = layer.p.hMs, peak = layer.threshold;
  const vs = new Float64Array(n), ws = new Float64Array(n), v1s = new Float64Array(n), sp = new Uint8Array(n);
  for (let i = 0; i < v0.length; i++) {
    let v = v0[i], w = w0[i];
    const xi = x[i];
    // forward, keeping each substep's starting state and post-update v
    for (let k = 0; k < n; k++) {
      vs[k] = v;
      ws[k] = w;
      if (layer.model === 'izhikevich') {
        const q = layer.p;
        v += h * (0.04 * v * v + 5 * v + 140 - w + xi);
        w += h * q.a * (q.b * v - w);
        v1s[k] = v;
        sp[k] = v >= q.vPeak ? 1 : 0;
        if (sp[k]) {
          v = q.c;
          w += q.d;
        }
      } else {
        const q = layer.p;
        const arg = Math.min((v - q.VT) / q.deltaT, (q.Vpeak - q.VT) / q.deltaT);
        const dv = (-q.gL * (v - q.EL) + q.gL * q.deltaT * Math.exp(arg) - w + xi) / q.C;
        const dw = (q.a * (v - q.EL) - w) / q.tauWMs;
        v += h * dv;
        w += h * dw;
        v1s[k] = v;
        sp[k] = v > q.Vpeak ? 1 : 0;
        if (sp[k]) {
          v = q.Vr;
          w += q.b;
        }
      }
    }
    // backward through the substeps
    let g1 = gv[i], g2 = gw[i], gxi = 0;
    const ds = dS[i];
    for (let k = n - 1; k >= 0; k--) {
      // after the reset (detached): v = c gives no gradient; u += d passes it
      let gv1 = sp[k] ? 0 : g1;
      gv1 += ds * sg.df(v1s[k] - peak);
      const gw1 = g2, v = vs[k];
      if (layer.model === 'izhikevich') {
        const q = layer.p;
        // u1 = u + h·a·(b·v1 − u)
        gv1 += gw1 * h * q.a * q.b;
        // v1 = v + h·(0.04·v² + 5·v + 140 − u + x)
        g1 = gv1 * (1 + h * (0.08 * v + 5));
        g2 = gw1 * (1 - h * q.a) - h * gv1;
        gxi += h * gv1;
      } else {
        const q = layer.p;
        const z = (v - q.VT) / q.deltaT;
        const dexp = z < (q.Vpeak - q.VT) / q.deltaT ? q.gL * Math.exp(z) : 0;
        // v1 = v + h·(−gL·(v − EL) + gL·ΔT·exp(arg) − w + x)/C, w1 = w + h·(a·(v − EL) − w)/τw (both from the substep's start)
        g1 = gv1 * (1 + (h * (-q.gL + dexp)) / q.C) + (gw1 * h * q.a) / q.tauWMs;
        g2 = (-gv1 * h) / q.C + gw1 * (1 - h / q.tauWMs);
        gxi += (h * gv1) / q.C;
      }
    }
    gv[i] = g1;
    gw[i] = g2;
    gx[i] = gxi;
  }
}

/** Shared parameter bookkeeping of the two baselines. */
abstract class BaselineBase {
  abstract readonly layers: DenseParams[];
  abstract readonly readout: DenseParams;
  setEpoch(epoch: number): void {
    for (const l of [...this.layers, this.readout]) l.setEpoch(epoch);
  }
  state(): Record<string, Float32Array> {
    return Object.assign({}, ...this.layers.map((l) => l.state()), this.readout.state());
  }
  loadState(st: Record<string, Float32Array>): void {
    for (const l of [...this.layers, this.readout]) l.loadState(st);
  }
}

export class BpttRule extends BaselineBase implements TrainingRule {
  readonly name = 'bptt';
  readonly settings: RuleSettings;
  readonly layers: DenseParams[];
  readonly readout: DenseParams;
  /** Per hidden layer: the resolved model parameters (LIF, synaptic LIF, Izhikevich, AdEx) and projection. */
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
    this.immediateReset = this.lif.map((p) => (p.model === 'lif' || p.model === 'synaptic') && !p.resetDelay && p.reset === 'subtract');
    this.readoutBeta = s.readoutBeta ?? this.lif[this.lif.length - 1].beta ?? 0.9;
    // as makeLayers, with recurrent weights (initialised as the engine's) where a layer has them
    let fanIn = ctx.inputSize;
    this.layers = s.hidden.map((l, i) => {
      const r = this.lif[i].recurrent;
      const rec = r ? initRecurrent(ctx.rng, l.size, r, s.initScale) : undefined;
      const d = new DenseParams(ctx.backend, ctx.rng, `layer${i}`, fanIn, l.size, s, s.learningRate, rec);
      fanIn = l.size;
      return d;
    });
    this.readout = new DenseParams(ctx.backend, ctx.rng, 'readout', fanIn, s.outputSize, s);
    this.sc = new Scratch(ctx.backend);
    this.store = new Scratch(ctx.backend);
    const hidden = s.hidden.map((l, i) => {
      const p = this.lif[i];
      return {
        size: l.size, model: p.model === 'equation' ? layerModel(p.source) : p.model, params: l.params, propagation: 'event' as const, name: `layer${i}`,
        ...(p.recurrent ? { recurrent: p.recurrent } : {}), ...(p.connDelays ? { delays: p.connDelays } : p.delay > 0 ? { delays: p.delay } : {}),
      };
    });
    this.net = new Network(
      ctx.backend,
      { inputSize: ctx.inputSize, dtMs: s.dtMs, layers: [...hidden, { size: s.outputSize, model: 'li', params: { beta: this.readoutBeta }, propagation: 'event', name: 'readout' }] },
      ctx.rng,
      [...this.layers, this.readout].map((d) => d.tensors()),
    );
  }

  describe(): string {
    const s = this.settings;
    const label = (p: SpikingLayerParams) => (p.model === 'lif' ? 'LIF' : p.model === 'synaptic' ? 'synaptic LIF' : p.model === 'izhikevich' ? 'Izhikevich' : p.model === 'adex' ? 'AdEx' : `equation "${(p as EquationLayerParams).name}"`) +
      (p.recurrent ? `+${p.recurrent}` : '') + (p.connDelays ? '+delay per connection' : p.delay > 0 ? `+delay ${p.delay}` : '');
    const models = [...new Set(this.lif.map(label))].join('/');
    const betas = this.lif.some((p) => p.beta !== undefined) ? ` β=${this.lif.map((p) => p.beta ?? '-').join('/')}` : '';
    const alphas = this.lif.some((p) => 'alpha' in p && p.alpha !== undefined) ? ` α=${this.lif.map((p) => ('alpha' in p ? p.alpha : undefined) ?? '-').join('/')}` : '';
    return `bptt (spiking ${models}${betas}${alphas}, T=${s.steps}, surrogate=${s.surrogate.spec}) ` +
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
    return this.readBatch(this.deviceBatch(x, labels, true), labels);
  }

  /**
   * trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, one sync before
   * the reads. Layers whose backward step runs on the host (Izhikevich, AdEx, equation models) are
   * refused: they read the state back at every step.
   */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    const host = this.lif.findIndex((p) => p.model === 'izhikevich' || p.model === 'adex' || p.model === 'equation');
    if (host >= 0) {
      throw new ParameterError(
        `layers[${host}].model = "${this.lif[host].model}": BPTT's backward step through it runs on the host and reads the state back at every step, ` +
          `which backend "${this.ctx.backend.name}" (asynchronous read-back) cannot do; use LIF or synaptic layers there, or another backend (wasm)`,
      );
    }
    const d = this.deviceBatch(x, labels, false);
    await this.ctx.backend.sync?.([d.zsum, d.lossAcc]);
    return this.readBatch(d, labels);
  }

  /** The read part of a batch: the time-averaged loss and the accuracy of Σ_t U_o. */
  private readBatch(d: { zsum: Tensor; lossAcc: Tensor }, labels: ArrayLike<number>): BatchResult {
    const be = this.ctx.backend, T = this.settings.steps, C = this.readout.outSize;
    const correct = countCorrect(be.read(d.zsum), labels, C);
    const lossSum = readLoss(be, d.lossAcc);
    return { loss: lossSum / T, layerLosses: [lossSum / T], accuracy: correct / labels.length };
  }

  /** Per-layer statistics now (weight norms read when asked, not per batch). */
  layerStats(): LayerStats[] {
    const L = this.layers.length;
    return [...this.layers, this.readout].map((l, i) => ({
      layer: i, label: i < L ? `${l.name} (${this.lif[i].model}, ${l.outSize})` : `readout (leaky, ${l.outSize})`, weightNorm: l.weightNorm(), learningRate: l.opt.learningRate,
    }));
  }

  /** The device part of a batch: forward window, backward through time, every layer's step (with `check`, its finiteness check). */
  private deviceBatch(x: Float32Array, labels: ArrayLike<number>, check: boolean): { zsum: Tensor; lossAcc: Tensor } {
    const s = this.settings, be = this.ctx.backend, T = s.steps, B = labels.length, L = this.layers.length;
    const C = this.readout.outSize, step = ++this.stepIndex, store = this.store;
    const src = makeStepSource(s, this.ctx, x, B, new Float32Array(0), 0, this.ctx.inputSize, this.encoders);
    // per-step stores: layer ℓ's input x_ℓ[t] (the readout's is the top layer's spikes), U_ℓ[t], A_ℓ[t], the readout's ∂L_t/∂U_o;
    // Izhikevich / AdEx: v, u (w) at the end of step t (index −1: the initial state) and the input current I[t]
    const xs = (i: number, t: number) => store.get(`x${i}.${t}`, [B, this.net.layers[i].inSize]);
    const us = (i: number, t: number) => store.get(`u${i}.${t}`, [B, this.layers[i].outSize]);
    const as = (i: number, t: number) => store.get(`a${i}.${t}`, [B, this.layers[i].outSize]);
    const ws = (i: number, t: number) => store.get(`w${i}.${t}`, [B, this.layers[i].outSize]);
    const is = (i: number, t: number) => store.get(`i${i}.${t}`, [B, this.layers[i].outSize]);
    const dzs = (t: number) => store.get(`dz${t}`, [B, C]);
    const zsum = this.sc.zeros('zsum', [B, C]);
    const lossAcc = lossAccumulator(this.sc, 'loss'), roP = oneHotTargets(this.sc, labels, C);
    const substep = this.lif.map((p) => p.model === 'izhikevich' || p.model === 'adex');
    const recVar = (i: number) => (this.lif[i].model === 'izhikevich' ? 'u' : 'w');
    // equation models: every state variable and the spikes s at the end of step t (index −1: the initial state)
    const eqVars = this.lif.map((p) => (p.model === 'equation' ? [...p.backward.vars, 's'] : null));
    const es = (i: number, v: string, t: number) => store.get(`e${i}.${v}.${t}`, [B, this.layers[i].outSize]);
    // forward on the engine, storing every step (the first layer's input as x − r where the backend asks: the stored inputs stay x)
    this.net.reset(B);
    this.net.useInputReference(src.mostLikely);
    for (let i = 0; i < L; i++) {
      const layer = this.net.layers[i];
      for (const v of eqVars[i] ?? []) be.copy(es(i, v, -1), layer.stateVar(v));
      if (!substep[i]) continue;
      be.copy(us(i, -1), layer.voltage());
      be.copy(ws(i, -1), layer.stateVar(recVar(i)));
    }
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
          if (substep[i]) {
            be.copy(is(i, t), layer.inputCurrent());
            be.copy(ws(i, t), layer.stateVar(recVar(i)));
          }
          const ev = eqVars[i];
          if (ev) {
            be.copy(is(i, t), layer.inputCurrent());
            for (const v of ev) be.copy(es(i, v, t), layer.stateVar(v));
            return;
          }
          // immediate subtract reset: keep the pre-reset membrane A[t] = β·U[t−1] + I[t] (synaptic: + I_syn[t]), where the spike is decided
          if (this.immediateReset[i]) {
            const at = as(i, t);
            be.copy(at, this.lif[i].model === 'synaptic' ? layer.stateVar('isyn') : layer.inputCurrent());
            if (t > 0) be.axpby(at, us(i, t - 1), this.lif[i].beta as number, 1);
          }
          be.copy(us(i, t), layer.voltage());
        },
      },
    });
    // backward through time
    for (const l of [...this.layers, this.readout]) l.zeroGrad();
    const dUo = this.sc.zeros('dUo', [B, C]);
    const dU = this.layers.map((l, i) => this.sc.zeros(`dU${i}`, [B, l.outSize]));
    const dJ = this.layers.map((l, i) => (this.lif[i].model === 'synaptic' ? this.sc.zeros(`dJ${i}`, [B, l.outSize]) : null));
    const dS = this.layers.map((l, i) => this.sc.get(`dS${i}`, [B, l.outSize]));
    const fp = this.layers.map((l, i) => this.sc.get(`fp${i}`, [B, l.outSize]));
    const oneMinus = this.layers.map((l, i) => (this.immediateReset[i] ? this.sc.get(`om${i}`, [B, l.outSize]) : null));
    // delays of the projection into each layer (the readout's: 0); pending dS_ℓ[τ] from later steps
    // (a recurrent layer's own dI[τ+1]·Rᵀ, a delayed layer above's dI[τ+d]·Wᵀ)
    const delay = [...this.lif.map((p) => p.delay), 0];
    const delayed = [...this.lif.map((p) => p.delay > 0 || !!p.connDelays), false];
    const pending = this.layers.map((_, i) => !!this.lif[i].recurrent || delayed[i + 1]);
    // per-connection delays: for each delay value δ present, the mask M_δ = [d_kn = δ], W ⊙ M_δ and
    // the gradient accumulated from x[t − δ] (masked into W's gradient at the end)
    const conn = this.layers.map((l, i) => {
      const cd = this.lif[i].connDelays;
      return cd ? this.connDelayTerms(i, cd).map(({ d, mask }) => {
        const wd = this.sc.get(`wd${i}.${d}`, [l.inSize, l.outSize]), gd = this.sc.zeros(`gd${i}.${d}`, [l.inSize, l.outSize]);
        be.mul(wd, l.W.value, mask);
        return { d, mask, wd, gd };
      }) : null;
    });
    const pend = (i: number, t: number) => this.sc.get(`pend${i}.${t}`, [B, this.layers[i].outSize]);
    for (let i = 0; i < L; i++) if (pending[i]) for (let t = 0; t < T; t++) be.fill(pend(i, t), 0);
    // Izhikevich / AdEx: ∂L/∂(v, u) at the end of the step being processed (host, float64) and dI[t]
    const gV = this.layers.map((l, i) => (substep[i] ? new Float64Array(B * l.outSize) : null));
    const gW = this.layers.map((l, i) => (substep[i] ? new Float64Array(B * l.outSize) : null));
    const gX = this.layers.map((l, i) => (substep[i] ? this.sc.get(`gx${i}`, [B, l.outSize]) : null));
    const gXh = this.layers.map((l, i) => (substep[i] || eqVars[i] ? new Float32Array(B * l.outSize) : null));
    // equation models: ∂L/∂ of each state variable at the end of the step being processed (host, float64), the parameters
    const gE = this.layers.map((l, i) => (eqVars[i] ? this.lif[i] as EquationLayerParams : null)?.backward.vars.map(() => new Float64Array(B * l.outSize)) ?? null);
    const gXt = this.layers.map((l, i) => (eqVars[i] ? this.sc.get(`gxe${i}`, [B, l.outSize]) : null));
    const eqP = this.lif.map((p, i) => {
      if (p.model !== 'equation') return null;
      const rp = this.net.layers[i].params as Record<string, number>;
      return { values: p.backward.paramNames.map((k) => rp[k]), dt: rp.dtMs };
    });
    for (let t = T - 1; t >= 0; t--) {
      be.axpby(dUo, dzs(t), 1 / T, this.readoutBeta);
      be.spikeOuter(this.readout.W.grad, xs(L, t), dUo, 1);
      be.sumRows(this.readout.b.grad, dUo, 1, 1);
      let above: Tensor = dUo, aboveW = this.readout.W.value;
      for (let i = L - 1; i >= 0; i--) {
        // dS_ℓ[t]: from the layer above at t (undelayed projection) and what later steps left pending
        if (!delayed[i + 1]) {
          be.matmul(dS[i], above, aboveW, { transB: true });
          if (pending[i]) be.axpby(dS[i], pend(i, t), 1, 1);
        } else be.copy(dS[i], pend(i, t));
        const ut = us(i, t);
        const lif = this.lif[i];
        let g: Tensor;
        if (lif.model === 'izhikevich' || lif.model === 'adex') {
          const gx = gXh[i] as Float32Array;
          substepBackward(lif, s.surrogate, be.read(us(i, t - 1)), be.read(ws(i, t - 1)), be.read(is(i, t)), be.read(dS[i]), gV[i] as Float64Array, gW[i] as Float64Array, gx);
          g = gX[i] as Tensor;
          be.write(g, gx);
        } else if (lif.model === 'equation') {
          const gx = gXh[i] as Float32Array, vars = lif.backward.vars, q = eqP[i]!;
          lif.backward.step(vars.map((v) => be.read(es(i, v, t - 1))), be.read(es(i, 's', t - 1)), be.read(is(i, t)), be.read(es(i, 's', t)), be.read(dS[i]),
            gE[i] as Float64Array[], gx, q.values, q.dt, t * q.dt, s.surrogate.df);
          g = gXt[i] as Tensor;
          be.write(g, gx);
        } else {
          if (this.immediateReset[i]) {
            // dA[t] = dS ⊙ f'(A − θ) + g ⊙ (1 − θ·f'(A − θ)), g = β·dA[t+1] gated where the floor held U[t]
            be.surrogate(fp[i], as(i, t), lif.threshold, s.surrogate, true);
            const gu = dU[i], h = oneMinus[i] as Tensor;
            be.axpby(gu, gu, 0, lif.beta);
            if (lif.vMin !== undefined) be.gateBelow(gu, ut, lif.vMin);
            be.axpby(h, fp[i], -lif.threshold, 0);
            be.addScalar(h, 1); // 1 − θ·f'(A − θ)
            be.mul(gu, gu, h);
            be.mul(dS[i], dS[i], fp[i]);
            be.axpby(gu, dS[i], 1, 1);
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
          g = dj ?? dU[i];
        }
        // W: the input that arrives now, x_ℓ[t − d]; the layer below's spikes at t − d get dI[t]·Wᵀ
        const d = delay[i], cd = conn[i];
        if (cd) {
          // per connection: ∂L/∂W_kn += x_k[t − d_kn]·dI_n[t]; dS_{ℓ−1}[t − d_kn]_k += dI_n[t]·W_kn
          for (const term of cd) {
            if (t - term.d < 0) continue;
            be.spikeOuter(term.gd, xs(i, t - term.d), g, 1);
            if (i > 0) be.matmul(pend(i - 1, t - term.d), g, term.wd, { transB: true, beta: 1 });
          }
        } else if (t - d >= 0) {
          be.spikeOuter(this.layers[i].W.grad, xs(i, t - d), g, 1);
          if (d > 0 && i > 0) be.matmul(pend(i - 1, t - d), g, this.layers[i].W.value, { transB: true, beta: 1 });
        }
        be.sumRows(this.layers[i].b.grad, g, 1, 1);
        // recurrent input S_ℓ[t−1]·R (S_ℓ[t−1] is the layer above's stored input at t − 1)
        const R = this.layers[i].R;
        if (R && t > 0) {
          be.spikeOuter(R.grad, xs(i + 1, t - 1), g, 1);
          be.matmul(pend(i, t - 1), g, R.value, { transB: true, beta: 1 });
        }
        above = g;
        aboveW = this.layers[i].W.value;
      }
    }
    conn.forEach((cd, i) => {
      for (const term of cd ?? []) {
        be.mul(term.gd, term.gd, term.mask);
        be.axpby(this.layers[i].W.grad, term.gd, 1, 1);
      }
    });
    // one-to-one recurrence: only the diagonal is a parameter
    this.layers.forEach((l, i) => {
      if (l.R && this.lif[i].recurrent === 'one-to-one') be.mul(l.R.grad, l.R.grad, this.diagMask(l.outSize));
    });
    for (const l of this.layers) l.step(step, check);
    this.readout.step(step, check);
    return { zsum, lossAcc };
  }

  private readonly connMasks = new Map<number, { d: number; mask: Tensor }[]>();

  /** Per-connection delays of layer i: each delay value present and its mask [in, out] (1 where d_kn = δ), built once. */
  private connDelayTerms(i: number, cd: Int32Array): { d: number; mask: Tensor }[] {
    let terms = this.connMasks.get(i);
    if (!terms) {
      const l = this.layers[i];
      const values = [...new Set(cd)].sort((a, b) => a - b);
      terms = values.map((d) => {
        const h = new Float32Array(cd.length);
        for (let k = 0; k < cd.length; k++) h[k] = cd[k] === d ? 1 : 0;
        const mask = this.sc.get(`cmask${i}.${d}`, [l.inSize, l.outSize]);
        this.ctx.backend.write(mask, h);
        return { d, mask };
      });
      this.connMasks.set(i, terms);
    }
    return terms;
  }

  /** The identity [n, n] as a mask (one-to-one recurrent gradients). */
  private diagMask(n: number): Tensor {
    const m = this.sc.get(`eye${n}`, [n, n]);
    const h = new Float32Array(n * n);
    for (let k = 0; k < n; k++) h[k * n + k] = 1;
    this.ctx.backend.write(m, h);
    return m;
  }

  /** argmax_c Σ_t U_o[t]: the rule's own network run forward, a hook summing the readout. */
  predict(x: Float32Array, B: number): Int32Array {
    return argmaxRows(this.ctx.backend.read(this.predictDevice(x, B)), B, this.readout.outSize);
  }

  /** predict on a backend with asynchronous read-back (rule.ts): the same kernels, a sync before the read. */
  predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    return syncedArgmax(this.ctx.backend, this.predictDevice(x, B), B, this.readout.outSize);
  }

  /** The prediction window (kernels only): Σ_t U_o [B, C]. */
  private predictDevice(x: Float32Array, B: number): Tensor {
    const be = this.ctx.backend, L = this.layers.length, C = this.readout.outSize;
    const src = makeStepSource(this.settings, this.ctx, x, B, new Float32Array(0), 0, this.ctx.inputSize, this.encoders);
    const zsum = this.sc.zeros('p.zsum', [B, C]);
    this.net.reset(B);
    this.net.useInputReference(src.mostLikely);
    this.net.run({
      steps: this.settings.steps,
      write: (t, out) => src.write(t, out),
      hooks: {
        afterLayer: (layer) => {
          if (layer.index === L) be.axpby(zsum, layer.voltage(), 1, 1);
        },
      },
    });
    return zsum;
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
    ({ layers: this.layers, readout: this.readout } = denseChain(ctx.backend, ctx.rng, s, ctx.inputSize));
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
    return rateForward(this.net, this.sc, this.ctx.inputSize, x, B);
  }

  /** The parts of the shared MLP step (mlp.ts). */
  private parts(): MlpParts {
    return { be: this.ctx.backend, sc: this.sc, net: this.net, inputSize: this.ctx.inputSize, chain: [...this.layers, this.readout], activation: this.phi.name };
  }

  /** Backprop's backward source: δ_{i−1} = (δ_i·W_iᵀ) ⊙ φ'(z_{i−1}). */
  private readonly back: BackwardSource = (i, delta) => ({ src: delta, M: (i < this.layers.length ? this.layers[i] : this.readout).W.value });

  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult {
    return mlpBatchRead(this.ctx.backend, mlpBatchDevice(this.parts(), x, labels, ++this.stepIndex, true, this.back));
  }

  /** trainBatch on a backend with asynchronous read-back (rule.ts): the same kernels, one sync before the reads. */
  async trainBatchAsync(x: Float32Array, labels: ArrayLike<number>): Promise<BatchResult> {
    const ce = mlpBatchDevice(this.parts(), x, labels, ++this.stepIndex, false, this.back);
    await this.ctx.backend.sync?.([ce.z, ce.loss]);
    return mlpBatchRead(this.ctx.backend, ce);
  }

  layerStats(): LayerStats[] {
    return mlpLayerStats([...this.layers, this.readout]);
  }

  predictAsync(x: Float32Array, B: number): Promise<Int32Array> {
    return mlpPredictAsync(this.parts(), x, B);
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
