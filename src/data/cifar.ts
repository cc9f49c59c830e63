/**
 * CIFAR-10 and CIFAR-100 in the official binary format ("binary version" from
 * https://www.cs.toronto.edu/~kriz/cifar.html), read from a directory the user names.
 *
 * CIFAR-10: data_batch_1.bin .. data_batch_5.bin (train) and test_batch.bin; each record is
 * 1 label byte + 3072 pixel bytes. CIFAR-100: train.bin and test.bin; each record is 1 coarse
 * label byte + 1 fine label byte + 3072 pixel bytes. Pixels are channel-planar: 1024 red, then
 * 1024 green, then 1024 blue, each row-major 32x32; so inputShape is [3, 32, 32] (CHW).
 *
 * dataDir may be the folder holding the .bin files or its parent (the tarballs unpack to
 * cifar-10-batches-bin/ and cifar-100-binary/). Optional label-name files (batches.meta.txt,
 * fine_label_names.txt, coarse_label_names.txt) are used when present, else built-in names.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { requireFiles } from './mnist.js';
import { checkLabels, finishImageDataset, type RawImageData, type RawSplit } from './split.js';
import type { Dataset, LoadOptions } from './types.js';

export const CIFAR_PIXELS = 3072;
export const CIFAR10_FILES = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};
export const CIFAR100_FILES = { train: ['train.bin'], test: ['test.bin'] };
/** Records in each official file (https://www.cs.toronto.edu/~kriz/cifar.html). */
export const CIFAR_RECORDS: Readonly<Record<string, number>> = {
  'data_batch_1.bin': 10000, 'data_batch_2.bin': 10000, 'data_batch_3.bin': 10000, 'data_batch_4.bin': 10000, 'data_batch_5.bin': 10000,
  'test_batch.bin': 10000, 'train.bin': 50000, 'test.bin': 10000,
};

export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR100_COARSE_NAMES = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables', 'household_electrical_devices',
  'household_furniture', 'insects', 'large_carnivores', 'large_man-made_outdoor_things', 'large_natural_outdoor_scenes',
  'large_omnivores_and_herbivores', 'medium_mammals', 'non-insect_invertebrates', 'people', 'reptiles', 'small_mammals',
  'trees', 'vehicles_1', 'vehicles_2',
];
export const CIFAR100_FINE_NAMES = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle ' +
  'caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish ' +
  'forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle ' +
  'mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine ' +
  'possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar ' +
  'sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale ' +
  'willow_tree wolf woman worm'
).split(' ');

/** Record layout of one CIFAR flavour. */
export interface CifarFormat {
  /** Label bytes before the pixels: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine). */
  labelBytes: 1 | 2;
  /** Which label byte is the class (0-based); CIFAR-100 fine = 1, coarse = 0. */
  labelIndex: number;
  numClasses: number;
}

/** Parsed records of one CIFAR file: pixels [n, 3072] (a copy) and labels [n]. */
export interface CifarRecords {
  pixels: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** Check that a byte length is a positive whole number of records; returns the record count. */
export function cifarRecordCount(byteLength: number, format: CifarFormat, file: string): number {
  const rec = format.labelBytes + CIFAR_PIXELS;
  if (byteLength === 0) throw new DataError(`CIFAR file ${file}: is empty`);
  if (byteLength % rec !== 0) {
    throw new DataError(
      `CIFAR file ${file}: truncated or wrong format: ${byteLength} bytes is not a multiple of the ${rec}-byte record ` +
      `(${format.labelBytes} label byte${format.labelBytes > 1 ? 's' : ''} + ${CIFAR_PIXELS} pixels); ` +
      `${Math.floor(byteLength / rec)} whole records and ${byteLength % rec} bytes left over`,
    );
  }
  return byteLength / rec;
}

/**
 * Parse the bytes of one CIFAR binary file. Throws DataError naming the file when the length is
 * not a whole number of records or a label is out of range. Allocates only n * 3073 bytes after
 * the length check, where n = bytes.length / recordSize.
 */
export function parseCifar(bytes: Uint8Array, format: CifarFormat, file: string): CifarRecords {
  const n = cifarRecordCount(bytes.length, format, file);
  const rec = format.labelBytes + CIFAR_PIXELS;
  const pixels = new Uint8Array(n * CIFAR_PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * rec;
    for (let b = 0; b < format.labelBytes; b++) {
      const limit = format.labelBytes === 2 && b === 0 ? 20 : format.labelBytes === 2 ? 100 : 10;
      if (bytes[o + b] >= limit) {
        throw new DataError(`CIFAR file ${file}: record ${i} has label byte ${b} = ${bytes[o + b]}, outside 0..${limit - 1}`);
      }
    }
    labels[i] = bytes[o + format.labelIndex];
    pixels.set(bytes.subarray(o + format.labelBytes, o + rec), i * CIFAR_PIXELS);
  }
  return { pixels, labels, n };
}

/**
 * Check that every file holds the record count of the official release (CIFAR_RECORDS), from the
 * file sizes alone, before any payload is read: a download cut on a record boundary would
 * otherwise train or test on a fraction of the data unnoticed. The DataError names each file
 * that differs with the expected and found counts.
 */
export function checkCifarCounts(what: string, dir: string, files: readonly string[], format: CifarFormat): void {
  const wrong: string[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const found = cifarRecordCount(statSync(path).size, format, path);
    const expected = CIFAR_RECORDS[f];
    if (expected !== undefined && found !== expected) wrong.push(`${path} has ${found} records, expected ${expected}`);
  }
  if (wrong.length) {
    throw new DataError(
      `${what}: ${wrong.join('; ')} (the official file${wrong.length > 1 ? 's hold' : ' holds'} that many); a file is truncated or not the official one: ` +
      'download the "binary version" again from https://www.cs.toronto.edu/~kriz/cifar.html (for fewer samples keep the official files and set trainSize / testSize)',
    );
  }
}

/** Read several CIFAR files into one RawSplit (lengths are checked before reading any payload). */
function readCifarSplit(dir: string, files: string[], format: CifarFormat): RawSplit {
  const paths = files.map((f) => join(dir, f));
  const counts = paths.map((p) => cifarRecordCount(statSync(p).size, format, p));
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Uint8Array(total * CIFAR_PIXELS);
  const labels = new Uint8Array(total);
  let at = 0;
  for (const p of paths) {
    const recs = parseCifar(readFileSync(p), format, p);
    pixels.set(recs.pixels, at * CIFAR_PIXELS);
    labels.set(recs.labels, at);
    at += recs.n;
  }
  checkLabels(labels, format.numClasses, paths.join(', '));
  return { pixels, labels, n: total, source: paths.join(', ') };
}

/** The data directory from opts or SIGPROP_DATA_DIR; a DataError says how to give one. */
function dataDirOf(what: string, opts: LoadOptions, files: readonly string[]): string {
  const dir = opts.dataDir ?? process.env.SIGPROP_DATA_DIR;
  if (!dir) {
    throw new DataError(
      `${what}: no data directory given; pass dataDir (--data-dir) or set SIGPROP_DATA_DIR to the folder with ${files.join(', ')} ` +
      '(the "binary version" from https://www.cs.toronto.edu/~kriz/cifar.html)',
    );
  }
  return dir;
}

/** dataDir itself if it holds the files, else dataDir/<sub> if that does. */
function resolveDir(dir: string, sub: string, probe: string): string {
  if (!existsSync(join(dir, probe)) && existsSync(join(dir, sub, probe))) return join(dir, sub);
  return dir;
}

/** Label names from a text file (one per line) if present with exactly `count` names, else `fallback`. */
function readNames(path: string, count: number, fallback: string[]): string[] {
  if (!existsSync(path)) return fallback;
  const names = readFileSync(path, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  return names.length === count ? names : fallback;
}

/** Load CIFAR-10 from opts.dataDir. Images [n, 3072] CHW in [0, 1] or standardised per channel. */
export function loadCifar10(opts: LoadOptions = {}): Dataset {
  const all = [...CIFAR10_FILES.train, ...CIFAR10_FILES.test];
  const dir = resolveDir(dataDirOf('CIFAR-10', opts, all), 'cifar-10-batches-bin', 'test_batch.bin');
  requireFiles('CIFAR-10', dir, all);
  const format: CifarFormat = { labelBytes: 1, labelIndex: 0, numClasses: 10 };
  if (opts.officialCounts !== false) checkCifarCounts('CIFAR-10', dir, all, format);
  const raw: RawImageData = {
    name: 'cifar10', inputShape: [3, 32, 32], numClasses: 10,
    classNames: readNames(join(dir, 'batches.meta.txt'), 10, CIFAR10_CLASS_NAMES),
    train: readCifarSplit(dir, CIFAR10_FILES.train, format),
    test: readCifarSplit(dir, CIFAR10_FILES.test, format),
    source: dir,
  };
  return finishImageDataset(raw, opts);
}

/**
 * Load CIFAR-100 from opts.dataDir with the fine (100 classes, default) or coarse (20
 * superclasses) labels. Images [n, 3072] CHW in [0, 1] or standardised per channel.
 */
export function loadCifar100(opts: LoadOptions = {}, labels: 'fine' | 'coarse' = 'fine'): Dataset {
  const all = [...CIFAR100_FILES.train, ...CIFAR100_FILES.test];
  const dir = resolveDir(dataDirOf('CIFAR-100', opts, all), 'cifar-100-binary', 'test.bin');
  requireFiles('CIFAR-100', dir, all);
  const fine = labels === 'fine';
  const format: CifarFormat = { labelBytes: 2, labelIndex: fine ? 1 : 0, numClasses: fine ? 100 : 20 };
  if (opts.officialCounts !== false) checkCifarCounts('CIFAR-100', dir, all, format);
  const raw: RawImageData = {
    name: fine ? 'cifar100' : 'cifar100-coarse', inputShape: [3, 32, 32], numClasses: format.numClasses,
    classNames: fine
      ? readNames(join(dir, 'fine_label_names.txt'), 100, CIFAR100_FINE_NAMES)
      : readNames(join(dir, 'coarse_label_names.txt'), 20, CIFAR100_COARSE_NAMES),
    train: readCifarSplit(dir, CIFAR100_FILES.train, format),
    test: readCifarSplit(dir, CIFAR100_FILES.test, format),
    source: dir,
  };
  return finishImageDataset(raw, opts);
}
