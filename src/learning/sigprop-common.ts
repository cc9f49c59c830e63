/**
 * Pieces shared by the rate (T = 1) and spiking sigprop rules: which target rows a batch uses,
 * the per-layer loss registry and the soft targets each layer's loss compares against.
 */
import type { Backend } from '../backend/backend.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { l2Loss, sameClassTargets, similarityCE, similarityTargets, type SimilarityOptions } from './losses.js';
import type { DenseParams } from './dense.js';
import type { LayerStats } from './rule.js';
import type { Scratch } from './scratch.js';
import type { TargetGenerator } from './target.js';

/**
 * A local loss on r = [h; t] ([nh + nt, N]) adding L to loss[0] (a 1-element accumulator tensor)
 * and writing ∂L/∂r into g (if given).
 */
export type LocalLoss = (
  be: Backend, sc: Scratch, r: Tensor, nh: number, P: Tensor, g: Tensor | null, opts: SimilarityOptions, loss: Tensor,
) => void;

/** Registry of local losses by config name. */
export const localLosses: Record<string, LocalLoss> = {
  simce: similarityCE,
  classce: similarityCE,
  l2: (be, _sc, r, nh, _P, g, _opts, loss) => l2Loss(be, r, nh, g, loss),
};

/**
 * Labels of the target-stream rows: one per sample (simce, l2) or one per class (classce).
 */
export function targetRowLabels(loss: string, labels: ArrayLike<number>, numClasses: number): Int32Array {
  return loss === 'classce' ? Int32Array.from({ length: numClasses }, (_, c) => c) : Int32Array.from(labels);
}

/** Soft targets of the first layer: the same-class matrix [B, nt] (scratch tensor 'sim.P'). */
export function firstLayerTargets(sc: Scratch, labels: ArrayLike<number>, targetLabels: ArrayLike<number>): Tensor {
  return sameClassTargets(sc, labels, targetLabels);
}

/**
 * Soft targets for the layer after the one whose representation is r: simce uses r's
 * target-stream similarity; classce keeps the one-hot targets; l2 needs none.
 */
export function nextLayerTargets(loss: string, be: Backend, sc: Scratch, r: Tensor, nh: number, P: Tensor, opts: SimilarityOptions): Tensor {
  return loss === 'simce' ? similarityTargets(be, sc, r, nh, opts) : P;
}

/** Zero the target-stream rows [nh, rows) of g (stop-gradient through the target stream), with backend.fillRows. */
export function zeroTargetRows(be: Backend, g: Tensor, nh: number): void {
  be.fillRows(g, nh, g.shape[0], 0);
}

/**
 * Inverted-dropout mask for the first `rows` rows (the input stream) of an [rows + …, n] tensor:
 * each value 0 with probability p, else 1/(1 − p). Null when p = 0 (and then no random number is
 * drawn, so runs without dropout keep their random stream).
 */
export function dropoutMask(rng: Rng, rows: number, n: number, p: number): Float32Array | null {
  if (p <= 0) return null;
  return rng.fillDropMask(new Float32Array(rows * n), p, 1 / (1 - p));
}

/**
 * A dropout mask (dropoutMask over the first `nh` rows) as the scratch tensor `name` [rows, n] with
 * ones on the target-stream rows, written once with backend.write, so that hooks apply it with
 * backend.mul; null when p = 0 (no random draw).
 */
export function dropoutMaskTensor(be: Backend, sc: Scratch, rng: Rng, name: string, nh: number, rows: number, n: number, p: number): Tensor | null {
  if (p <= 0) return null;
  if (be.dropoutMask) {
    // drawn by the backend into the tensor (the same numbers as below, without the host arrays)
    const t = sc.get(name, [rows, n]);
    be.dropoutMask(t, nh, p, rng);
    return t;
  }
  const m = dropoutMask(rng, nh, n, p) as Float32Array; // p > 0: a mask
  const full = new Float32Array(rows * n).fill(1);
  full.set(m);
  const t = sc.get(name, [rows, n]);
  be.write(t, full);
  return t;
}

/**
 * One-hot targets [rows, C] of the input-stream rows (row b: labels[b]); the target-stream rows
 * [labels.length, rows) stay zero, so that a softmax CE over every row takes only the input rows'
 * loss. Written once with backend.write into the scratch tensor `name`.
 */
export function inputRowTargets(be: Backend, sc: Scratch, name: string, labels: ArrayLike<number>, rows: number, C: number): Tensor {
  const P = new Float32Array(rows * C);
  for (let b = 0; b < labels.length; b++) P[b * C + labels[b]] = 1;
  const t = sc.get(name, [rows, C]);
  be.write(t, P);
  return t;
}

/** Multiply the leading mask.length values of t (the input-stream rows) by the mask; no-op for null. */
export function applyMask(t: Float32Array, mask: Float32Array | null): void {
  if (!mask) return;
  for (let k = 0; k < mask.length; k++) t[k] *= mask[k];
}

/** Cosine-similarity scores of h rows against class rows of r ([B + C, N]) → argmax class per sample. */
export function nearestClassSignal(r: Float32Array, B: number, C: number, n: number): Int32Array {
  const out = new Int32Array(B);
  const norms = new Float64Array(B + C);
  for (let i = 0; i < B + C; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += r[i * n + k] * r[i * n + k];
    norms[i] = Math.sqrt(s) + 1e-12;
  }
  for (let b = 0; b < B; b++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += r[b * n + k] * r[(B + c) * n + k];
      s /= norms[b] * norms[B + c];
      if (s > best) (best = s), (arg = c);
    }
    out[b] = arg;
  }
  return out;
}

/**
 * Parameter bookkeeping shared by the rate and spiking sigprop rules: the trained blocks are the
 * target projection, the hidden layers and the readout, in that order (checkpoint keys, epoch
 * schedules and disposal all walk the same list).
 */
export abstract class SigpropBlocks {
  abstract readonly target: TargetGenerator;
  abstract readonly layers: DenseParams[];
  abstract readonly readout: DenseParams;
  protected abstract readonly sc: Scratch;
  protected stats: LayerStats[] = [];

  private blocks(): DenseParams[] {
    return [this.target.proj, ...this.layers, this.readout];
  }

  setEpoch(epoch: number): void {
    for (const l of this.blocks()) l.setEpoch(epoch);
  }

  state(): Record<string, Float32Array> {
    return Object.assign({}, ...this.blocks().map((l) => l.state()));
  }

  loadState(st: Record<string, Float32Array>): void {
    for (const l of this.blocks()) l.loadState(st);
  }

  layerStats(): LayerStats[] {
    return this.stats;
  }

  dispose(): void {
    for (const l of this.blocks()) l.dispose();
    this.target.dispose();
    this.sc.dispose();
  }
}
