/**
 * A reference backend with asynchronous read-back, as WebGPU has (Backend.asyncReads): kernels run
 * at once, but `read`, `sum` and `sumSquares` answer only for tensors that an `await sync(...)` copied
 * (or that were written from the host) since they last changed (a change is seen by comparing the contents with that copy), and throw
 * ReadNotSyncedError otherwise. Tests train through it to prove that a rule's asynchronous form
 * syncs everything it reads, and only then reads.
 */
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { ReadNotSyncedError } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';

export class AsyncReadBackend extends ReferenceBackend implements Backend {
  override readonly name = 'async-reads';
  readonly asyncReads = true;
  /** How many tensors were copied back, over all syncs. */
  syncedTensors = 0;
  syncCalls = 0;
  private readonly live = new Set<Tensor>();
  private readonly copies = new WeakMap<Tensor, Float32Array>();

  override tensor(shape: readonly number[]): Tensor {
    const t = super.tensor(shape);
    this.live.add(t);
    return t;
  }

  /** Values written from the host are known on the host (as the gpu backend keeps them). */
  override write(t: Tensor, data: ArrayLike<number>): void {
    super.write(t, data);
    this.copies.set(t, Float32Array.from(t.data));
  }

  override free(t: Tensor): void {
    this.live.delete(t);
    super.free(t);
  }

  async sync(tensors?: readonly Tensor[]): Promise<void> {
    this.syncCalls++;
    await new Promise<void>((r) => setTimeout(r, 0)); // resolves later, as a device's read-back does
    for (const t of tensors ?? [...this.live]) {
      this.copies.set(t, Float32Array.from(t.data));
      this.syncedTensors++;
    }
  }

  /** The host copy of t, or a ReadNotSyncedError when t was never synced or changed since. */
  private synced(t: Tensor, what: string): Float32Array {
    const c = this.copies.get(t);
    const d = t.data;
    if (!c || c.length !== d.length || c.some((v, i) => !Object.is(v, d[i]))) {
      throw new ReadNotSyncedError(`${what} of a tensor [${t.shape.join(', ')}] that was not synced since it last changed`);
    }
    return c;
  }

  override read(t: Tensor): Float32Array {
    return Float32Array.from(this.synced(t, 'read'));
  }

  override sum(x: Tensor): number {
    this.synced(x, 'sum');
    return super.sum(x);
  }

  override sumSquares(x: Tensor): number {
    this.synced(x, 'sumSquares');
    return super.sumSquares(x);
  }
}
