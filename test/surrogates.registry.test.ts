import { describe, expect, it } from 'vitest';
import { ParameterError } from '../src/errors.js';
import {
  formatSurrogateList,
  getSurrogate,
  isBuiltinSurrogate,
  listSurrogates,
  parseSurrogateSpec,
  registerSurrogate,
  surrogateNames,
  type SurrogateFamily,
} from '../surrogates/index.js';
import { atan } from '../surrogates/atan.js';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('parseSurrogateSpec', () => {
  it('parses names and key=value lists', () => {
    expect(parseSurrogateSpec('atan')).toEqual({ name: 'atan', params: {} });
    expect(parseSurrogateSpec(' atan : alpha = 2 ')).toEqual({ name: 'atan', params: { alpha: 2 } });
    expect(parseSurrogateSpec('spikeRateEscape:beta=2,k=1e1;c=-0.5')).toEqual({
      name: 'spikeRateEscape',
      params: { beta: 2, k: 10, c: -0.5 },
    });
  });

  it('keeps commas inside parentheses and non-numeric values as strings', () => {
    expect(parseSurrogateSpec('custom:f=0.5+0.5*min(max(k*x, -1), 1),k=3')).toEqual({
      name: 'custom',
      params: { f: '0.5+0.5*min(max(k*x, -1), 1)', k: 3 },
    });
    expect(parseSurrogateSpec('atan:alpha=abc').params.alpha).toBe('abc');
  });

  it('rejects empty specs, missing names, parts without = and repeated keys', () => {
    for (const bad of ['', '   ', ':alpha=2', 'atan:alpha', 'atan:=2', 'atan:alpha=1,alpha=2']) {
      expect(() => parseSurrogateSpec(bad), bad).toThrow(ParameterError);
    }
    expect(errorOf(() => parseSurrogateSpec('atan:alpha=1,alpha=2')).message).toMatch(/"alpha" twice/);
    expect(errorOf(() => parseSurrogateSpec('atan:alpha')).message).toMatch(/"alpha" is not key=value/);
  });
});

describe('getSurrogate', () => {
  it('resolves strings, objects, aliases (case-insensitive) and passes Surrogates through', () => {
    const a = getSurrogate('atan:alpha=3');
    expect(a.name).toBe('atan');
    expect(a.params).toEqual({ alpha: 3 });
    expect(a.df(0)).toBe(1.5);
    expect(getSurrogate({ name: 'atan', params: { alpha: 3 } }).params).toEqual({ alpha: 3 });
    expect(getSurrogate({ name: 'atan', params: { alpha: '3' } }).params).toEqual({ alpha: 3 });
    expect(getSurrogate(a)).toBe(a);
    const ss = getSurrogate('SuperSpike:k=50');
    expect(ss.name).toBe('fastSigmoid');
    expect(ss.params.k).toBe(50);
    expect(getSurrogate('ARCTAN').name).toBe('atan');
    expect(getSurrogate('ste').name).toBe('straightThrough');
    expect(getSurrogate('piecewiseLinear').name).toBe('triangular');
    expect(getSurrogate('gaussian').name).toBe('erf');
  });

  it('fills defaults and round-trips through the canonical spec for every family', () => {
    for (const name of surrogateNames()) {
      const s = getSurrogate(name);
      for (const d of s.family.params) expect(s.params[d.name]).toBe(d.default);
      const again = getSurrogate(s.spec);
      expect(again.params).toEqual(s.params);
      expect(again.name).toBe(s.name);
      expect(Object.isFrozen(s)).toBe(true);
    }
    expect(getSurrogate('spikeRateEscape:k=10').spec).toBe('spikeRateEscape:beta=1,k=10,c=0');
  });

  it('unknown name: ParameterError listing the known surrogates and aliases', () => {
    const e = errorOf(() => getSurrogate('fastSigmod'));
    expect(e).toBeInstanceOf(ParameterError);
    expect(e.message).toMatch(/unknown surrogate "fastSigmod"/);
    for (const n of surrogateNames()) expect(e.message).toContain(n);
    expect(e.message).toContain('superspike');
  });

  it('unknown parameter: ParameterError naming it and listing the allowed ones with defaults', () => {
    const e = errorOf(() => getSurrogate('atan:slope=2'));
    expect(e).toBeInstanceOf(ParameterError);
    expect(e.message).toMatch(/no parameter "slope"/);
    expect(e.message).toContain('alpha (default 2, > 0)');
    expect(errorOf(() => getSurrogate('straightThrough:k=1')).message).toMatch(/no parameters/);
  });

  it('bad values: ParameterError naming family.parameter and the allowed range', () => {
    const cases: [string, RegExp][] = [
      ['atan:alpha=0', /atan\.alpha = 0 is out of range.*0 < value/],
      ['sigmoid:k=-25', /sigmoid\.k = -25 is out of range/],
      ['atan:alpha=abc', /atan\.alpha = "abc" is not a finite number/],
      ['triangular:width=1,gain=0', /triangular\.gain = 0/],
      ['erf:alpha=Infinity', /erf\.alpha/],
    ];
    for (const [spec, re] of cases) {
      const e = errorOf(() => getSurrogate(spec));
      expect(e, spec).toBeInstanceOf(ParameterError);
      expect(e.message, spec).toMatch(re);
    }
    expect(() => getSurrogate({ name: 'atan', params: { alpha: NaN } })).toThrow(ParameterError);
    expect(() => getSurrogate(42 as unknown as string)).toThrow(ParameterError);
  });
});

describe('listing', () => {
  it('listSurrogates gives name, formulas, defaults and source for every family', () => {
    const list = listSurrogates();
    expect(list.map((s) => s.name)).toEqual(surrogateNames());
    for (const s of list) {
      expect(s.formulaF.length).toBeGreaterThan(0);
      expect(s.formulaDf.length).toBeGreaterThan(0);
      expect(s.sourceNote.length).toBeGreaterThan(0);
      expect(getSurrogate(s.defaultSpec).name).toBe(s.name);
    }
    const at = list.find((s) => s.name === 'atan')!;
    expect(at.params).toEqual([{ name: 'alpha', default: 2, range: '> 0', doc: expect.any(String) }]);
    expect(at.cdfLike).toBe(true);
    expect(list.find((s) => s.name === 'spikeRateEscape')!.limits).toEqual([0, 50]);
  });

  it('formatSurrogateList prints every name, formula and default', () => {
    const text = formatSurrogateList();
    for (const s of listSurrogates()) {
      expect(text).toContain(s.name);
      expect(text).toContain(s.formulaDf);
      for (const p of s.params) expect(text).toContain(`${p.name}=${p.default}`);
    }
    expect(text).toContain('custom:f=');
  });
});

describe('registerSurrogate', () => {
  const half: SurrogateFamily = {
    ...atan,
    name: 'testHalfAtan',
    aliases: ['testHalf'],
    make: (p) => {
      const g = atan.make(p);
      return { f: (x) => 0.5 * g.f(x), df: (x) => 0.5 * g.df(x) };
    },
    limits: () => [0, 0.5],
  };

  it('registers a family that is then selectable by name and alias', () => {
    registerSurrogate(half);
    expect(surrogateNames()).toContain('testHalfAtan');
    expect(getSurrogate('testhalf:alpha=4').df(0)).toBe(1);
    expect(getSurrogate('testHalfAtan').cdfLike).toBe(false);
    registerSurrogate(half); // same object again: no-op
  });

  it('rejects taken names unless replace is set, and the reserved name custom', () => {
    registerSurrogate(half);
    expect(() => registerSurrogate({ ...half })).toThrow(/already registered/);
    expect(() => registerSurrogate({ ...half, name: 'other1', aliases: ['arctan'] })).toThrow(/already used by atan/);
    expect(() => registerSurrogate({ ...half, name: 'custom', aliases: [] })).toThrow(/reserved/);
    expect(() => registerSurrogate({ ...half, name: 'bad name', aliases: [] })).toThrow(ParameterError);
    const replaced = registerSurrogate({ ...half, aliases: [], limits: () => [0, 0.25] }, { replace: true });
    expect(getSurrogate('testHalfAtan').limits).toEqual([0, 0.25]);
    expect(() => getSurrogate('testHalf')).toThrow(/unknown surrogate/); // old alias dropped
    registerSurrogate(half, { replace: true });
    expect(replaced.name).toBe('testHalfAtan');
  });

  it('isBuiltinSurrogate tells native kernels which surrogates they may implement by name', () => {
    for (const name of surrogateNames().filter((n) => !n.startsWith('test'))) expect(isBuiltinSurrogate(getSurrogate(name))).toBe(true);
    expect(isBuiltinSurrogate(getSurrogate('testHalfAtan:alpha=2'))).toBe(false);
    expect(isBuiltinSurrogate(getSurrogate('custom:f=0.5+atan(x)/pi'))).toBe(false);
    expect(isBuiltinSurrogate({ name: 'atan', params: { alpha: 2 }, f: (x) => x, df: () => 1 })).toBe(false);
  });

  it('registers a custom mathjs definition with a parameter range', () => {
    registerSurrogate({
      name: 'testCustomAtan',
      primitive: '0.5 + atan(k*x)/pi',
      params: { k: { default: 3, min: 0, minExclusive: true } },
    });
    const s = getSurrogate('testCustomAtan:k=5');
    expect(s.df(0)).toBeCloseTo(5 / Math.PI, 12);
    expect(s.spec).toBe('testCustomAtan:k=5');
    expect(s.cdfLike).toBe(true);
    expect(() => getSurrogate('testCustomAtan:k=-1')).toThrow(/testCustomAtan\.k = -1 is out of range/);
    expect(() => getSurrogate('testCustomAtan:q=1')).toThrow(/no parameter "q"/);
  });
});
