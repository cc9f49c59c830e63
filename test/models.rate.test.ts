import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Network } from '../src/engine/network.js';
import { createRule } from '../src/learning/index.js';
import type { RateSigprop } from '../src/learning/sigprop-rate.js';
import { getModel } from '../models/registry.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();

describe("stateless rate model 'rate'", () => {
  it('h = I and a = φ(h) every step, with no memory of the previous step', () => {
    const m = getModel('rate');
    expect(m.voltageVar).toBe('h');
    expect(m.outputVar).toBe('a');
    expect(m.spikeVar).toBeUndefined();
    const p = m.resolve({ activation: 'relu' } as never, 1);
    const st = m.init(be, 1, 3, p);
    m.step(be, p, st, be.fromArray([1, 3], [0.5, -2, 1]));
    m.step(be, p, st, be.fromArray([1, 3], [-1, 3, 0.25]));
    expect(Array.from(st.h.data)).toEqual([-1, 3, 0.25]);
    expect(Array.from(st.a.data)).toEqual([0, 3, 0.25]);
    expect(m.inputResponse?.(p as never)).toEqual({ decays: [0], gain: 1, exact: true });
    expect(() => m.resolve({ tauMs: 3 } as never, 1)).toThrow(/tauMs/);
  });

  it('a one-step network of rate layers is an MLP, and its eligibility trace is the input itself', () => {
    const net = new Network(be, { inputSize: 2, dtMs: 1, inputKind: 'current', layers: [
      { size: 2, model: 'rate', params: { activation: 'relu' }, bias: true },
      { size: 1, model: 'rate', params: { activation: 'identity' } },
    ] }, new Rng(1));
    net.setWeights([{ w: Float32Array.from([1, -1, 0.5, 1]), bias: Float32Array.from([0, 0.5]) }, { w: Float32Array.from([2, 3]) }]);
    net.enableTraces('trace');
    net.reset(1);
    const x = be.fromArray([1, 2], [1, 2]);
    net.step(x);
    net.step(x);
    // h1 = [1 + 1, −1 + 2 + 0.5] = [2, 1.5]; z = 2·2 + 3·1.5 = 8.5
    expect(Array.from(net.layers[0].output().data)).toEqual([2, 1.5]);
    expect(net.layers[1].voltage().data[0]).toBe(8.5);
    expect(Array.from(net.layers[0].trace!.value().data)).toEqual([1, 2]);
    expect(net.layers[0].trace!.biasValue()).toBe(1);
  });

  it("rate sigprop's network layers use the rule's own parameter tensors", () => {
    const rule = createRule(
      { dataset: 'synthetic', rule: 'sigprop', mode: 'rate', layers: [{ size: 5 }, { size: 3 }], learningRate: 0.1 },
      { backend: be, rng: new Rng(3), inputSize: 4, numClasses: 3 },
    ) as RateSigprop;
    const params = [...rule.layers, rule.readout];
    expect(rule.net.layers.map((l) => l.model.name)).toEqual(['rate', 'rate']);
    rule.net.layers.forEach((l, i) => {
      expect(l.w).toBe(params[i].W.value);
      expect(l.bias).toBe(params[i].b.value);
    });
    rule.dispose();
  });
});
