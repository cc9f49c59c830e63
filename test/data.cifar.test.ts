import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { CIFAR10_FILES, CIFAR_RECORDS, loadDataset } from '../src/data/index.js';
import { tempDir, writeSparse } from './data.helpers.js';

/** n CIFAR records: label bytes from labelsOf(i), pixel j of channel c = (i + c * 50 + j) % 256. */
function cifarBytes(n: number, labelBytes: 1 | 2, labelsOf: (i: number) => number[]): Uint8Array {
  const rec = labelBytes + 3072;
  const out = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    out.set(labelsOf(i), i * rec);
    for (let c = 0; c < 3; c++) for (let j = 0; j < 1024; j++) out[i * rec + labelBytes + c * 1024 + j] = (i + c * 50 + j) % 256;
  }
  return out;
}

function writeCifar10(dir: string, perFile = 4): void {
  CIFAR10_FILES.train.forEach((f, k) => writeFileSync(join(dir, f), cifarBytes(perFile, 1, (i) => [(i + k) % 10])));
  writeFileSync(join(dir, 'test_batch.bin'), cifarBytes(perFile, 1, (i) => [i % 10]));
}

describe('CIFAR-10 binary files', () => {
  it('loads small files in the official format (CHW, [0, 1], labels)', () => {
    const dir = tempDir();
    writeCifar10(dir);
    const d = loadDataset('cifar10', { dataDir: dir, officialCounts: false });
    expect(d.train.n).toBe(20);
    expect(d.test.n).toBe(4);
    expect(d.inputShape).toEqual([3, 32, 32]);
    expect(d.inputSize).toBe(3072);
    expect(d.classNames![0]).toBe('airplane');
    // Sample 5 = data_batch_2 record 1: label (1 + 1) % 10, pixel (c=2, j=3) = (1 + 100 + 3) / 255.
    expect(d.train.labels[5]).toBe(2);
    expect(d.train.images[5 * 3072 + 2 * 1024 + 3]).toBeCloseTo(104 / 255, 6);
    expect(Array.from(d.test.labels)).toEqual([0, 1, 2, 3]);
  });

  it('accepts the parent folder of cifar-10-batches-bin and reads batches.meta.txt', () => {
    const parent = tempDir();
    const dir = join(parent, 'cifar-10-batches-bin');
    mkdirSync(dir);
    writeCifar10(dir, 2);
    writeFileSync(join(dir, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    const d = loadDataset('cifar-10', { dataDir: parent, officialCounts: false });
    expect(d.train.n).toBe(10);
    expect(d.classNames).toEqual('abcdefghij'.split(''));
  });

  it('standardises per channel with training statistics', () => {
    const dir = tempDir();
    writeCifar10(dir);
    const d = loadDataset('cifar10', { dataDir: dir, standardize: true, officialCounts: false });
    expect(d.normalisation.mean).toHaveLength(3);
    for (let c = 0; c < 3; c++) {
      let s = 0, s2 = 0;
      for (let i = 0; i < d.train.n; i++) for (let j = 0; j < 1024; j++) {
        const v = d.train.images[i * 3072 + c * 1024 + j];
        s += v; s2 += v * v;
      }
      const m = s / (d.train.n * 1024);
      expect(m).toBeCloseTo(0, 4);
      expect(Math.sqrt(s2 / (d.train.n * 1024) - m * m)).toBeCloseTo(1, 3);
    }
  });

  it('rejects a truncated file, naming it and the record size', () => {
    const dir = tempDir();
    writeCifar10(dir);
    writeFileSync(join(dir, 'data_batch_3.bin'), cifarBytes(4, 1, () => [1]).subarray(0, 3 * 3073 + 100));
    expect(() => loadDataset('cifar10', { dataDir: dir, officialCounts: false })).toThrow(DataError);
    expect(() => loadDataset('cifar10', { dataDir: dir, officialCounts: false })).toThrow(/data_batch_3\.bin: truncated or wrong format: 9319 bytes is not a multiple of the 3073-byte record/);
  });

  it('rejects a test file cut to 10 of its 10,000 records, naming it with the expected and found counts', () => {
    const dir = tempDir();
    // the five training files at their official size (sparse), the test file cut on a record boundary
    for (const f of CIFAR10_FILES.train) writeSparse(join(dir, f), new Uint8Array(0), 10000 * 3073);
    writeFileSync(join(dir, 'test_batch.bin'), cifarBytes(10, 1, (i) => [i % 10]));
    let msg = '';
    try {
      loadDataset('cifar10', { dataDir: dir });
    } catch (err) {
      expect(err).toBeInstanceOf(DataError);
      msg = (err as Error).message;
    }
    expect(msg).toContain(`CIFAR-10: ${join(dir, 'test_batch.bin')} has 10 records, expected 10000`);
    expect(msg).toMatch(/truncated or not the official one.*set trainSize \/ testSize/);
    expect(msg).not.toContain('data_batch');
    // every file that differs is named at once
    writeFileSync(join(dir, 'data_batch_4.bin'), cifarBytes(3, 1, () => [0]));
    expect(() => loadDataset('cifar10', { dataDir: dir })).toThrow(/data_batch_4\.bin has 3 records, expected 10000; .*test_batch\.bin has 10 records, expected 10000/);
    expect(CIFAR_RECORDS['data_batch_1.bin'] * 5).toBe(50000);
  });

  it('rejects an out-of-range label and an empty file', () => {
    const dir = tempDir();
    writeCifar10(dir);
    writeFileSync(join(dir, 'test_batch.bin'), cifarBytes(3, 1, (i) => [i === 2 ? 10 : 0]));
    expect(() => loadDataset('cifar10', { dataDir: dir, officialCounts: false })).toThrow(/test_batch\.bin: record 2 has label byte 0 = 10, outside 0\.\.9/);
    writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(0));
    expect(() => loadDataset('cifar10', { dataDir: dir, officialCounts: false })).toThrow(/test_batch\.bin: is empty/);
  });

  it('names the missing directory or files and the expected ones', () => {
    const missing = join(tempDir(), 'absent');
    expect(() => loadDataset('cifar10', { dataDir: missing })).toThrow(new RegExp(`${missing} does not exist; it must contain data_batch_1\\.bin`));
    const dir = tempDir();
    writeCifar10(dir);
    const partial = tempDir();
    writeFileSync(join(partial, 'data_batch_1.bin'), cifarBytes(1, 1, () => [0]));
    expect(() => loadDataset('cifar10', { dataDir: partial })).toThrow(/lacks data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin, test_batch\.bin/);
  });

  it('asks for a data directory when none is given', () => {
    const saved = process.env.SIGPROP_DATA_DIR;
    delete process.env.SIGPROP_DATA_DIR;
    try {
      expect(() => loadDataset('cifar10')).toThrow(/no data directory given; pass dataDir \(--data-dir\)/);
    } finally {
      if (saved !== undefined) process.env.SIGPROP_DATA_DIR = saved;
    }
  });
});

describe('CIFAR-100 binary files', () => {
  function writeCifar100(dir: string): void {
    writeFileSync(join(dir, 'train.bin'), cifarBytes(6, 2, (i) => [i % 20, (i * 17) % 100]));
    writeFileSync(join(dir, 'test.bin'), cifarBytes(3, 2, (i) => [19 - i, 99 - i]));
  }

  it('loads fine and coarse labels', () => {
    const dir = tempDir();
    writeCifar100(dir);
    const fine = loadDataset('cifar100', { dataDir: dir, officialCounts: false });
    expect(fine.numClasses).toBe(100);
    expect(Array.from(fine.train.labels)).toEqual([0, 17, 34, 51, 68, 85]);
    expect(Array.from(fine.test.labels)).toEqual([99, 98, 97]);
    expect(fine.classNames![99]).toBe('worm');
    expect(fine.train.images[3 * 3072 + 1024]).toBeCloseTo(53 / 255, 6);
    const coarse = loadDataset('cifar100-coarse', { dataDir: dir, officialCounts: false });
    expect(coarse.numClasses).toBe(20);
    expect(Array.from(coarse.test.labels)).toEqual([19, 18, 17]);
    expect(coarse.classNames![19]).toBe('vehicles_2');
  });

  it('requires the official 50,000 / 10,000 records', () => {
    const dir = tempDir();
    writeSparse(join(dir, 'train.bin'), new Uint8Array(0), 49999 * 3074);
    writeSparse(join(dir, 'test.bin'), new Uint8Array(0), 10000 * 3074);
    expect(() => loadDataset('cifar100', { dataDir: dir })).toThrow(/CIFAR-100: .*train\.bin has 49999 records, expected 50000 \(the official file holds that many\)/);
  });

  it('rejects a file in the CIFAR-10 record size and out-of-range fine labels', () => {
    const dir = tempDir();
    writeCifar100(dir);
    writeFileSync(join(dir, 'test.bin'), cifarBytes(3, 1, () => [0]));
    expect(() => loadDataset('cifar100', { dataDir: dir, officialCounts: false })).toThrow(/test\.bin: truncated or wrong format: .* 3074-byte record/);
    writeFileSync(join(dir, 'test.bin'), cifarBytes(2, 2, () => [1, 100]));
    expect(() => loadDataset('cifar100', { dataDir: dir, officialCounts: false })).toThrow(/test\.bin: record 0 has label byte 1 = 100, outside 0\.\.99/);
  });
});
