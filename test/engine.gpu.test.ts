/**
 * The engine and the learning rules on the gpu backend (gpu.js CPU mode): the same voltages and
 * spikes as reference, the same weights after a few batches of spiking and rate sigprop, and every
 * configuration of the device-path guard (test/device-path.cases.ts) trains, predicts, reports
 * and checkpoints on a backend whose tensors have no host data at all (tensor.data throws).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createGpuBackend, type GpuBackend } from '../src/backend/gpu/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { createEncoder } from '../src/encoders.js';
import { Network, type NetworkSpec } from '../src/engine/network.js';
import { createRule, type TrainingRule } from '../src/learning/index.js';
import { Recorder } from '../src/recorder.js';
import { Rng } from '../src/rng.js';
import { B, C, DEVICE_PATH_CASES, K, tiny } from './device-path.cases.js';

let gpu: GpuBackend;
beforeAll(async () => {
  gpu = await createGpuBackend({ mode: 'cpu' });
});
afterAll(async () => {
  await gpu?.dispose();
});

const NK = 50, NB = 3, T = 15;

function spec(): NetworkSpec {
  const d = new Int32Array(NK * 20);
  const r = new Rng(99);
  for (let i = 0; i < d.length; i++) d[i] = r.int(4);
  return {
    inputSize: NK, dtMs: 1,
    layers: [
      { size: 20, model: 'lif', params: { beta: 0.85, threshold: 0.6 }, bias: true, delays: d, weightScale: 3 },
      { size: 12, model: 'synaptic', params: { alpha: 0.7, beta: 0.8, threshold: 0.5 }, delays: 2, weightScale: 3 },
      { size: 6, model: 'lif', propagation: 'dense', weightScale: 3 },
    ],
  };
}

function simulate(be: Backend): { u: Float32Array[]; s: Float32Array[]; rec: Float32Array } {
  const net = new Network(be, spec(), new Rng(5));
  net.reset(NB);
  const enc = createEncoder('rate:gain=0.8', { rng: new Rng(8) });
  const x = new Float32Array(NB * NK);
  new Rng(3).fillUniform(x);
  enc.setInput(x, NB, NK);
  const rec = new Recorder({ layer: 1, vars: ['current'], neurons: [0, 5], samples: 'all' });
  const u: Float32Array[] = [], s: Float32Array[] = [];
  net.run({ steps: T, encoder: enc, recorder: rec, onStep: (_t, n) => n.layers.forEach((l) => { u.push(be.read(l.voltage())); s.push(be.read(l.output())); }) });
  return { u, s, rec: rec.get(1, 'current', 5, 2) };
}

function make(cfg: ExperimentConfig, be: Backend, inputSize = K, numClasses = C): TrainingRule {
  return createRule(cfg, { backend: be, rng: new Rng(3), inputSize, numClasses });
}

/** Every state entry of b within tol·(max |a| of the entry) of a. */
function expectSameState(a: Record<string, Float32Array>, b: Record<string, Float32Array>, tol: number): void {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const key of Object.keys(a)) {
    const scale = Math.max(1e-3, ...Array.from(a[key], Math.abs));
    for (let i = 0; i < a[key].length; i++) {
      if (!(Math.abs(a[key][i] - b[key][i]) <= tol * scale)) expect.fail(`${key}[${i}]: gpu ${b[key][i]}, reference ${a[key][i]} (scale ${scale})`);
    }
  }
}

describe('the engine on gpu (cpu mode)', () => {
  it('agrees with reference: voltages, spikes, recordings', () => {
    const ref = simulate(new ReferenceBackend());
    const got = simulate(gpu);
    let spikes = 0;
    for (let i = 0; i < ref.u.length; i++) {
      for (let j = 0; j < ref.u[i].length; j++) expect(Math.abs(got.u[i][j] - ref.u[i][j])).toBeLessThan(1e-4);
      expect(Array.from(got.s[i])).toEqual(Array.from(ref.s[i]));
      for (const v of ref.s[i]) spikes += v;
    }
    expect(spikes).toBeGreaterThan(20);
    for (let t = 0; t < T; t++) expect(got.rec[t]).toBeCloseTo(ref.rec[t], 4);
  });

  const rules: [string, Partial<ExperimentConfig>][] = [
    ['spiking sigprop', {}],
    ['spiking sigprop, voltage mode, L2 loss', { representation: 'voltage', loss: 'l2' }],
    ['rate sigprop', { mode: 'rate', layers: [{ size: 7 }, { size: 5 }, { size: C }], ruleParams: { activation: 'tanh' } }],
  ];
  for (const [name, over] of rules) {
    it(`${name}: a few batches give the weights of reference`, () => {
      const cfg = tiny({ steps: 8, ...over });
      const a = make(cfg, new ReferenceBackend()), b = make(cfg, gpu);
      const data = new Rng(11);
      for (let batch = 0; batch < 4; batch++) {
        const x = data.fillUniform(new Float32Array(B * K));
        const labels = Int32Array.from({ length: B }, () => data.int(C));
        const ra = a.trainBatch(x, labels), rb = b.trainBatch(x, labels);
        expect(rb.loss).toBeCloseTo(ra.loss, 3);
      }
      expectSameState(a.state(), b.state(), 1e-4);
      const x = new Rng(2).fillUniform(new Float32Array(B * K));
      expect(Array.from(b.predict(x, B))).toEqual(Array.from(a.predict(x, B)));
      b.dispose?.();
    });
  }
});

describe('the device path on gpu: tensors without host data (tensor.data throws) train, predict, report and checkpoint', () => {
  for (const [name, over] of DEVICE_PATH_CASES) {
    it(name, () => {
      const rule = make(tiny(over), gpu);
      const x = new Rng(1).fillUniform(new Float32Array(B * K));
      rule.trainBatch(x, Int32Array.from([0, 1, 2, 1]));
      rule.predict(x, B);
      rule.layerStats?.();
      const st = rule.state();
      rule.loadState(st);
      const again = rule.state();
      for (const key of Object.keys(st)) expect(Array.from(again[key]), key).toEqual(Array.from(st[key]));
      rule.dispose?.();
    });
  }
});
