/**
 * Local losses of sigprop and their gradients.
 *
 * A layer's representation of both streams sits in one tensor r [Bh + Bt, N]: rows 0..Bh−1 are
 * the input stream h, rows Bh.. the target stream t (the two streams are concatenated on the
 * batch axis). Each loss adds its value to a 1-element accumulator tensor (so that the number is
 * read back only when a caller wants it) and writes ∂L/∂r into g (same shape; rows of both
 * streams, since both pass through the layer's weights). All arithmetic runs in Backend kernels.
 *
 * - Similarity cross-entropy: logits Y = ĥ·t̂ᵀ/τ (ĥ, t̂ rows L2-normalised when `normalize`),
 *   L = −(1/Bh) Σ_i Σ_j P_ij log softmax_j(Y_i), with soft targets P (rows sum to 1): the
 *   same-class matrix at the first layer, the previous layer's target similarity after it.
 * - Class-signal CE: the same with one target row per class and P = one-hot labels.
 * - L2: L = (1/(2·Bh)) Σ_i ‖h_i − t_i‖².
 * - Softmax CE for readouts on logits z [B, C].
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Scratch } from './scratch.js';

export interface SimilarityOptions {
  /** Softmax temperature τ > 0 (logits are divided by it). */
  temperature: number;
  /** L2-normalise the rows of h and t before the dot product (cosine similarity). */
  normalize: boolean;
  /**
   * ε of the row norm ‖r‖ = √(Σ r² + ε) when normalising (default 1e-8). The gradient through
   * r/‖r‖ grows like 1/‖r‖, so a row that has almost fallen silent (a ReLU layer's activity near
   * zero) gets a huge one; a larger ε bounds it by about 1/√ε. Rows with Σ r² ≫ ε are unaffected.
   */
  normEps?: number;
}

/** Default ε of the row norm (SimilarityOptions.normEps). */
export const DEFAULT_NORM_EPS = 1e-8;

/** Check r [nh + nt, N] has rows in both streams; returns [nt, N]. */
function streams(kernel: string, r: Tensor, nh: number): [number, number] {
  const [rows, n] = r.shape;
  const nt = rows - nh;
  if (nt <= 0 || nh <= 0) throw new ShapeError(`${kernel}: r has ${rows} rows but ${nh} input rows; both streams need rows`);
  return [nt, n];
}

/**
 * Similarity cross-entropy between the two streams of r [Bh+Bt, N] with soft targets
 * P [Bh, Bt] (rows sum to 1). Adds L to loss[0] (a 1-element accumulator tensor, read by the
 * caller when it wants the number) and writes ∂L/∂r into g (if given).
 */
export function similarityCE(
  be: Backend, sc: Scratch, r: Tensor, nh: number, P: Tensor, g: Tensor | null, opts: SimilarityOptions, loss: Tensor,
): void {
  const [nt, n] = streams('similarityCE', r, nh);
  if (P.size !== nh * nt) throw new ShapeError(`similarityCE: soft targets have ${P.size} values, expected ${nh}×${nt}`);
  const hHat = sc.get('sim.h', [nh, n]), tHat = sc.get('sim.t', [nt, n]);
  const nH = sc.get('sim.nh', [nh]), nT = sc.get('sim.nt', [nt]);
  const Y = sc.get('sim.Y', [nh, nt]);
  const eps = opts.normEps ?? DEFAULT_NORM_EPS;
  // a backend may fuse the first stream's passes (Backend.similarityLogits / similarityBackward: the same values)
  const fused = be.fusesSimilarity?.(nt, n) === true;
  be.normalizeRows(tHat, nT, r, nh, opts.normalize, eps);
  if (fused) (be as Required<Backend>).similarityLogits(Y, hHat, nH, r, tHat, 1 / opts.temperature, opts.normalize, eps);
  else {
    be.normalizeRows(hHat, nH, r, 0, opts.normalize, eps);
    be.matmul(Y, hHat, tHat, { transB: true, alpha: 1 / opts.temperature });
  }
  // L = −(1/Bh) Σ P log softmax(Y); Y becomes dL/dY · (1/τ), ready for the two matmuls
  be.softmaxCrossEntropy(loss, g ? Y : null, Y, P, { lossDivisor: nh, gradScale: 1 / (nh * opts.temperature) });
  if (!g) return;
  const dtHat = sc.get('sim.dt', [nt, n]);
  if (fused) {
    // dYᵀ·ĥ as one GEMM that reads Y transposed: on wasm (the backend that fuses) the same values as
    // the transpose and spikeMatmul below, without the transpose, spikeMatmul's count of non-zeros
    // (a wait a step) and their calls
    be.matmul(dtHat, Y, hHat, { transA: true });
    (be as Required<Backend>).similarityBackward(g, r, Y, tHat, nH, opts.normalize);
  } else {
    // dYᵀ·ĥ through the transpose: the reference backend's matmul and spikeMatmul round differently
    // (max 1.9e-5 here), and test/engine.pin.test.ts pins its results
    const YT = sc.get('sim.YT', [nt, nh]);
    be.transpose(YT, Y);
    be.spikeMatmul(dtHat, YT, hHat);
    const dhHat = sc.get('sim.dh', [nh, n]);
    be.spikeMatmul(dhHat, Y, tHat); // dY·t̂
    be.normalizeRowsBackward(g, r, 0, dhHat, nH, opts.normalize);
  }
  be.normalizeRowsBackward(g, r, nh, dtHat, nT, opts.normalize);
}

/**
 * L2 loss between the streams of r [2B, N] (row i of h against row i of t): adds L to loss[0]
 * (1-element accumulator) and writes ∂L/∂r into g (if given).
 */
export function l2Loss(be: Backend, r: Tensor, nh: number, g: Tensor | null, loss: Tensor): void {
  const rows = r.shape[0];
  if (rows !== 2 * nh) throw new ShapeError(`l2Loss: r has ${rows} rows, expected 2×${nh} (one target row per input row)`);
  be.l2PairLoss(loss, g, r, nh);
}

/**
 * Same-class soft targets P [B, Bt]: P_ij ∝ [labels_i = targetLabels_j], rows normalised, as the
 * scratch tensor `name` (built on the host from the labels and written once).
 */
export function sameClassTargets(sc: Scratch, labels: ArrayLike<number>, targetLabels: ArrayLike<number>, name = 'sim.P'): Tensor {
  const nh = labels.length, nt = targetLabels.length;
  const P = new Float32Array(nh * nt);
  for (let i = 0; i < nh; i++) {
    let c = 0;
    for (let j = 0; j < nt; j++) if (labels[i] === targetLabels[j]) c++;
    if (c === 0) continue;
    for (let j = 0; j < nt; j++) if (labels[i] === targetLabels[j]) P[i * nt + j] = 1 / c;
  }
  const t = sc.get(name, [nh, nt]);
  sc.backend.write(t, P);
  return t;
}

/** One-hot targets [B, C] of integer labels as the scratch tensor `name` (written once). */
export function oneHotTargets(sc: Scratch, labels: ArrayLike<number>, C: number, name = 'ce.P'): Tensor {
  const P = new Float32Array(labels.length * C);
  for (let b = 0; b < labels.length; b++) P[b * C + labels[b]] = 1;
  const t = sc.get(name, [labels.length, C]);
  sc.backend.write(t, P);
  return t;
}

/**
 * Soft targets from a layer's target-stream similarity: P = rowsoftmax(t̂·t̂ᵀ/τ) over the
 * target rows [nh.., ) of r (r has nh input rows then nt target rows; requires nt = nh).
 * Returns the scratch tensor 'simT.S' [nt, nt] (overwritten by the next call).
 */
export function similarityTargets(be: Backend, sc: Scratch, r: Tensor, nh: number, opts: SimilarityOptions): Tensor {
  const [nt, n] = streams('similarityTargets', r, nh);
  const tHat = sc.get('simT.t', [nt, n]), norms = sc.get('simT.n', [nt]);
  const S = sc.get('simT.S', [nt, nt]);
  be.normalizeRows(tHat, norms, r, nh, opts.normalize, opts.normEps ?? DEFAULT_NORM_EPS);
  be.matmul(S, tHat, tHat, { transB: true, alpha: 1 / opts.temperature });
  be.softmaxRows(S, S);
  return S;
}

/**
 * Softmax cross-entropy on logits z [B, C] with targets P [B, C] (one-hot: `oneHotTargets`), mean
 * over B: adds L to loss[0] (1-element accumulator) and writes ∂L/∂z = (softmax(z) − P)/B into dz
 * if given (may alias z). Every row of z takes part.
 */
export function softmaxCE(be: Backend, z: Tensor, P: Tensor, dz: Tensor | null, loss: Tensor): void {
  const B = z.shape[0];
  be.softmaxCrossEntropy(loss, dz, z, P, { lossDivisor: B, gradDivisor: B });
}

/**
 * softmaxCE with integer labels for a once-per-batch readout: returns the loss and the number of
 * rows whose argmax is the label (one read of z before the kernel, one of the accumulator after).
 */
export function softmaxCELabels(
  be: Backend, sc: Scratch, z: Tensor, labels: ArrayLike<number>, dz: Tensor | null,
): { loss: number; correct: number } {
  return softmaxCELabelsRead(be, softmaxCELabelsDevice(be, sc, z, labels, dz));
}

/** What the device part of softmaxCELabels leaves for its read part. */
export interface SoftmaxCELabelsDevice {
  /** The scores as they were before the kernel (a copy where dz overwrites z). */
  z: Tensor;
  /** The loss accumulator. */
  loss: Tensor;
  labels: ArrayLike<number>;
}

/**
 * softmaxCELabels without a host read (for backends with asynchronous read-back): the kernel, and
 * the tensors its read part needs (sync them, then softmaxCELabelsRead).
 */
export function softmaxCELabelsDevice(be: Backend, sc: Scratch, z: Tensor, labels: ArrayLike<number>, dz: Tensor | null): SoftmaxCELabelsDevice {
  const C = z.shape[1];
  let scores = z;
  if (dz === z) {
    scores = sc.get('ce.z', z.shape);
    be.copy(scores, z);
  }
  const loss = lossAccumulator(sc, 'ce.loss');
  softmaxCE(be, z, oneHotTargets(sc, labels, C), dz, loss);
  return { z: scores, loss, labels };
}

/** The read part of softmaxCELabels: the loss and the rows whose argmax is the label. */
export function softmaxCELabelsRead(be: Backend, d: SoftmaxCELabelsDevice): { loss: number; correct: number } {
  return { loss: readLoss(be, d.loss), correct: countCorrect(be.read(d.z), d.labels, d.z.shape[1]) };
}

/** A zeroed 1-element loss accumulator (scratch tensor `name`). */
export function lossAccumulator(sc: Scratch, name: string): Tensor {
  return sc.zeros(name, [1]);
}

/** The value of a loss accumulator (one device read). */
export function readLoss(be: Backend, loss: Tensor): number {
  return be.read(loss)[0];
}

/**
 * Run a loss into a fresh accumulator and return its value (one device read), for callers that
 * need the number at every call.
 */
export function lossValue(sc: Scratch, run: (loss: Tensor) => void, name = 'loss.value'): number {
  const loss = lossAccumulator(sc, name);
  run(loss);
  return readLoss(sc.backend, loss);
}

/** How many of the first B = labels.length rows of scores [B, C] have their argmax at the row's label. */
export function countCorrect(scores: Float32Array, labels: ArrayLike<number>, C: number): number {
  const B = labels.length, pred = argmaxRows(scores, B, C);
  let correct = 0;
  for (let b = 0; b < B; b++) if (pred[b] === labels[b]) correct++;
  return correct;
}

/** Row-wise argmax of a [B, C] matrix. */
/**
 * argmaxRows of tensor t [B, C] read back, after a sync where the backend's reads are asynchronous
 * (what the rules' predictAsync ends with).
 */
export async function syncedArgmax(be: Backend, t: Tensor, B: number, C: number): Promise<Int32Array> {
  await be.sync?.([t]);
  return argmaxRows(be.read(t), B, C);
}

export function argmaxRows(z: Float32Array, B: number, C: number): Int32Array {
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < C; c++) if (z[b * C + c] > best) (best = z[b * C + c]), (arg = c);
    out[b] = arg;
  }
  return out;
}
