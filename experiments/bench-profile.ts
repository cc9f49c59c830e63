/**
 * Per-kernel profile of the benchmark's two workloads (`npm run bench -- --profile`, or alone):
 *
 *   node --import tsx experiments/bench-profile.ts '{"threads":1,"batches":8}'
 *
 * - training: spiking sigprop with the mnist-lif settings (784-1000-10, LIF β = 0.95, T = 25,
 *   batch 128, rate-coded MNIST) on wasm, one warm-up batch, then `batches` profiled batches;
 * - simulation: experiments/bench-sim.ts's network (1000 Poisson inputs at 20 Hz → 1000 LIF, batch
 *   1) for `simSteps` steps after a warm-up.
 * Every backend call goes through the profiling wrapper (src/backend/profile.ts); the encoders'
 * host loops are timed as the entry 'encoder (host)'; what is left of the wall time is JS glue.
 * Prints the two tables to stderr and one JSON line to stdout. "clock": "cpu" times with the
 * process's CPU time instead of the wall clock (comparable figures on a busy machine; samples/s
 * are then per CPU second).
 */
import { createBackend } from '../src/backend/registry.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import { clockMs, formatProfile, profileBackend, type ProfileClock, type ProfileReport } from '../src/backend/profile.js';
import { BaseEncoder, createEncoder } from '../src/encoders.js';
import { Network } from '../src/engine/network.js';
import { Rng } from '../src/rng.js';
import type { ExperimentConfig } from '../src/config/types.js';

export interface ProfileResult {
  threads: number;
  /** 'wall' or 'cpu' (the process's CPU time; see src/backend/profile.ts). */
  clock: ProfileClock;
  training: {
    batches: number; batchSize: number; steps: number; msPerBatch: number; samplesPerSecond: number; profile: ProfileReport;
    /** threads > 1: per threaded kernel, calls split per batch and the share of their chunks the worker threads ran. */
    threadShare: { kernel: string; callsPerBatch: number; chunksPerCall: number; workerShare: number; waitMsPerBatch: number }[];
    /**
     * threads > 1: the same training run without the profiler's wait after each call (calls
     * overlapping as in training): the batch's wall time, then with every kernel timed on the thread
     * that ran it (WasmBackend.timeKernels), per kernel, milliseconds a batch on the calling thread
     * and on the workers. The sum over both is a kernel's thread time, to compare
     * with the one-thread profile's time for it; null on one thread.
     */
    threadTime: { batches: number; msPerBatch: number; samplesPerSecond: number; kernels: { kernel: string; callerMs: number; workerMs: number }[] } | null;
  };
  simulation: { steps: number; seconds: number; secondsPer10000Steps: number; profile: ProfileReport };
}

/** Time encoders' encode() (host loop and the write) as 'encoder (host)' of the profile. */
function wrapEncoders(section: <T>(name: string, fn: () => T) => T): () => void {
  const proto = BaseEncoder.prototype as unknown as { encode: (...a: unknown[]) => unknown };
  const original = proto.encode;
  proto.encode = function (this: unknown, ...a: unknown[]) {
    return section('encoder (host)', () => original.apply(this, a));
  };
  return () => {
    proto.encode = original;
  };
}

export async function profileRun(threads = 1, batches = 8, simSteps = 5000, clock: ProfileClock = 'wall'): Promise<ProfileResult> {
  const { createRule } = await import('../src/learning/index.js');
  const { resolveConfig } = await import('../src/config/resolve.js');
  const { getPreset } = await import('../src/config/presets.js');
  const { loadDataset } = await import('../src/data/index.js');
  const inner = (await createBackend('wasm', { threads })) as WasmBackend;
  const prof = profileBackend(inner, clock);
  const restore = wrapEncoders((name, fn) => prof.section(name, fn));
  try {
    const B = 128, T = 25;
    const raw: ExperimentConfig = {
      ...getPreset('mnist-lif'), dataset: 'mnist', layers: [{ size: 1000, model: 'lif', params: { beta: 0.95 } }, { size: 10 }],
      rule: 'sigprop', mode: 'spiking', steps: T, encoder: 'rate', batchSize: B, backend: 'wasm', threads, seed: 1,
    };
    const rule = createRule(resolveConfig(raw, 'bench'), { backend: prof.backend, rng: new Rng(1), inputSize: 784, numClasses: 10 });
    const data = loadDataset('mnist', { trainSize: B * (batches + 1), seed: 1 });
    const batch = (i: number) => [data.train.images.subarray(i * B * 784, (i + 1) * B * 784), data.train.labels.subarray(i * B, (i + 1) * B)] as const;
    rule.trainBatch(...batch(0));
    prof.reset();
    const statsBefore = new Map([...inner.threadStats()].map(([k, v]) => [k, { ...v }]));
    const t0 = clockMs(clock);
    for (let i = 1; i <= batches; i++) rule.trainBatch(...batch(i));
    const trainWall = clockMs(clock) - t0;
    const training = prof.report(trainWall);
    const threadShare = [...inner.threadStats()].map(([kernel, v]) => {
      const b = statsBefore.get(kernel) ?? { calls: 0, chunks: 0, workerChunks: 0, waitMs: 0 };
      const calls = v.calls - b.calls, chunks = v.chunks - b.chunks;
      return {
        kernel, callsPerBatch: calls / batches, chunksPerCall: chunks / Math.max(calls, 1), workerShare: (v.workerChunks - b.workerChunks) / Math.max(chunks, 1),
        waitMsPerBatch: (v.waitMs - b.waitMs) / batches,
      };
    }).filter((r) => r.callsPerBatch > 0);
    const threadTime = threads > 1 ? timeOnThreads(inner, prof, (i) => rule.trainBatch(...batch(1 + (i % batches))), batches, B) : null;
    rule.dispose?.();

    const N = 1000;
    const net = new Network(prof.backend, { inputSize: N, dtMs: 1, layers: [{ size: N, model: 'lif', params: { tauMs: 20, threshold: 1 }, weightScale: 4 }] }, new Rng(1));
    const enc = createEncoder('rate', { rng: new Rng(2), steps: simSteps });
    enc.setInput(new Float32Array(N).fill(0.02), 1, N);
    net.reset(1);
    net.run({ steps: 1000, encoder: enc });
    net.reset(1);
    prof.reset();
    const t1 = clockMs(clock);
    net.run({ steps: simSteps, encoder: enc });
    const simWall = clockMs(clock) - t1;
    const simulation = prof.report(simWall);
    net.free();
    await (inner as { dispose?: () => Promise<void> }).dispose?.();
    return {
      threads,
      clock,
      training: { batches, batchSize: B, steps: T, msPerBatch: trainWall / batches, samplesPerSecond: (B * batches) / (trainWall / 1000), profile: training, threadShare, threadTime },
      simulation: { steps: simSteps, seconds: simWall / 1000, secondsPer10000Steps: (simWall / 1000) * (10000 / simSteps), profile: simulation },
    };
  } finally {
    restore();
  }
}

/**
 * Batches of the profiled training run plainly (the profiler paused: no wait after each call, the
 * replayed blocks back): 30 batches first (V8 compiles the paths the profiler did not take), then
 * `batches` batches for the wall time, then `batches` more with every kernel timed on the thread
 * that ran it.
 */
function timeOnThreads(inner: WasmBackend, prof: { paused: boolean }, train: (i: number) => void, batches: number, B: number): NonNullable<ProfileResult['training']['threadTime']> {
  prof.paused = true;
  try {
    let i = 0;
    while (i < 30) train(i++);
    // the wall time without the kernels' timing (a clock read around every chunk), then the kernels' times
    const t0 = performance.now();
    while (i < 30 + batches) train(i++);
    const ms = (performance.now() - t0) / batches;
    inner.timeKernels = true;
    while (i < 30 + 2 * batches) train(i++);
    const kernels = [...inner.kernelTimes()]
      .map(([kernel, t]) => ({ kernel, callerMs: t.callerMs / batches, workerMs: t.workerMs / batches }))
      .sort((a, b) => b.callerMs + b.workerMs - (a.callerMs + a.workerMs));
    return { batches, msPerBatch: ms, samplesPerSecond: (B * 1000) / ms, kernels };
  } finally {
    inner.timeKernels = false;
    prof.paused = false;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const o = JSON.parse(process.argv[2] ?? '{}') as { threads?: number; batches?: number; simSteps?: number; clock?: ProfileClock };
  profileRun(o.threads ?? 1, o.batches ?? 8, o.simSteps ?? 5000, o.clock ?? 'wall').then(
    (r) => {
      process.stderr.write(`\ntraining (mnist-lif, wasm ${r.threads} thread(s), ${r.clock} clock): ${r.training.samplesPerSecond.toFixed(0)} samples/s, per batch of ${r.training.batchSize} (T = ${r.training.steps}):\n`);
      process.stderr.write(`${formatProfile(r.training.profile, r.training.batches, 'batch')}\n`);
      if (r.training.threadShare.length) {
        process.stderr.write(`\nsplit kernels (the workers' share of the chunks, ${((r.threads - 1) / r.threads).toFixed(2)} = an even split; the calling thread's wait for the workers' chunks: at once after its own, or for a call whose result is not read at once (ThreadPool.run's lazy) when the caller's chunks of the next call or a memory access need it complete):\n`);
        for (const t of r.training.threadShare) {
          process.stderr.write(
            `${t.kernel.padEnd(28)} ${t.callsPerBatch.toFixed(0).padStart(5)} calls/batch  ${t.chunksPerCall.toFixed(1).padStart(4)} chunks/call  worker share ${t.workerShare.toFixed(2)}  wait ${t.waitMsPerBatch.toFixed(2).padStart(5)} ms/batch\n`,
          );
        }
        const wait = r.training.threadShare.reduce((a, t) => a + t.waitMsPerBatch, 0);
        process.stderr.write(`${'all split kernels'.padEnd(28)} wait ${wait.toFixed(2)} ms/batch (${((100 * wait) / r.training.msPerBatch).toFixed(1)}% of the batch)\n`);
      }
      const tt = r.training.threadTime;
      if (tt) {
        // the profiled figures above include a wait after every call; these are the training's own
        const sum = tt.kernels.reduce((a, k) => a + k.callerMs + k.workerMs, 0);
        process.stderr.write(
          `\nthe same training unprofiled (calls overlapping as in training): ${tt.samplesPerSecond.toFixed(0)} samples/s, ${tt.msPerBatch.toFixed(2)} ms a batch; ` +
            `each kernel timed on the thread that ran it, ms a batch (compare "both" with the one-thread profile):\n`,
        );
        process.stderr.write(`${'kernel'.padEnd(28)} ${'caller'.padStart(8)} ${'workers'.padStart(8)} ${'both'.padStart(8)}\n`);
        for (const k of tt.kernels) {
          process.stderr.write(`${k.kernel.padEnd(28)} ${k.callerMs.toFixed(2).padStart(8)} ${k.workerMs.toFixed(2).padStart(8)} ${(k.callerMs + k.workerMs).toFixed(2).padStart(8)}\n`);
        }
        process.stderr.write(`${'all kernels'.padEnd(28)} ${''.padStart(8)} ${''.padStart(8)} ${sum.toFixed(2).padStart(8)} of ${(r.threads * tt.msPerBatch).toFixed(2)} thread-ms (${r.threads} threads × the batch)\n`);
      }
      process.stderr.write(`\nsimulation (1000 Poisson → 1000 LIF, batch 1): ${r.simulation.secondsPer10000Steps.toFixed(3)} s per 10 s simulated, per 1000 steps:\n`);
      process.stderr.write(`${formatProfile(r.simulation.profile, r.simulation.steps / 1000, '1k steps')}\n`);
      console.log(JSON.stringify(r));
    },
    (err) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exit(1);
    },
  );
}
