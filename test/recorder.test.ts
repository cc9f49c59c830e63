import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Network } from '../src/engine/network.js';
import { ParameterError } from '../src/errors.js';
import { f32ToNumber, Recorder, SpikeCounter } from '../src/recorder.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();

/** One LIF neuron, β = 0.5, θ = 1, W = 1, constant current 0.6 (reset by subtraction at t+1). */
function singleNeuron(): Network {
  const net = new Network(be, { inputSize: 1, dtMs: 0.5, inputKind: 'current', layers: [{ size: 1, model: 'lif', params: { beta: 0.5, threshold: 1 } }] }, new Rng(0));
  net.setWeights([{ w: new Float32Array([1]) }]);
  net.reset(1);
  return net;
}

// U[t] = 0.5·U[t−1] + 0.6 − S[t−1]; S = U > 1
const U = [0.6, 0.9, 1.05, 0.125, 0.6625, 0.93125, 1.065625, 0.1328125];
const S = [0, 0, 1, 0, 0, 0, 1, 0];

describe('Recorder', () => {
  it('records the hand-computed voltage, spikes and input current of a single LIF neuron', () => {
    const net = singleNeuron();
    const rec = new Recorder({ layer: 0, vars: ['voltage', 'spikes', 'input', 'u'] });
    const x = be.fromArray([1, 1], [0.6]);
    net.run({ steps: U.length, input: () => x, recorder: rec });
    expect(rec.steps).toBe(8);
    const v = rec.get(0, 'voltage', 0);
    U.forEach((u, t) => expect(v[t]).toBeCloseTo(u, 5));
    expect(Array.from(rec.get('layer0', 'spikes', 0))).toEqual(S);
    expect(Array.from(rec.get(0, 'u', 0))).toEqual(Array.from(v));
    for (const i of rec.get(0, 'input', 0)) expect(i).toBeCloseTo(0.6, 6);
    expect(Array.from(rec.times())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rec.traces()).toHaveLength(4);
  });

  it('selects neurons and batch rows, and grows past its capacity hint', () => {
    const net = new Network(be, { inputSize: 4, dtMs: 1, layers: [{ size: 6 }, { size: 3, model: 'synaptic' }] }, new Rng(1));
    net.reset(3);
    const rec = new Recorder([
      { layer: 0, vars: ['voltage'], neurons: [1, 4], samples: [0, 2] },
      { layer: 1, vars: ['current', 'spikes'], neurons: 'all', samples: 'all' },
    ], 2);
    const rng = new Rng(5);
    const xs: Float32Array[] = [];
    const truth: number[][] = [];
    net.run({
      steps: 10,
      input: () => { const a = new Float32Array(12).map(() => (rng.uniform() < 0.5 ? 1 : 0)); xs.push(a); return be.fromArray([3, 4], a); },
      recorder: rec,
      onStep: (_t, n) => truth.push([n.layers[0].voltage().data[2 * 6 + 4], n.layers[1].state.isyn.data[1 * 3 + 2]]),
    });
    const trs = rec.traces();
    expect(trs).toHaveLength(4 + 9 + 9);
    expect(trs.every((t) => t.values.length === 10)).toBe(true);
    expect(Array.from(rec.get(0, 'voltage', 4, 2))).toEqual(truth.map((r) => Math.fround(r[0])));
    expect(Array.from(rec.get(1, 'current', 2, 1))).toEqual(truth.map((r) => Math.fround(r[1])));
    expect(() => rec.get(0, 'voltage', 0, 0)).toThrow(ParameterError);
  });

  it('rejects unknown layers, variables and out-of-range indices', () => {
    const net = singleNeuron();
    expect(() => new Recorder({ layer: 3 }).attach(net)).toThrow(/layer = 3 does not exist/);
    expect(() => new Recorder({ layer: 'out' }).attach(net)).toThrow(/layer "out" is not known/);
    expect(() => new Recorder({ layer: 0, vars: ['v'] }).attach(net)).toThrow(/variable "v" is not available.*u, s/);
    expect(() => new Recorder({ layer: 0, neurons: [1] }).attach(net)).toThrow(/neurons index/);
    expect(() => new Recorder({ layer: 0, samples: [1] }).attach(net)).toThrow(/samples index/);
  });

  it('exports JSON and CSV', () => {
    const net = singleNeuron();
    const rec = new Recorder({ layer: 0, vars: ['voltage', 'spikes'] });
    const x = be.fromArray([1, 1], [0.6]);
    net.run({ steps: 4, input: () => x, recorder: rec });
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-rec-'));
    rec.writeJson(join(dir, 'r.json'));
    rec.writeCsv(join(dir, 'r.csv'));
    const j = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(j.format).toBe('sigprop-recording');
    expect(j.dtMs).toBe(0.5);
    expect(j.steps).toBe(4);
    expect(j.traces[0]).toMatchObject({ layer: 0, layerName: 'layer0', var: 'voltage', neuron: 0, sample: 0 });
    j.traces[0].values.forEach((v: number, t: number) => expect(v).toBeCloseTo(U[t], 6));
    expect(j.traces[0].values.map(Math.fround)).toEqual(Array.from(rec.get(0, 'voltage', 0))); // exact float32 round trip
    expect(j.traces[1].values).toEqual([0, 0, 1, 0]);
    const lines = readFileSync(join(dir, 'r.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('step,time_ms,"layer0.voltage[s0,n0]","layer0.spikes[s0,n0]"');
    expect(lines[1]).toBe('0,0,0.6,0');
    const row3 = lines[3].split(',').map(Number);
    expect(row3[0]).toBe(2);
    expect(row3[1]).toBe(1);
    expect(row3[2]).toBeCloseTo(1.05, 6);
    expect(row3[3]).toBe(1);
    expect(lines).toHaveLength(5);
  });

  it('f32ToNumber gives the shortest decimal that reads back as the same float32', () => {
    for (const v of [0.1, 1 / 3, 1e-8, 123456.789, -2.5]) {
      const f = Math.fround(v);
      expect(Math.fround(f32ToNumber(f))).toBe(f);
    }
    expect(f32ToNumber(Math.fround(0.6))).toBe(0.6);
  });
});

describe('SpikeCounter', () => {
  it('counts spikes per neuron and per sample and derives rates', () => {
    const net = singleNeuron();
    const c = new SpikeCounter();
    const x = be.fromArray([1, 1], [0.6]);
    net.run({ steps: 8, input: () => x, recorder: c });
    const [l0] = c.counts();
    expect(l0.total).toBe(2);
    expect(Array.from(l0.perSample)).toEqual([2]);
    expect(Array.from(l0.perNeuron)).toEqual([2]);
    expect(l0.ratePerStep).toBeCloseTo(0.25);
    expect(l0.rateHz).toBeCloseTo(2 / (8 * 0.5e-3)); // 8 steps of 0.5 ms
  });
});
