// Input reference (Layer.setInputReference): a layer propagates x as r·W + b + (x − r)·W and
// gathers x − r plus rᵀ·Σh; the currents, spikes and gradients are those of plain x up to float
// rounding, on reference and wasm. The rate encoder's most likely input, and spiking sigprop using
// it where the backend asks (Backend.inputReference).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { createBackend } from '../src/backend/registry.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { createEncoder } from '../src/encoders.js';
import { Network } from '../src/engine/network.js';
import { createRule, trainOn } from '../src/learning/index.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';

let wasm: Backend & { dispose?: () => Promise<void> };
beforeAll(async () => {
  wasm = await createBackend('wasm', { threads: 1 });
});
afterAll(async () => {
  await wasm?.dispose?.();
});

const [B, K, N] = [5, 23, 9];

/** Per-input spike probabilities (a third near 1, a third near 0.2, a third 0) and a dropout-like value per input. */
function inputs(): { p: Float32Array; v: Float32Array; r: Float32Array } {
  const rng = new Rng(11);
  const p = Float32Array.from({ length: B * K }, (_, i) => [0.95, 0.2, 0][i % 3] + 0.04 * rng.uniform());
  const v = Float32Array.from({ length: B * K }, () => (rng.uniform() < 0.2 ? 0 : 1.25));
  const r = Float32Array.from(p, (q, i) => (q > 0.5 ? v[i] : 0));
  return { p, v, r };
}

function expectClose(a: Float32Array, b: Float32Array, rtol = 2e-5): void {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > rtol * scale) expect.fail(`element ${i}: ${a[i]} vs ${b[i]}`);
}

/**
 * A window of T steps of a LIF layer with bias on Bernoulli inputs, with or without the reference,
 * per-step or gathered updates: the input currents and spikes of every step and the gradients.
 */
function window(be: Backend, withRef: boolean, chunk: number, T: number) {
  const net = new Network(be, { inputSize: K, dtMs: 1, layers: [{ size: N, model: 'lif', params: { beta: 0.9, threshold: 0.6 }, bias: true }] }, new Rng(3));
  net.enableTraces('trace');
  const layer = net.layers[0];
  layer.enableGradChunks(chunk);
  net.reset(B);
  const { p, v, r } = inputs();
  const rt = be.fromArray([B, K], r);
  if (withRef) expect(layer.setInputReference(rt)).toBe(true);
  const grads = { w: be.tensor([K, N]), bias: be.tensor([N]) };
  const rng = new Rng(7), grng = new Rng(9);
  const x = be.tensor([B, K]), g = be.tensor([B, N]);
  const currents: Float32Array[] = [], spikes: Float32Array[] = [];
  for (let t = 0; t < T; t++) {
    be.write(x, Float32Array.from(p, (q, i) => (rng.uniform() < q ? v[i] : 0)));
    net.step(x);
    currents.push(be.read(layer.inputCurrent()));
    spikes.push(be.read(layer.output()));
    be.write(g, grng.fillNormal(new Float32Array(B * N)));
    layer.accumulateGrad(g, 0.3, { ...grads });
  }
  layer.finishGrad(grads);
  return { currents, spikes, w: be.read(grads.w), b: be.read(grads.bias) };
}

describe('Layer.setInputReference', () => {
  for (const backend of ['reference', 'wasm']) {
    it(`gives the currents, spikes and gradient of plain x (${backend}; per-step updates and chunks of 4 and 16, windows of 12)`, () => {
      const be = backend === 'reference' ? new ReferenceBackend() : wasm;
      for (const chunk of [0, 4, 16]) {
        const plain = window(be, false, chunk, 12), ref = window(be, true, chunk, 12);
        for (let t = 0; t < 12; t++) {
          expectClose(ref.currents[t], plain.currents[t]);
          expect(Array.from(ref.spikes[t])).toEqual(Array.from(plain.spikes[t]));
        }
        expectClose(ref.w, plain.w);
        expect(Array.from(ref.b)).toEqual(Array.from(plain.b)); // the bias gradient does not see x
      }
    });
  }

  it('x − r has far fewer non-zeros than x for inputs that are mostly on or mostly off', () => {
    const { p, v, r } = inputs();
    const rng = new Rng(5);
    let nx = 0, nd = 0;
    for (let s = 0; s < 50; s++) {
      for (let i = 0; i < p.length; i++) {
        const x = rng.uniform() < p[i] ? v[i] : 0;
        nx += x !== 0 ? 1 : 0;
        nd += x !== r[i] ? 1 : 0;
      }
    }
    expect(nd).toBeLessThan(0.6 * nx);
  });

  it('holds for one window: reset() drops it, and the next window propagates plain x again, bit for bit', () => {
    const run = (setRef: boolean): Float32Array => {
      const net = new Network(wasm, { inputSize: K, dtMs: 1, layers: [{ size: N, model: 'lif', params: { beta: 0.9 }, bias: true }] }, new Rng(3));
      net.reset(B);
      const x = wasm.fromArray([B, K], inputs().r);
      if (setRef) net.layers[0].setInputReference(x);
      net.step(x);
      net.reset(B);
      net.step(x);
      return wasm.read(net.layers[0].inputCurrent());
    };
    expect(Array.from(run(true))).toEqual(Array.from(run(false)));
  });

  it('is refused where it cannot apply (matmul propagation, delays, a directly integrating model) and checks its shape and timing', () => {
    const be = new ReferenceBackend();
    const r = be.tensor([B, K]);
    const make = (spec: object) => {
      const net = new Network(be, { inputSize: K, dtMs: 1, layers: [{ size: N, model: 'lif', ...spec }] }, new Rng(1));
      net.reset(B);
      return net.layers[0];
    };
    expect(make({ propagation: 'dense' }).setInputReference(r)).toBe(false);
    expect(make({ delays: 2 }).setInputReference(r)).toBe(false);
    expect(make({ model: 'li' }).setInputReference(r)).toBe(false);
    expect(() => make({}).setInputReference(be.tensor([B, K + 1]))).toThrow(/input reference has shape \[5, 24\] but \[5, 23\]/);
    // not in the middle of a chunk of gathered updates
    const net = new Network(be, { inputSize: K, dtMs: 1, layers: [{ size: N, model: 'lif' }] }, new Rng(1));
    net.enableTraces('trace');
    net.layers[0].enableGradChunks(4);
    net.reset(B);
    net.step(r);
    net.layers[0].accumulateGrad(be.tensor([B, N]), 1, { w: be.tensor([K, N]) });
    net.step(r);
    net.layers[0].accumulateGrad(be.tensor([B, N]), 1, { w: be.tensor([K, N]) });
    expect(() => net.layers[0].setInputReference(r)).toThrow(/in the middle of a chunk/);
  });
});

describe('the rate encoder\'s most likely input', () => {
  it('is 1 where p > 0.5, else 0, and follows setInput', () => {
    const e = createEncoder({ name: 'rate', params: { gain: 1 } }, { rng: new Rng(1) });
    e.setInput([0, 0.3, 0.5, 0.51, 1, 2], 2, 3);
    expect(Array.from(e.mostLikely?.() ?? [])).toEqual([0, 0, 0, 1, 1, 1]);
    e.setInput([0.9, 0.1, 0.7], 1, 3);
    expect(Array.from(e.mostLikely?.() ?? [])).toEqual([1, 0, 1]);
  });
});

describe('the spiking rules with an input reference (Network.useInputReference)', () => {
  /** The same small LIF network for every rule: 40 hidden units, T = 10, rate coding (FF's last layer is a hidden one too). */
  const cfg = (rule: string, extra: Partial<ExperimentConfig> = {}): ExperimentConfig => ({
    dataset: 'synthetic', rule, mode: 'spiking', layers: [{ size: 40, params: { beta: 0.9, threshold: 0.5 } }, { size: rule === 'ff' ? 30 : 3 }],
    steps: 10, encoder: 'rate', optimizer: 'adam', learningRate: 0.01, ...extra,
  } as ExperimentConfig);
  const cfgs: Record<string, ExperimentConfig> = {
    sigprop: cfg('sigprop', { ruleParams: { inputDropout: 0.2 } }),
    bptt: cfg('bptt'),
    pepita: cfg('pepita', { optimizer: 'sgd' }),
    dfa: cfg('dfa'),
    ff: cfg('ff'),
  };
  /** Windows per training batch (each sets its reference once: one more [rows, Kin] propagation). */
  const windows: Record<string, number> = { sigprop: 1, bptt: 1, pepita: 2, dfa: 1, ff: 1 };
  const Kin = 30, C = 3, Bn = 8;
  // intensities mostly near 0 or near 1, as MNIST's
  const x = Float32Array.from({ length: Bn * Kin }, (_, i) => [0.97, 0.03, 0, 0.9][(i * 7) % 4]);
  const labels = Int32Array.from({ length: Bn }, (_, i) => i % C);

  /** The first layer's gradient after one batch, and the non-zeros of the presynaptic operands of its [rows, Kin] spikeMatmul (and spikeMatmulDiff) calls. */
  async function batch(rule: string, hint: boolean) {
    const be = await createBackend('wasm', { threads: 1 });
    const seen = { nonZeros: 0, calls: 0 };
    const spy = new Proxy(be, {
      get(target, prop, recv) {
        if (prop === 'inputReference') return hint;
        if (prop === 'spikeMatmul') {
          return (out: never, s: { shape: number[] }, w: { shape: number[] }, beta?: number) => {
            if (w.shape[0] === Kin && s.shape[0] > C) {
              seen.calls++;
              for (const v of target.read(s as never)) if (v !== 0) seen.nonZeros++;
            }
            return target.spikeMatmul(out, s as never, w as never, beta);
          };
        }
        if (prop === 'spikeMatmulDiff') {
          // the fused propagation of x − r (wasm): count the difference it propagated
          return (out: never, d: { shape: number[] }, xx: never, r: never, w: { shape: number[] }, base: never) => {
            target.spikeMatmulDiff!(out, d as never, xx, r, w as never, base);
            if (w.shape[0] === Kin && d.shape[0] > C) {
              seen.calls++;
              for (const v of target.read(d as never)) if (v !== 0) seen.nonZeros++;
            }
          };
        }
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as Backend;
    const r = createRule(cfgs[rule], { backend: spy, rng: new Rng(7), inputSize: Kin, numClasses: C }) as unknown as { layers: { W: { grad: never } }[] };
    trainOn(r as never, spy, x, labels);
    const grad = be.read(r.layers[0].W.grad);
    await (be as { dispose?: () => Promise<void> }).dispose?.();
    return { grad, ...seen };
  }

  for (const rule of ['sigprop', 'bptt', 'pepita', 'dfa', 'ff']) {
    it(`${rule}: propagates the first layer's input with fewer non-zeros, to the same gradient up to rounding`, async () => {
      const plain = await batch(rule, false), ref = await batch(rule, true);
      expect(ref.calls).toBe(plain.calls + windows[rule]); // r·W once per window
      expect(ref.nonZeros).toBeLessThan(0.5 * plain.nonZeros);
      expect(plain.grad.filter((v) => v !== 0).length).toBeGreaterThan(plain.grad.length / 10); // a gradient to compare
      expectClose(ref.grad, plain.grad, 1e-4);
    });
  }

  it('Network.useInputReference: only where the backend asks, after reset', () => {
    const net = new Network(wasm, { inputSize: K, dtMs: 1, layers: [{ size: 9, model: 'lif' }] }, new Rng(1));
    const ones = (out: Tensor) => {
      wasm.write(out, new Float32Array(B * K).fill(1));
      return true;
    };
    expect(() => net.useInputReference(ones)).toThrow(/call reset\(batch\) before useInputReference/);
    net.reset(B);
    expect(net.useInputReference(undefined)).toBe(false);
    expect(net.useInputReference(() => false)).toBe(false);
    expect(net.useInputReference(ones)).toBe(true);
    const plain = new Network(new ReferenceBackend(), { inputSize: K, dtMs: 1, layers: [{ size: 9, model: 'lif' }] }, new Rng(1));
    plain.reset(B);
    expect(plain.useInputReference(ones)).toBe(false); // the reference backend keeps x
  });
});
