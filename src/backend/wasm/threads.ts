/**
 * Worker threads of the wasm backend. Each worker instantiates the same kernels over the same
 * shared WebAssembly.Memory and sleeps on a shared Int32Array. A kernel call writes the op id and
 * the worker's arguments into shared memory, bumps a sequence number and wakes the worker with
 * Atomics.notify; the calling thread runs its own share and then waits (Atomics.wait) for the
 * worker's "done" number. No postMessage per call. Workers spin briefly before sleeping so that
 * a burst of kernel calls (one training step) does not pay the wake-up latency every time.
 */
import { Worker } from 'node:worker_threads';
import { SigpropError } from '../../errors.js';
import { THREADED_OPS, type ThreadedOp } from './module.js';

const CTRL_INTS = 16; // per worker: [0] seq, [1] done, [2] op (-1 = exit), [3] argc, [4] error flag
const MAX_ARGS = 32;
/** Spin iterations before Atomics.wait (a few tens of microseconds). */
const SPIN = 20000;

// The worker body (CommonJS, evaluated): kept as a string so it runs the same under tsx, vitest
// and compiled JavaScript without a loader.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, names, ctrlBuf, argBuf, resBuf, index, spin } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const ctrl = new Int32Array(ctrlBuf, index * ${CTRL_INTS * 4}, ${CTRL_INTS});
const args = new Float64Array(argBuf, index * ${MAX_ARGS * 8}, ${MAX_ARGS});
const res = new Float64Array(resBuf, index * 8, 1);
const argv = [];
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  let seq = Atomics.load(ctrl, 0);
  for (let i = 0; i < spin && seq === seen; i++) seq = Atomics.load(ctrl, 0);
  while (seq === seen) {
    Atomics.wait(ctrl, 0, seen);
    seq = Atomics.load(ctrl, 0);
  }
  seen = seq;
  const op = ctrl[2];
  if (op < 0) break;
  const argc = ctrl[3];
  argv.length = argc;
  for (let i = 0; i < argc; i++) argv[i] = args[i];
  try {
    const r = fns[op].apply(null, argv);
    res[0] = typeof r === 'number' ? r : 0;
  } catch (err) {
    ctrl[4] = 1;
    parentPort.postMessage(String(err && err.stack || err));
  }
  Atomics.store(ctrl, 1, seq);
  Atomics.notify(ctrl, 1);
}
`;

/** The calling thread plus `threads − 1` workers sharing one memory. */
export class ThreadPool {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly res: Float64Array;
  private readonly opIds = new Map<string, number>();
  private failure: string | null = null;
  /** Number of kernel calls that were split over the workers (for tests and tuning). */
  dispatches = 0;
  private closed = false;

  private constructor(threads: number) {
    this.size = threads;
    const n = Math.max(threads - 1, 1);
    this.ctrl = new Int32Array(new SharedArrayBuffer(n * CTRL_INTS * 4));
    this.args = new Float64Array(new SharedArrayBuffer(n * MAX_ARGS * 8));
    this.res = new Float64Array(new SharedArrayBuffer(n * 8));
    THREADED_OPS.forEach((name, i) => this.opIds.set(name, i));
  }

  /** Start `threads − 1` workers over `memory` and wait until each has instantiated the kernels. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<ThreadPool> {
    const pool = new ThreadPool(threads);
    const ready: Promise<void>[] = [];
    for (let index = 0; index < threads - 1; index++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module, memory, names: [...THREADED_OPS], index, spin: SPIN,
          ctrlBuf: pool.ctrl.buffer, argBuf: pool.args.buffer, resBuf: pool.res.buffer,
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
   * Run `op` on every thread: parts[0] on the calling thread (through `local`), parts[i] on
   * worker i−1. Returns the sum of the return values (for reductions).
   */
  run(op: ThreadedOp, parts: number[][], local: (...args: number[]) => number | void): number {
    if (this.closed) throw new SigpropError('wasm backend: used after dispose()', 'backend');
    const id = this.opIds.get(op)!;
    const active = parts.length - 1;
    this.dispatches++;
    for (let w = 0; w < active; w++) {
      const a = parts[w + 1];
      const base = w * MAX_ARGS;
      for (let i = 0; i < a.length; i++) this.args[base + i] = a[i];
      const c = w * CTRL_INTS;
      this.ctrl[c + 2] = id;
      this.ctrl[c + 3] = a.length;
      Atomics.add(this.ctrl, c, 1);
      Atomics.notify(this.ctrl, c);
    }
    let total = Number(local(...parts[0]) ?? 0);
    for (let w = 0; w < active; w++) {
      const c = w * CTRL_INTS;
      const seq = Atomics.load(this.ctrl, c);
      let done = Atomics.load(this.ctrl, c + 1);
      for (let i = 0; i < SPIN && done !== seq; i++) done = Atomics.load(this.ctrl, c + 1);
      while (done !== seq) {
        if (this.failure) throw new SigpropError(`wasm backend: a worker thread failed: ${this.failure}`, 'backend');
        Atomics.wait(this.ctrl, c + 1, done, 100);
        done = Atomics.load(this.ctrl, c + 1);
      }
      if (this.ctrl[c + 4]) {
        this.ctrl[c + 4] = 0;
        throw new SigpropError(`wasm backend: kernel ${op} failed in a worker thread: ${this.failure ?? 'unknown error'}`, 'backend');
      }
      total += this.res[w];
    }
    return total;
  }

  /** Stop the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let w = 0; w < this.workers.length; w++) {
      const c = w * CTRL_INTS;
      this.ctrl[c + 2] = -1;
      Atomics.add(this.ctrl, c, 1);
      Atomics.notify(this.ctrl, c);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
