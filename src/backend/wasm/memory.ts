/**
 * Memory of the wasm backend: one shared WebAssembly.Memory, a small allocator over it and the
 * tensor type whose `data` view follows memory growth.
 *
 * Allocator: blocks are rounded up to 64 bytes (a cache line, so two threads writing different
 * tensors never share a line) and reused through exact-size free lists (training loops free and
 * allocate the same shapes over and over); new blocks come from a bump pointer, and the memory
 * grows (in whole pages, never shrinking) when the bump pointer passes its end. Every growth bumps
 * `generation`, which tells tensors to re-create their Float32Array views.
 */
import { SigpropError } from '../../errors.js';
import { shapeSize, shapeString, type Tensor } from '../../tensor.js';
import { MAX_PAGES } from './module.js';

const ALIGN = 64;
const PAGE = 65536;

export class WasmHeap {
  /** Incremented whenever memory.buffer changes (growth). */
  generation = 0;
  /** Blocks allocated and released so far (WasmBackend.replayable: its recorded calls hold offsets). */
  blockChanges = 0;
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  /** Bytes currently handed out. */
  liveBytes = 0;
  /**
   * Called before the host touches memory (a tensor's data, a released block): the backend's
   * ThreadPool.settle, which waits for the chunks a worker may still run of the split calls in flight.
   */
  settle: () => void = () => {};

  constructor(
    readonly memory: WebAssembly.Memory,
    heapBase: number,
    readonly maxPages: number = MAX_PAGES,
  ) {
    this.top = align(heapBase);
  }

  /** Allocate `bytes` (any size ≥ 0); returns a 64-byte aligned byte offset. Contents are not cleared. */
  alloc(bytes: number): number {
    this.blockChanges++;
    const size = align(Math.max(bytes, 1));
    const list = this.freeLists.get(size);
    if (list && list.length > 0) {
      this.liveBytes += size;
      return list.pop()!;
    }
    const ptr = this.top;
    const end = ptr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      const current = have / PAGE;
      // Grow geometrically (at least 1/4 of the current size) to keep the number of growths small.
      const want = Math.min(this.maxPages, Math.max(current + pages, Math.ceil(current * 1.25)));
      if (want - current < pages) {
        throw new SigpropError(
          `wasm backend: out of memory allocating ${bytes} bytes (the WebAssembly memory is limited to ` +
            `${(this.maxPages * PAGE) / 2 ** 30} GiB); free unused tensors, use a smaller batch, or use backend "reference"`,
          'backend',
        );
      }
      this.memory.grow(want - current);
      this.generation++;
    }
    this.top = end;
    this.liveBytes += size;
    return ptr;
  }

  /** Return a block from alloc(bytes) for reuse. */
  release(ptr: number, bytes: number): void {
    this.settle();
    this.blockChanges++;
    const size = align(Math.max(bytes, 1));
    this.liveBytes -= size;
    if (ptr + size === this.top) {
      this.top = ptr;
      return;
    }
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(ptr);
  }

  /** Bytes of memory currently reserved by the WebAssembly instance. */
  get capacityBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/**
 * A tensor living in the wasm memory. `ptr` is its byte offset. The `data` getter re-creates the
 * Float32Array view after memory growth, so a view fetched right before a kernel call is valid.
 */
export class WasmTensor implements Tensor {
  readonly size: number;
  readonly shape: readonly number[];
  private view: Float32Array | null = null;
  private viewGeneration = -1;
  private released = false;

  constructor(
    shape: readonly number[],
    readonly ptr: number,
    readonly heap: WasmHeap,
    readonly backend: string = 'wasm',
  ) {
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
  }

  get data(): Float32Array {
    this.heap.settle();
    if (this.viewGeneration !== this.heap.generation || this.view === null) {
      if (this.released) throw this.usedAfterFree();
      this.view = new Float32Array(this.heap.memory.buffer, this.ptr, this.size);
      this.viewGeneration = this.heap.generation;
    }
    return this.view;
  }

  /** True once the tensor has been freed. */
  get isFreed(): boolean {
    return this.released;
  }

  /** Mark freed (called by the backend); returns false if it already was. */
  markFreed(): boolean {
    if (this.released) return false;
    this.released = true;
    this.view = null;
    return true;
  }

  usedAfterFree(): SigpropError {
    return new SigpropError(`wasm backend: a tensor of shape ${shapeString(this.shape)} was used after backend.free()`, 'backend');
  }
}
