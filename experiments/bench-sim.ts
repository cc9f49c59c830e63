/**
 * Simulation part of the benchmark (run by experiments/bench.ts in a child process, or alone):
 *
 *   node --import tsx experiments/bench-sim.ts '{"backend":"wasm","threads":1}'
 *
 * The classic network simulator benchmark: 1000 Poisson inputs at 20 Hz drive 1000 LIF neurons
 * (τ = 20 ms, threshold 1, reset by subtraction) through an all-to-all projection (weights
 * uniform in ±1/√1000 × 4, so that the population fires), 10 s of biological time at dt = 1 ms
 * (10,000 steps), batch 1, through the engine's Network with the 'rate' encoder (P = 0.02 per
 * step). Prints one JSON line: wall seconds of the timed run (after a 1 s warm-up run) and the
 * CPU seconds the process used for it (the comparable figure on a shared machine), the
 * output population's mean rate in Hz, and the input rate measured.
 */
import { createBackend } from '../src/backend/registry.js';
import { createEncoder } from '../src/encoders.js';
import { Network } from '../src/engine/network.js';
import { SpikeCounter } from '../src/recorder.js';
import { Rng } from '../src/rng.js';

export interface SimResult {
  backend: string;
  threads: number;
  seconds: number;
  /** CPU seconds the process used for the timed run (below `seconds` when the machine is shared). */
  cpuSeconds: number;
  steps: number;
  outputRateHz: number;
}

export async function benchSimulation(backendName: 'reference' | 'wasm', threads: number, steps = 10_000): Promise<SimResult> {
  const backend = await createBackend(backendName, { threads });
  const N = 1000, dtMs = 1;
  const net = new Network(backend, {
    inputSize: N, dtMs, layers: [{ size: N, model: 'lif', params: { tauMs: 20, threshold: 1 }, weightScale: 4 }],
  }, new Rng(1));
  const enc = createEncoder('rate', { rng: new Rng(2), steps });
  enc.setInput(new Float32Array(N).fill(0.02), 1, N); // 20 Hz at 1 ms
  let cpu = 0;
  const run = (n: number, counter?: SpikeCounter): number => {
    net.reset(1);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    net.run({ steps: n, encoder: enc, ...(counter ? { recorder: counter } : {}) });
    const c = process.cpuUsage(c0);
    cpu = (c.user + c.system) / 1e6;
    return (performance.now() - t0) / 1000;
  };
  run(1000); // warm-up: 1 s of simulated time
  const seconds = run(steps);
  const cpuSeconds = cpu;
  const counter = new SpikeCounter();
  run(1000, counter);
  const spikes = counter.counts().find((c) => c.layer === 0);
  const total = spikes ? spikes.perNeuron.reduce((a, b) => a + b, 0) : 0;
  net.free();
  return { backend: backendName, threads, seconds, cpuSeconds, steps, outputRateHz: total / N / (1000 * dtMs / 1000) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const o = JSON.parse(process.argv[2] ?? '{}') as { backend?: 'reference' | 'wasm'; threads?: number; steps?: number };
  benchSimulation(o.backend ?? 'wasm', o.threads ?? 1, o.steps).then((r) => console.log(JSON.stringify(r)), (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
