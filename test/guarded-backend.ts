/**
 * A reference backend whose tensors refuse host access while armed: reading or writing
 * `tensor.data` anywhere but inside a backend method (a kernel, read, write) throws and names the
 * caller. Tests arm it around an engine window to prove that the per-step path runs only through
 * Backend kernels, as a device backend needs (metrics, recordings and checkpoints use read()).
 */
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { shapeSize, type Tensor } from '../src/tensor.js';

export class HostAccessError extends Error {}

export interface GuardedBackend {
  backend: Backend;
  /** Run fn with host access refused; returns what fn returns. */
  armed<T>(fn: () => T): T;
  /**
   * Device-to-host reads made while armed: backend methods that return tensor contents to the
   * host (read, sum, sumSquares), by name. A step path without any keeps every value on the device.
   */
  readonly reads: string[];
}

/** Backend methods whose result is tensor contents on the host (a device backend's copy back). */
const HOST_READS = new Set(['read', 'sum', 'sumSquares']);

export function guardedBackend(): GuardedBackend {
  let armed = false;
  let depth = 0;
  const reads: string[] = [];
  class GuardedTensor implements Tensor {
    readonly size: number;
    readonly #data: Float32Array;
    constructor(readonly shape: readonly number[], readonly backend = 'reference') {
      this.size = shapeSize(shape);
      this.#data = new Float32Array(this.size);
    }
    get data(): Float32Array {
      if (armed && depth === 0) {
        const where = (new Error().stack ?? '').split('\n').slice(2, 5).map((l) => l.trim()).join(' <- ');
        throw new HostAccessError(`host access to tensor.data [${this.shape.join(', ')}] inside an engine window: ${where}`);
      }
      return this.#data;
    }
  }
  const ref = new ReferenceBackend();
  ref.tensor = (shape: readonly number[]) => new GuardedTensor([...shape]);
  const backend = new Proxy(ref, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (armed && depth === 0 && HOST_READS.has(String(prop))) reads.push(String(prop));
        depth++;
        try {
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          depth--;
        }
      };
    },
  }) as Backend;
  return {
    backend,
    reads,
    armed<T>(fn: () => T): T {
      armed = true;
      try {
        return fn();
      } finally {
        armed = false;
      }
    },
  };
}
