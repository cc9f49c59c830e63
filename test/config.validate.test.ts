import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, validate, applyDefaults, type ObjectSchema } from '../src/config/schema.js';
import { applyOverrides, loadConfig, resolveConfig, saveResolvedConfig } from '../src/config/resolve.js';
import { closest, editDistance } from '../src/config/didyoumean.js';
import { SigpropError } from '../src/errors.js';
import { getPreset, listPresets } from '../src/config/presets.js';
import { resolveRuleSettings } from '../src/learning/settings.js';

const minimal = { dataset: 'moons', layers: [{ size: 8 }, { size: 2 }], rule: 'sigprop' };

function issuesOf(raw: unknown): string[] {
  try {
    resolveConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => i.message);
  }
  return [];
}

describe('config validation', () => {
  it('accepts a minimal config and fills defaults', () => {
    const cfg = resolveConfig(minimal);
    expect(cfg.epochs).toBe(1);
    expect(cfg.batchSize).toBe(64);
    expect(cfg.seed).toBe(0);
    expect(cfg.mode).toBe('spiking');
    expect(cfg.name).toBe('moons-sigprop');
    expect(cfg.layers).toEqual([{ size: 8 }, { size: 2 }]);
    // input not mutated
    expect(minimal).toEqual({ dataset: 'moons', layers: [{ size: 8 }, { size: 2 }], rule: 'sigprop' });
  });

  it('names field path, value and allowed range for a bad nested number', () => {
    const msgs = issuesOf({ ...minimal, layers: [{ size: 8 }, { size: -3 }] });
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toContain('layers[1].size');
    expect(msgs[0]).toContain('-3');
    expect(msgs[0]).toMatch(/integer >= 1/);
    expect(msgs[0]).toContain('neurons');
  });

  it('rejects unknown fields with a did-you-mean hint', () => {
    const msgs = issuesOf({ ...minimal, learningrate: 0.1, layers: [{ size: 4, modle: 'lif' }] });
    expect(msgs.some((m) => m.includes('learningrate is not a known field') && m.includes('did you mean "learningRate"'))).toBe(true);
    expect(msgs.some((m) => m.includes('layers[0].modle') && m.includes('"layers[0].model"'))).toBe(true);
  });

  it('reports every problem at once, including missing required fields', () => {
    const msgs = issuesOf({ layers: [], rule: 'backprop', epochs: 1.5, batchSize: '64' });
    const text = msgs.join('\n');
    expect(text).toContain('dataset is missing');
    expect(text).toMatch(/layers = \[\] has 0 items/);
    expect(text).toMatch(/rule = "backprop" is not allowed.*one of: sigprop, bp/);
    expect(text).toMatch(/epochs = 1.5 is not an integer/);
    expect(text).toMatch(/batchSize = "64" is a string/);
    expect(msgs.length).toBe(5);
  });

  it('rejects non-objects and bad enum values with suggestions', () => {
    expect(issuesOf([1, 2])[0]).toMatch(/is a list/);
    expect(issuesOf({ ...minimal, optimizer: 'adma' })[0]).toContain('did you mean "adam"');
  });

  it('checks registry names: dataset, surrogate, encoder, model', () => {
    const msgs = issuesOf({ ...minimal, dataset: 'mnsit', surrogate: 'atn', encoder: 'ratee', layers: [{ size: 2, model: 'lfi' }] });
    expect(msgs.some((m) => m.startsWith('dataset = "mnsit" is not valid') && m.includes('mnist'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('surrogate = "atn" is not valid') && m.includes('atan'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('encoder = "ratee" is not valid'))).toBe(true);
    expect(msgs.some((m) => m.includes('layers[0].model = "lfi"') && m.includes('did you mean "lif"'))).toBe(true);
    expect(issuesOf({ ...minimal, surrogate: 'atan:alpha=-1' })[0]).toMatch(/alpha = -1 is out of range/);
    expect(resolveConfig({ ...minimal, dataset: 'mine' }, 'x', { skipChecks: ['dataset'] }).dataset).toBe('mine');
  });

  it('checks cross-field rules', () => {
    expect(issuesOf({ ...minimal, schedule: { milestones: [60, 30], gamma: 0.1 } })[0]).toMatch(/not increasing/);
  });

  it('ConfigError is a SigpropError with code config', () => {
    try {
      resolveConfig({});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SigpropError);
      expect((err as SigpropError).code).toBe('config');
    }
  });
});

describe('config files and overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigprop-cfg-'));

  it('loads a file, reports JSON syntax errors with line and column', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ ...minimal, epochs: 3 }));
    expect(loadConfig(good).epochs).toBe(3);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "dataset": "x",\n  "rule": sigprop\n}');
    expect(() => loadConfig(bad)).toThrow(/bad\.json is not valid JSON at line 3/);
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(/does not exist/);
  });

  it('applies typed overrides and rejects bad ones', () => {
    const cfg = resolveConfig(applyOverrides(minimal, { epochs: '4', learningRate: '0.01', backend: 'reference' }));
    expect(cfg.epochs).toBe(4);
    expect(cfg.learningRate).toBe(0.01);
    expect(cfg.backend).toBe('reference');
    expect(() => applyOverrides(minimal, { epochs: 'many' })).toThrow(/--epochs = "many" is not a number/);
    expect(() => resolveConfig(applyOverrides(minimal, { epochs: '0' }))).toThrow(/epochs = 0 is too small/);
  });

  it('saves the resolved config and it round-trips', () => {
    const cfg = resolveConfig(minimal);
    const path = saveResolvedConfig(join(dir, 'run1'), cfg);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(cfg);
    expect(loadConfig(path)).toEqual(cfg);
  });
});

describe('schema primitives', () => {
  const s: ObjectSchema = {
    type: 'object',
    properties: {
      a: { type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.5 },
      b: { type: 'array', items: { type: 'object', properties: { c: { type: 'boolean', default: true } } } },
      r: { type: 'record', values: { type: 'number' } },
    },
  };
  it('validates ranges, records and fills nested defaults', () => {
    expect(validate(s, { a: 1 })[0].message).toMatch(/a = 1 is too large; a must be a number >= 0 and < 1/);
    expect(validate(s, { r: { x: 1, y: 'z' } })[0].path).toBe('r.y');
    expect(applyDefaults(s, { b: [{}, { c: false }] })).toEqual({ a: 0.5, b: [{ c: true }, { c: false }] });
  });
  it('did-you-mean distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('epoch', ['epochs', 'seed'])).toBe('epochs');
    expect(closest('batch-size', ['batchSize'])).toBe('batchSize');
    expect(closest('zzzzzz', ['epochs', 'seed'])).toBeUndefined();
  });
});

describe('named experiments (src/config/presets.ts)', () => {
  it('every preset resolves and its rule settings validate (ruleParams included)', () => {
    const names = listPresets().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['mnist-lif', 'fashion-lif', 'mnist-lif-voltage', 'fashion-lif-voltage', 'mnist-mlp', 'mnist-ct', 'mnist-ct-online']));
    for (const name of names) {
      const cfg = resolveConfig(getPreset(name));
      expect(cfg.name).toBe(name);
      expect(() => resolveRuleSettings(cfg), name).not.toThrow();
    }
    // the online CT preset is the mnist-ct network with the rule applied at every Euler step
    const online = resolveRuleSettings(resolveConfig(getPreset('mnist-ct-online')));
    expect(online.hebbApply).toBe('online');
    expect(online.sim.normEps).toBe(0.01);
    expect(resolveConfig(getPreset('fashion-lif-voltage')).ruleParams).toEqual({ temperature: 0.1 });
  });
});
