/**
 * Benchmark of the CPU backends (`npm run bench`; not a timed test). Prints JSON to stdout and
 * writes it to runs/bench-<date>.json (or --out <path>).
 *
 *   npm run bench -- [--out runs/bench.json] [--reps 10] [--quick] [--no-train]
 *   npm run bench -- --profile [--out runs/profile.json]
 *   npm run bench -- --gpu [--quick] [--out runs/bench-gpu.json]
 *
 * --profile runs only the per-kernel profile (experiments/bench-profile.ts): where the time of a
 * mnist-lif training batch and of the simulation goes, per kernel and per group (propagation,
 * neuron step, surrogate, eligibility update, loss, optimiser, input encoding, JS glue), on wasm
 * with 1 and 2 threads; tables on stderr, JSON on stdout and in the output file. The profiler waits
 * for every call before the next (each call's time its own), which on two threads keeps the calling
 * thread's JavaScript from overlapping the worker; the two-thread run therefore also times the same
 * training unprofiled, with each kernel's milliseconds on the calling thread and on the worker
 * (WasmBackend.timeKernels): the thread time a split kernel costs.
 *
 * Kernels (reference, wasm with 1 thread, wasm with 2 threads; every wasm figure also as a ratio
 * to reference measured in the same run):
 *   - dense matmul GFLOP/s for 128x784x1000 and 256x1000x1000 (M x K x N), plus the transposed
 *     weight-update form xᵀ·g (784x128x1000, transA);
 *   - spike-driven propagation (spikeMatmul, B=128, 784 -> 1000) in synaptic events per second
 *     (events = non-zero inputs x outputs) at 2%, 10% and 30% input density;
 *   - the sparse outer-product weight update (spikeOuter, real-valued presynaptic values such as
 *     eligibility traces) at 10% and 25% non-zeros, in weight updates per second;
 *   - LIF neuron-steps per second (lifStep on [128, 1000]).
 * Each figure is the best of --reps timed repetitions after a warm-up (the machine may be shared
 * with other processes; the median is reported next to it, the load average before/after, and
 * the CPU time the process actually got per wall second: a 2-thread figure can only beat the
 * 1-thread one where that is well above 1).
 *
 * Simulation (section "simulation", experiments/bench-sim.ts), and when Brian2 is installed (optional,
 * Debian python3-brian) the same network in Brian2 (experiments/bench-brian2.py) with the ratio
 * (section "simulationVsBrian2").
 *
 * --gpu runs only the GPU comparison (gpuMain below): sigprop training samples/s on mnist-lif and on
 * the wide network 784-4096-4096-10 at batch 1024, on the gpu backend and on wasm (1 thread) in the
 * same run, and the LIF simulation at 10^5 neurons on both; with the adapter the gpu backend reports.
 * Where no GPU device is usable the gpu rows say why (available: false, reason).
 *
 * Training (section "training", see experiments/bench-train.ts): samples/s and peak RSS of spiking
 * sigprop and the BPTT baseline on 784-1000-10, LIF β = 0.95, T = 25, batch 128, rate-coded MNIST,
 * per backend and thread count, and peak RSS at T = 25 vs T = 400; each configuration runs in its
 * own child process so that its peak RSS is its own. Section "threadScaling"
 * (experiments/bench-threads.ts): two threads against one on the mnist-lif config in one process,
 * batches interleaved, the median ratio of adjacent batches (the thread target's figure), and on
 * Linux what two independent one-thread trainings get together on the same machine
 * (independentSpeedup: a companion process trains beside timed one-thread batches), the bound that
 * figure is read against, and the round trip of a cache line between the two cores (roundTripNs), which
 * tells where the host put them: on the project's 2-vCPU VM the speed-up followed it.
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { cpus, loadavg, availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/registry.js';
import { writeJsonAtomic } from '../src/io.js';
import { Rng } from '../src/rng.js';
import { GPU_TRAIN_CONFIGS, TRAIN_CONFIGS, type TrainResult } from './bench-train.js';
import type { ThreadScaling } from './bench-threads.js';

interface Args {
  out?: string;
  reps: number;
  quick: boolean;
  train: boolean;
  profile: boolean;
  gpu: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { reps: 10, quick: false, train: true, profile: false, gpu: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--out') a.out = argv[++i];
    else if (k === '--reps') a.reps = Math.max(1, Number(argv[++i]) | 0);
    else if (k === '--quick') a.quick = true;
    else if (k === '--no-train') a.train = false;
    else if (k === '--profile') a.profile = true;
    else if (k === '--gpu') a.gpu = true;
    else if (k === '--help' || k === '-h') {
      console.log('usage: npm run bench -- [--out file.json] [--reps N] [--quick] [--no-train] [--profile | --gpu]');
      process.exit(0);
    } else {
      console.error(`bench: unknown option ${k}; options: --out <file>, --reps <n>, --quick, --no-train, --profile, --gpu`);
      process.exit(2);
    }
  }
  if (a.quick) a.reps = Math.min(a.reps, 3);
  return a;
}

/**
 * Best and median seconds of `reps` runs of fn after `warm` untimed runs, and the CPU time the
 * process got per wall-clock second while timing (about 1 per busy thread on an idle machine;
 * lower when the OS shares the cores with other work, which caps any thread speed-up).
 */
function time(fn: () => void, reps: number, warm = 3): { best: number; median: number; cpuPerWall: number } {
  for (let i = 0; i < warm; i++) fn();
  const ts: number[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ts.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuPerWall = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
  ts.sort((x, y) => x - y);
  return { best: ts[0], median: ts[Math.floor(ts.length / 2)], cpuPerWall };
}

interface Figure {
  best: number;
  median: number;
  /** best / reference best (higher is better), absent for reference. */
  ratioToReference?: number;
  /** CPU seconds per wall-clock second while timing (see time()). */
  cpuPerWall: number;
}

type Backends = { label: string; backend: Backend }[];

const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

/** rate = work / seconds for every backend; ratio to the first (reference). */
function measure(
  backends: Backends, reps: number,
  setup: (b: Backend) => { run: () => void; work: number; done?: () => void },
): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  let refBest = 0;
  for (const { label, backend } of backends) {
    const { run, work, done } = setup(backend);
    const isRef = backend.name === 'reference';
    const t = time(run, isRef ? Math.min(reps, 3) : reps, isRef ? 1 : 3);
    done?.();
    const fig: Figure = { best: round(work / t.best), median: round(work / t.median), cpuPerWall: round(t.cpuPerWall, 3) };
    if (isRef) refBest = fig.best;
    else if (refBest > 0) fig.ratioToReference = round(fig.best / refBest, 3);
    out[label] = fig;
  }
  return out;
}

function randomTensor(b: Backend, shape: number[], rng: Rng, scale = 0.1) {
  const data = rng.fillNormal(new Float32Array(shape.reduce((p, d) => p * d, 1)), 0, scale);
  return b.fromArray(shape, data);
}

function benchMatmul(backends: Backends, reps: number, M: number, K: number, N: number, transA = false) {
  return measure(backends, reps, (b) => {
    const rng = new Rng(1);
    const a = randomTensor(b, transA ? [K, M] : [M, K], rng), w = randomTensor(b, [K, N], rng), c = b.tensor([M, N]);
    return { run: () => b.matmul(c, a, w, { transA }), work: (2 * M * K * N) / 1e9, done: () => [a, w, c].forEach((t) => b.free(t)) };
  });
}

function benchSpike(backends: Backends, reps: number, density: number) {
  const [B, K, N] = [128, 784, 1000];
  let events = 0;
  const fig = measure(backends, reps, (b) => {
    const rng = new Rng(2);
    const s = new Float32Array(B * K);
    let nnz = 0;
    for (let i = 0; i < s.length; i++) if (rng.uniform() < density) { s[i] = 1; nnz++; }
    events = nnz * N;
    const st = b.fromArray([B, K], s), w = randomTensor(b, [K, N], rng), o = b.tensor([B, N]);
    return { run: () => b.spikeMatmul(o, st, w), work: nnz * N, done: () => [st, w, o].forEach((t) => b.free(t)) };
  });
  return { density, batch: B, inputs: K, outputs: N, eventsPerCall: events, eventsPerSecond: fig };
}

/** Sparse outer-product weight update W += alpha·sᵀ·g over non-zero s (sigprop's local update). */
function benchOuter(backends: Backends, reps: number, density: number) {
  const [B, K, N] = [128, 784, 1000];
  const fig = measure(backends, reps, (b) => {
    const rng = new Rng(4);
    const s = new Float32Array(B * K);
    let nnz = 0;
    for (let i = 0; i < s.length; i++) if (rng.uniform() < density) { s[i] = rng.uniform(); nnz++; }
    const st = b.fromArray([B, K], s), g = randomTensor(b, [B, N], rng), w = b.tensor([K, N]);
    return { run: () => b.spikeOuter(w, st, g, 1e-3), work: nnz * N, done: () => [st, g, w].forEach((t) => b.free(t)) };
  });
  return { density, batch: B, inputs: K, outputs: N, valued: true, eventsPerSecond: fig };
}

function benchLif(backends: Backends, reps: number) {
  const [B, N] = [128, 1000];
  const p = { beta: 0.95, threshold: 1, reset: 'subtract' as const, resetDelay: true };
  const steps = 20;
  return measure(backends, reps, (b) => {
    const rng = new Rng(3);
    const u = b.tensor([B, N]), s = b.tensor([B, N]), i = randomTensor(b, [B, N], rng, 0.5);
    return {
      run: () => { for (let t = 0; t < steps; t++) b.lifStep(u, s, i, p); },
      work: B * N * steps,
      done: () => [u, s, i].forEach((t) => b.free(t)),
    };
  });
}

/**
 * CPU seconds per wall second that two busy threads of this process get for 0.5 s: about 2 on an
 * idle 2-core machine, about 1 when other work holds the second core (then no thread speed-up is
 * possible, whatever the kernels do).
 */
async function parallelCapacity(): Promise<number> {
  const spin = 'const t = Date.now(); let x = 0; while (Date.now() - t < 500) x += Math.sqrt(x + 1);';
  const worker = new Worker(spin, { eval: true });
  await new Promise((r) => worker.once('online', r));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const t = Date.now();
  let x = 0;
  while (Date.now() - t < 500) x += Math.sqrt(x + 1);
  await new Promise((r) => worker.once('exit', r));
  const c = process.cpuUsage(c0);
  return round((c.user + c.system) / 1000 / (performance.now() - t0), 3);
}

/**
 * experiments/bench-brian2.py with the first Python that imports brian2 ($BRIAN2_PYTHON, python3,
 * /usr/bin/python3); { available: false, reason } when none does (Brian2 is optional).
 */
function runBrian2(steps: number): { available: boolean; seconds?: number; reason?: string; [k: string]: unknown } {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'bench-brian2.py');
  const pythons = [process.env.BRIAN2_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const python = pythons.find((py) => spawnSync(py, ['-c', 'import brian2'], { encoding: 'utf8' }).status === 0);
  if (!python) return { available: false, reason: `brian2 not importable by ${pythons.join(', ')} (optional: apt-get install python3-brian)` };
  process.stderr.write(`bench: simulation brian2 (${python})\n`);
  const r = spawnSync(python, [script, JSON.stringify({ steps })], { encoding: 'utf8', timeout: 10 * 60 * 1000, cwd: tmpdir() });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status === 0 && line) return { available: true, python, ...(JSON.parse(line) as Record<string, unknown>) };
  return { available: false, reason: `brian2 run failed (${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}` };
}

/** Run one training configuration in a child process (its own peak RSS). */
function runTrainChild(cfg: Record<string, unknown>, quick: boolean): TrainResult {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'bench-train.ts');
  const res = spawnSync(process.execPath, ['--import', 'tsx', script, JSON.stringify({ ...cfg, quick })], {
    encoding: 'utf8',
    timeout: 15 * 60 * 1000,
    maxBuffer: 1 << 24,
  });
  const line = (res.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (res.status === 0 && line) return JSON.parse(line) as TrainResult;
  return {
    ...(cfg as object),
    available: false,
    reason: `child exited with ${res.status ?? res.signal}: ${(res.stderr || res.stdout || '').trim().split('\n').slice(-3).join(' | ')}`,
  } as TrainResult;
}

/** experiments/bench-threads.ts in its own child: 1 vs 2 threads on mnist-lif, batches interleaved. */
function runThreadsChild(quick: boolean): ThreadScaling {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'bench-threads.ts');
  process.stderr.write('bench: thread scaling (1 vs 2 threads, interleaved batches)\n');
  const res = spawnSync(process.execPath, ['--import', 'tsx', script, JSON.stringify({ preset: 'mnist-lif', pairs: 20, quick })], {
    encoding: 'utf8',
    timeout: 15 * 60 * 1000,
  });
  const line = (res.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (res.status === 0 && line) return JSON.parse(line) as ThreadScaling;
  return { preset: 'mnist-lif', steps: 25, available: false, reason: `child exited with ${res.status ?? res.signal}: ${(res.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
}

/** Ratios: each wasm row's samples/s to reference (same rule), and peak RSS at T = 400 vs T = 25. */
function summarizeTraining(rows: TrainResult[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const find = (rule: string, backend: string, threads: number, steps: number) =>
    rows.find((r) => r.available && !r.eligibility && !r.preset && r.rule === rule && r.backend === backend && r.threads === threads && r.steps === steps);
  for (const rule of ['sigprop', 'bptt']) {
    const ref = find(rule, 'reference', 1, 25);
    for (const threads of [1, 2]) {
      const w = find(rule, 'wasm', threads, 25);
      if (w?.samplesPerSecond && ref?.samplesPerSecond) {
        out[`${rule} wasm-${threads}thread samples/s ratio to reference`] = round(w.samplesPerSecond / ref.samplesPerSecond, 3);
      }
    }
    const t25 = find(rule, 'wasm', 1, 25), t400 = find(rule, 'wasm', 1, 400);
    if (t25?.peakRssMiB && t400?.peakRssMiB) {
      out[`${rule} peak RSS T=400 / T=25 (wasm, 1 thread)`] = round(t400.peakRssMiB / t25.peakRssMiB, 3);
    }
  }
  // the configuration whose accuracy RESULTS.md reports (issue 5: both figures side by side)
  const preset = (threads: number, steps: number) =>
    rows.find((r) => r.available && r.preset === 'mnist-lif' && r.threads === threads && r.steps === steps);
  for (const threads of [1, 2]) {
    const r = preset(threads, 25);
    if (r?.samplesPerSecond) out[`sigprop mnist-lif config wasm-${threads}thread samples/s`] = r.samplesPerSecond;
  }
  const p25 = preset(1, 25), p400 = preset(1, 400);
  if (p25?.peakRssMiB && p400?.peakRssMiB) {
    out['sigprop mnist-lif config peak RSS T=400 / T=25 (wasm, 1 thread)'] = round(p400.peakRssMiB / p25.peakRssMiB, 3);
  }
  return out;
}

/** --profile: the per-kernel profile on 1 and 2 threads, each in its own child process. */
function profileMain(args: Args, started: Date): void {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'bench-profile.ts');
  const loadBefore = loadavg();
  const runs = [1, 2].map((threads) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, JSON.stringify({ threads, batches: args.quick ? 3 : 8, simSteps: args.quick ? 2000 : 5000 })], {
      encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
    return line ? (JSON.parse(line) as Record<string, unknown>) : { threads, error: `child exited with ${r.status ?? r.signal}` };
  });
  const result = {
    benchmark: 'sigprop per-kernel profile',
    date: started.toISOString(),
    machine: { cores: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage1minBefore: round(loadBefore[0], 3), loadAverage1minAfter: round(loadavg()[0], 3) },
    units: {
      ms: 'wall milliseconds inside each kernel, summed over the profiled batches (training) or steps (simulation)', glueMs: 'wall time outside any kernel',
      threadTime: 'two threads: the same training without the profiler, ms a batch, and per kernel ms a batch on the calling thread (callerMs) and the workers (workerMs)',
    },
    runs,
  };
  console.log(JSON.stringify(result, null, 2));
  const out = args.out ?? join('runs', `profile-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeJsonAtomic(out, result);
  process.stderr.write(`bench: wrote ${out}\n`);
}

/** Run the simulation child (experiments/bench-sim.ts) with these settings; its JSON line, or the error. */
function runSimChild(o: { backend: string; threads: number; steps: number; neurons?: number }): Record<string, unknown> {
  process.stderr.write(`bench: simulation ${JSON.stringify(o)}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(fileURLToPath(new URL('.', import.meta.url)), 'bench-sim.ts'), JSON.stringify(o)], { encoding: 'utf8', timeout: 15 * 60 * 1000 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { ...o, error: (r.stderr || line || `exit ${r.status ?? r.signal}`).trim().slice(0, 300) };
  }
}

/** --gpu: the gpu backend against wasm (1 thread) on the same runs (issue 17's figures). */
function gpuMain(args: Args, started: Date): void {
  const loadBefore = loadavg();
  const training = GPU_TRAIN_CONFIGS.map((cfg) => {
    process.stderr.write(`bench: training ${JSON.stringify(cfg)}\n`);
    return runTrainChild({ ...cfg }, args.quick);
  });
  const steps = args.quick ? 200 : 1000;
  const simulation = (['gpu', 'wasm'] as const).map((backend) => runSimChild({ backend, threads: 1, steps, neurons: 100_000 }));
  const row = (backend: string, wide: boolean) => training.find((r) => r.backend === backend && !!r.hidden === wide);
  const ratio = (wide: boolean) => {
    const g = row('gpu', wide)?.samplesPerSecond, w = row('wasm', wide)?.samplesPerSecond;
    return g && w ? round(g / w, 3) : null;
  };
  const simG = simulation[0].seconds, simW = simulation[1].seconds;
  const result = {
    benchmark: 'sigprop gpu backend vs wasm',
    date: started.toISOString(),
    machine: { cores: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage1minBefore: round(loadBefore[0], 3), loadAverage1minAfter: round(loadavg()[0], 3) },
    device: training.find((r) => r.backend === 'gpu')?.device ?? training.find((r) => r.backend === 'gpu')?.reason ?? null,
    units: { samplesPerSecond: 'training samples per wall second (median batch)', simulation: `wall seconds for ${steps} steps of 1 ms, 1000 Poisson inputs into 10^5 LIF neurons, batch 1` },
    training,
    simulation,
    ratios: {
      'mnist-lif samples/s gpu / wasm': ratio(false),
      '784-4096-4096-10 batch 1024 samples/s gpu / wasm': ratio(true),
      'simulation 10^5 neurons wasm s / gpu s': typeof simG === 'number' && typeof simW === 'number' ? round(simW / simG, 3) : null,
    },
    targets: { 'wide network >= 10x faster on the gpu than on wasm': (ratio(true) ?? 0) >= 10 },
  };
  console.log(JSON.stringify(result, null, 2));
  const out = args.out ?? join('runs', `bench-gpu-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeJsonAtomic(out, result);
  process.stderr.write(`bench: wrote ${out}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  if (args.profile) return profileMain(args, started);
  if (args.gpu) return gpuMain(args, started);
  const ref = await createBackend('reference');
  const w1 = await createBackend('wasm', { threads: 1 });
  const w2 = await createBackend('wasm', { threads: 2 });
  const backends: Backends = [
    { label: 'reference', backend: ref },
    { label: 'wasm-1thread', backend: w1 },
    { label: 'wasm-2threads', backend: w2 },
  ];
  const loadBefore = loadavg();
  const capacityBefore = await parallelCapacity();
  const matmul = {
    '128x784x1000': benchMatmul(backends, args.reps, 128, 784, 1000),
    '256x1000x1000': benchMatmul(backends, args.reps, 256, 1000, 1000),
    '784x128x1000 transA (weight update xT.g)': benchMatmul(backends, args.reps, 784, 128, 1000, true),
  };
  const spike = [0.02, 0.1, 0.3].map((d) => benchSpike(backends, args.reps, d));
  const spikeOuter = [0.1, 0.25].map((d) => benchOuter(backends, args.reps, d));
  const lif = benchLif(backends, args.reps);
  const loadAfter = loadavg();
  const capacityAfter = await parallelCapacity();
  for (const b of [w1, w2]) await (b as { dispose?: () => Promise<void> }).dispose?.();

  const training = args.train
    ? TRAIN_CONFIGS.map((cfg) => {
        process.stderr.write(`bench: training ${JSON.stringify(cfg)}\n`);
        return runTrainChild({ ...cfg }, args.quick);
      })
    : 'skipped (--no-train)';

  const trainingSummary = Array.isArray(training) ? summarizeTraining(training) : training;
  // two threads against one in one process, batches interleaved (experiments/bench-threads.ts)
  const threadScaling = args.train ? runThreadsChild(args.quick) : 'skipped (--no-train)';
  // LIF simulation (experiments/bench-sim.ts), each in its own child: 1000 Poisson inputs at 20 Hz -> 1000 LIF, 10 s at 1 ms
  const simulation = (['wasm', 'reference'] as const).map((backend) => runSimChild({ backend, threads: 1, steps: args.quick ? 2000 : 10_000 }));
  // Brian2 side by side when installed (optional; Debian python3-brian): the same network, its default target
  const brian2 = runBrian2(args.quick ? 2000 : 10_000);
  const wasmSim = simulation.find((r) => r.backend === 'wasm') as { seconds?: number } | undefined;
  const simulationVsBrian2 =
    typeof brian2.seconds === 'number' && typeof wasmSim?.seconds === 'number'
      ? { brian2Seconds: brian2.seconds, wasmSeconds: wasmSim.seconds, 'brian2 / wasm (higher: wasm faster)': round(brian2.seconds / wasmSim.seconds, 3) }
      : brian2;
  const targets = {
    'matmul >= 20 GFLOP/s on one thread (128x784x1000)': (matmul['128x784x1000']['wasm-1thread'].best ?? 0) >= 20,
    'matmul >= 20 GFLOP/s on one thread (256x1000x1000)': (matmul['256x1000x1000']['wasm-1thread'].best ?? 0) >= 20,
    'spike propagation >= 2e9 events/s at 10% on one thread': (spike[1].eventsPerSecond['wasm-1thread'].best ?? 0) >= 2e9,
    ...(Array.isArray(training)
      ? (() => {
          const preset = (threads: number, steps: number) =>
            training.find((r) => r.available && r.preset === 'mnist-lif' && r.threads === threads && r.steps === steps);
          const one = preset(1, 25)?.samplesPerSecond ?? 0, two = preset(2, 25)?.samplesPerSecond ?? 0;
          const t400 = preset(1, 400), t25 = preset(1, 25);
          return {
            'sigprop training >= 1300 samples/s on one thread (issue 18; mnist-lif config, T = 25, batch 128)': one >= 1300,
            // the snnTorch figure the 1,300 is 5x of was measured with two threads
            'sigprop training >= 1300 samples/s on two threads (mnist-lif config, T = 25, batch 128)': two >= 1300,
            'sigprop training >= 65 samples/s at T = 400 (mnist-lif config, one thread)': (t400?.samplesPerSecond ?? 0) >= 65,
            'peak RSS at T = 400 <= 1.15x T = 25 (mnist-lif config)': !!(t400?.peakRssMiB && t25?.peakRssMiB && t400.peakRssMiB <= 1.15 * t25.peakRssMiB),
            // interleaved in one process (threadScaling); only meaningful when both cores were free
            // (threadScaling.twoThreadCpuPerWall and machine.twoThreadCpuPerWall near 2); read it
            // with threadScaling.roundTripNs, which tells where the host put the two cores
            'two threads >= 1.7x one thread (mnist-lif config)': typeof threadScaling === 'object' && (threadScaling.speedup ?? 0) >= 1.7,
          };
        })()
      : {}),
    'LIF simulation <= 0.25 s (wasm, 10 s at 1 ms)': (() => {
      const w = simulation.find((r) => r.backend === 'wasm') as { seconds?: number; steps?: number } | undefined;
      return !args.quick && typeof w?.seconds === 'number' && w.seconds <= 0.25;
    })(),
  };
  const result = {
    benchmark: 'sigprop backends',
    date: started.toISOString(),
    machine: {
      cores: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      loadAverage1minBefore: round(loadBefore[0], 3),
      loadAverage1minAfter: round(loadAfter[0], 3),
      /** CPU s per wall s two busy threads got (2 = both cores free), before and after the kernels. */
      twoThreadCpuPerWall: [capacityBefore, capacityAfter],
    },
    statistic: `best of ${args.reps} timed repetitions after warm-up (reference: best of ${Math.min(args.reps, 3)}); median alongside`,
    units: { simulation: 'wall seconds for the run (10 s of simulated time at dt 1 ms unless --quick: 2 s)', matmul: 'GFLOP/s (2·M·K·N)', spike: 'synaptic events/s', spikeOuter: 'weight updates/s (non-zero inputs × outputs)', lif: 'neuron-steps/s', roundTripNs: 'threadScaling: ns for a cache line to reach the other core and come back, before and after the timed pairs (where the host put the two cores)' },
    matmul,
    spike,
    spikeOuter,
    lif,
    training,
    trainingSummary,
    threadScaling,
    simulation,
    simulationVsBrian2,
    targets,
  };
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  const out = args.out ?? join('runs', `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeJsonAtomic(out, result);
  process.stderr.write(`bench: wrote ${out}\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
