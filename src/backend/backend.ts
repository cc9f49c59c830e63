/**
 * The Backend contract. Every numeric kernel of the engine and the learning rules goes through
 * one of these methods; `reference` (plain TypeScript) is the oracle the others are tested
 * against. Shapes are row-major; weights are stored [in, out] so that a spike on input k adds
 * row k of W (event-driven propagation touches only rows of active inputs).
 *
 * Keep this list short and named: a kernel is added only when a hot loop needs it.
 */
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';

export type ResetMode = 'subtract' | 'zero' | 'none';

/** Parameters of the fused LIF step (snnTorch `Leaky` semantics). */
export interface LifKernelParams {
  /** Membrane decay per step, in [0, 1]. */
  beta: number;
  /** Firing threshold θ. */
  threshold: number;
  reset: ResetMode;
  /**
   * true (default, snnTorch): the reset from a spike at step t is applied at step t+1
   * (R[t] = S[t−1]). false: applied in the same step right after the spike.
   */
  resetDelay: boolean;
  /**
   * Membrane floor: after the update (and reset) U is clamped to at least vMin, like a reversal
   * potential bounding hyperpolarisation. Absent: no floor (snnTorch semantics).
   */
  vMin?: number;
}

/** Parameters of the fused synaptic (second-order) LIF step. */
export interface SynapticKernelParams extends LifKernelParams {
  /** Synaptic current decay per step, in [0, 1]. */
  alpha: number;
}

/** Parameters of the Izhikevich step (models/izhikevich.ts; v, c, vPeak in mV, time in ms). */
export interface IzhikevichKernelParams {
  a: number;
  b: number;
  c: number;
  d: number;
  vPeak: number;
  /** Number of Euler substeps per step and their length in ms. */
  nSub: number;
  hMs: number;
}

/** Parameters of the AdEx step (models/adex.ts; pF, nS, mV, ms, pA). */
export interface AdexKernelParams {
  /** Membrane capacitance (pF). */
  C: number;
  /** Leak conductance (nS). */
  gL: number;
  /** Leak reversal (mV). */
  EL: number;
  /** Threshold slope factor (mV). */
  deltaT: number;
  /** Effective threshold (mV). */
  VT: number;
  /** Adaptation time constant (ms). */
  tauWMs: number;
  /** Subthreshold adaptation (nS). */
  a: number;
  /** Spike-triggered adaptation (pA). */
  b: number;
  /** Reset potential (mV). */
  Vr: number;
  /** Spike cut-off (mV). */
  Vpeak: number;
  /** Number of Euler substeps per step and their length in ms. */
  nSub: number;
  hMs: number;
}

/** A surrogate as a backend kernel sees it: scalar functions plus an id for native kernels. */
export interface SurrogateKernelSpec {
  /** Registry name, e.g. 'fastSigmoid'. Native kernels dispatch on it. */
  name: string;
  /** Resolved parameters (defaults filled in). */
  params: Readonly<Record<string, number>>;
  /** Primitive f(x), x = U − θ. */
  f(x: number): number;
  /** Derivative f'(x). */
  df(x: number): number;
}

/**
 * Extra outputs of the optional fused neuron steps (`lifStepFused`, `synapticStepFused`), each
 * optional: what an online learning rule needs right after a neuron step, in the same call.
 */
export interface FusedStepOutputs {
  /** Surrogate used for `f` / `df` (required when either is given). */
  sg?: SurrogateKernelSpec;
  /** Written with f(U − θ) of the new membrane; same size as u. */
  f?: Tensor;
  /** Written with f'(U − θ) of the new membrane; same size as u. */
  df?: Tensor;
  /**
   * Presynaptic eligibility trace of the layer input: e = decay·e + x. e and x have the input's
   * shape [B, K] (not the neurons' shape).
   */
  trace?: { e: Tensor; x: Tensor; decay: number };
}

/** One sparse outer-product update W += alpha·sᵀ·g (Backend.spikeOuter's arguments). */
export interface OuterUpdate {
  w: Tensor;
  s: Tensor;
  g: Tensor;
  alpha: number;
}

export interface MatmulOptions {
  /** Use aᵀ (a is stored [K, M]). */
  transA?: boolean;
  /** Use bᵀ (b is stored [N, K]). */
  transB?: boolean;
  /** out = alpha·op(a)·op(b) + beta·out. Default alpha 1, beta 0. */
  alpha?: number;
  beta?: number;
}

export interface Backend {
  readonly name: string;
  /**
   * OPTIONAL tuning hint: at most how many steps of a layer's eligibility updates a learning rule may
   * gather before applying them (Layer.enableGradChunks: the same sum in another order, cheaper where
   * the input is sparse spikes; gradChunkLength cuts a window into the fewest equal chunks). Absent or
   * below 2: every step's update is applied at its step, the order of additions of `reference`.
   */
  readonly gradChunkSteps?: number;
  /**
   * OPTIONAL tuning hint: true where spikeMatmul and spikeOuter cost follows the non-zeros of their
   * presynaptic operand, so a learning rule may propagate a rate-coded input as its difference from
   * the window's most likely input (Layer.setInputReference: the same values up to float rounding,
   * on mnist-lif a quarter of the non-zeros). Absent: the input itself, the sums of `reference`.
   */
  readonly inputReference?: boolean;

  /**
   * OPTIONAL: true where a device cannot hand data back synchronously (WebGPU: every read-back is a
   * Promise). Then `read`, `sum` and `sumSquares` answer only from host copies that an
   * `await sync(tensors)` made after the tensor last changed, and throw ReadNotSyncedError
   * (src/errors.ts) otherwise; kernels still run synchronously (they are queued on the device in
   * call order). Callers train with `trainBatchAsync` / predict with `predictAsync` (rule.ts), which
   * sync what they read. Absent or false: reads are synchronous and `sync` is not needed.
   */
  readonly asyncReads?: boolean;
  /**
   * OPTIONAL (required with asyncReads): bring the current device contents of `tensors` (default:
   * every live tensor) to the host, so that reads of them succeed until they change again.
   */
  sync?(tensors?: readonly Tensor[]): Promise<void>;

  // ---- memory ----
  /** Allocate a zero-filled tensor. */
  tensor(shape: readonly number[]): Tensor;
  /** Allocate a tensor holding a copy of `data`. */
  fromArray(shape: readonly number[], data: ArrayLike<number>): Tensor;
  /** Copy a tensor's contents out to a new Float32Array (for metrics, recordings, checkpoints). */
  read(t: Tensor): Float32Array;
  /** Overwrite a tensor's contents from host data of the same size. */
  write(t: Tensor, data: ArrayLike<number>): void;
  /** Release a tensor's memory (no-op on `reference`). */
  free(t: Tensor): void;

  // ---- dense linear algebra ----
  /** GEMM: out[M,N] = alpha·op(a)[M,K]·op(b)[K,N] + beta·out. */
  matmul(out: Tensor, a: Tensor, b: Tensor, opts?: MatmulOptions): void;
  /**
   * Event-driven propagation: out[b,:] = beta·out[b,:] + Σ_{k : s[b,k] ≠ 0} s[b,k]·W[k,:].
   * Cost is proportional to the number of non-zero inputs, not to all inputs.
   * s: [B, K], W: [K, N], out: [B, N].
   */
  spikeMatmul(out: Tensor, s: Tensor, w: Tensor, beta?: number): void;
  /**
   * OPTIONAL fused form of propagating an input as its difference from a reference (Layer's input
   * reference, see `inputReference`): d = x − r, then out = base + d·W event-driven in d; the exact
   * composition (same values) of
   *   copy(d, x); axpby(d, r, −1, 1); copy(out, base); spikeMatmul(out, d, w, 1).
   * x, r, d: [B, K]; w: [K, N]; out, base: [B, N]. Callers on a backend without it make those calls
   * (`spikeMatmulDiffFallback`, src/backend/reference.ts).
   */
  spikeMatmulDiff?(out: Tensor, d: Tensor, x: Tensor, r: Tensor, w: Tensor, base: Tensor): void;
  /**
   * Sparse outer-product update: W[k,:] += alpha·Σ_b s[b,k]·g[b,:] over non-zero s[b,k] only.
   * s: [B, K], g: [B, N], W: [K, N].
   */
  spikeOuter(w: Tensor, s: Tensor, g: Tensor, alpha: number): void;
  /**
   * OPTIONAL: two spikeOuter updates whose weights are different tensors, the same values as
   * spikeOuter(a) then spikeOuter(b) (Layer.finishGrads pairs a readout's update with a hidden
   * layer's: a backend on several threads may run them side by side).
   */
  spikeOuterPair?(a: OuterUpdate, b: OuterUpdate): void;
  /**
   * OPTIONAL: run `fn`, a block of kernel calls whose JavaScript takes the same path every time it
   * runs under `key` (a layer's loss at every step of a window), or issue again the kernel calls it
   * made before without running it: where two runs under the key made the same calls, their
   * arguments differing only as offsets into `params` (tensors that change from run to run, e.g. a
   * gathering slot), later runs make those calls with the params given then (wasm: on two threads
   * the JavaScript between the calls is serial time). The same values as running fn. A backend
   * runs fn whenever it cannot tell that the calls would be the same (wasm: a host access to
   * memory, an allocation or release, a random draw or a result the host reads). Callers on a
   * backend without it run fn.
   */
  replayable?(key: object, params: readonly Tensor[], fn: () => void): void;
  /**
   * Event-driven propagation with one delay per connection into a ring of pending input: for every
   * non-zero s[b,k] and every n, ring[slot·B + b, n] += s[b,k]·W[k,n] with slot = (t + d[k,n]) mod D.
   * ring: [D·B, N] (D slots of [B, N]), s: [B, K], W: [K, N], delays: [K, N] holding integers
   * 0 <= d < D (as floats). Cost ∝ non-zero inputs × N. Arithmetic per element as the reference loop
   * (the product and the sum in float64, stored as float32).
   */
  delayedSpikeMatmul(ring: Tensor, s: Tensor, w: Tensor, delays: Tensor, t: number): void;
  /**
   * Outer-product update through per-connection delays from a ring of presynaptic traces:
   * W[k,n] += alpha·Σ_b E[slot·B + b, k]·g[b,n] with slot = (t − d[k,n]) mod D (the trace d steps
   * ago). ring: [D·B, K], g: [B, N], W and delays: [K, N] (delays integers 0 <= d < D as floats).
   * The sum over b is accumulated in float64.
   */
  delayedOuter(w: Tensor, ring: Tensor, g: Tensor, delays: Tensor, t: number, alpha: number): void;

  // ---- input encoding ----
  /**
   * Rate-coded (Bernoulli) spikes: for i ascending, out[i] = 1 if p[i] > 0 and u < p[i], else 0,
   * where u = rng.uniform() is drawn only where p[i] > 0. Every backend draws the same stream as
   * Rng.uniform() (xoshiro128**) and leaves rng in the same state, so the spikes do not depend on the
   * backend. out, p: same size.
   */
  rateSpikes(out: Tensor, p: Tensor, rng: Rng): void;
  /**
   * OPTIONAL: an inverted-dropout mask in out [R, N]: the first `rows` rows get, element by element in
   * order, 0 if rng.uniform() < p else 1/(1 − p) (Rng.fillDropMask's stream, one draw per element),
   * the other rows 1; rng is left as after those draws. Callers without it draw on the host.
   */
  dropoutMask?(out: Tensor, rows: number, p: number, rng: Rng): void;

  // ---- fused neuron steps (state written in place) ----
  /**
   * LIF: R = S_prev (resetDelay) ; U = β·U + I − R·θ (subtract) | β·(1−R)·U + I (zero) | β·U + I (none);
   * S = H(U − θ); with resetDelay false the reset is applied right after the spike.
   * u, s, input: [B, N]. `s` holds the previous spikes on entry and the new ones on exit.
   */
  lifStep(u: Tensor, s: Tensor, input: Tensor, p: LifKernelParams): void;
  /** Synaptic LIF: I_syn = α·I_syn + I, then the LIF step with I_syn as input. */
  synapticStep(u: Tensor, isyn: Tensor, s: Tensor, input: Tensor, p: SynapticKernelParams): void;

  /**
   * Continuous-time leaky integrator (models/leaky.ts): per element, h = h + gain·(I − h) (in
   * float64, stored as float32), then a = φ(h) of the stored h, φ a rate activation of
   * models/activations.ts by name (as `activation`). h, a, input: same size.
   */
  leakyStep(h: Tensor, a: Tensor, input: Tensor, gain: number, activation: string): void;
  /**
   * Izhikevich step (models/izhikevich.ts): per element, nSub forward-Euler substeps of hMs in
   * float64 from the stored v, u: v += h·(0.04·v² + 5·v + 140 − u + I); u += h·a·(b·v − u) (from the
   * new v); if v ≥ vPeak: v = c, u += d and the step's spike is 1. Writes v, u and s (1 when any
   * substep spiked, else 0). v, u, s, input: same size.
   */
  izhikevichStep(v: Tensor, u: Tensor, s: Tensor, input: Tensor, p: IzhikevichKernelParams): void;
  /**
   * AdEx step (models/adex.ts): per element, nSub forward-Euler substeps of hMs in float64 from the
   * stored v, w, both derivatives taken at the start of the substep:
   * dv = (−gL·(v − EL) + gL·ΔT·exp(min((v − VT)/ΔT, (Vpeak − VT)/ΔT)) − w + I)/C, dw = (a·(v − EL) − w)/τw;
   * v += h·dv, w += h·dw; if v > Vpeak: v = Vr, w += b and the step's spike is 1. Writes v, w, s.
   */
  adexStep(v: Tensor, w: Tensor, s: Tensor, input: Tensor, p: AdexKernelParams): void;

  /**
   * OPTIONAL fused form: lifStep, then the FusedStepOutputs (surrogate f / f' of the new U − θ,
   * eligibility trace), in one call; native backends do the neuron part in one pass over memory.
   * Same results as calling lifStep, surrogate and axpby separately. Callers on a backend without
   * it use `fusedStepFallback` (src/backend/reference.ts).
   */
  lifStepFused?(u: Tensor, s: Tensor, input: Tensor, p: LifKernelParams, out: FusedStepOutputs): void;
  /** OPTIONAL fused form of synapticStep (see lifStepFused). */
  synapticStepFused?(u: Tensor, isyn: Tensor, s: Tensor, input: Tensor, p: SynapticKernelParams, out: FusedStepOutputs): void;

  /**
   * OPTIONAL: the elementwise tail of a spiking sigprop hidden layer's step in one call, the exact
   * composition (same order) of
   *   fillRows(g, keepRows, R, 0) (when keepRows < R); mul(g, g, mask) (when mask); mul(g, g, d);
   *   axpby(count, s, 1, 1) (when count).
   * g, d, mask: [R, N]; count, s: the same size (the layer's spike counts and output). Callers on a
   * backend without it make those calls (`gradTailFallback`, src/backend/reference.ts).
   */
  gradTail?(g: Tensor, d: Tensor, mask: Tensor | null, keepRows: number, count: Tensor | null, s: Tensor | null): void;

  // ---- elementwise and reductions ----
  /** out = f(x) (deriv false) or f'(x) (deriv true), x = u − threshold. */
  surrogate(out: Tensor, u: Tensor, threshold: number, sg: SurrogateKernelSpec, deriv: boolean): void;
  /** y = alpha·x + beta·y. */
  axpby(y: Tensor, x: Tensor, alpha: number, beta: number): void;
  /** out = a ⊙ b. */
  mul(out: Tensor, a: Tensor, b: Tensor): void;
  /** x[b,:] += v for every row b. x: [B, N], v: [N]. */
  addRow(x: Tensor, v: Tensor): void;
  /** out[n] = beta·out[n] + alpha·Σ_b x[b,n]. x: [B, N], out: [N]. */
  sumRows(out: Tensor, x: Tensor, alpha?: number, beta?: number): void;
  fill(x: Tensor, value: number): void;
  copy(dst: Tensor, src: Tensor): void;
  /** dst[dstOffset + i] = src[srcOffset + i] for i in [0, count) (flat element offsets; dst and src distinct). */
  copySlice(dst: Tensor, dstOffset: number, src: Tensor, srcOffset: number, count: number): void;
  /**
   * Run a compiled per-element function over tensors of one size: kernel(arrays, params, 0, size),
   * arrays[j] the contents of tensors[j] (read and written in place), params plain numbers. The
   * function must treat element i independently of the others (it loops i over [lo, hi)), so a
   * backend may cut the range. `reference` and `wasm` run it in JavaScript over their memory (on
   * wasm the views of the shared memory, no copy); a device backend compiles the same function to a
   * device kernel, as gpu.js does with a JavaScript function (one thread per element). Used by
   * equation-defined models (models/equation.ts).
   */
  elementwise(kernel: ElementwiseKernel, tensors: readonly Tensor[], params: readonly number[]): void;
  /** Σ x. */
  sum(x: Tensor): number;
  /** Σ x². */
  sumSquares(x: Tensor): number;
  /** x += c (every element). */
  addScalar(x: Tensor, c: number): void;
  /** Rows [from, to) of x [R, N] = value. */
  fillRows(x: Tensor, from: number, to: number, value: number): void;
  /** g[k] = 0 where u[k] ≤ vMin (gradient gated through a membrane floor); g, u same size. */
  gateBelow(g: Tensor, u: Tensor, vMin: number): void;
  /**
   * out = φ(x) (deriv false) or φ'(x) (deriv true) for a rate activation of models/activations.ts
   * by name ('identity', 'tanh', 'sigmoid', 'relu' natively; any other registered name through its
   * scalar functions). out, x same size (may alias).
   */
  activation(out: Tensor, x: Tensor, name: string, deriv: boolean): void;
  /** out [C, R] = xᵀ for x [R, C]. */
  transpose(out: Tensor, x: Tensor): void;

  // ---- loss kernels (float64 accumulators, float32 stores) ----
  /**
   * Row L2 normalisation of rows [row0, row0 + R) of x [*, N]: with s_i = Σ_k x[row0+i,k]² (f64),
   * n_i = √(s_i + eps) (normalize) or 1 (normalize false), norms[i] = n_i and
   * out[i,k] = x[row0+i,k]·(1/n_i). out: [R, N], norms: [R].
   */
  normalizeRows(out: Tensor, norms: Tensor, x: Tensor, row0: number, normalize: boolean, eps: number): void;
  /**
   * Backward of normalizeRows: for rows i of dhat [R, N] (∂L/∂out) and norms [R] written by it,
   * g[row0+i,k] = dhat[i,k]/n_i − (Σ_k' x[row0+i,k']·dhat[i,k'])/n_i³ · x[row0+i,k]
   * (normalize false: g[row0+i,:] = dhat[i,:]). g and x: [*, N] (same shape); other rows of g untouched.
   */
  normalizeRowsBackward(g: Tensor, x: Tensor, row0: number, dhat: Tensor, norms: Tensor, normalize: boolean): void;
  /**
   * OPTIONAL: sigprop's similarity logits in one call, bit for bit the composition
   *   normalizeRows(hHat, norms, x, 0, normalize, eps); matmul(y, hHat, tHat, { transB: true, alpha })
   * with hHat, y: [R, N], [R, C]; x: [≥ R, N]; tHat: [C, N]; norms: [R]. Callers use it where
   * `fusesSimilarity(C, N)` holds (src/learning/losses.ts similarityCE) and make the two calls elsewhere.
   */
  similarityLogits?(y: Tensor, hHat: Tensor, norms: Tensor, x: Tensor, tHat: Tensor, alpha: number, normalize: boolean, eps: number): void;
  /**
   * OPTIONAL: the first stream's gradient of the similarity loss in one call, bit for bit the
   * composition spikeMatmul(dhat, dy, tHat); normalizeRowsBackward(g, x, 0, dhat, norms, normalize)
   * (dy: [R, C] dense, tHat: [C, N], dhat: [R, N]) without storing dhat.
   */
  similarityBackward?(g: Tensor, x: Tensor, dy: Tensor, tHat: Tensor, norms: Tensor, normalize: boolean): void;
  /** Where the two calls above apply (C target rows of N values); absent: never. */
  fusesSimilarity?(C: number, N: number): boolean;
  /**
   * Soft-target softmax cross-entropy over the rows of logits y [R, C] with targets p [R, C]:
   * lz_i = max_j y_ij + log Σ_j exp(y_ij − max), loss[0] += (Σ_i Σ_{j: p_ij > 0} −p_ij·(y_ij − lz_i)) / lossDivisor
   * (loss: 1 element, accumulated on the device), and, if dy is given, dy_ij = (q_ij − p_ij)·gradScale/gradDivisor
   * with q_ij = e_ij / Σ_j e_ij, e_ij = exp(y_ij − max_j y_ij) (float64).
   * dy may alias y. Every row of y takes part (one-hot p gives the usual CE on labels).
   */
  softmaxCrossEntropy(loss: Tensor, dy: Tensor | null, y: Tensor, p: Tensor, scales?: SoftmaxCEScales): void;
  /**
   * Row softmax: out[i,j] = e_ij / Σ_j e_ij with e_ij = exp(x_ij − max_j x_ij) (the sum of the
   * unrounded exponentials in f64). out, x: [R, C] (may alias).
   */
  softmaxRows(out: Tensor, x: Tensor): void;
  /**
   * L2 loss between the two halves of r [2·nh, N]: d = r[i] − r[nh·N + i] over the first nh·N values,
   * loss[0] += (0.5·Σ d²)/nh (loss: 1 element), and if g is given (shape of r) g[i] = d/nh,
   * g[nh·N + i] = −d/nh.
   */
  l2PairLoss(loss: Tensor, g: Tensor | null, r: Tensor, nh: number): void;
  /**
   * Forward-Forward goodness loss over the rows of y [R, N] (float64 sums): G_i = c·Σ_k y_ik² with
   * c = 1/N (mean) or 1 (sum); goodness[i] = goodnessBeta·goodness[i] + G_i (if goodness [R] is given).
   * Rows [0, nPos) are positive (s_i = +1), rows [nPos, nPos + nNeg) negative (s_i = −1), the rest
   * take no part (g = 0 there). For the positive and negative rows, with x_i = s_i·(G_i − θ):
   * loss[0] += softplus(−x_i)/lossDivisor (BCE of p_i = σ(G_i − θ); loss: 1 element, may be null) and
   * g[i,k] = −s_i·σ(−x_i)·2c·y_ik/gradDivisor (if g [R, N] is given).
   */
  ffGoodness(loss: Tensor | null, g: Tensor | null, goodness: Tensor | null, y: Tensor, p: FfGoodnessParams): void;
  /**
   * Forward-Forward peer normalisation (Hinton 2022, loeweX/Forward-Forward) of the positive rows
   * [0, nPos) of y [R, N]: m_k = mean over those rows of y_ik; running[k] = momentum·running[k] +
   * (1 − momentum)·m_k; r̄ = mean_k running[k]; loss[0] += weight·mean_k (r̄ − running[k])²; and
   * g[i,k] += weight·(2/N)·(running[k] − r̄)·(1 − momentum)/nPos for i < nPos (the gradient
   * through this step's m only). running: [N]; g: [R, N] (may be null); loss: 1 element (may be null).
   */
  ffPeerNorm(loss: Tensor | null, g: Tensor | null, running: Tensor, y: Tensor, nPos: number, momentum: number, weight: number): void;

  // ---- optimiser steps (w, g and state slots: same size; gd = g + wd·w when wd ≠ 0, else g) ----
  /** SGD: w −= lr·gd. */
  sgdStep(w: Tensor, g: Tensor, lr: number, weightDecay: number): void;
  /** SGD with momentum: v = μ·v + gd; w −= lr·v. */
  momentumStep(w: Tensor, g: Tensor, v: Tensor, lr: number, momentum: number, weightDecay: number): void;
  /** Adam with L2 decay: m = β1·m + (1 − β1)·gd; v = β2·v + (1 − β2)·gd²; w −= lr·(m/c1) / (√(v/c2) + eps). */
  adamStep(w: Tensor, g: Tensor, m: Tensor, v: Tensor, p: AdamStepParams): void;
}

/**
 * A compiled per-element function (Backend.elementwise): for i in [lo, hi) it reads and writes
 * arrays[j][i] only, and reads params. Plain arithmetic and Math functions, no closures over host state.
 */
export type ElementwiseKernel = (arrays: Float32Array[], params: readonly number[], lo: number, hi: number) => void;

/** Scales of `softmaxCrossEntropy` (see there). */
export interface SoftmaxCEScales {
  /** The loss sum is divided by it before it is added to loss[0] (default 1). */
  lossDivisor?: number;
  /** dy = (q − p)·gradScale / gradDivisor (defaults 1, 1). */
  gradScale?: number;
  gradDivisor?: number;
}

/** Settings of `ffGoodness` (see there). */
export interface FfGoodnessParams {
  /** Threshold θ of the logit G − θ. */
  theta: number;
  /** G is the mean (true) or the sum (false) of the squares. */
  mean: boolean;
  /** Positive rows [0, nPos), negative rows [nPos, nPos + nNeg). */
  nPos: number;
  nNeg: number;
  /** Divisors of the loss sum and of the gradient (default 1). */
  lossDivisor?: number;
  gradDivisor?: number;
  /** goodness = goodnessBeta·goodness + G (default 0: overwrite). */
  goodnessBeta?: number;
}

/** One optimiser update's settings (see adamStep). */
export interface AdamStepParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Bias corrections 1 − β1^t and 1 − β2^t of this step. */
  c1: number;
  c2: number;
  /** L2 weight decay added to the gradient (0: none). */
  weightDecay: number;
}

/** Factory registry: backends register themselves by name (as tfjs registers kernels). */
export type BackendFactory = (opts?: BackendFactoryOptions) => Backend | Promise<Backend>;

/** What a factory receives: the wasm thread count, the gpu backend's gpu.js mode. */
export interface BackendFactoryOptions {
  threads?: number;
  /** gpu backend: 'auto' | 'cpu' | 'webgpu' | 'webgl2' | 'webgl' | 'headlessgl' (default: env SIGPROP_GPU_MODE, else 'auto'). */
  gpuMode?: string;
  /** gpu backend: a hardware GPU only (what backend 'auto' asks for), else it fails with a short reason. */
  hardwareOnly?: boolean;
}
