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
 */
import { childEntry, setUpTrainer, type TrainConfig } from './bench-train.js';

export interface ThreadScaling {
  preset?: string;
  steps: number;
  available: boolean;
  reason?: string;
  pairs?: number;
  samplesPerSecond1?: number;
  samplesPerSecond2?: number;
  /** Median over adjacent batch pairs of (1-thread batch time ÷ 2-thread batch time). */
  speedup?: number;
  /** The pairs' speed-ups, quartiles [25%, 50%, 75%]. */
  speedupQuartiles?: number[];
  /** CPU seconds per wall second of the median 2-thread batch (2 = both cores busy all along). */
  twoThreadCpuPerWall?: number;
}

async function run(o: { preset?: string; steps?: number; pairs?: number; quick?: boolean }): Promise<ThreadScaling> {
  const steps = o.steps ?? 25;
  const pairs = o.quick ? 4 : (o.pairs ?? 20);
  const base: ThreadScaling = { ...(o.preset ? { preset: o.preset } : {}), steps, available: false };
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
  // warm-up: JIT, allocation, the workers' first wake-up
  for (let i = 0; i < 2; i++) {
    await time(one, i);
    await time(two, i);
  }
  const t1: number[] = [], t2: { wall: number; cpu: number }[] = [];
  for (let p = 0; p < pairs; p++) {
    if (p % 2 === 0) {
      t1.push((await time(one, p + 2)).wall);
      t2.push(await time(two, p + 2));
    } else {
      t2.push(await time(two, p + 2));
      t1.push((await time(one, p + 2)).wall);
    }
  }
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
  };
}

childEntry(import.meta.url, run);
