/**
 * What the two cores pay to hand memory to each other (the cost under every split kernel call that
 * reads what the other thread wrote, or writes what it read):
 *
 *   node --import tsx experiments/bench-coherence.ts '{"kb":2048}'
 *
 * Two threads (this one, A, and a worker, B) over one SharedArrayBuffer of `kb` KiB; each pass
 * touches one float per 64-byte line, so the time is the lines' (a cache line moves whole). Per
 * pattern the median of `reps` passes, as ns per line and as GB/s of lines:
 *   - `local read` / `local write`: A touches lines it wrote last (its own cache);
 *   - `read other's`: B reads lines A wrote (they come from A's cache);
 *   - `write other's`: B writes lines A wrote;
 *   - `write shared`: A writes lines it wrote and B has read since (both caches hold them: each
 *     write must first invalidate B's copy).
 * On the project's 2-vCPU VM (2026-12-03, 2 MiB) a line A wrote cost B 2.3 ns to read or write (the
 * local passes 0.9-1.0), and a line B had read cost A 10.7 ns to write again: split kernels that
 * read all rows of a tensor the next call writes by halves pay that on every line. At 512 KiB the
 * last figure varied from run to run (1.1 to 13 ns), at 2 MiB and above it did not. Then the round
 * trip of one line between the two cores (roundTripNs below), which tells where the host put them.
 * Prints one JSON line.
 */
import { Worker } from 'node:worker_threads';
import { childEntry } from './bench-train.js';

export interface CoherenceOptions {
  /** Size of the buffer in KiB (default 2048; a [138, 1000] float32 tensor is 539). */
  kb?: number;
  /** Passes per pattern (default 200). */
  reps?: number;
}

const PATTERNS = ['local read', 'read other\'s', 'local write', 'write other\'s', 'write shared'] as const;

export interface CoherenceResult {
  kb: number;
  reps: number;
  /** Per pattern: ns per 64-byte line and GB/s of lines (median pass). */
  patterns: Record<(typeof PATTERNS)[number], { nsPerLine: number; gbPerS: number }>;
  /** ns for one line to reach the other core and come back (roundTripNs), after the patterns. */
  roundTripNs: number;
}

// The worker: reads (op 1) or writes (op 2) one float per line on request and reports the pass's time.
const WORKER = `
const { workerData: [data, ctl, time] } = require('node:worker_threads');
const d = new Float32Array(data), c = new Int32Array(ctl), tm = new Float64Array(time);
let sink = 0;
for (;;) {
  Atomics.wait(c, 0, 0);
  const op = Atomics.exchange(c, 0, 0);
  if (op === 9) break;
  const t0 = performance.now();
  if (op === 1) { let s = 0; for (let i = 0; i < d.length; i += 16) s += d[i]; sink += s; }
  else for (let i = 0; i < d.length; i += 16) d[i] = op;
  tm[0] = performance.now() - t0;
  Atomics.store(c, 1, 1);
  Atomics.notify(c, 1);
}
`;

export async function runCoherence(o: CoherenceOptions = {}): Promise<CoherenceResult> {
  const kb = o.kb ?? 2048, reps = o.reps ?? 200;
  if (!(kb >= 4) || !Number.isInteger(kb)) throw new RangeError(`kb: an integer ≥ 4, got ${kb}`);
  const data = new SharedArrayBuffer(kb * 1024), ctl = new SharedArrayBuffer(64), time = new SharedArrayBuffer(64);
  const d = new Float32Array(data), c = new Int32Array(ctl), tm = new Float64Array(time);
  const worker = new Worker(WORKER, { eval: true, workerData: [data, ctl, time] });
  const lines = d.length / 16;
  let sink = 0;
  const read = (): number => {
    const t0 = performance.now();
    let s = 0;
    for (let i = 0; i < d.length; i += 16) s += d[i];
    sink += s;
    return performance.now() - t0;
  };
  const write = (v: number): number => {
    const t0 = performance.now();
    for (let i = 0; i < d.length; i += 16) d[i] = v;
    return performance.now() - t0;
  };
  // the worker's pass (1 read, 2 write), waited for; its own time
  const inWorker = (op: 1 | 2): number => {
    Atomics.store(c, 1, 0);
    Atomics.store(c, 0, op);
    Atomics.notify(c, 0);
    while (Atomics.load(c, 1) === 0);
    return tm[0];
  };
  const times: Record<(typeof PATTERNS)[number], number[]> = {
    'local read': [], 'read other\'s': [], 'local write': [], 'write other\'s': [], 'write shared': [],
  };
  try {
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < reps + 20; i++) {
      const keep = i >= 20; // the first passes warm up both threads' code
      write(i);
      const lr = read();
      const ro = inWorker(1); // A wrote: B reads
      write(i);
      const wo = inWorker(2); // A wrote: B writes
      write(i);
      const lw = write(i + 1);
      inWorker(1); // B reads what A wrote: both caches hold it
      const ws = write(i + 2);
      if (keep) {
        times['local read'].push(lr);
        times['read other\'s'].push(ro);
        times['local write'].push(lw);
        times['write other\'s'].push(wo);
        times['write shared'].push(ws);
      }
    }
  } finally {
    Atomics.store(c, 0, 9);
    Atomics.notify(c, 0);
    await worker.terminate();
  }
  const patterns = {} as CoherenceResult['patterns'];
  for (const p of PATTERNS) {
    const v = [...times[p]].sort((a, b) => a - b), ms = v[v.length >> 1];
    patterns[p] = { nsPerLine: Number(((ms * 1e6) / lines).toFixed(2)), gbPerS: Number(((lines * 64) / (ms * 1e6)).toFixed(1)) };
  }
  if (Number.isNaN(sink)) throw new Error('unreachable: keeps the reads');
  return { kb, reps, patterns, roundTripNs: await roundTripNs() };
}

// The ping-pong worker: answers each number the other thread stores in word 0 by storing it in word 16 (another line).
const PING_WORKER = `
const { workerData: [ctl, n] } = require('node:worker_threads');
const c = new Int32Array(ctl);
Atomics.store(c, 32, 1);
for (let i = 1; i <= n; i++) { while (Atomics.load(c, 0) !== i); Atomics.store(c, 16, i); }
`;

/**
 * Nanoseconds for one cache line to go to the other core and an answer to come back: this thread
 * stores a number into one line, a worker spinning on it stores it into another, this thread spins
 * until it sees it (Atomics, one int per line), `trips` times in 5 passes; the median pass.
 *
 * It tells where the host put the two vCPUs, which decides what every split kernel call pays to
 * hand work and data across. The project's 2-vCPU VM showed two values, switching between them
 * within a session as the host moved the vCPUs: 0.23-0.32 µs (apparently two cores sharing a
 * last-level cache) and 0.9-2.0 µs (apparently apart); mnist-lif on two threads (bench-threads.ts)
 * read a median 1.711x one thread at the first (6 runs) and 1.543x at the second (41 runs), minutes
 * apart (experiments/RESULTS.md, eighteenth pass).
 */
export async function roundTripNs(trips = 20_000): Promise<number> {
  if (!(trips >= 5) || !Number.isInteger(trips)) throw new RangeError(`trips: an integer ≥ 5, got ${trips}`);
  const per = Math.floor(trips / 5), n = per * 5;
  const ctl = new SharedArrayBuffer(256), c = new Int32Array(ctl);
  const worker = new Worker(PING_WORKER, { eval: true, workerData: [ctl, n] });
  const passes: number[] = [];
  try {
    // the worker is spinning once it has stored its start flag
    const started = performance.now();
    while (Atomics.load(c, 32) === 0) {
      if (performance.now() - started > 10_000) throw new Error('roundTripNs: the worker did not start within 10 s');
      await new Promise((r) => setTimeout(r, 1));
    }
    for (let p = 0, i = 0; p < 5; p++) {
      const t0 = performance.now();
      for (let k = 0; k < per; k++) {
        i++;
        Atomics.store(c, 0, i);
        while (Atomics.load(c, 16) !== i);
      }
      passes.push(((performance.now() - t0) * 1e6) / per);
    }
  } finally {
    await worker.terminate();
  }
  passes.sort((a, b) => a - b);
  return Number(passes[2].toFixed(1));
}

childEntry(import.meta.url, runCoherence);
