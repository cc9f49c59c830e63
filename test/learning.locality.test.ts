/**
 * Locality: what a forward-only rule does to layer ℓ never depends on anything above ℓ (no hook
 * reads the loss, the weights or the activity of a later layer). Checked by training one batch
 * from the same state twice, the second time with every parameter above layer 0 (later hidden
 * layers, the readout) replaced by other random values: layer 0's new weights must be
 * bit-identical. The backprop baselines are the labelled exception, and the same check catches
 * them: it is what makes a rule that reads another layer's loss fail.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { createRule } from '../src/learning/index.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();
const K = 8, C = 3, B = 6;

/** Layer 0's weights after one batch, from the rule's initial state with the parameters above layer 0 as they are or replaced. */
function layer0After(cfg: ExperimentConfig, replaceAbove: boolean): Float32Array {
  const rng = new Rng(5);
  const rule = createRule(cfg, { backend: be, rng, inputSize: K, numClasses: C });
  if (replaceAbove) {
    const other = new Rng(99);
    const s = rule.state();
    for (const k of Object.keys(s)) {
      if (/^(layer[1-9]\d*|readout)\.(W|b|R)$/.test(k)) s[k] = other.fillUniform(new Float32Array(s[k].length), -1, 1);
    }
    rule.loadState(s);
  }
  const x = new Rng(1).fillUniform(new Float32Array(B * K));
  rule.trainBatch(x, Int32Array.from([0, 1, 2, 0, 1, 2]));
  return rule.state()['layer0.W'];
}

const layers = [{ size: 7, params: { beta: 0.9, threshold: 0.5 } }, { size: 5, params: { beta: 0.9, threshold: 0.5 } }, { size: C }];
const base: ExperimentConfig = { dataset: 'synthetic', rule: 'sigprop', mode: 'spiking', layers, steps: 6, optimizer: 'sgd', learningRate: 0.5, ruleParams: { initScale: 3 } };

describe('locality: layer 0 learns the same whatever the layers above it hold', () => {
  const local: [string, ExperimentConfig][] = [
    ['spiking sigprop, surrogate mode', base],
    ['spiking sigprop, voltage mode', { ...base, representation: 'voltage' }],
    ['spiking sigprop, class-signal loss with dropout', { ...base, loss: 'classce', ruleParams: { initScale: 3, dropout: 0.3 } }],
    ['spiking sigprop, recurrent synaptic layers', { ...base, layers: [{ size: 7, model: 'synaptic', recurrent: 'all-to-all' }, { size: 5, model: 'synaptic', recurrent: 'one-to-one' }, { size: C }] }],
    ['rate sigprop', { ...base, mode: 'rate', layers: [{ size: 7 }, { size: 5 }, { size: C }] }],
    ['continuous-time Hebbian sigprop', { ...base, mode: 'continuous', steps: 5, layers: [{ size: 7 }, { size: 5 }, { size: C }] }],
  ];
  for (const [name, cfg] of local) {
    it(name, () => {
      const a = layer0After(cfg, false), b = layer0After(cfg, true);
      expect(Array.from(a)).toEqual(Array.from(b));
    });
  }

  for (const [name, cfg] of [
    ['bptt (backprop through time: non-local by design)', { ...base, rule: 'bptt' }],
    ['bp (backprop MLP: non-local by design)', { ...base, rule: 'bp', mode: 'rate', layers: [{ size: 7 }, { size: 5 }, { size: C }] }],
  ] as [string, ExperimentConfig][]) {
    it(`${name} fails the same check: its layer 0 reads the layers above`, () => {
      const a = layer0After(cfg, false), b = layer0After(cfg, true);
      expect(Array.from(a)).not.toEqual(Array.from(b));
    });
  }
});
