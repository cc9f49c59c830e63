/**
 * Row selections of a Split: a subset by indices and a seeded, class-balanced hold-out
 * (validation) split. The results own fresh arrays.
 */
import { ParameterError, checkNumber } from '../errors.js';
import type { Rng } from '../rng.js';
import { subsetIndices } from './split.js';
import type { Split } from './types.js';

/**
 * A new Split with the given rows of `split`, in the given order (indices [k], each in [0, n)).
 * sourceIndices of the result refer to the original source when `split` already had them.
 */
export function selectRows(split: Split, indices: ArrayLike<number>): Split {
  const k = indices.length;
  const m = split.inputSize;
  const images = new Float32Array(k * m);
  const labels = new Int32Array(k);
  const sourceIndices = new Int32Array(k);
  for (let r = 0; r < k; r++) {
    const i = indices[r];
    if (!Number.isInteger(i) || i < 0 || i >= split.n) {
      throw new ParameterError(`selectRows: index ${i} at position ${r} is outside 0..${split.n - 1}`);
    }
    images.set(split.images.subarray(i * m, (i + 1) * m), r * m);
    labels[r] = split.labels[i];
    sourceIndices[r] = split.sourceIndices ? split.sourceIndices[i] : i;
  }
  return { images, labels, n: k, inputSize: m, numClasses: split.numClasses, sourceIndices };
}

/**
 * Split off a validation set of `valSize` rows, class-balanced and drawn with `rng` by the
 * subsetIndices rule; the remaining rows (in their original order) form the new training split.
 */
export function holdOut(split: Split, valSize: number, rng: Rng): { train: Split; val: Split } {
  checkNumber('valSize', valSize, { min: 1, max: split.n - 1, integer: true });
  const valIdx = subsetIndices(split.labels, split.numClasses, valSize, rng);
  const inVal = new Uint8Array(split.n);
  for (const i of valIdx) inVal[i] = 1;
  const rest: number[] = [];
  for (let i = 0; i < split.n; i++) if (!inVal[i]) rest.push(i);
  return { train: selectRows(split, rest), val: selectRows(split, valIdx) };
}

/** Count of samples per class, [numClasses]. */
export function classCounts(split: Split): number[] {
  const counts = new Array<number>(split.numClasses).fill(0);
  for (let i = 0; i < split.n; i++) counts[split.labels[i]]++;
  return counts;
}

/** Word-wise multiplicative hash (FNV-style step plus an xor-shift), continuing from `h`. */
function hash32(words: Uint32Array | Int32Array, h: number): number {
  for (let i = 0; i < words.length; i++) {
    h = Math.imul(h ^ words[i], 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/**
 * A short content fingerprint of a split: 16 hex digits from two word-wise hashes of the labels
 * and the exact float32 bits of the images (two orders, two seeds; not cryptographic). Equal data
 * gives equal strings; record it in checkpoints to know which data a run saw. Cost: two passes
 * over the images (about 0.3 s for the MNIST training split).
 */
export function splitFingerprint(split: Split): string {
  const bits = new Uint32Array(split.images.buffer, split.images.byteOffset, split.images.length);
  const a = hash32(split.labels, hash32(bits, 0x811c9dc5 ^ split.n));
  const b = hash32(bits, hash32(split.labels, 0x01234567 ^ split.inputSize));
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
