/**
 * Worker threads of the wasm backend. Each worker instantiates the same kernels over the same
 * shared WebAssembly.Memory and sleeps on a shared Int32Array. No postMessage per kernel call.
 *
 * A call cuts its range into a few more chunks than threads. The caller publishes the call (op,
 * argument template, chunk bounds) and wakes the workers (Atomics.notify); then every thread —
 * the caller included — claims a chunk with a compare-and-swap on one shared word that holds
 * (call id, front, back) of the unclaimed chunks, runs it, and counts it as completed. The caller
 * claims from the front, the workers from the back: with two threads the caller runs the first
 * half of a range and the worker the second half whenever both are on time, so consecutive calls
 * over the same rows (propagation, neuron step, loss, gradient) find each half in the cache of the
 * core that wrote it, and a late thread's chunks are taken by the other. A guided call (a kernel whose
 * return value nobody reads: WasmBackend's lazy kernels) has many equal chunks, of which a claim takes
 * ⌈left ÷ guide⌉ as one range: large ranges first, single chunks at the end, so neither thread waits
 * long for the other's last range, whatever their speeds. The caller returns as soon as
 * all chunks are completed — or, for a lazy call (a kernel whose result nobody reads at once), right
 * after publishing it (deferLazy): the worker starts on it while the caller runs the JavaScript up to
 * the next kernel, and settle(), before anything touches memory again, claims what is left for the
 * caller and waits for the worker's last chunks. A worker that the OS has not scheduled yet (a busy
 * machine) simply finds no chunk left, and a claim tagged with an older call id fails, so a late worker can never
 * run a chunk with stale arguments; a worker copies a call's op, id and arguments under a version
 * word (a seqlock), so a late worker that meets the caller writing the next call never mixes the
 * two (one call's kernel with the next one's arguments). (The call id has 13 bits: a worker stalled
 * between its copy and its claim through 8,192 calls, about a second of training, could still take
 * a chunk with another call's arguments.) Each output element is computed by exactly one chunk with the
 * same arithmetic, so results do not depend on which thread ran which chunk; reductions are summed
 * in chunk order. Workers spin for SPIN_US before sleeping so that a burst of kernel calls (one
 * training step) does not pay the wake-up latency every time.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SigpropError } from '../../errors.js';
import { KERNEL_ARGS, THREADED_OPS, type ThreadedOp } from './module.js';

// Per-worker control words: [0] seq (bumped per call), [1] asleep (the worker is in, or about to
// enter, Atomics.wait: the caller notifies only then), then on the next cache line (the worker spins
// on [0] alone, so the caller's writes of a call do not bounce the line the worker is reading):
// [16] op (-1 = exit), [17] argc, [18] lo arg position, [19] hi arg position, [20] call id,
// [21] error flag, [22] spin (µs), [23] version of [16]-[20], [24] and the arguments (odd while the
// caller writes them), [24] the call's guide (0: one chunk per claim; g: a claim takes ⌈left ÷ g⌉
// chunks).
const CTRL_INTS = 32;
const C_OP = 16, C_ARGC = 17, C_LO = 18, C_HI = 19, C_ID = 20, C_ERR = 21, C_SPIN = 22, C_VERSION = 23, C_GUIDE = 24;
const MAX_ARGS = 32;
/** `a[0], ..., a[KERNEL_ARGS − 1]`: the argument list of a chunk call, in the worker and on the calling thread. */
const ARG_LIST = Array.from({ length: KERNEL_ARGS }, (_, i) => `a[${i}]`).join(', ');
/** fn(a[0], ..., a[KERNEL_ARGS − 1]) without an argument array (see KERNEL_ARGS); the worker's call is the same text. */
const callKernel = new Function('fn', 'a', `return fn(${ARG_LIST});`) as (fn: (...args: number[]) => number | void, a: Float64Array) => number | void;
/** Most chunks per call. */
export const MAX_CHUNKS = 511;
/**
 * Microseconds a worker spins after a call before it sleeps (Atomics.wait). Waking a sleeping
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
// Shared work words: [0] (call id << 18) | (front << 9) | back, the unclaimed chunks being
// [front, back); [1] chunks completed, [2] number of chunks, [3] chunks run by workers (statistics),
// [4] the caller sleeps in Atomics.wait on [1] (the workers notify only then).
const ID_MASK = 0x1fff;

// The worker body (CommonJS, evaluated): kept as a string so it runs the same under tsx, vitest
// and compiled JavaScript without a loader.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, names, ctrlBuf, argBuf, workBuf, cutsBuf, chunkResBuf, index } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const ctrl = new Int32Array(ctrlBuf, index * ${CTRL_INTS * 4}, ${CTRL_INTS});
const args = new Float64Array(argBuf, index * ${MAX_ARGS * 8}, ${MAX_ARGS});
const work = new Int32Array(workBuf);
const cuts = new Float64Array(cutsBuf);
const chunkRes = new Float64Array(chunkResBuf);
const a = new Float64Array(${MAX_ARGS});
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  let seq = Atomics.load(ctrl, 0);
  if (seq === seen) {
    // spin up to ctrl[C_SPIN] microseconds (performance.now() counts milliseconds; the clock is read every 4096 loads, which allocates no number on most turns), then sleep
    const t0 = performance.now(), spinMs = Atomics.load(ctrl, ${C_SPIN}) / 1000;
    for (let i = 1; seq === seen; i++) {
      seq = Atomics.load(ctrl, 0);
      if ((i & 4095) === 0 && performance.now() - t0 > spinMs) break;
    }
  }
  while (seq === seen) {
    // asleep before the last look at seq; the caller bumps seq before it reads asleep, so one of
    // the two sees the other's write (both sequentially consistent): no call goes unnoticed
    Atomics.store(ctrl, 1, 1);
    Atomics.wait(ctrl, 0, seen);
    Atomics.store(ctrl, 1, 0);
    seq = Atomics.load(ctrl, 0);
  }
  seen = seq;
  // A consistent copy of the call (a seqlock: ctrl[C_VERSION] is odd while the caller writes the call): a
  // worker that wakes late can meet the caller publishing the next call, and a copy torn between two
  // calls (one call's kernel with the next one's arguments) would run a chunk with wrong arguments.
  let op = 0, id = 0, lo = 0, hi = 0, guide = 0;
  for (;;) {
    const version = Atomics.load(ctrl, ${C_VERSION});
    if ((version & 1) === 0) {
      op = Atomics.load(ctrl, ${C_OP});
      id = Atomics.load(ctrl, ${C_ID});
      guide = Atomics.load(ctrl, ${C_GUIDE});
      const argc = Atomics.load(ctrl, ${C_ARGC});
      lo = Atomics.load(ctrl, ${C_LO});
      hi = Atomics.load(ctrl, ${C_HI});
      for (let i = 0; i < argc; i++) a[i] = args[i];
      if (Atomics.load(ctrl, ${C_VERSION}) === version) break;
    }
  }
  if (op < 0) break;
  const fn = fns[op];
  for (;;) {
    const v = Atomics.load(work, 0);
    const back = v & 511, front = (v >>> 9) & 511;
    if ((v >>> 18) !== id || front >= back) break;
    const m = guide > 0 ? Math.ceil((back - front) / guide) : 1;
    if (Atomics.compareExchange(work, 0, v, v - m) !== v) continue;
    const c = back - m;
    a[lo] = cuts[c];
    a[hi] = cuts[back];
    try {
      const r = fn(${ARG_LIST});
      chunkRes[c] = typeof r === 'number' ? r : 0;
    } catch (err) {
      Atomics.store(ctrl, ${C_ERR}, 1);
      parentPort.postMessage(String((err && err.stack) || err));
    }
    Atomics.add(work, 3, m);
    Atomics.add(work, 1, m);
    if (Atomics.load(work, 4) !== 0) Atomics.notify(work, 1);
  }
}
`;

/** Cores this process may use (os.availableParallelism); the browser build's stand-in says 1. */
export function availableCores(): number {
  return availableParallelism();
}

/** The calling thread plus `threads − 1` workers sharing one memory. */
export class ThreadPool {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly work = new Int32Array(new SharedArrayBuffer(32));
  private readonly cuts = new Float64Array(new SharedArrayBuffer((MAX_CHUNKS + 1) * 8));
  private readonly chunkRes = new Float64Array(new SharedArrayBuffer(MAX_CHUNKS * 8));
  private readonly opIds = new Map<string, number>();
  private callId = 0;
  /** The last call until settle() has seen its chunks completed (null once it has). */
  private pendingOp: ThreadedOp | null = null;
  private pendingChunks = 0;
  private pendingMine = 0;
  /** The calling thread's side of the pending call (help): its kernel, argument list and bound positions (null once it has claimed). */
  private pendingLocal: ((...args: number[]) => number | void) | null = null;
  private readonly pendingArgv = new Float64Array(MAX_ARGS);
  private pendingLo = 0;
  private pendingHi = 0;
  /** The pending call's guide (ctrl[C_GUIDE]) and the number of chunks of the calling thread's last claim. */
  private pendingGuide = 0;
  private claimed = 1;
  /**
   * Lazy calls return at once after publishing, the caller's chunks being claimed by settle(): the
   * worker starts on the call while the caller runs the JavaScript up to the next kernel (shape
   * checks, argument lists, the engine's step), which it otherwise ran with the worker idle once the
   * call's chunks were gone. mnist-lif on two threads, toggled per batch in one trainer: 1.007-1.055x
   * (median 1.02, 6 runs). False: the caller claims its chunks before it returns (as before 2026-12-03).
   */
  deferLazy = true;
  private failure: string | null = null;
  private closed = false;
  /** Number of kernel calls that were split over the workers (for tests and tuning). */
  dispatches = 0;
  /** Number of one-chunk calls handed to the workers (a small lazy kernel the caller does not wait for: WasmBackend.ranged). */
  handoffs = 0;
  /**
   * Per kernel: split calls, their chunks, the chunks worker threads ran (the profiler's thread
   * share) and the milliseconds the calling thread waited for the workers' chunks (after its own,
   * or for a lazy call in settle()); recorded when the call is settled.
   */
  readonly opStats = new Map<ThreadedOp, { calls: number; chunks: number; workerChunks: number; waitMs: number }>();
  /** Chunks run by worker threads so far. */
  get workerChunks(): number {
    return Atomics.load(this.work, 3);
  }

  private constructor(threads: number) {
    this.size = threads;
    const n = Math.max(threads - 1, 1);
    this.ctrl = new Int32Array(new SharedArrayBuffer(n * CTRL_INTS * 4));
    this.args = new Float64Array(new SharedArrayBuffer(n * MAX_ARGS * 8));
    THREADED_OPS.forEach((name, i) => this.opIds.set(name, i));
    this.workerSpinUs = SPIN_US;
  }

  /** Microseconds each worker spins after a call before it sleeps (SPIN_US unless changed; read by the workers at every call). */
  get workerSpinUs(): number {
    return Atomics.load(this.ctrl, C_SPIN);
  }
  set workerSpinUs(us: number) {
    for (let w = 0; w < Math.max(this.size - 1, 1); w++) Atomics.store(this.ctrl, w * CTRL_INTS + C_SPIN, Math.max(0, Math.round(us)));
  }

  /** Start `threads − 1` workers over `memory` and wait until each has instantiated the kernels. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<ThreadPool> {
    const pool = new ThreadPool(threads);
    const ready: Promise<void>[] = [];
    for (let index = 0; index < threads - 1; index++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module, memory, names: [...THREADED_OPS], index,
          ctrlBuf: pool.ctrl.buffer, argBuf: pool.args.buffer,
          workBuf: pool.work.buffer, cutsBuf: pool.cuts.buffer, chunkResBuf: pool.chunkRes.buffer,
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
   * Returns the sum of the return values in chunk order (for reductions). With `lazy`, returns 0 right after publishing (deferLazy; without
   * it, as soon as the calling thread finds no chunk left to claim), while a worker may still run
   * chunks: see settle().
   *
   * `guide` (guided claims, for kernels whose return value nobody reads): a thread that finds k
   * chunks unclaimed takes the next ⌈k ÷ guide⌉ of them as one range (one kernel call) instead of
   * one, so that the cuts can be fine (a small last piece: little waiting for the thread that runs
   * it) without as many kernel calls and claims; with guide = 2 × threads each claim takes about half
   * of a fair share of what is left. Returns 0.
   */
  run(
    op: ThreadedOp, args: readonly number[], local: (...args: number[]) => number | void,
    chunks: { lo: number; hi: number; cuts: readonly number[]; guide?: number; scratchAt?: number; scratch?: readonly number[] }, lazy = false,
  ): number {
    if (this.closed) throw new SigpropError('wasm backend: used after dispose()', 'backend');
    const n = chunks.cuts.length - 1;
    if (n > MAX_CHUNKS) throw new RangeError(`ThreadPool.run: ${n} chunks (at most ${MAX_CHUNKS})`);
    const scratchAt = chunks.scratchAt ?? -1, scratch = chunks.scratch;
    if (scratchAt >= 0 && (!scratch || scratch.length < this.size)) throw new RangeError(`ThreadPool.run: scratchAt ${scratchAt} needs ${this.size} scratch pointers`);
    this.settle();
    if (n > 1) this.dispatches++;
    else this.handoffs++;
    const id = (this.callId = (this.callId + 1) & ID_MASK);
    // 1. invalidate claims of older calls, 2. publish the call, 3. wake the workers.
    Atomics.store(this.work, 0, (id << 18) | n);
    Atomics.store(this.work, 1, 0);
    Atomics.store(this.work, 2, n);
    for (let i = 0; i <= n; i++) this.cuts[i] = chunks.cuts[i];
    const opId = this.opIds.get(op)!;
    const guide = chunks.guide ?? 0;
    for (let w = 0; w < this.workers.length; w++) this.publish(w, opId, args, chunks.lo, chunks.hi, id, guide, scratchAt, scratchAt >= 0 ? scratch![w + 1] : 0);
    this.pendingOp = op;
    this.pendingChunks = n;
    this.pendingMine = 0;
    this.pendingArgv.set(args);
    if (scratchAt >= 0) this.pendingArgv[scratchAt] = scratch![0];
    this.pendingLocal = local;
    this.pendingLo = chunks.lo;
    this.pendingHi = chunks.hi;
    this.pendingGuide = guide;
    // A deferred call (lazy, with deferLazy): the worker starts on it while the calling thread goes on
    // with the JavaScript before the next kernel; the caller's share is claimed by settle().
    if (lazy) {
      if (this.deferLazy) return 0;
      this.help();
      if (Atomics.load(this.work, 1) < n) return 0;
    }
    this.settle(); // the caller's chunks (help) where it has not claimed yet, then the workers'
    if (guide > 0) return 0;
    let total = 0;
    for (let i = 0; i < n; i++) total += this.chunkRes[i];
    return total;
  }

  /** The calling thread claims and runs chunks of the pending call like any worker (from the front) until none is left. */
  private help(): void {
    const local = this.pendingLocal, argv = this.pendingArgv, lo = this.pendingLo, hi = this.pendingHi;
    if (!local) return;
    this.pendingLocal = null;
    let mine = 0;
    for (let c = this.claim(); c >= 0; c = this.claim()) {
      const m = this.claimed;
      argv[lo] = this.cuts[c];
      argv[hi] = this.cuts[c + m];
      try {
        this.chunkRes[c] = Number(callKernel(local, argv) ?? 0);
      } catch (err) {
        // the chunk failed on this thread: count it, take the chunks left (counted, not run) and wait
        // for the worker's, so that no chunk of this call still runs when the error reaches the caller
        Atomics.add(this.work, 1, m);
        this.abandon(this.pendingChunks);
        throw err;
      }
      mine += m;
      Atomics.add(this.work, 1, m);
    }
    this.pendingMine += mine;
  }

  /**
   * The calling thread's claim: the first of the front chunks it took (this.claimed of them: one, or
   * a guided call's share of those left), or −1 when none is left.
   */
  private claim(): number {
    for (;;) {
      const v = Atomics.load(this.work, 0);
      const c = (v >>> 9) & 511, left = (v & 511) - c;
      if (left <= 0) return -1;
      const m = this.pendingGuide > 0 ? Math.ceil(left / this.pendingGuide) : 1;
      if (Atomics.compareExchange(this.work, 0, v, v + 512 * m) === v) {
        this.claimed = m;
        return c;
      }
    }
  }

  /** After a chunk failed on the calling thread: claim the unclaimed chunks without running them, then wait for the workers' (their failures are not reported twice). */
  private abandon(n: number): void {
    while (this.claim() >= 0) Atomics.add(this.work, 1, this.claimed);
    this.pendingMine = n;
    try {
      this.settle();
    } catch {
      // the first failure is the one the caller sees
    }
  }

  /** False while the last call returned (lazy) before all its chunks completed and settle() has not yet waited for them. */
  get settled(): boolean {
    return this.pendingOp === null;
  }

  /**
   * Run the calling thread's share of the last call where it has not claimed yet (a deferred lazy
   * call), then wait until its chunks are completed (a no-op when they are). A lazy run()
   * returns while a worker still runs its chunks, so that the caller goes on with its own work
   * (the JavaScript before the next kernel); everything that reads or writes the memory those
   * chunks touch — the next split call, a kernel on the calling thread, a tensor's data, a freed
   * block — settles first (WasmBackend and WasmHeap do).
   */
  settle(): void {
    const op = this.pendingOp;
    if (op === null) return;
    if (this.pendingLocal) this.help();
    this.pendingOp = null;
    const n = this.pendingChunks;
    let done = Atomics.load(this.work, 1);
    let waited = 0;
    if (done < n) {
      const t0 = performance.now();
      for (let i = 1; done < n; i++) {
        done = Atomics.load(this.work, 1);
        // the clock every 1024 loads (a few µs): a time read allocates a number where it is not optimised away
        if ((i & 1023) === 0 && (this.failure || performance.now() - t0 > CALLER_SPIN_US / 1000)) break;
      }
      while (done < n) {
        if (this.failure) throw new SigpropError(`wasm backend: a worker thread failed: ${this.failure}`, 'backend');
        // asleep before the last look at [1]; a worker adds to [1] before it reads [4] (as publish / the worker loop)
        Atomics.store(this.work, 4, 1);
        done = Atomics.load(this.work, 1);
        if (done < n) Atomics.wait(this.work, 1, done, 100);
        Atomics.store(this.work, 4, 0);
        done = Atomics.load(this.work, 1);
      }
      waited = performance.now() - t0;
    }
    for (let w = 0; w < this.workers.length; w++) {
      if (Atomics.exchange(this.ctrl, w * CTRL_INTS + C_ERR, 0)) {
        throw new SigpropError(`wasm backend: kernel ${op} failed in a worker thread: ${this.failure ?? 'see the worker error'}`, 'backend');
      }
    }
    if (n === 1) return;
    let stat = this.opStats.get(op);
    if (!stat) this.opStats.set(op, (stat = { calls: 0, chunks: 0, workerChunks: 0, waitMs: 0 }));
    stat.calls++;
    stat.waitMs += waited;
    stat.chunks += n;
    stat.workerChunks += n - this.pendingMine;
  }

  /**
   * Write a call into worker w's control block and wake it: the fields between two increments of
   * the block's version (ctrl[C_VERSION], odd while they change; the worker copies them until it
   * reads the same even version before and after), then the call counter ctrl[0], then a notify
   * where the worker sleeps (ctrl[1]; a spinning worker sees the counter change by itself).
   */
  private publish(w: number, opId: number, args: readonly number[], lo: number, hi: number, id: number, guide: number, scratchAt = -1, scratch = 0): void {
    const c = w * CTRL_INTS;
    Atomics.add(this.ctrl, c + C_VERSION, 1);
    const base = w * MAX_ARGS;
    for (let i = 0; i < args.length; i++) this.args[base + i] = args[i];
    if (scratchAt >= 0) this.args[base + scratchAt] = scratch;
    Atomics.store(this.ctrl, c + C_OP, opId);
    Atomics.store(this.ctrl, c + C_ARGC, args.length);
    Atomics.store(this.ctrl, c + C_LO, lo);
    Atomics.store(this.ctrl, c + C_HI, hi);
    Atomics.store(this.ctrl, c + C_ID, id);
    Atomics.store(this.ctrl, c + C_GUIDE, guide);
    Atomics.add(this.ctrl, c + C_VERSION, 1);
    Atomics.add(this.ctrl, c, 1);
    if (Atomics.load(this.ctrl, c + 1) !== 0) Atomics.notify(this.ctrl, c);
  }

  /** Stop the workers (after the last call's chunks, whose failure, if any, is thrown once they are stopped). */
  async close(): Promise<void> {
    if (this.closed) return;
    let failed: unknown = null;
    try {
      this.settle();
    } catch (err) {
      failed = err;
    }
    this.closed = true;
    for (let w = 0; w < this.workers.length; w++) this.publish(w, -1, [], 0, 0, 0, 0);
    await Promise.all(this.workers.map((w) => w.terminate()));
    if (failed) throw failed;
  }
}
