import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { ParameterError, ShapeError } from '../src/errors.js';
import { defineEquationModel, getModel, registerEquationModel, type EquationModelSpec } from '../models/registry.js';
import type { NeuronModel } from '../models/model.js';
import { Rng } from '../src/rng.js';

const backend = new ReferenceBackend();

/** Run a model on [T][batch*n] inputs; return the voltage and spike traces (flattened per step). */
function trace(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  m: NeuronModel<any>,
  params: Record<string, unknown>,
  inputs: number[][],
  shape: [number, number],
  dtMs = 1,
  scale = 1,
): { v: number[][]; s: number[][] } {
  const p = m.resolve(params, dtMs);
  const st = m.init(backend, shape[0], shape[1], p);
  const x = backend.tensor(shape);
  const v: number[][] = [], s: number[][] = [];
  for (const row of inputs) {
    backend.write(x, row.map((r) => r * scale));
    m.step(backend, p, st, x);
    v.push(Array.from(st[m.voltageVar].data));
    s.push(Array.from(st[m.spikeVar!].data));
  }
  return { v, s };
}

function randomInputs(T: number, size: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: T }, () => Array.from({ length: size }, () => rng.uniform() * 0.6));
}

describe('equation-defined LIF reproduces the built-in LIF exactly', () => {
  const inputs = randomInputs(200, 8, 7);
  const cases: [string, Record<string, unknown>, Partial<EquationModelSpec>][] = [
    ['subtract, delayed (snnTorch default)', {}, { equations: 'u = beta*u + I - s*threshold' }],
    ['zero, delayed', { reset: 'zero' }, { equations: 'u = beta*(1 - s)*u + I' }],
    ['none', { reset: 'none' }, { equations: 'u = beta*u + I' }],
    ['subtract, immediate', { resetDelay: false }, { equations: 'u = beta*u + I', reset: 'u -= threshold' }],
    ['zero, immediate', { reset: 'zero', resetDelay: false }, { equations: 'u = beta*u + I', reset: 'u = 0' }],
  ];
  for (const [label, lifParams, eq] of cases) {
    it(label, () => {
      const builtin = trace(getModel('lif'), { beta: 0.85, threshold: 1, ...lifParams }, inputs, [2, 4]);
      const model = defineEquationModel({
        name: 'eqlif',
        threshold: 'u > threshold',
        parameters: { beta: 0.85, threshold: 1 },
        ...eq,
      } as EquationModelSpec);
      const mine = trace(model, {}, inputs, [2, 4]);
      const spikes = builtin.s.flat().reduce((a, b) => a + b, 0);
      expect(spikes).toBeGreaterThan(20); // the comparison covers many resets
      expect(mine.v).toEqual(builtin.v); // bit-identical float32 traces
      expect(mine.s).toEqual(builtin.s);
    });
  }

  it('ODE form with exponential Euler: dv/dt = (-v + R*I)/tau matches the LIF with beta = exp(-dt/tau)', () => {
    const tau = 5, R = 4, dt = 1;
    const beta = Math.exp(-dt / tau);
    const model = defineEquationModel({
      name: 'odelif',
      equations: 'dv/dt = (-(v - vrest) + R*I)/tau',
      threshold: 'v > vth',
      reset: 'v = vreset',
      parameters: { vrest: 0, R, tau, vth: 1, vreset: 0 },
      method: 'exponential',
    });
    const mine = trace(model, {}, inputs, [2, 4], dt);
    // exact solution over a step with constant I: v ← βv + (1 − β)·R·I, reset to zero right after a spike
    const builtin = trace(getModel('lif'), { tauMs: tau, reset: 'zero', resetDelay: false }, inputs, [2, 4], dt, (1 - beta) * R);
    expect(builtin.s.flat().reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    expect(mine.s).toEqual(builtin.s);
    for (let t = 0; t < inputs.length; t++) for (let i = 0; i < 8; i++) expect(mine.v[t][i]).toBeCloseTo(builtin.v[t][i], 5);
    expect(model.threshold!(model.resolve({}, dt))).toBe(1);
    expect(model.threshold!(model.resolve({ vth: 2 }, dt))).toBe(2);
  });

  it('Euler ODE form is first-order accurate against exponential Euler (subthreshold)', () => {
    const spec = { name: 'x', equations: 'dv/dt = (-v + I)/tau', parameters: { tau: 10 } };
    const euler = defineEquationModel(spec);
    const expo = defineEquationModel({ ...spec, method: 'exponential' });
    const run = (m: NeuronModel<any>, dt: number) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const p = m.resolve({}, dt);
      const st = m.init(backend, 1, 1, p);
      const x = backend.fromArray([1, 1], [1]);
      for (let k = 0; k < Math.round(10 / dt); k++) m.step(backend, p, st, x);
      return st.v.data[0];
    };
    const exact = 1 - Math.exp(-1);
    expect(Math.abs(run(expo, 1) - exact)).toBeLessThan(1e-6);
    const r = Math.abs(run(euler, 1) - exact) / Math.abs(run(euler, 0.5) - exact);
    expect(r).toBeGreaterThan(1.7);
    expect(r).toBeLessThan(2.3);
  });
});

describe('equation models: multi-variable, registry, time', () => {
  it('Izhikevich written as equations fires like the built-in preset (same spike count within 10%)', () => {
    const eqIzh = registerEquationModel(
      {
        name: 'eq-izhikevich-test',
        equations: ['dv/dt = 0.04*v^2 + 5*v + 140 - u + I', 'du/dt = a*(b*v - u)'],
        threshold: 'v >= 30',
        reset: 'v = c; u += d',
        parameters: { a: 0.02, b: 0.2, c: -65, d: 8 },
        init: { v: -65, u: -13 },
      },
      true,
    );
    expect(getModel('eq-izhikevich-test')).toBe(eqIzh);
    const T = 2000; // 1000 ms at 0.5 ms
    const mine = trace(eqIzh, {}, Array.from({ length: T }, () => [10]), [1, 1], 0.5);
    const builtin = trace(getModel('izhikevich'), { preset: 'RS' }, Array.from({ length: T }, () => [10]), [1, 1], 0.5);
    const n1 = mine.s.flat().reduce((a, b) => a + b, 0);
    const n2 = builtin.s.flat().reduce((a, b) => a + b, 0);
    expect(n1).toBeGreaterThan(5);
    expect(Math.abs(n1 - n2)).toBeLessThanOrEqual(Math.ceil(0.1 * n2));
  });

  it('t advances by dt and functions/conditionals compile', () => {
    const m = defineEquationModel({
      name: 'clock',
      equations: ['x = t', 'y = max(abs(I), 0.5) + (t > 1.5 ? 100 : 0) + cos(pi)'],
      voltage: 'y',
    });
    expect(m.stateVars).toEqual(['x', 'y', 't']);
    expect(m.outputVar).toBe('y');
    expect(m.spikeVar).toBeUndefined();
    const p = m.resolve({}, 0.5);
    const st = m.init(backend, 1, 1, p);
    const x = backend.fromArray([1, 1], [-2]);
    const xs: number[] = [], ys: number[] = [];
    for (let k = 0; k < 5; k++) {
      m.step(backend, p, st, x);
      xs.push(st.x.data[0]);
      ys.push(st.y.data[0]);
    }
    expect(xs).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(ys).toEqual([1, 1, 1, 1, 101]);
  });
});

describe('equation models: validation errors quote the equation and name the problem', () => {
  const base: EquationModelSpec = {
    name: 'bad',
    equations: 'dv/dt = (-(v - vrest) + R*I)/tau',
    threshold: 'v > vth',
    reset: 'v = vreset',
    parameters: { vrest: 0, R: 1, tau: 10, vth: 1, vreset: 0 },
  };
  const fails = (patch: Partial<EquationModelSpec>, re: RegExp) => {
    expect(() => defineEquationModel({ ...base, ...patch })).toThrow(ParameterError);
    expect(() => defineEquationModel({ ...base, ...patch })).toThrow(re);
  };
  it('accepts the valid spec', () => {
    expect(defineEquationModel(base).stateVars).toEqual(['v', 's']);
  });
  it('missing parameter', () => {
    fails({ parameters: { vrest: 0, tau: 10, vth: 1, vreset: 0 } }, /equation 'dv\/dt = \(-\(v - vrest\) \+ R\*I\)\/tau': unknown symbol 'R'.*parameters/);
    fails({ parameters: { vrest: 0, R: 1, tau: 10, vreset: 0 } }, /threshold 'v > vth': unknown symbol 'vth'/);
  });
  it('unknown symbol and unknown function', () => {
    fails({ equations: 'dv/dt = (-v + I)/tau + q' }, /unknown symbol 'q'/);
    fails({ equations: 'dv/dt = foo(v)/tau' }, /'dv\/dt = foo\(v\)\/tau': unknown function 'foo'/);
    fails({ equations: 'dv/dt = exp(v, 2)' }, /function 'exp' takes 1 argument/);
    fails({ threshold: undefined, reset: undefined, equations: 'v = v - s' }, /unknown symbol 's'.*needs a threshold/);
  });
  it('malformed equations', () => {
    fails({ equations: 'dv/dt = (-(v - vrest) + R*I/tau' }, /equation 'dv\/dt = \(-\(v - vrest\) \+ R\*I\/tau' is malformed/);
    fails({ equations: 'dv/dt (v + 1)' }, /'dv\/dt \(v \+ 1\)' is malformed.*dx\/dt = expression/);
    fails({ equations: 'dv/dt = ' }, /right-hand side is empty/);
    fails({ equations: ['dv/dt = -v', 'dv/dt = v'] }, /defines 'v' a second time/);
    fails({ equations: [] }, /no equations/);
    fails({ reset: 'w = 0' }, /reset 'w = 0' assigns 'w', which is not a state variable/);
    fails({ threshold: 'v >' }, /threshold 'v >' is malformed/);
    fails({ equations: 'dI/dt = 1' }, /'I' is reserved/);
  });
  it('bad parameter values, names, methods and overrides', () => {
    fails({ parameters: { ...base.parameters, tau: NaN } }, /parameter tau/);
    fails({ parameters: { ...base.parameters, v: 1 } }, /parameter 'v' clashes/);
    fails({ method: 'rk45' as never }, /method.*euler, exponential/);
    fails({ method: 'exponential', equations: 'dv/dt = -v^2 + I' }, /not linear in 'v'.*euler/);
    fails({ init: { w: 1 } }, /unknown parameter "w"/);
    const m = defineEquationModel(base);
    expect(() => m.resolve({ taum: 3 }, 1)).toThrow(/unknown parameter "taum".*tau/);
    expect(() => m.resolve({ tau: 'x' as never }, 1)).toThrow(/tau/);
    expect(() => m.resolve({}, 0)).toThrow(/dtMs/);
    const p = m.resolve({}, 1);
    const st = m.init(backend, 2, 2, p);
    expect(() => m.step(backend, p, st, backend.tensor([4, 1]))).toThrow(ShapeError);
  });
});
