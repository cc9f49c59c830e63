// Neuron-model kernels (leakyStep, izhikevichStep, adexStep): hand-computed cases on `reference`,
// parity of the wasm backend with `reference` (rtol 1e-5) on odd sizes, and the models' steps
// running through them.
import { describe, expect, it } from 'vitest';
import type { AdexKernelParams, Backend, IzhikevichKernelParams } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import { ShapeError } from '../src/errors.js';
import { Rng } from '../src/rng.js';
import { registerActivation } from '../models/activations.js';
import { getModel } from '../models/registry.js';
import { expectClose, withWasm } from './wasm.helpers.js';

const ref = new ReferenceBackend();
let wasm: WasmBackend;
withWasm((b) => (wasm = b));


const f32 = (x: number): number => Math.fround(x);
const RS: IzhikevichKernelParams = { a: 0.02, b: 0.2, c: -65, d: 8, vPeak: 30, nSub: 1, hMs: 1 };
const REGULAR: AdexKernelParams = {
  C: 281, gL: 30, EL: -70.6, deltaT: 2, VT: -50.4, tauWMs: 144, a: 4, b: 80.5, Vr: -70.6, Vpeak: 20, nSub: 1, hMs: 0.1,
};

registerActivation({ name: 'softsign-test', f: (h) => h / (1 + Math.abs(h)), df: (h) => 1 / (1 + Math.abs(h)) ** 2 });

describe('model kernels: hand-computed cases (reference)', () => {
  const be: Backend = ref;

  it('leakyStep: h + g·(I − h), then a = φ(h) of the stored h', () => {
    const h = be.fromArray([1, 3], [0, 1, -2]), a = be.tensor([1, 3]), I = be.fromArray([1, 3], [1, 3, 2]);
    be.leakyStep(h, a, I, 0.5, 'identity');
    expect(Array.from(be.read(h))).toEqual([0.5, 2, 0]);
    expect(Array.from(be.read(a))).toEqual([0.5, 2, 0]);
    const h2 = be.fromArray([3], [1, -4, 0.5]), a2 = be.tensor([3]), I2 = be.fromArray([3], [3, 0, 0.5]);
    be.leakyStep(h2, a2, I2, 0.25, 'relu');
    expect(Array.from(be.read(h2))).toEqual([1.5, -3, 0.5]);
    expect(Array.from(be.read(a2))).toEqual([1.5, 0, 0.5]);
    be.leakyStep(h2, a2, I2, 0, 'tanh'); // gain 0: h unchanged, a = tanh(h)
    expect(Array.from(be.read(a2))).toEqual([1.5, -3, 0.5].map((v) => f32(Math.tanh(v))));
  });

  it('izhikevichStep: one Euler substep below threshold, and a spike with reset', () => {
    const v = be.fromArray([2], [-65, 29]), u = be.fromArray([2], [-13, 0]), s = be.fromArray([2], [1, 0]), I = be.tensor([2]);
    be.izhikevichStep(v, u, s, I, RS);
    // v: −65 + (0.04·4225 − 325 + 140 + 13) = −68; u: −13 + 0.02·(0.2·(−68) + 13) = −13.012
    // v: 29 + (0.04·841 + 145 + 140) = 347.64 ≥ 30 → −65; u: 0 + 0.02·(0.2·347.64) + 8 = 9.39056
    expect(Array.from(be.read(v))).toEqual([-68, -65]);
    expectClose(be.read(u), [-13.012, 9.39056], 1e-7, 0);
    expect(Array.from(be.read(s))).toEqual([0, 1]);
  });

  it('izhikevichStep: the spike of any substep marks the step; integration goes on after the reset', () => {
    const p = { ...RS, nSub: 2, hMs: 0.5 };
    const v = be.fromArray([1], [29]), u = be.fromArray([1], [0]), s = be.tensor([1]), I = be.tensor([1]);
    be.izhikevichStep(v, u, s, I, p);
    // substep 1: v = 29 + 0.5·318.64 = 188.32 → reset to −65, u = 0.5·0.02·(0.2·188.32) + 8 = 8.376640
    // substep 2: v = −65 + 0.5·(169 − 325 + 140 − 8.37664) = −77.18832; u += 0.01·(0.2·v − u)
    const u1 = 0.5 * 0.02 * (0.2 * 188.32) + 8;
    const v2 = -65 + 0.5 * (169 - 325 + 140 - u1);
    const u2 = u1 + 0.5 * 0.02 * (0.2 * v2 - u1);
    expectClose(be.read(v), [v2], 1e-7, 0);
    expectClose(be.read(u), [u2], 1e-7, 0);
    expect(be.read(s)[0]).toBe(1);
  });

  it('adexStep: the exponential term at rest, and a spike with reset', () => {
    const v = be.fromArray([2], [-70.6, 19.9]), w = be.fromArray([2], [0, 0]), s = be.tensor([2]), I = be.fromArray([2], [0, 1e5]);
    be.adexStep(v, w, s, I, REGULAR);
    const vs = f32(-70.6), vp = f32(19.9); // the stored (float32) starting values
    const v0 = vs + (0.1 * (-30 * (vs + 70.6) + 30 * 2 * Math.exp((vs + 50.4) / 2))) / 281;
    const w0 = (0.1 * (4 * (vs + 70.6))) / 144; // ≈ 0: the float32 rounding of EL
    const w1 = (0.1 * (4 * (vp + 70.6))) / 144 + 80.5;
    expectClose(be.read(v), [v0, -70.6], 1e-7, 0);
    expectClose(be.read(w), [w0, w1], 1e-6, 1e-12);
    expect(Array.from(be.read(s))).toEqual([0, 1]);
  });

  it('adexStep: the exponential argument is clamped at (Vpeak − VT)/ΔT', () => {
    const v = be.fromArray([1], [1e4]), w = be.tensor([1]), s = be.tensor([1]), I = be.tensor([1]);
    be.adexStep(v, w, s, I, REGULAR);
    expect(Number.isFinite(be.read(w)[0])).toBe(true);
    expect(be.read(v)[0]).toBe(f32(-70.6));
    expect(be.read(s)[0]).toBe(1);
  });

  it('shape checks name the kernel', () => {
    expect(() => be.leakyStep(be.tensor([2]), be.tensor([3]), be.tensor([2]), 0.5, 'tanh')).toThrow(ShapeError);
    expect(() => be.izhikevichStep(be.tensor([2]), be.tensor([2]), be.tensor([2]), be.tensor([1]), RS)).toThrow(/izhikevichStep/);
    expect(() => be.adexStep(be.tensor([2]), be.tensor([2]), be.tensor([3]), be.tensor([2]), REGULAR)).toThrow(/adexStep/);
  });
});

describe('model kernels: wasm matches reference', () => {
  const n = 37;
  function pair(data: Float32Array): [ReturnType<Backend['tensor']>, ReturnType<Backend['tensor']>] {
    return [ref.fromArray([n], data), wasm.fromArray([n], data)];
  }
  const rng = new Rng(5);
  const randn = (scale: number, shift = 0) => Float32Array.from({ length: n }, () => shift + scale * (rng.uniform() * 2 - 1));

  for (const name of ['identity', 'tanh', 'sigmoid', 'relu', 'softsign-test']) {
    it(`leakyStep (${name}) over 5 steps`, () => {
      const [hr, hw] = pair(randn(2)), [ar, aw] = pair(new Float32Array(n)), [ir, iw] = pair(randn(3));
      for (let t = 0; t < 5; t++) {
        ref.leakyStep(hr, ar, ir, 0.18126924692201818, name);
        wasm.leakyStep(hw, aw, iw, 0.18126924692201818, name);
      }
      expectClose(wasm.read(hw), ref.read(hr));
      expectClose(wasm.read(aw), ref.read(ar));
    });
  }

  it('izhikevichStep over 20 steps (spiking drive, 2 substeps)', () => {
    const p = { ...RS, nSub: 2, hMs: 0.5 };
    const [vr, vw] = pair(randn(10, -65)), [ur, uw] = pair(randn(2, -13)), [sr, sw] = pair(new Float32Array(n)), [ir, iw] = pair(randn(10, 10));
    let spikes = 0;
    for (let t = 0; t < 20; t++) {
      ref.izhikevichStep(vr, ur, sr, ir, p);
      wasm.izhikevichStep(vw, uw, sw, iw, p);
      expect(Array.from(wasm.read(sw))).toEqual(Array.from(ref.read(sr)));
      spikes += ref.sum(sr);
    }
    expect(spikes).toBeGreaterThan(0);
    expectClose(wasm.read(vw), ref.read(vr), 1e-5, 1e-4);
    expectClose(wasm.read(uw), ref.read(ur), 1e-5, 1e-4);
  });

  it('adexStep over 20 steps (spiking drive, 10 substeps)', () => {
    const p = { ...REGULAR, nSub: 10, hMs: 0.1 };
    const [vr, vw] = pair(randn(5, -65)), [wr, ww] = pair(randn(20, 20)), [sr, sw] = pair(new Float32Array(n)), [ir, iw] = pair(randn(800, 800));
    let spikes = 0;
    for (let t = 0; t < 20; t++) {
      ref.adexStep(vr, wr, sr, ir, p);
      wasm.adexStep(vw, ww, sw, iw, p);
      expect(Array.from(wasm.read(sw))).toEqual(Array.from(ref.read(sr)));
      spikes += ref.sum(sr);
    }
    expect(spikes).toBeGreaterThan(0);
    expectClose(wasm.read(vw), ref.read(vr), 1e-5, 1e-4);
    expectClose(wasm.read(ww), ref.read(wr), 1e-5, 1e-4);
  });
});

describe('the models step through the kernels', () => {
  for (const [model, params] of [
    ['leaky', { tauMs: 5, activation: 'relu' }],
    ['rate', { activation: 'tanh' }],
    ['izhikevich', {}],
    ['adex', {}],
  ] as const) {
    it(`${model}: the same states on reference and wasm over 10 steps`, () => {
      const m = getModel(model);
      const p = m.resolve(params as never, 1);
      const rng = new Rng(9);
      const drive = Float32Array.from({ length: 2 * 7 }, () => (model === 'adex' ? 600 : 10) * rng.uniform());
      const out = [ref, wasm].map((be) => {
        const st = m.init(be, 2, 7, p);
        const I = be.fromArray([2, 7], drive);
        for (let t = 0; t < 10; t++) m.step(be, p, st, I);
        return m.stateVars.map((k) => be.read(st[k]));
      });
      out[0].forEach((want, k) => expectClose(out[1][k], want, 1e-5, 1e-4));
    });
  }
});
