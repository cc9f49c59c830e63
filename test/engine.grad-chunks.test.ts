// Gathered eligibility updates (Layer.enableGradChunks): the same gradient as one update per step,
// on reference and wasm, for chunks shorter than, equal to and longer than the window; layers it
// does not apply to (synaptic: two filters) keep the per-step updates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { createBackend } from '../src/backend/registry.js';
import { Layer, gradChunkLength } from '../src/engine/layer.js';
import { Network } from '../src/engine/network.js';
import { createRule } from '../src/learning/index.js';
import type { SpikingSigprop } from '../src/learning/sigprop-spiking.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import { Rng } from '../src/rng.js';

let wasm: Backend & { dispose?: () => Promise<void> };
beforeAll(async () => {
  wasm = await createBackend('wasm', { threads: 1 });
});
afterAll(async () => {
  await wasm?.dispose?.();
});

/** W's and the bias's gradient after a window of T steps with random spikes and random g, chunks of `chunk` steps (0: per step). */
function window(be: Backend, chunk: number, T: number, model = 'lif', windowSteps = 0, steps = T): { w: Float32Array; b: Float32Array } {
  const [B, K, N] = [5, 23, 9];
  const net = new Network(be, { inputSize: K, dtMs: 1, layers: [{ size: N, model, params: { beta: 0.9 }, bias: true }] }, new Rng(3));
  net.enableTraces('trace');
  const layer = net.layers[0];
  layer.enableGradChunks(chunk, windowSteps);
  net.reset(B);
  const grads = { w: be.tensor([K, N]), bias: be.tensor([N]) };
  const rng = new Rng(7);
  const x = be.tensor([B, K]), g = be.tensor([B, N]);
  for (let t = 0; t < steps; t++) {
    be.write(x, Float32Array.from({ length: B * K }, () => (rng.uniform() < 0.2 ? 1.25 : 0)));
    net.step(x);
    be.write(g, rng.fillNormal(new Float32Array(B * N)));
    layer.accumulateGrad(g, 0.3, { ...grads }); // a new object each step, as DenseParams.grads() gives
  }
  layer.finishGrad(grads);
  return { w: be.read(grads.w), b: be.read(grads.bias) };
}

function expectClose(a: Float32Array, b: Float32Array, rtol = 2e-5): void {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > rtol * scale) expect.fail(`element ${i}: ${a[i]} vs ${b[i]}`);
}

describe('gathered eligibility updates', () => {
  for (const backend of ['reference', 'wasm']) {
    it(`equal the per-step updates (${backend}; chunks of 2, 4, 11 and 16 steps, windows of 11 and 12)`, () => {
      const be = backend === 'reference' ? new ReferenceBackend() : wasm;
      for (const T of [11, 12]) {
        const want = window(new ReferenceBackend(), 0, T), perStep = window(be, 0, T);
        for (const chunk of [2, 4, 11, 16]) {
          const got = window(be, chunk, T);
          expectClose(got.w, want.w);
          expect(Array.from(got.b)).toEqual(Array.from(perStep.b)); // the bias is still updated per step
        }
      }
    });
  }

  it("a leaky integrator (the 'li' readout: input straight into its voltage) gathers too, the same gradient", () => {
    const net = new Network(wasm, { inputSize: 4, dtMs: 1, layers: [{ size: 3, model: 'li', params: { beta: 0.9 } }] }, new Rng(1));
    net.enableTraces('trace');
    net.layers[0].enableGradChunks(5);
    net.reset(2);
    expect(net.layers[0].gradSlot()).toBeNull(); // traces and their buffers come with the first traced step
    net.step(wasm.tensor([2, 4]));
    expect(net.layers[0].gradSlot()).not.toBeNull(); // it really gathers
    for (const be of [new ReferenceBackend(), wasm]) {
      const want = window(new ReferenceBackend(), 0, 12, 'li'), perStep = window(be, 0, 12, 'li');
      const got = window(be, 5, 12, 'li');
      expectClose(got.w, want.w);
      expect(Array.from(got.b)).toEqual(Array.from(perStep.b));
    }
  });

  it('a synaptic layer (two filters) keeps the per-step updates, bit for bit', () => {
    const be = new ReferenceBackend();
    expect(Array.from(window(be, 4, 9, 'synaptic').w)).toEqual(Array.from(window(be, 0, 9, 'synaptic').w));
  });

  it('the wasm backend asks for chunks; reference does not', () => {
    expect(wasm.gradChunkSteps).toBeGreaterThan(1);
    expect((new ReferenceBackend() as Backend).gradChunkSteps).toBeUndefined();
  });

  it('a window is cut into the fewest equal chunks the cap allows', () => {
    const cases: [number, number, number][] = [
      [25, 32, 25], [32, 32, 32], [33, 32, 17], [100, 32, 25], [400, 32, 31], [25, 16, 13], [16, 16, 16], [1, 32, 1], [0, 32, 0], [25, 0, 0],
    ];
    for (const [T, cap, want] of cases) expect(gradChunkLength(T, cap), `T = ${T}, cap ${cap}`).toBe(want);
  });

  it("spiking sigprop on wasm gathers a T = 25 window in one chunk, a T = 40 window in two of 20", () => {
    for (const [steps, want] of [[25, 25], [40, 20]]) {
      const rule = createRule(
        { dataset: 'synthetic', rule: 'sigprop', mode: 'spiking', layers: [{ size: 7, model: 'lif', params: { beta: 0.9 } }, { size: 3 }], steps, encoder: 'rate' },
        { backend: wasm, rng: new Rng(1), inputSize: 6, numClasses: 3 },
      ) as SpikingSigprop;
      expect(wasm.gradChunkSteps).toBe(32);
      expect(rule.net.layers.map((l) => l.gradChunkSteps)).toEqual([want, want]);
      rule.dispose?.();
    }
  });

  it('told the window, a layer leaves the trace tensor alone in the last chunk: the same gradient, bit for bit', () => {
    for (const be of [new ReferenceBackend(), wasm]) {
      for (const [chunk, T] of [[4, 11], [4, 12], [11, 11], [16, 11], [6, 12], [2, 3]]) {
        for (const model of ['lif', 'li']) {
          const told = window(be, chunk, T, model, T), plain = window(be, chunk, T, model);
          expect(Array.from(told.w), `${be.name}: chunks of ${chunk}, T = ${T}, ${model}`).toEqual(Array.from(plain.w));
          expect(Array.from(told.b)).toEqual(Array.from(plain.b));
        }
      }
    }
  });

  it('a window longer than the layer was told fails at the next chunk, naming the cause', () => {
    expect(() => window(new ReferenceBackend(), 4, 6, 'lif', 6, 9)).toThrow(/windows last fewer steps .*windowSteps 0/);
  });

  it('spiking sigprop on wasm skips the trace inside its one chunk: the trace reads as skipped after a batch', () => {
    const rule = createRule(
      { dataset: 'synthetic', rule: 'sigprop', mode: 'spiking', layers: [{ size: 7, model: 'lif', params: { beta: 0.9 } }, { size: 3 }], steps: 10, encoder: 'rate' },
      { backend: wasm, rng: new Rng(1), inputSize: 6, numClasses: 3 },
    ) as SpikingSigprop;
    rule.trainBatch(new Rng(2).fillUniform(new Float32Array(4 * 6)), Int32Array.from([0, 1, 2, 1]));
    for (const l of rule.net.layers) expect(() => l.trace?.value()).toThrow(/skipped it/);
    rule.dispose?.();
  });

  it('an inference pass at another batch size allocates no traces or gathering buffers; training picks up as before', () => {
    const be = new ReferenceBackend();
    const net = new Network(be, { inputSize: 4, dtMs: 1, layers: [{ size: 3, model: 'lif', params: { beta: 0.9 } }] }, new Rng(1));
    net.enableTraces('trace');
    net.layers[0].enableGradChunks(5, 5);
    net.reset(2);
    net.step(be.tensor([2, 4]));
    const trained = net.layers[0].trace;
    expect(trained?.rows).toBe(2);
    net.reset(7);
    net.setTracing(false);
    net.step(be.tensor([7, 4]));
    expect(net.layers[0].trace).toBeNull();
    expect(net.layers[0].gradSlot()).toBeNull();
    net.setTracing(true);
    net.reset(2);
    net.step(be.tensor([2, 4]));
    expect(net.layers[0].trace?.rows).toBe(2);
    expect(net.layers[0].gradSlot()).not.toBeNull();
  });
});

/**
 * Gradients of a hidden layer (K inputs at 5% spikes → N) and a readout (N → C, 'li') after a window
 * of T steps gathered in one chunk each, applied by finishGrad on each layer or by Layer.finishGrads.
 */
function twoLayerWindow(be: Backend, together: boolean, T = 5): Float32Array[] {
  const [B, K, N, C] = [138, 784, 1000, 10];
  const net = new Network(be, {
    inputSize: K, dtMs: 1,
    layers: [{ size: N, model: 'lif', params: { beta: 0.95 }, propagation: 'event' }, { size: C, model: 'li', params: { beta: 0.9 }, propagation: 'event' }],
  }, new Rng(3));
  net.enableTraces('trace');
  for (const l of net.layers) l.enableGradChunks(T, T);
  net.reset(B);
  const grads = net.layers.map((l) => ({ w: be.tensor([l.inSize, l.size]) }));
  const rng = new Rng(7);
  const x = be.tensor([B, K]);
  const gs = net.layers.map((l) => be.tensor([B, l.size]));
  for (let t = 0; t < T; t++) {
    be.write(x, Float32Array.from({ length: B * K }, () => (rng.uniform() < 0.05 ? 1 : 0)));
    net.step(x);
    net.layers.forEach((l, i) => {
      be.write(gs[i], rng.fillNormal(new Float32Array(B * l.size)));
      l.accumulateGrad(gs[i], 0.3, { ...grads[i] });
    });
  }
  if (together) Layer.finishGrads(net.layers.map((layer, i) => ({ layer, grads: grads[i] })));
  else net.layers.forEach((l, i) => l.finishGrad(grads[i]));
  const out = grads.map((g) => be.read(g.w));
  net.free();
  return out;
}

describe('Layer.finishGrads', () => {
  it('applies several layers\' gathered updates with the values of finishGrad on each (reference; wasm on one and two threads, where the readout\'s update runs beside the hidden layer\'s)', async () => {
    const ref = new ReferenceBackend();
    const want = twoLayerWindow(ref, false);
    const got = twoLayerWindow(ref, true);
    got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i])));
    const two = (await createBackend('wasm', { threads: 2 })) as WasmBackend;
    try {
      const one = twoLayerWindow(wasm, false);
      const pairs = () => two.threadStats().get('spikeOuterPair')?.calls ?? 0;
      const before = pairs();
      const split = twoLayerWindow(two, true);
      expect(pairs() - before).toBe(5); // the chunk's first trace and its 4 inputs, each beside the readout's
      const oneTogether = twoLayerWindow(wasm, true);
      one.forEach((g, i) => {
        expect(Array.from(oneTogether[i])).toEqual(Array.from(g));
        let diff = 0;
        for (let k = 0; k < g.length; k++) if (!Object.is(g[k], split[i][k])) diff++;
        expect(diff).toBe(0);
        expectClose(g, want[i]);
      });
    } finally {
      await two.dispose();
    }
  });
});
