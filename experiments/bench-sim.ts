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
  /** LIF neurons driven by the 1000 inputs (1000 in the classic benchmark). */
  neurons: number;
  /** The backend's own description where it has one (gpu: mode and adapter). */
  device?: string;
  seconds: number;
  /** CPU seconds the process used for the timed run (below `seconds` when the machine is shared). */
  cpuSeconds: number;
  steps: number;
  /** Mean output rate in Hz (null on a backend with asynchronous read-back, where the recorder cannot read each step). */
  outputRateHz: number | null;
}

/**
 * The benchmark network on `backendName`: 1000 inputs into `neurons` LIF neurons (1000 in the
 * classic form; the GPU section also runs 10^5). On a backend with asynchronous read-back the timed
 * run ends with a sync of the membrane, so that the time includes the device's work.
 */
export async function benchSimulation(backendName: 'reference' | 'wasm' | 'gpu', threads: number, steps = 10_000, neurons = 1000): Promise<SimResult> {
  const backend = await createBackend(backendName, { threads });
  const N = 1000, dtMs = 1;
  const net = new Network(backend, {
    inputSize: N, dtMs, layers: [{ size: neurons, model: 'lif', params: { tauMs: 20, threshold: 1 }, weightScale: 4 }],
  }, new Rng(1));
  const enc = createEncoder('rate', { rng: new Rng(2), steps });
  enc.setInput(new Float32Array(N).fill(0.02), 1, N); // 20 Hz at 1 ms
  let cpu = 0;
  const run = async (n: number, counter?: SpikeCounter): Promise<number> => {
    net.reset(1);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    net.run({ steps: n, encoder: enc, ...(counter ? { recorder: counter } : {}) });
    await backend.sync?.([net.layers[0].voltage()]);
    const c = process.cpuUsage(c0);
    cpu = (c.user + c.system) / 1e6;
    return (performance.now() - t0) / 1000;
  };
  await run(1000); // warm-up: 1 s of simulated time
  const seconds = await run(steps);
  const cpuSeconds = cpu;
  let outputRateHz: number | null = null;
  if (!backend.asyncReads) {
    const counter = new SpikeCounter();
    await run(1000, counter);
    const spikes = counter.counts().find((c) => c.layer === 0);
    const total = spikes ? spikes.perNeuron.reduce((a, b) => a + b, 0) : 0;
    outputRateHz = total / neurons / (1000 * dtMs / 1000);
  }
  net.free();
  const device = (backend as { describe?(): string }).describe?.();
  return { backend: backendName, threads, neurons, ...(device ? { device } : {}), seconds, cpuSeconds, steps, outputRateHz };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const o = JSON.parse(process.argv[2] ?? '{}') as { backend?: 'reference' | 'wasm' | 'gpu'; threads?: number; steps?: number; neurons?: number };
  benchSimulation(o.backend ?? 'wasm', o.threads ?? 1, o.steps, o.neurons).then((r) => {
    console.log(JSON.stringify(r));
    process.exit(0); // a device backend may hold the event loop open
  }, (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
