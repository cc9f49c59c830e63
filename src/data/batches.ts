/**
 * Mini-batches over a Split: shuffled with the run's Rng, labels as integers and one-hot.
 */
import { ParameterError, checkNumber } from '../errors.js';
import type { Rng } from '../rng.js';
import type { Split } from './types.js';

/** One mini-batch. */
export interface Batch {
  /** Samples, shape [size, inputSize]. */
  x: Float32Array;
  /** Class indices, shape [size]. */
  labels: Int32Array;
  /** One-hot labels, shape [size, numClasses]. */
  oneHot: Float32Array;
  /** Row of each sample in the split, shape [size]. */
  indices: Int32Array;
  /** Number of samples in this batch (the last one may be smaller unless dropLast). */
  size: number;
}

export interface BatchOptions {
  /** Shuffle the order with the given Rng each epoch (default true). */
  shuffle?: boolean;
  /** Skip a final batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/** One-hot encode integer labels: returns [labels.length, numClasses] with a 1 per row. */
export function oneHot(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new ParameterError(`oneHot: label ${c} at index ${i} is outside 0..${numClasses - 1}`);
    }
    out[i * numClasses + c] = 1;
  }
  return out;
}

/** Number of batches one epoch yields. */
export function numBatches(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * The sample order of one epoch: 0..n-1, Fisher-Yates shuffled by `rng` when shuffle is true.
 * Consumes rng draws only when shuffling.
 */
export function epochOrder(n: number, rng: Rng | null | undefined, shuffle = true): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (shuffle) {
    if (!rng) throw new ParameterError('batches: shuffle = true needs an Rng (pass the run Rng, or shuffle: false)');
    rng.shuffle(order);
  }
  return order;
}

/** The rows of `split` in order, in batches of `batchSize`: views of its images (no copies) and the first row's index. */
export function* inOrder(split: Split, batchSize: number): Generator<{ start: number; size: number; x: Float32Array }> {
  for (let start = 0; start < split.n; start += batchSize) {
    const size = Math.min(batchSize, split.n - start);
    yield { start, size, x: split.images.subarray(start * split.inputSize, (start + size) * split.inputSize) };
  }
}

/** How many of `pred` equal the split's labels from row `start` on. */
export function matchesAt(split: Split, start: number, pred: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === split.labels[start + i]) n++;
  return n;
}

/**
 * Yield the mini-batches of one epoch over `split`. With shuffle (default), the order is drawn
 * from `rng`, so the same rng state gives the same batches; each sample appears exactly once per
 * epoch (with dropLast, the n mod batchSize samples of the last partial batch are skipped).
 * Each batch owns fresh arrays (safe to keep).
 */
export function* batches(split: Split, batchSize: number, rng?: Rng | null, opts: BatchOptions = {}): Generator<Batch> {
  checkNumber('batchSize', batchSize, { min: 1, integer: true });
  const { shuffle = true, dropLast = false } = opts;
  const { inputSize, numClasses } = split;
  const order = epochOrder(split.n, rng, shuffle);
  const count = numBatches(split.n, batchSize, dropLast);
  for (let b = 0; b < count; b++) {
    const start = b * batchSize;
    const size = Math.min(batchSize, split.n - start);
    const indices = order.slice(start, start + size);
    const x = new Float32Array(size * inputSize);
    const labels = new Int32Array(size);
    for (let r = 0; r < size; r++) {
      const src = indices[r];
      x.set(split.images.subarray(src * inputSize, (src + 1) * inputSize), r * inputSize);
      labels[r] = split.labels[src];
    }
    yield { x, labels, oneHot: oneHot(labels, numClasses), indices, size };
  }
}
