/**
 * Where a two-thread training batch loses against one thread, by phase of the batch:
 *
 *   node --import tsx experiments/bench-phases.ts '{"pairs":30}'
 *
 * The mnist-lif trainer (experiments/bench-train.ts) on a one-thread and a two-thread wasm backend
 * in one process, their batches alternating (as bench-threads.ts). Each batch is cut at the
 * backend's settle() into four phases:
 *   - `pre`: from the batch's start to the window's first step (the target generator's update,
 *     the encoders' host work, the network's reset);
 *   - `window`: the T steps (propagation, neuron steps, losses, gathering the eligibility inputs);
 *   - `flush`: the gathered eligibility updates applied at the window's end (Layer.flushChunk: the
 *     backward recursion over the gathered gradients and one outer product per step, per layer);
 *   - `post`: the rest (finishGrad, the optimiser steps, the host reads of the batch's results).
 * Settling at the cuts makes the two threads wait for each other there (a few µs each), so the sum
 * is a little above a batch without them. Then `kernelPairs` more pairs with every kernel call
 * timed on every thread (WasmBackend.timeKernels): per kernel the milliseconds a batch of one
 * thread spends in it, and those of the two threads together (`caller` + `worker`) — the thread
 * time a split kernel costs, which a split without cost keeps at one thread's time (`inflation`:
 * two threads' ÷ one thread's). Kernel names are the wasm exports; one thread runs some of them
 * under another name than two (spikeMatmul / spikeMatmulRows). Prints one JSON line: per phase
 * the median ms of each thread count and the median over adjacent batch pairs of one thread's
 * time ÷ two threads'; the kernels' table, largest first; the round trip of a cache line between
 * the two cores before and after the phases' pairs (where the host put them: see bench-coherence.ts).
 */
import { Layer } from '../src/engine/layer.js';
import { Network } from '../src/engine/network.js';
import { roundTripNs } from './bench-coherence.js';
import { childEntry, setUpTrainer } from './bench-train.js';

export interface PhasesOptions {
  /** Timed batch pairs (default 30). */
  pairs?: number;
  /** Untimed pairs first (default 30: V8 compiles the training loop over about the first 50 batches). */
  warmup?: number;
  /** Steps T of the window (default 25). */
  steps?: number;
  /** Pairs with every kernel call timed, after the phases' pairs (default 20; 0: none). */
  kernelPairs?: number;
}

const PHASES = ['pre', 'window', 'flush', 'post', 'total'] as const;
type Phase = (typeof PHASES)[number];

export interface PhasesResult {
  pairs: number;
  steps: number;
  /** Per phase: median ms of the one-thread and two-thread batches, and the median ratio of adjacent pairs (one ÷ two). */
  phases: Record<Phase, { ms1: number; ms2: number; ratio: number }>;
  /** Per kernel, ms per batch: one thread; two threads' calling thread and worker; (caller + worker) ÷ one thread. */
  kernels: { kernel: string; ms1: number; caller: number; worker: number; inflation: number | null }[];
  /** ns for a cache line to reach the other core and come back, before the timed pairs and after the phases' pairs (bench-coherence.ts roundTripNs). */
  roundTripNs: number[];
}

type Timed = { timeKernels: boolean; kernelTimes(): Map<string, { callerMs: number; workerMs: number }> };

/** Every kernel call of `backend` timed from now (a wasm backend; null for any other). */
function startTiming(backend: unknown): Timed | null {
  const b = backend as Partial<Timed>;
  if (typeof b.kernelTimes !== 'function') return null;
  (b as Timed).timeKernels = true;
  return b as Timed;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
}

export async function runPhases(o: PhasesOptions = {}): Promise<PhasesResult> {
  const pairs = o.pairs ?? 30, warmup = o.warmup ?? 30, steps = o.steps ?? 25;
  const cfg = { purpose: 'throughput', rule: 'sigprop', backend: 'wasm', steps, preset: 'mnist-lif' } as const;
  const one = await setUpTrainer({ ...cfg, threads: 1 }, 20);
  const two = await setUpTrainer({ ...cfg, threads: 2 }, 20);
  if (!one.ok || !two.ok) throw new Error(`trainer not available: ${!one.ok ? one.reason : !two.ok ? two.reason : ''}`);
  // the phase clock: each cut settles the backend (its pending split calls complete) and books the time since the last cut
  let cur: Partial<Record<Phase, number>> = {};
  let mark = 0;
  let backend: { settle?(): void } | null = null;
  const cut = (phase: Phase): void => {
    backend?.settle?.();
    const t = performance.now();
    cur[phase] = (cur[phase] ?? 0) + t - mark;
    mark = t;
  };
  const run = Network.prototype.run;
  const flush = (Layer.prototype as unknown as { flushChunk(): void }).flushChunk;
  Network.prototype.run = function (this: Network, opts) {
    backend = this.backend as unknown as { settle?(): void };
    cut('pre');
    run.call(this, opts);
    cut('window');
  };
  (Layer.prototype as unknown as { flushChunk(): void }).flushChunk = function (this: Layer) {
    const c = (this as unknown as { chunk: { n: number } | null }).chunk;
    if (!c || c.n === 0) return flush.call(this);
    cut('window');
    flush.call(this);
    cut('flush');
  };
  const rows: Record<1 | 2, Partial<Record<Phase, number>>[]> = { 1: [], 2: [] };
  const trips: number[] = [];
  try {
    for (let i = 0; i < warmup + pairs; i++) {
      if (i === warmup) trips.push(await roundTripNs());
      // alternate which thread count goes first
      const order = i % 2 === 0 ? ([[1, one], [2, two]] as const) : ([[2, two], [1, one]] as const);
      for (const [threads, t] of order) {
        cur = {};
        mark = performance.now();
        const t0 = mark;
        await t.train(i);
        cut('post');
        cur.total = performance.now() - t0;
        if (i >= warmup) rows[threads].push(cur);
      }
    }
  } finally {
    Network.prototype.run = run;
    (Layer.prototype as unknown as { flushChunk(): void }).flushChunk = flush;
  }
  trips.push(await roundTripNs());
  // the kernels' thread time, every call timed (a few hundred ns more per call: not in the phases above)
  const kernels: PhasesResult['kernels'] = [];
  const kernelPairs = o.kernelPairs ?? 20;
  try {
    if (kernelPairs > 0) {
      const t1 = startTiming(one.backend), t2 = startTiming(two.backend);
      if (t1 && t2) {
        for (let i = 0; i < kernelPairs; i++) {
          await one.train(warmup + pairs + i);
          await two.train(warmup + pairs + i);
        }
        const k1 = t1.kernelTimes(), k2 = t2.kernelTimes();
        for (const name of new Set([...k1.keys(), ...k2.keys()])) {
          const a = k1.get(name), b = k2.get(name);
          const ms1 = (a ? a.callerMs + a.workerMs : 0) / kernelPairs;
          const caller = (b?.callerMs ?? 0) / kernelPairs, worker = (b?.workerMs ?? 0) / kernelPairs;
          if (ms1 < 0.005 && caller + worker < 0.005) continue;
          kernels.push({
            kernel: name, ms1: round2(ms1), caller: round2(caller), worker: round2(worker),
            inflation: ms1 > 0 ? Number(((caller + worker) / ms1).toFixed(2)) : null,
          });
        }
        kernels.sort((x, y) => y.caller + y.worker + y.ms1 - (x.caller + x.worker + x.ms1));
      }
    }
  } finally {
    await one.dispose();
    await two.dispose();
  }
  const phases = {} as PhasesResult['phases'];
  for (const p of PHASES) {
    const a = rows[1].map((r) => r[p] ?? 0), b = rows[2].map((r) => r[p] ?? 0);
    phases[p] = {
      ms1: Number(median(a).toFixed(2)),
      ms2: Number(median(b).toFixed(2)),
      ratio: Number(median(a.map((x, j) => x / Math.max(b[j], 1e-9))).toFixed(3)),
    };
  }
  return { pairs, steps, phases, kernels, roundTripNs: trips };
}

function round2(x: number): number {
  return Number(x.toFixed(2));
}

childEntry(import.meta.url, runPhases);
