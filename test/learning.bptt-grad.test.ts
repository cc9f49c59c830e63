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
import { BpttRule } from '../src/learning/bptt.js';
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
