/** Shape checks shared by every backend, so each kernel fails with the same clear message. */
import { ShapeError } from '../errors.js';
import { shapeString, type Tensor } from '../tensor.js';
import type { MatmulOptions } from './backend.js';

export function expectShape(kernel: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${kernel}: ${name} has shape ${shapeString(t.shape)} but ${shapeString(shape)} is needed`);
  }
}

export function expectSameSize(kernel: string, names: string[], ts: Tensor[]): void {
  for (let i = 1; i < ts.length; i++) {
    if (ts[i].size !== ts[0].size) {
      throw new ShapeError(
        `${kernel}: ${names[i]} has shape ${shapeString(ts[i].shape)} but must match ${names[0]} ${shapeString(ts[0].shape)}`,
      );
    }
  }
}

export function expect2d(kernel: string, name: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError(`${kernel}: ${name} must be 2-D, got shape ${shapeString(t.shape)}`);
  return [t.shape[0], t.shape[1]];
}

/** Resolve and check the dimensions of out = op(a)·op(b). Returns [M, K, N]. */
export function matmulDims(out: Tensor, a: Tensor, b: Tensor, opts: MatmulOptions = {}): [number, number, number] {
  const [ar, ac] = expect2d('matmul', 'a', a);
  const [br, bc] = expect2d('matmul', 'b', b);
  const [M, K] = opts.transA ? [ac, ar] : [ar, ac];
  const [K2, N] = opts.transB ? [bc, br] : [br, bc];
  if (K !== K2) {
    throw new ShapeError(
      `matmul: inner dimensions differ: op(a) is [${M}, ${K}] and op(b) is [${K2}, ${N}] (transA=${!!opts.transA}, transB=${!!opts.transB})`,
    );
  }
  expectShape('matmul', 'out', out, [M, N]);
  return [M, K, N];
}
