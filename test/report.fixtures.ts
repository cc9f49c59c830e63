/**
 * Synthetic report inputs for the report tests: a hand-simulated two-layer LIF (snnTorch Leaky,
 * reset by subtraction) recorded in input and target streams, before and after "training", plus
 * made-up epoch metrics and surrogate curves. No engine needed.
 */
import { Rng } from '../src/rng.js';
import { surrogateComparison } from '../surrogates/index.js';
import type { EpochMetrics, RunReportData, SurrogateAccuracyRow, SurrogateComparisonData, TraceRecording, TraceSet } from '../src/report/types.js';

/** Simulate one LIF neuron: U[t] = β U[t−1] + I[t] − S[t−1] θ; S[t] = U[t] > θ. */
export function lif(current: ArrayLike<number>, beta = 0.9, theta = 1): { u: Float32Array; s: Float32Array } {
  const T = current.length;
  const u = new Float32Array(T);
  const s = new Float32Array(T);
  let prevU = 0;
  let prevS = 0;
  for (let t = 0; t < T; t++) {
    const v = beta * prevU + current[t] - prevS * theta;
    u[t] = v;
    s[t] = v > theta ? 1 : 0;
    prevU = v;
    prevS = s[t];
  }
  return { u, s };
}

/** A TraceSet: 2 layers × `neurons` neurons × 2 samples × 2 streams, T steps; `gain` scales input. */
export function makeTraceSet(label: string, opts: { T?: number; neurons?: number; gain?: number; seed?: number; voltageNeurons?: number } = {}): TraceSet {
  const T = opts.T ?? 100;
  const neurons = opts.neurons ?? 20;
  const gain = opts.gain ?? 0.25;
  const rng = new Rng(opts.seed ?? 1);
  const recordings: TraceRecording[] = [];
  for (let layer = 0; layer < 2; layer++) {
    for (const sample of [0, 1]) {
      for (const stream of ['input', 'target'] as const) {
        for (let n = 0; n < neurons; n++) {
          const bias = gain * (0.3 + rng.uniform());
          const I = Float32Array.from({ length: T }, () => bias + 0.15 * (rng.uniform() - 0.5));
          const { u, s } = lif(I);
          if (n < (opts.voltageNeurons ?? 2)) recordings.push({ layer, var: 'u', neuron: n, sample, stream, values: u });
          recordings.push({ layer, var: 's', neuron: n, sample, stream, values: s });
        }
      }
    }
  }
  return {
    label,
    dtMs: 1,
    recordings,
    layers: { 0: { name: 'hidden0 (lif, 20)', threshold: 1, size: neurons }, 1: { name: 'hidden1 (lif, 20)', threshold: 1, size: neurons } },
    sampleLabels: { 0: 7, 1: 2 },
    samplePredictions: { 0: 7, 1: 3 },
  };
}

export function makeEpochs(n = 8): EpochMetrics[] {
  return Array.from({ length: n }, (_, i) => {
    const e = i + 1;
    return {
      epoch: e,
      trainLoss: 2.3 * Math.exp(-0.3 * e) + 0.2,
      testLoss: 2.3 * Math.exp(-0.27 * e) + 0.25,
      trainAccuracy: 0.95 - 0.6 * Math.exp(-0.5 * e),
      testAccuracy: 0.93 - 0.6 * Math.exp(-0.5 * e),
      layerLosses: [1.5 * Math.exp(-0.2 * e) + 0.3, 1.2 * Math.exp(-0.25 * e) + 0.2, 0.9 * Math.exp(-0.4 * e) + 0.1],
      layers: [0, 1, 2].map((l) => ({
        layer: l,
        label: l === 2 ? 'readout (10)' : `hidden${l} (lif, 500)`,
        weightNorm: 10 + l + 0.5 * e,
        firingRate: 0.1 + 0.02 * l + 0.005 * e,
        targetFiringRate: 0.12 + 0.02 * l + 0.004 * e,
      })),
      timeS: 12.5 + 0.1 * e,
      learningRate: 1e-3,
    };
  });
}

export function makeSurrogates(): SurrogateComparisonData {
  const x = Array.from({ length: 201 }, (_, i) => -2 + (4 * i) / 200);
  const sig = (k: number) => (v: number) => 1 / (1 + Math.exp(-k * v));
  const curves = [
    { name: 'sigmoid:k=5', f: x.map(sig(5)), df: x.map((v) => 5 * sig(5)(v) * (1 - sig(5)(v))) },
    { name: 'atan:alpha=2', f: x.map((v) => 0.5 + Math.atan((Math.PI / 2) * 2 * v) / Math.PI), df: x.map((v) => 1 / (1 + (Math.PI * v) ** 2)) },
    { name: 'fastSigmoid:k=25', f: x.map((v) => 0.5 * (25 * v) / (1 + 25 * Math.abs(v)) + 0.5), df: x.map((v) => 0.5 * 25 / (1 + 25 * Math.abs(v)) ** 2) },
  ];
  return { x, curves };
}

export function makeAccuracyRows(): SurrogateAccuracyRow[] {
  return [
    { surrogate: 'atan:alpha=2', seeds: [1, 2, 3], accuracies: [0.91, 0.92, 0.905], trainTimeS: 30 },
    { surrogate: 'fastSigmoid:k=25', seeds: [1, 2, 3], accuracies: [0.93, 0.925, 0.931], trainTimeS: 29 },
    { surrogate: 'sigmoid:k=5', seeds: [1], accuracyMean: 0.88, accuracyStd: 0, trainTimeS: 31.5 },
  ];
}

export function makeRunData(): RunReportData {
  return {
    title: 'fixture run',
    subtitle: 'sigprop · synthetic · reference backend',
    config: { name: 'fixture', dataset: 'mnist', rule: 'sigprop', layers: [{ size: 500, model: 'lif', params: { beta: 0.9 } }, { size: 10 }], record: { neurons: [0, 1, 2] }, steps: 25, learningRate: 0.001 },
    epochs: makeEpochs(),
    notes: ['Raw recordings: recordings.json in this folder.'],
    traces: [makeTraceSet('before training', { gain: 0.15 }), makeTraceSet('after training', { gain: 0.3, seed: 2 })],
    surrogates: surrogateComparison({ points: 201 }),
    surrogateAccuracy: makeAccuracyRows(),
  };
}
