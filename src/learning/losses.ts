/**
 * Local losses of sigprop and their gradients.
 *
 * A layer's representation of both streams sits in one tensor r [Bh + Bt, N]: rows 0..Bh−1 are
 * the input stream h, rows Bh.. the target stream t (the two streams are concatenated on the
 * batch axis). Each loss returns its value and writes ∂L/∂r into g (same shape; rows of both
 * streams, since both pass through the layer's weights).
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

/** Copy rows [r0, r0+rows) of r into out [rows, N], row-normalised if opts asks; returns the norms. */
function normalizedRows(r: Float32Array, r0: number, rows: number, n: number, out: Float32Array, opts: SimilarityOptions): Float32Array {
  const norms = new Float32Array(rows);
  const normalize = opts.normalize, eps = opts.normEps ?? DEFAULT_NORM_EPS;
  for (let i = 0; i < rows; i++) {
    const off = (r0 + i) * n;
    let s = 0;
    for (let k = 0; k < n; k++) s += r[off + k] * r[off + k];
    const nrm = normalize ? Math.sqrt(s + eps) : 1;
    norms[i] = nrm;
    const inv = 1 / nrm;
    for (let k = 0; k < n; k++) out[i * n + k] = r[off + k] * inv;
  }
  return norms;
}

/** Write ∂L/∂r rows from ∂L/∂r̂ through r̂ = r/‖r‖ (or identity). */
function backNormalize(
  r: Float32Array, r0: number, rows: number, n: number, dhat: Float32Array, norms: Float32Array,
  g: Float32Array, normalize: boolean,
): void {
  for (let i = 0; i < rows; i++) {
    const off = (r0 + i) * n;
    if (!normalize) {
      for (let k = 0; k < n; k++) g[off + k] = dhat[i * n + k];
      continue;
    }
    const nrm = norms[i];
    let dot = 0;
    for (let k = 0; k < n; k++) dot += r[off + k] * dhat[i * n + k];
    const a = 1 / nrm, b = dot / (nrm * nrm * nrm);
    for (let k = 0; k < n; k++) g[off + k] = a * dhat[i * n + k] - b * r[off + k];
  }
}

/**
 * Similarity cross-entropy between the two streams of r [Bh+Bt, N] with soft targets
 * P [Bh, Bt] (rows sum to 1). Writes ∂L/∂r into g (if given). Returns L.
 */
export function similarityCE(
  be: Backend, sc: Scratch, r: Tensor, nh: number, P: Float32Array, g: Tensor | null, opts: SimilarityOptions,
): number {
  const [rows, n] = r.shape;
  const nt = rows - nh;
  if (nt <= 0 || nh <= 0) throw new ShapeError(`similarityCE: r has ${rows} rows but ${nh} input rows; both streams need rows`);
  if (P.length !== nh * nt) throw new ShapeError(`similarityCE: soft targets have ${P.length} values, expected ${nh}×${nt}`);
  // allocate every work tensor first: no host view below is kept across an allocation
  const hHat = sc.get('sim.h', [nh, n]), tHat = sc.get('sim.t', [nt, n]);
  const Y = sc.get('sim.Y', [nh, nt]), YT = sc.get('sim.YT', [nt, nh]);
  const dhHat = g ? sc.get('sim.dh', [nh, n]) : null, dtHat = g ? sc.get('sim.dt', [nt, n]) : null;
  const R = r.data;
  const nH = normalizedRows(R, 0, nh, n, hHat.data, opts);
  const nT = normalizedRows(R, nh, nt, n, tHat.data, opts);
  be.matmul(Y, hHat, tHat, { transB: true, alpha: 1 / opts.temperature });
  const y = Y.data;
  let loss = 0;
  const scale = 1 / (nh * opts.temperature);
  for (let i = 0; i < nh; i++) {
    const off = i * nt;
    let mx = -Infinity;
    for (let j = 0; j < nt; j++) mx = Math.max(mx, y[off + j]);
    let z = 0;
    for (let j = 0; j < nt; j++) z += Math.exp(y[off + j] - mx);
    const lz = mx + Math.log(z);
    for (let j = 0; j < nt; j++) {
      const p = P[off + j];
      const logq = y[off + j] - lz;
      if (p > 0) loss -= p * logq;
      y[off + j] = (Math.exp(logq) - p) * scale; // dL/dY · (1/τ), ready for the two matmuls
    }
  }
  loss /= nh;
  if (!g || !dhHat || !dtHat) return loss;
  be.spikeMatmul(dhHat, Y, tHat); // dY·t̂
  const yt = YT.data;
  for (let i = 0; i < nh; i++) for (let j = 0; j < nt; j++) yt[j * nh + i] = y[i * nt + j];
  be.spikeMatmul(dtHat, YT, hHat); // dYᵀ·ĥ
  const G = g.data;
  backNormalize(R, 0, nh, n, dhHat.data, nH, G, opts.normalize);
  backNormalize(R, nh, nt, n, dtHat.data, nT, G, opts.normalize);
  return loss;
}

/** L2 loss between the streams of r [2B, N] (row i of h against row i of t). Writes ∂L/∂r into g. */
export function l2Loss(r: Tensor, nh: number, g: Tensor | null): number {
  const [rows, n] = r.shape;
  if (rows !== 2 * nh) throw new ShapeError(`l2Loss: r has ${rows} rows, expected 2×${nh} (one target row per input row)`);
  const R = r.data, G = g?.data;
  let loss = 0;
  const inv = 1 / nh;
  for (let i = 0; i < nh * n; i++) {
    const d = R[i] - R[nh * n + i];
    loss += d * d;
    if (G) {
      G[i] = d * inv;
      G[nh * n + i] = -d * inv;
    }
  }
  return (0.5 * loss) / nh;
}

/** Same-class soft targets P [B, Bt]: P_ij ∝ [labels_i = targetLabels_j], rows normalised. */
export function sameClassTargets(labels: ArrayLike<number>, targetLabels: ArrayLike<number>): Float32Array {
  const nh = labels.length, nt = targetLabels.length;
  const P = new Float32Array(nh * nt);
  for (let i = 0; i < nh; i++) {
    let c = 0;
    for (let j = 0; j < nt; j++) if (labels[i] === targetLabels[j]) c++;
    if (c === 0) continue;
    for (let j = 0; j < nt; j++) if (labels[i] === targetLabels[j]) P[i * nt + j] = 1 / c;
  }
  return P;
}

/**
 * Soft targets from a layer's target-stream similarity: P = rowsoftmax(t̂·t̂ᵀ/τ) over the
 * target rows [nh.., ) of r (r has nh input rows then nt target rows; requires nt = nh).
 */
export function similarityTargets(be: Backend, sc: Scratch, r: Tensor, nh: number, opts: SimilarityOptions): Float32Array {
  const [rows, n] = r.shape;
  const nt = rows - nh;
  const tHat = sc.get('simT.t', [nt, n]);
  const S = sc.get('simT.S', [nt, nt]);
  normalizedRows(r.data, nh, nt, n, tHat.data, opts);
  be.matmul(S, tHat, tHat, { transB: true, alpha: 1 / opts.temperature });
  const P = S.data.slice();
  for (let i = 0; i < nt; i++) {
    const off = i * nt;
    let mx = -Infinity;
    for (let j = 0; j < nt; j++) mx = Math.max(mx, P[off + j]);
    let z = 0;
    for (let j = 0; j < nt; j++) z += P[off + j] = Math.exp(P[off + j] - mx);
    for (let j = 0; j < nt; j++) P[off + j] /= z;
  }
  return P;
}

/**
 * Softmax cross-entropy on logits z [B, C] (row-major) with integer labels; mean over B.
 * Writes ∂L/∂z into dz if given (may alias z). Returns the loss and the number correct.
 */
export function softmaxCE(
  z: Float32Array, labels: ArrayLike<number>, C: number, dz: Float32Array | null,
): { loss: number; correct: number } {
  const B = labels.length;
  let loss = 0, correct = 0;
  for (let b = 0; b < B; b++) {
    const off = b * C;
    let mx = -Infinity, arg = 0;
    for (let c = 0; c < C; c++) if (z[off + c] > mx) (mx = z[off + c]), (arg = c);
    if (arg === labels[b]) correct++;
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(z[off + c] - mx);
    const lz = mx + Math.log(s);
    loss += lz - z[off + labels[b]];
    if (dz) for (let c = 0; c < C; c++) dz[off + c] = (Math.exp(z[off + c] - lz) - (c === labels[b] ? 1 : 0)) / B;
  }
  return { loss: loss / B, correct };
}

/** Row-wise argmax of a [B, C] matrix. */
export function argmaxRows(z: Float32Array, B: number, C: number): Int32Array {
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < C; c++) if (z[b * C + c] > best) (best = z[b * C + c]), (arg = c);
    out[b] = arg;
  }
  return out;
}
