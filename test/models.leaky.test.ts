import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { ParameterError, ShapeError } from '../src/errors.js';
import { getModel } from '../models/registry.js';
import { integrators, type LeakyResolved } from '../models/leaky.js';
import { activationNames, getActivation } from '../models/activations.js';

const backend = new ReferenceBackend();
const leaky = () => getModel<LeakyResolved>('leaky');

/** Simulate one unit for `inputs.length` steps; returns h after each step. */
function simulate(params: Record<string, unknown>, dtMs: number, inputs: number[]): number[] {
  const m = leaky();
  const p = m.resolve(params as Partial<LeakyResolved>, dtMs);
  const st = m.init(backend, 1, 1, p);
  const x = backend.tensor([1, 1]);
  const out: number[] = [];
  for (const i of inputs) {
    backend.write(x, [i]);
    m.step(backend, p, st, x);
    out.push(st.h.data[0]);
  }
  return out;
}

/** Error at t = T of the method against h(t) = I + (h0 − I)e^{−t/τ}. */
function errorAt(method: string, dtMs: number, tauMs: number, T: number, h0: number, I: number): number {
  const n = Math.round(T / dtMs);
  expect(Math.abs(n * dtMs - T)).toBeLessThan(1e-12);
  const h = simulate({ method, tauMs, h0 }, dtMs, new Array(n).fill(I));
  return Math.abs(h[n - 1] - (I + (h0 - I) * Math.exp(-T / tauMs)));
}

describe('continuous-time leaky integrator vs the analytic solution', () => {
  it('exact method matches h(t) = I + (h0 - I)exp(-t/tau) to float32 precision', () => {
    const tauMs = 10, dtMs = 1, h0 = 0.5, I = 2;
    const h = simulate({ tauMs, h0, method: 'exact' }, dtMs, new Array(100).fill(I));
    for (let k = 0; k < 100; k++) {
      const t = (k + 1) * dtMs;
      expect(Math.abs(h[k] - (I + (h0 - I) * Math.exp(-t / tauMs)))).toBeLessThan(1e-6);
    }
  });

  it('exact method matches the convolution solution for a piecewise-constant time-varying input', () => {
    const tauMs = 7, dtMs = 0.5, h0 = -0.3;
    const inputs = Array.from({ length: 60 }, (_, k) => Math.sin(0.3 * k) + (k % 7 === 0 ? 1.5 : 0));
    const h = simulate({ tauMs, h0, method: 'exact' }, dtMs, inputs);
    // h(T) = h0 e^{-T/τ} + Σ_j I_j (e^{-(T - t_{j+1})/τ} − e^{-(T - t_j)/τ}), t_j = j·dt
    for (const n of [1, 10, 33, 60]) {
      const T = n * dtMs;
      let ref = h0 * Math.exp(-T / tauMs);
      for (let j = 0; j < n; j++) {
        ref += inputs[j] * (Math.exp(-(T - (j + 1) * dtMs) / tauMs) - Math.exp(-(T - j * dtMs) / tauMs));
      }
      expect(Math.abs(h[n - 1] - ref)).toBeLessThan(2e-6);
    }
  });

  it('RK4 error shrinks about 16x when dt halves (4th order)', () => {
    // dt/τ = 0.25 -> 0.125 at T = τ: errors ~1e-5 and ~1e-6, well above float32 rounding.
    const e1 = errorAt('rk4', 0.25, 1, 1, 0, 1);
    const e2 = errorAt('rk4', 0.125, 1, 1, 0, 1);
    expect(e1 / e2).toBeGreaterThan(12);
    expect(e1 / e2).toBeLessThan(20);
    // and in double precision via the scalar rule, deeper into the asymptotic regime
    const scalarErr = (dt: number): number => {
      let h = 0;
      const n = Math.round(1 / dt);
      for (let k = 0; k < n; k++) h = integrators.get('rk4')!.stepScalar(h, 1, dt, 1);
      return Math.abs(h - (1 - Math.exp(-1)));
    };
    const r = scalarErr(0.05) / scalarErr(0.025);
    expect(r).toBeGreaterThan(15);
    expect(r).toBeLessThan(17);
  });

  it('Euler error shrinks about 2x when dt halves (1st order); exact is far better than both', () => {
    const e1 = errorAt('euler', 0.25, 1, 1, 0, 1);
    const e2 = errorAt('euler', 0.125, 1, 1, 0, 1);
    expect(e1 / e2).toBeGreaterThan(1.7);
    expect(e1 / e2).toBeLessThan(2.3);
    const e3 = errorAt('euler', 0.0625, 1, 1, 0, 1);
    expect(e2 / e3).toBeGreaterThan(1.7);
    expect(e2 / e3).toBeLessThan(2.3);
    expect(errorAt('exact', 0.25, 1, 1, 0, 1)).toBeLessThan(1e-6);
    expect(errorAt('rk4', 0.25, 1, 1, 0, 1)).toBeLessThan(e1 / 100);
  });

  it('a = phi(h) for every registered activation, and init sets a = phi(h0)', () => {
    expect(activationNames()).toEqual(expect.arrayContaining(['identity', 'tanh', 'sigmoid', 'relu']));
    for (const name of ['identity', 'tanh', 'sigmoid', 'relu']) {
      const m = leaky();
      const p = m.resolve({ activation: name, h0: -0.5 }, 1);
      const st = m.init(backend, 2, 2, p);
      expect(st.a.data[0]).toBeCloseTo(getActivation(name).f(-0.5), 6);
      const x = backend.fromArray([2, 2], [3, -3, 0.5, 0]);
      m.step(backend, p, st, x);
      for (let i = 0; i < 4; i++) expect(st.a.data[i]).toBeCloseTo(getActivation(name).f(st.h.data[i]), 6);
    }
    expect(getActivation('sigmoid').f(0)).toBe(0.5);
    expect(getActivation('relu').f(-2)).toBe(0);
    expect(getActivation('tanh').df(0)).toBe(1);
  });

  it('rejects bad parameters and shapes', () => {
    const m = leaky();
    expect(() => m.resolve({ tauMs: -1 }, 1)).toThrow(/tauMs.*0 < value/);
    expect(() => m.resolve({}, 0)).toThrow(/dtMs/);
    expect(() => m.resolve({ method: 'rk5' }, 1)).toThrow(/method.*exact, euler, rk4/);
    expect(() => m.resolve({ activation: 'softplus2' }, 1)).toThrow(/activation.*identity/);
    expect(() => m.resolve({ method: 'euler', tauMs: 1 }, 2.5)).toThrow(ParameterError);
    expect(() => m.resolve({ method: 'euler', tauMs: 1 }, 2.5)).toThrow(/unstable.*dtMs\/tauMs/);
    expect(() => m.resolve({ method: 'exact', tauMs: 1 }, 50)).not.toThrow();
    const p = m.resolve({}, 1);
    const st = m.init(backend, 2, 3, p);
    expect(() => m.step(backend, p, st, backend.tensor([2, 2]))).toThrow(ShapeError);
  });
});
