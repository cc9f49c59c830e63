/** Shared by the PEPITA and FA/DFA tests: the engine-window guard of test/engine.device-path.test.ts for any rule config. */
import type { ExperimentConfig } from '../src/config/types.js';
import { createRule } from '../src/learning/index.js';
import { Rng } from '../src/rng.js';
import { guardedBackend, HostAccessError } from './guarded-backend.js';

/** Train one batch and predict on a guarded backend that refuses host access inside engine windows (as test/engine.device-path.test.ts). */
export function stepPathViolation(cfg: ExperimentConfig, K = 6, C = 3, B = 4): string | undefined {
  const g = guardedBackend();
  const rule = createRule(cfg, { backend: g.backend, rng: new Rng(3), inputSize: K, numClasses: C });
  const net = rule.network!;
  const run = net.run.bind(net);
  net.run = (o) => g.armed(() => run(o));
  const x = new Rng(1).fillUniform(new Float32Array(B * K));
  try {
    rule.trainBatch(x, Int32Array.from({ length: B }, (_, i) => i % C));
    rule.predict(x, B);
  } catch (err) {
    if (err instanceof HostAccessError) return err.message;
    throw err;
  }
  return g.reads.length ? `device-to-host reads inside an engine window: ${g.reads.join(', ')}` : undefined;
}

