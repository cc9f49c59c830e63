/**
 * PEPITA on the spiking network (rule 'pepita', mode 'spiking'; Dellaferrera & Kreiman, ICML 2022,
 * with the activities of the rate form read as spike rates): two windows of T steps on the engine
 * (three with ruleParams.antithetic), one per pass, over the same input spikes and the same dropout
 * masks.
 *
 * Network: spiking-forward-common.ts (LIF hidden layers, leaky readout U_o, no learned bias).
 * Per batch (B samples, one-hot targets P [B, C]):
 *   dropout:        one inverted mask per hidden layer and sample (ruleParams.dropout), drawn once
 *                   and applied to the layer's spikes in both passes (the next layer receives them);
 *   input spikes:   the encoder draws from a generator reseeded per batch (one draw of the run's
 *                   generator), rewound before each pass: both passes see the identical spikes s[t];
 *   pass 1 (clean): rates r_ℓ = (1/T) Σ_t s_ℓ[t] of every hidden layer (after dropout), and the
 *                   readout's time-averaged membrane z = (1/T) Σ_t U_o[t];
 *                   e = softmax(z) − P   (the error at the end of pass 1, on the average membrane);
 *   modulation:     x_mod[t] = s[t] + m with m = sign·e·Fᵀ [B, d_in] (modulationSign +1: x + F·e,
 *                   the default; −1: x − F·e): the modulation enters as a constant input current on
 *                   top of every step's input spikes, so the spikes stay those of pass 1 and the mean
 *                   input is exactly x_rate + F·e. (Modulating the rate-coding probabilities instead
 *                   would clip F·e at 0 on the background pixels and turn it into rare spike flips.)
 *                   Since x_mod[t]·W₀ = s[t]·W₀ + m·W₀, the engine's first layer still propagates the
 *                   spikes event-driven and receives m·W₀ [B, n₀] (one product per batch) as its
 *                   injected current (Layer.injected): pass 2 costs what pass 1 costs.
 *   pass 2 (mod):   rates r_ℓ^mod, r_0^mod = (1/T) Σ_t s[t] + m, z^mod, e^mod = softmax(z^mod) − P;
 *   hidden update:  ΔW_ℓ = −η (r_{ℓ−1}^mod)ᵀ (d_ℓ − d̄_ℓ) / B, d_ℓ = r_ℓ − r_ℓ^mod (stored [in, out]),
 *                   d̄_ℓ its mean over the batch's samples per unit (centerDifference, the default;
 *                   false: d̄ = 0, the rate form's rule). Why centre: a zero-mean modulation raises the
 *                   mean firing of LIF units driven below threshold (their f–I curve is convex there,
 *                   as noise raises a sub-threshold neuron's rate), so r^mod > r on average whatever
 *                   e is; uncentred, that bias moves every weight of a unit the same way (x_mod ≥ 0)
 *                   and the firing rates drift up. The error's own signal has (almost) zero mean over
 *                   a class-mixed batch, so centring keeps it.
 *   antithetic:     (ruleParams.antithetic, default false) a third pass on x − F·e (the same spikes and
 *                   masks) and d_ℓ = (r_ℓ^− − r_ℓ^mod)/2 in place of r_ℓ − r_ℓ^mod: the same first-order
 *                   signal with the even-order response to the modulation cancelled sample by sample
 *                   (one more window per batch). On MNIST pilots (experiments/RESULTS.md) centring
 *                   alone lets the rates drift at a learning rate where antithetic and centred
 *                   together learn better than a fixed hidden layer; the mnist-lif-pepita preset uses both;
 *   readout update: ΔW_o = −η (1 − β_o)·ē_oᵀ e_L / B, e_L = e^mod (lastError 'modulated', default)
 *                   or e ('clean'), ē_o = (1/T) Σ_t e_o[t] the time-averaged eligibility trace of
 *                   the readout's input in pass 2 (e_o[t] = β_o·e_o[t−1] + s_{L−1}[t]). ē_oᵀe_L/B is
 *                   the exact gradient of CE(softmax(z)) with respect to W_o; the factor (1 − β_o)
 *                   makes (1 − β_o)·ē_o the leaky-filtered rate (r_{L−1}^mod itself for a steady
 *                   rate, and at β_o = 0), so that the readout's step has the scale of PEPITA's
 *                   (r_{L−1}^mod)ᵀ e and one learning rate suits the hidden layers and the readout,
 *                   as in the rate form (without it the readout's steps are 1/(1 − β_o) = 20 times
 *                   larger at β_o = 0.95 and the hidden layers' learning rate has to drop with it).
 * The updates go through each layer's optimiser (the presets: SGD with momentum 0.9). Biases stay 0.
 * F = fScale·U(±√(6/d_in)), shape [d_in, C], fixed. Memory: the clean rates [B, n_ℓ] kept between
 * the passes and the rates being summed, never a per-step history: flat in T. layerStats() adds the
 * angle between (W_L…W_1)ᵀ and F on the readout's entry (productAlignmentAngle, as the rate form).
 */
import type { ExperimentConfig } from '../config/types.js';
import type { Encoder } from '../encoders.js';
import { checkBoolean, checkNumber, checkOneOf, ParameterError } from '../errors.js';
import { Rng, type RngState } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { lossAccumulator, oneHotTargets } from './losses.js';
import { alignmentAngleDeg, statsProduct } from './pepita.js';
import type { LayerStats, RuleContext, TrainingRule } from './rule.js';
import { dropoutMaskTensor } from './sigprop-common.js';
import { SpikingForwardRule, type WindowReads } from './spiking-forward-common.js';

/** The spiking PEPITA settings read from ruleParams (see spiking-forward-params.ts). */
export interface SpikingPepitaSettings {
  fScale: number;
  /** Subtract each hidden unit's batch mean of r − r^mod before the update. */
  centerDifference: boolean;
  /** A third pass on x − F·e: the hidden difference is (r^− − r^mod)/2 instead of r − r^mod. */
  antithetic: boolean;
  lastError: 'modulated' | 'clean';
  modulationSign: 1 | -1;
}

export function resolveSpikingPepitaSettings(config: ExperimentConfig): SpikingPepitaSettings {
  const p = config.ruleParams ?? {};
  const sign = p.modulationSign ?? 1;
  if (sign !== 1 && sign !== -1) throw new ParameterError(`ruleParams.modulationSign = ${JSON.stringify(sign)} must be 1 (x + F·e) or -1 (x − F·e)`);
  return {
    fScale: checkNumber('ruleParams.fScale', p.fScale ?? 0.05, { min: 0, minExclusive: true }),
    centerDifference: checkBoolean('ruleParams.centerDifference', p.centerDifference, true),
    antithetic: checkBoolean('ruleParams.antithetic', p.antithetic, false),
    lastError: checkOneOf('ruleParams.lastError', p.lastError ?? 'modulated', ['modulated', 'clean'] as const),
    modulationSign: sign,
  };
}

/** What one pass leaves: spike counts per hidden layer [B, n_ℓ], Σ_t U_o [B, C], and (pass 2) Σ_t input [B, d_in], Σ_t e_o [B, n_{L−1}]. */
interface PassSums {
  counts: Tensor[];
  zsum: Tensor;
  inSum: Tensor | null;
  traceSum: Tensor | null;
}

export class SpikingPepita extends SpikingForwardRule implements TrainingRule {
  readonly name = 'pepita';
  readonly pepita: SpikingPepitaSettings;
  /** The fixed input projection F [d_in, C]. */
  readonly F: Tensor;
  /** The encoder's generator, reseeded per batch and rewound before each pass. */
  private readonly encRng = new Rng(0);
  private readonly encoders = new Map<string, Encoder>();

  constructor(config: ExperimentConfig, ctx: RuleContext) {
    super('pepita', config, ctx);
    this.pepita = resolveSpikingPepitaSettings(config);
    const d = this.stepInputSize;
    this.F = this.fixedUniform('pepita.F', d, this.readout.outSize, this.pepita.fScale * Math.sqrt(6 / d));
    // only the readout keeps a trace (its update uses the time-averaged filtered input); hidden updates use rates
    this.net.layers[this.layers.length].enableTraces('trace');
  }

  /** The angle (degrees) between (W_L…W_1)ᵀ and F, as the rate form's alignmentAngles().product. */
  alignmentAngle(): number {
    const be = this.ctx.backend;
    return alignmentAngleDeg(be, this.sc, statsProduct(be, this.sc, this.chain().map((l) => l.W.value)), this.F);
  }

  override layerStats(): LayerStats[] {
    const stats = super.layerStats();
    if (!stats.length) return stats;
    const product = this.alignmentAngle();
    return stats.map((st, i) => (i === stats.length - 1 ? { ...st, productAlignmentAngle: product } : st));
  }

  describe(): string {
    const p = this.pepita;
    return `pepita (spiking) ${this.describeNet()} fScale=${p.fScale} x${p.modulationSign > 0 ? '+' : '−'}F·e (input current) lastError=${p.lastError}`;
  }

  protected deviceWindow(x: Float32Array, labels: ArrayLike<number>): WindowReads {
    const w = this.window(x, labels);
    return { loss: w.loss, lossScale: 1, scores: w.scores, counts: w.clean.counts };
  }

  /**
   * Both passes and the gradients (in each DenseParams' grads, no weight changed): returns the
   * accumulator of the clean pass's CE on the average membrane, that membrane (the scores of its
   * accuracy), and both passes' sums.
   */
  window(x: Float32Array, labels: ArrayLike<number>): { loss: Tensor; scores: Tensor; clean: PassSums; mod: PassSums; m: Tensor } {
    const s = this.settings, be = this.ctx.backend, sc = this.sc, B = labels.length, T = s.steps;
    const L = this.layers.length, C = this.readout.outSize, n0 = this.stepInputSize;
    const seed = new Rng(this.ctx.rng.nextU32()).getState();
    const masks = this.layers.map((l, i) => dropoutMaskTensor(be, sc, this.ctx.rng, `m${i}`, B, B, l.outSize, s.dropout));
    const P = oneHotTargets(this.sc, labels, this.readout.outSize, 'P');
    const clean = this.pass('c', x, B, seed.s, masks, null);
    // e = softmax(z) − P on the average membrane z = Σ_t U_o / T; the reported loss is CE(z)
    const z = sc.get('z', [B, C]), e = sc.get('e', [B, C]);
    be.axpby(z, clean.zsum, 1 / T, 0);
    const loss = lossAccumulator(sc, 'loss');
    be.softmaxCrossEntropy(loss, e, z, P, { lossDivisor: B });
    const scores = sc.get('z.clean', [B, C]);
    be.copy(scores, z); // z is reused for the modulated pass below
    const m = sc.get('mod', [B, n0]);
    be.matmul(m, e, this.F, { transB: true, alpha: this.pepita.modulationSign }); // m = ±e·Fᵀ
    const mod = this.pass('m', x, B, seed.s, masks, m);
    let anti: PassSums | null = null;
    if (this.pepita.antithetic) {
      const mNeg = sc.get('mod.neg', [B, n0]);
      be.axpby(mNeg, m, -1, 0);
      anti = this.pass('a', x, B, seed.s, masks, mNeg);
    }
    let eL = e;
    if (this.pepita.lastError === 'modulated') {
      eL = sc.get('e.mod', [B, C]);
      be.axpby(z, mod.zsum, 1 / T, 0);
      be.softmaxCrossEntropy(lossAccumulator(sc, 'loss.mod'), eL, z, P);
    }
    for (const l of this.chain()) l.zeroGrad();
    // hidden: grad W_ℓ = (r_{ℓ−1}^mod)ᵀ (r_ℓ − r_ℓ^mod) / B with r = counts / T
    this.layers.forEach((layer, i) => {
      const diff = sc.get(`diff${i}`, [B, layer.outSize]);
      if (anti) {
        be.copy(diff, anti.counts[i]); // (r^− − r^mod)/2: the even-order response to ±F·e cancels
        be.axpby(diff, mod.counts[i], -0.5, 0.5);
      } else {
        be.copy(diff, clean.counts[i]);
        be.axpby(diff, mod.counts[i], -1, 1);
      }
      if (this.pepita.centerDifference) {
        const mean = sc.get(`diff.mean${i}`, [layer.outSize]);
        be.sumRows(mean, diff, -1 / B, 0);
        be.addRow(diff, mean);
      }
      be.spikeOuter(layer.W.grad, i === 0 ? (mod.inSum as Tensor) : mod.counts[i - 1], diff, 1 / (T * T * B));
    });
    // readout: grad W_o = (1 − β_o)·ē_oᵀ e_L / B, ē_o = Σ_t e_o / T (gain of the 'li' input response)
    const gain = this.net.layers[L].trace?.gain ?? 1;
    be.spikeOuter(this.readout.W.grad, mod.traceSum as Tensor, eL, ((1 - this.readoutBeta) * gain) / (T * B));
    return { loss, scores, clean, mod, m };
  }

  /** One window of T steps on the same input spikes (the encoder's generator set to `seed`); in pass 2 `mod` [B, d_in] is added to every step's input (as the current mod·W₀). */
  private pass(tag: string, x: Float32Array, B: number, seed: RngState, masks: (Tensor | null)[], mod: Tensor | null): PassSums {
    const be = this.ctx.backend, sc = this.sc, L = this.layers.length, net = this.net;
    this.encRng.setState({ s: seed, spare: null });
    const src = this.stepSource(x, B, this.encRng, this.encoders);
    const counts = this.layers.map((l, i) => sc.zeros(`${tag}.n${i}`, [B, l.outSize]));
    const zsum = sc.zeros(`${tag}.z`, [B, this.readout.outSize]);
    const inSum = mod ? sc.zeros(`${tag}.in`, [B, this.stepInputSize]) : null;
    const traceSum = mod ? sc.zeros(`${tag}.tr`, [B, this.layers[L - 1].outSize]) : null;
    const sd = this.layers.map((l, i) => (masks[i] ? sc.get(`sd${i}`, [B, l.outSize]) : null));
    const ro = net.layers[L];
    net.reset(B);
    net.useInputReference(src.mostLikely); // the weights change after both passes
    ro.tracing = mod !== null;
    if (mod) {
      // x_mod[t]·W₀ = s[t]·W₀ + m·W₀: the spikes go through the event-driven projection, m·W₀ is injected
      const first = net.layers[0];
      const cur = sc.get('mod.cur', [B, first.size]);
      be.matmul(cur, mod, first.w);
      first.injected = cur;
    }
    try {
      net.run({
        steps: this.settings.steps,
        write: (t, out) => {
          src.write(t, out);
          if (inSum) be.axpby(inSum, out, 1, 1);
        },
        hooks: {
          afterLayer: (layer) => {
            const i = layer.index;
            if (i === L) {
              be.axpby(zsum, layer.voltage(), 1, 1);
              if (traceSum && layer.trace) be.axpby(traceSum, layer.trace.value(), 1, 1);
              return;
            }
            const mask = masks[i], d = sd[i];
            if (!mask || !d) {
              be.axpby(counts[i], layer.output(), 1, 1);
              return;
            }
            be.mul(d, layer.output(), mask);
            be.axpby(counts[i], d, 1, 1);
            return d;
          },
        },
      });
    } finally {
      ro.tracing = true;
      net.layers[0].injected = null;
    }
    if (mod && inSum) be.axpby(inSum, mod, this.settings.steps, 1); // Σ_t x_mod[t] = Σ_t s[t] + T·m
    return { counts, zsum, inSum, traceSum };
  }
}
