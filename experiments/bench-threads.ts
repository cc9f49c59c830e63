/**
 * Thread scaling of training, measured in one process (run by experiments/bench.ts):
 *
 *   node --import tsx experiments/bench-threads.ts '{"preset":"mnist-lif","pairs":20}'
 *
 * The same configuration (experiments/bench-train.ts) on two wasm backends, one thread and two
 * threads, in one process; their batches alternate (1T then 2T, then 2T then 1T, ...), so both see
 * the machine in the same state. On a shared virtual machine whose speed drifts by tens of percent
 * within seconds, separate runs of the two thread counts can differ more than the threads do; the
 * ratio of each adjacent pair of batches does not. Prints one JSON line: samples/s of each from its
 * median batch, the median of the per-pair ratios (two threads' speed-up), and the CPU seconds per
 * wall second the two-thread batches got (about 2 when both cores were free).
 *
 * What the machine gives two independent trainings (Linux): a companion child process trains the
 * same one-thread configuration in a loop, stopped (SIGSTOP) except while a third kind of batch is
 * timed, a one-thread batch with the companion running (SIGCONT). Two one-thread trainings side by
 * side then get 2 × (one-thread batch alone ÷ one-thread batch beside the companion) the speed of
 * one (`independentSpeedup`): no synchronisation and no shared data, only the shared caches,
 * memory and cores, so it bounds what any split of one training over two threads can reach here.
 * `ofIndependent` = speedup ÷ independentSpeedup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { roundTripNs } from './bench-coherence.js';
import { childEntry, setUpTrainer, type TrainConfig } from './bench-train.js';

export interface ThreadScaling {
  preset?: string;
  steps: number;
  available: boolean;
  reason?: string;
  pairs?: number;
  /** Untimed batch pairs (one of each thread count) before the timed ones (WARMUP_PAIRS). */
  warmupPairs?: number;
  samplesPerSecond1?: number;
  samplesPerSecond2?: number;
  /** Median over adjacent batch pairs of (1-thread batch time ÷ 2-thread batch time). */
  speedup?: number;
  /** The pairs' speed-ups, quartiles [25%, 50%, 75%]. */
  speedupQuartiles?: number[];
  /** CPU seconds per wall second of the median 2-thread batch (2 = both cores busy all along). */
  twoThreadCpuPerWall?: number;
  /**
   * Median over the pairs of 2 × (1-thread batch alone ÷ 1-thread batch while the companion process
   * trains): the speed two independent one-thread trainings get together, relative to one.
   */
  independentSpeedup?: number;
  /** speedup ÷ independentSpeedup: how much of what the machine gives two trainings the threads get. */
  ofIndependent?: number;
  /** Why independentSpeedup is missing (no companion process on this platform, or it failed). */
  independentReason?: string;
  /**
   * Nanoseconds for a cache line to go to the other core and back (bench-coherence.ts roundTripNs,
   * which has what it read on the project's VM and how the speed-up followed it), measured before
   * and after the timed pairs: where the host put the two cores. Two readings far apart mean the
   * host moved them during the pairs.
   */
  roundTripNs?: number[];
}

/**
 * Untimed pairs before the timed ones. V8 kept compiling (TurboFan, on background threads) for
 * about the first 50 batches of mnist-lif: 39, 12, 6, 18, 10, 3, 2, 2 functions per 10 batches
 * (node --trace-opt). A one-thread batch leaves the second core to those threads; a two-thread
 * batch loses one of its cores to them: over 40 batches after 4 of warm-up, the background threads
 * took 230 ms of CPU, after 60 batches 10-30 ms. With 2 warm-up pairs the two-thread speed-up read
 * 1.544-1.717 (median 1.623, 5 runs), with 40 pairs 1.686-1.819 (median 1.719, 5 runs), alternating,
 * on the code of 2026-12-03 (cb9bb90 in progress; experiments/RESULTS.md). 20 pairs (40 batches)
 * and the companion's own 40 keep the timed batches out of that phase; a training run is
 * thousands of batches.
 */
export const WARMUP_PAIRS = 20;

/**
 * The companion (Linux): a child process training the 1-thread configuration in a loop, which
 * prints "ready" after its warm-up batch; this process then stops it (SIGSTOP) and runs it only
 * while it times a batch beside it (SIGCONT).
 */
async function startCompanion(o: { preset?: string; steps: number; warmup: number }): Promise<ChildProcess | string> {
  if (process.platform !== 'linux') return `no companion process on ${process.platform} (SIGSTOP / SIGCONT)`;
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), JSON.stringify({ ...o, companion: true })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => (err += String(d)));
  return new Promise((resolve) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += String(d);
      if (out.includes('ready')) {
        child.kill('SIGSTOP');
        resolve(child);
      }
    });
    child.on('exit', (code, signal) => resolve(`companion exited (${code ?? signal}): ${err.trim().split('\n').slice(-2).join(' | ')}`));
  });
}

/** The companion's loop: its own warm-up (as many batches as the two trainers here together), then batch after batch until killed. */
async function companion(o: { preset?: string; steps: number; warmup: number }): Promise<never> {
  const t = await setUpTrainer({ purpose: 'throughput', rule: 'sigprop', backend: 'wasm', threads: 1, steps: o.steps, ...(o.preset ? { preset: o.preset } : {}) }, 20);
  if (!t.ok) throw new Error(t.reason);
  let i = 0;
  for (; i < 2 * o.warmup; i++) await t.train(i);
  process.stdout.write('ready\n');
  for (; ; i++) await t.train(i);
}

async function run(o: { preset?: string; steps?: number; pairs?: number; warmup?: number; quick?: boolean; companion?: boolean }): Promise<ThreadScaling> {
  const steps = o.steps ?? 25;
  const warmup = o.quick ? 2 : (o.warmup ?? WARMUP_PAIRS);
  if (o.companion) return companion({ ...(o.preset ? { preset: o.preset } : {}), steps, warmup });
  const pairs = o.quick ? 4 : (o.pairs ?? 20);
  const base: ThreadScaling = { ...(o.preset ? { preset: o.preset } : {}), steps, warmupPairs: warmup, available: false };
  const cfg = (threads: number): TrainConfig => ({ purpose: 'throughput', rule: 'sigprop', backend: 'wasm', threads, steps, ...(o.preset ? { preset: o.preset } : {}) });
  const one = await setUpTrainer(cfg(1), 20);
  if (!one.ok) return { ...base, reason: one.reason };
  const two = await setUpTrainer(cfg(2), 20);
  if (!two.ok) return { ...base, reason: two.reason };
  const time = async (t: typeof one, i: number) => {
    const c0 = process.cpuUsage(), t0 = performance.now();
    await t.train(i);
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
  };
  // warm-up (WARMUP_PAIRS): JIT compilation, allocation, the workers' first wake-up; the companion
  // warms up at the same time in its own process
  const compReady = startCompanion({ ...(o.preset ? { preset: o.preset } : {}), steps, warmup });
  for (let i = 0; i < warmup; i++) {
    await time(one, i);
    await time(two, i);
  }
  const comp = await compReady;
  // the companion is stopped: the two threads of the ping-pong have the cores
  const tripsBefore = await roundTripNs();
  const t1: number[] = [], t2: { wall: number; cpu: number }[] = [], tc: number[] = [];
  // a one-thread batch beside the running companion
  const beside = async (i: number) => {
    if (typeof comp === 'string' || comp.exitCode !== null || comp.signalCode !== null) return;
    comp.kill('SIGCONT');
    tc.push((await time(one, i)).wall);
    comp.kill('SIGSTOP');
  };
  try {
    for (let p = 0; p < pairs; p++) {
      if (p % 2 === 0) {
        t1.push((await time(one, p + 2)).wall);
        t2.push(await time(two, p + 2));
        await beside(p + 2);
      } else {
        await beside(p + 2);
        t2.push(await time(two, p + 2));
        t1.push((await time(one, p + 2)).wall);
      }
    }
  } finally {
    if (typeof comp !== 'string') comp.kill('SIGKILL');
  }
  const tripsAfter = await roundTripNs();
  await one.dispose();
  await two.dispose();
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
  const q = (a: number[], f: number) => sorted(a)[Math.min(a.length - 1, Math.floor(f * a.length))];
  const ratios = t1.map((v, i) => v / t2[i].wall);
  const mid2 = sorted(t2.map((t) => t.wall))[Math.floor(pairs / 2)];
  const at2 = t2.find((t) => t.wall === mid2) ?? t2[0];
  const r3 = (x: number) => Number(x.toFixed(3));
  return {
    ...base,
    available: true,
    pairs,
    samplesPerSecond1: Number((128 / q(t1, 0.5)).toPrecision(4)),
    samplesPerSecond2: Number((128 / mid2).toPrecision(4)),
    speedup: r3(q(ratios, 0.5)),
    speedupQuartiles: [0.25, 0.5, 0.75].map((f) => r3(q(ratios, f))),
    twoThreadCpuPerWall: r3(at2.cpu / at2.wall),
    roundTripNs: [tripsBefore, tripsAfter],
    ...(tc.length === pairs
      ? (() => {
          const independent = q(t1.map((v, i) => (2 * v) / tc[i]), 0.5);
          return { independentSpeedup: r3(independent), ofIndependent: r3(q(ratios, 0.5) / independent) };
        })()
      : { independentReason: typeof comp === 'string' ? comp : 'the companion process stopped early' }),
  };
}

childEntry(import.meta.url, run);
