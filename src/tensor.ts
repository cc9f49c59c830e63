/**
 * A tensor: float32 data in row-major order plus a shape. Tensors are allocated by a Backend
 * (`backend.tensor(shape)`), so the data already lives where that backend's kernels read it:
 * a Float32Array on the JS heap for `reference`, a view into WebAssembly memory for `wasm`.
 * `data` is a getter so that a backend whose memory can move (wasm memory growth) always
 * hands out a fresh, valid view.
 */
import { ShapeError } from './errors.js';

export interface Tensor {
  readonly shape: readonly number[];
  /** Number of elements (product of shape). */
  readonly size: number;
  /** The elements, row-major. Do not keep this view across calls that allocate. */
  readonly data: Float32Array;
  /** Name of the backend that owns this tensor. */
  readonly backend: string;
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A shape as text, "[138, 1000]"; a long list is cut ("[0, 0.5, 1, …] (108192 entries)"). */
export function shapeString(shape: readonly number[]): string {
  if (shape.length <= 8) return `[${shape.join(', ')}]`;
  return `[${shape.slice(0, 3).join(', ')}, …] (${shape.length} entries)`;
}

/**
 * Check a shape handed to backend.tensor / fromArray: every entry an integer ≥ 0. The error names
 * the shape (cut when long) and, for a long list, the likely mix-up of data for the shape.
 */
export function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (Number.isInteger(d) && d >= 0) continue;
    const hint = shape.length > 8 ? '; was the data passed as the shape? fromArray takes (shape, data)' : '';
    throw new ShapeError(`tensor: shape ${shapeString(shape)} must hold integers >= 0${hint}`);
  }
}

/** A tensor whose data is a plain Float32Array (used by `reference`, and as a host copy). */
export class HostTensor implements Tensor {
  readonly size: number;
  constructor(
    readonly shape: readonly number[],
    readonly data: Float32Array,
    readonly backend = 'reference',
  ) {
    this.size = shapeSize(shape);
    if (data.length !== this.size) {
      throw new RangeError(`tensor data has ${data.length} elements but shape ${shapeString(shape)} needs ${this.size}`);
    }
  }
}
