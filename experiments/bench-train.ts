/**
 * Training part of the benchmark (run by experiments/bench.ts, one child process per
 * configuration so that each peak RSS is its own):
 *
 *   node --import tsx experiments/bench-train.ts '{"rule":"sigprop","backend":"wasm","threads":1,"steps":25}'
 *
 * Network 784-1000-10 (or the hidden sizes given), LIF β = 0.95, batch 128 (or the one given), rate-coded MNIST. Prints one JSON line:
 * samples/s from the median of up to 20 timed batches (after up to WARMUP_BATCHES warm-up batches; the mean too)
 * and the process's peak RSS.
 * When the rule (or its spiking mode) is not registered yet, it prints available: false with the
 * reason instead of a number.
 */
import { pathToFileURL } from 'node:url';
import type { ExperimentConfig } from '../src/config/types.js';

/** One training configuration of the benchmark. */
export interface TrainConfig {
  /** What the row measures. */
  purpose: 'throughput' | 'memory-vs-T';
  rule: 'sigprop' | 'bptt';
  backend: 'reference' | 'wasm' | 'gpu';
  threads: number;
  steps: number;
  /** Hidden layer sizes (default [1000]: 784-1000-10). */
  hidden?: number[];
  /** Batch size (default 128). */
  batch?: number;
  /** Sigprop eligibility ('trace' is the config default; 'instant' uses x[t] for e[t]). */
  eligibility?: 'trace' | 'instant';
  /**
   * Start from this named experiment (src/config/presets.ts) instead of the config defaults:
   * 'mnist-lif' is the configuration whose accuracy experiments/RESULTS.md reports, so its
   * samples/s stand beside that accuracy. Steps, backend, threads and batch still come from here.
   */
  preset?: string;
}

/** Result line of one child. */
export interface TrainResult extends TrainConfig {
  available: boolean;
  reason?: string;
  /** The backend's own description where it has one (gpu: mode and adapter). */
  device?: string;
  /** Batch size ÷ the median timed batch's wall time. */
  samplesPerSecond?: number;
  /**
   * Batch size ÷ the median batch's CPU seconds (process.cpuUsage: all threads): on a machine shared
   * with other work the comparable figure for one thread; with two threads it counts both.
   */
  samplesPerCpuSecond?: number;
  /** Timed batches × batch size ÷ their total wall time. */
  meanSamplesPerSecond?: number;
  timedBatches?: number;
  secondsTimed?: number;
  peakRssMiB?: number;
  lastLoss?: number;
}

/** Configurations measured by `npm run bench`. */
export const TRAIN_CONFIGS: TrainConfig[] = [
  ...(['sigprop', 'bptt'] as const).flatMap((rule) => [
    { purpose: 'throughput' as const, rule, backend: 'reference' as const, threads: 1, steps: 25 },
    { purpose: 'throughput' as const, rule, backend: 'wasm' as const, threads: 1, steps: 25 },
    { purpose: 'throughput' as const, rule, backend: 'wasm' as const, threads: 2, steps: 25 },
  ]),
  { purpose: 'throughput', rule: 'sigprop', backend: 'wasm', threads: 1, steps: 25, eligibility: 'instant' },
  { purpose: 'throughput', rule: 'sigprop', backend: 'wasm', threads: 1, steps: 25, preset: 'mnist-lif' },
  { purpose: 'throughput', rule: 'sigprop', backend: 'wasm', threads: 2, steps: 25, preset: 'mnist-lif' },
  { purpose: 'memory-vs-T', rule: 'sigprop', backend: 'wasm', threads: 1, steps: 400, preset: 'mnist-lif' },
  { purpose: 'memory-vs-T', rule: 'sigprop', backend: 'wasm', threads: 1, steps: 400 },
  { purpose: 'memory-vs-T', rule: 'bptt', backend: 'wasm', threads: 1, steps: 400 },
];

/**
 * GPU configurations (`npm run bench -- --gpu`): sigprop on mnist-lif, and on the wide network
 * 784-4096-4096-10 with batch 1024, each on the gpu backend and on wasm (1 thread) in the same run.
 */
export const GPU_TRAIN_CONFIGS: TrainConfig[] = (['gpu', 'wasm'] as const).flatMap((backend) => [
  { purpose: 'throughput' as const, rule: 'sigprop' as const, backend, threads: 1, steps: 25, preset: 'mnist-lif' },
  { purpose: 'throughput' as const, rule: 'sigprop' as const, backend, threads: 1, steps: 25, preset: 'mnist-lif', hidden: [4096, 4096], batch: 1024 },
]);

/** A rule set up on its backend for one configuration, or why it is not available. */
export type Trainer =
  | {
    ok: true; device?: string; backend: import('../src/backend/backend.js').Backend; rule: import('../src/learning/rule.js').TrainingRule;
    train(i: number): Promise<{ loss: number }>; dispose(): Promise<void>;
  }
  | { ok: false; reason: string };

/**
 * Build the configuration's rule on its own backend, with `batches` distinct batches of rate-coded
 * MNIST (batch i of train(i) cycles through them). The rule, the network and the data are the
 * same for every thread count.
 */
export async function setUpTrainer(cfg: TrainConfig, batches: number): Promise<Trainer> {
  const BATCH = cfg.batch ?? 128;
  let learning: typeof import('../src/learning/index.js');
  let resolveConfig: typeof import('../src/config/resolve.js').resolveConfig;
  try {
    learning = await import('../src/learning/index.js');
    resolveConfig = (await import('../src/config/resolve.js')).resolveConfig;
  } catch (err) {
    return { ok: false, reason: `trainers not importable: ${err instanceof Error ? err.message : String(err)}` };
  }
  const { createBackend } = await import('../src/backend/registry.js');
  const { loadDataset } = await import('../src/data/index.js');
  const { Rng } = await import('../src/rng.js');

  const { getPreset } = await import('../src/config/presets.js');
  const raw: ExperimentConfig = {
    ...(cfg.preset ? getPreset(cfg.preset) : {}),
    dataset: 'mnist',
    layers: [...(cfg.hidden ?? [1000]).map((size) => ({ size, model: 'lif', params: { beta: 0.95 } })), { size: 10 }],
    rule: cfg.rule,
    mode: 'spiking',
    steps: cfg.steps,
    encoder: 'rate',
    batchSize: BATCH,
    backend: cfg.backend,
    threads: cfg.threads,
    seed: 1,
    ...(cfg.eligibility ? { eligibility: cfg.eligibility } : {}),
  };
  let backend: import('../src/backend/backend.js').Backend;
  try {
    backend = await createBackend(cfg.backend, { threads: cfg.threads });
  } catch (err) {
    return { ok: false, reason: `backend not available: ${err instanceof Error ? err.message : String(err)}` };
  }
  const device = (backend as { describe?(): string }).describe?.();
  let rule: import('../src/learning/rule.js').TrainingRule;
  try {
    const config = resolveConfig(raw, 'bench');
    rule = learning.createRule(config, { backend, rng: new Rng(1), inputSize: 784, numClasses: 10 });
  } catch (err) {
    return { ok: false, reason: `rule not available: ${err instanceof Error ? err.message : String(err)}` };
  }
  const data = loadDataset('mnist', { trainSize: BATCH * batches, seed: 1 });
  const x = data.train.images, y = data.train.labels;
  const batch = (i: number) => {
    const lo = (i % Math.floor(data.train.n / BATCH)) * BATCH;
    return [x.subarray(lo * 784, (lo + BATCH) * 784), y.subarray(lo, lo + BATCH)] as const;
  };
  return {
    ok: true,
    ...(device ? { device } : {}),
    backend,
    rule,
    train: (i) => learning.trainOn(rule, backend, ...batch(i)), // trainBatchAsync where reads are asynchronous
    dispose: async () => {
      rule.dispose?.();
      await (backend as { dispose?(): Promise<void> }).dispose?.();
    },
  };
}

/**
 * Untimed batches before the timed ones, at most (a slow configuration stops at WARMUP_S seconds).
 * V8 compiles the training loop's functions (TurboFan, on background threads) over about the first
 * 50 batches of mnist-lif; a two-thread run has no core free for those threads. See
 * experiments/bench-threads.ts WARMUP_PAIRS.
 */
export const WARMUP_BATCHES = 40;
export const WARMUP_S = 4;

async function runChild(cfg: TrainConfig & { quick?: boolean }): Promise<TrainResult> {
  const BATCH = cfg.batch ?? 128;
  const base: TrainResult = {
    purpose: cfg.purpose, rule: cfg.rule, backend: cfg.backend, threads: cfg.threads, steps: cfg.steps,
    ...(cfg.hidden ? { hidden: cfg.hidden } : {}), ...(cfg.batch ? { batch: cfg.batch } : {}),
    ...(cfg.eligibility ? { eligibility: cfg.eligibility } : {}), ...(cfg.preset ? { preset: cfg.preset } : {}), available: false,
  };
  const wide = BATCH * (cfg.hidden ?? [1000]).reduce((a, b) => a + b, 0) > 128 * 4000;
  const maxBatches = cfg.quick ? 2 : cfg.steps > 100 || wide ? 3 : 20;
  const budgetS = cfg.quick ? 3 : 30;
  const trainer = await setUpTrainer(cfg, maxBatches + 1);
  if (!trainer.ok) return { ...base, reason: trainer.reason };
  if (trainer.device) base.device = trainer.device;
  const train = trainer.train;
  // warm-up (JIT, allocation, kernel compilation): WARMUP_BATCHES or WARMUP_S, whichever ends first
  let r = await train(0);
  const w0 = performance.now();
  for (let i = 1; !cfg.quick && i < WARMUP_BATCHES && performance.now() - w0 < WARMUP_S * 1000; i++) r = await train(i);
  const t0 = performance.now();
  const times: number[] = [], cpuTimes: number[] = [];
  while (times.length < maxBatches && (times.length === 0 || (performance.now() - t0) / 1000 < budgetS)) {
    const cb = process.cpuUsage();
    const tb = performance.now();
    r = await train(times.length + 1);
    times.push((performance.now() - tb) / 1000);
    const c = process.cpuUsage(cb);
    cpuTimes.push((c.user + c.system) / 1e6);
  }
  const n = times.length;
  const secs = (performance.now() - t0) / 1000;
  // the median batch time: robust to a batch slowed by another process on a shared machine
  const median = [...times].sort((a, b) => a - b)[Math.floor(n / 2)];
  await trainer.dispose();
  return {
    ...base,
    available: true,
    samplesPerSecond: Number((BATCH / median).toPrecision(4)),
    samplesPerCpuSecond: Number((BATCH / [...cpuTimes].sort((a, b) => a - b)[Math.floor(n / 2)]).toPrecision(4)),
    meanSamplesPerSecond: Number(((n * BATCH) / secs).toPrecision(4)),
    timedBatches: n,
    secondsTimed: Number(secs.toFixed(2)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    lastLoss: r.loss,
  };
}

/**
 * A benchmark child's entry: when the script at `moduleUrl` is the one node was started with (not
 * when another script imports it) and its argument is one JSON object, run `run` on it and print the
 * result as one JSON line; exit 1 with the error on failure.
 */
export function childEntry<T>(moduleUrl: string, run: (arg: T) => Promise<unknown>): void {
  if (!process.argv[2]?.startsWith('{') || moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  run(JSON.parse(process.argv[2]) as T)
    .then((res) => {
      console.log(JSON.stringify(res));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exit(1);
    });
}

childEntry(import.meta.url, runChild);
