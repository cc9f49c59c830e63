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
import { getModel, registerModel } from '../models/registry.js';

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
    const msgs = issuesOf({ ...minimal, dataset: 'mnsit', surrogate: 'atn', encoder: 'ratee', layers: [{ size: 2, model: 'lifx' }] });
    expect(msgs.some((m) => m.startsWith('dataset = "mnsit" is not valid') && m.includes('mnist'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('surrogate = "atn" is not valid') && m.includes('atan'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('encoder = "ratee" is not valid'))).toBe(true);
    expect(msgs.some((m) => m.includes('layers[0].model = "lifx"') && m.includes('did you mean "lif"'))).toBe(true);
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

/** Warnings resolveConfig reports for `raw` (throws if it is invalid). */
function warningsOf(raw: unknown): string[] {
  const out: string[] = [];
  resolveConfig(raw, 'config', { onWarning: (w) => out.push(w) });
  return out;
}

describe('layer models and parameters are checked at resolution, naming the layer', () => {
  const layer0 = (l: object) => ({ ...minimal, layers: [{ size: 8, ...l }, { size: 2 }] });

  it('a misspelt parameter, with the model and a did-you-mean hint', () => {
    expect(issuesOf(layer0({ params: { betta: 0.9 } }))).toEqual([
      'layers[0].params.betta is not a parameter of model "lif" (did you mean "beta"?); its parameters: beta, tauMs, threshold, reset, resetDelay, vMin',
    ]);
    expect(issuesOf({ ...minimal, mode: 'continuous', layers: [{ size: 8, model: 'leaky', params: { taums: 5 } }, { size: 2 }] })[0])
      .toMatch(/^layers\[0\]\.params\.taums is not a parameter of model "leaky" \(did you mean "tauMs"\?\)/);
  });

  it('a value out of range, with the range from the model\'s own validation', () => {
    expect(issuesOf(layer0({ params: { beta: 1.5 } }))).toEqual([
      'layers[0].params.beta = 1.5 is out of range; layers[0].params.beta must be a finite number with 0 <= value <= 1',
    ]);
    expect(issuesOf(layer0({ params: { threshold: 0 } }))[0]).toMatch(/^layers\[0\]\.params\.threshold = 0 is out of range/);
    expect(issuesOf(layer0({ params: { reset: 'zro' } }))[0]).toMatch(/^layers\[0\]\.params\.reset = "zro" is not allowed; .* one of: subtract, zero, none/);
    expect(issuesOf(layer0({ params: { beta: 0.5, tauMs: 3 } }))[0]).toMatch(/^layers\[0\]\.params \(model "lif"\): beta = 0\.5 and tauMs = 3 ms disagree/);
    // continuous mode: the rule's own defaults (tau 5 ms) take part, as when the run builds the layer
    expect(issuesOf({ ...minimal, mode: 'continuous', dtMs: 10, layers: [{ size: 8, params: { method: 'euler' } }, { size: 2 }] })[0])
      .toMatch(/^layers\[0\]\.params \(model "leaky"\): method 'euler' is unstable for dtMs\/tauMs = 2\.000/);
  });

  it('a model, reset or projection the rule cannot train, and every bad layer at once', () => {
    // a model that does not declare its input response cannot be trained online
    registerModel({ ...getModel('lif'), name: 'lif-no-response', inputResponse: undefined }, true);
    const msgs = issuesOf({ ...minimal, layers: [{ size: 8, model: 'lif-no-response' }, { size: 8, params: { reset: 'zero' } }, { size: 8, params: { beta: -1 } }, { size: 2 }] });
    expect(msgs).toHaveLength(2);
    expect(msgs[0]).toMatch(/^layers\[0\]\.model = "lif-no-response" cannot be used with mode "spiking": online sigprop needs a model that declares how its voltage responds to its input .*and, in surrogate mode, a firing threshold; use model .*"lif"/);
    expect(msgs[1]).toBe('layers[2].params.beta = -1 is out of range; layers[2].params.beta must be a finite number with 0 <= value <= 1');
    // reset to zero: spiking sigprop trains it (its trace is an approximation there); the BPTT baseline refuses it
    expect(issuesOf({ ...minimal, rule: 'bptt', layers: [{ size: 8, params: { reset: 'zero' } }, { size: 2 }] })).toEqual([
      'layers[0].params.reset = "zero" cannot be used with rule "bptt" (backprop through time on spiking layers): the gradient is implemented for reset "subtract" or "none"; use one of those',
    ]);
    expect(issuesOf({ ...minimal, rule: 'bptt', layers: [{ size: 8, model: 'leaky' }, { size: 2 }] })[0]).toMatch(/layers\[0\]\.model = "leaky" cannot be used with rule "bptt".*use model "lif"/);
    expect(issuesOf({ ...minimal, mode: 'continuous', layers: [{ size: 8, model: 'lif' }, { size: 2 }] })[0]).toMatch(/layers\[0\]\.model = "lif" cannot be used with mode "continuous".*use model "leaky"/);
    // BPTT trains LIF, synaptic LIF, Izhikevich and AdEx hidden layers
    expect(issuesOf({ ...minimal, rule: 'bptt', layers: [{ size: 8, model: 'izhikevich' }, { size: 8, model: 'adex' }, { size: 8, model: 'synaptic' }, { size: 2 }] })).toEqual([]);
    // recurrent and delayed projections: hidden layers of spiking sigprop and of bptt
    expect(issuesOf({ ...minimal, layers: [{ size: 8, recurrent: 'all-to-all', delays: 3 }, { size: 2 }] })).toEqual([]);
    expect(issuesOf({ ...minimal, rule: 'bptt', layers: [{ size: 8, recurrent: 'one-to-one' }, { size: 8, delays: 2 }, { size: 2 }] })).toEqual([]);
    expect(issuesOf({ ...minimal, rule: 'bp', layers: [{ size: 8, recurrent: 'all-to-all' }, { size: 2 }] })[0]).toMatch(/^layers\[0\]\.recurrent cannot be used with rule "bp".*does not train them/);
    expect(issuesOf({ ...minimal, mode: 'rate', layers: [{ size: 8, recurrent: 'one-to-one' }, { size: 2 }] })).toEqual([
      'layers[0].recurrent cannot be used with mode "rate" (a non-spiking MLP: no time steps, no spikes): mode "rate" (a non-spiking MLP: no time steps, no spikes) does not train them; use rule "sigprop" (mode "spiking") or "bptt" on a hidden layer',
    ]);
    expect(issuesOf({ ...minimal, layers: [{ size: 8 }, { size: 2, delays: 1 }] })[0]).toMatch(/^layers\[1\]\.delays cannot be used with mode "spiking": the output layer is the readout/);
    expect(issuesOf({ ...minimal, layers: [{ size: 8, recurrent: 'all' }, { size: 2 }] })[0]).toMatch(/layers\[0\]\.recurrent.*all-to-all, one-to-one/);
  });

  it('valid layers pass; rate mode reads no layer models (warned about instead)', () => {
    expect(issuesOf(layer0({ model: 'lif', params: { beta: 0.95, threshold: 1, reset: 'none', vMin: 0 } }))).toEqual([]);
    expect(issuesOf({ ...minimal, mode: 'continuous', layers: [{ size: 8, model: 'leaky', params: { tauMs: 5, activation: 'relu' } }, { size: 2 }] })).toEqual([]);
    expect(issuesOf({ ...layer0({ params: { betta: 2 } }), mode: 'rate' })).toEqual([]);
  });

  it('the continuous-mode layer defaults are the ones the Hebbian rule uses', async () => {
    const { CONTINUOUS_LAYER_DEFAULTS } = await import('../src/config/semantics.js');
    const { HebbianSigprop } = await import('../src/learning/hebbian.js');
    const { ReferenceBackend } = await import('../src/backend/reference.js');
    const { Rng } = await import('../src/rng.js');
    const { getModel } = await import('../models/registry.js');
    const cfg = resolveConfig({ ...minimal, mode: 'continuous', dtMs: 0.5, layers: [{ size: 4 }, { size: 2 }] });
    const rule = new HebbianSigprop(cfg, { backend: new ReferenceBackend(), rng: new Rng(0), inputSize: 2, numClasses: 2 });
    expect(rule.leaky[0]).toEqual(getModel('leaky').resolve({ ...CONTINUOUS_LAYER_DEFAULTS }, 0.5));
  });
});

describe('the output layer against the dataset\'s classes (before loading it)', () => {
  it('fewer output units than classes is an error naming layers[N].size, the dataset and its class count', () => {
    expect(issuesOf({ ...minimal, dataset: 'spike-patterns', layers: [{ size: 8 }, { size: 4 }] })).toEqual([
      'layers[1].size = 4 is fewer than the 10 classes of dataset "spike-patterns"; the last layer is the output and needs one unit per class: set layers[1].size to 10',
    ]);
    expect(issuesOf({ ...minimal, dataset: 'cifar100-coarse', layers: [{ size: 10 }] })[0]).toMatch(/layers\[0\]\.size = 10 is fewer than the 20 classes of dataset "cifar100-coarse"/);
    expect(issuesOf({ ...minimal, dataset: 'fashion', layers: [{ size: 32 }, { size: 9 }] })[0]).toMatch(/the 10 classes of dataset "fashion"/);
  });

  it('parametrised tasks take the class count from datasetParams, and bad datasetParams are caught here too', () => {
    expect(issuesOf({ ...minimal, dataset: 'spike-patterns', datasetParams: { classes: 4 }, layers: [{ size: 8 }, { size: 4 }] })).toEqual([]);
    expect(issuesOf({ ...minimal, dataset: 'spike-patterns', datasetParams: { classes: 12 }, layers: [{ size: 8 }, { size: 10 }] })[0])
      .toBe('layers[1].size = 10 is fewer than the 12 classes of dataset "spike-patterns" (datasetParams.classes); the last layer is the output and needs one unit per class: set layers[1].size to 12');
    expect(issuesOf({ ...minimal, dataset: 'spike-patterns', datasetParams: { clases: 4 } })[0]).toMatch(/^datasetParams = \{"clases":4\} is not valid for dataset "spike-patterns": .*unknown parameter clases; allowed: classes/);
    expect(issuesOf({ ...minimal, dataset: 'mnist', datasetParams: { noise: 1 }, layers: [{ size: 10 }] })[0]).toMatch(/apply only to synthetic tasks/);
  });

  it('more output units than classes is a warning; an unregistered dataset is not checked', () => {
    expect(warningsOf({ ...minimal, layers: [{ size: 8 }, { size: 3 }] })).toEqual([
      'layers[1].size = 3 is more than the 2 classes of dataset "moons"; 1 output unit will never match a label (set it to 2)',
    ]);
    expect(resolveConfig({ ...minimal, dataset: 'mine', layers: [{ size: 1 }] }, 'x', { skipChecks: ['dataset'] }).dataset).toBe('mine');
  });
});

describe('warnings for settings a run ignores', () => {
  it('a surrogate (and other spiking settings) in rate mode', () => {
    expect(warningsOf({ ...minimal, mode: 'rate', surrogate: 'atan', encoder: 'latency', layers: [{ size: 8, params: { beta: 0.9 } }, { size: 2 }] })).toEqual([
      'surrogate = "atan" has no effect: mode "rate" (a non-spiking MLP: no time steps, no spikes) does not use it',
      'encoder = "latency" has no effect: mode "rate" (a non-spiking MLP: no time steps, no spikes) does not use it',
      'layers[0].params = {"beta":0.9} has no effect: mode "rate" (a non-spiking MLP: no time steps, no spikes) has no neuron models; its nonlinearity is ruleParams.activation',
    ]);
  });

  it('only what the config sets, not defaults; nothing for settings the run reads', () => {
    expect(warningsOf({ ...minimal, mode: 'rate' })).toEqual([]);
    expect(warningsOf({ ...minimal, surrogate: 'atan', steps: 10, encoder: 'rate', eligibility: 'instant', layers: [{ size: 8, params: { beta: 0.9 } }, { size: 2 }] })).toEqual([]);
    // re-resolving a resolved config (all defaults present) reports only through onWarning, which the run loop does not pass
    expect(() => resolveConfig(resolveConfig({ ...minimal, mode: 'rate' }))).not.toThrow();
  });

  it('the surrogate in voltage mode, the readout layer\'s parameters, and baselines\' fixed choices', () => {
    expect(warningsOf({ ...minimal, representation: 'voltage', surrogate: 'atan' })).toEqual([
      'surrogate = "atan" has no effect: representation "voltage" puts the loss on the membrane voltage itself, with no surrogate',
    ]);
    expect(warningsOf({ ...minimal, layers: [{ size: 8 }, { size: 2, params: { beta: 0.5 } }] })[0]).toMatch(/^layers\[1\]\.params = \{"beta":0\.5\} has no effect: the output layer is a leaky readout; its decay is ruleParams\.readoutBeta/);
    expect(warningsOf({ ...minimal, rule: 'bp', mode: 'spiking', loss: 'l2' })).toEqual([
      'mode = "spiking" has no effect: rule "bp" is always the rate MLP; for a spiking baseline use rule "bptt"',
      'loss = "l2" has no effect: rule "bp" learns by backprop with softmax cross-entropy, without sigprop\'s local loss or target projection',
    ]);
    expect(warningsOf({ ...minimal, mode: 'continuous', surrogate: 'atan', steps: 5 })).toEqual(['surrogate = "atan" has no effect: mode "continuous" (leaky integrators, no spikes) does not use it']);
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
      const warnings: string[] = [];
      const cfg = resolveConfig(getPreset(name), name, { onWarning: (w) => warnings.push(w) });
      expect(warnings, name).toEqual([]); // a named experiment sets nothing its run ignores
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

describe('inline equation models in layers[i].model', () => {
  const eqlif = { equations: 'dv/dt = (-v + I)/tau', threshold: 'v > vth', reset: 'v -= vth', parameters: { tau: 10, vth: 1 } };

  it('an inline model object resolves and is kept as written; spiking sigprop and bptt train it, bptt refuses a threshold it has no surrogate for', () => {
    const cfg = resolveConfig({ ...minimal, layers: [{ size: 8, model: eqlif }, { size: 2 }] });
    expect(cfg.layers[0].model).toEqual(eqlif);
    expect(issuesOf({ ...minimal, rule: 'bptt', layers: [{ size: 8, model: eqlif }, { size: 2 }] })).toEqual([]);
    expect(issuesOf({ ...minimal, rule: 'bptt', layers: [{ size: 8, model: { ...eqlif, threshold: 'v - vth > 0' } }, { size: 2 }] })[0])
      .toMatch(/^layers\[0\]\.model = an inline equation model \("inline"\) cannot be used with rule "bptt".*the threshold 'v - vth > 0' is not of that form/);
  });

  it('a broken equation or an unknown field is an error naming layers[i].model and the problem', () => {
    const broken = issuesOf({ ...minimal, layers: [{ size: 8 }, { size: 2, model: { ...eqlif, equations: 'dv/dt = (-v + I)/tua' } }] });
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatch(/^layers\[1\]\.model = .* is not valid: equation 'dv\/dt = \(-v \+ I\)\/tua': unknown symbol 'tua'/);
    expect(issuesOf({ ...minimal, layers: [{ size: 8 }, { size: 2, model: { ...eqlif, treshold: 'v > 1' } }] })[0])
      .toMatch(/^layers\[1\]\.model = .* is not valid: "treshold" is not a field of an inline equation model \(did you mean "threshold"\?\)/);
  });
});
