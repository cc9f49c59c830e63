import { describe, expect, it } from 'vitest';
import { batches, datasetNames, loadDataset, spikePatternRates, type Dataset } from '../src/data/index.js';
import { Rng } from '../src/rng.js';

const TASKS = ['spike-patterns', 'linear2d', 'xor', 'moons', 'circles'];

/** Element-wise equality of two typed arrays (fast, unlike toEqual on millions of entries). */
function same(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function inUnit(d: Dataset): boolean {
  return [d.train.images, d.test.images].every((a) => a.every((v) => v >= 0 && v <= 1));
}

/** Nearest-class-mean accuracy on the test split (a cheap separability probe). */
function nearestMeanAccuracy(d: Dataset): number {
  const { inputSize: m, numClasses: k } = d;
  const means = new Float64Array(k * m);
  const counts = new Float64Array(k);
  for (let i = 0; i < d.train.n; i++) {
    const c = d.train.labels[i];
    counts[c]++;
    for (let j = 0; j < m; j++) means[c * m + j] += d.train.images[i * m + j];
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < m; j++) means[c * m + j] /= counts[c];
  let correct = 0;
  for (let i = 0; i < d.test.n; i++) {
    let best = -1, bestD = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < m; j++) { const e = d.test.images[i * m + j] - means[c * m + j]; s += e * e; }
      if (s < bestD) { bestD = s; best = c; }
    }
    if (best === d.test.labels[i]) correct++;
  }
  return correct / d.test.n;
}

describe('synthetic tasks', () => {
  it('are registered', () => {
    for (const t of TASKS) expect(datasetNames()).toContain(t);
  });

  it.each(TASKS)('%s: shapes, balanced labels, values in [0, 1], deterministic by seed', (name) => {
    const a = loadDataset(name, { seed: 5, trainSize: 200, testSize: 60 });
    const b = loadDataset(name, { seed: 5, trainSize: 200, testSize: 60 });
    const c = loadDataset(name, { seed: 6, trainSize: 200, testSize: 60 });
    expect(a.train.n).toBe(200);
    expect(a.test.n).toBe(60);
    expect(a.train.images.length).toBe(200 * a.inputSize);
    expect(a.inputSize).toBe(a.inputShape.reduce((x, y) => x * y, 1));
    const counts = new Array(a.numClasses).fill(0);
    for (const l of a.train.labels) counts[l]++;
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(inUnit(a)).toBe(true);
    expect(same(a.train.images, b.train.images)).toBe(true);
    expect(same(a.test.images, b.test.images)).toBe(true);
    expect(same(a.train.images, c.train.images)).toBe(false);
    // The test split does not depend on trainSize.
    const d = loadDataset(name, { seed: 5, trainSize: 50, testSize: 60 });
    expect(same(d.test.images, a.test.images)).toBe(true);
    // Batching works on it.
    const seen = [...batches(a.train, 64, new Rng(0))].reduce((s, bt) => s + bt.size, 0);
    expect(seen).toBe(200);
  });

  it('spike-patterns: binary rasters [T, inputs] whose rates follow the class profile', () => {
    const d = loadDataset('spike-patterns', { params: { classes: 4, inputs: 20, timeSteps: 40 }, trainSize: 400, testSize: 100 });
    expect(d.inputShape).toEqual([40, 20]);
    expect(d.numClasses).toBe(4);
    expect(d.train.images.every((v) => v === 0 || v === 1)).toBe(true);
    const rates = spikePatternRates({ classes: 4, inputs: 20, rateLow: 0.02, rateHigh: 0.3 });
    expect(d.meta!.rates).toEqual(rates);
    // Empirical rate of class 2 at its peak input vs. its profile (100 samples x 40 steps).
    const peak = rates[2].indexOf(Math.max(...rates[2]));
    let spikes = 0, trials = 0;
    for (let s = 0; s < d.train.n; s++) {
      if (d.train.labels[s] !== 2) continue;
      for (let t = 0; t < 40; t++) { spikes += d.train.images[s * 800 + t * 20 + peak]; trials++; }
    }
    const p = rates[2][peak];
    expect(Math.abs(spikes / trials - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / trials));
    expect(nearestMeanAccuracy(d)).toBeGreaterThan(0.9);
  });

  it('linear2d is separated by its line with the margin; xor is not linearly separable', () => {
    const d = loadDataset('linear2d', { params: { angleDeg: 30, margin: 0.05 } });
    const a = (30 * Math.PI) / 180;
    for (let i = 0; i < d.train.n; i++) {
      const dist = (d.train.images[2 * i] - 0.5) * -Math.sin(a) + (d.train.images[2 * i + 1] - 0.5) * Math.cos(a);
      expect(Math.abs(dist)).toBeGreaterThanOrEqual(0.05 - 1e-6);
      expect(dist > 0 ? 1 : 0).toBe(d.train.labels[i]);
    }
    expect(nearestMeanAccuracy(d)).toBeGreaterThan(0.95);
    const x = loadDataset('xor');
    for (let i = 0; i < x.train.n; i++) {
      const q = (x.train.images[2 * i] > 0.5) !== (x.train.images[2 * i + 1] > 0.5) ? 1 : 0;
      expect(q).toBe(x.train.labels[i]);
    }
    // Class means of XOR coincide near the centre, so nearest-mean is near chance.
    expect(nearestMeanAccuracy(x)).toBeLessThan(0.7);
  });

  it('circles: class 1 is the inner ring', () => {
    const d = loadDataset('circles', { params: { noise: 0 } });
    for (let i = 0; i < 50; i++) {
      const x = d.train.images[2 * i] * 2.5 - 1.25;
      const y = d.train.images[2 * i + 1] * 2.5 - 1.25;
      expect(Math.hypot(x, y)).toBeCloseTo(d.train.labels[i] === 1 ? 0.5 : 1, 5);
    }
  });

  it('moons: without noise, class 0 lies on the upper unit half circle, class 1 on the shifted lower one', () => {
    const d = loadDataset('moons', { params: { noise: 0 } });
    for (let i = 0; i < 100; i++) {
      const x = d.train.images[2 * i] * 4 - 1.5;
      const y = d.train.images[2 * i + 1] * 2.5 - 1.25;
      if (d.train.labels[i] === 0) {
        expect(Math.hypot(x, y)).toBeCloseTo(1, 5);
        expect(y).toBeGreaterThanOrEqual(-1e-6);
      } else {
        expect(Math.hypot(x - 1, y - 0.5)).toBeCloseTo(1, 5);
        expect(y).toBeLessThanOrEqual(0.5 + 1e-6);
      }
    }
  });

  it('rejects unknown or out-of-range parameters', () => {
    expect(() => loadDataset('moons', { params: { nosie: 0.1 } })).toThrow(/unknown parameter nosie; allowed: noise/);
    expect(() => loadDataset('spike-patterns', { params: { classes: 1 } })).toThrow(/spike-patterns\.classes/);
    expect(() => loadDataset('xor', { trainSize: 0 })).toThrow(/trainSize/);
  });
});
