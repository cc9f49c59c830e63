import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Network } from '../src/engine/network.js';
import { ShapeError, ParameterError } from '../src/errors.js';
import { Rng } from '../src/rng.js';
import { getModel } from '../models/registry.js';
import type { NeuronModel } from '../models/model.js';

const be = new ReferenceBackend();

function randomSpikes(rng: Rng, n: number, p: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform() < p ? 1 : 0;
  return a;
}

/** Dense host matmul x[B,K]·W[K,N] in float64, the independent oracle. */
function hostMatmul(x: Float32Array, w: Float32Array, B: number, K: number, N: number): Float64Array {
  const o = new Float64Array(B * N);
  for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) o[b * N + n] += x[b * K + k] * w[k * N + n];
  return o;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i] - b[i]) > tol * Math.max(1, Math.abs(b[i]))) {
      throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
    }
  }
}

describe('event-driven propagation', () => {
  it('spikeMatmul equals dense matmul on random sparse spikes (kernel)', () => {
    const rng = new Rng(1);
    for (const p of [0, 0.02, 0.1, 0.5, 1]) {
      const B = 5, K = 40, N = 13;
      const s = be.fromArray([B, K], randomSpikes(rng, B * K, p));
      const w = be.fromArray([K, N], rng.fillNormal(new Float32Array(K * N)));
      const dense = be.tensor([B, N]);
      const ev = be.tensor([B, N]);
      be.fill(ev, 123); // beta 0 must overwrite stale values
      be.matmul(dense, s, w);
      be.spikeMatmul(ev, s, w, 0);
      expectClose(ev.data, dense.data);
      expectClose(ev.data, hostMatmul(s.data, w.data, B, K, N));
    }
  });

  it('an event-driven layer and a dense layer give the same input current and voltages', () => {
    const mk = (propagation: 'event' | 'dense') =>
      new Network(be, { inputSize: 30, dtMs: 1, layers: [{ size: 8, model: 'lif', propagation, bias: true }] }, new Rng(7));
    const a = mk('event'), b = mk('dense');
    expect(a.layers[0].eventDriven).toBe(true);
    expect(b.layers[0].eventDriven).toBe(false);
    a.reset(3); b.reset(3);
    const rng = new Rng(2);
    for (let t = 0; t < 20; t++) {
      const x = be.fromArray([3, 30], randomSpikes(rng, 90, 0.15));
      a.step(x); b.step(x);
      expectClose(a.layers[0].inputCurrent().data, b.layers[0].inputCurrent().data);
      expectClose(a.layers[0].voltage().data, b.layers[0].voltage().data);
    }
  });

  it('auto propagation: event-driven for spike input, dense for current input and after rate models', () => {
    const spk = new Network(be, { inputSize: 4, dtMs: 1, layers: [{ size: 3 }, { size: 2 }] }, new Rng(0));
    expect(spk.layers.map((l) => l.eventDriven)).toEqual([true, true]);
    expect(spk.describe()).toBe('4-3(lif)-2(lif) dt=1ms input=spikes');
    const cur = new Network(be, { inputSize: 4, dtMs: 1, inputKind: 'current', layers: [{ size: 3 }, { size: 2 }] }, new Rng(0));
    expect(cur.layers.map((l) => l.eventDriven)).toEqual([false, true]);
  });
});

describe('kernel choice', () => {
  it('spike input goes through spikeMatmul, current input through matmul', () => {
    const calls: string[] = [];
    const spy = new Proxy(be, {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv);
        if (prop === 'matmul' || prop === 'spikeMatmul') return (...args: unknown[]) => { calls.push(prop); return (v as (...a: unknown[]) => unknown).apply(target, args); };
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as ReferenceBackend;
    const net = new Network(spy, { inputSize: 4, dtMs: 1, inputKind: 'current', layers: [{ size: 3 }, { size: 2 }] }, new Rng(0));
    net.reset(1);
    net.step(spy.fromArray([1, 4], [0.5, 0.1, 0, 1]));
    expect(calls).toEqual(['matmul', 'spikeMatmul']);
  });
});

describe('determinism', () => {
  it('the same seed gives the same spikes; another seed does not', async () => {
    const { createEncoder } = await import('../src/encoders.js');
    const sim = (seed: number) => {
      const rng = new Rng(seed);
      const net = new Network(be, { inputSize: 20, dtMs: 1, layers: [{ size: 10, weightScale: 3 }] }, rng.fork());
      const enc = createEncoder('rate', { rng: rng.fork() });
      enc.setInput(new Float32Array(40).fill(0.4), 2, 20);
      net.reset(2);
      const out: number[] = [];
      net.run({ steps: 20, encoder: enc, onStep: (_t, n) => out.push(...n.layers[0].output().data) });
      return out;
    };
    const a = sim(1);
    expect(a.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    expect(sim(1)).toEqual(a);
    expect(sim(2)).not.toEqual(a);
  });
});

describe('Network with an LIF layer', () => {
  it('gives the same voltages as hand-stepping lifStep on x·W', () => {
    const rng = new Rng(11);
    const net = new Network(be, { inputSize: 6, dtMs: 1, layers: [{ size: 4, model: 'lif', params: { beta: 0.8, threshold: 0.5 } }] }, rng);
    const B = 2;
    net.reset(B);
    const lif = getModel('lif');
    const p = lif.resolve({ beta: 0.8, threshold: 0.5 }, 1);
    const state = lif.init(be, B, 4, p);
    const w = be.read(net.layers[0].w);
    const xr = new Rng(3);
    let spikes = 0;
    for (let t = 0; t < 30; t++) {
      const xs = randomSpikes(xr, B * 6, 0.4);
      net.step(be.fromArray([B, 6], xs));
      const cur = be.fromArray([B, 4], hostMatmul(xs, w, B, 6, 4));
      lif.step(be, p, state, cur);
      expectClose(net.layers[0].voltage().data, state.u.data);
      expect(Array.from(net.layers[0].output().data)).toEqual(Array.from(state.s.data));
      spikes += be.sum(state.s);
    }
    expect(spikes).toBeGreaterThan(0); // the comparison covered resets
    expect(net.t).toBe(30);
  });

  it('passes spikes of layer i to layer i+1 in the same step', () => {
    const net = new Network(be, { inputSize: 1, dtMs: 1, layers: [{ size: 1, params: { beta: 0, threshold: 0.5 } }, { size: 1, params: { beta: 0, threshold: 0.5 } }] }, new Rng(0));
    net.setWeights([{ w: new Float32Array([1]) }, { w: new Float32Array([2]) }]);
    net.reset(1);
    net.step(be.fromArray([1, 1], [1]));
    expect(net.layers[0].output().data[0]).toBe(1);
    expect(net.layers[1].voltage().data[0]).toBeCloseTo(2);
    expect(net.layers[1].output().data[0]).toBe(1);
  });

  it('reset puts the state back at rest without reallocating for the same batch', () => {
    const net = new Network(be, { inputSize: 3, dtMs: 1, layers: [{ size: 2 }] }, new Rng(0));
    net.reset(2);
    const u = net.layers[0].voltage();
    net.step(be.fromArray([2, 3], [1, 1, 1, 1, 1, 1]));
    expect(be.sumSquares(u)).toBeGreaterThan(0);
    net.reset(2);
    expect(net.layers[0].voltage()).toBe(u);
    expect(be.sumSquares(u)).toBe(0);
    expect(net.t).toBe(0);
    net.reset(4);
    expect(net.layers[0].voltage().shape).toEqual([4, 2]);
  });
});

describe('rate models', () => {
  it("a 'leaky' layer outputs its activity a and feeds the next layer densely", () => {
    const net = new Network(be, { inputSize: 3, dtMs: 1, inputKind: 'current', layers: [{ size: 4, model: 'leaky' }, { size: 2 }] }, new Rng(4));
    expect(net.layers[0].outputVar).toBe('a');
    expect(net.layers[0].eventDriven).toBe(false);
    expect(net.layers[1].eventDriven).toBe(false);
    net.reset(2);
    net.step(be.fromArray([2, 3], [1, 0.5, -0.2, 0.3, 0.9, 1]));
    expect(net.layers[0].output()).toBe(net.layers[0].state.a);
    const a = be.read(net.layers[0].output()), w = be.read(net.layers[1].w);
    expectClose(net.layers[1].inputCurrent().data, hostMatmul(a, w, 2, 4, 2));
  });
});

describe('weights', () => {
  it('seeded init is deterministic and uniform within ±scale/sqrt(in)', () => {
    const spec = { inputSize: 100, dtMs: 1, layers: [{ size: 50, weightScale: 2 }] };
    const a = new Network(be, spec, new Rng(5)).getWeights();
    const b = new Network(be, spec, new Rng(5)).getWeights();
    const c = new Network(be, spec, new Rng(6)).getWeights();
    expect(Array.from(a.layers[0].w)).toEqual(Array.from(b.layers[0].w));
    expect(Array.from(a.layers[0].w)).not.toEqual(Array.from(c.layers[0].w));
    const w = a.layers[0].w;
    let max = 0, mean = 0;
    for (const v of w) { max = Math.max(max, Math.abs(v)); mean += v / w.length; }
    expect(max).toBeLessThanOrEqual(0.2);
    expect(max).toBeGreaterThan(0.19);
    expect(Math.abs(mean)).toBeLessThan(0.01);
  });

  it('getWeights/setWeights round-trip and reject wrong shapes', () => {
    const spec = { inputSize: 5, dtMs: 1, layers: [{ size: 4, bias: true }, { size: 3 }] };
    const a = new Network(be, spec, new Rng(1));
    const b = new Network(be, spec, new Rng(2));
    b.setWeights(a.getWeights());
    expect(Array.from(b.getWeights().layers[0].bias!)).toEqual(Array.from(a.getWeights().layers[0].bias!));
    expect(Array.from(b.getWeights().layers[1].w)).toEqual(Array.from(a.getWeights().layers[1].w));
    expect(() => b.setWeights([a.getWeights().layers[0]])).toThrow(ShapeError);
    expect(() => b.layers[1].setWeights({ w: new Float32Array(11) })).toThrow(/layer1: weights have 11 values but W \[4, 3\]/);
  });
});

describe('errors', () => {
  it('shape mismatches throw ShapeError naming the tensors', () => {
    const net = new Network(be, { inputSize: 5, dtMs: 1, layers: [{ size: 4 }] }, new Rng(1));
    expect(() => net.step(be.tensor([2, 5]))).toThrow(/reset/);
    net.reset(2);
    expect(() => net.step(be.tensor([2, 6]))).toThrow(ShapeError);
    expect(() => net.step(be.tensor([2, 6]))).toThrow(/input x has shape \[2, 6\] but \[2, 5\]/);
    expect(() => net.layers[0].step(be.tensor([3, 5]), 0)).toThrow(/layer0: input x has shape \[3, 5\] but \[2, 5\].*W \[5, 4\]/);
    expect(() => new Network(be, { inputSize: 5, dtMs: 1, layers: [{ size: 4, delays: [1, 2] }] }, new Rng(1))).toThrow(/layer0\.delays has 2 entries.*\[5, 4\]/);
  });

  it('bad parameters throw ParameterError naming the parameter', () => {
    expect(() => new Network(be, { inputSize: 0, dtMs: 1, layers: [{ size: 4 }] }, new Rng(1))).toThrow(/inputSize/);
    expect(() => new Network(be, { inputSize: 3, dtMs: 0, layers: [{ size: 4 }] }, new Rng(1))).toThrow(/dtMs/);
    expect(() => new Network(be, { inputSize: 3, dtMs: 1, layers: [] }, new Rng(1))).toThrow(ParameterError);
    expect(() => new Network(be, { inputSize: 3, dtMs: 1, layers: [{ size: 2.5 }] }, new Rng(1))).toThrow(/layer0\.size/);
    expect(() => new Network(be, { inputSize: 3, dtMs: 1, layers: [{ size: 2, model: 'nope' }] }, new Rng(1))).toThrow(/model/);
    expect(() => new Network(be, { inputSize: 3, dtMs: 1, layers: [{ size: 2, params: { beta: 2 } }] }, new Rng(1))).toThrow(/beta/);
    expect(() => new Network(be, { inputSize: 3, dtMs: 1, layers: [{ size: 2, propagation: 'x' as never }] }, new Rng(1))).toThrow(/propagation/);
  });
});

describe('run', () => {
  it('calls input, recorders and onStep once per step with the step index', () => {
    const net = new Network(be, { inputSize: 2, dtMs: 1, layers: [{ size: 2 }] }, new Rng(1));
    net.reset(1);
    const seen: number[] = [], rec: number[] = [], x = be.fromArray([1, 2], [1, 0]);
    net.run({ steps: 4, input: (t) => { seen.push(t); return x; }, recorder: { record: (t) => rec.push(t) }, onStep: (t, n) => expect(n.t).toBe(t + 1) });
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(rec).toEqual([0, 1, 2, 3]);
    expect(() => net.run({ steps: 1 })).toThrow(/exactly one/);
  });

  it('accepts a custom model object through the NeuronModel contract', () => {
    // A rate model with no spikeVar: output is its voltage; next layer is dense.
    const relu: NeuronModel<{ dtMs: number }> = {
      name: 'relu-test', stateVars: ['h'], voltageVar: 'h',
      resolve: (_p, dtMs) => ({ dtMs }),
      init: (b, batch, n) => ({ h: b.tensor([batch, n]) }),
      step: (_b, _p, st, input) => { const h = st.h.data, i = input.data; for (let k = 0; k < h.length; k++) h[k] = Math.max(0, i[k]); },
    };
    const net = new Network(be, { inputSize: 2, dtMs: 1, inputKind: 'current', layers: [{ size: 2, model: relu }, { size: 1, model: relu }] }, new Rng(1));
    expect(net.layers[1].eventDriven).toBe(false);
    net.setWeights([{ w: new Float32Array([1, -1, 1, 1]) }, { w: new Float32Array([2, 3]) }]);
    net.reset(1);
    net.step(be.fromArray([1, 2], [0.5, 0.25]));
    // h1 = relu([0.5+0.25, -0.5+0.25]) = [0.75, 0]; h2 = 2·0.75 = 1.5
    expect(Array.from(net.layers[0].output().data)).toEqual([0.75, 0]);
    expect(net.layers[1].output().data[0]).toBeCloseTo(1.5);
  });
});

describe('every registered model runs in a network', () => {
  it('builds, steps and gives finite voltages for each model name', async () => {
    const { modelNames } = await import('../models/registry.js');
    const names = modelNames();
    expect(names).toEqual(expect.arrayContaining(['lif', 'synaptic', 'leaky', 'izhikevich', 'adex']));
    for (const name of names) {
      const net = new Network(be, { inputSize: 5, dtMs: 0.5, inputKind: 'current', layers: [{ size: 4, model: name }, { size: 3, model: name }] }, new Rng(2));
      net.reset(2);
      const x = be.fromArray([2, 5], [1, 0.5, 0.2, 0, 1, 0.3, 0.3, 0.3, 0.9, 0.1]);
      for (let t = 0; t < 10; t++) net.step(x);
      for (const l of net.layers) {
        for (const v of l.voltage().data) expect(Number.isFinite(v)).toBe(true);
        expect(l.output().shape).toEqual([2, l.size]);
      }
      expect(net.layers[1].eventDriven).toBe(getModel(name).spikeVar !== undefined);
    }
  });
});
