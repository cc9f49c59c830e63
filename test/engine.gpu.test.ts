/**
 * The learning rules on the gpu backend (gpu.js CPU mode; the engine's own voltages and spikes are
 * compared in test/engine.backends.test.ts): the same weights after a few batches of spiking and
 * rate sigprop as on reference, and every
 * configuration of the device-path guard (test/device-path.cases.ts) trains, predicts, reports
 * and checkpoints on a backend whose tensors have no host data at all (tensor.data throws).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createGpuBackend, type GpuBackend } from '../src/backend/gpu/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { createRule, type TrainingRule } from '../src/learning/index.js';
import { Rng } from '../src/rng.js';
import { B, C, DEVICE_PATH_CASES, K, tiny } from './device-path.cases.js';

let gpu: GpuBackend;
beforeAll(async () => {
  gpu = await createGpuBackend({ mode: 'cpu' });
});
afterAll(async () => {
  await gpu?.dispose();
});

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

describe('the rules on gpu (cpu mode)', () => {
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
