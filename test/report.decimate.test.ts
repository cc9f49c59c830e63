import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decimateMinMax, decimateStride, ordinal, rasterMarks, spikeSteps } from '../src/report/decimate.js';
import { ParameterError } from '../src/errors.js';

describe('decimateMinMax', () => {
  it('returns short series unchanged with factor 1 and no note', () => {
    const d = decimateMinMax([3, 1, 2], 10);
    expect(d).toEqual({ x: [0, 1, 2], y: [3, 1, 2], factor: 1, method: 'none', note: '' });
  });

  it('keeps a spike in every bucket that has one (0/1 series) and states the factor', () => {
    const T = 10_000;
    const s = new Float32Array(T);
    const spikes = [5, 17, 1234, 4999, 5000, 9999];
    for (const t of spikes) s[t] = 1;
    const d = decimateMinMax(s, 500);
    expect(d.x.length).toBeLessThanOrEqual(500);
    expect(d.factor).toBe(40);
    expect(d.method).toBe('minmax');
    expect(d.note).toBe('min-max over 40 steps');
    const kept = d.x.filter((_, i) => d.y[i] === 1);
    // 5 and 17 share the bucket [0, 40): one of them stands for both; every other spike is exact.
    expect(kept).toEqual([5, 1234, 4999, 5000, 9999]);
    const bucketsWithSpike = new Set(spikes.map((t) => Math.floor(t / d.factor)));
    expect(new Set(kept.map((t) => Math.floor(t / d.factor)))).toEqual(bucketsWithSpike);
  });

  it('keeps the spike peak and the reset trough of a voltage trace at their true steps', () => {
    const T = 4000;
    const u = Array.from({ length: T }, (_, t) => 0.5 + 0.1 * Math.sin(t / 50));
    u[1234] = 1.7; // peak
    u[1235] = -0.4; // reset trough right after
    const d = decimateMinMax(u, 200);
    const iPeak = d.x.indexOf(1234);
    const iTrough = d.x.indexOf(1235);
    expect(iPeak).toBeGreaterThanOrEqual(0);
    expect(d.y[iPeak]).toBeCloseTo(1.7);
    expect(iTrough).toBeGreaterThanOrEqual(0);
    expect(d.y[iTrough]).toBeCloseTo(-0.4);
  });

  it('property: within budget, ascending steps, and each bucket keeps its true min and max', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 600 }),
        fc.integer({ min: 2, max: 100 }),
        (arr, maxPoints) => {
          const d = decimateMinMax(arr, maxPoints);
          expect(d.x.length).toBeLessThanOrEqual(maxPoints);
          for (let i = 1; i < d.x.length; i++) expect(d.x[i]).toBeGreaterThan(d.x[i - 1]);
          for (let i = 0; i < d.x.length; i++) expect(Object.is(d.y[i], arr[d.x[i]])).toBe(true);
          expect(Math.max(...d.y) === Math.max(...arr)).toBe(true);
          expect(Math.min(...d.y) === Math.min(...arr)).toBe(true);
          if (d.factor > 1) {
            for (let start = 0; start < arr.length; start += d.factor) {
              const bucket = arr.slice(start, start + d.factor);
              const ys = d.y.filter((_, i) => d.x[i] >= start && d.x[i] < start + d.factor);
              expect(Math.max(...ys) === Math.max(...bucket)).toBe(true);
              expect(Math.min(...ys) === Math.min(...bucket)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a budget below 2 points with a ParameterError naming maxPoints', () => {
    expect(() => decimateMinMax([1, 2, 3], 1)).toThrow(ParameterError);
    expect(() => decimateMinMax([1, 2, 3], 1)).toThrow(/maxPoints/);
  });
});

describe('decimateStride', () => {
  it('takes every k-th step and says so', () => {
    const d = decimateStride(Array.from({ length: 100 }, (_, i) => i), 25);
    expect(d.factor).toBe(4);
    expect(d.x).toEqual(Array.from({ length: 25 }, (_, i) => 4 * i));
    expect(d.note).toBe('every 4th step shown');
  });
  it('ordinal suffixes', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st', '111th']);
  });
});

describe('spike steps and raster marks', () => {
  it('spikeSteps lists the steps of every spike', () => {
    expect(spikeSteps(new Float32Array([0, 1, 0, 0, 1, 1]))).toEqual([1, 4, 5]);
  });

  it('keeps exact spike times when under the budget', () => {
    const m = rasterMarks([[1, 5], [2]], [10, 11], 10);
    expect(m).toMatchObject({ steps: [1, 5, 2], neurons: [10, 10, 11], binSteps: 1, spikeCount: 3, note: '' });
  });

  it('bins time when over the budget, says so, and keeps every active neuron', () => {
    const lists = Array.from({ length: 50 }, (_, j) => Array.from({ length: 100 }, (_, k) => k * 10 + (j % 10)));
    const m = rasterMarks(lists, lists.map((_, j) => j), 1000);
    expect(m.spikeCount).toBe(5000);
    expect(m.steps.length).toBeLessThanOrEqual(1000);
    expect(m.binSteps).toBeGreaterThan(1);
    expect(m.note).toBe(`spikes binned over ${m.binSteps} steps (a mark = at least one spike in the bin)`);
    expect(new Set(m.neurons).size).toBe(50);
    for (const t of m.steps) expect(t % m.binSteps).toBe(0);
  });
});
