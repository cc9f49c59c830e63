import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { ParameterError, ShapeError } from '../src/errors.js';
import { getModel, modelNames } from '../models/registry.js';
import type { IzhikevichResolved } from '../models/izhikevich.js';
import type { AdexResolved } from '../models/adex.js';

const backend = new ReferenceBackend();

/** Spike times (ms) of one neuron driven by a constant current for durationMs. */
function spikeTimes(model: string, params: Record<string, unknown>, current: number, durationMs: number, dtMs: number): number[] {
  const m = getModel(model);
  const p = m.resolve(params, dtMs);
  const st = m.init(backend, 1, 1, p);
  const x = backend.fromArray([1, 1], [current]);
  const times: number[] = [];
  const steps = Math.round(durationMs / dtMs);
  for (let k = 0; k < steps; k++) {
    m.step(backend, p, st, x);
    if (st.s.data[0] === 1) times.push((k + 1) * dtMs);
    expect(Number.isFinite(st[m.voltageVar].data[0])).toBe(true);
  }
  return times;
}
const isis = (t: number[]): number[] => t.slice(1).map((v, i) => v - t[i]);
const cv = (x: number[]): number => {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length) / m;
};

describe('Izhikevich presets, I = 10, 1000 ms, dt = 1 ms (two 0.5 ms substeps)', () => {
  // Reasoning (v' = 0.04(v+62.5)^2 - 16.25 - u + I): the neuron fires repetitively while
  // I - u > 16.25, i.e. u < -6.25. Mean-field <u> = b<v> + d·f/a with <v> ≈ -60 mV:
  // RS (d/a = 400 ms): f ≈ 14 Hz; FS (d/a = 20 ms): f ≈ 100-170 Hz; IB/CH reset above the
  // bottleneck (c = -55/-50 > -62.5) so they fire bursts until u has risen past the value
  // where v' at the reset point turns negative (-4 for IB, 0 for CH).
  const run = (preset: string) => spikeTimes('izhikevich', { preset }, 10, 1000, 1);

  it('RS: regular spiking with adaptation, 5-40 spikes, regular in steady state', () => {
    const t = run('RS');
    expect(t.length).toBeGreaterThanOrEqual(5);
    expect(t.length).toBeLessThanOrEqual(40);
    const d = isis(t);
    // u starts at b·v0 = -13 (drive I - u - 16.25 ≈ 6.75): the first spike comes within a few ms.
    expect(t[0]).toBeLessThan(10);
    // after each spike u jumps by d = 8 and must decay back below -6.25 before the next one;
    // u accumulates over spikes, so the intervals grow (spike-frequency adaptation).
    expect(d[0]).toBeLessThan(0.75 * d[d.length - 1]);
    expect(cv(d.slice(-5))).toBeLessThan(0.1); // tonic in steady state
    expect(Math.min(...d.slice(2))).toBeGreaterThan(15); // no bursts after the onset
  });

  it('FS: fast spiking, 60-250 spikes, little adaptation, far above RS', () => {
    const t = run('FS');
    expect(t.length).toBeGreaterThanOrEqual(60);
    expect(t.length).toBeLessThanOrEqual(250);
    expect(t.length).toBeGreaterThan(3 * run('RS').length);
    const d = isis(t);
    expect(cv(d.slice(-10))).toBeLessThan(0.1);
    expect(d[d.length - 1] / d[1]).toBeLessThan(3);
  });

  it('IB: an initial burst, then single tonic spikes', () => {
    const t = run('IB');
    const d = isis(t);
    expect(t.length).toBeGreaterThanOrEqual(8);
    expect(t.length).toBeLessThanOrEqual(40);
    expect(d[0]).toBeLessThan(10);
    expect(d[1]).toBeLessThan(10);
    expect(Math.min(...d.slice(4))).toBeGreaterThan(15); // no further bursts
  });

  it('CH: repeated bursts (bimodal intervals, several spikes per burst)', () => {
    const d = isis(run('CH'));
    const long = d.filter((x) => x > 25).length; // inter-burst intervals
    const short = d.filter((x) => x < 12).length; // intra-burst intervals
    expect(long).toBeGreaterThanOrEqual(5);
    expect(short).toBeGreaterThanOrEqual(2 * long); // >= 3 spikes per burst on average
    expect(d.filter((x) => x >= 12 && x <= 25).length).toBeLessThan(long); // few intermediate intervals
  });

  it('no input -> rests near the lower fixed point and never spikes', () => {
    expect(spikeTimes('izhikevich', { preset: 'RS' }, 0, 500, 1)).toEqual([]);
  });

  it('validates presets and parameters', () => {
    const m = getModel<IzhikevichResolved>('izhikevich');
    expect(() => m.resolve({ preset: 'XX' }, 1)).toThrow(/preset.*RS/);
    expect(() => m.resolve({ a: -0.02 }, 1)).toThrow(/a = -0.02.*0 < value/);
    expect(() => m.resolve({}, -0.5)).toThrow(/dtMs/);
    expect(() => m.resolve({ vPeak: -70 }, 1)).toThrow(/vPeak/);
    const p = m.resolve({ preset: 'FS', d: 3 }, 1);
    expect([p.a, p.d, p.nSub, p.hMs]).toEqual([0.1, 3, 2, 0.5]);
    const st = m.init(backend, 1, 2, p);
    expect(() => m.step(backend, p, st, backend.tensor([2, 1]))).toThrow(ShapeError);
  });
});

describe('AdEx (Brette & Gerstner 2005 defaults)', () => {
  // Rheobase for the paper's cell: along the equilibria I(V) = (gL + a)(V − EL) − gL ΔT e^{(V−VT)/ΔT};
  // its maximum (e^{(V−VT)/ΔT} = (gL+a)/gL, V ≈ −50.15 mV) is ≈ 627 pA. Below it the neuron settles,
  // above it it fires repetitively (spike-triggered adaptation b = 80.5 pA makes the intervals grow).
  it('rests just above EL with no input', () => {
    // The exponential term is not zero at EL: rest is EL + gL·ΔT·e^{(EL−VT)/ΔT}/(gL + a) ≈ EL + 7e-5 mV,
    // where w = a·(V − EL) ≈ 3e-4 pA.
    const m = getModel<AdexResolved>('adex');
    const p = m.resolve({}, 0.1);
    const st = m.init(backend, 1, 1, p);
    const x = backend.tensor([1, 1]);
    for (let k = 0; k < 1000; k++) m.step(backend, p, st, x);
    expect(Math.abs(st.v.data[0] + 70.6)).toBeLessThan(1e-3);
    expect(st.v.data[0]).toBeGreaterThan(-70.6 - 1e-5);
    expect(Math.abs(st.w.data[0])).toBeLessThan(1e-3);
    expect(st.s.data[0]).toBe(0);
  });

  it('silent below the rheobase (~627 pA) in steady state, firing above it', () => {
    const late = (t: number[]) => t.filter((x) => x > 500).length;
    expect(late(spikeTimes('adex', {}, 550, 1000, 0.5))).toBe(0);
    expect(late(spikeTimes('adex', {}, 750, 1000, 0.5))).toBeGreaterThan(0);
  });

  it('1 nA: adapting spike train; fastSpiking (b = 0) fires faster and does not adapt as much', () => {
    const reg = spikeTimes('adex', {}, 1000, 500, 0.1);
    const d = isis(reg);
    expect(reg.length).toBeGreaterThanOrEqual(3);
    expect(d[d.length - 1]).toBeGreaterThan(1.5 * d[0]);
    const fs = spikeTimes('adex', { preset: 'fastSpiking' }, 1000, 500, 0.1);
    expect(fs.length).toBeGreaterThan(reg.length);
  });

  it('matches an independent fine RK4 integration (float64, dt 0.005 ms): subthreshold V and spike times', () => {
    // Brette & Gerstner 2005 cell, written out here from the paper's equations.
    const [C, gL, EL, dT, VT, tw, a] = [281, 30, -70.6, 2, -50.4, 144, 4];
    // V is capped at Vpeak = 20 mV inside f: RK4's intermediate stages would otherwise evaluate
    // the leak at astronomically large V after the exponential blow-up and overshoot negative.
    const f = (vIn: number, w: number, I: number): [number, number] => {
      const v = Math.min(vIn, 20);
      return [(-gL * (v - EL) + gL * dT * Math.exp((v - VT) / dT) - w + I) / C, (a * (v - EL) - w) / tw];
    };
    const rk4 = (I: number, tEnd: number): { v: number; spikes: number[] } => {
      let v = EL, w = 0;
      const h = 0.005, spikes: number[] = [];
      for (let k = 0; k * h < tEnd; k++) {
        const k1 = f(v, w, I);
        const k2 = f(v + (h / 2) * k1[0], w + (h / 2) * k1[1], I);
        const k3 = f(v + (h / 2) * k2[0], w + (h / 2) * k2[1], I);
        const k4 = f(v + h * k3[0], w + h * k3[1], I);
        v += (h / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
        w += (h / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
        if (v > 20) {
          spikes.push((k + 1) * h);
          v = EL; // Vr = EL in the paper
          w += 80.5;
        }
      }
      return { v, spikes };
    };
    const m = getModel<AdexResolved>('adex');
    const p = m.resolve({}, 0.1);
    const st = m.init(backend, 1, 1, p);
    const x = backend.fromArray([1, 1], [300]);
    for (let k = 0; k < 50; k++) m.step(backend, p, st, x); // 5 ms
    expect(Math.abs(st.v.data[0] - rk4(300, 5).v)).toBeLessThan(0.05);
    // 1 nA for 150 ms. Spike times are reported at the end of a 0.1 ms step (+0.1 ms at most).
    // With 0.01 ms Euler substeps (h/τm ≈ 0.001) they agree with the reference to well under 1%;
    // with the default 0.1 ms substeps first-order Euler drifts by a few percent.
    const ref = rk4(1000, 150).spikes;
    expect(ref.length).toBeGreaterThanOrEqual(5);
    const fine = spikeTimes('adex', { substepMs: 0.01 }, 1000, 150, 0.1);
    expect(fine.length).toBe(ref.length);
    for (let k = 0; k < ref.length; k++) expect(Math.abs(fine[k] - ref[k])).toBeLessThan(0.005 * ref[k] + 0.1);
    const coarse = spikeTimes('adex', {}, 1000, 150, 0.1);
    expect(coarse.length).toBe(ref.length);
    for (let k = 0; k < ref.length; k++) expect(Math.abs(coarse[k] - ref[k])).toBeLessThan(0.04 * ref[k] + 0.1);
  });

  it('clamps the exponential: huge input stays finite and spikes every step', () => {
    const t = spikeTimes('adex', {}, 1e7, 20, 1);
    expect(t.length).toBe(20);
  });

  it('validates parameters', () => {
    const m = getModel<AdexResolved>('adex');
    expect(() => m.resolve({ tauWMs: -144 }, 0.1)).toThrow(/tauWMs.*0 < value/);
    expect(() => m.resolve({ C: 0 }, 0.1)).toThrow(/C = 0.*pF/);
    expect(() => m.resolve({ Vpeak: -60 }, 0.1)).toThrow(/Vpeak/);
    expect(() => m.resolve({ preset: 'nope' }, 0.1)).toThrow(/preset.*regular/);
    expect(() => m.resolve({ gl: 30 } as never, 0.1)).toThrow(/unknown parameter "gl".*gL/);
    expect(() => m.resolve({}, 0)).toThrow(ParameterError);
  });

  it('registry has every built-in model', () => {
    expect(modelNames()).toEqual(expect.arrayContaining(['adex', 'izhikevich', 'leaky', 'lif', 'synaptic']));
    for (const name of ['adex', 'izhikevich', 'leaky', 'lif', 'synaptic']) {
      const m = getModel(name);
      const p = m.resolve({}, 0.5);
      expect(m.resolve(p, 0.5)).toEqual(p); // resolved parameters resolve to themselves
      const st = m.init(backend, 2, 3, p);
      expect(Object.keys(st)).toEqual([...m.stateVars]);
      for (const v of m.stateVars) expect(st[v].shape).toEqual([2, 3]);
      expect(m.stateVars).toContain(m.voltageVar);
    }
  });
});
