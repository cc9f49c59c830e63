/**
 * Worker threads of the wasm backend. Each worker instantiates the same kernels over the same
 * shared WebAssembly.Memory and sleeps on a shared Int32Array. No postMessage per kernel call.
 *
 * A call cuts its range into a few more chunks than threads. The caller writes the call (op,
 * argument template, chunk bounds) into the next of SLOTS call slots, a ring, and publishes it (the
 * workers' call counter; Atomics.notify where a worker sleeps); then every thread — the caller
 * included — claims a chunk with a compare-and-swap on the slot's word that holds (call id, front,
 * back) of the unclaimed chunks, runs it, and counts it as completed. The caller claims from the
 * front, the workers from the back: with two threads the caller runs the first half of a range and
 * the worker the second half whenever both are on time, so consecutive calls over the same rows
 * (propagation, neuron step, loss, gradient) find each half in the cache of the core that wrote
 * it, and a late thread's chunks are taken by the other. A guided call (a kernel whose return value
 * nobody reads: WasmBackend's lazy kernels) has many equal chunks, of which a claim takes
 * ⌈left ÷ guide⌉ as one range: large ranges first, single chunks at the end, so neither thread
 * waits long for the other's last range, whatever their speeds.
 *
 * Calls run in the order they were published, one at a time: no thread claims a chunk of a call
 * before every chunk of the call before it is complete (a call may read what the one before wrote),
 * so results are those of running the calls one after the other. A call whose result the caller
 * reads (a reduction, counts the host reads) returns once it and every call before it are complete.
 * A lazy call (a kernel whose result nobody reads at once) returns right after it is published, the
 * caller having claimed what was left of the calls before it (deferLazy; `lag` calls left to the
 * workers): the worker runs it while the caller runs the JavaScript up to the next kernel, and goes
 * on to the next call as soon as the caller's last chunk of this one is done, without waiting for
 * the caller to publish it then. settle() — before anything touches memory again — runs the
 * caller's share of every pending call and waits until all are complete.
 *
 * A worker that the OS has not scheduled yet (a busy machine) simply finds no chunk left, and a
 * claim tagged with an older call id fails, so a late worker can never run a chunk with stale
 * arguments; a worker copies a call's op, number and arguments under the slot's version word (a
 * seqlock), so a late worker that meets the caller writing a later call into the slot never mixes
 * the two (one call's kernel with the other's arguments); finding a later call in the slot, it
 * knows its own call complete and goes on. (The call id has 13 bits: a worker stalled between its
 * copy and its claim through 8,192 calls, about a second of training, could still take a chunk
 * with another call's arguments.) Each output element is computed by exactly one chunk with the
 * same arithmetic, so results do not depend on which thread ran which chunk; reductions are summed
 * in chunk order. Workers spin for SPIN_US before sleeping so that a burst of kernel calls (one
 * training step) does not pay the wake-up latency every time.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SigpropError } from '../../errors.js';
import { KERNEL_ARGS, THREADED_OPS, type ThreadedOp } from './module.js';

// Per-worker control words (a block of CTRL_INTS, cache lines apart): [0] the number of the last
// call published (the worker spins, then sleeps, on it), [1] asleep (the worker is in, or about to
// enter, Atomics.wait: the caller notifies only then), [2] spin (µs).
const CTRL_INTS = 32;
const C_PUBLISHED = 0, C_ASLEEP = 1, C_SPIN = 2;
/** Calls in flight at most (a power of two): a slot is written again once its call is complete. */
const SLOTS = 8;
// Per slot, a head written by the caller (HEAD_INTS ints, a cache line): [0] version (odd while the
// caller writes the slot), [1] call number, [2] op (-1 = exit), [3] argc, [4] lo arg position,
// [5] hi arg position, [6] guide (0: one chunk per claim; g: a claim takes ⌈left ÷ g⌉ chunks),
// [7] scratch arg position (-1: none), [8] chunks, [9] 1: time the chunks (ThreadPool.timeChunks).
const HEAD_INTS = 16;
const H_VERSION = 0, H_CALL = 1, H_OP = 2, H_ARGC = 3, H_LO = 4, H_HI = 5, H_GUIDE = 6, H_SCRATCH = 7, H_CHUNKS = 8, H_TIMING = 9;
// Per slot, the words every thread writes (WORK_INTS ints, their own cache line): [0] (call id << 18)
// | (front << 9) | back, the unclaimed chunks being [front, back); [1] chunks completed.
const WORK_INTS = 16;
const W_CLAIM = 0, W_DONE = 1;
// Pool words, each group on a cache line of its own (POOL_LINE ints apart): [0] chunks run by workers
// (statistics), [16] the caller sleeps in Atomics.wait on a slot's W_DONE (the workers notify only
// then), [32] a worker's chunk failed, [33] in which call, [48] workers asleep in Atomics.wait on a
// slot's W_DONE at the barrier (whoever completes chunks notifies only then). On one line, every
// chunk a worker completed (its add to the statistics word) took the line from the calling thread,
// which reads the asleep and failure words after each of its own chunks and calls: an empty split
// call of 64 guided chunks cost 2.7-3.4 µs on two threads against 2.4-2.8 apart, 16 chunks 1.9-2.3
// against 1.6-1.8 (experiments/RESULTS.md).
const POOL_LINE = 16;
const P_WORKER_CHUNKS = 0, P_CALLER_ASLEEP = POOL_LINE, P_FAILED = 2 * POOL_LINE, P_FAILED_CALL = 2 * POOL_LINE + 1, P_BARRIER_ASLEEP = 3 * POOL_LINE;
const MAX_ARGS = 32;
/** `a[0], ..., a[KERNEL_ARGS − 1]`: the argument list of a chunk call, in the worker and on the calling thread. */
const ARG_LIST = Array.from({ length: KERNEL_ARGS }, (_, i) => `a[${i}]`).join(', ');
/** fn(a[0], ..., a[KERNEL_ARGS − 1]) without an argument array (see KERNEL_ARGS); the worker's call is the same text. */
const callKernel = new Function('fn', 'a', `return fn(${ARG_LIST});`) as (fn: (...args: number[]) => number | void, a: Float64Array) => number | void;
/** Most chunks per call. */
export const MAX_CHUNKS = 511;
/**
 * Microseconds a worker spins after a call before it sleeps (Atomics.wait), waiting for the next
 * call, or at the barrier for the other threads' last chunks of a call. Waking a sleeping
 * worker costs 100-250 µs on the project's 2-core virtual machine, more than most kernel calls
 * take; a training step has serial stretches (the rate encoder, ~0.3 ms per step of mnist-lif) between
 * split calls, so a worker that slept after a few microseconds (the earlier 2000-iteration spin)
 * woke late for nearly every call and ran 1-35% of the chunks instead of half. 500 µs keeps it
 * awake through a step. (Until 2026-12 the limit was compared with performance.now()'s milliseconds,
 * so a worker spun 500 ms after every call: an idle pool burned a core, and two 2-thread backends
 * used in turn in one process ran 2-3x slower, each one's worker spinning through the other's
 * batches.) On a machine that gives the process only one core, a spinning worker takes that time
 * from the thread doing the work: use threads = 1 there.
 */
const SPIN_US = 500;
/**
 * Microseconds the caller spins waiting for the workers' last chunks before it sleeps. A caller
 * that slept after a few microseconds (the earlier 2000-iteration spin) paid the wake-up latency
 * (100-250 µs on the 2-core virtual machine) whenever the worker finished after it, though the
 * worker's share of a split call rarely takes more than a few hundred microseconds.
 */
const CALLER_SPIN_US = 2000;
const ID_MASK = 0x1fff;

// The worker body (CommonJS, evaluated): kept as a string so it runs the same under tsx, vitest
// and compiled JavaScript without a loader. Call numbers are int32 and wrap: compared by (a − b) | 0.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, names, ctrlBuf, headBuf, workBuf, poolBuf, argBuf, scratchBuf, cutsBuf, resBuf, timeBuf, index, threads } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const ctrl = new Int32Array(ctrlBuf, index * ${CTRL_INTS * 4}, ${CTRL_INTS});
const head = new Int32Array(headBuf);
const work = new Int32Array(workBuf);
const pool = new Int32Array(poolBuf);
const args = new Float64Array(argBuf);
const scratch = new Float64Array(scratchBuf);
const cuts = new Float64Array(cutsBuf);
const res = new Float64Array(resBuf);
const times = new Float64Array(timeBuf);
const a = new Float64Array(${MAX_ARGS});
parentPort.postMessage('ready');
let next = 1;
for (;;) {
  let pub = Atomics.load(ctrl, ${C_PUBLISHED});
  if (((pub - next) | 0) < 0) {
    // spin up to ctrl[C_SPIN] microseconds (performance.now() counts milliseconds; the clock is read every 4096 loads, which allocates no number on most turns), then sleep
    const t0 = performance.now(), spinMs = Atomics.load(ctrl, ${C_SPIN}) / 1000;
    for (let i = 1; ((pub - next) | 0) < 0; i++) {
      pub = Atomics.load(ctrl, ${C_PUBLISHED});
      if ((i & 4095) === 0 && performance.now() - t0 > spinMs) break;
    }
    while (((pub - next) | 0) < 0) {
      // asleep before the last look at the counter; the caller stores the counter before it reads
      // asleep, so one of the two sees the other's write (both sequentially consistent)
      Atomics.store(ctrl, ${C_ASLEEP}, 1);
      Atomics.wait(ctrl, ${C_PUBLISHED}, pub);
      Atomics.store(ctrl, ${C_ASLEEP}, 0);
      pub = Atomics.load(ctrl, ${C_PUBLISHED});
    }
  }
  // A consistent copy of call \`next\` (a seqlock: the version is odd while the caller writes the slot)
  const s = next & ${SLOTS - 1}, h = s * ${HEAD_INTS}, wb = s * ${WORK_INTS};
  let call = 0, op = 0, lo = 0, hi = 0, guide = 0, n = 0, timing = false;
  for (;;) {
    const version = Atomics.load(head, h + ${H_VERSION});
    if ((version & 1) === 0) {
      call = Atomics.load(head, h + ${H_CALL});
      op = Atomics.load(head, h + ${H_OP});
      guide = Atomics.load(head, h + ${H_GUIDE});
      n = Atomics.load(head, h + ${H_CHUNKS});
      timing = Atomics.load(head, h + ${H_TIMING}) !== 0;
      lo = Atomics.load(head, h + ${H_LO});
      hi = Atomics.load(head, h + ${H_HI});
      const argc = Atomics.load(head, h + ${H_ARGC}), at = Atomics.load(head, h + ${H_SCRATCH});
      for (let i = 0; i < argc; i++) a[i] = args[s * ${MAX_ARGS} + i];
      if (at >= 0) a[at] = scratch[s * threads + index + 1];
      if (Atomics.load(head, h + ${H_VERSION}) === version) break;
    }
  }
  // the slot holds a later call: this one was completed by the other threads while this worker was away
  if (call !== next) {
    next = (next + 1) | 0;
    continue;
  }
  if (op < 0) break;
  const fn = fns[op], id = next & ${ID_MASK}, cb = s * ${MAX_CHUNKS + 1}, rb = s * ${MAX_CHUNKS};
  for (;;) {
    const v = Atomics.load(work, wb + ${W_CLAIM});
    const back = v & 511, front = (v >>> 9) & 511;
    if ((v >>> 18) !== id || front >= back) break;
    const m = guide > 0 ? Math.ceil((back - front) / guide) : 1;
    if (Atomics.compareExchange(work, wb + ${W_CLAIM}, v, v - m) !== v) continue;
    const c = back - m;
    a[lo] = cuts[cb + c];
    a[hi] = cuts[cb + back];
    try {
      const t0 = timing ? performance.now() : 0;
      const r = fn(${ARG_LIST});
      // a worker's chunk time is stored negative (the calling thread's positive)
      if (timing) times[rb + c] = t0 - performance.now();
      res[rb + c] = typeof r === 'number' ? r : 0;
    } catch (err) {
      Atomics.store(pool, ${P_FAILED_CALL}, next);
      Atomics.store(pool, ${P_FAILED}, 1);
      parentPort.postMessage(String((err && err.stack) || err));
    }
    Atomics.add(pool, ${P_WORKER_CHUNKS}, m);
    Atomics.add(work, wb + ${W_DONE}, m);
    if (Atomics.load(pool, ${P_CALLER_ASLEEP}) !== 0 || Atomics.load(pool, ${P_BARRIER_ASLEEP}) !== 0) Atomics.notify(work, wb + ${W_DONE});
  }
  // The next call may read what this one writes: on once every chunk of this one is complete (the
  // caller's last, which it runs before it returns to its JavaScript), or the slot holds a later
  // call; spinning as long as for the next call (ctrl[C_SPIN]), then asleep until whoever completes a
  // chunk of it notifies (a worker that slept a fixed time here instead, on a loaded machine, woke
  // after the caller had taken every chunk of the next call, and again at its end: one call behind).
  let done = Atomics.load(work, wb + ${W_DONE});
  if (done < n) {
    const t0 = performance.now(), spinMs = Atomics.load(ctrl, ${C_SPIN}) / 1000;
    for (let i = 1; done < n && Atomics.load(head, h + ${H_CALL}) === call; i++) {
      done = Atomics.load(work, wb + ${W_DONE});
      if ((i & 4095) === 0 && performance.now() - t0 > spinMs) break;
    }
    while (done < n && Atomics.load(head, h + ${H_CALL}) === call) {
      // asleep before the last look at the count; whoever adds to it reads the flag afterwards
      Atomics.add(pool, ${P_BARRIER_ASLEEP}, 1);
      done = Atomics.load(work, wb + ${W_DONE});
      if (done < n && Atomics.load(head, h + ${H_CALL}) === call) Atomics.wait(work, wb + ${W_DONE}, done, 100);
      Atomics.sub(pool, ${P_BARRIER_ASLEEP}, 1);
      done = Atomics.load(work, wb + ${W_DONE});
    }
  }
  next = (next + 1) | 0;
}
`;

/** Cores this process may use (os.availableParallelism); the browser build's stand-in says 1. */
export function availableCores(): number {
  return availableParallelism();
}

type LocalKernel = (...args: number[]) => number | void;

/** The calling thread plus `threads − 1` workers sharing one memory. */
export class ThreadPool {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly ctrl: Int32Array;
  private readonly head = new Int32Array(new SharedArrayBuffer(SLOTS * HEAD_INTS * 4));
  private readonly work = new Int32Array(new SharedArrayBuffer(SLOTS * WORK_INTS * 4));
  private readonly words = new Int32Array(new SharedArrayBuffer(4 * POOL_LINE * 4));
  private readonly args = new Float64Array(new SharedArrayBuffer(SLOTS * MAX_ARGS * 8));
  private readonly scratchPtrs: Float64Array;
  private readonly cuts = new Float64Array(new SharedArrayBuffer(SLOTS * (MAX_CHUNKS + 1) * 8));
  private readonly chunkRes = new Float64Array(new SharedArrayBuffer(SLOTS * MAX_CHUNKS * 8));
  /** With timeChunks, the milliseconds each claim's kernel call took, at its first chunk (the workers' negative). */
  private readonly chunkMs = new Float64Array(new SharedArrayBuffer(SLOTS * MAX_CHUNKS * 8));
  private readonly opIds = new Map<string, number>();
  /** Numbers (int32, wrapping) of the last call published, the last the calling thread has claimed all it could of, and the last known complete (its statistics recorded): retired ≤ helped ≤ published. */
  private published = 0;
  private helped = 0;
  private retired = 0;
  /** The calling thread's side of each slot's call: op, kernel, argument list, bound positions, guide, chunks, chunks it ran. */
  private readonly slotOp: (ThreadedOp | null)[] = new Array<ThreadedOp | null>(SLOTS).fill(null);
  private readonly slotLocal: (LocalKernel | null)[] = new Array<LocalKernel | null>(SLOTS).fill(null);
  private readonly slotArgv = Array.from({ length: SLOTS }, () => new Float64Array(MAX_ARGS));
  private readonly slotLo = new Int32Array(SLOTS);
  private readonly slotHi = new Int32Array(SLOTS);
  private readonly slotGuide = new Int32Array(SLOTS);
  private readonly slotChunks = new Int32Array(SLOTS);
  private readonly slotMine = new Int32Array(SLOTS);
  /** The number of chunks of the calling thread's last claim. */
  private claimed = 1;
  /**
   * Lazy calls return at once after publishing, the caller's chunks being claimed later (by the
   * next call, or settle()): the worker starts on the call while the caller runs the JavaScript up
   * to the next kernel (shape checks, argument lists, the engine's step), which it otherwise ran
   * with the worker idle once the call's chunks were gone. mnist-lif on two threads, toggled per
   * batch in one trainer: 1.007-1.055x (median 1.02, 6 runs). False: the caller claims its chunks
   * of a lazy call before it returns (as before 2026-12-03).
   */
  deferLazy = true;
  /**
   * With deferLazy, how many of the newest calls a lazy call leaves to the workers when it returns
   * (≥ 1; at most SLOTS − 2): the caller first claims what is left of the calls before them.
   */
  get lag(): number {
    return this.lagCalls;
  }
  set lag(calls: number) {
    if (!Number.isInteger(calls) || calls < 1 || calls > SLOTS - 2) throw new RangeError(`ThreadPool.lag: an integer in [1, ${SLOTS - 2}], got ${calls}`);
    this.lagCalls = calls;
  }
  private lagCalls = 1;
  private failure: string | null = null;
  private closed = false;
  /** Number of kernel calls that were split over the workers (for tests and tuning). */
  dispatches = 0;
  /** Number of one-chunk calls handed to the workers (a small lazy kernel the caller does not wait for: WasmBackend.ranged). */
  handoffs = 0;
  /**
   * Per kernel: split calls, their chunks, the chunks worker threads ran (the profiler's thread
   * share) and the milliseconds the calling thread waited for the workers' chunks of them (before
   * it could claim chunks of the next call, or in settle()); recorded once the call is complete.
   */
  readonly opStats = new Map<ThreadedOp, { calls: number; chunks: number; workerChunks: number; waitMs: number }>();
  /**
   * With timeChunks, per kernel: the milliseconds its chunks ran on the calling thread and on the
   * workers, over every call handed to the pool (split or one chunk). Their sum is the kernel's
   * thread time; a split that cost nothing would keep it at one thread's time for the same calls.
   */
  readonly threadMs = new Map<ThreadedOp, { callerMs: number; workerMs: number }>();
  /** Chunks run by worker threads so far. */
  get workerChunks(): number {
    return Atomics.load(this.words, P_WORKER_CHUNKS);
  }

  private constructor(threads: number) {
    this.size = threads;
    const n = Math.max(threads - 1, 1);
    this.ctrl = new Int32Array(new SharedArrayBuffer(n * CTRL_INTS * 4));
    this.scratchPtrs = new Float64Array(new SharedArrayBuffer(SLOTS * threads * 8));
    THREADED_OPS.forEach((name, i) => this.opIds.set(name, i));
    this.workerSpinUs = SPIN_US;
  }

  /** Microseconds each worker spins before it sleeps, waiting for the next call or for the other threads' last chunks of a call (SPIN_US unless changed; read by the workers at each wait). */
  get workerSpinUs(): number {
    return Atomics.load(this.ctrl, C_SPIN);
  }
  set workerSpinUs(us: number) {
    for (let w = 0; w < Math.max(this.size - 1, 1); w++) Atomics.store(this.ctrl, w * CTRL_INTS + C_SPIN, Math.max(0, Math.round(us)));
  }

  /**
   * Time every chunk's kernel call (performance.now() around it, on each thread) into threadMs:
   * where a split call's thread time goes, without the profiler's settle after every call (which
   * keeps the threads from overlapping calls). Settles before it changes.
   */
  get timeChunks(): boolean {
    return this.timing;
  }
  set timeChunks(on: boolean) {
    this.settle();
    this.timing = on;
  }
  /** timeChunks (each call carries it to the workers in its slot's head). */
  private timing = false;

  /** Start `threads − 1` workers over `memory` and wait until each has instantiated the kernels. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<ThreadPool> {
    const pool = new ThreadPool(threads);
    const ready: Promise<void>[] = [];
    for (let index = 0; index < threads - 1; index++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module, memory, names: [...THREADED_OPS], index, threads,
          ctrlBuf: pool.ctrl.buffer, headBuf: pool.head.buffer, workBuf: pool.work.buffer, poolBuf: pool.words.buffer,
          argBuf: pool.args.buffer, scratchBuf: pool.scratchPtrs.buffer, cutsBuf: pool.cuts.buffer, resBuf: pool.chunkRes.buffer,
          timeBuf: pool.chunkMs.buffer,
        },
      });
      pool.workers.push(worker);
      ready.push(
        new Promise<void>((resolveReady, reject) => {
          worker.once('message', () => resolveReady());
          worker.once('error', reject);
        }),
      );
      worker.on('message', (m) => {
        if (m !== 'ready') pool.failure = String(m);
      });
      worker.on('error', (err) => {
        pool.failure = err instanceof Error ? err.message : String(err);
      });
      worker.on('exit', (code) => {
        if (!pool.closed) pool.failure ??= `worker exited with code ${code}`;
      });
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await pool.close();
      throw new SigpropError(
        `wasm backend: could not start worker threads (${err instanceof Error ? err.message : String(err)}); use threads = 1`,
        'backend',
      );
    }
    for (const w of pool.workers) w.unref();
    return pool;
  }

  /**
   * Run `op` over chunks: argument positions lo and hi of each thread's argument list (`args`, the
   * calling thread's run through `local`; read, not kept) receive the bounds [cuts[c], cuts[c+1])
   * of the chunks the thread claims. With `scratchAt` ≥ 0, position scratchAt of thread t's list is
   * scratch[t] instead (t = 0 the calling thread, t = i for worker i−1: a buffer of its own).
   * Returns the sum of the return values in chunk order (for reductions), once this call and every
   * call before it are complete. With `lazy`, returns 0 at once (deferLazy; the calls before it
   * having no chunk left to claim), or once the calling thread finds no chunk of it left to claim,
   * while a worker may still run chunks: see settle().
   *
   * `guide` (guided claims, for kernels whose return value nobody reads): a thread that finds k
   * chunks unclaimed takes the next ⌈k ÷ guide⌉ of them as one range (one kernel call) instead of
   * one, so that the cuts can be fine (a small last piece: little waiting for the thread that runs
   * it) without as many kernel calls and claims; with guide = threads each claim takes a fair share
   * of what is left (the wasm backend's GUIDE_PER_THREAD). Returns 0.
   */
  run(
    op: ThreadedOp, args: readonly number[], local: LocalKernel,
    chunks: { lo: number; hi: number; cuts: readonly number[]; guide?: number; scratchAt?: number; scratch?: readonly number[] }, lazy = false,
  ): number {
    if (this.closed) throw new SigpropError('wasm backend: used after dispose()', 'backend');
    const n = chunks.cuts.length - 1;
    if (n > MAX_CHUNKS) throw new RangeError(`ThreadPool.run: ${n} chunks (at most ${MAX_CHUNKS})`);
    const scratchAt = chunks.scratchAt ?? -1, scratch = chunks.scratch;
    if (scratchAt >= 0 && (!scratch || scratch.length < this.size)) throw new RangeError(`ThreadPool.run: scratchAt ${scratchAt} needs ${this.size} scratch pointers`);
    if (args.length > MAX_ARGS) throw new RangeError(`ThreadPool.run: ${args.length} arguments (at most ${MAX_ARGS})`);
    const call = (this.published + 1) | 0;
    // the slot's previous call must be complete before the slot is written again
    const previous = (call - SLOTS) | 0;
    if (((previous - this.retired) | 0) > 0) this.complete(previous);
    if (n > 1) this.dispatches++;
    else this.handoffs++;
    const s = call & (SLOTS - 1), guide = chunks.guide ?? 0;
    this.write(s, call, this.opIds.get(op)!, args, chunks.lo, chunks.hi, guide, scratchAt, scratch, chunks.cuts);
    const argv = this.slotArgv[s];
    argv.set(args);
    if (scratchAt >= 0) argv[scratchAt] = scratch![0];
    this.slotOp[s] = op;
    this.slotLocal[s] = local;
    this.slotLo[s] = chunks.lo;
    this.slotHi[s] = chunks.hi;
    this.slotGuide[s] = guide;
    this.slotChunks[s] = n;
    this.slotMine[s] = 0;
    this.announce(call);
    if (lazy) {
      // deferred: the worker starts on this call (and the `lag` newest) while the calling thread
      // claims what is left of the older ones, then goes on with its JavaScript
      this.helpTo(this.deferLazy ? (call - this.lagCalls) | 0 : call);
      return 0;
    }
    this.complete(call);
    if (guide > 0) return 0;
    let total = 0;
    const rb = s * MAX_CHUNKS;
    for (let i = 0; i < n; i++) total += this.chunkRes[rb + i];
    return total;
  }

  /**
   * Write a call into slot s (its previous call complete): the head, arguments, per-thread scratch
   * pointers and cuts between two increments of the slot's version (odd while they change; a
   * worker copies them until it reads the same even version before and after), the claim word
   * last, tagged with the call's id: a late worker's claim for the slot's previous call fails.
   */
  private write(
    s: number, call: number, opId: number, args: readonly number[], lo: number, hi: number, guide: number,
    scratchAt: number, scratch: readonly number[] | undefined, cuts: readonly number[],
  ): void {
    const h = s * HEAD_INTS, wb = s * WORK_INTS, n = cuts.length - 1;
    Atomics.add(this.head, h + H_VERSION, 1);
    Atomics.store(this.head, h + H_CALL, call);
    Atomics.store(this.head, h + H_OP, opId);
    Atomics.store(this.head, h + H_ARGC, args.length);
    Atomics.store(this.head, h + H_LO, lo);
    Atomics.store(this.head, h + H_HI, hi);
    Atomics.store(this.head, h + H_GUIDE, guide);
    Atomics.store(this.head, h + H_SCRATCH, scratchAt);
    Atomics.store(this.head, h + H_CHUNKS, n);
    Atomics.store(this.head, h + H_TIMING, this.timing ? 1 : 0);
    const ab = s * MAX_ARGS;
    for (let i = 0; i < args.length; i++) this.args[ab + i] = args[i];
    if (scratchAt >= 0) for (let t = 0; t < this.size; t++) this.scratchPtrs[s * this.size + t] = scratch![t];
    const cb = s * (MAX_CHUNKS + 1);
    for (let i = 0; i <= n; i++) this.cuts[cb + i] = cuts[i];
    // a guided claim times its first chunk only: the others must read 0
    if (this.timing) this.chunkMs.fill(0, s * MAX_CHUNKS, s * MAX_CHUNKS + n);
    Atomics.store(this.work, wb + W_DONE, 0);
    Atomics.store(this.work, wb + W_CLAIM, ((call & ID_MASK) << 18) | n);
    Atomics.add(this.head, h + H_VERSION, 1);
  }

  /**
   * Publish `call` (written into its slot): the workers' call counter, then a notify where a worker
   * sleeps (it sets its asleep word before its last look at the counter; a spinning worker sees the
   * counter change by itself).
   */
  private announce(call: number): void {
    this.published = call;
    for (let w = 0; w < this.workers.length; w++) {
      const c = w * CTRL_INTS;
      Atomics.store(this.ctrl, c + C_PUBLISHED, call);
      if (Atomics.load(this.ctrl, c + C_ASLEEP) !== 0) Atomics.notify(this.ctrl, c + C_PUBLISHED);
    }
  }

  /** The calling thread claims and runs what is left of the calls up to `target`, in order (each once the call before it is complete). */
  private helpTo(target: number): void {
    while (((target - this.helped) | 0) > 0) {
      const call = (this.helped + 1) | 0;
      this.completeTo((call - 1) | 0);
      this.help(call);
      this.helped = call;
    }
  }

  /** The calling thread claims and runs chunks of `call` like any worker (from the front) until none is left. */
  private help(call: number): void {
    const s = call & (SLOTS - 1);
    const local = this.slotLocal[s]!, argv = this.slotArgv[s], lo = this.slotLo[s], hi = this.slotHi[s];
    const wb = s * WORK_INTS, cb = s * (MAX_CHUNKS + 1), rb = s * MAX_CHUNKS;
    const timing = this.timing;
    let mine = 0;
    for (let c = this.claim(s); c >= 0; c = this.claim(s)) {
      const m = this.claimed;
      argv[lo] = this.cuts[cb + c];
      argv[hi] = this.cuts[cb + c + m];
      try {
        const t0 = timing ? performance.now() : 0;
        this.chunkRes[rb + c] = Number(callKernel(local, argv) ?? 0);
        if (timing) this.chunkMs[rb + c] = performance.now() - t0;
      } catch (err) {
        // the chunk failed on this thread: count it, take the chunks left of every pending call
        // (counted, not run) and wait for the worker's, so that no chunk still runs when the error
        // reaches the caller
        Atomics.add(this.work, wb + W_DONE, m);
        Atomics.notify(this.work, wb + W_DONE);
        this.abandon();
        throw err;
      }
      mine += m;
      Atomics.add(this.work, wb + W_DONE, m);
      if (Atomics.load(this.words, P_BARRIER_ASLEEP) !== 0) Atomics.notify(this.work, wb + W_DONE);
    }
    this.slotMine[s] += mine;
  }

  /**
   * The calling thread's claim on slot s: the first of the front chunks it took (this.claimed of
   * them: one, or a guided call's share of those left), or −1 when none is left.
   */
  private claim(s: number): number {
    const w = s * WORK_INTS + W_CLAIM, guide = this.slotGuide[s];
    for (;;) {
      const v = Atomics.load(this.work, w);
      const c = (v >>> 9) & 511, left = (v & 511) - c;
      if (left <= 0) return -1;
      const m = guide > 0 ? Math.ceil(left / guide) : 1;
      if (Atomics.compareExchange(this.work, w, v, v + 512 * m) === v) {
        this.claimed = m;
        return c;
      }
    }
  }

  /** Claim what is left of every call up to `call` and wait until they are complete. */
  private complete(call: number): void {
    this.helpTo(call);
    this.completeTo(call);
  }

  /** Wait until the calls up to `call` (all claimed) are complete, recording each one's statistics. */
  private completeTo(call: number): void {
    while (((call - this.retired) | 0) > 0) {
      const next = (this.retired + 1) | 0;
      const s = next & (SLOTS - 1);
      const waited = this.awaitChunks(s, this.slotChunks[s]);
      this.retired = next;
      if (Atomics.load(this.words, P_FAILED) !== 0) {
        // the failed call is pending or this one (a slot is written again only once its call is retired)
        const op = this.slotOp[Atomics.load(this.words, P_FAILED_CALL) & (SLOTS - 1)];
        this.abandon();
        throw new SigpropError(`wasm backend: kernel ${op} failed in a worker thread: ${this.failure ?? 'see the worker error'}`, 'backend');
      }
      const op = this.slotOp[s]!, n = this.slotChunks[s];
      this.slotLocal[s] = null;
      if (this.timing) this.addTimes(op, s, n);
      if (n <= 1) continue;
      let stat = this.opStats.get(op);
      if (!stat) this.opStats.set(op, (stat = { calls: 0, chunks: 0, workerChunks: 0, waitMs: 0 }));
      stat.calls++;
      stat.waitMs += waited;
      stat.chunks += n;
      stat.workerChunks += n - this.slotMine[s];
    }
  }

  /** Add the chunk times of slot s's call (n chunks, complete) to threadMs (timeChunks). */
  private addTimes(op: ThreadedOp, s: number, n: number): void {
    let t = this.threadMs.get(op);
    if (!t) this.threadMs.set(op, (t = { callerMs: 0, workerMs: 0 }));
    for (let i = s * MAX_CHUNKS, end = i + n; i < end; i++) {
      const ms = this.chunkMs[i];
      if (ms > 0) t.callerMs += ms;
      else t.workerMs -= ms;
    }
  }

  /** Wait until slot s counts n chunks completed (spinning CALLER_SPIN_US, then asleep); returns the milliseconds waited. */
  private awaitChunks(s: number, n: number): number {
    const w = s * WORK_INTS + W_DONE;
    let done = Atomics.load(this.work, w);
    if (done >= n) return 0;
    const t0 = performance.now();
    for (let i = 1; done < n; i++) {
      done = Atomics.load(this.work, w);
      // the clock every 1024 loads (a few µs): a time read allocates a number where it is not optimised away
      if ((i & 1023) === 0 && (this.failure || performance.now() - t0 > CALLER_SPIN_US / 1000)) break;
    }
    while (done < n) {
      if (this.failure) throw new SigpropError(`wasm backend: a worker thread failed: ${this.failure}`, 'backend');
      // asleep before the last look at the count; a worker adds to it before it reads the flag
      Atomics.store(this.words, P_CALLER_ASLEEP, 1);
      done = Atomics.load(this.work, w);
      if (done < n) Atomics.wait(this.work, w, done, 100);
      Atomics.store(this.words, P_CALLER_ASLEEP, 0);
      done = Atomics.load(this.work, w);
    }
    return performance.now() - t0;
  }

  /**
   * After a chunk failed: claim the unclaimed chunks of every pending call without running them,
   * wait for the workers' running ones (their failures are not reported twice), and forget the calls.
   */
  private abandon(): void {
    for (let call = (this.retired + 1) | 0; ((this.published - call) | 0) >= 0; call = (call + 1) | 0) {
      const s = call & (SLOTS - 1);
      while (this.claim(s) >= 0) Atomics.add(this.work, s * WORK_INTS + W_DONE, this.claimed);
      Atomics.notify(this.work, s * WORK_INTS + W_DONE);
    }
    for (let call = (this.retired + 1) | 0; ((this.published - call) | 0) >= 0; call = (call + 1) | 0) {
      const s = call & (SLOTS - 1);
      try {
        this.awaitChunks(s, this.slotChunks[s]);
      } catch {
        // a worker died: its chunks never complete; the first failure is the one the caller sees
        break;
      }
      this.slotLocal[s] = null;
    }
    this.helped = this.retired = this.published;
    Atomics.store(this.words, P_FAILED, 0);
  }

  /** False while a call returned (lazy) before all its chunks completed and settle() has not yet waited for them. */
  get settled(): boolean {
    return this.retired === this.published;
  }

  /**
   * Run the calling thread's share of every pending call (deferred lazy calls), then wait until
   * their chunks are completed (a no-op when they are). A lazy run() returns while a worker still
   * runs its chunks, so that the caller goes on with its own work (the JavaScript before the next
   * kernel); everything that reads or writes the memory those chunks touch — a kernel on the
   * calling thread, a tensor's data, a freed block, a host read of a result — settles first
   * (WasmBackend and WasmHeap do). The next split call need not: calls run in order.
   */
  settle(): void {
    if (this.retired !== this.published) this.complete(this.published);
  }

  /** Stop the workers (after the pending calls' chunks, whose failure, if any, is thrown once they are stopped). */
  async close(): Promise<void> {
    if (this.closed) return;
    let failed: unknown = null;
    try {
      this.settle();
    } catch (err) {
      failed = err;
    }
    this.closed = true;
    const call = (this.published + 1) | 0;
    this.write(call & (SLOTS - 1), call, -1, [], 0, 0, 0, -1, undefined, [0]);
    this.announce(call);
    this.helped = this.retired = call;
    await Promise.all(this.workers.map((w) => w.terminate()));
    if (failed) throw failed;
  }
}
