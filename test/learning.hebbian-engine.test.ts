import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { createRule } from '../src/learning/index.js';
import type { HebbianSigprop } from '../src/learning/hebbian.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();

describe('continuous-time Hebbian sigprop on the engine', () => {
  const cfg = (apply: string): ExperimentConfig => ({
    dataset: 'x', rule: 'sigprop', mode: 'continuous', steps: 3, dtMs: 1, targetProjection: 'fixed',
    layers: [{ size: 5, model: 'leaky', params: { tauMs: 4, activation: 'relu' } }, { size: 2 }],
    ruleParams: { eta: 0.1, hebbPre: 'both', hebbPost: 'similarity', hebbApply: apply, temperature: 0.5, predict: 'readout' },
  });

  it("the network's leaky layers use the rule's W and b (no weights of their own)", () => {
    const rule = createRule(cfg('online'), { backend: be, rng: new Rng(5), inputSize: 4, numClasses: 2 }) as HebbianSigprop;
    expect(rule.net.layers.map((l) => l.model.name)).toEqual(['leaky', 'leaky']);
    rule.net.layers.forEach((l, i) => {
      expect(l.w).toBe(rule.layers[i].W.value);
      expect(l.bias).toBe(rule.layers[i].b.value);
      expect(l.params).toEqual(rule.leaky[i]);
    });
    rule.dispose();
  });

  it('online updates change the weights the next step reads; the batch runs as input and target streams', () => {
    const rule = createRule(cfg('online'), { backend: be, rng: new Rng(5), inputSize: 4, numClasses: 2 }) as HebbianSigprop;
    const w0 = be.read(rule.layers[0].W.value);
    const res = rule.trainBatch(new Rng(9).fillUniform(new Float32Array(3 * 4)), [0, 1, 1]);
    expect(Number.isFinite(res.loss)).toBe(true);
    expect(be.read(rule.net.layers[0].w)).not.toEqual(w0);
    expect(rule.net.streams.map((s) => [s.name, s.rows])).toEqual([['input', 3], ['target', 2]]);
    expect(rule.net.t).toBe(3);
    rule.dispose();
  });
});
