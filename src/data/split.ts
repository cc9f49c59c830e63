/**
 * Turning raw bytes into Splits: seeded class-balanced subsets, the [0, 1] conversion and optional
 * per-channel standardisation. Shared by every image loader (MNIST, Fashion-MNIST, CIFAR).
 */
import { DataError, ParameterError, checkNumber } from '../errors.js';
import { Rng } from '../rng.js';
import type { Dataset, LoadOptions, Normalisation, Split } from './types.js';

/** One split as raw bytes: pixels [n, inputSize] (0..255) and labels [n]. */
export interface RawSplit {
  pixels: Uint8Array;
  labels: Uint8Array;
  n: number;
  /** Where the split came from (file names for error messages). */
  source: string;
}

/** A whole image dataset as raw bytes, before subsets and normalisation. */
export interface RawImageData {
  name: string;
  /** [channels, height, width]; channel-planar (CHW) layout within each sample. */
  inputShape: number[];
  numClasses: number;
  classNames?: string[];
  train: RawSplit;
  test: RawSplit;
  source: string;
}

/** Throw a DataError if a label is outside [0, numClasses). */
export function checkLabels(labels: Uint8Array, numClasses: number, source: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new DataError(`${source}: label ${labels[i]} at index ${i} is outside 0..${numClasses - 1}`);
    }
  }
}

/**
 * Indices of a seeded, class-balanced subset of `size` samples, sorted ascending.
 *
 * Rule: the indices of each class are shuffled with `rng` (classes in order 0..K-1), then taken
 * round-robin (one from class 0, one from class 1, ...; exhausted classes are skipped) until
 * `size` are chosen. So every class gets floor(size/K) or one more when it has enough samples;
 * the result depends only on the labels, size and the rng state.
 */
export function subsetIndices(labels: ArrayLike<number>, numClasses: number, size: number, rng: Rng): Int32Array {
  const n = labels.length;
  checkNumber('subset size', size, { min: 1, max: n, integer: true });
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i]].push(i);
  for (const list of byClass) rng.shuffle(list);
  const out = new Int32Array(size);
  const pos = new Array<number>(numClasses).fill(0);
  let k = 0;
  while (k < size) {
    for (let c = 0; c < numClasses && k < size; c++) {
      if (pos[c] < byClass[c].length) out[k++] = byClass[c][pos[c]++];
    }
  }
  return out.sort();
}

/** Per-channel mean and std (unit scale) of raw CHW pixels [n, channels * plane]. */
export function channelStats(pixels: Uint8Array, n: number, channels: number): { mean: number[]; std: number[] } {
  const plane = pixels.length / (n * channels);
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const base = (i * channels + c) * plane;
      for (let j = 0; j < plane; j++) {
        const v = pixels[base + j];
        s += v;
        s2 += v * v;
      }
    }
    const count = n * plane;
    const m = s / count;
    const variance = Math.max(s2 / count - m * m, 0);
    mean.push(m / 255);
    std.push(Math.sqrt(variance) / 255 || 1);
  }
  return { mean, std };
}

/**
 * Convert selected rows of raw pixels to a Split: v/255, then optionally (v - mean[c]) / std[c].
 * `indices` = null keeps every row in order.
 */
export function toSplit(raw: RawSplit, inputSize: number, numClasses: number, channels: number,
  indices: Int32Array | null, norm: Normalisation): Split {
  const n = indices ? indices.length : raw.n;
  const images = new Float32Array(n * inputSize);
  const labels = new Int32Array(n);
  const plane = inputSize / channels;
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = norm.kind === 'standardize' ? norm.mean![c] : 0;
    const s = norm.kind === 'standardize' ? norm.std![c] : 1;
    scale[c] = 1 / (255 * s);
    shift[c] = -m / s;
  }
  for (let r = 0; r < n; r++) {
    const src = indices ? indices[r] : r;
    labels[r] = raw.labels[src];
    const so = src * inputSize;
    const dOff = r * inputSize;
    for (let c = 0; c < channels; c++) {
      const a = scale[c];
      const b = shift[c];
      const base = c * plane;
      for (let j = base; j < base + plane; j++) images[dOff + j] = raw.pixels[so + j] * a + b;
    }
  }
  const split: Split = { images, labels, n, inputSize, numClasses };
  if (indices) split.sourceIndices = indices;
  return split;
}

/**
 * Finish a raw image dataset with the load options: seeded subsets (trainSize/testSize, drawn
 * from Rng(seed) forked once for train and once for test), [0, 1] conversion, optional
 * standardisation with statistics of the full training split.
 */
export function finishImageDataset(raw: RawImageData, opts: LoadOptions = {}): Dataset {
  const inputSize = raw.inputShape.reduce((a, b) => a * b, 1);
  const channels = raw.inputShape.length === 3 ? raw.inputShape[0] : 1;
  if (raw.train.n !== raw.train.labels.length || raw.test.n !== raw.test.labels.length) {
    throw new DataError(`${raw.name}: image and label counts differ`);
  }
  const seed = opts.seed ?? 0;
  checkNumber('seed', seed, { integer: true });
  const rng = new Rng(seed);
  const trainRng = rng.fork();
  const testRng = rng.fork();
  const pick = (split: RawSplit, size: number | undefined, r: Rng, what: string): Int32Array | null => {
    if (size === undefined || size === split.n) return null;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > split.n) {
      throw new ParameterError(`${what} = ${JSON.stringify(size)} is out of range; ${what} must be an integer from 1 to ${split.n} for ${raw.name}`);
    }
    return subsetIndices(split.labels, raw.numClasses, size, r);
  };
  const trainIdx = pick(raw.train, opts.trainSize, trainRng, 'trainSize');
  const testIdx = pick(raw.test, opts.testSize, testRng, 'testSize');
  let norm: Normalisation = { kind: 'unit' };
  if (opts.standardize) norm = { kind: 'standardize', ...channelStats(raw.train.pixels, raw.train.n, channels) };
  return {
    name: raw.name,
    inputShape: raw.inputShape.slice(),
    inputSize,
    numClasses: raw.numClasses,
    classNames: raw.classNames?.slice(),
    train: toSplit(raw.train, inputSize, raw.numClasses, channels, trainIdx, norm),
    test: toSplit(raw.test, inputSize, raw.numClasses, channels, testIdx, norm),
    normalisation: norm,
    source: raw.source,
  };
}
