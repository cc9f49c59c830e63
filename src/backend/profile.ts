/**
 * A profiling Backend: wraps any backend and times every kernel call by name (wall time and call
 * count), so that a benchmark can say where a training step's time goes. The wrapper adds one
 * `performance.now()` pair per call (well under a microsecond) and changes no result: every call
 * goes to the wrapped backend with the same arguments, and a kernel calling another kernel of its
 * own backend internally is timed once, as the outer call. Where the backend's calls return before
 * their work completes (wasm with worker threads: deferred calls, ThreadPool.deferLazy), each timed
 * call then waits for its own work (the backend's `settle()`), so its time is its own and not the
 * next call's; a profiled run overlaps the JavaScript with the workers less than an unprofiled one.
 *
 *   const prof = profileBackend(await createBackend('wasm', { threads: 1 }));
 *   const rule = createRule(config, { backend: prof.backend, ... });
 *   prof.reset(); const t0 = performance.now(); rule.trainBatch(x, y); const wall = performance.now() - t0;
 *   console.log(formatProfile(prof.report(wall)));   // per kernel, per group, and the JS-glue remainder
 */
import type { Backend } from './backend.js';

/** Time and calls of one kernel name. */
export interface KernelTime {
  kernel: string;
  /** What the kernel does in a training step (see KERNEL_GROUPS). */
  group: string;
  calls: number;
  /** Milliseconds inside the kernel. */
  ms: number;
  /** Share of the wall time measured around the profiled work (0..1). */
  share: number;
}

/** A profile: kernels sorted by time, groups, and the remainder outside any kernel. */
export interface ProfileReport {
  /** Wall milliseconds of the profiled work (given to report()). */
  wallMs: number;
  /** Milliseconds inside backend kernels (sum over kernels). */
  kernelMs: number;
  /** wallMs − kernelMs: JavaScript between kernel calls (encoders, hooks, engine, bookkeeping). */
  glueMs: number;
  kernels: KernelTime[];
  groups: { group: string; calls: number; ms: number; share: number }[];
}

/**
 * What each kernel name stands for in a spiking training step. A name used in several roles
 * (axpby: eligibility traces, spike counts, readout sums) is labelled by its main role.
 */
export const KERNEL_GROUPS: Readonly<Record<string, string>> = {
  spikeMatmul: 'propagation', spikeMatmulDiff: 'propagation', matmul: 'propagation', delayedSpikeMatmul: 'propagation', addRow: 'propagation',
  lifStep: 'neuron step', synapticStep: 'neuron step', leakyStep: 'neuron step', izhikevichStep: 'neuron step', adexStep: 'neuron step',
  elementwise: 'neuron step', lifStepFused: 'neuron step (fused)', synapticStepFused: 'neuron step (fused)',
  surrogate: 'surrogate', gateBelow: 'surrogate', gradTail: 'gradient tail (fused)',
  spikeOuter: 'eligibility update (outer product)', delayedOuter: 'eligibility update (outer product)', sumRows: 'eligibility update (outer product)',
  eligibilityStep: 'eligibility update (outer product)', eligibilityFlush: 'eligibility update (outer product)',
  axpby: 'traces and accumulators (axpby)', mul: 'masks (mul)', dropoutMask: 'masks (dropout draws)', copy: 'copies', copySlice: 'copies', fill: 'fills', fillRows: 'fills',
  softmaxCrossEntropy: 'loss', softmaxRows: 'loss', normalizeRows: 'loss', normalizeRowsBackward: 'loss', l2PairLoss: 'loss', transpose: 'loss',
  activation: 'loss', addScalar: 'loss', similarityLogits: 'loss', similarityBackward: 'loss', fusesSimilarity: 'loss',
  sgdStep: 'optimiser', momentumStep: 'optimiser', adamStep: 'optimiser',
  read: 'host transfer', write: 'host transfer', sum: 'host transfer', sumSquares: 'host transfer',
  rateSpikes: 'input encoding', 'encoder (host)': 'input encoding',
  tensor: 'allocation', fromArray: 'allocation', free: 'allocation',
};

/** A profiling wrapper around `inner` (see the file comment). */
export interface ProfiledBackend {
  /** Use this backend in place of the wrapped one. */
  readonly backend: Backend;
  /** The wrapped backend. */
  readonly inner: Backend;
  /** Forget the times and counts so far. */
  reset(): void;
  /**
   * While true, every call goes straight to the wrapped backend: not timed, no wait after it, and
   * the backend's replayed blocks available (as in a run without the profiler), so that batches of
   * one training can be profiled and run plainly in turn (experiments/bench-profile.ts times a
   * two-thread backend's kernels on its own threads that way). False by default.
   */
  paused: boolean;
  /** The profile of the calls since the last reset, against `wallMs` measured around them (with the same clock). */
  report(wallMs: number): ProfileReport;
  /**
   * Time fn as one entry `name` (host work such as an encoder's loop); backend calls inside it
   * count towards this entry, not their own.
   */
  section<T>(name: string, fn: () => T): T;
}

/**
 * The clock of a profile: 'wall' (performance.now(), the default) or 'cpu' (the process's CPU time,
 * process.cpuUsage(): on a machine shared with other work it counts only the time this process ran,
 * so figures from a busy machine stay comparable; with worker threads it adds their CPU time).
 */
export type ProfileClock = 'wall' | 'cpu';

/** Milliseconds of the chosen clock. */
export function clockMs(clock: ProfileClock): number {
  if (clock === 'wall') return performance.now();
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

export function profileBackend(inner: Backend, clock: ProfileClock = 'wall'): ProfiledBackend {
  const now = clock === 'wall' ? () => performance.now() : () => clockMs('cpu');
  const settle = (inner as { settle?: () => void }).settle?.bind(inner);
  const times = new Map<string, { calls: number; ms: number }>();
  let depth = 0;
  const wrapped = new Map<PropertyKey, unknown>();
  const plain = new Map<PropertyKey, unknown>();
  let paused = false;
  const backend = new Proxy(inner, {
    get(target, prop, receiver) {
      if (paused) {
        // the wrapped backend's own method, called on it (not through this proxy)
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function' || prop === 'constructor') return v;
        let b = plain.get(prop);
        if (!b) plain.set(prop, (b = (v as (...a: unknown[]) => unknown).bind(target)));
        return b;
      }
      // no replayed blocks (Backend.replayable): a profiled run makes every call, timed by kernel
      if (prop === 'replayable') return undefined;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || prop === 'constructor') return v;
      let w = wrapped.get(prop);
      if (!w) {
        const name = String(prop);
        const fn = v as (...a: unknown[]) => unknown;
        w = function profiled(...args: unknown[]): unknown {
          if (depth > 0) return fn.apply(target, args);
          depth++;
          const t0 = now();
          try {
            const r = fn.apply(target, args);
            settle?.();
            return r;
          } finally {
            const dt = now() - t0;
            depth--;
            add(name, dt);
          }
        };
        wrapped.set(prop, w);
      }
      return w;
    },
  }) as Backend;
  const add = (name: string, dt: number): void => {
    let e = times.get(name);
    if (!e) times.set(name, (e = { calls: 0, ms: 0 }));
    e.calls++;
    e.ms += dt;
  };
  return {
    backend,
    inner,
    reset: () => times.clear(),
    get paused() {
      return paused;
    },
    set paused(on: boolean) {
      paused = on;
    },
    section<T>(name: string, fn: () => T): T {
      if (depth > 0 || paused) return fn();
      depth++;
      const t0 = now();
      try {
        return fn();
      } finally {
        depth--;
        add(name, now() - t0);
      }
    },
    report(wallMs: number): ProfileReport {
      const kernels: KernelTime[] = [...times.entries()]
        .map(([kernel, e]) => ({ kernel, group: KERNEL_GROUPS[kernel] ?? 'other', calls: e.calls, ms: e.ms, share: wallMs > 0 ? e.ms / wallMs : 0 }))
        .sort((a, b) => b.ms - a.ms);
      const kernelMs = kernels.reduce((s, k) => s + k.ms, 0);
      const byGroup = new Map<string, { calls: number; ms: number }>();
      for (const k of kernels) {
        const g = byGroup.get(k.group) ?? { calls: 0, ms: 0 };
        g.calls += k.calls;
        g.ms += k.ms;
        byGroup.set(k.group, g);
      }
      const groups = [...byGroup.entries()]
        .map(([group, g]) => ({ group, calls: g.calls, ms: g.ms, share: wallMs > 0 ? g.ms / wallMs : 0 }))
        .sort((a, b) => b.ms - a.ms);
      const glueMs = Math.max(0, wallMs - kernelMs);
      groups.push({ group: 'JS glue (outside kernels)', calls: 0, ms: glueMs, share: wallMs > 0 ? glueMs / wallMs : 0 });
      return { wallMs, kernelMs, glueMs, kernels, groups };
    },
  };
}

/** The profile as two text tables (groups, then kernels), times per `per` units of work (e.g. per batch). */
export function formatProfile(r: ProfileReport, per = 1, unit = 'call'): string {
  const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
  const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
  const row = (name: string, calls: number, ms: number, share: number) =>
    `${pad(name, 40)} ${lpad(calls ? (calls / per).toFixed(calls / per < 10 ? 1 : 0) : '', 9)} ${lpad((ms / per).toFixed(2), 10)} ${lpad((100 * share).toFixed(1), 6)}`;
  const head = `${pad('', 40)} ${lpad(`calls/${unit}`, 9)} ${lpad(`ms/${unit}`, 10)} ${lpad('%', 6)}`;
  const lines = [head.replace(pad('', 40), pad('group', 40))];
  for (const g of r.groups) lines.push(row(g.group, g.calls, g.ms, g.share));
  lines.push(row('total', 0, r.wallMs, 1));
  lines.push('', head.replace(pad('', 40), pad('kernel', 40)));
  for (const k of r.kernels) lines.push(row(k.kernel, k.calls, k.ms, k.share));
  return lines.join('\n');
}
