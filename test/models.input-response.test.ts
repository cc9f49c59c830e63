/**
 * The models' input responses (NeuronModel.inputResponse) against finite differences: a small
 * layer (3 inputs, 2 neurons, batch 2, 30 steps, I[t] = x[t]·W + b) is run with W ± ε·E_kj and
 * (V(W+εE_kj) − V(W−εE_kj))/2ε is compared with gain·e_k[t], e the chain of first-order filters
 * with the model's decays. From the first step where the perturbation flips a spike of a row,
 * that row is skipped (the detached-reset derivative is only defined between threshold
 * crossings). Exact models must match at every other step; for the linearised ones
 * (izhikevich, adex, a nonlinear equation model) the cosine similarity over the window is
 * printed and only checked to be finite and positive.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Rng } from '../src/rng.js';
import { defineEquationModel, getModel, type InputResponse, type NeuronModel } from '../models/registry.js';

const backend = new ReferenceBackend();
const K = 3, N = 2, B = 2, T = 30;

interface Drive {
  /** 'spikes': Bernoulli(0.3) inputs; 'current': uniform [0, 1). */
  inputs: 'spikes' | 'current';
  /** Weights uniform in [wLo, wHi). */
  wLo: number;
  wHi: number;
  /** Bias per neuron. */
  bias?: number;
  eps: number;
  dtMs?: number;
  seed?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModel = NeuronModel<any>;

/** Run the layer with weights W [K][N]; returns V[t][b][j] and spikes[t][b][j] (0 without spikes). */
function run(m: AnyModel, p: unknown, x: number[][][], W: number[][], bias: number): { v: number[][][]; s: number[][][] } {
  const st = m.init(backend, B, N, p);
  const input = backend.tensor([B, N]);
  const v: number[][][] = [], s: number[][][] = [];
  for (let t = 0; t < T; t++) {
    const I: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < N; j++) {
        let sum = bias;
        for (let k = 0; k < K; k++) sum += x[t][b][k] * W[k][j];
        I.push(sum);
      }
    }
    backend.write(input, I);
    m.step(backend, p, st, input);
    const V = st[m.voltageVar].data, S = m.spikeVar ? st[m.spikeVar].data : undefined;
    v.push([0, 1].map((b) => [0, 1].map((j) => V[b * N + j])));
    s.push([0, 1].map((b) => [0, 1].map((j) => (S ? S[b * N + j] : 0))));
  }
  return { v, s };
}

/** e[t][b][k] of the filter chain of `r` driven by x. */
function traces(r: InputResponse, x: number[][][]): number[][][] {
  const stages = r.decays.map(() => Array.from({ length: B }, () => new Array<number>(K).fill(0)));
  const out: number[][][] = [];
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) {
        let upstream = x[t][b][k];
        r.decays.forEach((d, m) => {
          stages[m][b][k] = d * stages[m][b][k] + upstream;
          upstream = stages[m][b][k];
        });
      }
    }
    out.push(stages[stages.length - 1].map((row) => [...row]));
  }
  return out;
}

interface Check {
  response: InputResponse;
  /** Pairs (finite difference, gain·e) for neuron j and weight W_kj, every kept step and row. */
  fd: number[];
  pred: number[];
  /** Largest |∂V_j'/∂W_kj| for j' ≠ j (must be 0: W_kj feeds neuron j only). */
  cross: number;
  kept: number;
  skipped: number;
  /** Spikes in the unperturbed-weight runs' neighbourhood (the + runs), all rows. */
  spikes: number;
}

function check(m: AnyModel, params: Record<string, unknown>, drive: Drive): Check {
  const p = m.resolve(params, drive.dtMs ?? 1);
  const response = m.inputResponse!(p);
  const rng = new Rng(drive.seed ?? 7);
  const x = Array.from({ length: T }, () =>
    Array.from({ length: B }, () => Array.from({ length: K }, () => (drive.inputs === 'spikes' ? rng.bernoulli(0.3) : rng.uniform()))));
  const W = Array.from({ length: K }, () => Array.from({ length: N }, () => rng.range(drive.wLo, drive.wHi)));
  const e = traces(response, x);
  const out: Check = { response, fd: [], pred: [], cross: 0, kept: 0, skipped: 0, spikes: 0 };
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) {
      const Wp = W.map((r) => [...r]), Wm = W.map((r) => [...r]);
      Wp[k][j] += drive.eps;
      Wm[k][j] -= drive.eps;
      const plus = run(m, p, x, Wp, drive.bias ?? 0), minus = run(m, p, x, Wm, drive.bias ?? 0);
      if (k === 0) for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out.spikes += plus.s[t][b][j];
      for (let b = 0; b < B; b++) {
        let flipped = false;
        for (let t = 0; t < T; t++) {
          flipped ||= plus.s[t][b][j] !== minus.s[t][b][j];
          if (flipped) {
            out.skipped++;
            continue;
          }
          out.kept++;
          out.fd.push((plus.v[t][b][j] - minus.v[t][b][j]) / (2 * drive.eps));
          out.pred.push(response.gain * e[t][b][k]);
          const o = 1 - j;
          out.cross = Math.max(out.cross, Math.abs(plus.v[t][b][o] - minus.v[t][b][o]) / (2 * drive.eps));
        }
      }
    }
  }
  return out;
}

/** Largest |fd − pred| / max(1, |pred|). */
function maxRelErr(c: Check): number {
  let worst = 0;
  c.fd.forEach((f, i) => (worst = Math.max(worst, Math.abs(f - c.pred[i]) / Math.max(1, Math.abs(c.pred[i])))));
  return worst;
}

function cosine(a: number[], b: number[]): number {
  let ab = 0, aa = 0, bb = 0;
  a.forEach((x, i) => ((ab += x * b[i]), (aa += x * x), (bb += b[i] * b[i])));
  return ab / Math.sqrt(aa * bb);
}

// State is float32: with ε = 1e-3 on O(1) voltages the central difference carries about
// 1e-4 of rounding; 2e-3 relative (absolute below 1) leaves room and still catches a wrong
// decay, gain or filter order (those err by 1e-1 or more).
const TOL = 2e-3;
const spikesDrive: Drive = { inputs: 'spikes', wLo: 0, wHi: 0.8, eps: 1e-3 };
const currentDrive: Drive = { inputs: 'current', wLo: -0.5, wHi: 1, eps: 1e-3 };

function expectExact(c: Check, opts: { spikes?: boolean } = {}): void {
  expect(c.response.exact).toBe(true);
  expect(c.response.approximation).toBeUndefined();
  expect(c.kept).toBeGreaterThan(c.skipped);
  expect(c.cross).toBe(0);
  expect(maxRelErr(c)).toBeLessThan(TOL);
  // the drive exercised the model: the derivative is not trivially 0
  expect(Math.max(...c.pred.map(Math.abs))).toBeGreaterThan(0.5 * c.response.gain);
  if (opts.spikes) expect(c.spikes).toBeGreaterThan(0);
}

describe('inputResponse: exact models match finite differences between threshold crossings', () => {
  it('lif, reset subtract (delayed and immediate) and none: decays [β], gain 1', () => {
    for (const params of [{ beta: 0.85 }, { beta: 0.85, resetDelay: false }, { beta: 0.7, reset: 'none' }]) {
      const c = check(getModel('lif'), params, spikesDrive);
      expect(c.response.decays).toEqual([params.beta]);
      expect(c.response.gain).toBe(1);
      expectExact(c, { spikes: true });
    }
  });

  it('lif, reset zero: an approximation (exact false, one line saying so)', () => {
    const r = getModel('lif').inputResponse!(getModel('lif').resolve({ beta: 0.9, reset: 'zero' }, 1));
    expect(r).toMatchObject({ decays: [0.9], gain: 1, exact: false });
    expect(r.approximation).toMatch(/zero/);
  });

  it('synaptic: decays [α, β] in that order, gain 1', () => {
    for (const params of [{ alpha: 0.6, beta: 0.85 }, { alpha: 0.9, beta: 0.5, reset: 'none' }]) {
      const c = check(getModel('synaptic'), params, spikesDrive);
      expect(c.response.decays).toEqual([params.alpha, params.beta]);
      expectExact(c, { spikes: true });
    }
  });

  it('leaky, every integrator: decays [1 − g], gain g', () => {
    for (const method of ['exact', 'euler', 'rk4']) {
      const c = check(getModel('leaky'), { tauMs: 4, method }, currentDrive);
      const g = c.response.gain;
      expect(g).toBeGreaterThan(0);
      expect(c.response.decays).toEqual([1 - g]);
      expectExact(c);
    }
    expect(getModel('leaky').inputResponse!(getModel('leaky').resolve({ tauMs: 10 }, 1)).gain).toBeCloseTo(1 - Math.exp(-0.1), 6);
  });

  it('li: U[t] = β·U[t−1] + I[t], no spikes, output u', () => {
    const m = getModel('li');
    expect(m.stateVars).toEqual(['u']);
    expect([m.voltageVar, m.outputVar, m.spikeVar]).toEqual(['u', 'u', undefined]);
    const p = m.resolve({ beta: 0.5 }, 1);
    const st = m.init(backend, 1, 1, p);
    const x = backend.tensor([1, 1]);
    const u: number[] = [];
    for (const i of [1, 1, 1, -2]) {
      backend.write(x, [i]);
      m.step(backend, p, st, x);
      u.push(st.u.data[0]);
    }
    expect(u).toEqual([1, 1.5, 1.75, -1.125]);
    expect(() => m.resolve({ betta: 0.5 }, 1)).toThrow(/did you mean "beta"/);
  });

  it('li: decays [β], gain 1', () => {
    const c = check(getModel('li'), { tauMs: 5 }, currentDrive);
    expect(c.response.decays[0]).toBeCloseTo(Math.exp(-1 / 5), 12);
    expect(c.response.gain).toBe(1);
    expectExact(c);
  });

  it('equation-defined LIF-like models (discrete, euler, exponential) are exact', () => {
    const discrete = defineEquationModel({
      name: 'ir-eq-lif', equations: 'u = beta*u + I - s*thr', threshold: 'u > thr', parameters: { beta: 0.85, thr: 1 },
    });
    const c1 = check(discrete, {}, spikesDrive);
    expect(c1.response).toMatchObject({ decays: [0.85], gain: 1 });
    expectExact(c1, { spikes: true });
    for (const method of ['euler', 'exponential'] as const) {
      const ode = defineEquationModel({
        name: `ir-eq-ode-${method}`, equations: 'dv/dt = (-(v - vrest) + R*I)/tau', threshold: 'v > vth', reset: 'v -= vth',
        parameters: { vrest: 0, R: 2, tau: 5, vth: 1 }, method,
      });
      const c = check(ode, {}, spikesDrive);
      const decay = method === 'euler' ? 1 - 1 / 5 : Math.exp(-1 / 5);
      expect(c.response.decays[0]).toBeCloseTo(decay, 12);
      expect(c.response.gain).toBeCloseTo(method === 'euler' ? 2 / 5 : 2 * (1 - Math.exp(-1 / 5)), 12);
      expectExact(c, { spikes: true });
    }
  });

  it('equation models: a reset to a constant, another state variable feeding v or a nonlinear rhs are approximations', () => {
    const zero = defineEquationModel({ name: 'ir-eq-zero', equations: 'dv/dt = (-v + I)/tau', threshold: 'v > 1', reset: 'v = 0', parameters: { tau: 5 } });
    const r0 = zero.inputResponse!(zero.resolve({}, 1));
    expect(r0).toMatchObject({ decays: [0.8], gain: 0.2, exact: false });
    expect(r0.approximation).toMatch(/reset of v ignored/);
    const adapt = defineEquationModel({
      name: 'ir-eq-adapt', equations: ['dv/dt = (-v - w + I)/tau', 'dw/dt = (a*v - w)/tauw'], threshold: 'v > 1', reset: ['v -= 1', 'w += b'],
      parameters: { tau: 5, tauw: 50, a: 0.5, b: 0.1 },
    });
    const ra = adapt.inputResponse!(adapt.resolve({}, 1));
    expect(ra.exact).toBe(false);
    expect(ra.approximation).toMatch(/w held fixed/);
  });
});

describe('inputResponse: linearised models (cosine similarity with finite differences)', () => {
  const report = (label: string, c: Check): number => {
    const cos = cosine(c.fd, c.pred);
    console.info(`inputResponse ${label}: cosine ${cos.toFixed(4)} over ${c.kept} steps (${c.spikes} spikes; ${c.skipped} skipped after a flipped spike); ${c.response.approximation}`);
    expect(c.response.exact).toBe(false);
    expect(c.response.approximation).toBeTruthy();
    expect(Number.isFinite(cos)).toBe(true);
    expect(cos).toBeGreaterThan(0);
    return cos;
  };

  it('izhikevich (RS, I ≈ 0–15, spiking)', () => {
    const c = check(getModel('izhikevich'), { preset: 'RS' }, { inputs: 'current', wLo: 0, wHi: 6, eps: 1e-3 });
    expect(c.response.decays[0]).toBeCloseTo(0.49, 6); // (1 + 0.5·(−0.6))² at v = −70 mV
    report('izhikevich RS', c);
    const sub = check(getModel('izhikevich'), { preset: 'RS' }, { inputs: 'current', wLo: 0, wHi: 1.5, eps: 1e-3 });
    report('izhikevich RS subthreshold (I ≈ 0–4)', sub);
  });

  it('adex (regular, I ≈ 0–4500 pA, spiking)', () => {
    const c = check(getModel('adex'), {}, { inputs: 'current', wLo: 0, wHi: 1500, eps: 0.05 });
    report('adex regular', c);
    const sub = check(getModel('adex'), {}, { inputs: 'current', wLo: 0, wHi: 200, eps: 0.05 });
    report('adex regular subthreshold (I ≈ 0–500 pA)', sub);
  });

  it('an exponential integrate-and-fire equation model (R·I ≈ 0–120 mV, spiking)', () => {
    const eif = defineEquationModel({
      name: 'ir-eq-eif', equations: 'dv/dt = (-(v - EL) + DT*exp((v - VT)/DT) + R*I)/tau', threshold: 'v > vpeak', reset: 'v = vr',
      parameters: { EL: -65, DT: 2, VT: -50, R: 10, tau: 10, vpeak: 0, vr: -65 }, init: { v: -65 },
    });
    const c = check(eif, {}, { inputs: 'current', wLo: 0, wHi: 4, eps: 1e-3 });
    report('equation EIF', c);
    const sub = check(eif, {}, { inputs: 'current', wLo: 0, wHi: 0.5, eps: 1e-3 });
    report('equation EIF subthreshold (R·I ≈ 0–15 mV)', sub);
  });

  it('an equation model with a synaptic current (the chain I → g → v, one step lag ignored)', () => {
    const syn = defineEquationModel({
      name: 'ir-eq-syn', equations: ['dv/dt = (-v + g)/tau', 'dg/dt = -g/taus + I'], threshold: 'v > 1', reset: 'v -= 1',
      parameters: { tau: 5, taus: 2 },
    });
    const r = syn.inputResponse!(syn.resolve({}, 1));
    expect(r.decays).toEqual([1 - 1 / 2, 1 - 1 / 5]); // input first: g, then v
    expect(r.gain).toBeCloseTo(1 / 5, 12); // dt·1 (into g) × dt/tau (g into v)
    expect(r.approximation).toMatch(/chain I → g → v/);
    report('equation synaptic chain', check(syn, {}, { inputs: 'spikes', wLo: 0, wHi: 2, eps: 1e-3 }));
  });

  it('no input response when I does not reach the voltage', () => {
    const m = defineEquationModel({ name: 'ir-eq-deaf', equations: ['dv/dt = -v/tau', 'dg/dt = -g + I'], parameters: { tau: 5 } });
    expect(m.inputResponse).toBeUndefined();
  });
});
