/** Shape checks shared by every backend, so each kernel fails with the same clear message. */
import { checkNumber, ShapeError } from '../errors.js';
import { shapeString, type Tensor } from '../tensor.js';
import type { MatmulOptions } from './backend.js';

/** A kernel argument must be a tensor (a number or array in its place, e.g. arguments in the wrong order, gets this message). */
export function expectTensor(kernel: string, name: string, t: unknown): asserts t is Tensor {
  if (!t || typeof t !== 'object' || !Array.isArray((t as Tensor).shape)) {
    const got = t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t === 'object' ? 'an object without a shape' : `the ${typeof t} ${String(t)}`;
    throw new ShapeError(`${kernel}: ${name} must be a tensor of this backend (backend.tensor(shape) or backend.fromArray(shape, data)), got ${got}; check the order of the arguments`);
  }
}

export function expectShape(kernel: string, name: string, t: Tensor, shape: readonly number[]): void {
  expectTensor(kernel, name, t);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${kernel}: ${name} has shape ${shapeString(t.shape)} but ${shapeString(shape)} is needed`);
  }
}

export function expectSameSize(kernel: string, names: string[], ts: Tensor[]): void {
  ts.forEach((t, i) => expectTensor(kernel, names[i], t));
  for (let i = 1; i < ts.length; i++) {
    if (ts[i].size !== ts[0].size) {
      throw new ShapeError(
        `${kernel}: ${names[i]} has shape ${shapeString(ts[i].shape)} but must match ${names[0]} ${shapeString(ts[0].shape)}`,
      );
    }
  }
}

export function expect2d(kernel: string, name: string, t: Tensor): [number, number] {
  expectTensor(kernel, name, t);
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

/** Rows [from, to) must lie in [0, R]. */
export function expectRowRange(kernel: string, from: number, to: number, R: number): void {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > R) {
    throw new ShapeError(`${kernel}: rows [${from}, ${to}) are not a range of the ${R} rows`);
  }
}

/** normalizeRows(Backward): rows [row0, row0 + R) of x [*, N] against a [R, N] tensor and norms [R]. Returns [R, N]. */
export function normalizeDims(kernel: string, rowsT: Tensor, norms: Tensor, x: Tensor, row0: number): [number, number] {
  const [xr, n] = expect2d(kernel, 'x', x);
  const [rows] = expect2d(kernel, 'out / dhat', rowsT);
  expectShape(kernel, 'out / dhat', rowsT, [rows, n]);
  expectShape(kernel, 'norms', norms, [rows]);
  expectRowRange(kernel, row0, row0 + rows, xr);
  return [rows, n];
}

/** softmaxCrossEntropy: loss [1], y and p (and dy) [R, C]. Returns [R, C]. */
export function softmaxCEDims(loss: Tensor, dy: Tensor | null, y: Tensor, p: Tensor): [number, number] {
  const [R, C] = expect2d('softmaxCrossEntropy', 'y', y);
  expectShape('softmaxCrossEntropy', 'p', p, [R, C]);
  if (dy) expectShape('softmaxCrossEntropy', 'dy', dy, [R, C]);
  if (loss.size !== 1) throw new ShapeError(`softmaxCrossEntropy: loss must have 1 element, got shape ${shapeString(loss.shape)}`);
  return [R, C];
}

/** l2PairLoss: r [2·nh, N], g like r, loss [1]. Returns N. */
export function l2PairDims(loss: Tensor, g: Tensor | null, r: Tensor, nh: number): number {
  const [rows, n] = expect2d('l2PairLoss', 'r', r);
  if (rows !== 2 * nh) throw new ShapeError(`l2PairLoss: r has ${rows} rows, expected 2×${nh} (one target row per input row)`);
  if (g) expectShape('l2PairLoss', 'g', g, r.shape);
  if (loss.size !== 1) throw new ShapeError(`l2PairLoss: loss must have 1 element, got shape ${shapeString(loss.shape)}`);
  return n;
}

/**
 * Dimensions of delayedSpikeMatmul (x = s [B, K], ring [D·B, N]) or delayedOuter (outer: x = g [B, N],
 * ring [D·B, K]); W and delays [K, N]. Returns [B, K, N, D].
 */
export function delayedDims(
  kernel: string, ring: Tensor, x: Tensor, w: Tensor, delays: Tensor, xName: string, ringName: string, outer = false,
): [number, number, number, number] {
  const [K, N] = expect2d(kernel, 'w', w);
  expectShape(kernel, 'delays', delays, [K, N]);
  const [B, c] = expect2d(kernel, xName, x);
  if (c !== (outer ? N : K)) {
    throw new ShapeError(`${kernel}: ${xName} has shape ${shapeString(x.shape)} but ${shapeString([B, outer ? N : K])} is needed for W ${shapeString(w.shape)}`);
  }
  const [rows, rc] = expect2d(kernel, ringName, ring);
  const width = outer ? K : N;
  if (rc !== width || B === 0 || rows % B !== 0 || rows === 0) {
    throw new ShapeError(`${kernel}: ${ringName} has shape ${shapeString(ring.shape)} but [D·${B}, ${width}] (D slots of ${shapeString([B, width])}) is needed`);
  }
  return [B, K, N, rows / B];
}

/** Check a flat slice copy (copySlice). */
export function copySliceDims(dst: Tensor, dstOffset: number, src: Tensor, srcOffset: number, count: number): void {
  const ok = (o: number, size: number): boolean => Number.isInteger(o) && o >= 0 && o + count <= size;
  if (!Number.isInteger(count) || count < 0 || !ok(dstOffset, dst.size) || !ok(srcOffset, src.size)) {
    throw new ShapeError(
      `copySlice: ${count} values from offset ${srcOffset} of src ${shapeString(src.shape)} to offset ${dstOffset} of dst ${shapeString(dst.shape)} do not fit`,
    );
  }
}

/** Check Backend.dropoutMask's arguments: out 2-D, rows in [0, R], p in [0, 1]; returns [R, N]. */
export function dropoutMaskDims(out: Tensor, rows: number, p: number): [number, number] {
  const [R, N] = expect2d('dropoutMask', 'out', out);
  checkNumber('dropoutMask rows', rows, { min: 0, max: R, integer: true });
  checkNumber('dropout probability', p, { min: 0, max: 1 });
  return [R, N];
}

/** The common size of the tensors of Backend.elementwise. */
export function elementwiseSize(ts: readonly Tensor[]): number {
  if (ts.length === 0) throw new ShapeError('elementwise: no tensors given');
  for (const t of ts) {
    if (t.size !== ts[0].size) throw new ShapeError(`elementwise: tensors have shapes ${ts.map((u) => shapeString(u.shape)).join(', ')} but must have one size`);
  }
  return ts[0].size;
}

/** ffGoodness: y [R, N]; g like y; goodness [R]; loss [1]; nPos + nNeg ≤ R. Returns [R, N]. */
export function ffGoodnessDims(loss: Tensor | null, g: Tensor | null, goodness: Tensor | null, y: Tensor, nPos: number, nNeg: number): [number, number] {
  const [R, N] = expect2d('ffGoodness', 'y', y);
  if (g) expectShape('ffGoodness', 'g', g, [R, N]);
  if (goodness) expectShape('ffGoodness', 'goodness', goodness, [R]);
  if (loss && loss.size !== 1) throw new ShapeError(`ffGoodness: loss must have 1 element, got shape ${shapeString(loss.shape)}`);
  if (!Number.isInteger(nPos) || !Number.isInteger(nNeg) || nPos < 0 || nNeg < 0 || nPos + nNeg > R) {
    throw new ShapeError(`ffGoodness: nPos = ${nPos} and nNeg = ${nNeg} must be integers ≥ 0 with nPos + nNeg ≤ ${R} (the rows of y)`);
  }
  return [R, N];
}

/** ffPeerNorm: y [R, N]; g like y; running [N]; loss [1]; 1 ≤ nPos ≤ R. Returns [R, N]. */
export function ffPeerNormDims(loss: Tensor | null, g: Tensor | null, running: Tensor, y: Tensor, nPos: number): [number, number] {
  const [R, N] = expect2d('ffPeerNorm', 'y', y);
  if (g) expectShape('ffPeerNorm', 'g', g, [R, N]);
  expectShape('ffPeerNorm', 'running', running, [N]);
  if (loss && loss.size !== 1) throw new ShapeError(`ffPeerNorm: loss must have 1 element, got shape ${shapeString(loss.shape)}`);
  if (!Number.isInteger(nPos) || nPos < 1 || nPos > R) throw new ShapeError(`ffPeerNorm: nPos = ${nPos} must be an integer in [1, ${R}] (the rows of y)`);
  return [R, N];
}
