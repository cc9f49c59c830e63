/**
 * The `wasm` backend: SIMD WebAssembly kernels (AssemblyScript, src/backend/wasm/assembly) over
 * tensors that live in one shared WebAssembly.Memory, optionally split over worker threads.
 * Created through `createBackend('wasm', { threads })` (or 'auto', which prefers it on CPU).
 *
 * Threads: with threads = T > 1, kernels whose work passes a size threshold (PARALLEL_THRESHOLDS)
 * are cut into chunks that the T threads claim dynamically (GEMM by output columns or rows,
 * spikeMatmul by batch rows (the readout's narrow form too), spikeOuter by weight rows, elementwise kernels by element
 * ranges; see threads.ts); smaller calls run on the calling thread alone, where waking a worker
 * would cost more than it saves. Each output element is computed the same way whatever T is, so
 * results are bitwise equal for every T, except sum / sumSquares whose float64 partial sums are
 * added per chunk.
 *
 * Sparse vs dense: spikeMatmul and spikeOuter classify the rows of their presynaptic operand by
 * their fraction of non-zeros and run dense runs of rows as GEMM (see DENSE_*_FRACTION).
 */
import { checkNumber, ParameterError } from '../../errors.js';
import type { Rng, RngHolder, RngState } from '../../rng.js';
import type { Tensor } from '../../tensor.js';
import { checkShape, shapeSize } from '../../tensor.js';
import { hostActivation } from '../host-kernels.js';
import { spikeMatmulDiffFallback } from '../reference.js';
import type {
  AdamStepParams, AdexKernelParams, Backend, ElementwiseKernel, FfGoodnessParams, FusedStepOutputs, IzhikevichKernelParams, SoftmaxCEScales, LifKernelParams, MatmulOptions, OuterUpdate, SurrogateKernelSpec, SynapticKernelParams,
} from '../backend.js';
import {
  copySliceDims, delayedDims, dropoutMaskDims, elementwiseSize, ffGoodnessDims, ffPeerNormDims, expect2d, expectRowRange, expectSameSize, expectShape, l2PairDims, matmulDims, normalizeDims,
  softmaxCEDims,
} from '../checks.js';
import { WasmHeap, WasmTensor } from './memory.js';
import { instantiateKernels, loadKernelModule, MAX_PAGES, type ThreadedOp, type WasmKernels } from './module.js';
import { chunkCuts, densityRuns, equalFractions, twoEndedCuts, twoEndedFractions, weightedCuts } from './split.js';
import { chooseNative, type NativeSurrogate } from './surrogates.js';
import { availableCores, ThreadPool } from './threads.js';

/** Options of the wasm backend. */
export interface WasmBackendOptions {
  /**
   * Threads (the calling thread plus threads − 1 workers); integer 1..64, or 0 for one per core
   * (`autoThreads()`: os.availableParallelism() in Node, at most 4; 1 in the browser build). Default 1. Results are the same
   * bit for bit for every thread count.
   */
  threads?: number;
  /** Initial memory in MiB (grows on demand); default 16. */
  initialMemoryMiB?: number;
}

/** Work sizes above which a call is split over threads (tuned with `npm run bench`). */
export const PARALLEL_THRESHOLDS = {
  /** 2·M·N·K floating-point operations. */
  gemmFlops: 2e6,
  /** B·K·N of spikeMatmul / spikeOuter (dense-equivalent size). */
  spikeWork: 4e6,
  /**
   * B·K of spikeMatmul / spikeOuter with at most NARROW_N outputs (a readout), whose cost is
   * mostly the scan of s ([138, 1000] of mnist-lif's readout passes it).
   */
  narrowWork: 1 << 16,
  /** Elements of an elementwise kernel ([batch, 784] input-sized tensors of MNIST pass it). */
  elements: 1 << 16,
  /** Elements (rows × columns) of a row-wise kernel with float64 work per element (row normalisation). */
  rowElements: 1 << 15,
  /** Elements (rows × classes) of softmaxCrossEntropy: an exp and a log per element ([128, 10] passes it). */
  softmaxElements: 1 << 10,
};

/** softmaxCrossEntropy keeps a row's exponentials in the thread's scratch up to this many classes (else computes them twice). */
const SOFTMAX_KEEP = 256;

/**
 * spikeOuter treats a row of its presynaptic operand as dense above this fraction of non-zero
 * values (measured crossover on the bench machine: about 0.3-0.4). The row classification depends
 * only on the data, never on the thread count.
 */
export const DENSE_OUTER_FRACTION = 0.3;
/**
 * ...and only in runs of at least this many dense rows: a GEMM over a few rows (sigprop's 10 target
 * rows) reads and writes all of W for little work, so short dense runs stay on the event kernel,
 * which then passes over each row of W once for all rows.
 */
export const OUTER_MIN_DENSE_RUN = 32;
/** spikeMatmul treats a row as dense above this fraction of non-zero inputs (GEMM is ~2x faster per pair). */
export const DENSE_SPIKE_FRACTION = 0.4;
/** ...in runs of at least this many dense rows, or every row of an s with fewer rows (spikeMatmul's doc). */
const SPIKE_MIN_DENSE_RUN = 16;

/**
 * Per-row cost of the event-driven spikeMatmul in units of one active input (building the row's
 * list and the panel overheads), for splitting rows over threads by work (split.ts weightedCuts).
 */
export const SPIKE_ROW_COST = 8;
/**
 * Pieces per thread of a lazy kernel's split call, claimed guided (ThreadPool.run `guide`; see
 * WasmBackend.guidedClaims). mnist-lif on two threads, toggled per batch: 32 per thread against 16
 * 1.008-1.028x, 64 against 32 0.973-0.992x (experiments/RESULTS.md).
 */
export const GUIDED_PIECES_PER_THREAD = 32;
/**
 * More pieces for spikeOuter, whose work per weight row k (its input's non-zeros over the batch)
 * differs from row to row: MNIST's middle pixels, which the last claims take, are the dense ones.
 * 128 per thread against 32: 1.013-1.021x.
 */
const OUTER_PIECES_PER_THREAD = 128;
/**
 * Fewer pieces for kernels whose claim costs more than a small piece's work: gemm packs its A panel
 * again for every claim, and an elementwise piece of 32 per thread is ~1,700 floats (0.3-0.5 µs) of
 * a [138, 784] call. Against 32 per thread, toggled per batch: gemm 1.017x (median of 6, 0.994-1.025),
 * elementwise 1.008x (median of 6, 0.997-1.041).
 */
const FEW_PIECES_PER_THREAD = 8;
/**
 * A guided claim takes ⌈left ÷ (GUIDE_PER_THREAD · threads)⌉ of the unclaimed pieces (ThreadPool.run
 * `guide`): with 1 a thread's first claim is its fair share of the call, then a fair share of what
 * is left, and so on. Each claim is a compare-and-swap on a line both threads write (~0.1-0.2 µs
 * on the 2-core virtual machine): against 2 (the first claim half a fair share: about twice as many
 * claims), mnist-lif on two threads toggled per batch 0.987-0.997x the batch time (experiments/RESULTS.md).
 */
const GUIDE_PER_THREAD = 1;
/**
 * Fewer still for spikeOuterNarrow (a readout's update), whose pieces are ranges of weight rows k:
 * each piece lists the active inputs of its columns in every batch row, a cost per row and piece.
 * [138, 1000] spikes at 15% against [138, 10], one thread: 64 pieces in a row took 1.7x the time of
 * one call (357 against 212 µs), 8 pieces 1.0-1.1x. mnist-lif on two threads, toggled per batch, 4
 * per thread against 32: 0.986-1.016x, median 1.009 of 5 runs (experiments/RESULTS.md).
 */
const NARROW_OUTER_PIECES_PER_THREAD = 4;

/**
 * Rows of W (spikeMatmul) or of g (spikeOuter) that lie a multiple of 512 bytes apart put the
 * 16-column panel the event kernels read of every active row into a few cache sets, which cannot
 * hold it: [138, 784]·[784, 1024] at 15% density took 3.2 ms against 1.4 ms for N = 1000. Such an
 * operand is first copied with rows N + PAD_COLUMNS floats apart (assembly/spike.ts padRows; the
 * sums are the same). Measured on the bench machine (one thread, copy included): spikeMatmul
 * 1.14-2.1x faster for N = 512, 640, 768, 1024, 1280, 1536, 2048 and no faster for 256 and 384;
 * spikeOuter 1.1-1.7x for N = 512, 1024, 2048, and slower for 640 and 1280. See
 * experiments/RESULTS.md.
 */
export const PAD_COLUMNS = 16;
/** Whether spikeMatmul copies W [K, N] with padded rows (see PAD_COLUMNS). */
export function padsSpikeWeights(N: number): boolean {
  return N >= 512 && N % 128 === 0;
}
/** Whether spikeOuter copies g [B, N] with padded rows (see PAD_COLUMNS). */
export function padsOuterGradient(N: number): boolean {
  return N % 512 === 0;
}

/**
 * spikeMatmul with at most this many outputs (e.g. a 10-class readout) takes the narrow kernel
 * (assembly/spike.ts spikeMatmulNarrow) for every row, sparse or dense.
 */
export const NARROW_N = 16;

/** log2 of the slots of WasmBackend.cutsFor's cache (a training step splits a few dozen shapes). */
const CUTS_CACHE_BITS = 8;

/**
 * The most steps of eligibility updates a layer gathers on this backend (Layer.enableGradChunks):
 * the trace outer product once per chunk, then the sparser input spikes; a rule cuts its window
 * into the fewest equal chunks of at most this many steps (engine/layer.ts gradChunkLength).
 * Memory per layer: that many [batch, in] and [batch, out] tensors, independent of the number of
 * steps of a window beyond it. 32 rather than 16 (2026-12-03): a T = 25 window of mnist-lif in one
 * chunk instead of 16 + 9 skips the second chunk's dense trace and reference passes over the
 * gradient, 2–7% faster on one and two threads (in-process A/B; experiments/RESULTS.md).
 */
export const GRAD_CHUNK_STEPS = 32;

/**
 * Kernels whose calls return before their chunks complete (ThreadPool.run's lazy; with deferLazy
 * right after publishing, and below the split threshold as one chunk handed to a worker): the
 * calling thread goes on with the JavaScript before the next kernel meanwhile. Not the
 * reductions (sum, sumSquares), whose result is needed at once, nor the kernels whose results the
 * host reads right after the call (rowNonZero's counts, dropMask's generator state).
 */
const LAZY_OPS: ReadonlySet<ThreadedOp> = new Set<ThreadedOp>([
  'gemm', 'spikeMatmulRows', 'spikeOuter', 'axpby', 'mul', 'addRow', 'sumRows', 'fill', 'copy', 'lifStep', 'synapticStep',
  'surrogate', 'neuronFused', 'spikeMatmulNarrow', 'adamStep', 'gradTail', 'normalizeRowsRange', 'normalizeRowsBackwardRange',
  'spikeOuterNarrow', 'spikeOuterPair', 'rowDots', 'padRows', 'simLogitsRange', 'simBackwardRange', 'softmaxCERange', 'lossAddRows', 'rateSpikes',
]);

/** A kernel call recorded by WasmBackend.replayable: ranged()'s arguments; chunks null where it ran on the calling thread. */
interface RecordedCall {
  op: ThreadedOp;
  args: number[];
  lazy: boolean;
  chunks: { lo: number; hi: number; cuts: readonly number[]; guide: number; scratchAt: number; scratch: readonly number[] } | null;
}
interface Capture {
  calls: RecordedCall[];
  /** Something in the block cannot be replayed from its calls. */
  broken: boolean;
}
/** A block's calls, with the argument positions that take a param's offset (+ a fixed distance) at each replay. */
interface ReplayTemplate {
  calls: RecordedCall[];
  /** [call, argument position, param, byte distance into the param]. */
  subst: [number, number, number, number][];
  /** Per param: the offset it must have (it did not move between the recorded runs, so no argument is known to be it), or −1. */
  fixed: number[];
}
interface ReplayState {
  /** The heap's blockChanges when this was recorded. */
  changes: number;
  first?: { calls: RecordedCall[]; ptrs: number[]; sizes: number[] };
  template?: ReplayTemplate;
  /** Not replayable (until the next allocation or release). */
  off?: boolean;
}

/**
 * The template of two recorded runs of a block: the same kernels with the same cuts, arguments equal
 * except where both are the same distance into the same param (which moved between the runs).
 * null where they differ otherwise.
 */
function replayTemplate(
  a: { calls: readonly RecordedCall[]; ptrs: readonly number[]; sizes: readonly number[] },
  b: { calls: readonly RecordedCall[]; ptrs: readonly number[] },
): ReplayTemplate | null {
  if (a.calls.length !== b.calls.length || a.ptrs.length !== b.ptrs.length) return null;
  const subst: [number, number, number, number][] = [];
  for (let i = 0; i < a.calls.length; i++) {
    const x = a.calls[i], y = b.calls[i];
    if (x.op !== y.op || x.lazy !== y.lazy || x.args.length !== y.args.length || !sameChunks(x.chunks, y.chunks)) return null;
    for (let p = 0; p < x.args.length; p++) {
      if (x.args[p] === y.args[p]) continue;
      let k = 0;
      for (; k < a.ptrs.length; k++) {
        const d = x.args[p] - a.ptrs[k];
        if (a.ptrs[k] !== b.ptrs[k] && d >= 0 && d < a.sizes[k] && y.args[p] - b.ptrs[k] === d) break;
      }
      if (k === a.ptrs.length) return null;
      subst.push([i, p, k, x.args[p] - a.ptrs[k]]);
    }
  }
  return { calls: b.calls.map((c) => ({ ...c, args: c.args.slice() })), subst, fixed: a.ptrs.map((p, k) => (p === b.ptrs[k] ? p : -1)) };
}

function sameChunks(x: RecordedCall['chunks'], y: RecordedCall['chunks']): boolean {
  if (!x || !y) return x === y;
  return x.lo === y.lo && x.hi === y.hi && x.guide === y.guide && x.scratchAt === y.scratchAt && x.scratch === y.scratch &&
    x.cuts.length === y.cuts.length && x.cuts.every((c, i) => c === y.cuts[i]);
}

type AnyKernel = (...x: unknown[]) => unknown;

/** `kernels` with every function replaced by `wrap(name, fn)` (the other exports as they are). */
function wrapKernels(kernels: WasmKernels, wrap: (name: string, fn: AnyKernel) => AnyKernel): WasmKernels {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(kernels)) out[name] = typeof fn === 'function' ? wrap(name, fn as AnyKernel) : fn;
  return out as unknown as WasmKernels;
}

/** `kernels` with every call timed (performance.now() around it) into `times` by name. */
function timed(kernels: WasmKernels, times: Map<string, { calls: number; ms: number }>): WasmKernels {
  return wrapKernels(kernels, (name, fn) => function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now();
    const r = fn(...a);
    let t = times.get(name);
    if (!t) times.set(name, (t = { calls: 0, ms: 0 }));
    t.calls++;
    t.ms += performance.now() - t0;
    return r;
  });
}

/** `kernels` with every call preceded by pool.settle(): a kernel on the calling thread never meets a worker's chunk still running. */
function settling(kernels: WasmKernels, pool: ThreadPool): WasmKernels {
  return wrapKernels(kernels, (_, fn) => function (this: unknown, ...a: unknown[]) {
    pool.settle();
    return fn(...a);
  });
}

const RESET_CODES: Readonly<Record<string, number>> = { subtract: 0, zero: 1, none: 2 };

/**
 * The thread count that `threads: 0` stands for: one per core the process may use, at most
 * AUTO_THREADS_MAX. On 2 cores, 2 threads trained mnist-lif 1.14x faster than 1 (median samples/s of
 * 5 interleaved experiments/bench-train.ts runs each: 669 vs 586; see experiments/RESULTS.md).
 */
export const AUTO_THREADS_MAX = 4;
export function autoThreads(): number {
  return Math.max(1, Math.min(AUTO_THREADS_MAX, availableCores()));
}

/** Create a wasm backend (compiles the kernels once per process, starts the workers). */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  const requested = checkNumber('threads', opts.threads ?? 1, { min: 0, max: 64, integer: true });
  const threads = requested === 0 ? autoThreads() : requested;
  const initialMiB = checkNumber('initialMemoryMiB', opts.initialMemoryMiB ?? 16, { min: 1, max: 4095, integer: true });
  const module = await loadKernelModule();
  const memory = new WebAssembly.Memory({ initial: initialMiB * 16, maximum: MAX_PAGES, shared: true });
  const kernels = instantiateKernels(module, memory);
  const pool = threads > 1 ? await ThreadPool.start(threads, module, memory) : null;
  return new WasmBackend(kernels, memory, threads, pool);
}

/** A block of the wasm heap that a backend keeps and grows (WasmBackend.growBuffer). */
interface GrowableBuffer {
  ptr: number;
  bytes: number;
}

export class WasmBackend implements Backend {
  readonly name: string = 'wasm';
  /**
   * The kernels, called on this thread; with worker threads each call first waits for the chunks
   * a worker may still run of the split calls in flight (ThreadPool.settle: split calls of kernels
   * in LAZY_OPS return before their last chunks complete).
   */
  private ks: WasmKernels;
  /** Per kernel, the calls run on the calling thread and their milliseconds, while timeKernels is on (else null). */
  private localTimes: Map<string, { calls: number; ms: number }> | null = null;
  get k(): WasmKernels {
    // a kernel called outside ranged() is not recorded: a block that calls one is not replayed
    if (this.capture) this.capture.broken = true;
    return this.ks;
  }
  /** The kernels without that wait: the calling thread's own chunks of a split call. */
  private readonly raw: WasmKernels;
  /** Layers gather this many steps of eligibility updates (Backend.gradChunkSteps). */
  readonly gradChunkSteps = GRAD_CHUNK_STEPS;
  /** Layers may propagate a rate-coded input as its difference from a reference (Backend.inputReference). */
  readonly inputReference = true;
  readonly heap: WasmHeap;
  private readonly scratch: number[] = [];
  private scratchBytes = 0;
  /** densityRuns' per-row non-zero counts (i32), grown on demand (growBuffer). */
  private readonly counts: GrowableBuffer = { ptr: 0, bytes: 0 };
  /** The calls of the block being recorded (replayable), or null. */
  private capture: Capture | null = null;
  private readonly replays = new WeakMap<object, ReplayState>();
  private replayCount = 0;
  /** softmaxCrossEntropy's per-row loss terms (float64), grown on demand (growBuffer). */
  private readonly ceRows: GrowableBuffer = { ptr: 0, bytes: 0 };
  /** The padded copy of an operand of the event kernels (see PAD_COLUMNS), grown on demand (growBuffer). */
  private readonly pad: GrowableBuffer = { ptr: 0, bytes: 0 };
  /** cutsFor's boundaries by shape: a slot per hash of the shape (a collision recomputes them). */
  private readonly cutsCache: ({ n: number; T: number; chunksPerThread: number; align: number; equal: number; cuts: readonly number[] } | undefined)[] = new Array(1 << CUTS_CACHE_BITS);
  /**
   * Lazy kernels split over threads are cut into many equal pieces (GUIDED_PIECES_PER_THREAD per
   * thread, OUTER_ and FEW_PIECES_PER_THREAD for some), claimed guided (ThreadPool.run `guide`).
   * False: the two-ended cuts of a few pieces per thread, one per claim (as before 2026-12-03).
   */
  guidedClaims = true;
  /**
   * spikeMatmulRows' cut fractions over this backend's threads (split.ts weightedCuts; computed once):
   * GUIDED_PIECES_PER_THREAD equal pieces per thread where guidedClaims, else three two-ended pieces
   * per thread on two threads and two equal ones per thread on more.
   */
  private readonly spikeFractions: { guided: readonly number[]; fixed: readonly number[] };
  /** 32 bytes: the generator state handed to dropMask (words 0-3) and the state after it (4-7). */
  private readonly rngPtr: number;
  /**
   * 32 bytes: rateSpikes' two places for the generator state (words 0-3 and 4-7). A call draws from
   * place rateSlot and leaves the state after it in the other, then rateSlot flips; the Rng is lent
   * to this backend meanwhile (Rng.lend), so that the next step's call draws on without the host
   * reading the state, and the call needs no wait (a lazy kernel).
   */
  private readonly rateStatePtr: number;
  private rateSlot = 0;
  /** The generator whose state rateSpikes holds (lent to rngHolder), for dispose() to hand it back. */
  private lentRng: Rng | null = null;
  private readonly rngHolder: RngHolder = { reclaim: () => this.rateStateOut() };
  /** Split rateSpikes calls so far: the tag that lets a thread continue from its previous range of the same call. */
  private rateCalls = 0;
  /** rateSpikes' jump table (assembly/encode.ts), built at the first call split over threads. */
  private rngJumpPtr = 0;
  private readonly surrogateCache = new WeakMap<SurrogateKernelSpec, Map<boolean, NativeSurrogate | null>>();

  /** Use createWasmBackend(). */
  constructor(
    kernels: WasmKernels,
    memory: WebAssembly.Memory,
    readonly threads: number,
    private readonly pool: ThreadPool | null,
  ) {
    this.raw = kernels;
    this.ks = this.calling(null);
    this.heap = new WasmHeap(memory, kernels.heapBase());
    // the host touches memory (a tensor's data, a freed block): not in a block that replays
    this.heap.settle = () => {
      if (this.capture) this.capture.broken = true;
      pool?.settle();
    };
    this.ensureScratch(kernels.gemmScratchBytes());
    this.rngPtr = this.heap.alloc(32);
    this.rateStatePtr = this.heap.alloc(32);
    this.spikeFractions = {
      guided: equalFractions(threads * GUIDED_PIECES_PER_THREAD),
      fixed: threads === 2 ? twoEndedFractions(3) : equalFractions(2 * threads),
    };
  }

  /** Kernel calls so far that were split over worker threads (0 with threads = 1). */
  get parallelCalls(): number {
    return this.pool?.dispatches ?? 0;
  }

  /** Small kernel calls handed to a worker as one chunk that the calling thread did not wait for (0 with threads = 1). */
  get handedOffCalls(): number {
    return this.pool?.handoffs ?? 0;
  }

  /** Chunks of split kernel calls that worker threads ran (0 with threads = 1). */
  get workerChunks(): number {
    return this.pool?.workerChunks ?? 0;
  }

  /**
   * Per threaded kernel: the calls split over the threads, their chunks, the chunks the worker
   * threads ran (a share near (threads − 1) / threads means the workers kept up; the profiler
   * prints it) and the milliseconds the calling thread waited for the workers' chunks (for a lazy
   * call, when it had to be complete: before the calling thread's chunks of the next call, or in
   * ThreadPool.settle). Counted once the call is complete. Empty with threads = 1.
   */
  threadStats(): ReadonlyMap<ThreadedOp, { readonly calls: number; readonly chunks: number; readonly workerChunks: number; readonly waitMs: number }> {
    return this.pool?.opStats ?? new Map();
  }

  /**
   * Time every kernel call on every thread (off by default): kernelTimes() then tells, per kernel,
   * the milliseconds it ran on the calling thread and on the workers. Unlike the profiler
   * (src/backend/profile.ts), which settles after every call so that each call's wall time is its
   * own, this leaves the threads overlapping calls as in training: on two threads the sum over
   * both threads is the kernel's thread time, to compare with one thread's time for the same work
   * (experiments/bench-phases.ts). Switching it on or off forgets the times so far.
   */
  get timeKernels(): boolean {
    return this.localTimes !== null;
  }
  set timeKernels(on: boolean) {
    this.pool?.settle();
    this.localTimes = on ? new Map() : null;
    this.ks = this.calling(this.localTimes);
    if (this.pool) {
      this.pool.threadMs.clear();
      this.pool.timeChunks = on;
    }
  }

  /**
   * With timeKernels, per kernel since it was switched on: calls run on the calling thread alone
   * (`localCalls`: one thread's every call, or an unsplit call), and the milliseconds the kernel
   * ran on the calling thread (`callerMs`: its unsplit calls and its chunks of split ones) and on
   * the worker threads (`workerMs`). Settles first. Empty while timeKernels is off.
   */
  kernelTimes(): Map<string, { localCalls: number; callerMs: number; workerMs: number }> {
    this.pool?.settle();
    const out = new Map<string, { localCalls: number; callerMs: number; workerMs: number }>();
    if (!this.localTimes) return out;
    for (const [op, t] of this.localTimes) out.set(op, { localCalls: t.calls, callerMs: t.ms, workerMs: 0 });
    for (const [op, t] of this.pool?.threadMs ?? []) {
      const o = out.get(op) ?? { localCalls: 0, callerMs: 0, workerMs: 0 };
      o.callerMs += t.callerMs;
      o.workerMs += t.workerMs;
      out.set(op, o);
    }
    return out;
  }

  /** The kernels this thread calls directly: settling first where there is a pool, timed with `times`. */
  private calling(times: Map<string, { calls: number; ms: number }> | null): WasmKernels {
    const k = times ? timed(this.raw, times) : this.raw;
    return this.pool ? settling(k, this.pool) : k;
  }

  /**
   * Wait until every kernel call so far has completed (a split or handed-off call may return before
   * its chunks do: ThreadPool.settle); a no-op with threads = 1. Memory access through the backend
   * waits by itself; this is for timing a call alone (src/backend/profile.ts).
   */
  settle(): void {
    this.pool?.settle();
  }

  /** Stop the worker threads (after handing back a generator state it holds). The backend must not be used afterwards. */
  async dispose(): Promise<void> {
    if (this.lentRng?.heldBy(this.rngHolder)) this.lentRng.getState();
    this.lentRng = null;
    await this.pool?.close();
  }

  // ---------------------------------------------------------------- memory

  tensor(shape: readonly number[]): Tensor {
    checkShape(shape);
    const size = shapeSize(shape);
    const t = new WasmTensor(shape, this.heap.alloc(size * 4), this.heap, this.name);
    this.k.fill(t.ptr, 0, 0, size);
    return t;
  }

  fromArray(shape: readonly number[], data: ArrayLike<number>): Tensor {
    const t = this.tensor(shape);
    this.write(t, data);
    return t;
  }

  read(t: Tensor): Float32Array {
    this.own(t, 'read', 't');
    return t.data.slice();
  }

  write(t: Tensor, data: ArrayLike<number>): void {
    this.own(t, 'write', 't');
    if (data.length !== t.size) throw new RangeError(`write: got ${data.length} values for a tensor of ${t.size}`);
    t.data.set(data);
  }

  free(t: Tensor): void {
    const w = this.asOwn(t, 'free', 't');
    if (w.markFreed()) this.heap.release(w.ptr, w.size * 4);
  }

  /** Grow `buf` to hold at least `bytes` (at least `minBytes`, else 1.5x its size; the old block released); returns its offset. */
  private growBuffer(buf: GrowableBuffer, bytes: number, minBytes = 0): number {
    if (buf.bytes < bytes) {
      if (buf.ptr) this.heap.release(buf.ptr, buf.bytes);
      buf.bytes = Math.max(bytes, minBytes, Math.ceil(buf.bytes * 1.5));
      buf.ptr = this.heap.alloc(buf.bytes);
    }
    return buf.ptr;
  }

  /** Per-thread scratch buffers of at least `bytes` each. */
  private ensureScratch(bytes: number): void {
    if (bytes <= this.scratchBytes) return;
    const size = Math.max(bytes, Math.ceil(this.scratchBytes * 1.5));
    for (const p of this.scratch) this.heap.release(p, this.scratchBytes);
    this.scratch.length = 0;
    for (let i = 0; i < this.threads; i++) this.scratch.push(this.heap.alloc(size));
    this.scratchBytes = size;
  }

  private asOwn(t: Tensor, kernel: string, name: string): WasmTensor {
    if (!(t instanceof WasmTensor) || t.heap !== this.heap) {
      throw new ParameterError(
        `${kernel}: ${name} was not allocated by this wasm backend (it belongs to "${t.backend}"); ` +
          'allocate tensors with backend.tensor() / backend.fromArray() of the backend that runs the kernel',
      );
    }
    if (t.isFreed) throw t.usedAfterFree();
    return t;
  }

  /** Byte offset of an own tensor. */
  private own(t: Tensor, kernel: string, name: string): number {
    return this.asOwn(t, kernel, name).ptr;
  }

  // ---------------------------------------------------------------- threading helpers

  /** Number of threads to use for `work` against `threshold`. */
  private fanout(work: number, threshold: number): number {
    return this.pool && work >= threshold ? this.threads : 1;
  }

  /**
   * Run `op` over the range [0, n): argument positions lo and hi receive range bounds. `args` is
   * every thread's argument list (read, not kept: the caller's array may be changed afterwards)
   * except at position `scratchAt` (−1: none), which takes the thread's own scratch. With T > 1
   * threads the range is cut into chunks (aligned to `align`; `givenCuts` instead where the caller
   * knows the work per row) handed out dynamically. A lazy kernel's call (guidedClaims) has T·guidedPieces
   * equal chunks, claimed guided (ThreadPool.run); any other has about T·chunksPerThread, one per
   * claim, which with two threads shrink towards the middle (split.ts twoEndedCuts).
   */
  private ranged(
    op: ThreadedOp, args: number[], scratchAt: number, lo: number, hi: number,
    n: number, align: number, T: number, chunksPerThread = 4, givenCuts?: number[], guidedPieces = GUIDED_PIECES_PER_THREAD,
  ): number {
    const lazy = LAZY_OPS.has(op);
    const guided = T > 1 && lazy && this.guidedClaims && guidedPieces > 0;
    const cuts = T > 1 ? (givenCuts ?? this.cutsFor(n, T, guided ? guidedPieces : chunksPerThread, align, guided)) : [0, n];
    // one chunk runs here, unless it is a lazy kernel the pool hands over (the worker runs it while the caller goes on)
    if (cuts.length <= 2 && !(lazy && this.pool?.deferLazy)) {
      args[lo] = 0;
      args[hi] = n;
      if (scratchAt >= 0) args[scratchAt] = this.scratch[0];
      return this.issue(op, args, lazy, null);
    }
    return this.issue(op, args, lazy, { lo, hi, cuts, guide: guided ? GUIDE_PER_THREAD * T : 0, scratchAt, scratch: this.scratch });
  }

  /**
   * Run one kernel call as ranged() prepared it (recorded while a block is recorded): on this thread
   * where `chunks` is null, else split over the pool. replay() issues recorded calls the same way.
   */
  private issue(op: ThreadedOp, args: number[], lazy: boolean, chunks: RecordedCall['chunks']): number {
    if (this.capture) this.record(op, args, lazy, chunks);
    if (chunks) return this.pool!.run(op, args, this.raw[op] as (...a: number[]) => number | void, chunks, lazy);
    return Number((this.ks[op] as (...a: number[]) => number | void)(...args) ?? 0);
  }

  // ---------------------------------------------------------------- replayed blocks

  /**
   * Backend.replayable. The first two runs of fn under a key (since the last allocation or release
   * of a block of memory) record its calls of ranged(); where they are the same calls whose
   * arguments differ only by offsets into `params` (each moved between the two runs), later runs
   * issue the recorded calls with those offsets substituted, without fn's JavaScript (the checks,
   * argument lists and cuts of every call: on two threads a serial stretch of several µs per call,
   * the caches cold after the kernels). A block whose calls cannot be recorded so (a kernel called
   * outside ranged(), a host access to memory, a call whose result the host reads, a random draw,
   * an argument that is no offset into a param) runs fn every time until the next allocation or
   * release. Any allocation or release forgets what was recorded (the offsets it holds may be
   * another tensor's now).
   */
  replayable(key: object, params: readonly Tensor[], fn: () => void): void {
    const ptrs = params.map((p, i) => this.own(p, 'replayable', `params[${i}]`));
    const changes = this.heap.blockChanges;
    let st = this.replays.get(key);
    if (!st || st.changes !== changes) this.replays.set(key, (st = { changes }));
    // inside another block's recording, its calls are that block's: run fn (recorded there)
    if (!this.capture && st.template && this.replay(st.template, ptrs)) return;
    if (st.off || this.capture) {
      fn();
      return;
    }
    const capture: Capture = { calls: [], broken: false };
    this.capture = capture;
    try {
      fn();
    } finally {
      this.capture = null;
    }
    // it allocated or released (a work tensor at its first use, which also reads as a host access
    // to memory): record the next two runs
    if (this.heap.blockChanges !== changes) return;
    if (capture.broken) {
      st.off = true;
      return;
    }
    const run = { calls: capture.calls, ptrs, sizes: params.map((p) => p.size * 4) };
    if (!st.first) st.first = run;
    else {
      st.template = replayTemplate(st.first, run) ?? undefined;
      st.off = !st.template;
      st.first = undefined;
    }
  }

  /** Blocks issued from their recorded calls so far (replayable). */
  get replayedBlocks(): number {
    return this.replayCount;
  }

  private record(op: ThreadedOp, args: readonly number[], lazy: boolean, chunks: RecordedCall['chunks']): void {
    const c = this.capture!;
    // a result the host reads, or a generator state that moves from call to call: not replayable
    if (!lazy || op === 'rateSpikes') c.broken = true;
    c.calls.push({ op, args: args.slice(), lazy, chunks });
  }

  /** Issue a template's calls with `ptrs` substituted; false (nothing issued) where a param that did not move is another tensor now. */
  private replay(t: ReplayTemplate, ptrs: readonly number[]): boolean {
    for (let k = 0; k < ptrs.length; k++) if (t.fixed[k] >= 0 && t.fixed[k] !== ptrs[k]) return false;
    for (const [c, pos, k, offset] of t.subst) t.calls[c].args[pos] = ptrs[k] + offset;
    for (const c of t.calls) this.issue(c.op, c.args, c.lazy, c.chunks);
    this.replayCount++;
    return true;
  }

  /**
   * The chunk boundaries of a split of [0, n) over T threads (split.ts: T·chunksPerThread equal
   * pieces where `equal`, else two-ended with two threads), kept per shape: a training step splits
   * the same few shapes every step (read only; the pool copies them).
   */
  private cutsFor(n: number, T: number, chunksPerThread: number, align: number, equal: boolean): readonly number[] {
    // a slot per hash of the shape, the shape kept beside its cuts (no key to build: this runs for every split call)
    const e = equal ? 1 : 0;
    const slot = Math.imul(n ^ Math.imul(align, 0x85ebca6b) ^ (T << 24) ^ (chunksPerThread << 12) ^ e, 0x9e3779b1) >>> (32 - CUTS_CACHE_BITS);
    const hit = this.cutsCache[slot];
    if (hit && hit.n === n && hit.T === T && hit.chunksPerThread === chunksPerThread && hit.align === align && hit.equal === e) return hit.cuts;
    const cuts = T === 2 && !equal ? twoEndedCuts(n, chunksPerThread, align) : chunkCuts(n, T * chunksPerThread, align);
    this.cutsCache[slot] = { n, T, chunksPerThread, align, equal: e, cuts };
    return cuts;
  }

  /** Elementwise kernel over [0, size): args ++ [lo, hi]. */
  private elementwiseOp(op: ThreadedOp, args: number[], size: number): number {
    const T = this.fanout(size, PARALLEL_THRESHOLDS.elements);
    return this.ranged(op, [...args, 0, 0], -1, args.length, args.length + 1, size, 16, T, 4, undefined, FEW_PIECES_PER_THREAD);
  }

  // ---------------------------------------------------------------- dense linear algebra

  matmul(out: Tensor, a: Tensor, b: Tensor, opts: MatmulOptions = {}): void {
    const [M, K, N] = matmulDims(out, a, b, opts);
    const pa = this.own(a, 'matmul', 'a'), pb = this.own(b, 'matmul', 'b'), pc = this.own(out, 'matmul', 'out');
    this.gemmRaw(M, N, K, pa, pb, pc, !!opts.transA, !!opts.transB, opts.alpha ?? 1, opts.beta ?? 0);
  }

  /** GEMM on byte offsets (shapes already checked), split over threads above the threshold. */
  private gemmRaw(
    M: number, N: number, K: number, pa: number, pb: number, pc: number, transA: boolean, transB: boolean, alpha: number, beta: number,
  ): void {
    if (M === 0 || N === 0) return;
    const T = this.fanout(2 * M * N * K, PARALLEL_THRESHOLDS.gemmFlops);
    if (transB && !transA && N <= NARROW_N && K >= 16) {
      // a few rows of B (e.g. similarity logits against 10 target rows): N dot products per row of A
      this.ranged('rowDots', [M, N, K, pa, pb, pc, alpha, beta, 0, 0], -1, 8, 9, M, 1, T, 2);
      return;
    }
    const head = [M, N, K, pa, pb, pc, transA ? 1 : 0, transB ? 1 : 0, alpha, beta];
    // Split the larger output dimension (each chunk packs its own panels).
    if (N >= M) this.ranged('gemm', [...head, 0, M, 0, 0, 0], 14, 12, 13, N, 8, T, 3, undefined, FEW_PIECES_PER_THREAD);
    else this.ranged('gemm', [...head, 0, 0, 0, N, 0], 14, 10, 11, M, 4, T, 3, undefined, FEW_PIECES_PER_THREAD);
  }

  /** this.counts, grown to B rows: the per-row non-zero counts that densityRuns reads. */
  private rowCounts(B: number): number {
    return this.growBuffer(this.counts, B * 4, 256 * 4);
  }

  /** Sparse / dense row runs of s [B, K] (see split.ts densityRuns), counting non-zeros in wasm. */
  private densityRuns(ps: number, B: number, K: number, fraction: number, minRun: number): [number, number, boolean][] {
    this.ranged('rowNonZero', [ps, K, this.rowCounts(B), 0, 0], -1, 3, 4, B, 1, this.fanout(B * K, PARALLEL_THRESHOLDS.elements));
    return this.countedRuns(B, K, fraction, minRun);
  }

  /** densityRuns from the counts already in this.counts (rowNonZero's, or those of the kernel that wrote s). */
  private countedRuns(B: number, K: number, fraction: number, minRun: number): [number, number, boolean][] {
    return densityRuns(new Int32Array(this.heap.memory.buffer, this.counts.ptr, B), K, fraction, minRun);
  }

  /**
   * Sparse rows of s use the event kernel (active list per row, only rows of W of active inputs);
   * runs of at least 16 dense rows (non-zero fraction > DENSE_SPIKE_FRACTION, e.g. the real-valued
   * target stream of sigprop) use GEMM, which is faster there, and so does an s of fewer rows that
   * are all dense (sigprop's similarity gradient dYᵀ·ĥ, 10 rows: GEMM splits over threads).
   */
  spikeMatmul(out: Tensor, s: Tensor, w: Tensor, beta = 0): void {
    const [B, K] = expect2d('spikeMatmul', 's', s);
    const [, N] = expect2d('spikeMatmul', 'w', w);
    expectShape('spikeMatmul', 'w', w, [K, N]);
    expectShape('spikeMatmul', 'out', out, [B, N]);
    const ps = this.own(s, 'spikeMatmul', 's'), pw = this.own(w, 'spikeMatmul', 'w'), po = this.own(out, 'spikeMatmul', 'out');
    if (B === 0 || N === 0) return;
    if (N <= NARROW_N) {
      // narrow outputs (a readout): every row on the event path, the output row in registers
      this.ensureScratch(this.raw.narrowScratchBytes(K));
      const T = this.fanout(B * K, PARALLEL_THRESHOLDS.narrowWork);
      this.ranged('spikeMatmulNarrow', [B, K, N, ps, pw, po, beta, 0, 0, 0], 9, 7, 8, B, 1, T, 2);
      return;
    }
    this.propagateRuns(this.densityRuns(ps, B, K, DENSE_SPIKE_FRACTION, Math.min(SPIKE_MIN_DENSE_RUN, B)), K, N, ps, pw, po, po, beta);
  }

  /**
   * Backend.spikeMatmulDiff: d = x − r with each row's non-zeros counted in the same call
   * (assembly/spike.ts rowDiffNonZero, split over threads by rows), then out = base + d·W through
   * spikeMatmul's row runs, the event kernel reading its beta term from base (no copy of base into
   * out). Per element the values of the composition (Backend.spikeMatmulDiff); one pass over x, r
   * and d instead of three and one over out instead of two, two split calls instead of five.
   */
  spikeMatmulDiff(out: Tensor, d: Tensor, x: Tensor, r: Tensor, w: Tensor, base: Tensor): void {
    const [B, K] = expect2d('spikeMatmulDiff', 'x', x);
    expectShape('spikeMatmulDiff', 'r', r, [B, K]);
    expectShape('spikeMatmulDiff', 'd', d, [B, K]);
    const [, N] = expect2d('spikeMatmulDiff', 'w', w);
    expectShape('spikeMatmulDiff', 'w', w, [K, N]);
    expectShape('spikeMatmulDiff', 'out', out, [B, N]);
    expectShape('spikeMatmulDiff', 'base', base, [B, N]);
    const px = this.own(x, 'spikeMatmulDiff', 'x'), pr = this.own(r, 'spikeMatmulDiff', 'r'), pd = this.own(d, 'spikeMatmulDiff', 'd');
    const pw = this.own(w, 'spikeMatmulDiff', 'w'), po = this.own(out, 'spikeMatmulDiff', 'out'), pb = this.own(base, 'spikeMatmulDiff', 'base');
    if (B === 0) return;
    if (N <= NARROW_N) {
      // the narrow kernel reads its beta term from out: the composition itself
      spikeMatmulDiffFallback(this, out, d, x, r, w, base);
      return;
    }
    this.ranged('rowDiffNonZero', [px, pr, pd, K, this.rowCounts(B), 0, 0], -1, 5, 6, B, 1, this.fanout(B * K, PARALLEL_THRESHOLDS.elements));
    this.propagateRuns(this.countedRuns(B, K, DENSE_SPIKE_FRACTION, Math.min(SPIKE_MIN_DENSE_RUN, B)), K, N, pd, pw, po, pb, 1);
  }

  /**
   * out = beta·c + s·W [B, N] by the row runs of s (densityRuns: GEMM for dense runs, the event
   * kernel for sparse ones); c = out: in place. this.counts holds s's per-row non-zeros.
   */
  private propagateRuns(runs: [number, number, boolean][], K: number, N: number, ps: number, pw: number, po: number, pc: number, beta: number): void {
    // the event kernel's W, padded once per call where its row stride aliases (PAD_COLUMNS)
    const ldw = padsSpikeWeights(N) && runs.some((r) => !r[2]) ? N + PAD_COLUMNS : N;
    const pe = ldw === N ? pw : this.padded(pw, K, N, ldw);
    for (const [r0, r1, dense] of runs) {
      const sr = ps + r0 * K * 4, orow = po + r0 * N * 4, crow = pc + r0 * N * 4, m = r1 - r0;
      if (dense) {
        // GEMM reads its beta term from out: c's rows first
        if (crow !== orow && beta !== 0) this.elementwiseOp('copy', [orow, crow], m * N);
        this.gemmRaw(m, N, K, sr, pw, orow, false, false, 1, beta);
      } else this.spikeMatmulRaw(m, K, N, sr, pe, ldw, orow, crow, beta, r0);
    }
  }

  /**
   * One thread: the active lists once, then every column panel. Several threads: split by rows of
   * the batch, each thread building the lists of its own rows in its own scratch. (Split by
   * columns, the lists were built serially by the calling thread and every worker read them from
   * its core: a [128, 784]·[784, 1000] call at 10% density took 0.86-0.90 ms on 2 threads against
   * 0.94-1.0 ms on one; split by rows 0.57-0.62 ms. See experiments/RESULTS.md.) Per element the
   * same sums either way.
   */
  private spikeMatmulRaw(B: number, K: number, N: number, ps: number, pw: number, ldw: number, po: number, pc: number, beta: number, row0: number): void {
    this.ensureScratch(this.raw.spikeScratchBytes(B, K));
    const T = this.fanout(B * K * N, PARALLEL_THRESHOLDS.spikeWork);
    if (T > 1) {
      // rows of equal work (their non-zeros, counted by densityRuns or rowDiffNonZero), not of equal number
      const counts = new Int32Array(this.heap.memory.buffer, this.counts.ptr + row0 * 4, B);
      const cuts = weightedCuts(counts, this.guidedClaims ? this.spikeFractions.guided : this.spikeFractions.fixed, SPIKE_ROW_COST);
      this.ranged('spikeMatmulRows', [B, K, N, ps, pw, ldw, po, pc, beta, 0, 0, 0], 11, 9, 10, B, 1, T, 2, cuts);
      return;
    }
    this.k.spikeMatmul(B, K, N, ps, pw, ldw, po, pc, beta, 0, N, this.scratch[0]);
  }

  /** x [R, C] copied to the pad buffer with rows ld floats apart (split over threads by rows); returns the copy's offset. */
  private padded(px: number, R: number, C: number, ld: number): number {
    const dst = this.growBuffer(this.pad, R * ld * 4);
    const T = this.fanout(R * C, PARALLEL_THRESHOLDS.elements);
    this.ranged('padRows', [dst, px, C, ld, 0, 0], -1, 4, 5, R, 1, T);
    return dst;
  }

  /**
   * Sparse rows of s use the event kernel; runs of dense rows (non-zero fraction >
   * DENSE_OUTER_FRACTION, e.g. eligibility traces) use GEMM: W = alpha·s_runᵀ·g_run + W.
   */
  spikeOuter(w: Tensor, s: Tensor, g: Tensor, alpha: number): void {
    const [B, K] = expect2d('spikeOuter', 's', s);
    const [, N] = expect2d('spikeOuter', 'g', g);
    expectShape('spikeOuter', 'g', g, [B, N]);
    expectShape('spikeOuter', 'w', w, [K, N]);
    const pw = this.own(w, 'spikeOuter', 'w'), ps = this.own(s, 'spikeOuter', 's'), pg = this.own(g, 'spikeOuter', 'g');
    if (B === 0 || K === 0 || N === 0) return;
    if (N <= NARROW_N) {
      // narrow g (a readout's update): row by row of s, the g row in registers, every row on the event path
      this.ensureScratch(this.raw.narrowScratchBytes(K));
      const T = this.fanout(B * K, PARALLEL_THRESHOLDS.narrowWork);
      this.ranged('spikeOuterNarrow', [B, K, N, ps, pg, pw, alpha, 0, 0, 0], 9, 7, 8, K, 4, T, 4, undefined, NARROW_OUTER_PIECES_PER_THREAD);
      return;
    }
    this.outerRuns(this.densityRuns(ps, B, K, DENSE_OUTER_FRACTION, OUTER_MIN_DENSE_RUN), K, N, ps, pg, pw, alpha);
  }

  /** spikeOuter's wide form over the row runs of s (dense runs by GEMM, sparse ones by the event kernel). */
  private outerRuns(runs: [number, number, boolean][], K: number, N: number, ps: number, pg: number, pw: number, alpha: number): void {
    for (const [r0, r1, dense] of runs) {
      const sr = ps + r0 * K * 4, gr = pg + r0 * N * 4, m = r1 - r0;
      if (dense) this.gemmRaw(K, N, m, sr, gr, pw, true, false, alpha, 1);
      else this.spikeOuterRaw(m, K, N, sr, gr, pw, alpha);
    }
  }

  /**
   * Backend.spikeOuterPair. On several threads, a narrow update (N ≤ NARROW_N: a readout's) beside
   * a wide one whose rows of s are all sparse go in one split call (assembly/spike.ts
   * spikeOuterPair): the thread that claims the front runs the narrow update whole (split by weight
   * rows it cost 2.0-2.3x its one-thread time in thread time, every piece scanning every row of s)
   * while the others share the wide one's weight rows. Otherwise the two spikeOuter calls. The
   * same values either way.
   */
  spikeOuterPair(a: OuterUpdate, b: OuterUpdate): void {
    const narrowFirst = a.g.shape[1] <= NARROW_N;
    const [nu, wu] = narrowFirst ? [a, b] : [b, a];
    const [B, K1] = expect2d('spikeOuterPair', 's', nu.s), [, N1] = expect2d('spikeOuterPair', 'g', nu.g);
    const [B2, K2] = expect2d('spikeOuterPair', 's', wu.s), [, N2] = expect2d('spikeOuterPair', 'g', wu.g);
    const separate = (): void => {
      this.spikeOuter(a.w, a.s, a.g, a.alpha);
      this.spikeOuter(b.w, b.s, b.g, b.alpha);
    };
    const T = this.fanout(B2 * K2 * N2, PARALLEL_THRESHOLDS.spikeWork);
    if (T < 2 || N1 > NARROW_N || N2 <= NARROW_N || B !== B2 || B * K1 * N1 === 0 || K2 * N2 === 0 || padsOuterGradient(N2) || nu.w === wu.w) return separate();
    expectShape('spikeOuterPair', 'g', nu.g, [B, N1]);
    expectShape('spikeOuterPair', 'w', nu.w, [K1, N1]);
    expectShape('spikeOuterPair', 'g', wu.g, [B, N2]);
    expectShape('spikeOuterPair', 'w', wu.w, [K2, N2]);
    const p1 = [this.own(nu.s, 'spikeOuterPair', 's'), this.own(nu.g, 'spikeOuterPair', 'g'), this.own(nu.w, 'spikeOuterPair', 'w')];
    const p2 = [this.own(wu.s, 'spikeOuterPair', 's'), this.own(wu.g, 'spikeOuterPair', 'g'), this.own(wu.w, 'spikeOuterPair', 'w')];
    const runs = this.densityRuns(p2[0], B, K2, DENSE_OUTER_FRACTION, OUTER_MIN_DENSE_RUN);
    if (runs.length !== 1 || runs[0][2]) {
      // dense rows in the wide update (GEMM): the two updates one after the other, in the given order
      if (narrowFirst) this.spikeOuter(nu.w, nu.s, nu.g, nu.alpha);
      this.outerRuns(runs, K2, N2, p2[0], p2[1], p2[2], wu.alpha);
      if (!narrowFirst) this.spikeOuter(nu.w, nu.s, nu.g, nu.alpha);
      return;
    }
    this.ensureScratch(Math.max(this.raw.narrowScratchBytes(K1), this.raw.outerScratchBytes(B)));
    // index 0: the narrow update whole; 1 + k: the wide update's weight row k (spikeOuter's pieces, shifted)
    const wide = this.cutsFor(K2, T, OUTER_PIECES_PER_THREAD, 1, this.guidedClaims);
    const cuts = [0, ...wide.map((c) => c + 1)];
    this.ranged(
      'spikeOuterPair', [B, K1, N1, p1[0], p1[1], p1[2], nu.alpha, K2, N2, p2[0], p2[1], N2, p2[2], wu.alpha, 0, 0, 0],
      16, 14, 15, K2 + 1, 1, T, 4, cuts,
    );
  }

  private spikeOuterRaw(B: number, K: number, N: number, ps: number, pg: number, pw: number, alpha: number): void {
    this.ensureScratch(this.raw.outerScratchBytes(B));
    const T = this.fanout(B * K * N, PARALLEL_THRESHOLDS.spikeWork);
    // g's rows of this run, padded where their stride aliases (PAD_COLUMNS)
    const ldg = padsOuterGradient(N) ? N + PAD_COLUMNS : N;
    const g = ldg === N ? pg : this.padded(pg, B, N, ldg);
    this.ranged('spikeOuter', [B, K, N, ps, g, ldg, pw, alpha, 0, 0, 0], 10, 8, 9, K, 1, T, 4, undefined, OUTER_PIECES_PER_THREAD);
  }

  /**
   * The kernel draws from the generator's state in wasm memory (assembly/encode.ts) and leaves the
   * state after its draws there: the Rng is lent to this backend (rateStatePtr), so the host reads
   * the state back only when something else draws from it, and the call is lazy (no wait). Split over
   * threads by rows: each range jumps the generator over the draws before it, so the spikes and the
   * final state are those of one thread; a thread that takes the range after its previous one in the
   * same call (the caller, which claims from the front) continues from that range's end state, and
   * one that takes the range before it (a worker, from the back) counts only that range's draws.
   */
  rateSpikes(out: Tensor, p: Tensor, rng: Rng): void {
    expectSameSize('rateSpikes', ['out', 'p'], [out, p]);
    const po = this.own(out, 'rateSpikes', 'out'), pp = this.own(p, 'rateSpikes', 'p');
    const n = out.size;
    const T = this.fanout(n, PARALLEL_THRESHOLDS.elements);
    const table = T > 1 ? this.jumpTable() : 0;
    if (!rng.heldBy(this.rngHolder)) {
      this.rngStateIn(rng.getState().s, false, this.rateStatePtr); // after any draw in flight (it writes these places)
      this.rateSlot = 0;
    }
    const from = this.rateStatePtr + 16 * this.rateSlot, to = this.rateStatePtr + 16 * (this.rateSlot ^ 1);
    if (T > 1) {
      // ranges of whole rows, the same rows as the row-split kernels that read the spikes next; not
      // guided (a worker's range costs a jump of the generator: a few ranges, not dozens)
      const row = out.shape.length > 1 ? out.shape[out.shape.length - 1] : 16;
      const call = (this.rateCalls = (this.rateCalls % 0x7ffffffe) + 1);
      this.ranged('rateSpikes', [po, pp, n, from, to, table, call, 0, 0], -1, 7, 8, n, row, T, 4, undefined, 0);
    } else this.k.rateSpikes(po, pp, n, from, to, 0, 0, 0, n);
    this.rateSlot ^= 1;
    rng.lend(this.rngHolder);
    this.lentRng = rng;
  }

  /** The generator state rateSpikes holds, once its draws in flight are done (RngHolder.reclaim). */
  private rateStateOut(): RngState {
    this.pool?.settle();
    const w = this.rngView(this.rateStatePtr + 16 * this.rateSlot, 4);
    return [w[0], w[1], w[2], w[3]];
  }

  /**
   * Backend.dropoutMask in wasm (assembly/encode.ts dropMask): Rng.fillDropMask's draws, split over
   * threads by rows (each range jumps the generator over the draws before it).
   */
  dropoutMask(out: Tensor, rows: number, p: number, rng: Rng): void {
    const [, N] = dropoutMaskDims(out, rows, p);
    const po = this.own(out, 'dropoutMask', 'out');
    const n = out.size, nDraw = rows * N, keep = 1 / (1 - p);
    const st = rng.getState();
    const T = this.fanout(n, PARALLEL_THRESHOLDS.elements);
    const words = this.rngStateIn(st.s, T > 1);
    if (T > 1) this.ranged('dropMask', [po, n, nDraw, p, keep, this.rngPtr, this.rngJumpPtr, 0, 0], -1, 7, 8, n, N, T, 4);
    else this.k.dropMask(po, n, nDraw, p, keep, this.rngPtr, 0, 0, n);
    if (nDraw === 0) return;
    st.s = [words[4], words[5], words[6], words[7]];
    rng.setState(st);
  }

  /**
   * The generator state s into the 8 state words at ptr (rngPtr for dropMask, rateStatePtr for
   * rateSpikes) once every call in flight is done; with `jumps`, the jump table built first. Returns
   * the words' view (dropMask's state after the draws comes back in 4-7).
   */
  private rngStateIn(s: readonly number[], jumps: boolean, ptr = this.rngPtr): Uint32Array {
    if (jumps) this.jumpTable();
    this.pool?.settle();
    const words = this.rngView(ptr, 8);
    words.set(s);
    return words;
  }

  /** The generator's jump table (assembly/encode.ts), built at the first call split over threads. */
  private jumpTable(): number {
    if (!this.rngJumpPtr) {
      this.rngJumpPtr = this.heap.alloc(this.raw.rngJumpTableBytes());
      this.k.rngJumpInit(this.rngJumpPtr);
    }
    return this.rngJumpPtr;
  }

  /** A view of `words` u32 words of wasm memory at byte offset ptr. */
  private rngView(ptr: number, words: number): Uint32Array {
    return new Uint32Array(this.heap.memory.buffer, ptr, words);
  }

  /** Per-connection delays: single-threaded scalar kernel (assembly/delays.ts), the reference's arithmetic. */
  delayedSpikeMatmul(ring: Tensor, s: Tensor, w: Tensor, delays: Tensor, t: number): void {
    const k = 'delayedSpikeMatmul';
    const [B, K, N, D] = delayedDims(k, ring, s, w, delays, 's', 'ring');
    this.k.delayedSpikeMatmul(this.own(ring, k, 'ring'), this.own(s, k, 's'), this.own(w, k, 'w'), this.own(delays, k, 'delays'), B, K, N, D, t);
  }

  /** Per-connection delays: single-threaded scalar kernel (assembly/delays.ts), float64 sums as the reference. */
  delayedOuter(w: Tensor, ring: Tensor, g: Tensor, delays: Tensor, t: number, alpha: number): void {
    const k = 'delayedOuter';
    const [B, K, N, D] = delayedDims(k, ring, g, w, delays, 'g', 'ring', true);
    this.k.delayedOuter(
      this.own(w, k, 'w'), this.own(ring, k, 'ring'), this.own(g, k, 'g'), this.own(delays, k, 'delays'), B, K, N, D, t, alpha, 0, K,
    );
  }

  // ---------------------------------------------------------------- fused neuron steps

  lifStep(u: Tensor, s: Tensor, input: Tensor, p: LifKernelParams): void {
    expectSameSize('lifStep', ['u', 's', 'input'], [u, s, input]);
    const args = [this.own(u, 'lifStep', 'u'), this.own(s, 'lifStep', 's'), this.own(input, 'lifStep', 'input')];
    this.elementwiseOp('lifStep', [...args, p.beta, p.threshold, p.vMin ?? -Infinity, resetCode('lifStep', p), p.resetDelay ? 1 : 0], u.size);
  }

  synapticStep(u: Tensor, isyn: Tensor, s: Tensor, input: Tensor, p: SynapticKernelParams): void {
    expectSameSize('synapticStep', ['u', 'isyn', 's', 'input'], [u, isyn, s, input]);
    const args = [
      this.own(u, 'synapticStep', 'u'), this.own(isyn, 'synapticStep', 'isyn'),
      this.own(s, 'synapticStep', 's'), this.own(input, 'synapticStep', 'input'),
    ];
    this.elementwiseOp(
      'synapticStep',
      [...args, p.alpha, p.beta, p.threshold, p.vMin ?? -Infinity, resetCode('synapticStep', p), p.resetDelay ? 1 : 0],
      u.size,
    );
  }

  /** Native for the built-in activations; any other registered one runs on the memory views after the native h update. */
  leakyStep(h: Tensor, a: Tensor, input: Tensor, gain: number, activation: string): void {
    expectSameSize('leakyStep', ['h', 'a', 'input'], [h, a, input]);
    const k = 'leakyStep';
    const kind = ACTIVATION_KINDS.get(activation);
    this.k.leakyStep(this.own(h, k, 'h'), this.own(a, k, 'a'), this.own(input, k, 'input'), gain, kind ?? -1, 0, h.size);
    if (kind === undefined) hostActivation(a.data, h.data, activation, false);
  }

  izhikevichStep(v: Tensor, u: Tensor, s: Tensor, input: Tensor, p: IzhikevichKernelParams): void {
    expectSameSize('izhikevichStep', ['v', 'u', 's', 'input'], [v, u, s, input]);
    const k = 'izhikevichStep';
    this.k.izhikevichStep(
      this.own(v, k, 'v'), this.own(u, k, 'u'), this.own(s, k, 's'), this.own(input, k, 'input'),
      p.a, p.b, p.c, p.d, p.vPeak, p.nSub, p.hMs, 0, v.size,
    );
  }

  adexStep(v: Tensor, w: Tensor, s: Tensor, input: Tensor, p: AdexKernelParams): void {
    expectSameSize('adexStep', ['v', 'w', 's', 'input'], [v, w, s, input]);
    const k = 'adexStep';
    this.k.adexStep(
      this.own(v, k, 'v'), this.own(w, k, 'w'), this.own(s, k, 's'), this.own(input, k, 'input'),
      p.C, p.gL, p.EL, p.deltaT, p.VT, p.tauWMs, p.a, p.b, p.Vr, p.Vpeak, p.nSub, p.hMs, 0, v.size,
    );
  }

  /** lifStep + surrogate f / f' of the new membrane in one pass (native surrogates), + eligibility trace. */
  lifStepFused(u: Tensor, s: Tensor, input: Tensor, p: LifKernelParams, out: FusedStepOutputs): void {
    expectSameSize('lifStepFused', ['u', 's', 'input'], [u, s, input]);
    this.fused('lifStepFused', u, 0, s, input, p, 0, out);
  }

  /** synapticStep + surrogate f / f' of the new membrane in one pass (native surrogates), + eligibility trace. */
  synapticStepFused(u: Tensor, isyn: Tensor, s: Tensor, input: Tensor, p: SynapticKernelParams, out: FusedStepOutputs): void {
    expectSameSize('synapticStepFused', ['u', 'isyn', 's', 'input'], [u, isyn, s, input]);
    this.fused('synapticStepFused', u, this.own(isyn, 'synapticStepFused', 'isyn'), s, input, p, p.alpha, out);
  }

  private fused(
    kernel: string, u: Tensor, pj: number, s: Tensor, input: Tensor, p: LifKernelParams, alpha: number, out: FusedStepOutputs,
  ): void {
    if ((out.f || out.df) && !out.sg) {
      throw new ParameterError(`${kernel}: out.f / out.df need out.sg (the surrogate to evaluate)`);
    }
    if (out.f) expectSameSize(kernel, ['u', 'out.f'], [u, out.f]);
    if (out.df) expectSameSize(kernel, ['u', 'out.df'], [u, out.df]);
    if (out.trace) expectSameSize(kernel, ['out.trace.e', 'out.trace.x'], [out.trace.e, out.trace.x]);
    const nf = out.f ? this.nativeSurrogate(out.sg!, false) : null;
    const nd = out.df ? this.nativeSurrogate(out.sg!, true) : null;
    // Native surrogate parts go into the neuron pass; others run after it.
    const kind = nf?.kind ?? nd?.kind ?? 0;
    const param = nf?.param ?? nd?.param ?? 0;
    const param2 = nf?.param2 ?? nd?.param2 ?? 0;
    const args = [
      this.own(u, kernel, 'u'), pj, this.own(s, kernel, 's'), this.own(input, kernel, 'input'),
      alpha, p.beta, p.threshold, p.vMin ?? -Infinity, resetCode(kernel, p), p.resetDelay ? 1 : 0, kind, param, param2,
      nf ? this.own(out.f!, kernel, 'out.f') : 0, nd ? this.own(out.df!, kernel, 'out.df') : 0,
    ];
    this.elementwiseOp('neuronFused', args, u.size);
    if (out.f && !nf) this.surrogate(out.f, u, p.threshold, out.sg!, false);
    if (out.df && !nd) this.surrogate(out.df, u, p.threshold, out.sg!, true);
    if (out.trace) this.axpby(out.trace.e, out.trace.x, 1, out.trace.decay);
  }

  /** Backend.gradTail in one pass (split over threads as the other elementwise kernels). */
  gradTail(g: Tensor, d: Tensor, mask: Tensor | null, keepRows: number, count: Tensor | null, s: Tensor | null): void {
    const k = 'gradTail';
    const [R, N] = expect2d(k, 'g', g);
    expectRowRange(k, keepRows, R, R);
    expectSameSize(k, ['g', 'd'], [g, d]);
    if (mask) expectSameSize(k, ['g', 'mask'], [g, mask]);
    if (count) {
      if (!s) throw new ParameterError('gradTail: count needs s');
      expectSameSize(k, ['g', 'count', 's'], [g, count, s]);
    }
    const args = [
      this.own(g, k, 'g'), this.own(d, k, 'd'), mask ? this.own(mask, k, 'mask') : 0, keepRows * N,
      count ? this.own(count, k, 'count') : 0, count ? this.own(s as Tensor, k, 's') : 0,
    ];
    this.elementwiseOp(k, args, g.size);
  }

  // ---------------------------------------------------------------- elementwise and reductions

  surrogate(out: Tensor, u: Tensor, threshold: number, sg: SurrogateKernelSpec, deriv: boolean): void {
    expectSameSize('surrogate', ['out', 'u'], [out, u]);
    const po = this.own(out, 'surrogate', 'out'), pu = this.own(u, 'surrogate', 'u');
    const native = this.nativeSurrogate(sg, deriv);
    if (native) {
      this.elementwiseOp('surrogate', [po, pu, threshold, native.kind, native.param, native.param2, deriv ? 1 : 0], u.size);
      return;
    }
    const O = out.data, U = u.data;
    const fn = deriv ? sg.df : sg.f;
    for (let i = 0; i < U.length; i++) O[i] = fn(U[i] - threshold);
  }

  /** The verified native kernel for (sg, deriv), or null for the generic path (cached per spec). */
  nativeSurrogate(sg: SurrogateKernelSpec, deriv: boolean): NativeSurrogate | null {
    let byDir = this.surrogateCache.get(sg);
    if (!byDir) this.surrogateCache.set(sg, (byDir = new Map()));
    if (!byDir.has(deriv)) {
      byDir.set(
        deriv,
        chooseNative(sg, deriv, (native, d, xs) => {
          const x = this.fromArray([xs.length], xs) as WasmTensor;
          const y = this.tensor([xs.length]) as WasmTensor;
          this.k.surrogate(y.ptr, x.ptr, 0, native.kind, native.param, native.param2, d ? 1 : 0, 0, xs.length);
          const got = this.read(y);
          this.free(x);
          this.free(y);
          return got;
        }),
      );
    }
    return byDir.get(deriv)!;
  }

  axpby(y: Tensor, x: Tensor, alpha: number, beta: number): void {
    expectSameSize('axpby', ['y', 'x'], [y, x]);
    this.elementwiseOp('axpby', [this.own(y, 'axpby', 'y'), this.own(x, 'axpby', 'x'), alpha, beta], y.size);
  }

  mul(out: Tensor, a: Tensor, b: Tensor): void {
    expectSameSize('mul', ['out', 'a', 'b'], [out, a, b]);
    this.elementwiseOp('mul', [this.own(out, 'mul', 'out'), this.own(a, 'mul', 'a'), this.own(b, 'mul', 'b')], out.size);
  }

  addRow(x: Tensor, v: Tensor): void {
    const [B, N] = expect2d('addRow', 'x', x);
    expectShape('addRow', 'v', v, [N]);
    const px = this.own(x, 'addRow', 'x'), pv = this.own(v, 'addRow', 'v');
    const T = this.fanout(B * N, PARALLEL_THRESHOLDS.elements);
    this.ranged('addRow', [px, pv, N, 0, 0], -1, 3, 4, B, 1, T);
  }

  sumRows(out: Tensor, x: Tensor, alpha = 1, beta = 0): void {
    const [B, N] = expect2d('sumRows', 'x', x);
    expectShape('sumRows', 'out', out, [N]);
    const po = this.own(out, 'sumRows', 'out'), px = this.own(x, 'sumRows', 'x');
    const T = this.fanout(B * N, PARALLEL_THRESHOLDS.elements);
    this.ranged('sumRows', [po, px, B, N, alpha, beta, 0, 0], -1, 6, 7, N, 16, T);
  }

  fill(x: Tensor, value: number): void {
    this.elementwiseOp('fill', [this.own(x, 'fill', 'x'), value], x.size);
  }

  copy(dst: Tensor, src: Tensor): void {
    expectSameSize('copy', ['dst', 'src'], [dst, src]);
    const pd = this.own(dst, 'copy', 'dst'), ps = this.own(src, 'copy', 'src');
    if (pd !== ps) this.elementwiseOp('copy', [pd, ps], dst.size);
  }

  copySlice(dst: Tensor, dstOffset: number, src: Tensor, srcOffset: number, count: number): void {
    copySliceDims(dst, dstOffset, src, srcOffset, count);
    const pd = this.own(dst, 'copySlice', 'dst'), ps = this.own(src, 'copySlice', 'src');
    this.k.copy(pd + dstOffset * 4, ps + srcOffset * 4, 0, count);
  }

  /** The compiled function runs on the calling thread over views of the shared memory (no copy). */
  elementwise(kernel: ElementwiseKernel, tensors: readonly Tensor[], params: readonly number[]): void {
    const n = elementwiseSize(tensors);
    tensors.forEach((t, i) => this.own(t, 'elementwise', `tensors[${i}]`));
    kernel(tensors.map((t) => t.data), params, 0, n);
  }

  sum(x: Tensor): number {
    return this.elementwiseOp('sum', [this.own(x, 'sum', 'x')], x.size);
  }

  sumSquares(x: Tensor): number {
    return this.elementwiseOp('sumSquares', [this.own(x, 'sumSquares', 'x')], x.size);
  }

  // ---------------------------------------------------------------- loss and optimiser kernels (single-threaded)

  addScalar(x: Tensor, c: number): void {
    this.k.addScalar(this.own(x, 'addScalar', 'x'), c, 0, x.size);
  }

  fillRows(x: Tensor, from: number, to: number, value: number): void {
    const [R, N] = expect2d('fillRows', 'x', x);
    expectRowRange('fillRows', from, to, R);
    // the lazy fill over the rows' elements: a kernel called on this thread (this.k) would first wait
    // for every split call in flight (the readout's per-step fill of its target rows: a wait a step)
    const px = this.own(x, 'fillRows', 'x');
    if (to > from) this.elementwiseOp('fill', [px + from * N * 4, value], (to - from) * N);
  }

  gateBelow(g: Tensor, u: Tensor, vMin: number): void {
    expectSameSize('gateBelow', ['g', 'u'], [g, u]);
    this.k.gateBelow(this.own(g, 'gateBelow', 'g'), this.own(u, 'gateBelow', 'u'), vMin, 0, g.size);
  }

  /** Built-in activations run natively; any other registered name through its scalar functions on the memory views. */
  activation(out: Tensor, x: Tensor, name: string, deriv: boolean): void {
    expectSameSize('activation', ['out', 'x'], [out, x]);
    const po = this.own(out, 'activation', 'out'), px = this.own(x, 'activation', 'x');
    const kind = ACTIVATION_KINDS.get(name);
    if (kind === undefined) hostActivation(out.data, x.data, name, deriv);
    else this.k.activation(po, px, kind, deriv ? 1 : 0, 0, x.size);
  }

  transpose(out: Tensor, x: Tensor): void {
    const [R, C] = expect2d('transpose', 'x', x);
    expectShape('transpose', 'out', out, [C, R]);
    this.k.transpose(this.own(out, 'transpose', 'out'), this.own(x, 'transpose', 'x'), R, C);
  }

  normalizeRows(out: Tensor, norms: Tensor, x: Tensor, row0: number, normalize: boolean, eps: number): void {
    const [rows, n] = normalizeDims('normalizeRows', out, norms, x, row0);
    const k = 'normalizeRows';
    // rows are independent: split by rows over threads (the same values on any thread count)
    const args = [this.own(out, k, 'out'), this.own(norms, k, 'norms'), this.own(x, k, 'x'), row0, n, normalize ? 1 : 0, eps, 0, 0];
    this.ranged('normalizeRowsRange', args, -1, 7, 8, rows, 1, this.fanout(rows * n, PARALLEL_THRESHOLDS.rowElements));
  }

  normalizeRowsBackward(g: Tensor, x: Tensor, row0: number, dhat: Tensor, norms: Tensor, normalize: boolean): void {
    const k = 'normalizeRowsBackward';
    const [rows, n] = normalizeDims(k, dhat, norms, x, row0);
    expectShape(k, 'g', g, x.shape);
    const args = [this.own(g, k, 'g'), this.own(x, k, 'x'), row0, n, this.own(dhat, k, 'dhat'), this.own(norms, k, 'norms'), normalize ? 1 : 0, 0, 0];
    this.ranged('normalizeRowsBackwardRange', args, -1, 7, 8, rows, 1, this.fanout(rows * n, PARALLEL_THRESHOLDS.rowElements));
  }

  /**
   * The similarity kernels fuse where the unfused logits take rowDots (C ≤ NARROW_N target rows of
   * N ≥ 16) and dĥ = dY·t̂ a GEMM (N > NARROW_N): then they compute the same values as those calls.
   */
  fusesSimilarity(C: number, N: number): boolean {
    return C >= 1 && C <= NARROW_N && N > NARROW_N;
  }

  private expectFused(kernel: string, C: number, N: number): void {
    if (!this.fusesSimilarity(C, N)) throw new ParameterError(`${kernel}: ${C} target rows of ${N} values are not fused (fusesSimilarity); make the unfused calls`);
  }

  /**
   * Backend.similarityLogits: assembly/losses.ts simLogitsRange, split by rows like normalizeRows
   * and rowDots (per row the same arithmetic, each block's normalised rows still in L1).
   */
  similarityLogits(y: Tensor, hHat: Tensor, norms: Tensor, x: Tensor, tHat: Tensor, alpha: number, normalize: boolean, eps: number): void {
    const k = 'similarityLogits';
    const [R, N] = normalizeDims(k, hHat, norms, x, 0);
    const [C] = expect2d(k, 'tHat', tHat);
    expectShape(k, 'tHat', tHat, [C, N]);
    expectShape(k, 'y', y, [R, C]);
    this.expectFused(k, C, N);
    const args = [this.own(hHat, k, 'hHat'), this.own(norms, k, 'norms'), this.own(x, k, 'x'), N, normalize ? 1 : 0, eps, this.own(tHat, k, 'tHat'), C, this.own(y, k, 'y'), alpha, 0, 0];
    this.ranged('simLogitsRange', args, -1, 10, 11, R, 1, this.fanout(R * N, PARALLEL_THRESHOLDS.rowElements));
  }

  /** Backend.similarityBackward: assembly/losses.ts simBackwardRange, split by rows (each thread's two dĥ rows in its scratch). */
  similarityBackward(g: Tensor, x: Tensor, dy: Tensor, tHat: Tensor, norms: Tensor, normalize: boolean): void {
    const k = 'similarityBackward';
    const [R, C] = expect2d(k, 'dy', dy);
    const [, N] = expect2d(k, 'x', x);
    expectShape(k, 'tHat', tHat, [C, N]);
    expectShape(k, 'norms', norms, [R]);
    expectShape(k, 'g', g, x.shape);
    expectRowRange(k, 0, R, x.shape[0]);
    this.expectFused(k, C, N);
    this.ensureScratch(2 * N * 4);
    const head = [this.own(g, k, 'g'), this.own(x, k, 'x'), N, this.own(dy, k, 'dy'), C, this.own(tHat, k, 'tHat'), this.own(norms, k, 'norms'), normalize ? 1 : 0];
    this.ranged('simBackwardRange', [...head, 0, 0, 0], 8, 9, 10, R, 1, this.fanout(R * N, PARALLEL_THRESHOLDS.rowElements));
  }

  /**
   * Backend.softmaxCrossEntropy: assembly/losses.ts softmaxCERange, split by rows; each row's loss
   * term goes to a float64 buffer, which lossAddRows adds in row order after every row (the same
   * loss for every thread count).
   */
  softmaxCrossEntropy(loss: Tensor, dy: Tensor | null, y: Tensor, p: Tensor, scales: SoftmaxCEScales = {}): void {
    const [R, C] = softmaxCEDims(loss, dy, y, p);
    const k = 'softmaxCrossEntropy';
    const rows = this.growBuffer(this.ceRows, R * 8, 256 * 8);
    const keep = C <= SOFTMAX_KEEP;
    if (keep) this.ensureScratch(C * 8);
    const head = [rows, dy ? this.own(dy, k, 'dy') : 0, this.own(y, k, 'y'), this.own(p, k, 'p'), C, scales.gradScale ?? 1, scales.gradDivisor ?? 1];
    this.ranged('softmaxCERange', [...head, 0, 0, 0], keep ? 7 : -1, 8, 9, R, 1, this.fanout(R * C, PARALLEL_THRESHOLDS.softmaxElements), 2);
    // the row terms in row order into the loss, after every row (one chunk: a worker's where the
    // pool hands small kernels over, so the caller does not wait for the rows here)
    const pl = this.own(loss, k, 'loss');
    this.ranged('lossAddRows', [pl, rows, scales.lossDivisor ?? 1, 0, 0], -1, 3, 4, R, 1, 1);
  }

  softmaxRows(out: Tensor, x: Tensor): void {
    const [R, C] = expect2d('softmaxRows', 'x', x);
    expectShape('softmaxRows', 'out', out, [R, C]);
    this.k.softmaxRows(this.own(out, 'softmaxRows', 'out'), this.own(x, 'softmaxRows', 'x'), R, C);
  }

  l2PairLoss(loss: Tensor, g: Tensor | null, r: Tensor, nh: number): void {
    const n = l2PairDims(loss, g, r, nh);
    this.k.l2PairLoss(this.own(loss, 'l2PairLoss', 'loss'), g ? this.own(g, 'l2PairLoss', 'g') : 0, this.own(r, 'l2PairLoss', 'r'), nh, n);
  }

  ffGoodness(loss: Tensor | null, g: Tensor | null, goodness: Tensor | null, y: Tensor, p: FfGoodnessParams): void {
    const [R, n] = ffGoodnessDims(loss, g, goodness, y, p.nPos, p.nNeg);
    const k = 'ffGoodness';
    this.k.ffGoodness(
      loss ? this.own(loss, k, 'loss') : 0, g ? this.own(g, k, 'g') : 0, goodness ? this.own(goodness, k, 'goodness') : 0, this.own(y, k, 'y'),
      R, n, p.theta, p.mean ? 1 : 0, p.nPos, p.nNeg, p.lossDivisor ?? 1, p.gradDivisor ?? 1, p.goodnessBeta ?? 0,
    );
  }

  ffPeerNorm(loss: Tensor | null, g: Tensor | null, running: Tensor, y: Tensor, nPos: number, momentum: number, weight: number): void {
    const [, n] = ffPeerNormDims(loss, g, running, y, nPos);
    const k = 'ffPeerNorm';
    this.k.ffPeerNorm(loss ? this.own(loss, k, 'loss') : 0, g ? this.own(g, k, 'g') : 0, this.own(running, k, 'running'), this.own(y, k, 'y'), n, nPos, momentum, weight);
  }

  sgdStep(w: Tensor, g: Tensor, lr: number, weightDecay: number): void {
    expectSameSize('sgdStep', ['w', 'g'], [w, g]);
    this.k.sgdStep(this.own(w, 'sgdStep', 'w'), this.own(g, 'sgdStep', 'g'), lr, weightDecay, 0, w.size);
  }

  momentumStep(w: Tensor, g: Tensor, v: Tensor, lr: number, momentum: number, weightDecay: number): void {
    expectSameSize('momentumStep', ['w', 'g', 'v'], [w, g, v]);
    const k = 'momentumStep';
    this.k.momentumStep(this.own(w, k, 'w'), this.own(g, k, 'g'), this.own(v, k, 'v'), lr, momentum, weightDecay, 0, w.size);
  }

  adamStep(w: Tensor, g: Tensor, m: Tensor, v: Tensor, p: AdamStepParams): void {
    expectSameSize('adamStep', ['w', 'g', 'm', 'v'], [w, g, m, v]);
    const k = 'adamStep';
    // split over threads by element ranges (the weights of a layer are large)
    this.elementwiseOp('adamStep', [
      this.own(w, k, 'w'), this.own(g, k, 'g'), this.own(m, k, 'm'), this.own(v, k, 'v'),
      p.lr, p.beta1, p.beta2, p.eps, p.c1, p.c2, p.weightDecay,
    ], w.size);
  }
}

/** Native activation kernels by name (assembly/losses.ts `activation`). */
const ACTIVATION_KINDS: ReadonlyMap<string, number> = new Map([['identity', 0], ['tanh', 1], ['sigmoid', 2], ['relu', 3]]);

function resetCode(kernel: string, p: LifKernelParams): number {
  const code = RESET_CODES[p.reset];
  if (code === undefined) {
    throw new ParameterError(`${kernel}: reset = "${String(p.reset)}" is not known; reset must be one of: subtract, zero, none`);
  }
  return code;
}

