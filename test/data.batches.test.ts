import { describe, expect, it } from 'vitest';
import { batches, classCounts, inOrder, matchesAt, holdOut, numBatches, oneHot, selectRows, splitFingerprint, type Split } from '../src/data/index.js';
import { Rng } from '../src/rng.js';

function toySplit(n: number, inputSize = 3, numClasses = 4): Split {
  const images = new Float32Array(n * inputSize);
  for (let i = 0; i < n; i++) images.fill(i, i * inputSize, (i + 1) * inputSize);
  const labels = new Int32Array(n).map((_, i) => i % numClasses);
  return { images, labels, n, inputSize, numClasses };
}

describe('batches', () => {
  it('covers each sample exactly once per epoch, shuffled, with matching x, labels and one-hot', () => {
    const s = toySplit(103);
    const rng = new Rng(7);
    const seen = new Array(103).fill(0);
    let count = 0;
    const firstOrder: number[] = [];
    for (const b of batches(s, 10, rng)) {
      count++;
      expect(b.x.length).toBe(b.size * 3);
      expect(b.oneHot.length).toBe(b.size * 4);
      for (let r = 0; r < b.size; r++) {
        const i = b.indices[r];
        seen[i]++;
        firstOrder.push(i);
        expect(b.x[r * 3]).toBe(i);
        expect(b.labels[r]).toBe(i % 4);
        expect(b.oneHot[r * 4 + (i % 4)]).toBe(1);
        expect(b.oneHot.subarray(r * 4, r * 4 + 4).reduce((a, v) => a + v, 0)).toBe(1);
      }
    }
    expect(count).toBe(11);
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(firstOrder).not.toEqual([...Array(103).keys()]);
    // Next epoch with the same rng: a different order, still a permutation.
    const second = [...batches(s, 10, rng)].flatMap((b) => Array.from(b.indices));
    expect(second).not.toEqual(firstOrder);
    expect([...second].sort((a, b) => a - b)).toEqual([...Array(103).keys()]);
  });

  it('is deterministic for a seed and ordered without shuffle', () => {
    const s = toySplit(50);
    const a = [...batches(s, 8, new Rng(1))].flatMap((b) => Array.from(b.indices));
    const b = [...batches(s, 8, new Rng(1))].flatMap((b) => Array.from(b.indices));
    expect(a).toEqual(b);
    const c = [...batches(s, 8, null, { shuffle: false })].flatMap((b) => Array.from(b.indices));
    expect(c).toEqual([...Array(50).keys()]);
  });

  it('drops the last partial batch with dropLast', () => {
    const s = toySplit(50);
    const bs = [...batches(s, 8, new Rng(2), { dropLast: true })];
    expect(bs.length).toBe(6);
    expect(bs.every((b) => b.size === 8)).toBe(true);
    expect(numBatches(50, 8, true)).toBe(6);
    expect(numBatches(50, 8)).toBe(7);
    const last = [...batches(s, 8, new Rng(2))].at(-1)!;
    expect(last.size).toBe(2);
  });

  it('rejects bad arguments', () => {
    const s = toySplit(10);
    expect(() => [...batches(s, 0, new Rng(1))]).toThrow(/batchSize/);
    expect(() => [...batches(s, 2.5, new Rng(1))]).toThrow(/batchSize/);
    expect(() => [...batches(s, 2, null)]).toThrow(/needs an Rng/);
  });
});

describe('oneHot', () => {
  it('encodes labels and rejects out-of-range ones', () => {
    expect(Array.from(oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => oneHot([3], 3)).toThrow(/label 3 at index 0/);
  });
});

describe('selectRows / holdOut / classCounts', () => {
  it('holds out a class-balanced validation set disjoint from the rest', () => {
    const s = toySplit(100, 3, 4);
    const { train, val } = holdOut(s, 20, new Rng(3));
    expect(val.n).toBe(20);
    expect(train.n).toBe(80);
    expect(classCounts(val)).toEqual([5, 5, 5, 5]);
    const all = [...Array.from(train.sourceIndices!), ...Array.from(val.sourceIndices!)].sort((a, b) => a - b);
    expect(all).toEqual([...Array(100).keys()]);
    for (let r = 0; r < val.n; r++) expect(val.images[r * 3]).toBe(val.sourceIndices![r]);
    const again = holdOut(s, 20, new Rng(3));
    expect(Array.from(again.val.sourceIndices!)).toEqual(Array.from(val.sourceIndices!));
  });

  it('selectRows keeps order and rejects bad indices', () => {
    const s = toySplit(10);
    const sel = selectRows(s, [9, 0, 9]);
    expect(Array.from(sel.labels)).toEqual([1, 0, 1]);
    expect(sel.images[3]).toBe(0);
    expect(() => selectRows(s, [10])).toThrow(/index 10 at position 0/);
    expect(() => holdOut(s, 10, new Rng(1))).toThrow(/valSize/);
  });
});

describe('splitFingerprint', () => {
  it('is equal for equal data and changes with one value or one label', () => {
    const a = toySplit(20);
    const f = splitFingerprint(a);
    expect(f).toMatch(/^[0-9a-f]{16}$/);
    expect(splitFingerprint(toySplit(20))).toBe(f);
    const b = toySplit(20);
    b.images[17] = 2.5000002;
    expect(splitFingerprint(b)).not.toBe(f);
    const c = toySplit(20);
    c.labels[3] = 0;
    expect(splitFingerprint(c)).not.toBe(f);
  });
});

describe('inOrder / matchesAt (evaluation batches)', () => {
  it('yields views of the rows in order, the last batch short, and counts matching predictions from a row on', () => {
    const split: Split = { images: Float32Array.from({ length: 7 * 2 }, (_, i) => i), labels: Int32Array.from([0, 1, 2, 0, 1, 2, 0]), n: 7, inputSize: 2, numClasses: 3 };
    const got = [...inOrder(split, 3)];
    expect(got.map((b) => [b.start, b.size])).toEqual([[0, 3], [3, 3], [6, 1]]);
    expect(Array.from(got[1].x)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(got[2].x.buffer).toBe(split.images.buffer); // a view, not a copy
    expect(matchesAt(split, 3, [0, 2, 2])).toBe(2);
    expect(matchesAt(split, 6, [1])).toBe(0);
  });
});
