/**
 * The BPTT baseline's gradient against an independent reverse-mode autodiff of the same forward
 * equations (a scalar tape in this file), with the surrogate standing in for the Heaviside's
 * derivative exactly where autograd frameworks put it (snnTorch's spike functions):
 * - delayed reset (resetDelay true, the default): U[t] = β·U[t−1] + I[t] − θ·S[t−1], the reset
 *   term detached (snnTorch's Leaky detaches its reset signal);
 * - immediate reset (resetDelay false): A[t] = β·U[t−1] + I[t], S[t] = H(A[t] − θ),
 *   U[t] = A[t] − θ·S[t] with the gradient flowing through S[t] (as snnTorch's reset_delay=False,
 *   whose spike is not detached); the surrogate is taken at the pre-reset A[t], where the spike
 *   was decided.
 * Synaptic LIF hidden layers (I_syn[t] = α·I_syn[t−1] + I[t] in place of I[t] in the membrane
 * equation) are checked the same way, with both resets: the tape differentiates through both state
 * variables.
 * Network: 3 inputs (direct current) → 4 LIF (or synaptic LIF) → leaky readout of 2 units, softmax
 * CE on the readout membrane at every step averaged over T = 6, batch 2, reference backend.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { resolveConfig } from '../src/config/resolve.js';
import { BpttRule, resolveSpikingLayer, substepBackward, type SubstepLayerParams } from '../src/learning/bptt.js';
import { resolveIzhikevich } from '../models/izhikevich.js';
import { resolveAdex } from '../models/adex.js';
import { Rng } from '../src/rng.js';

/** A scalar on the tape: value, and how to push its gradient to its parents. */
class V {
  grad = 0;
  constructor(readonly v: number, readonly parents: [V, number][] = []) {}
}
const c = (x: number) => new V(x);
const add = (...xs: V[]) => new V(xs.reduce((s, x) => s + x.v, 0), xs.map((x) => [x, 1] as [V, number]));
const mul = (a: V, b: V) => new V(a.v * b.v, [[a, b.v], [b, a.v]]);
const scale = (a: V, k: number) => new V(a.v * k, [[a, k]]);
/** Heaviside forward, surrogate derivative backward (fastSigmoid, k = 5). */
const spike = (x: V) => new V(x.v > 0 ? 1 : 0, [[x, 1 / (1 + 5 * Math.abs(x.v)) ** 2]]);
const detach = (a: V) => c(a.v);
const expV = (a: V) => new V(Math.exp(a.v), [[a, Math.exp(a.v)]]);
/** The value rounded to float32 as the engine stores it (identity derivative). */
const f32 = (a: V) => new V(Math.fround(a.v), [[a, 1]]);
/** Heaviside with a fastSigmoid surrogate of slope k. */
const spikeK = (x: V, k: number) => new V(x.v > 0 ? 1 : 0, [[x, 1 / (1 + k * Math.abs(x.v)) ** 2]]);
/** Heaviside at 0 inclusive (Izhikevich: v ≥ vPeak), same surrogate. */
const spikeGeK = (x: V, k: number) => new V(x.v >= 0 ? 1 : 0, [[x, 1 / (1 + k * Math.abs(x.v)) ** 2]]);
/** log Σ exp, for CE. */
function logSumExp(xs: V[]): V {
  const m = Math.max(...xs.map((x) => x.v));
  const es = xs.map((x) => Math.exp(x.v - m));
  const s = es.reduce((a, b) => a + b, 0);
  return new V(m + Math.log(s), xs.map((x, i) => [x, es[i] / s] as [V, number]));
}
/** Reverse pass from a scalar output (tape order = creation order, so sort topologically by DFS). */
function backward(out: V): void {
  const order: V[] = [];
  const seen = new Set<V>();
  const visit = (v: V): void => {
    if (seen.has(v)) return;
    seen.add(v);
    for (const [p] of v.parents) visit(p);
    order.push(v);
  };
  visit(out);
  out.grad = 1;
  for (let i = order.length - 1; i >= 0; i--) for (const [p, d] of order[i].parents) p.grad += order[i].grad * d;
}

function check(resetDelay: boolean, model: 'lif' | 'synaptic' = 'lif'): void {
  const K = 3, H = 4, C = 2, T = 6, B = 2, beta = 0.9, theta = 1, betaO = 0.8, alpha = 0.7;
  const params = model === 'synaptic' ? { alpha, beta, threshold: theta, resetDelay } : { beta, threshold: theta, resetDelay };
  const cfg = resolveConfig({
    dataset: 'xor', layers: [{ size: H, model, params }, { size: C }], rule: 'bptt', mode: 'spiking',
    steps: T, encoder: 'direct', surrogate: 'fastSigmoid:k=5', optimizer: 'sgd', learningRate: 1e-30, ruleParams: { readoutBeta: betaO }, backend: 'reference',
  }, 'test', { skipChecks: ['dataset'] });
  const be = new ReferenceBackend();
  const rule = new BpttRule(cfg, { backend: be, rng: new Rng(7), inputSize: K, numClasses: C });
  const x = Float32Array.from([0.9, 0.2, 0.7, 0.4, 1.0, 0.1]);
  const labels = [1, 0];
  // a fixed, mixed drive: some units spike often, some rarely, one never
  rule.layers[0].W.value.data.set(Array.from({ length: K * H }, (_, i) => 0.9 * Math.sin(1.7 * i + 0.3)));
  rule.layers[0].b.value.data.set([0.5, 0.2, -0.1, 0.35]);
  rule.readout.W.value.data.set(Array.from({ length: H * C }, (_, i) => 0.8 * Math.cos(2.3 * i)));
  // weights before the step (a learning rate of 1e-30 leaves them; the gradients stay in .grad)
  const W1 = Array.from(rule.layers[0].W.value.data), b1 = Array.from(rule.layers[0].b.value.data);
  const Wo = Array.from(rule.readout.W.value.data), bo = Array.from(rule.readout.b.value.data);
  rule.trainBatch(x, labels);
  const gotW1 = Array.from(rule.layers[0].W.grad.data), gotWo = Array.from(rule.readout.W.grad.data);
  const gotB1 = Array.from(rule.layers[0].b.grad.data);

  // the same forward on the tape
  const w1 = W1.map(c), vb1 = b1.map(c), wo = Wo.map(c), vbo = bo.map(c);
  const losses: V[] = [];
  let spikesSeen = 0;
  for (let b = 0; b < B; b++) {
    let u: V[] = Array.from({ length: H }, () => c(0));
    let s: V[] = Array.from({ length: H }, () => c(0));
    let isyn: V[] = Array.from({ length: H }, () => c(0));
    let uo: V[] = Array.from({ length: C }, () => c(0));
    for (let t = 0; t < T; t++) {
      const Iin = Array.from({ length: H }, (_, j) => add(vb1[j], ...Array.from({ length: K }, (_, k) => scale(w1[k * H + j], x[b * K + k]))));
      // synaptic LIF: the membrane is driven by I_syn[t] = α·I_syn[t−1] + I[t]
      if (model === 'synaptic') isyn = Iin.map((v, j) => add(scale(isyn[j], alpha), v));
      const I = model === 'synaptic' ? isyn : Iin;
      const nu: V[] = [], ns: V[] = [];
      for (let j = 0; j < H; j++) {
        if (resetDelay) {
          const v = add(scale(u[j], beta), I[j], scale(detach(s[j]), -theta));
          nu.push(v);
          ns.push(spike(add(v, c(-theta))));
        } else {
          const a = add(scale(u[j], beta), I[j]);
          const sp = spike(add(a, c(-theta)));
          nu.push(add(a, scale(sp, -theta)));
          ns.push(sp);
        }
      }
      u = nu;
      s = ns;
      spikesSeen += s.reduce((n, v) => n + v.v, 0);
      uo = Array.from({ length: C }, (_, o) => add(scale(uo[o], betaO), vbo[o], ...s.map((sv, j) => mul(sv, wo[j * C + o]))));
      losses.push(scale(add(logSumExp(uo), scale(uo[labels[b]], -1)), 1 / (T * B)));
    }
  }
  const L = add(...losses);
  backward(L);
  expect(spikesSeen, 'the case must have spikes for the reset to matter').toBeGreaterThan(4);
  const rel = (a: number[], e: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - e[i]) ** 2, 0) / e.reduce((s, v) => s + v * v, 0));
  // both the rule's loss and the tape's are means over the T steps and the B samples
  const want1 = w1.map((v) => v.grad), wantO = wo.map((v) => v.grad), wantB1 = vb1.map((v) => v.grad);
  expect(want1.some((g) => g !== 0)).toBe(true);
  expect(rel(gotB1, wantB1), `hidden bias: ${gotB1} vs ${wantB1}`).toBeLessThan(1e-5);
  expect(rel(gotWo, wantO), `readout: ${gotWo} vs ${wantO}`).toBeLessThan(1e-5);
  expect(rel(gotW1, want1), `hidden: ${gotW1} vs ${want1}`).toBeLessThan(1e-5);
}

describe('BPTT gradient against autodiff of the same forward', () => {
  it('delayed reset (default): exact', () => check(true));
  it('immediate reset by subtraction: surrogate at the pre-reset membrane, gradient through the reset', () => check(false));
  it('synaptic LIF, delayed reset: through the synaptic current and the membrane', () => check(true, 'synaptic'));
  it('synaptic LIF, immediate reset by subtraction', () => check(false, 'synaptic'));
});

/**
 * An equation-defined model for the general check: its spec and, on the tape, one step's update
 * of the state variables (pre-reset, from the values at the step's start, the input current and
 * the previous spikes) and its reset (on the pre-reset values; a 'v = c' reset is a constant).
 */
interface EquationCase {
  spec: Record<string, unknown>;
  init: number[];
  update: (x: V[], I: V, sPrev: number) => V[];
  /** The threshold 'x_thr > theta'. */
  thr: number;
  theta: number;
  reset: (x: V[]) => V[];
  /** Drive scale of the weights and biases. */
  scale: number;
}

/** One hidden layer of the general check: model, recurrence, delay (one, or one per connection [in, out]). */
interface HiddenCase {
  model: 'lif' | 'synaptic' | 'izhikevich' | 'adex' | 'equation';
  resetDelay?: boolean;
  recurrent?: 'all-to-all' | 'one-to-one';
  delays?: number | Int32Array;
  eq?: EquationCase;
}

/** Izhikevich (RS, dt 1 ms, 2 substeps) and AdEx (regular, dt 1 ms, 4 substeps) parameters of the checks. */
const IZH = { a: 0.02, b: 0.2, c: -65, d: 8, vPeak: 30, v0: -65, nSub: 2, h: 0.5 };
const ADEX = { C: 281, gL: 30, EL: -70.6, deltaT: 2, VT: -50.4, tauWMs: 144, a: 4, b: 80.5, Vr: -70.6, Vpeak: 20, nSub: 4, h: 0.25 };

/**
 * The rule's gradients of every parameter against the tape, for 1 or 2 hidden layers of 4 with
 * recurrent and delayed projections and LIF / synaptic / Izhikevich / AdEx models. LIF layers use
 * the LIF equations of `check`; Izhikevich and AdEx layers run their Euler substeps on the tape,
 * each substep's spike the surrogate Heaviside of v − vPeak, the step's spike their sum (forward
 * value at most 1), a reset v = c detached (no gradient to the past) and u += d (w += b) passing
 * the gradient. A recurrent layer adds S[t−1]·R to its input current; a delay d makes it x[t−d]·W
 * (zero before step d) + bias.
 */
function checkGeneral(cases: HiddenCase[], T = 6): { spikes: number[]; grads: Record<string, number[]> } {
  const K = 3, H = 4, C = 2, B = 2, beta = 0.9, theta = 1, betaO = 0.8, alpha = 0.7;
  const substepModel = cases.some((h) => h.model === 'izhikevich' || h.model === 'adex');
  const k = substepModel ? 0.2 : 5;
  const layersCfg = cases.map((h) => ({
    size: H, model: h.model === 'equation' ? h.eq!.spec : h.model,
    params: h.model === 'equation' ? {} : h.model === 'izhikevich' ? { preset: 'RS', substepMs: 0.5 } : h.model === 'adex' ? { preset: 'regular', substepMs: 0.25 }
      : h.model === 'synaptic' ? { alpha, beta, threshold: theta, resetDelay: h.resetDelay ?? true } : { beta, threshold: theta, resetDelay: h.resetDelay ?? true },
    ...(h.recurrent ? { recurrent: h.recurrent } : {}), ...(typeof h.delays === 'number' ? { delays: h.delays } : {}),
  }));
  const cfg = resolveConfig({
    dataset: 'xor', layers: [...layersCfg, { size: C }], rule: 'bptt', mode: 'spiking', dtMs: 1,
    steps: T, encoder: 'direct', surrogate: `fastSigmoid:k=${k}`, optimizer: 'sgd', learningRate: 1e-30, ruleParams: { readoutBeta: betaO }, backend: 'reference',
  } as never, 'test', { skipChecks: ['dataset'] });
  // per-connection delays are a library feature (LayerSpec.delays as an Int32Array [in, out]): the config takes one number, so the array goes in after resolution
  cases.forEach((h, l) => {
    if (h.delays instanceof Int32Array) cfg.layers[l].delays = h.delays as unknown as number;
  });
  const be = new ReferenceBackend();
  const rule = new BpttRule(cfg, { backend: be, rng: new Rng(7), inputSize: K, numClasses: C });
  const x = Float32Array.from([0.9, 0.2, 0.7, 0.4, 1.0, 0.1]);
  const labels = [1, 0];
  // drive scaled to each model's units: LIF θ = 1, Izhikevich mV/ms (I ≈ 10 is tonic), AdEx pA
  const scaleOf = (h: HiddenCase) => (h.model === 'izhikevich' ? 60 : h.model === 'adex' ? 2500 : h.model === 'equation' ? h.eq!.scale : 1);
  cases.forEach((h, l) => {
    const fan = l === 0 ? K : H, sc = scaleOf(h) * (l === 0 ? 0.9 : 1.2);
    rule.layers[l].W.value.data.set(Array.from({ length: fan * H }, (_, i) => sc * Math.sin(1.7 * i + 0.3 + l)));
    rule.layers[l].b.value.data.set([0.5, 0.2, -0.1, 0.35].map((v) => v * scaleOf(h)));
    const R = rule.layers[l].R;
    if (R) R.value.data.set(Array.from({ length: H * H }, (_, i) => (h.recurrent === 'one-to-one' && i % (H + 1) !== 0 ? 0 : 0.6 * scaleOf(h) * Math.cos(1.3 * i + 0.5))));
  });
  rule.readout.W.value.data.set(Array.from({ length: H * C }, (_, i) => 0.8 * Math.cos(2.3 * i)));
  const snap = (t: Float32Array) => Array.from(t);
  const Ws = rule.layers.map((l) => snap(l.W.value.data)), bs = rule.layers.map((l) => snap(l.b.value.data));
  const Rs = rule.layers.map((l) => (l.R ? snap(l.R.value.data) : null));
  const Wo = snap(rule.readout.W.value.data), bo = snap(rule.readout.b.value.data);
  rule.trainBatch(x, labels);
  const grads: Record<string, number[]> = { Wo: snap(rule.readout.W.grad.data), bo: snap(rule.readout.b.grad.data) };
  rule.layers.forEach((l, i) => {
    grads[`W${i}`] = snap(l.W.grad.data);
    grads[`b${i}`] = snap(l.b.grad.data);
    if (l.R) grads[`R${i}`] = snap(l.R.grad.data);
  });

  const w = Ws.map((a) => a.map(c)), vb = bs.map((a) => a.map(c)), r = Rs.map((a) => (a ? a.map(c) : null));
  const wo = Wo.map(c), vbo = bo.map(c);
  const losses: V[] = [];
  const spikes = cases.map(() => 0);
  for (let b = 0; b < B; b++) {
    const inputs: V[][] = Array.from({ length: T }, () => Array.from({ length: K }, (_, kk) => c(x[b * K + kk])));
    let below = inputs; // per step, the layer's input
    cases.forEach((h, l) => {
      const fan = l === 0 ? K : H;
      // the delay of connection k → j: one for the projection, or one per connection [in, out]
      const dOf = (kk: number, j: number) => (h.delays instanceof Int32Array ? h.delays[kk * H + j] : h.delays ?? 0);
      let st: V[][] = h.eq ? Array.from({ length: H }, () => h.eq!.init.map(c)) : [];
      let u: V[] = [], s: V[] = Array.from({ length: H }, () => c(0)), isyn: V[] = Array.from({ length: H }, () => c(0));
      let rv: V[] = [];
      if (h.model === 'izhikevich') {
        u = Array.from({ length: H }, () => c(IZH.v0));
        rv = Array.from({ length: H }, () => c(IZH.b * IZH.v0));
      } else if (h.model === 'adex') {
        u = Array.from({ length: H }, () => c(ADEX.EL));
        rv = Array.from({ length: H }, () => c(0));
      } else u = Array.from({ length: H }, () => c(0));
      const out: V[][] = [];
      for (let t = 0; t < T; t++) {
        const Iin = Array.from({ length: H }, (_, j) => add(vb[l][j],
          ...Array.from({ length: fan }, (_, kk) => (t - dOf(kk, j) >= 0 ? mul(below[t - dOf(kk, j)][kk], w[l][kk * H + j]) : c(0))),
          ...(r[l] ? s.map((sv, m) => mul(sv, (r[l] as V[])[m * H + j])) : [])));
        const ns: V[] = [];
        if (h.model === 'equation') {
          // the engine keeps the current and the state in float32 (the update runs in float64); spike on the pre-reset values
          const q = h.eq!;
          st = st.map((x, j) => {
            const pre = q.update(x, f32(Iin[j]), s[j].v);
            const sp = spikeK(add(pre[q.thr], c(-q.theta)), k);
            ns.push(sp);
            return (sp.v ? q.reset(pre) : pre).map(f32);
          });
        } else if (h.model === 'lif' || h.model === 'synaptic') {
          if (h.model === 'synaptic') isyn = Iin.map((v, j) => add(scale(isyn[j], alpha), v));
          const I = h.model === 'synaptic' ? isyn : Iin;
          const nu: V[] = [];
          for (let j = 0; j < H; j++) {
            if (h.resetDelay ?? true) {
              const v = add(scale(u[j], beta), I[j], scale(detach(s[j]), -theta));
              nu.push(v);
              ns.push(spikeK(add(v, c(-theta)), k));
            } else {
              const a = add(scale(u[j], beta), I[j]);
              const sp = spikeK(add(a, c(-theta)), k);
              nu.push(add(a, scale(sp, -theta)));
              ns.push(sp);
            }
          }
          u = nu;
        } else {
          for (let j = 0; j < H; j++) {
            // the engine keeps the input current and the state between steps in float32 (the substeps run in float64)
            let v = u[j], q = rv[j];
            const xj = f32(Iin[j]);
            const sps: V[] = [];
            for (let sub = 0; sub < (h.model === 'izhikevich' ? IZH.nSub : ADEX.nSub); sub++) {
              if (h.model === 'izhikevich') {
                const dv = add(scale(mul(v, v), 0.04), scale(v, 5), c(140), scale(q, -1), xj);
                const v1 = add(v, scale(dv, IZH.h));
                const q1 = add(q, scale(add(scale(v1, IZH.b), scale(q, -1)), IZH.h * IZH.a));
                const sp = spikeGeK(add(v1, c(-IZH.vPeak)), k);
                sps.push(sp);
                if (sp.v) { v = c(IZH.c); q = add(q1, c(IZH.d)); } else { v = v1; q = q1; }
              } else {
                const A = ADEX, maxArg = (A.Vpeak - A.VT) / A.deltaT;
                const z = add(scale(v, 1 / A.deltaT), c(-A.VT / A.deltaT));
                const e = expV(z.v < maxArg ? z : c(maxArg));
                const dv = scale(add(scale(v, -A.gL), c(A.gL * A.EL), scale(e, A.gL * A.deltaT), scale(q, -1), xj), 1 / A.C);
                const dw = scale(add(scale(v, A.a), c(-A.a * A.EL), scale(q, -1)), 1 / A.tauWMs);
                const v1 = add(v, scale(dv, A.h)), q1 = add(q, scale(dw, A.h));
                const sp = spikeK(add(v1, c(-A.Vpeak)), k);
                sps.push(sp);
                if (sp.v) { v = c(A.Vr); q = add(q1, c(A.b)); } else { v = v1; q = q1; }
              }
            }
            u[j] = f32(v);
            rv[j] = f32(q);
            ns.push(new V(Math.min(1, sps.reduce((n, sp) => n + sp.v, 0)), sps.map((sp) => [sp, 1] as [V, number])));
          }
        }
        s = ns;
        spikes[l] += s.reduce((n, v) => n + v.v, 0);
        out.push(s);
      }
      below = out;
    });
    let uo: V[] = Array.from({ length: C }, () => c(0));
    for (let t = 0; t < T; t++) {
      uo = Array.from({ length: C }, (_, o) => add(scale(uo[o], betaO), vbo[o], ...below[t].map((sv, j) => mul(sv, wo[j * C + o]))));
      losses.push(scale(add(logSumExp(uo), scale(uo[labels[b]], -1)), 1 / (T * B)));
    }
  }
  backward(add(...losses));
  const rel = (a: number[], e: number[]) => Math.sqrt(a.reduce((s2, v, i) => s2 + (v - e[i]) ** 2, 0) / e.reduce((s2, v) => s2 + v * v, 0));
  // LIF: float32 against float64, 1e-5. Izhikevich / AdEx: the tape rounds the current and the
  // state between steps to float32 as the engine does, but the current's own float32 sum differs
  // by an ulp, which the substeps amplify (AdEx's exponential near the peak by ~10³ per substep)
  const tol = cases.some((h) => h.model === 'adex') ? 1e-3 : substepModel ? 1e-4 : 1e-5;
  expect(rel(snap(rule.readout.W.grad.data), wo.map((v) => v.grad)), 'readout W').toBeLessThan(tol);
  cases.forEach((h, l) => {
    const want = w[l].map((v) => v.grad);
    expect(want.some((g) => g !== 0), `layer ${l}: a non-zero gradient`).toBe(true);
    expect(rel(snap(rule.layers[l].W.grad.data), want), `layer ${l} W: ${snap(rule.layers[l].W.grad.data)} vs ${want}`).toBeLessThan(tol);
    expect(rel(snap(rule.layers[l].b.grad.data), vb[l].map((v) => v.grad)), `layer ${l} bias: ${snap(rule.layers[l].b.grad.data)} vs ${vb[l].map((v) => v.grad)}`).toBeLessThan(tol);
    const R = rule.layers[l].R;
    if (R) {
      // one-to-one: only the diagonal is a parameter (the rule's off-diagonal gradient is zero)
      const wantR = (r[l] as V[]).map((v, i) => (h.recurrent === 'one-to-one' && i % (H + 1) !== 0 ? 0 : v.grad));
      expect(rel(snap(R.grad.data), wantR), `layer ${l} recurrent: ${snap(R.grad.data)} vs ${wantR}`).toBeLessThan(tol);
    }
  });
  return { spikes, grads };
}

describe('BPTT through recurrent and delayed projections, against autodiff', () => {
  for (const recurrent of ['all-to-all', 'one-to-one'] as const) {
    for (const model of ['lif', 'synaptic'] as const) {
      for (const resetDelay of [true, false]) {
        it(`${model}, recurrent ${recurrent}, ${resetDelay ? 'delayed' : 'immediate'} reset`, () => {
          const { spikes } = checkGeneral([{ model, recurrent, resetDelay }]);
          expect(spikes[0]).toBeGreaterThan(4);
        });
      }
    }
  }
  it('delay 2 on the first projection (LIF)', () => expect(checkGeneral([{ model: 'lif', delays: 2 }]).spikes[0]).toBeGreaterThan(2));
  it('delay 2 on the second hidden projection: dS of the layer below at t − d (LIF → synaptic)', () => {
    const { spikes } = checkGeneral([{ model: 'lif' }, { model: 'synaptic', delays: 2, resetDelay: false }], 8);
    expect(spikes.every((n) => n > 2)).toBe(true);
  });
  it('delay and all-to-all recurrence on the same layer, below a recurrent one', () => {
    const { spikes } = checkGeneral([{ model: 'lif', recurrent: 'one-to-one' }, { model: 'lif', delays: 1, recurrent: 'all-to-all' }], 8);
    expect(spikes.every((n) => n > 2)).toBe(true);
  });
});

describe('BPTT through Izhikevich and AdEx substeps, against autodiff', () => {
  it('Izhikevich (RS): surrogate on v − vPeak per substep, reset detached, u included', () => {
    const { spikes } = checkGeneral([{ model: 'izhikevich' }], 8);
    console.info(`Izhikevich tape check: ${spikes[0]} hidden spikes`);
    expect(spikes[0]).toBeGreaterThan(2);
  });
  it('Izhikevich, recurrent one-to-one, delay 1, below an all-to-all recurrent Izhikevich layer', () => {
    const { spikes } = checkGeneral([{ model: 'izhikevich', recurrent: 'one-to-one', delays: 1 }, { model: 'izhikevich', recurrent: 'all-to-all' }], 8);
    expect(spikes[0]).toBeGreaterThan(2);
  });
  it('AdEx (regular): exponential term, w included', () => {
    const { spikes } = checkGeneral([{ model: 'adex' }], 8);
    console.info(`AdEx tape check: ${spikes[0]} hidden spikes`);
    expect(spikes[0]).toBeGreaterThan(2);
  });
});

/**
 * The Izhikevich / AdEx backward through the Euler substeps (substepBackward) against central
 * finite differences of the engine's own kernels (float32 state between steps): the gradient of
 * L = Σ_i α_i·v_i[K] + γ_i·u_i[K] (w for AdEx) with respect to every input current x_i[t]. With
 * the spikes held fixed (a perturbation that changes any step's spikes is skipped), v = c after a
 * reset does not depend on the past, so the detached reset is the exact derivative: the check
 * holds with spikes too. The surrogate path (dS) is the autodiff checks' business above.
 */
function fdSubsteps(model: 'izhikevich' | 'adex', drive: [number, number], K: number): { rel: number; spikes: number; skipped: number; checked: number } {
  const be = new ReferenceBackend(), N = 6;
  const layer: SubstepLayerParams = model === 'izhikevich'
    ? (() => { const p = resolveIzhikevich({ preset: 'RS' }, 1); return { model, p, threshold: p.vPeak, delay: 0 }; })()
    : (() => { const p = resolveAdex({ preset: 'regular', substepMs: 0.25 }, 1); return { model, p, threshold: p.Vpeak, delay: 0 }; })();
  const v0 = model === 'izhikevich' ? -65 : -70.6, w0 = model === 'izhikevich' ? -13 : 0;
  const xs = Array.from({ length: K }, (_, t) => Float32Array.from({ length: N }, (_, i) => drive[0] + (drive[1] - drive[0]) * (0.5 + 0.5 * Math.sin(1.3 * i + 0.7 * t))));
  const alpha = Array.from({ length: N }, (_, i) => Math.cos(i + 0.2)), gamma = Array.from({ length: N }, (_, i) => 0.5 * Math.sin(2 * i + 1));
  /** The forward on the kernel: states before every step, the spike raster, the loss. */
  const run = (x: Float32Array[]) => {
    const v = be.fromArray([1, N], new Float32Array(N).fill(v0)), w = be.fromArray([1, N], new Float32Array(N).fill(w0)), s = be.tensor([1, N]);
    const vs: Float32Array[] = [], ws: Float32Array[] = [];
    let raster = '';
    for (let t = 0; t < K; t++) {
      vs.push(be.read(v));
      ws.push(be.read(w));
      const input = be.fromArray([1, N], x[t]);
      if (model === 'izhikevich') be.izhikevichStep(v, w, s, input, layer.p as never);
      else be.adexStep(v, w, s, input, layer.p as never);
      raster += Array.from(be.read(s)).join('');
    }
    const V = be.read(v), W = be.read(w);
    let loss = 0;
    for (let i = 0; i < N; i++) loss += alpha[i] * V[i] + gamma[i] * W[i];
    return { vs, ws, raster, loss };
  };
  const base = run(xs);
  const none = { name: 'none', params: {}, f: () => 0, df: () => 0 };
  const gv = Float64Array.from(alpha), gw = Float64Array.from(gamma), dS = new Float32Array(N);
  const grads: Float32Array[] = [];
  for (let t = K - 1; t >= 0; t--) {
    const gx = new Float32Array(N);
    substepBackward(layer, none, base.vs[t], base.ws[t], xs[t], dS, gv, gw, gx);
    grads[t] = gx;
  }
  const eps = model === 'izhikevich' ? 5e-2 : 2;
  let num = 0, den = 0, skipped = 0, checked = 0;
  for (let t = 0; t < K; t++) {
    for (let i = 0; i < N; i++) {
      const plus = xs.map((a) => Float32Array.from(a)), minus = xs.map((a) => Float32Array.from(a));
      plus[t][i] += eps;
      minus[t][i] -= eps;
      const p = run(plus), m = run(minus);
      if (p.raster !== base.raster || m.raster !== base.raster) {
        skipped++;
        continue;
      }
      const fd = (p.loss - m.loss) / (2 * eps);
      num += (fd - grads[t][i]) ** 2;
      den += fd * fd;
      checked++;
    }
  }
  return { rel: Math.sqrt(num / den), spikes: [...base.raster].filter((c2) => c2 === '1').length, skipped, checked };
}

describe('Izhikevich and AdEx backward through the substeps against finite differences of the kernels', () => {
  const cases = [
    ['izhikevich', 'subthreshold', [0, 3], 15],
    ['izhikevich', 'with spikes', [8, 40], 20],
    ['adex', 'subthreshold', [0, 400], 15],
    ['adex', 'with spikes', [800, 2500], 20],
  ] as const;
  for (const [model, what, drive, K] of cases) {
    it(`${model}, ${what}`, () => {
      const r = fdSubsteps(model, [drive[0], drive[1]], K);
      console.info(`FD check ${model} ${what}: relative error ${r.rel.toExponential(2)} over ${r.checked} inputs (${r.skipped} skipped: a spike flipped), ${r.spikes} spikes`);
      expect(r.checked).toBeGreaterThan(30);
      if (what === 'subthreshold') expect(r.spikes).toBe(0);
      else expect(r.spikes).toBeGreaterThan(3);
      // float32 state between steps: the differences carry ~1e-4 (Izhikevich, ε = 0.05) to ~1e-3 (AdEx, ε = 2 pA) of rounding noise
      expect(r.rel).toBeLessThan(model === 'izhikevich' ? 2e-3 : 5e-3);
    });
  }
});

/** Tape helpers for the equation models: quotient and e^x − 1. */
const div = (a: V, b: V) => new V(a.v / b.v, [[a, 1 / b.v], [b, -a.v / (b.v * b.v)]]);
const expm1V = (a: V) => new V(Math.expm1(a.v), [[a, Math.exp(a.v)]]);

/** snnTorch's LIF as a discrete update, the delayed reset term '− s·vth' on the previous spikes (detached, as the 'lif' model's). */
const EQ_LIF: EquationCase = {
  spec: { equations: 'v = beta*v + I - s*vth', threshold: 'v > vth', parameters: { beta: 0.9, vth: 1 } },
  init: [0], thr: 0, theta: 1, scale: 1,
  update: ([v], I, sp) => [add(scale(v, 0.9), I, c(-sp * 1))],
  reset: (x) => x,
};
/**
 * Two coupled variables, exponential Euler: a conductance g driven by I and a membrane whose decay
 * depends on g (B = ∂f_v/∂v = −1/τ − g, so the Jacobian needs ∂φ(B)/∂g), reset by subtraction.
 */
const EQ_COND: EquationCase = {
  spec: {
    equations: ['dv/dt = -v/tau + g*(E - v)', 'dg/dt = -g/taus + I'], method: 'exponential',
    threshold: 'v > vth', reset: 'v -= vth', parameters: { tau: 5, E: 3, taus: 3, vth: 1 },
  },
  init: [0, 0], thr: 0, theta: 1, scale: 0.6,
  update: ([v, g], I) => {
    // x + f·(e^{B·dt} − 1)/B, dt = 1 ms
    const fv = add(scale(v, -1 / 5), mul(g, add(c(3), scale(v, -1)))), Bv = add(c(-1 / 5), scale(g, -1));
    const fg = add(scale(g, -1 / 3), I), Bg = c(-1 / 3);
    return [add(v, mul(fv, div(expm1V(Bv), Bv))), add(g, mul(fg, div(expm1V(Bg), Bg)))];
  },
  reset: ([v, g]) => [add(v, c(-1)), g],
};
/** A nonlinear right-hand side (quadratic and exponential terms) with adaptation, Euler; reset 'v = vr' (cut) and 'w += b' (passed). */
const EQ_NONLIN: EquationCase = {
  spec: {
    equations: 'dv/dt = (v*v/2 + 0.1*exp(v) - w + I)/tau\ndw/dt = (a*v - w)/tauw',
    threshold: 'v >= vpk', reset: ['v = vr', 'w += b'], parameters: { tau: 2, a: 0.3, tauw: 8, vpk: 1, vr: -0.4, b: 0.3 },
  },
  init: [0, 0], thr: 0, theta: 1, scale: 1.5,
  update: ([v, w], I) => [
    add(v, scale(add(scale(mul(v, v), 0.5), scale(expV(v), 0.1), scale(w, -1), I), 1 / 2)),
    add(w, scale(add(scale(v, 0.3), scale(w, -1)), 1 / 8)),
  ],
  reset: ([, w]) => [c(-0.4), add(w, c(0.3))],
};

describe('BPTT through equation-defined layers, against autodiff', () => {
  it('equation LIF (discrete update, delayed reset term): the tape, and the same gradient as the \'lif\' model with the same β', () => {
    const eq = checkGeneral([{ model: 'equation', eq: EQ_LIF }]);
    expect(eq.spikes[0]).toBeGreaterThan(4);
    const lif = checkGeneral([{ model: 'lif' }]);
    const rel = (a: number[], e: number[]) => Math.sqrt(a.reduce((s2, v, i) => s2 + (v - e[i]) ** 2, 0) / e.reduce((s2, v) => s2 + v * v, 0));
    for (const key of Object.keys(lif.grads)) expect(rel(eq.grads[key], lif.grads[key]), key).toBeLessThan(1e-6);
  });
  it('two coupled variables (conductance-driven membrane, exponential Euler, v -= vth)', () => {
    expect(checkGeneral([{ model: 'equation', eq: EQ_COND }], 8).spikes[0]).toBeGreaterThan(2);
  });
  it('nonlinear right-hand side with adaptation (Euler, v = vr cut, w += b passed)', () => {
    expect(checkGeneral([{ model: 'equation', eq: EQ_NONLIN }], 8).spikes[0]).toBeGreaterThan(2);
  });
  it('a threshold without the form \'x > θ\', or none, is refused naming it', () => {
    const spec = { equations: 'dv/dt = (-v + I)/tau', reset: 'v -= vth', parameters: { tau: 10, vth: 1 } };
    expect(() => resolveSpikingLayer({ size: 4, model: { ...spec, threshold: 'v - vth > 0' } }, 1, 2))
      .toThrow(/^layers\[2\]\.model = an inline equation model \("inline"\): .*the threshold 'v - vth > 0' is not of that form/);
    expect(() => resolveSpikingLayer({ size: 4, model: { equations: 'dv/dt = (-v + I)/tau', parameters: { tau: 10 } } }, 1, 0)).toThrow(/has no threshold/);
    expect(resolveSpikingLayer({ size: 4, model: { ...spec, threshold: 'v >= 1.5' } }, 1, 0).model).toBe('equation');
  });
  it('an equation layer above a LIF layer, recurrent one-to-one, delay 1', () => {
    const { spikes } = checkGeneral([{ model: 'lif' }, { model: 'equation', eq: EQ_NONLIN, recurrent: 'one-to-one', delays: 1 }], 8);
    expect(spikes.every((n) => n > 2)).toBe(true);
  });
});

describe('BPTT through per-connection delays, against autodiff', () => {
  const random = (n: number, seed: number) => {
    const rng = new Rng(seed);
    return Int32Array.from({ length: n }, () => rng.int(4));
  };
  it('random delays 0..3 on the first projection (LIF)', () => {
    const d = random(3 * 4, 11);
    expect(new Set(d).size).toBe(4);
    expect(checkGeneral([{ model: 'lif', delays: d }], 8).spikes[0]).toBeGreaterThan(2);
  });
  it('random delays 0..3 on the second hidden projection: dS of the layer below at t − d_kn (LIF → synaptic, recurrent)', () => {
    const d = random(4 * 4, 5);
    expect(new Set(d).size).toBe(4);
    const { spikes } = checkGeneral([{ model: 'lif' }, { model: 'synaptic', delays: d, recurrent: 'all-to-all' }], 8);
    expect(spikes.every((n) => n > 2)).toBe(true);
  });
  it('delays all equal to d: the same gradient as one delay d for the projection', () => {
    const one = checkGeneral([{ model: 'lif' }, { model: 'lif', delays: 2 }], 8).grads;
    const each = checkGeneral([{ model: 'lif' }, { model: 'lif', delays: new Int32Array(16).fill(2) }], 8).grads;
    expect(each).toEqual(one);
  });
});
