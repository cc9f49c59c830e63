/**
 * Simulating feed-forward NIR graphs on the engine (src/interop/nir-sim.ts): the zero-order-hold
 * mapping is checked against closed-form solutions of the NIR equations, and what cannot be
 * represented is refused with the node, the parameter and the reason.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nirNeuronTypes, planNir, readNir, simulateNir, type NirArray, type NirGraph, type NirNode } from '../src/index.js';
import { cli } from './cli.helpers.js';

const fixture = (name: string): string => join(import.meta.dirname, 'fixtures', 'nir', `${name}.nir`);
const arr = (shape: number[], values: number[]): NirArray => ({ shape, data: Float32Array.from(values) });
const vec = (values: number[]): NirArray => arr([values.length], values);
const spikeSteps = (s: Float32Array): number[] => [...s.keys()].filter((t) => s[t] === 1);

/** Input(nIn) -> Affine -> neuron -> Output, built in code. */
function chain(nIn: number, weight: number[][], bias: number[] | undefined, neuron: NirNode): NirGraph {
  const out = weight.length;
  return {
    nodes: {
      in: { type: 'Input', params: { shape: vec([nIn]) } },
      fc: { type: bias ? 'Affine' : 'Linear', params: { weight: arr([out, nIn], weight.flat()), ...(bias ? { bias: vec(bias) } : {}) } },
      n: neuron,
      out: { type: 'Output', params: { shape: vec([out]) } },
    },
    edges: [{ src: 'in', dst: 'fc' }, { src: 'fc', dst: 'n' }, { src: 'n', dst: 'out' }],
  };
}

describe('two_lif_neurons.nir at dt = 0.1 ms', () => {
  it('lif1 fires by itself (v_leak 1.2 > threshold 1) with the period the LIF equation predicts', async () => {
    const doc = await readNir(fixture('two_lif_neurons'));
    const dtMs = 0.1;
    const sim = simulateNir(doc.graph, new Float32Array(2000), { dtMs }); // zero input: the leak alone drives lif1
    const lif1 = sim.nodes.find((n) => n.node === 'lif1')!;
    // from v = 0 (rest and reset), v(t) = v_leak·(1 − e^{−t/τ}) reaches θ at T = τ·ln(v_leak / (v_leak − θ)) = 10 ms·ln 6
    const periodMs = 10 * Math.log(1.2 / (1.2 - 1));
    expect(periodMs).toBeCloseTo(17.9176, 4);
    // the crossing is seen at the end of the first step past T, and the reset starts the next cycle there:
    // the simulated period is (floor(T/dt) + 1)·dt = 18.0 ms, within one step of T
    const steps = spikeSteps(lif1.spikes!);
    expect(steps).toEqual([179, 359, 539, 719, 899, 1079, 1259, 1439, 1619, 1799, 1979]);
    const simPeriodMs = (steps[1] - steps[0]) * dtMs;
    expect(simPeriodMs).toBeCloseTo((Math.floor(periodMs / dtMs) + 1) * dtMs, 9);
    expect(simPeriodMs - periodMs).toBeGreaterThanOrEqual(0);
    expect(simPeriodMs - periodMs).toBeLessThan(dtMs);
    expect((steps[0] + 1) * dtMs - periodMs).toBeLessThan(dtMs); // first spike at the end of step 179: 18.0 ms
    // between spikes the voltage follows the closed form exactly (float32 rounding only)
    for (const t of [0, 50, 178]) expect(lif1.voltage[t]).toBeCloseTo(1.2 * -Math.expm1(-((t + 1) * dtMs) / 10), 5);
    expect(lif1.voltage[179]).toBe(0); // reset to zero in the spike's step
  });

  it('lif2 integrates lif1: a jump of (1 − β)·R·w at each lif1 spike, decay by β = e^{−dt/τ} in between, no spike (threshold 20)', async () => {
    const doc = await readNir(fixture('two_lif_neurons'));
    const sim = simulateNir(doc.graph, new Float32Array(1000), { dtMs: 0.1 });
    const [lif1, lif2] = sim.nodes;
    expect(sim.outputNode).toBe('lif2');
    const beta = Math.exp(-0.1 / 10);
    let v = 0;
    for (let t = 0; t < sim.steps; t++) {
      v = beta * v + (1 - beta) * lif1.spikes![t];
      expect(lif2.voltage[t]).toBeCloseTo(v, 6);
    }
    expect(lif2.voltage[179]).toBeCloseTo(1 - beta, 6); // 0.00995: one spike's worth
    expect(lif2.voltage[359]).toBeGreaterThan(lif2.voltage[179]); // the second spike adds to what is left of the first
    expect(spikeSteps(lif2.spikes!)).toEqual([]);
  });
});

describe('agreement with the exact solution of the NIR equations', () => {
  /** Exact v at the end of each step for piecewise-constant drive v_∞[t]: v ← v_∞ + (v − v_∞)·e^{−dt/τ}, in float64. */
  function exactLeaky(vInf: (t: number) => number, steps: number, dtMs: number, tauMs: number): number[] {
    const out: number[] = [];
    let v = 0;
    for (let t = 0; t < steps; t++) {
      v = vInf(t) + (v - vInf(t)) * Math.exp(-dtMs / tauMs);
      out.push(v);
    }
    return out;
  }

  it('LIF below threshold: the simulated voltage equals the exact solution for piecewise-constant input (bound 1e-5, float32 rounding; no dt error)', () => {
    const W = [[0.5, -1], [2, 0.25], [-0.75, 1.5]], b = [0.1, -0.2, 0.3];
    const r = [1, 2, 0.5], vLeak = [0, 0.3, -0.2], tau = 0.005; // 5 ms
    const g = chain(2, W, b, { type: 'LIF', params: { tau: vec([tau, tau, tau]), r: vec(r), v_leak: vec(vLeak), v_threshold: vec([100, 100, 100]) } });
    const segment = (t: number): number[] => [Math.sin(Math.floor(t / 37) * 1.7), Math.cos(Math.floor(t / 37) * 0.9)];
    for (const dtMs of [0.1, 1]) { // a large dt is as exact: the hold is solved, not approximated
      const steps = 300;
      const input = Array.from({ length: steps }, (_, t) => segment(t));
      const sim = simulateNir(g, input, { dtMs });
      const v = sim.nodes[0].voltage;
      let maxErr = 0, maxV = 0;
      for (let j = 0; j < 3; j++) {
        const drive = (t: number): number => vLeak[j] + r[j] * (b[j] + W[j][0] * input[t][0] + W[j][1] * input[t][1]);
        const exact = exactLeaky(drive, steps, dtMs, tau * 1000);
        for (let t = 0; t < steps; t++) {
          maxErr = Math.max(maxErr, Math.abs(v[t * 3 + j] - exact[t]));
          maxV = Math.max(maxV, Math.abs(exact[t]));
        }
      }
      expect(maxV).toBeGreaterThan(0.5);
      expect(maxErr).toBeLessThan(1e-5);
    }
  });

  it('LI (leaky integrator, no spikes) equals the exact solution with its leak voltage and resistance', () => {
    const g = chain(1, [[2]], undefined, { type: 'LI', params: { tau: vec([0.02]), r: vec([1.5]), v_leak: vec([-0.4]) } });
    const input = Array.from({ length: 200 }, (_, t) => [t < 80 ? 1 : -0.5]);
    const sim = simulateNir(g, input, { dtMs: 0.5 });
    const exact = exactLeaky((t) => -0.4 + 1.5 * 2 * input[t][0], 200, 0.5, 20);
    for (let t = 0; t < 200; t++) expect(sim.nodes[0].voltage[t]).toBeCloseTo(exact[t], 5);
    expect(sim.nodes[0].spikes).toBeUndefined();
  });

  it('IF: v grows by dt·R·I per step and fires at the first step end past θ/(R·I), period floor(T/dt) + 1 steps', () => {
    const g = chain(1, [[1]], undefined, { type: 'IF', params: { r: vec([4]), v_threshold: vec([1]) } });
    const dtMs = 0.1, I = 3; // dv/dt = 12 /s: θ reached after T = 1/12 s = 83.33 ms
    const sim = simulateNir(g, new Float32Array(2000).fill(I), { dtMs });
    const T = 1000 / (4 * I);
    const steps = spikeSteps(sim.nodes[0].spikes!);
    expect(steps.length).toBeGreaterThan(1);
    expect((steps[1] - steps[0]) * dtMs - T).toBeGreaterThanOrEqual(0);
    expect((steps[1] - steps[0]) * dtMs - T).toBeLessThan(dtMs);
    expect(sim.nodes[0].voltage[9]).toBeCloseTo(10 * (dtMs / 1000) * 4 * I, 6);
  });

  it('CubaLIF: within the first-order bound R·w_in·x·dt/τ_syn of the exact step response, and the error halves with dt', () => {
    const tauSyn = 0.002, tauMem = 0.01, r = 2, wIn = 1.5, x = 0.8;
    const g = chain(1, [[1]], undefined, {
      type: 'CubaLIF', params: { tau_syn: vec([tauSyn]), tau_mem: vec([tauMem]), r: vec([r]), v_leak: vec([0]), v_threshold: vec([100]), w_in: vec([wIn]) },
    });
    // exact: I(t) = w_in·x·(1 − e^{−t/τs}); v(t) = R·w_in·x·[1 − (τm·e^{−t/τm} − τs·e^{−t/τs}) / (τm − τs)]
    const exact = (tS: number): number => r * wIn * x * (1 - (tauMem * Math.exp(-tS / tauMem) - tauSyn * Math.exp(-tS / tauSyn)) / (tauMem - tauSyn));
    const maxErr = (dtMs: number): number => {
      const steps = Math.round(20 / dtMs); // 20 ms
      const sim = simulateNir(g, new Float32Array(steps).fill(x), { dtMs });
      let e = 0;
      for (let t = 0; t < steps; t++) e = Math.max(e, Math.abs(sim.nodes[0].voltage[t] - exact(((t + 1) * dtMs) / 1000)));
      return e;
    };
    const e1 = maxErr(0.1), e2 = maxErr(0.05);
    expect(e1).toBeLessThan((r * wIn * x * 0.1e-3) / tauSyn); // 0.12
    expect(e1).toBeGreaterThan(1e-4); // the approximation is visible ...
    expect(e2 / e1).toBeGreaterThan(0.4); // ... and first order
    expect(e2 / e1).toBeLessThan(0.6);
  });
});

describe('what cannot be represented is refused, naming node, parameter and reason', () => {
  it('the recurrent snnTorch braille network and the Sinabs CNN', async () => {
    const braille = await readNir(fixture('braille_noDelay_bias_zero'));
    expect(() => planNir(braille.graph, 1)).toThrow(/recurrent edge lif1\.w_rec -> lif1\.lif: recurrent layers are not supported yet/);
    const cnn = await readNir(fixture('cnn_sinabs'));
    expect(() => planNir(cnn.graph, 1)).toThrow(/node 0 of type Conv2d: not supported yet \(supported: Affine, Linear, Scale, LIF, IF, LI, CubaLIF, Input, Output\)/);
    expect(nirNeuronTypes()).toEqual(['LIF', 'IF', 'LI', 'CubaLIF']);
  });

  it('per-neuron time constants, a nonzero v_reset, a missing parameter, mismatched sizes, branches, no dt', () => {
    const lif = (params: Record<string, NirArray>): NirNode => ({
      type: 'LIF', params: { tau: vec([0.01, 0.01]), r: vec([1, 1]), v_leak: vec([0, 0]), v_threshold: vec([1, 1]), ...params },
    });
    const W = [[1], [1]];
    expect(() => planNir(chain(1, W, undefined, lif({ tau: vec([0.01, 0.02]) })), 1)).toThrow(/node n of type LIF: parameter tau differs between neurons \(0\.01 to 0\.02\)/);
    expect(() => planNir(chain(1, W, undefined, lif({ v_reset: vec([0.5, 0.5]) })), 1)).toThrow(/node n of type LIF: parameter v_reset is not 0/);
    const noThr = lif({}); delete noThr.params.v_threshold;
    expect(() => planNir(chain(1, W, undefined, noThr), 1)).toThrow(/node n of type LIF: parameter v_threshold is missing/);
    expect(() => planNir(chain(1, [[1], [1], [1]], undefined, lif({})), 1)).toThrow(/node n of type LIF: it has 2 neurons but receives 3 values \(from fc\)/);
    const branched = chain(1, W, undefined, lif({}));
    branched.nodes.extra = lif({});
    branched.edges.push({ src: 'fc', dst: 'extra' });
    expect(() => planNir(branched, 1)).toThrow(/node fc has 2 outgoing edges \(n, extra\): branching graphs are not supported yet/);
    expect(() => planNir(chain(1, W, undefined, lif({})), 0)).toThrow(/dtMs = 0/);
  });

  it('Linear, Scale and Affine in a row compose into one weight matrix', () => {
    const g: NirGraph = {
      nodes: {
        in: { type: 'Input', params: { shape: vec([2]) } },
        a: { type: 'Affine', params: { weight: arr([2, 2], [1, 2, 3, 4]), bias: vec([0.5, -0.5]) } },
        s: { type: 'Scale', params: { scale: vec([2, -1]) } },
        l: { type: 'Linear', params: { weight: arr([1, 2], [1, 1]) } },
        n: { type: 'LI', params: { tau: vec([0.01]), r: vec([1]), v_leak: vec([0]) } },
        out: { type: 'Output', params: { shape: vec([1]) } },
      },
      edges: [{ src: 'in', dst: 'a' }, { src: 'a', dst: 's' }, { src: 's', dst: 'l' }, { src: 'l', dst: 'n' }, { src: 'n', dst: 'out' }],
    };
    const plan = planNir(g, 1);
    expect(plan.layers).toHaveLength(1);
    expect(plan.layers[0].linear).toEqual(['a', 's', 'l']);
    // y = [1 1]·diag(2, −1)·(A·x + b): weights [in, out] = [2·1 − 3, 2·2 − 4] = [−1, 0], bias 2·0.5 + 0.5 = 1.5
    expect(Array.from(plan.layers[0].w)).toEqual([-1, 0]);
    expect(Array.from(plan.layers[0].bias)).toEqual([1.5]);
  });
});

describe('sigprop nir simulate', () => {
  it('reads the input CSV, writes the voltage and spikes of the node feeding the Output with a header', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-nir-sim-'));
    const inFile = join(dir, 'in.csv'), outFile = join(dir, 'out.csv');
    writeFileSync(inFile, `x\n${'0\n'.repeat(400)}`);
    const r = await cli('nir', 'simulate', fixture('two_lif_neurons'), '--dt-ms', '0.1', '--input', inFile, '-o', outFile);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('simulated 400 steps of 0.1 ms');
    expect(r.out).toContain('spikes per node: lif1 2, lif2 0');
    const lines = readFileSync(outFile, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('step,time_ms,lif2.v[0],lif2.s[0]');
    expect(lines).toHaveLength(401);
    expect(lines[1].startsWith('0,0.1,0,0')).toBe(true);
    expect(Number(lines[180].split(',')[2])).toBeCloseTo(1 - Math.exp(-0.01), 6); // step 179: lif1's first spike arrives
    const again = await cli('nir', 'simulate', fixture('two_lif_neurons'), '--dt-ms', '0.1', '--input', inFile, '-o', outFile);
    expect(again.code).toBe(1);
    expect(again.err).toContain('out.csv already exists; choose another -o FILE, or pass --force');
    expect((await cli('nir', 'simulate', fixture('two_lif_neurons'), '--dt-ms', '0.1', '--input', inFile, '-o', outFile, '--force')).code).toBe(0);
    const n1 = await cli('nir', 'simulate', fixture('two_lif_neurons'), '--dt-ms', '0.1', '--input', inFile, '--node', 'lif1');
    expect(n1.out.split('\n')[0]).toBe('step,time_ms,lif1.v[0],lif1.s[0]');
    expect(n1.out.split('\n')[180].endsWith(',1')).toBe(true);
  });

  it('refuses a missing --dt-ms, an input with the wrong number of columns, and an unsupported graph', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-nir-sim-'));
    const inFile = join(dir, 'in.csv');
    writeFileSync(inFile, '0,1\n');
    const noDt = await cli('nir', 'simulate', fixture('two_lif_neurons'), '--input', inFile);
    expect(noDt.code).toBe(2);
    expect(noDt.err).toContain('needs --dt-ms');
    const cols = await cli('nir', 'simulate', fixture('two_lif_neurons'), '--dt-ms', '1', '--input', inFile);
    expect(cols.code).toBe(1);
    expect(cols.err).toMatch(/in\.csv line 1: 2 columns, but the NIR Input has 1 channels/);
    const rec = await cli('nir', 'simulate', fixture('braille_noDelay_bias_zero'), '--dt-ms', '1', '--input', inFile);
    expect(rec.code).toBe(1);
    expect(rec.err).toMatch(/^error: recurrent edge lif1\.w_rec -> lif1\.lif/);
  });
});
