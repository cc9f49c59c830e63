/**
 * Simulating feed-forward NIR graphs on the engine (src/interop/nir-sim.ts): the zero-order-hold
 * mapping is checked against closed-form solutions of the NIR equations, and what cannot be
 * represented is refused with the node, the parameter and the reason.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nirNeuronTypes, planNir, readNir, Rng, simulateNir, type NirArray, type NirGraph, type NirNode } from '../src/index.js';
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

describe('spike convention', () => {
  it("'dirac': a spike is a pulse of unit integral, so lif2's jump per lif1 spike is R·w/τ = 100 at any dt (and lif2, threshold 20, fires); 'step' scales it with dt", async () => {
    const doc = await readNir(fixture('two_lif_neurons'));
    /** lif2's voltage in the step of lif1's first spike, and lif2's spike count over 20 ms. */
    const jump = (dtMs: number, spikes: 'step' | 'dirac'): { v: number; fired: number } => {
      const sim = simulateNir(doc.graph, new Float32Array(Math.round(20 / dtMs)), { dtMs, spikes });
      const t = sim.nodes[0].spikes!.indexOf(1);
      return { v: sim.nodes[1].voltage[t], fired: sim.nodes[1].spikes!.reduce((a, b) => a + b, 0) };
    };
    // 'step': (1 − β)·R·w, proportional to dt
    expect(jump(0.1, 'step').v).toBeCloseTo(1 - Math.exp(-0.01), 6);
    expect(jump(0.01, 'step').v).toBeCloseTo(1 - Math.exp(-0.001), 6);
    // 'dirac': (1 − β)·R·w/dt → R·w/τ = 100, within dt/(2τ) of it; the threshold 20 is crossed at the first spike
    const withHighThreshold = JSON.parse(JSON.stringify({ ...doc.graph, nodes: {} })) as NirGraph;
    withHighThreshold.nodes = { ...doc.graph.nodes, lif2: { ...doc.graph.nodes.lif2, params: { ...doc.graph.nodes.lif2.params, v_threshold: vec([1e6]) } } };
    for (const dtMs of [1, 0.1, 0.01]) {
      const sim = simulateNir(withHighThreshold, new Float32Array(Math.round(20 / dtMs)), { dtMs, spikes: 'dirac' });
      const t = sim.nodes[0].spikes!.indexOf(1);
      expect(Math.abs(sim.nodes[1].voltage[t] - 100) / 100).toBeLessThan(dtMs / 10 / 2 + 1e-6);
    }
    expect(jump(0.1, 'dirac').fired).toBe(1);
    expect(jump(0.1, 'step').fired).toBe(0);
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
  it('the Sinabs CNN: its first Conv2d is named', async () => {
    const cnn = await readNir(fixture('cnn_sinabs'));
    expect(() => planNir(cnn.graph, 1)).toThrow(/^not supported yet: node 0 of type Conv2d \(supported: Affine, Linear, Scale, Flatten, Delay, LIF, IF, LI, CubaLIF, CubaLI, I, Threshold, Input, Output\)/);
    expect(nirNeuronTypes()).toEqual(['LIF', 'IF', 'LI', 'CubaLIF', 'CubaLI', 'I', 'Threshold']);
  });

  it('per-neuron time constants, a nonzero v_reset, a missing parameter, mismatched sizes, branches, no dt', () => {
    const lif = (params: Record<string, NirArray>): NirNode => ({
      type: 'LIF', params: { tau: vec([0.01, 0.01]), r: vec([1, 1]), v_leak: vec([0, 0]), v_threshold: vec([1, 1]), ...params },
    });
    const W = [[1], [1]];
    expect(() => planNir(chain(1, W, undefined, lif({ tau: vec([0.01, 0.02]) })), 1)).toThrow(/node n of type LIF: parameter tau differs between neurons \(0\.01 to 0\.02\); .* split the node into nodes of equal tau/);
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

describe('recurrent layers, delays, nested graphs and the other node types', () => {
  it('braille (snnTorch): the CubaLIF with a recurrent Affine back to itself becomes one recurrent synaptic layer, equal to the NIR equations stepped by hand', async () => {
    const doc = await readNir(fixture('braille_noDelay_bias_zero'));
    const dtMs = 0.1;
    const plan = planNir(doc.graph, dtMs);
    expect(plan.layers.map((l) => [l.node, l.type, l.spec.model, l.spec.recurrent ?? '-', l.linear.join('+'), (l.recurrentLinear ?? []).join('+')]))
      .toEqual([['lif1.lif', 'CubaLIF', 'synaptic', 'all-to-all', 'fc1', 'lif1.w_rec'], ['lif2', 'CubaLIF', 'synaptic', '-', 'fc2', '']]);
    const n = doc.graph.nodes;
    const p1 = n['lif1.lif'].params, wr = n['lif1.w_rec'].params, f1 = n.fc1.params;
    const num = (a: NirArray, k = 0): number => Number(a.data[k]);
    const alpha = Math.exp(-dtMs / 1000 / num(p1.tau_syn)), beta = Math.exp(-dtMs / 1000 / num(p1.tau_mem));
    const g = (1 - alpha) * (1 - beta) * num(p1.r) * num(p1.w_in);
    // the recurrent weights are the Affine's [out, in] transposed to the engine's [from, to], times the gain; both biases enter
    expect(plan.layers[0].wRec![3 * 38 + 5]).toBeCloseTo(num(wr.weight, 5 * 38 + 3) * g, 5);
    expect(plan.layers[0].bias[7]).toBeCloseTo((num(f1.bias, 7) + num(wr.bias, 7)) * g, 5);
    // the NIR equations for piecewise-constant input, the recurrent input being the spikes of the step before (as snnTorch's RSynaptic)
    const T = 400, rng = new Rng(11), x = new Float32Array(T * 12);
    for (let k = 0; k < x.length; k++) x[k] = rng.uniform() < 0.3 ? 1 : 0;
    const sim = simulateNir(doc.graph, x, { dtMs });
    const isyn = new Float64Array(38), v = new Float64Array(38);
    let s = new Float64Array(38);
    let mismatches = 0, total = 0, firstMismatch = T;
    for (let t = 0; t < T; t++) {
      const drive = new Float64Array(38);
      for (let j = 0; j < 38; j++) {
        let a = num(f1.bias, j) + num(wr.bias, j);
        for (let k = 0; k < 12; k++) a += num(f1.weight, j * 12 + k) * x[t * 12 + k];
        for (let k = 0; k < 38; k++) a += num(wr.weight, j * 38 + k) * s[k];
        drive[j] = a;
      }
      const ns = new Float64Array(38);
      for (let j = 0; j < 38; j++) {
        isyn[j] = alpha * isyn[j] + g * drive[j];
        v[j] = beta * v[j] + isyn[j];
        if (v[j] > num(p1.v_threshold, j)) { ns[j] = 1; v[j] = 0; }
        if (ns[j] !== sim.nodes[0].spikes![t * 38 + j]) { mismatches++; firstMismatch = Math.min(firstMismatch, t); }
        if (t < firstMismatch) expect(Math.abs(sim.nodes[0].voltage[t * 38 + j] - v[j])).toBeLessThan(1e-4);
        total++;
      }
      s = ns;
    }
    expect(sim.nodes[0].spikes!.reduce((a, b) => a + b, 0)).toBeGreaterThan(20); // the layer fires, and its recurrence acts
    expect(mismatches / total).toBeLessThan(0.005); // float32 against float64: a spike at the threshold's edge may flip
  });

  it('a LIF with an Affine from itself back to itself: the recurrent input is its spike of the step before, through the gain (1 − β)·R', () => {
    const g = chain(1, [[1]], undefined, { type: 'LIF', params: { tau: vec([0.01]), r: vec([1]), v_leak: vec([0]), v_threshold: vec([0.5]) } });
    g.nodes.rec = { type: 'Affine', params: { weight: arr([1, 1], [2]), bias: vec([0]) } };
    g.edges.push({ src: 'n', dst: 'rec' }, { src: 'rec', dst: 'n' });
    const plan = planNir(g, 1);
    expect(plan.layers[0].spec.recurrent).toBe('one-to-one'); // a diagonal loop: one weight per neuron
    const input = [[100], [0], [0], [0]];
    const sim = simulateNir(g, input, { dtMs: 1 });
    const b = Math.exp(-0.1);
    expect(Array.from(sim.nodes[0].spikes!)).toEqual([1, 0, 0, 0]); // 0.5 < (1 − β)·100, then reset to 0
    expect(sim.nodes[0].voltage[1]).toBeCloseTo((1 - b) * 2, 6); // step 1: the spike of step 0 through the loop
    expect(sim.nodes[0].voltage[2]).toBeCloseTo(b * (1 - b) * 2, 6);
    const two: NirGraph = JSON.parse(JSON.stringify({ ...g, nodes: {} }));
    two.nodes = { ...g.nodes, rec2: g.nodes.rec };
    two.edges = [...g.edges, { src: 'n', dst: 'rec2' }, { src: 'rec2', dst: 'n' }];
    expect(() => planNir(two, 1)).toThrow(/node n of type LIF has 2 recurrent loops/);
    const viaNeuron: NirGraph = { nodes: { ...g.nodes, m: g.nodes.n }, edges: [...g.edges.filter((e) => e.src !== 'rec'), { src: 'rec', dst: 'm' }, { src: 'm', dst: 'n' }] };
    expect(() => planNir(viaNeuron, 1)).toThrow(/node m of type LIF is in a loop; only linear nodes/);
  });

  it('Delay: whole steps of dt become synaptic delays (per input before the Affine, per neuron after it); a delay that is not a whole number of steps is refused', () => {
    const li = (nOut: number): NirNode => ({ type: 'LI', params: { tau: vec(new Array(nOut).fill(0.005)), r: vec(new Array(nOut).fill(1)), v_leak: vec(new Array(nOut).fill(0)) } });
    const withDelay = (d: number[]): NirGraph => ({
      nodes: {
        in: { type: 'Input', params: { shape: vec([2]) } }, d: { type: 'Delay', params: { delay: vec(d) } },
        fc: { type: 'Linear', params: { weight: arr([2, 2], [1, 0.5, -1, 2]) } }, n: li(2), out: { type: 'Output', params: { shape: vec([2]) } },
      },
      edges: [{ src: 'in', dst: 'd' }, { src: 'd', dst: 'fc' }, { src: 'fc', dst: 'n' }, { src: 'n', dst: 'out' }],
    });
    const input = Array.from({ length: 30 }, (_, t) => [t === 2 ? 1 : 0, t === 4 ? 1 : 0]);
    const plain = simulateNir(withDelay([0, 0]), input, { dtMs: 1 }).nodes[0].voltage;
    const uniform = planNir(withDelay([0.003, 0.003]), 1);
    expect(uniform.layers[0].spec.delays).toBe(3);
    const delayed = simulateNir(withDelay([0.003, 0.003]), input, { dtMs: 1 }).nodes[0].voltage;
    for (let t = 3; t < 30; t++) for (let j = 0; j < 2; j++) expect(delayed[t * 2 + j]).toBeCloseTo(plain[(t - 3) * 2 + j], 6);
    const perInput = planNir(withDelay([0.002, 0]), 1).layers[0].spec.delays as Int32Array;
    expect(Array.from(perInput)).toEqual([2, 2, 0, 0]); // [in, out]: input 0 is delayed on both its connections
    expect(() => planNir(withDelay([0.0015, 0]), 1)).toThrow(/node d of type Delay: parameter delay 0\.0015 s is not a whole number of steps of dt = 1 ms \(1\.5 steps\)/);
  });

  it('a nested graph (with its own Input and Output) and a Flatten simulate as the same chain written flat', () => {
    const lif: NirNode = { type: 'LIF', params: { tau: vec([0.01, 0.01]), r: vec([1, 1]), v_leak: vec([0.2, 0]), v_threshold: vec([1, 1]) } };
    const flat = chain(2, [[1, 0.5], [-0.5, 2]], [0.1, 0.2], lif);
    const inner: NirGraph = {
      nodes: { i: { type: 'Input', params: { shape: vec([2]) } }, fc: flat.nodes.fc, n: lif, o: { type: 'Output', params: { shape: vec([2]) } } },
      edges: [{ src: 'i', dst: 'fc' }, { src: 'fc', dst: 'n' }, { src: 'n', dst: 'o' }],
    };
    const nested: NirGraph = {
      nodes: { in: flat.nodes.in, f: { type: 'Flatten', params: { input_type: { shape: [2], data: [1, 2] }, start_dim: { shape: [], data: [0] } } }, sub: { type: 'NIRGraph', params: {}, graph: inner }, out: flat.nodes.out },
      edges: [{ src: 'in', dst: 'f' }, { src: 'f', dst: 'sub' }, { src: 'sub', dst: 'out' }],
    };
    expect(planNir(nested, 0.5).layers.map((l) => [l.node, l.linear.join('+')])).toEqual([['sub.n', 'f+sub.i+sub.fc']]);
    const input = Array.from({ length: 120 }, (_, t) => [Math.sin(t / 7) * 3, 1.5]);
    const a = simulateNir(flat, input, { dtMs: 0.5 }).nodes[0], b = simulateNir(nested, input, { dtMs: 0.5 }).nodes[0];
    expect(Array.from(b.spikes!)).toEqual(Array.from(a.spikes!));
    expect(Array.from(b.voltage)).toEqual(Array.from(a.voltage));
    expect(a.spikes!.reduce((x, y) => x + y, 0)).toBeGreaterThan(3);
  });

  it('Threshold (z = H(x − θ), per-neuron θ), I (dv/dt = R·I) and CubaLI (the CubaLIF voltage without spikes)', () => {
    const thr = simulateNir(chain(1, [[1], [1]], undefined, { type: 'Threshold', params: { threshold: vec([0.5, 1]) } }), [[0.4], [0.7], [1.2], [0.2]], { dtMs: 1 }).nodes[0];
    expect(Array.from(thr.spikes!)).toEqual([0, 0, 1, 0, 1, 1, 0, 0]);
    const integ = simulateNir(chain(1, [[2]], undefined, { type: 'I', params: { r: vec([50]) } }), [[1], [1], [-0.5], [0]], { dtMs: 2 }).nodes[0];
    expect(Array.from(integ.voltage).map((v) => +v.toFixed(6))).toEqual([0.2, 0.4, 0.3, 0.3]); // 0.002 s·50·2·x per step
    expect(integ.spikes).toBeUndefined();
    const cubaParams = { tau_syn: vec([0.002]), tau_mem: vec([0.01]), r: vec([2]), v_leak: vec([0]), w_in: vec([1.5]) };
    const input = Array.from({ length: 50 }, (_, t) => [t < 20 ? 1 : 0]);
    const li = simulateNir(chain(1, [[1]], undefined, { type: 'CubaLI', params: cubaParams }), input, { dtMs: 0.5 }).nodes[0];
    const lif = simulateNir(chain(1, [[1]], undefined, { type: 'CubaLIF', params: { ...cubaParams, v_threshold: vec([1e9]) } }), input, { dtMs: 0.5 }).nodes[0];
    expect(Array.from(li.voltage)).toEqual(Array.from(lif.voltage));
    expect(li.spikes).toBeUndefined();
    const fed = chain(1, [[1]], undefined, { type: 'CubaLI', params: cubaParams });
    fed.nodes.l2 = { type: 'Linear', params: { weight: arr([1, 1], [1]) } };
    fed.nodes.n2 = { type: 'LI', params: { tau: vec([0.01]), r: vec([1]), v_leak: vec([0]) } };
    fed.edges = [...fed.edges.filter((e) => e.dst !== 'out'), { src: 'n', dst: 'l2' }, { src: 'l2', dst: 'n2' }, { src: 'n2', dst: 'out' }];
    expect(() => planNir(fed, 1)).toThrow(/node n of type CubaLI feeds n2: a CubaLI node .* must feed the Output/);
  });

  it('per-neuron thresholds: each neuron fires as it would alone, and the voltage is in NIR units', () => {
    const lif = (th: number[]): NirNode => ({ type: 'LIF', params: { tau: vec(th.map(() => 0.02)), r: vec(th.map(() => 1)), v_leak: vec(th.map(() => 0)), v_threshold: vec(th) } });
    const input = Array.from({ length: 300 }, () => [2.5]);
    const both = simulateNir(chain(1, [[1], [1]], undefined, lif([1, 2])), input, { dtMs: 1 }).nodes[0];
    expect(planNir(chain(1, [[1], [1]], undefined, lif([1, 2])), 1).layers[0].vScale).toBeDefined();
    for (const [j, th] of [[0, 1], [1, 2]]) {
      const alone = simulateNir(chain(1, [[1]], undefined, lif([th])), input, { dtMs: 1 }).nodes[0];
      expect(Array.from({ length: 300 }, (_, t) => both.spikes![t * 2 + j])).toEqual(Array.from(alone.spikes!));
      for (let t = 0; t < 300; t++) expect(both.voltage[t * 2 + j]).toBeCloseTo(alone.voltage[t], 5);
    }
    expect(both.spikes!.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
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

  it('simulates the recurrent braille network from a 12-column CSV, recording the recurrent node with --node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-nir-sim-'));
    const inFile = join(dir, 'in.csv'), outFile = join(dir, 'out.csv');
    const rng = new Rng(2);
    writeFileSync(inFile, Array.from({ length: 200 }, () => Array.from({ length: 12 }, () => (rng.uniform() < 0.3 ? 1 : 0)).join(',')).join('\n'));
    const r = await cli('nir', 'simulate', fixture('braille_noDelay_bias_zero'), '--dt-ms', '0.1', '--input', inFile, '-o', outFile, '--node', 'lif1.lif');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/simulated 200 steps of 0\.1 ms \(20 ms\); spikes per node: lif1\.lif \d+, lif2 \d+/);
    const header = readFileSync(outFile, 'utf8').split('\n')[0].split(',');
    expect(header).toHaveLength(2 + 2 * 38);
    expect(header[2]).toBe('lif1.lif.v[0]');
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
    const conv = await cli('nir', 'simulate', fixture('cnn_sinabs'), '--dt-ms', '1', '--input', inFile);
    expect(conv.code).toBe(1);
    expect(conv.err).toMatch(/^error: not supported yet: node 0 of type Conv2d/);
  });
});
