import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { ParameterError, ShapeError } from '../src/errors.js';
import { Rng } from '../src/rng.js';
import {
  applySurrogate,
  evaluateSurrogate,
  getSurrogate,
  surrogateComparison,
  surrogateNames,
} from '../surrogates/index.js';

const SPECS = [...surrogateNames(), 'atan:alpha=5', 'custom:f=0.5+atan(k*x)/pi;k=3', 'custom:df=exp(-x^2);normalize=1'];

describe('surrogate kernel form (reference backend) agrees with the scalar form', () => {
  const backend = new ReferenceBackend();
  const rng = new Rng(7);
  const threshold = 1;
  // [batch 4, n 64]: membrane voltages around the threshold, plus exact threshold and far tails.
  const uData = rng.fillNormal(new Float32Array(256), threshold, 0.6);
  uData.set([threshold, threshold + 0.5, threshold - 0.5, threshold + 1, threshold - 1, -30, 40, threshold + 1e-3]);

  it.each(SPECS)('%s', (spec) => {
    const u = backend.fromArray([4, 64], uData);
    const outF = backend.tensor([4, 64]);
    const outD = backend.tensor([4, 64]);
    const s = applySurrogate(backend, outF, u, threshold, spec, false);
    applySurrogate(backend, outD, u, threshold, s, true);
    const xs = Array.from(backend.read(u), (v) => v - threshold);
    const f = evaluateSurrogate(s, xs, false);
    const df = evaluateSurrogate(s, xs, true);
    const F = backend.read(outF);
    const D = backend.read(outD);
    for (let i = 0; i < xs.length; i++) {
      // float32 storage: agree to float32 rounding (rtol ~6e-8) of the float64 scalar value
      expect(Math.abs(F[i] - f[i])).toBeLessThanOrEqual(1e-6 * Math.abs(f[i]) + 1e-30);
      expect(Math.abs(D[i] - df[i])).toBeLessThanOrEqual(1e-6 * Math.abs(df[i]) + 1e-30);
    }
    // and the values are not trivially zero: the derivative peaks near the threshold
    expect(Math.max(...D)).toBeGreaterThan(0);
  });

  it('threshold shifts the argument: f(u − θ)', () => {
    const u = backend.fromArray([3], [0.2, 0.7, 1.2]);
    const out = backend.tensor([3]);
    applySurrogate(backend, out, u, 0.7, 'atan', true);
    const at = getSurrogate('atan');
    expect(Array.from(backend.read(out))).toEqual([at.df(Math.fround(0.2) - 0.7), 1, at.df(Math.fround(1.2) - 0.7)].map(Math.fround));
  });

  it('rejects mismatched sizes and bad specs', () => {
    expect(() => applySurrogate(backend, backend.tensor([3]), backend.tensor([4]), 1, 'atan', true)).toThrow(ShapeError);
    expect(() => applySurrogate(backend, backend.tensor([3]), backend.tensor([3]), 1, 'nope', true)).toThrow(ParameterError);
  });
});

describe('surrogateComparison', () => {
  it('gives every registered surrogate on the default grid [−2, 2], 401 points', () => {
    const c = surrogateComparison();
    expect(c.x).toHaveLength(401);
    expect(c.x[0]).toBe(-2);
    expect(c.x[200]).toBe(0);
    expect(c.x[400]).toBe(2);
    expect(c.x[1]).toBe(-1.99);
    expect(c.surrogates.map((s) => s.name)).toEqual(surrogateNames());
    for (const s of c.surrogates) {
      expect(s.f).toHaveLength(401);
      expect(s.df).toHaveLength(401);
      const g = getSurrogate(s.spec);
      expect(s.f[300]).toBe(g.f(1));
      expect(s.df[150]).toBe(g.df(-0.5));
      expect(s.formula.df).toBe(g.formulaDf);
      expect(s.scale).toBe(1);
    }
    const st = c.surrogates.find((s) => s.name === 'straightThrough')!;
    expect(st.limits).toEqual([null, null]);
  });

  it('is JSON-ready (round-trips unchanged, no NaN or Infinity)', () => {
    const c = surrogateComparison({ points: 51 });
    const text = JSON.stringify(c);
    expect(JSON.parse(text)).toEqual(c);
    for (const s of c.surrogates) for (const v of [...s.f, ...s.df]) expect(Number.isFinite(v)).toBe(true);
  });

  it('takes specs and a custom grid; normalize maps finite-limit primitives onto [0, 1]', () => {
    const c = surrogateComparison({ xMin: -1, xMax: 3, points: 5, names: ['atan:alpha=4', 'spikeRateEscape', 'ste'], normalize: true });
    expect(c.x).toEqual([-1, 0, 1, 2, 3]);
    expect(c.surrogates.map((s) => s.spec)).toEqual(['atan:alpha=4', 'spikeRateEscape:beta=1,k=25,c=0', 'straightThrough']);
    const esc = c.surrogates[1];
    expect(esc.scale).toBe(50);
    expect(esc.f[1]).toBeCloseTo(0.5, 14);
    expect(esc.df[1]).toBeCloseTo(0.5, 14);
    expect(c.surrogates[2].scale).toBe(1);
    expect(c.surrogates[2].f).toEqual([-0.5, 0.5, 1.5, 2.5, 3.5]);
  });

  it('validates its options', () => {
    expect(() => surrogateComparison({ points: 1 })).toThrow(/points = 1 is out of range/);
    expect(() => surrogateComparison({ points: 2.5 })).toThrow(/not an integer/);
    expect(() => surrogateComparison({ xMin: 1, xMax: 1 })).toThrow(/xMax = 1 must be greater than xMin = 1/);
    expect(() => surrogateComparison({ names: ['bogus'] })).toThrow(/unknown surrogate "bogus"/);
  });
});
