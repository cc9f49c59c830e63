import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { createBackend } from '../src/backend/registry.js';
import { createEncoder, DeltaEncoder, encoderNames, LatencyEncoder, latencyTime, parseEncoderSpec } from '../src/encoders.js';
import { Network } from '../src/engine/network.js';
import { ParameterError, ShapeError } from '../src/errors.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();

describe('encoder registry and specs', () => {
  it('parses specs and lists the built-ins', () => {
    expect(parseEncoderSpec('rate:gain=2')).toEqual({ name: 'rate', params: { gain: 2 } });
    expect(parseEncoderSpec('latency:mode=linear,tau=9')).toEqual({ name: 'latency', params: { mode: 'linear', tau: 9 } });
    expect(encoderNames()).toEqual(['delta', 'direct', 'latency', 'rate']);
    expect(() => createEncoder('poisson')).toThrow(/encoder = "poisson" is not known.*rate/);
    expect(() => createEncoder('rate:gian=1', { rng: new Rng(0) })).toThrow(/unknown parameter "gian"; known parameters: gain/);
    expect(() => createEncoder('rate:gain=-1', { rng: new Rng(0) })).toThrow(/rate\.gain/);
    expect(() => createEncoder('rate')).toThrow(/rng/);
    expect(() => createEncoder('rate:gain')).toThrow(ParameterError);
  });
});

describe('rate encoder', () => {
  it('mean spike count ≈ T·clamp(gain·x) within binomial tolerance', () => {
    const T = 400, gain = 1.5;
    const x = [0, 0.05, 0.2, 0.4, 0.6, 0.9];
    const enc = createEncoder(`rate:gain=${gain}`, { rng: new Rng(42) });
    enc.setInput(x, 1, x.length);
    const counts = new Array(x.length).fill(0);
    for (let t = 0; t < T; t++) {
      const o = enc.encodeHost(t);
      for (let i = 0; i < x.length; i++) {
        expect(o[i] === 0 || o[i] === 1).toBe(true);
        counts[i] += o[i];
      }
    }
    x.forEach((xi, i) => {
      const p = Math.min(1, Math.max(0, gain * xi));
      const sd = Math.sqrt(T * p * (1 - p));
      expect(Math.abs(counts[i] - T * p)).toBeLessThanOrEqual(4 * sd + 1e-9); // 4σ: false failure ~6e-5
    });
    expect(counts[0]).toBe(0);
    expect(counts[5]).toBe(T); // p clamped to 1
  });

  it('clamps gain·x to [0, 1] (below 0 never spikes, above 1 always, NaN stays NaN) and mostLikely is p > 0.5', () => {
    const x = [-0.5, -0, 0, 0.2, 0.34, 0.4, 0.7, 0.9, Number.NaN];
    const enc = createEncoder('rate:gain=1.5', { rng: new Rng(3) });
    enc.setInput(x, 1, x.length);
    expect(Array.from(enc.mostLikely!()!)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0]);
    const counts = new Array(x.length).fill(0);
    for (let t = 0; t < 200; t++) enc.encodeHost(t).forEach((v, i) => (counts[i] += v));
    expect(counts.slice(0, 3)).toEqual([0, 0, 0]);
    expect(counts.slice(6, 8)).toEqual([200, 200]); // 0.7·1.5 and 0.9·1.5 clamp to 1
    expect(counts[8]).toBe(0); // NaN: no draw passes u < NaN
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const run = (seed: number) => {
      const enc = createEncoder('rate', { rng: new Rng(seed) });
      enc.setInput(new Float32Array(50).fill(0.3), 2, 25);
      const out: number[] = [];
      for (let t = 0; t < 10; t++) out.push(...enc.encodeHost(t));
      return out;
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  it('writes into a backend tensor and checks its shape', () => {
    const enc = createEncoder('rate:gain=1', { rng: new Rng(0) });
    enc.setInput([1, 0, 1, 0, 1, 1], 2, 3);
    const out = be.tensor([2, 3]);
    enc.encode(0, out, be);
    expect(Array.from(out.data)).toEqual([1, 0, 1, 0, 1, 1]);
    expect(() => enc.encode(0, be.tensor([3, 2]), be)).toThrow(ShapeError);
    expect(() => enc.setInput([1, 2, 3], 2, 3)).toThrow(/3 values but \[batch, inputSize\] = \[2, 3\] needs 6/);
  });

  it('encode on reference and wasm gives the spikes of encodeHost for the same seed (the same random stream)', async () => {
    const wasm = await createBackend('wasm', { threads: 1 });
    try {
      const x = Float32Array.from({ length: 3 * 37 }, (_, i) => (i % 4 === 0 ? 0 : (i % 9) / 8));
      const host = createEncoder('rate', { rng: new Rng(5) }), onRef = createEncoder('rate', { rng: new Rng(5) });
      const onWasm = createEncoder('rate', { rng: new Rng(5) });
      const outR = be.tensor([3, 37]), outW = wasm.tensor([3, 37]);
      for (let batch = 0; batch < 2; batch++) {
        const xb = x.map((v) => v * (1 - 0.3 * batch)); // a new input re-writes the probabilities
        for (const e of [host, onRef, onWasm]) e.setInput(xb, 3, 37);
        for (let t = 0; t < 6; t++) {
          const want = Array.from(host.encodeHost(t));
          onRef.encode(t, outR, be);
          onWasm.encode(t, outW, wasm);
          expect(Array.from(be.read(outR))).toEqual(want);
          expect(Array.from(wasm.read(outW))).toEqual(want);
        }
        onWasm.dispose?.(); // frees its copy of the probabilities; the next encode makes a new one
      }
    } finally {
      await (wasm as { dispose?: () => Promise<void> }).dispose?.();
    }
  });
});

describe('latency encoder', () => {
  it('spike time is monotone (non-increasing) in intensity, one spike at most', () => {
    const T = 50;
    for (const spec of ['latency:tau=10', 'latency:mode=linear', 'latency:normalize=1']) {
      const enc = createEncoder(spec, { steps: T }) as LatencyEncoder;
      const x = Array.from({ length: 101 }, (_, i) => i / 100);
      enc.setInput(x, 1, x.length);
      const times = enc.spikeTimes();
      const counts = new Array(x.length).fill(0);
      for (let t = 0; t < T; t++) enc.encodeHost(t).forEach((v, i) => (counts[i] += v));
      for (let i = 0; i < x.length; i++) {
        expect(counts[i]).toBe(times[i] >= 0 ? 1 : 0);
        if (x[i] <= 0.01) expect(times[i]).toBe(-1);
      }
      let last = Infinity;
      for (let i = 0; i < x.length; i++) {
        if (times[i] < 0) continue;
        expect(times[i]).toBeLessThanOrEqual(last);
        last = times[i];
      }
      expect(times[100]).toBe(0);
    }
  });

  it('matches the formulas', () => {
    expect(latencyTime(0.5, 'rc', 10, 0.25)).toBe(Math.round(10 * Math.log(2)));
    expect(latencyTime(0.25, 'rc', 10, 0.25)).toBe(-1);
    expect(latencyTime(0.2, 'linear', 9, 0.01)).toBe(Math.round(9 * 0.8));
    const enc = createEncoder('latency:mode=linear', { steps: 11 }) as LatencyEncoder;
    enc.setInput([1, 0.5, 0.02, 0], 1, 4);
    expect(Array.from(enc.spikeTimes())).toEqual([0, 5, 10, -1]);
    // rc times beyond the window never fire
    const rc = createEncoder('latency:tau=100,threshold=0.5', { steps: 20 }) as LatencyEncoder;
    rc.setInput([0.51], 1, 1);
    expect(Array.from(rc.spikeTimes())).toEqual([-1]);
    expect(() => createEncoder('latency:mode=linear')).toThrow(/steps/);
  });
});

describe('direct encoder', () => {
  it('feeds gain·x + offset every step as a current', () => {
    const enc = createEncoder('direct:gain=2,offset=0.5');
    expect(enc.kind).toBe('current');
    enc.setInput([0, 1, 0.25], 1, 3);
    for (const t of [0, 5, 9]) expect(Array.from(enc.encodeHost(t))).toEqual([0.5, 2.5, 1]);
  });
});

describe('delta encoder', () => {
  it('static image: ON spikes at t = 0 where x >= threshold, none after', () => {
    const enc = createEncoder('delta:threshold=0.3');
    enc.setInput([0.1, 0.3, 0.9], 1, 3);
    expect(Array.from(enc.encodeHost(0))).toEqual([0, 1, 1]);
    for (let t = 1; t < 5; t++) expect(Array.from(enc.encodeHost(t))).toEqual([0, 0, 0]);
    const pad = createEncoder('delta:threshold=0.3,padding=1');
    pad.setInput([0.1, 0.3, 0.9], 1, 3);
    expect(Array.from(pad.encodeHost(0))).toEqual([0, 0, 0]);
  });

  it('sequence: ON and OFF spikes on changes between frames', () => {
    const enc = createEncoder('delta:threshold=0.5,off=1') as DeltaEncoder;
    // 3 frames, batch 1, 2 inputs
    enc.setSequence([0, 1, 1, 1, 0, 0.2], 3, 1, 2);
    expect(Array.from(enc.encodeHost(0))).toEqual([0, 1]);
    expect(Array.from(enc.encodeHost(1))).toEqual([1, 0]);
    expect(Array.from(enc.encodeHost(2))).toEqual([-1, -1]); // 0−1 and 0.2−1
    expect(Array.from(enc.encodeHost(3))).toEqual([0, 0]); // held after the last frame
    const on = createEncoder('delta:threshold=0.5') as DeltaEncoder;
    on.setSequence([0, 1, 1, 1, 0, 0.2], 3, 1, 2);
    expect(Array.from(on.encodeHost(2))).toEqual([0, 0]);
  });
});

describe('encoders drive a network', () => {
  it('run({ encoder }) feeds the encoded input each step', () => {
    const net = new Network(be, { inputSize: 3, dtMs: 1, layers: [{ size: 1, params: { beta: 1, reset: 'none', threshold: 100 } }] }, new Rng(0));
    net.setWeights([{ w: new Float32Array([1, 1, 1]) }]);
    net.reset(1);
    const enc = createEncoder('direct:gain=1');
    enc.setInput([0.5, 0.25, 0.25], 1, 3);
    net.run({ steps: 4, encoder: enc });
    expect(net.layers[0].voltage().data[0]).toBeCloseTo(4); // integrates 1 per step, no leak
  });
});
