/**
 * A cache of named work tensors, so that hot loops (every time step of every batch) reuse the
 * same backend memory instead of allocating. A tensor is reallocated only when the requested
 * shape changes (e.g. a smaller last batch). Its size is fixed by the shapes asked for, never
 * by the number of time steps.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';

export class Scratch {
  private readonly cache = new Map<string, Tensor>();
  constructor(readonly backend: Backend) {}

  /** The tensor named `name` with this shape (contents are whatever was left there). */
  get(name: string, shape: readonly number[]): Tensor {
    const t = this.cache.get(name);
    if (t && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
    if (t) this.backend.free(t);
    const fresh = this.backend.tensor(shape);
    this.cache.set(name, fresh);
    return fresh;
  }

  /** Like get, but zero-filled. */
  zeros(name: string, shape: readonly number[]): Tensor {
    const t = this.get(name, shape);
    this.backend.fill(t, 0);
    return t;
  }

  /** Total bytes held (for memory reports). */
  bytes(): number {
    let n = 0;
    for (const t of this.cache.values()) n += t.size * 4;
    return n;
  }

  dispose(): void {
    for (const t of this.cache.values()) this.backend.free(t);
    this.cache.clear();
  }
}
