import { describe, expect, it } from 'vitest';
import { getSurrogate, surrogateNames, type Surrogate } from '../surrogates/index.js';

/** x grid [lo, hi] with step `step` (exact multiples, so kinks at nice numbers are hit). */
function grid(lo: number, hi: number, step: number): number[] {
  const n = Math.round((hi - lo) / step);
  return Array.from({ length: n + 1 }, (_, i) => lo + i * step);
}

const H = 1e-6;

/**
 * Points where f' disagrees with the central difference (f(x+h) − f(x−h))/2h beyond
 * 1e-6·(1 + |f'|). Points within 2h of a declared kink of f' are skipped (there the central
 * difference averages two slopes); nothing else is loosened.
 */
function fdMismatches(s: Pick<Surrogate, 'f' | 'df' | 'kinks'>, xs: number[]): string[] {
  const bad: string[] = [];
  for (const x of xs) {
    if (s.kinks.some((k) => Math.abs(x - k) <= 2 * H)) continue;
    const fd = (s.f(x + H) - s.f(x - H)) / (2 * H);
    const d = s.df(x);
    if (!(Math.abs(fd - d) <= 1e-6 * (1 + Math.abs(d)))) bad.push(`x=${x}: df=${d} fd=${fd}`);
  }
  return bad;
}

const EXPECTED = [
  'fastSigmoid', 'atan', 'sigmoid', 'triangular', 'rectangular', 'straightThrough',
  'piecewiseQuadratic', 'piecewiseExp', 'softSign', 'erf', 'spikeRateEscape',
];
const NOT_CDF = new Set(['fastSigmoid', 'spikeRateEscape', 'straightThrough']);

// Defaults plus non-default parameter sets (narrow, wide, shifted).
const SPECS = [
  ...EXPECTED,
  'fastSigmoid:k=3', 'atan:alpha=10', 'atan:alpha=0.3', 'sigmoid:k=4', 'sigmoid:k=100',
  'triangular:width=0.25,gain=0.3', 'rectangular:a=0.2', 'piecewiseQuadratic:alpha=3',
  'piecewiseExp:alpha=5', 'softSign:alpha=25', 'erf:alpha=0.5', 'erf:alpha=8',
  'spikeRateEscape:beta=3,k=2,c=0.5', 'spikeRateEscape:c=1',
];

describe('surrogate families', () => {
  it('registers every required family', () => {
    for (const name of EXPECTED) expect(surrogateNames()).toContain(name);
  });

  it.each(SPECS)('%s: derivative agrees with a central finite difference of the primitive', (spec) => {
    const s = getSurrogate(spec);
    const xs = [...grid(-4, 4, 0.005), ...grid(-10, 10, 0.25)];
    expect(fdMismatches(s, xs)).toEqual([]);
  });

  it('the finite-difference check catches a wrong derivative (fastSigmoid f with the unnormalised snnTorch scale k/2 off)', () => {
    const s = getSurrogate('softSign:alpha=25');
    const wrong = { f: s.f, df: (x: number) => 1 / (1 + 25 * Math.abs(x)) ** 2, kinks: s.kinks };
    expect(fdMismatches(wrong, grid(-1, 1, 0.01)).length).toBeGreaterThan(100);
    const slightlyWrong = { f: s.f, df: (x: number) => 1.001 * s.df(x), kinks: s.kinks };
    expect(fdMismatches(slightlyWrong, grid(-1, 1, 0.01)).length).toBeGreaterThan(100);
  });

  it.each(SPECS)('%s: primitive is continuous at the kinks of its derivative', (spec) => {
    const s = getSurrogate(spec);
    for (const k of s.kinks) expect(Math.abs(s.f(k + 1e-9) - s.f(k - 1e-9))).toBeLessThan(1e-6);
  });

  it.each(SPECS)('%s: primitive is monotone, f\' >= 0, and f tends to its declared limits', (spec) => {
    const s = getSurrogate(spec);
    const xs = [...grid(-20, -4, 0.01), ...grid(-4, 4, 0.0005), ...grid(4, 20, 0.01)];
    const violations: string[] = [];
    let prev = -Infinity;
    for (const x of xs) {
      const v = s.f(x);
      if (!(v >= prev)) violations.push(`f decreases at x=${x}`);
      if (!(s.df(x) >= 0)) violations.push(`f'(${x}) < 0`);
      prev = v;
    }
    expect(violations).toEqual([]);
    const [lo, hi] = s.limits;
    const atMinus = s.f(-1e7);
    const atPlus = s.f(1e7);
    if (Number.isFinite(lo)) expect(Math.abs(atMinus - lo)).toBeLessThan(1e-6 * Math.max(1, Math.abs(lo)));
    else expect(atMinus).toBeLessThan(-1e6);
    if (Number.isFinite(hi)) expect(Math.abs(atPlus - hi)).toBeLessThan(1e-6 * Math.max(1, Math.abs(hi)));
    else expect(atPlus).toBeGreaterThan(1e6);
  });

  it('CDF-like exactly where the family defines limits 0 and 1', () => {
    for (const name of EXPECTED) {
      const s = getSurrogate(name);
      expect(s.cdfLike, name).toBe(!NOT_CDF.has(name));
      if (s.cdfLike) {
        expect(s.limits).toEqual([0, 1]);
        // Symmetric families cross ½ at the threshold.
        expect(s.f(0)).toBeCloseTo(0.5, 12);
      }
    }
  });

  it('matches the snnTorch and SpikingJelly gradient formulas at hand-picked points', () => {
    const fs = getSurrogate('fastSigmoid');
    expect(fs.df(0)).toBe(1);
    expect(fs.df(0.1)).toBeCloseTo(1 / 3.5 ** 2, 14); // 1/(25·0.1 + 1)²
    expect(fs.df(-0.1)).toBeCloseTo(1 / 3.5 ** 2, 14);
    expect(fs.limits[1]).toBeCloseTo(2 / 25, 15);

    const at = getSurrogate('atan');
    expect(at.df(0)).toBe(1); // α/2
    expect(at.df(0.5)).toBeCloseTo(1 / (1 + (Math.PI / 2) ** 2), 14);
    expect(at.f(0.5)).toBeCloseTo(0.5 + Math.atan(Math.PI / 2) / Math.PI, 14);

    const sg = getSurrogate('sigmoid');
    for (const x of [-0.3, -0.05, 0, 0.1, 0.4]) {
      const e = Math.exp(-25 * x);
      expect(sg.df(x)).toBeCloseTo((25 * e) / (e + 1) ** 2, 12); // snnTorch's form
    }
    expect(sg.df(1000)).toBe(0); // no overflow to NaN
    expect(sg.df(-1000)).toBe(0);

    const er = getSurrogate('erf');
    expect(er.df(0)).toBeCloseTo(2 / Math.sqrt(Math.PI), 14);
    expect(er.f(1)).toBeCloseTo(0.5 * (1 + 0.9953222650189527), 14); // erf(2)
    expect(er.f(-3)).toBeCloseTo(0.5 * 2.1519736712498913e-17, 28); // ½·erfc(6), tail kept

    const esc = getSurrogate('spikeRateEscape:c=1');
    for (const x of [-1, 0, 0.5, 1, 2]) expect(esc.df(x)).toBeCloseTo(25 * Math.exp(-Math.abs(x - 1)), 12);
    expect(getSurrogate('spikeRateEscape').df(0)).toBe(25);

    const pq = getSurrogate('piecewiseQuadratic');
    expect(pq.df(0.25)).toBeCloseTo(0.75, 15);
    expect(pq.f(1.5)).toBe(1);
    expect(pq.f(-1.5)).toBe(0);

    const rect = getSurrogate('rectangular:a=0.5');
    expect(rect.df(0.2)).toBe(2);
    expect(rect.df(0.3)).toBe(0);
    expect(rect.f(0.1)).toBeCloseTo(0.7, 15);

    const st = getSurrogate('straightThrough');
    for (const x of [-5, 0, 3]) expect(st.df(x)).toBe(1);
    expect(st.f(0)).toBe(0.5);
  });

  it('documented equivalences between families hold', () => {
    const xs = grid(-3, 3, 0.01);
    const fast = getSurrogate('fastSigmoid:k=7');
    const soft = getSurrogate('softSign:alpha=7');
    const pq = getSurrogate('piecewiseQuadratic:alpha=2.5');
    const tri = getSurrogate('triangular:width=0.4,gain=2.5');
    const esc = getSurrogate('spikeRateEscape:beta=2,k=3');
    const pexp = getSurrogate('piecewiseExp:alpha=2');
    for (const x of xs) {
      expect(fast.df(x)).toBeCloseTo((2 / 7) * soft.df(x), 13);
      expect(fast.f(x)).toBeCloseTo((2 / 7) * soft.f(x), 13);
      expect(pq.df(x)).toBeCloseTo(tri.df(x), 12);
      expect(pq.f(x)).toBeCloseTo(tri.f(x), 12);
      expect(esc.df(x)).toBeCloseTo(3 * pexp.df(x), 12);
      expect(esc.f(x)).toBeCloseTo(3 * pexp.f(x), 12);
    }
  });
});

describe('surrogate families over random parameters (fast-check)', () => {
  it.each(EXPECTED)('%s: f\' matches finite differences of f and f is monotone, for random parameters', async (name) => {
    const fc = await import('fast-check');
    const family = getSurrogate(name).family;
    const paramArb = fc.record(
      Object.fromEntries(
        family.params.map((d) => [
          d.name,
          d.min === undefined ? fc.double({ min: -2, max: 2, noNaN: true }) : fc.double({ min: 0.1, max: 60, noNaN: true }),
        ]),
      ),
    );
    fc.assert(
      fc.property(paramArb, fc.double({ min: -3, max: 3, noNaN: true }), (params, x0) => {
        const s = getSurrogate({ name, params: params as Record<string, number> });
        const xs = [x0, x0 / 10, x0 / 100];
        expect(fdMismatches(s, xs)).toEqual([]);
        for (const x of xs) expect(s.f(x + 1e-3)).toBeGreaterThanOrEqual(s.f(x));
      }),
      { numRuns: 60, seed: 42 },
    );
  });
});
