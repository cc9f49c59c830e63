/**
 * Loading the compiled kernels (src/backend/wasm/build/kernels.wasm, built by
 * `npm run build:wasm`) and the typed view of their exports. Pointers are byte offsets into the
 * backend's shared WebAssembly.Memory.
 *
 * Environment-neutral: where the bytes come from is kernel-file.ts (Node: read from disk; the
 * browser build swaps in src/web/shims/kernel-file.ts, which fetches kernels.wasm beside the
 * bundle), unless `setKernelSource` handed bytes or a URL first.
 */
import { SigpropError } from '../../errors.js';
import { readKernelFile } from './kernel-file.js';

/** The exported kernels (see src/backend/wasm/assembly/*.ts for their contracts). */
export interface WasmKernels {
  heapBase(): number;
  gemmScratchBytes(): number;
  rowDots(M: number, N: number, K: number, a: number, b: number, c: number, alpha: number, beta: number, i0: number, i1: number): void;
  spikeScratchBytes(B: number, K: number): number;
  outerScratchBytes(B: number): number;
  gemm(
    M: number, N: number, K: number, a: number, b: number, c: number, transA: number, transB: number,
    alpha: number, beta: number, i0: number, i1: number, j0: number, j1: number, scratch: number,
  ): void;
  spikeMatmul(B: number, K: number, N: number, s: number, w: number, ldw: number, out: number, c: number, beta: number, j0: number, j1: number, scratch: number): void;
  spikeMatmulRows(B: number, K: number, N: number, s: number, w: number, ldw: number, out: number, c: number, beta: number, b0: number, b1: number, scratch: number): void;
  rowDiffNonZero(x: number, r: number, d: number, K: number, counts: number, b0: number, b1: number): void;
  padRows(dst: number, x: number, C: number, ld: number, r0: number, r1: number): void;
  spikeOuter(B: number, K: number, N: number, s: number, g: number, ldg: number, w: number, alpha: number, k0: number, k1: number, scratch: number): void;
  spikeMatmulNarrow(B: number, K: number, N: number, s: number, w: number, out: number, beta: number, b0: number, b1: number, scratch: number): void;
  narrowScratchBytes(K: number): number;
  spikeOuterPair(
    B: number, K1: number, N1: number, s1: number, g1: number, w1: number, a1: number,
    K2: number, N2: number, s2: number, g2: number, ldg2: number, w2: number, a2: number, lo: number, hi: number, scratch: number,
  ): void;
  spikeOuterNarrow(B: number, K: number, N: number, s: number, g: number, w: number, alpha: number, k0: number, k1: number, scratch: number): void;
  delayedSpikeMatmul(ring: number, s: number, w: number, d: number, B: number, K: number, N: number, D: number, t: number): void;
  delayedOuter(
    w: number, ring: number, g: number, d: number, B: number, K: number, N: number, D: number, t: number, alpha: number, k0: number, k1: number,
  ): void;
  rateSpikes(out: number, p: number, n: number, state: number, next: number, table: number, call: number, lo: number, hi: number): void;
  rngJumpTableBytes(): number;
  rngJumpInit(table: number): void;
  dropMask(out: number, n: number, nDraw: number, p: number, keep: number, state: number, table: number, lo: number, hi: number): void;
  axpby(y: number, x: number, alpha: number, beta: number, lo: number, hi: number): void;
  mul(out: number, a: number, b: number, lo: number, hi: number): void;
  addRow(x: number, v: number, N: number, r0: number, r1: number): void;
  sumRows(out: number, x: number, B: number, N: number, alpha: number, beta: number, c0: number, c1: number): void;
  fill(x: number, value: number, lo: number, hi: number): void;
  copy(dst: number, src: number, lo: number, hi: number): void;
  sum(x: number, lo: number, hi: number): number;
  sumSquares(x: number, lo: number, hi: number): number;
  lifStep(u: number, s: number, inp: number, beta: number, th: number, vmin: number, reset: number, delay: number, lo: number, hi: number): void;
  synapticStep(
    u: number, isyn: number, s: number, inp: number, alpha: number, beta: number, th: number, vmin: number, reset: number, delay: number,
    lo: number, hi: number,
  ): void;
  surrogate(out: number, u: number, th: number, kind: number, p: number, q: number, deriv: number, lo: number, hi: number): void;
  surrogateHasPrimitive(kind: number): number;
  countNonZero(x: number, lo: number, hi: number): number;
  neuronFused(
    u: number, isyn: number, s: number, inp: number, alpha: number, beta: number, th: number, vmin: number, reset: number, delay: number,
    kind: number, p: number, q: number, fOut: number, dfOut: number, lo: number, hi: number,
  ): void;
  rowNonZero(x: number, K: number, counts: number, b0: number, b1: number): void;
  leakyStep(h: number, a: number, inp: number, gain: number, kind: number, lo: number, hi: number): void;
  izhikevichStep(
    v: number, u: number, s: number, inp: number, a: number, b: number, c: number, d: number, vPeak: number, nSub: number, h: number,
    lo: number, hi: number,
  ): void;
  adexStep(
    v: number, w: number, s: number, inp: number, C: number, gL: number, EL: number, deltaT: number, VT: number, tauW: number,
    a: number, b: number, Vr: number, Vpeak: number, nSub: number, h: number, lo: number, hi: number,
  ): void;
  addScalar(x: number, c: number, lo: number, hi: number): void;
  gateBelow(g: number, u: number, vMin: number, lo: number, hi: number): void;
  gradTail(g: number, d: number, mask: number, keepEnd: number, count: number, s: number, lo: number, hi: number): void;
  activation(out: number, x: number, kind: number, deriv: number, lo: number, hi: number): void;
  transpose(out: number, x: number, R: number, C: number): void;
  normalizeRows(out: number, norms: number, x: number, row0: number, rows: number, n: number, normalize: number, eps: number): void;
  normalizeRowsBackward(g: number, x: number, row0: number, rows: number, n: number, dhat: number, norms: number, normalize: number): void;
  normalizeRowsRange(out: number, norms: number, x: number, row0: number, n: number, normalize: number, eps: number, lo: number, hi: number): void;
  normalizeRowsBackwardRange(g: number, x: number, row0: number, n: number, dhat: number, norms: number, normalize: number, lo: number, hi: number): void;
  softmaxCERange(rowLoss: number, dy: number, y: number, p: number, C: number, gs: number, gd: number, e: number, r0: number, r1: number): void;
  lossAddRows(loss: number, rowLoss: number, divisor: number, r0: number, r1: number): void;
  simLogitsRange(
    hHat: number, norms: number, x: number, n: number, normalize: number, eps: number, tHat: number, nt: number, y: number, alpha: number, lo: number, hi: number,
  ): void;
  simBackwardRange(g: number, x: number, n: number, dy: number, nt: number, tHat: number, norms: number, normalize: number, row: number, lo: number, hi: number): void;
  softmaxRows(out: number, x: number, R: number, C: number): void;
  l2PairLoss(loss: number, g: number, r: number, nh: number, n: number): void;
  ffGoodness(
    loss: number, g: number, goodness: number, y: number, R: number, n: number, theta: number, mean: number, nPos: number, nNeg: number,
    lossDiv: number, gradDiv: number, gb: number,
  ): void;
  ffPeerNorm(loss: number, g: number, running: number, y: number, n: number, nPos: number, momentum: number, weight: number): void;
  sgdStep(w: number, g: number, lr: number, wd: number, lo: number, hi: number): void;
  momentumStep(w: number, g: number, v: number, lr: number, mu: number, wd: number, lo: number, hi: number): void;
  adamStep(
    w: number, g: number, m: number, v: number, lr: number, b1: number, b2: number, eps: number, c1: number, c2: number, wd: number,
    lo: number, hi: number,
  ): void;
}

/** Kernels a worker thread can run, by index (the op id sent over the shared control block). */
export const THREADED_OPS = [
  'gemm', 'spikeMatmulRows', 'spikeOuter', 'axpby', 'mul', 'addRow', 'sumRows', 'fill', 'copy', 'sum', 'sumSquares',
  'lifStep', 'synapticStep', 'surrogate', 'neuronFused', 'spikeMatmulNarrow', 'adamStep', 'gradTail', 'normalizeRowsRange', 'normalizeRowsBackwardRange',
  'spikeOuterNarrow', 'rowDots', 'rateSpikes', 'dropMask', 'padRows', 'simLogitsRange', 'simBackwardRange', 'rowNonZero', 'softmaxCERange',
  'lossAddRows', 'rowDiffNonZero', 'spikeOuterPair',
] as const;
export type ThreadedOp = (typeof THREADED_OPS)[number];

/**
 * Arguments every chunk call passes (threads.ts): each kernel's own, then the unused rest (a wasm
 * export ignores extra arguments). A call with a fixed list read from a Float64Array took 7-10 ns
 * against 33-38 ns for a spread or apply of an array, which also allocated boxed numbers: the worker
 * ran a scavenge every ~150 ms of mnist-lif training, and none in 40 batches with the fixed list.
 * At least the arity of every split kernel (test/backend.wasm.threads.test.ts checks).
 */
export const KERNEL_ARGS = 18;

/** Largest memory, in 64 KiB pages, the module accepts (4 GiB). */
export const MAX_PAGES = 65536;

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * Where the kernels come from instead of the default (kernel-file.ts): the bytes themselves, or a
 * URL (string or URL) to fetch them from (a page that serves kernels.wasm elsewhere).
 */
export type KernelSource = BufferSource | URL | string;

let source: KernelSource | undefined;

/**
 * Hand the wasm backend its kernels (bytes or a URL to fetch) before the first `createBackend('wasm')`;
 * `undefined` restores the default (read from disk in Node, fetched beside the bundle in a browser).
 */
export function setKernelSource(src: KernelSource | undefined): void {
  source = src;
  compiled = undefined;
}

/** The kernel bytes and a name for messages: from `setKernelSource`, else the default reader. */
async function kernelBytes(): Promise<{ bytes: BufferSource; where: string }> {
  if (source === undefined) return readKernelFile();
  if (typeof source === 'string' || source instanceof URL) {
    const where = String(source);
    let res: Response;
    try {
      res = await fetch(source);
    } catch (err) {
      throw new SigpropError(`wasm backend: could not fetch the kernels from ${where} (${err instanceof Error ? err.message : String(err)})`, 'backend');
    }
    if (!res.ok) throw new SigpropError(`wasm backend: fetching the kernels from ${where} failed with HTTP ${res.status}`, 'backend');
    return { bytes: await res.arrayBuffer(), where };
  }
  return { bytes: source, where: 'the kernel bytes given to setKernelSource' };
}

/** Compile kernels.wasm once per process (page). Throws a SigpropError telling to build it when missing. */
export function loadKernelModule(): Promise<WebAssembly.Module> {
  if (!compiled) {
    compiled = (async () => {
      const { bytes, where } = await kernelBytes();
      try {
        return await WebAssembly.compile(bytes);
      } catch (err) {
        throw new SigpropError(
          `wasm backend: ${where} could not be compiled (${err instanceof Error ? err.message : String(err)}). ` +
            'Rebuild it with `npm run build:wasm`; this backend needs WebAssembly SIMD and threads (Node >= 20).',
          'backend',
        );
      }
    })();
    compiled.catch(() => {
      compiled = undefined; // allow a retry after the user builds
    });
  }
  return compiled;
}

/** Instantiate the kernels over `memory` (synchronous; the module is already compiled). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): WasmKernels {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as WasmKernels;
}
