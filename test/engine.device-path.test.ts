/**
 * The per-step path runs only through Backend kernels: a training window of every engine rule on
 * a backend whose tensors refuse host access (test/guarded-backend.ts) must not touch tensor.data
 * between its first and last step. Metrics, recordings and checkpoints read back with
 * backend.read at the window's end.
 */
import { describe, expect, it } from 'vitest';
import type { ExperimentConfig } from '../src/config/types.js';
import type { Network } from '../src/engine/network.js';
import { createRule } from '../src/learning/index.js';
import { Rng } from '../src/rng.js';
import { B, C, DEVICE_PATH_CASES, K, tiny } from './device-path.cases.js';
import { guardedBackend, HostAccessError } from './guarded-backend.js';

/**
 * Train one batch with host access refused inside every engine run; returns the refusal, if any,
 * or the device-to-host reads (backend.read, sum, sumSquares) made inside a run.
 */
function stepPathViolation(cfg: ExperimentConfig): string | undefined {
  const g = guardedBackend();
  const rule = createRule(cfg, { backend: g.backend, rng: new Rng(3), inputSize: K, numClasses: C });
  const net = rule.network as Network;
  expect(net, `rule ${cfg.rule} (${cfg.mode}) has an engine network`).toBeDefined();
  const run = net.run.bind(net);
  net.run = (o) => g.armed(() => run(o));
  const x = new Rng(1).fillUniform(new Float32Array(B * K));
  try {
    rule.trainBatch(x, Int32Array.from([0, 1, 2, 1]));
    rule.predict(x, B);
  } catch (err) {
    if (err instanceof HostAccessError) return err.message;
    throw err;
  }
  return g.reads.length ? `device-to-host reads inside an engine window: ${g.reads.join(', ')}` : undefined;
}

describe('the per-step path touches no host memory (a guarded backend refuses tensor.data inside engine windows)', () => {
  it('the guard catches a host read inside a window', () => {
    const g = guardedBackend();
    const t = g.backend.tensor([2, 2]);
    expect(() => g.armed(() => t.data[0])).toThrow(HostAccessError);
    expect(g.armed(() => g.backend.read(t))).toHaveLength(4); // read-back through the backend is allowed
  });

  for (const [name, over] of DEVICE_PATH_CASES) {
    it(name, () => {
      expect(stepPathViolation(tiny(over))).toBeUndefined();
    });
  }
});
