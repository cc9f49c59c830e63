import { describe, expect, it } from 'vitest';
import { ParameterError } from '../src/errors.js';
import { customSurrogate, getSurrogate } from '../surrogates/index.js';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

function maxFdError(s: { f(x: number): number; df(x: number): number }, lo = -5, hi = 5): number {
  let worst = 0;
  for (let x = lo + 0.0071; x < hi; x += 0.013) {
    const h = 1e-5;
    const fd = (s.f(x + h) - s.f(x - h)) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - s.df(x)) / (1 + Math.abs(s.df(x))));
  }
  return worst;
}

describe('custom surrogates: primitive given, derivative derived symbolically', () => {
  it('derives the arctan derivative', () => {
    const s = customSurrogate({ name: 'c1', primitive: '0.5 + atan(k*x)/pi', params: { k: 3 } });
    for (const x of [-2, -0.3, 0, 0.1, 1.7]) expect(s.df(x)).toBeCloseTo(3 / (Math.PI * (1 + 9 * x * x)), 13);
    expect(s.formulaDf).toMatch(/k/);
    expect(s.cdfLike).toBe(true);
    expect(s.source).toBe('custom');
  });

  it('derives through abs(): the fast-sigmoid primitive gives soft-sign\'s derivative, finite at 0', () => {
    const s = customSurrogate({ name: 'c2', primitive: '0.5 + 0.5*k*x/(1 + k*abs(x))', params: { k: 25 } });
    const soft = getSurrogate('softSign:alpha=25');
    for (const x of [-1, -0.04, 0, 0.013, 0.5]) expect(s.df(x)).toBeCloseTo(soft.df(x), 12);
    // (k/2)/(1+k|x|)²: the snnTorch gradient times k/2, as documented in rational.ts
    expect(s.df(0)).toBeCloseTo(12.5, 12);
  });

  it('parameter overrides re-evaluate the derived derivative', () => {
    const s = customSurrogate({ name: 'c3', primitive: '1/(1+exp(-k*x))', params: { k: 1 } }, { k: 10 });
    expect(s.df(0)).toBeCloseTo(2.5, 12);
    expect(maxFdError(s)).toBeLessThan(1e-6);
  });

  it('accepts a primitive and a matching derivative, rejects a mismatching one', () => {
    const ok = customSurrogate({ name: 'c4', primitive: 'tanh(x)/2 + 0.5', derivative: '(1 - tanh(x)^2)/2' });
    expect(ok.df(0)).toBeCloseTo(0.5, 14);
    const e = errorOf(() => customSurrogate({ name: 'c5', primitive: 'tanh(x)/2 + 0.5', derivative: '1 - tanh(x)^2' }));
    expect(e).toBeInstanceOf(ParameterError);
    expect(e.message).toMatch(/derivative "1 - tanh\(x\) \^ 2" disagrees with a central finite difference/);
  });
});

describe('custom surrogates: derivative alone, primitive integrated from −10', () => {
  it('integrates a Gaussian to the erf primitive (F(−10) = 0, area √π without normalisation)', () => {
    const s = customSurrogate({ name: 'g1', derivative: 'exp(-x^2)' });
    const erf1 = getSurrogate('erf:alpha=1');
    const root = Math.sqrt(Math.PI);
    for (const x of [-9.99, -3, -0.5, 0, 0.77, 2, 9.5]) expect(s.f(x)).toBeCloseTo(root * erf1.f(x), 11);
    expect(s.f(-10)).toBe(0);
    expect(s.limits[0]).toBe(0);
    expect(s.limits[1]).toBeCloseTo(root, 9);
    expect(s.cdfLike).toBe(false);
    expect(maxFdError(s, -9.9, 9.9)).toBeLessThan(1e-7);
  });

  it('normalize divides f and f\' by the area, giving a CDF-like surrogate', () => {
    const s = customSurrogate({ name: 'g2', derivative: 'exp(-x^2)', normalize: true });
    const erf1 = getSurrogate('erf:alpha=1');
    for (const x of [-3, -0.5, 0, 0.77, 2]) {
      expect(s.f(x)).toBeCloseTo(erf1.f(x), 11);
      expect(s.df(x)).toBeCloseTo(erf1.df(x), 12);
    }
    expect(s.cdfLike).toBe(true);
    expect(s.formulaDf).toMatch(/area/);
  });

  it('integrates beyond [−10, 10] with heavy tails (Cauchy: F(∞) = π − atan(10)… )', () => {
    const s = customSurrogate({ name: 'g3', derivative: '1/(1+x^2)' });
    expect(s.f(30)).toBeCloseTo(Math.atan(30) + Math.atan(10), 9);
    expect(s.f(-30)).toBeCloseTo(Math.atan(-30) + Math.atan(10), 9);
    expect(s.limits[1]).toBeCloseTo(Math.PI / 2 + Math.atan(10), 5);
  });

  it('integrates a piecewise derivative (conditional) with its kinks declared', () => {
    const s = customSurrogate({ name: 'g4', derivative: 'abs(x) < 0.5 ? 1 : 0', kinks: [-0.5, 0.5] });
    const rect = getSurrogate('rectangular');
    for (const x of [-11, -1, -0.25, 0, 0.3, 2, 12]) expect(s.f(x)).toBeCloseTo(rect.f(x), 2);
    expect(s.kinks).toEqual([-0.5, 0.5]);
  });
});

describe('custom surrogates: rejection', () => {
  const cases: [string, Parameters<typeof customSurrogate>[0], RegExp][] = [
    ['free symbol', { name: 'r1', primitive: '0.5 + atan(y*x)/pi' }, /primitive "0\.5 \+ atan\(y\*x\)\/pi" uses the free symbol "y"/],
    ['undeclared parameter in derivative', { name: 'r2', derivative: 'k*exp(-x^2)', params: { a: 1 } }, /free symbol "k".*declared parameters \(a\)/],
    ['pole in the derived derivative', { name: 'r3', primitive: '-1/x' }, /derived derivative .* is not finite at x = 0/],
    ['complex values', { name: 'r4', primitive: 'sqrt(x)' }, /not finite at x = -10/],
    ['pole in a given derivative', { name: 'r5', derivative: 'log(abs(x))' }, /derivative "log\(abs\(x\)\)" is not finite at x = 0/],
    ['overflow on [−10, 10]', { name: 'r6', derivative: 'exp(x^3)' }, /not finite at x = 8\.9/],
    ['unknown function', { name: 'r7', primitive: 'foo(x)' }, /unknown function foo\(\)/],
    ['assignment', { name: 'r8', primitive: 'x = 3' }, /AssignmentNode/],
    ['unparsable', { name: 'r9', primitive: '0.5 + (x' }, /cannot parse primitive "0\.5 \+ \(x"/],
    ['not differentiable by mathjs', { name: 'r10', primitive: 'x > 0 ? 1 : 0' }, /cannot differentiate primitive "x > 0 \? 1 : 0".*give the derivative too/],
    ['nothing given', { name: 'r11' }, /needs a primitive \(f\) or a derivative \(df\)/],
    ['normalize with primitive', { name: 'r12', primitive: 'x', normalize: true }, /normalize applies only/],
    ['bad parameter name', { name: 'r13', primitive: 'x', params: { pi: 1 } }, /parameter name "pi" is not allowed/],
    ['normalise zero area', { name: 'r14', derivative: 'x', normalize: true }, /cannot normalise/],
  ];
  it.each(cases)('%s', (_label, def, re) => {
    const e = errorOf(() => customSurrogate(def));
    expect(e).toBeInstanceOf(ParameterError);
    expect(e.message).toMatch(re);
  });

  it('re-checks finiteness when a parameter value makes the derivative blow up', () => {
    const def = { name: 'r20', primitive: 'x/(k + abs(x))', params: { k: 1 } };
    expect(customSurrogate(def).df(0)).toBeCloseTo(1, 12);
    expect(() => customSurrogate(def, { k: 0 })).toThrow(/not finite at x = 0.*with k=0/);
  });
});

describe('custom surrogates from the string form', () => {
  it("'custom:f=…' with a parameter, round-tripping through its spec", () => {
    const s = getSurrogate('custom:f=0.5+atan(k*x)/pi;k=3');
    expect(s.df(0)).toBeCloseTo(3 / Math.PI, 12);
    expect(s.spec).toBe('custom:f=0.5+atan(k*x)/pi;k=3');
    expect(getSurrogate(s.spec).df(0.2)).toBe(s.df(0.2));
  });

  it("'custom:df=…' and commas inside function calls", () => {
    const s = getSurrogate('custom:df=max(0, 1-abs(x));k=2');
    expect(s.f(1)).toBeCloseTo(1, 10);
    expect(s.params).toEqual({ k: 2 });
    const n = getSurrogate('custom:df=exp(-x^2);normalize=1');
    expect(n.cdfLike).toBe(true);
  });

  it('rejects non-numeric extra keys and bad expressions with ParameterError', () => {
    expect(() => getSurrogate('custom:f=x;k=abc')).toThrow(/custom surrogate parameter k = "abc" is not a number/);
    expect(() => getSurrogate('custom:f=z*x')).toThrow(/free symbol "z"/);
    expect(() => getSurrogate('custom:k=2')).toThrow(/needs a primitive/);
  });
});
