/**
 * Random inputs of the kernel parity tests (Node tests and the browser page of the gpu backend's
 * test alike: no test-runner imports here).
 */
import { Rng } from '../src/rng.js';

/** n values that are non-zero with probability `density`: 1, or with `valued` uniform in [−2, 2). */
export function randomSpikes(rng: Rng, n: number, density: number, valued = false): Float32Array {
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) if (rng.uniform() < density) s[i] = valued ? rng.range(-2, 2) : 1;
  return s;
}

/** An input of an op: shape and contents, put on each backend. */
export type In = [number[], Float32Array];

/** `inp(shape, data?)`: the shape with the given contents, else normal values (std `scale`) drawn from rng. */
export function inputMaker(rng: Rng, scale = 1): (shape: number[], data?: Float32Array) => In {
  return (shape, data) => [shape, data ?? rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, scale)];
}
