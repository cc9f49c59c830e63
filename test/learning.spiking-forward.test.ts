/**
 * The spiking forms of PEPITA and DFA (src/learning/pepita-spiking.ts, dfa-spiking.ts): one update
 * on a tiny network equals the update of a plain-loop LIF simulation written here; each learns a
 * small rate-coded task; PEPITA's two passes see the same input spikes and dropout masks; the
 * memory the rules hold is the same at T = 25 and T = 400; wasm agrees with reference.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/registry.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { spikePatternRates } from '../src/data/synthetic.js';
import { createRule, registerRule, type TrainingRule } from '../src/learning/index.js';
import { SpikingDfa } from '../src/learning/dfa-spiking.js';
import type { SpikingPepita } from '../src/learning/pepita-spiking.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';
import { guardedBackend } from './guarded-backend.js';

const ref = new ReferenceBackend();
const K = 5, N = 6, C = 3, B = 3, T = 6;
const beta = 0.8, theta = 0.5, k = 5;
const fsd = (x: number) => 1 / (1 + k * Math.abs(x)) ** 2; // fastSigmoid:k=5 f'

function tiny(rule: 'pepita' | 'dfa', over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    dataset: 'synthetic', rule, mode: 'spiking', layers: [{ size: N, model: 'lif', params: { beta, threshold: theta } }, { size: C }],
    steps: T, encoder: 'direct', optimizer: 'sgd', learningRate: 1, surrogate: `fastSigmoid:k=${k}`,
    ruleParams: { initScale: 3, ...(rule === 'pepita' ? { fScale: 4 } : {}) }, ...over,
  };
}

const x0 = new Rng(11).fillUniform(new Float32Array(B * K));
const labels = Int32Array.from([0, 2, 1]);

function make(cfg: ExperimentConfig, be: Backend = ref, seed = 5): TrainingRule {
  return createRule(cfg, { backend: be, rng: new Rng(seed), inputSize: K, numClasses: C });
}

/** w[k·n + j] as a function. */
const at = (w: Float32Array, n: number) => (i: number, j: number) => w[i * n + j];

function softmax(z: number[]): number[] {
  const m = Math.max(...z), e = z.map((v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Plain-loop LIF window (reset by subtraction one step late, as the model) feeding a leaky readout. */
function simulate(x: (b: number, kk: number) => number, W: Float32Array, bW: Float32Array, Wo: Float32Array, bo: Float32Array,
  onStep: (b: number, st: { U: number[]; S: number[]; e: number[]; eb: number; Uo: number[]; eo: number[]; ebo: number }) => void) {
  for (let b = 0; b < B; b++) {
    const st = { U: new Array(N).fill(0), S: new Array(N).fill(0), e: new Array(K).fill(0), eb: 0, Uo: new Array(C).fill(0), eo: new Array(N).fill(0), ebo: 0 };
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < N; j++) {
        let I = bW[j];
        for (let kk = 0; kk < K; kk++) I += x(b, kk) * W[kk * N + j];
        const v = beta * st.U[j] + I - st.S[j] * theta;
        st.U[j] = v;
        st.S[j] = v - theta > 0 ? 1 : 0;
      }
      for (let kk = 0; kk < K; kk++) st.e[kk] = beta * st.e[kk] + x(b, kk);
      st.eb = beta * st.eb + 1;
      for (let c = 0; c < C; c++) {
        let I = bo[c];
        for (let j = 0; j < N; j++) I += st.S[j] * Wo[j * C + c];
        st.Uo[c] = beta * st.Uo[c] + I;
      }
      for (let j = 0; j < N; j++) st.eo[j] = beta * st.eo[j] + st.S[j];
      st.ebo = beta * st.ebo + 1;
      onStep(b, st);
    }
  }
}

function expectClose(got: Float32Array, want: number[], what: string): void {
  const scale = Math.max(...want.map(Math.abs));
  expect(scale, `${what}: the expected update is not zero`).toBeGreaterThan(1e-4);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThan(1e-5 * scale + 1e-7);
}

describe('spiking DFA', () => {
  it('one update equals a hand-written LIF simulation with per-step error, fixed feedback and presynaptic traces', () => {
    const rule = make(tiny('dfa')) as SpikingDfa;
    const s0 = rule.state();
    const W = s0['layer0.W'], bW = s0['layer0.b'], Wo = s0['readout.W'], bo = s0['readout.b'], Bf = s0['dfa.B0'];
    const gW = new Array(K * N).fill(0), gb = new Array(N).fill(0), gWo = new Array(N * C).fill(0), gbo = new Array(C).fill(0);
    let spikes = 0;
    simulate((b, kk) => x0[b * K + kk], W, bW, Wo, bo, (b, st) => {
      const q = softmax(st.Uo);
      const eps = q.map((v, c) => (v - (labels[b] === c ? 1 : 0)) / B);
      for (let j = 0; j < N; j++) for (let c = 0; c < C; c++) gWo[j * C + c] += st.eo[j] * eps[c];
      for (let c = 0; c < C; c++) gbo[c] += st.ebo * eps[c];
      for (let j = 0; j < N; j++) {
        let d = 0;
        for (let c = 0; c < C; c++) d += eps[c] * Bf[j * C + c];
        d *= fsd(st.U[j] - theta);
        for (let kk = 0; kk < K; kk++) gW[kk * N + j] += st.e[kk] * d;
        gb[j] += st.eb * d;
        spikes += st.S[j];
      }
    });
    expect(spikes).toBeGreaterThan(5);
    rule.trainBatch(x0, labels);
    const s1 = rule.state();
    const upd = (key: string) => Float32Array.from(s1[key], (v, i) => s0[key][i] - v);
    expectClose(upd('layer0.W'), gW.map((g) => g / T), 'ΔW');
    expectClose(upd('layer0.b'), gb.map((g) => g / T), 'Δb');
    expectClose(upd('readout.W'), gWo.map((g) => g / T), 'ΔW_o');
    expectClose(upd('readout.b'), gbo.map((g) => g / T), 'Δb_o');
    expect(Array.from(s1['dfa.B0'])).toEqual(Array.from(Bf)); // the feedback is fixed
  });
});

describe('spiking PEPITA', () => {
  for (const [lastError, centerDifference, antithetic] of [['modulated', true, false], ['clean', false, false], ['modulated', true, true]] as const) {
    it(`one update equals a hand-written LIF simulation of the passes (lastError ${lastError}, centerDifference ${centerDifference}, antithetic ${antithetic})`, () => {
      const cfg = tiny('pepita');
      cfg.ruleParams = { ...cfg.ruleParams, lastError, centerDifference, antithetic };
      const rule = make(cfg) as SpikingPepita;
      const s0 = rule.state();
      const W = s0['layer0.W'], bW = s0['layer0.b'], Wo = s0['readout.W'], bo = s0['readout.b'], F = s0['pepita.F'];
      const pass = (x: (b: number, kk: number) => number) => {
        const counts = new Array(B * N).fill(0), zsum = new Array(B * C).fill(0), tr = new Array(B * N).fill(0);
        simulate(x, W, bW, Wo, bo, (b, st) => {
          for (let j = 0; j < N; j++) (counts[b * N + j] += st.S[j]), (tr[b * N + j] += st.eo[j]);
          for (let c = 0; c < C; c++) zsum[b * C + c] += st.Uo[c];
        });
        const e = Array.from({ length: B }, (_, b) => softmax(zsum.slice(b * C, b * C + C).map((z) => z / T)).map((q, c) => q - (labels[b] === c ? 1 : 0)));
        return { counts, tr, e };
      };
      const p1 = pass((b, kk) => x0[b * K + kk]);
      const mOf = (b: number, kk: number) => {
        let m = 0;
        for (let c = 0; c < C; c++) m += p1.e[b][c] * at(F, C)(kk, c);
        return m;
      };
      const xmod = (b: number, kk: number) => x0[b * K + kk] + mOf(b, kk);
      const p2 = pass(xmod);
      const p3 = antithetic ? pass((b, kk) => x0[b * K + kk] - mOf(b, kk)) : null;
      const differ = p1.counts.filter((v, i) => v !== p2.counts[i]).length;
      expect(differ, 'the modulated pass changes some spike counts').toBeGreaterThan(0);
      const gW = new Array(K * N).fill(0), gWo = new Array(N * C).fill(0);
      const eL = lastError === 'modulated' ? p2.e : p1.e;
      const d = p3 ? p3.counts.map((c, i) => (c - p2.counts[i]) / 2) : p1.counts.map((c, i) => c - p2.counts[i]);
      const mean = Array.from({ length: N }, (_, j) => (centerDifference ? d.filter((_, i) => i % N === j).reduce((a, v) => a + v, 0) / B : 0));
      for (let b = 0; b < B; b++) {
        for (let kk = 0; kk < K; kk++) for (let j = 0; j < N; j++) gW[kk * N + j] += (xmod(b, kk) * (d[b * N + j] - mean[j])) / T / B;
        for (let j = 0; j < N; j++) for (let c = 0; c < C; c++) gWo[j * C + c] += ((1 - beta) * (p2.tr[b * N + j] / T) * eL[b][c]) / B;
      }
      rule.trainBatch(x0, labels);
      const s1 = rule.state();
      const upd = (key: string) => Float32Array.from(s1[key], (v, i) => s0[key][i] - v);
      expectClose(upd('layer0.W'), gW, 'ΔW');
      expectClose(upd('readout.W'), gWo, 'ΔW_o');
      expect(Array.from(s1['layer0.b'])).toEqual(Array.from(bW)); // no biases
      expect(Array.from(s1['pepita.F'])).toEqual(Array.from(F));
    });
  }

  it('both passes see the same input spikes and the same dropout masks', () => {
    const cfg = tiny('pepita', { encoder: 'rate', layers: [{ size: 40, model: 'lif', params: { beta, threshold: theta } }, { size: C }], steps: 20 });
    cfg.ruleParams = { ...cfg.ruleParams, dropout: 0.3 };
    const rule = make(cfg) as SpikingPepita;
    const be = ref;
    const inputs: Float32Array[] = [], masksSeen: Float32Array[][] = [];
    let pass = -1;
    rule.net.attach({
      record: (t, net) => {
        if (t === 0) (pass++, masksSeen.push([]));
        inputs.push(be.read(net.layers[0].presynaptic as Tensor));
        // the readout's input is the hidden spikes after the mask: mask = received / spike where the unit spiked
        const s = be.read(net.layers[0].output()), got = be.read(net.layers[1].presynaptic as Tensor);
        const m = new Float32Array(s.length).fill(NaN);
        for (let i = 0; i < s.length; i++) if (s[i] === 1) m[i] = got[i];
        masksSeen[pass].push(m);
      },
    });
    let injected: Float32Array | null = null;
    rule.net.attach({ record: (t, net) => void (pass === 1 && t === 0 && (injected = be.read(net.layers[0].injected as Tensor))) });
    const w = rule.window(x0, labels);
    // pass 2 adds F·e to the input: the first layer receives (F·e)·W₀ on top of the spikes
    const mod = be.read(w.m), W0 = rule.state()['layer0.W'];
    expect(injected).not.toBeNull();
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < 40; j++) {
        let v = 0;
        for (let kk = 0; kk < K; kk++) v += mod[b * K + kk] * W0[kk * 40 + j];
        expect(Math.abs((injected as unknown as Float32Array)[b * 40 + j] - v)).toBeLessThan(1e-5);
      }
    }
    expect(Math.max(...Array.from(mod, Math.abs))).toBeGreaterThan(1e-3);
    const steps = cfg.steps as number;
    expect(inputs.length).toBe(2 * steps);
    let spikes = 0;
    for (let t = 0; t < steps; t++) {
      const a = inputs[t], b = inputs[steps + t];
      for (let i = 0; i < a.length; i++) {
        expect(a[i] === 0 || a[i] === 1).toBe(true);
        expect(b[i]).toBe(a[i]); // the same spikes in both passes
        spikes += a[i];
      }
    }
    expect(spikes).toBeGreaterThan(20);
    // one mask per (sample, unit), the same in both passes, with dropped units
    const maskOf = (p: number) => {
      const m = new Float32Array(B * 40).fill(NaN);
      for (const step of masksSeen[p]) step.forEach((v, i) => { if (!Number.isNaN(v)) { if (!Number.isNaN(m[i])) expect(v).toBe(m[i]); m[i] = v; } });
      return m;
    };
    const m1 = maskOf(0), m2 = maskOf(1);
    let both = 0, dropped = 0;
    for (let i = 0; i < m1.length; i++) {
      if (Number.isNaN(m1[i]) || Number.isNaN(m2[i])) continue;
      both++;
      expect(m2[i]).toBe(m1[i]);
      if (m1[i] === 0) dropped++;
    }
    expect(both).toBeGreaterThan(20);
    expect(dropped).toBeGreaterThan(0);
  });
});

/** A rate-coded task: 4 classes of Gaussian intensity bumps over 40 inputs, with noise. */
function task(n: number, seed: number) {
  const Kt = 40, Ct = 4;
  const prof = spikePatternRates({ classes: Ct, inputs: Kt, rateLow: 0.05, rateHigh: 0.6 });
  const rng = new Rng(seed), x = new Float32Array(n * Kt), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(Ct);
    y[i] = c;
    for (let kk = 0; kk < Kt; kk++) x[i * Kt + kk] = Math.min(1, Math.max(0, prof[c][kk] + 0.15 * rng.normal()));
  }
  return { x, y, K: Kt, C: Ct };
}

describe('spiking PEPITA and DFA learn', () => {
  for (const rule of ['pepita', 'dfa'] as const) {
    it(`${rule} learns a small rate-coded task well above chance`, () => {
      const tr = task(384, 1), te = task(200, 2);
      const cfg: ExperimentConfig = {
        dataset: 'synthetic', rule, mode: 'spiking', layers: [{ size: 24, model: 'lif', params: { beta: 0.9 } }, { size: tr.C }], steps: 8,
        encoder: 'rate', optimizer: 'momentum', momentum: 0.9, learningRate: 0.05, surrogate: 'fastSigmoid:k=5',
      };
      const r = createRule(cfg, { backend: ref, rng: new Rng(3), inputSize: tr.K, numClasses: tr.C });
      const acc = () => {
        const p = r.predict(te.x, 200);
        return p.filter((v, i) => v === te.y[i]).length / 200;
      };
      const before = acc();
      for (let ep = 0; ep < 3; ep++) for (let b = 0; b < 384; b += 16) r.trainBatch(tr.x.subarray(b * tr.K, (b + 16) * tr.K), tr.y.subarray(b, b + 16));
      const after = acc();
      expect(after).toBeGreaterThan(0.8); // chance 0.25
      expect(after).toBeGreaterThan(before + 0.2);
    });
  }
});

/** A reference backend that counts the bytes of the tensors alive. */
function countingBackend(): { backend: Backend; live: () => number } {
  const be = new ReferenceBackend();
  const sizes = new Map<Tensor, number>();
  const tensor = be.tensor.bind(be), fromArray = be.fromArray.bind(be);
  be.tensor = (shape) => {
    const t = tensor(shape);
    sizes.set(t, t.size * 4);
    return t;
  };
  be.fromArray = (shape, data) => {
    const t = fromArray(shape, data);
    sizes.set(t, t.size * 4);
    return t;
  };
  be.free = (t) => void sizes.delete(t);
  return { backend: be, live: () => [...sizes.values()].reduce((a, b) => a + b, 0) };
}

describe('memory of the spiking forward rules is flat in T', () => {
  for (const rule of ['pepita', 'dfa'] as const) {
    it(`${rule}: the tensor bytes held after a batch are the same at T = 25 and T = 400`, () => {
      const held = (steps: number) => {
        const c = countingBackend();
        const cfg = tiny(rule, { encoder: 'rate', steps });
        cfg.ruleParams = { ...cfg.ruleParams, dropout: 0.2, ...(rule === 'pepita' ? { antithetic: true } : {}) };
        const r = createRule(cfg, { backend: c.backend, rng: new Rng(1), inputSize: K, numClasses: C }) as SpikingDfa | SpikingPepita;
        r.trainBatch(x0, labels);
        r.predict(x0, B);
        return { live: c.live(), work: r.workBytes() };
      };
      const a = held(25), b = held(400);
      expect(a.live).toBeGreaterThan(0);
      expect(b).toEqual(a);
    });
  }
});

describe('the per-step path runs through Backend kernels', () => {
  for (const rule of ['pepita', 'dfa'] as const) {
    it(`${rule}: no host access to tensor data during a batch`, () => {
      const g = guardedBackend();
      const cfg = tiny(rule, { encoder: 'rate' });
      cfg.ruleParams = { ...cfg.ruleParams, dropout: 0.2 };
      const r = createRule(cfg, { backend: g.backend, rng: new Rng(1), inputSize: K, numClasses: C });
      g.armed(() => r.trainBatch(x0, labels));
      expect(Number.isFinite(r.trainBatch(x0, labels).loss)).toBe(true);
    });
  }
});

describe('spiking PEPITA and DFA on wasm', () => {
  for (const rule of ['pepita', 'dfa'] as const) {
    it(`${rule}: the update on wasm agrees with reference`, async () => {
      const wasm = await createBackend('wasm');
      const cfg = tiny(rule);
      const a = make(cfg, ref), b = make(cfg, wasm);
      a.trainBatch(x0, labels);
      b.trainBatch(x0, labels);
      const sa = a.state(), sb = b.state();
      for (const key of ['layer0.W', 'readout.W']) {
        const scale = Math.max(...Array.from(sa[key], Math.abs));
        for (let i = 0; i < sa[key].length; i++) expect(Math.abs(sa[key][i] - sb[key][i]), `${key}[${i}]`).toBeLessThan(1e-4 * scale);
      }
      b.dispose?.();
    });
  }
});

describe('config', () => {
  it('pepita and dfa resolve in mode spiking; the spiking presets exist', async () => {
    const { getPreset } = await import('../src/config/presets.js');
    for (const name of ['mnist-lif-pepita', 'mnist-lif-dfa']) {
      const cfg = resolveConfig(getPreset(name));
      expect(cfg.mode).toBe('spiking');
      expect(['pepita', 'dfa']).toContain(cfg.rule);
    }
    expect(() => resolveConfig({ ...tiny('dfa'), dataset: 'moons', mode: 'continuous' })).toThrow(/mode/);
  });

  it('createRule builds the spiking form in mode spiking and names the mode otherwise', () => {
    expect(make(tiny('pepita')).describe()).toMatch(/^pepita \(spiking\)/);
    expect(make(tiny('dfa')).describe()).toMatch(/^dfa \(spiking\)/);
    // a rule with only a spiking form: mode 'rate' is refused by name
    registerRule('spiking-only-test', (c, ctx) => new SpikingDfa(c, ctx), 'spiking');
    const only = (mode: 'rate' | 'spiking') => make({ ...tiny('dfa'), rule: 'spiking-only-test' as 'dfa', mode });
    expect(only('spiking')).toBeInstanceOf(SpikingDfa);
    expect(() => only('rate')).toThrow(/mode = "rate" is not supported by rule "spiking-only-test"/);
  });
});

describe('alignment angles of the spiking forms', () => {
  it('PEPITA: 0 for F = (W_L…W_1)ᵀ, 180 for its negative, on the readout entry of layerStats after a batch', () => {
    const two = tiny('pepita', { layers: [{ size: N, model: 'lif', params: { beta, threshold: theta } }, { size: 4, model: 'lif', params: { beta, threshold: theta } }, { size: C }] });
    const r = make(two) as SpikingPepita;
    const ws = [...r.layers, r.readout].map((l) => ref.read(l.W.value));
    // (W_L…W_1)ᵀ by hand: W stored [in, out], so the product W_0·W_1·W_2 is [K, C]
    const mm = (a: Float32Array, b: Float32Array, m: number, kk: number, n: number) => {
      const o = new Float32Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let q = 0; q < kk; q++) o[i * n + j] += a[i * kk + q] * b[q * n + j];
      return o;
    };
    const prod = mm(mm(ws[0], ws[1], K, N, 4), ws[2], K, 4, C);
    ref.write(r.F, prod);
    expect(r.alignmentAngle()).toBeLessThan(0.05);
    ref.write(r.F, prod.map((v) => -v));
    expect(r.alignmentAngle()).toBeGreaterThan(179.95);
    r.trainBatch(x0, labels);
    const st = r.layerStats();
    expect(st.length).toBe(3);
    expect(st[2].productAlignmentAngle).toBeGreaterThanOrEqual(0);
    expect(st[2].productAlignmentAngle).toBeLessThanOrEqual(180);
    expect(st[0].productAlignmentAngle).toBeUndefined();
  });

  it('DFA: 0 for B_ℓ = (W_L…W_{ℓ+1})ᵀ, per hidden layer, in layerStats after a batch', () => {
    const r = make(tiny('dfa')) as SpikingDfa;
    ref.write(r.feedback[0], ref.read(r.readout.W.value)); // one hidden layer: B_0 [N, C] against W_L
    expect(r.alignmentAngles()[0]).toBeLessThan(0.05);
    r.trainBatch(x0, labels);
    const st = r.layerStats();
    expect(st[0].alignmentAngle).toBeGreaterThan(0.05); // the update moved W_L away from B_0
    expect(st[0].alignmentAngle).toBeLessThan(90);
    expect(st[1].alignmentAngle).toBeUndefined();
  });
});
