import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { loadDataset, parseFashionJson } from '../src/data/index.js';
import { fashionPackageDir } from '../src/data/fashion.js';
import { tempDir, writeIdxDataset } from './data.helpers.js';

describe('Fashion-MNIST from the fashion-mnist package', () => {
  const t0 = performance.now();
  const d = loadDataset('fashion-mnist');
  const loadMs = performance.now() - t0;

  it('has 60,000 / 10,000 samples of 28x28 with class names', () => {
    expect(d.train.n).toBe(60000);
    expect(d.test.n).toBe(10000);
    expect(d.inputShape).toEqual([1, 28, 28]);
    expect(d.numClasses).toBe(10);
    expect(d.classNames![9]).toBe('Ankle boot');
    expect(loadMs).toBeLessThan(8000);
  });

  it('is balanced: 6,000 train and 1,000 test per class, in class order', () => {
    const tr = new Array(10).fill(0);
    const te = new Array(10).fill(0);
    for (const l of d.train.labels) tr[l]++;
    for (const l of d.test.labels) te[l]++;
    expect(tr).toEqual(new Array(10).fill(6000));
    expect(te).toEqual(new Array(10).fill(1000));
    expect(d.train.labels[5999]).toBe(0);
    expect(d.train.labels[6000]).toBe(1);
  });

  it('follows the documented rule: the last 1,000 non-empty records of each class are test', () => {
    const file = join(fashionPackageDir(), '4.json');
    const rows = (JSON.parse(readFileSync(file, 'utf8')).data as number[][]).filter((r) => r.length > 0);
    expect(rows.length).toBe(7000);
    const firstTrain = d.train.images.subarray(4 * 6000 * 784, (4 * 6000 + 1) * 784);
    expect(Array.from(firstTrain, (v) => Math.round(v * 255))).toEqual(rows[0]);
    const lastTest = d.test.images.subarray((4 * 1000 + 999) * 784, (4 * 1000 + 1000) * 784);
    expect(Array.from(lastTest, (v) => Math.round(v * 255))).toEqual(rows[6999]);
    const firstTest = d.test.images.subarray(4 * 1000 * 784, (4 * 1000 + 1) * 784);
    expect(Array.from(firstTest, (v) => Math.round(v * 255))).toEqual(rows[6000]);
  });

  it('is the same split on every load (cached bytes, fresh arrays), with seeded subsets', () => {
    const again = loadDataset('fashion', { trainSize: 500, testSize: 100, seed: 9 });
    const again2 = loadDataset('fashion', { trainSize: 500, testSize: 100, seed: 9 });
    expect(Array.from(again.train.sourceIndices!)).toEqual(Array.from(again2.train.sourceIndices!));
    const i = again.test.sourceIndices![17];
    expect(Array.from(again.test.images.subarray(17 * 784, 18 * 784))).toEqual(Array.from(d.test.images.subarray(i * 784, (i + 1) * 784)));
    const counts = new Array(10).fill(0);
    for (const l of again.test.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(10));
    again.train.images.fill(0);
    const fresh = loadDataset('fashion', { trainSize: 500, seed: 9 });
    expect(fresh.train.images.some((v) => v > 0)).toBe(true);
  });

  it('reads the official IDX files from dataDir instead', () => {
    const dir = tempDir();
    writeIdxDataset(dir, 20, 10);
    const f = loadDataset('fashion-mnist', { dataDir: dir, officialCounts: false });
    expect(f.train.n).toBe(20);
    expect(f.classNames![0]).toBe('T-shirt/top');
  });
});

describe('parseFashionJson', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const row = (v: number) => `[${new Array(784).fill(v).join(',')}]`;

  it('parses records and skips empty ones', () => {
    const r = parseFashionJson(enc(`{"data":[${row(1)},[],${row(255)}]}`), 'x.json');
    expect(r.n).toBe(2);
    expect(r.pixels[0]).toBe(1);
    expect(r.pixels[784]).toBe(255);
  });

  it.each([
    ['{"images":[]}', /does not start with/],
    [`{"data":[[1,2,3]]}`, /record 0 has 3 values, expected 784/],
    [`{"data":[${row(256)}]}`, /pixel value 256 is not a byte/],
    [`{"data":[${row(1)}`, /expected , or \] between records/],
    [`{"data":[[1.5]]}`, /expected , or \] in a record/],
    [`{"data":[]} x`, /unexpected bytes/],
  ])('rejects %#', (text, re) => {
    expect(() => parseFashionJson(enc(text as string), 'bad.json')).toThrow(DataError);
    expect(() => parseFashionJson(enc(text as string), 'bad.json')).toThrow(re as RegExp);
    expect(() => parseFashionJson(enc(text as string), 'bad.json')).toThrow(/bad\.json/);
  });
});
