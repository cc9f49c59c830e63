/**
 * Recording a reconstructed network for the traces report: rebuild the spiking network from
 * checkpoint tensors ('layer<i>.W' [in, out], 'layer<i>.b', spiking sigprop's 'readout.W'), run
 * samples and their sigprop target signals through it, and collect voltages, spikes and the
 * encoded input as a TraceSet. Used by writeTracesReport (src/report/inspect.ts).
 *
 * For sigprop the target stream runs too: the class signal t0 = sigmoid(S[c] + d) of each
 * sample's label (tensors 'target.W' [classes, inputSize] and 'target.b') is appended to the
 * batch, so rows [0, n) are the samples (input stream h) and rows [n, 2n) their targets (target
 * stream t). Both streams are encoded with the same encoder and seed.
 */
import type { Backend } from '../backend/backend.js';
import { createEncoder, parseEncoderSpec } from '../encoders.js';
import { Network, type StepInput } from '../engine/network.js';
import { ParameterError } from '../errors.js';
import { Recorder, type RecordSpec, type Trace } from '../recorder.js';
import { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import type { TraceLayerInfo, TraceRecording, TraceSet } from './types.js';

/** Voltage units of models whose voltage is not dimensionless. */
const VOLTAGE_UNITS: Record<string, string> = { izhikevich: 'mV', adex: 'mV' };

/** What to record. */
export interface InspectRecordSpec {
  /** Layer indices (default: every reconstructed layer). */
  layers?: number[];
  /** Neurons whose voltage is traced, in every layer (default config.record.neurons, else `neuronsByLayer`, else [0, 1, 2]). */
  neurons?: number[];
  /** Neurons traced per layer index when `neurons` is not given (e.g. from chooseTraceNeurons). */
  neuronsByLayer?: Record<number, number[]>;
  /** Spikes of the first N neurons of each layer go into the raster (default 100). */
  rasterNeurons?: number;
  /** Record the encoded input spikes too (default true; skipped for current inputs such as 'direct'). */
  input?: boolean;
  /** Input channels shown in the input raster (default: all up to 1024). */
  inputChannels?: number;
}

/** Samples to run: rows of x [n, inputSize] with their labels. */
export interface InspectSamples {
  x: Float32Array;
  labels: ArrayLike<number>;
  /** Dataset indices (for titles); default 0..n−1. */
  ids?: number[];
}

/** Options of recordNetworkTraces. */
export interface RecordNetworkOptions {
  samples: InspectSamples;
  /** Target-stream inputs [n, inputSize] (sigprop t0 per sample), or none. */
  targetX?: Float32Array;
  steps: number;
  /** Encoder spec, e.g. 'rate' or 'rate:gain=1'. */
  encoder: string;
  encoderParams?: Record<string, number>;
  /** Seed of the encoder's random stream (same seed → same input spikes). */
  seed: number;
  record?: InspectRecordSpec;
  label: string;
  /** Predicted class per sample (titles). */
  predictions?: ArrayLike<number>;
}

/** Per-layer facts for the figures, from the live network. */
export function layerInfoOf(net: Network): Record<number, TraceLayerInfo> {
  const out: Record<number, TraceLayerInfo> = {};
  net.layers.forEach((l, i) => {
    const m = l.model as { name: string; threshold?: (p: unknown) => number };
    const theta = m.threshold ? m.threshold(l.params) : undefined;
    if (l.name === 'readout' && m.name === 'li') {
      out[i] = { name: `readout (leaky integrator, ${l.size})`, kind: 'readout', voltageUnit: 'a.u.', size: l.size };
      return;
    }
    out[i] = {
      name: `${l.name} (${m.name}, ${l.size})`,
      threshold: theta,
      voltageUnit: VOLTAGE_UNITS[m.name] ?? 'a.u.',
      size: l.size,
    };
  });
  return out;
}

/**
 * Convert recorder traces (batch rows) into report recordings: rows [0, n) are the input stream,
 * rows [n, 2n) the target stream of the same samples (when `hasTarget`).
 */
export function tracesToRecordings(traces: readonly Trace[], n: number, hasTarget: boolean): TraceRecording[] {
  return traces.map((tr) => {
    const target = hasTarget && tr.sample >= n;
    return { layer: tr.layer, var: tr.var, neuron: tr.neuron, sample: target ? tr.sample - n : tr.sample, stream: target ? 'target' : 'input', values: tr.values };
  });
}

/**
 * Run the samples (and target rows) through `net` for `steps` steps from rest and record
 * voltages of the chosen neurons and spikes of the raster neurons, plus the encoded input spikes
 * (layer INPUT_LAYER = −1 in the TraceSet). Returns the TraceSet, the recorder (for the raw
 * JSON/CSV export) and the input spikes (sparse, for their own JSON file).
 */
export function recordNetworkTraces(net: Network, o: RecordNetworkOptions): { set: TraceSet; recorder: Recorder; input?: InputSpikes; warnings: string[] } {
  const K = net.inputSize;
  const n = o.samples.labels.length;
  if (o.targetX && o.targetX.length !== n * K) throw new ParameterError(`inspect: targetX has ${o.targetX.length} values but needs ${n * K}`);
  const rows = o.targetX ? 2 * n : n;
  // Pre-encoded rasters ('raster' encoder) hold T·K values per sample; everything else K.
  const perSample = o.encoder === 'raster' ? o.steps * K : K;
  if (o.samples.x.length !== n * perSample) {
    throw new ParameterError(`inspect: samples.x has ${o.samples.x.length} values but ${n} samples × ${perSample} (${o.encoder === 'raster' ? 'steps × ' : ''}inputSize) are needed`);
  }
  const x = o.encoder === 'raster' ? o.samples.x : new Float32Array(rows * K);
  if (o.encoder !== 'raster') {
    x.set(o.samples.x);
    if (o.targetX) x.set(o.targetX, n * K);
  }
  const layers = o.record?.layers ?? net.layers.map((_, i) => i);
  const specs: RecordSpec[] = [];
  const allRows = Array.from({ length: rows }, (_, i) => i);
  const info = layerInfoOf(net);
  for (const li of layers) {
    if (!net.layers[li]) throw new ParameterError(`inspect: layer ${li} does not exist; the network has layers 0..${net.layers.length - 1}`);
  }
  const warnings = o.record?.neurons ? checkTracedNeurons(net, layers, info, o.record.neurons) : [];
  for (const li of layers) {
    const layer = net.layers[li];
    if (info[li].kind === 'readout') {
      specs.push({ layer: li, vars: ['voltage'], neurons: 'all', samples: Array.from({ length: n }, (_, i) => i) });
      continue;
    }
    const neurons = (o.record?.neurons ?? o.record?.neuronsByLayer?.[li] ?? [0, 1, 2]).filter((j) => j < layer.size);
    if (neurons.length) specs.push({ layer: li, vars: ['voltage'], neurons, samples: allRows });
    if (layer.model.spikeVar) {
      // the raster's first neurons, and the traced ones beyond them (the spike ticks on their voltage traces)
      const r = Math.min(layer.size, o.record?.rasterNeurons ?? 100);
      const spiking = [...Array.from({ length: r }, (_, j) => j), ...neurons.filter((j) => j >= r)];
      specs.push({ layer: li, vars: ['spikes'], neurons: spiking, samples: allRows });
    }
  }
  const recorder = new Recorder(specs, o.steps);
  const src = stepSource(o, x, n, rows, K);
  const capture = o.record?.input !== false && src.kind === 'spikes';
  const events: [number, number, number][] = [];
  const encoder: StepInput = {
    kind: src.kind,
    encode(t: number, out: Tensor, backend: Backend): void {
      const h = src.host(t);
      if (capture) for (let i = 0; i < h.length; i++) if (h[i] !== 0) events.push([Math.floor(i / K), i % K, t]);
      backend.write(out, h);
    },
  };
  net.reset(rows);
  net.run({ steps: o.steps, encoder, recorder });
  const traces = recorder.traces();
  // With a readout integrator in the network, the prediction is argmax_c Σ_t U_o[t, c] of exactly
  // the run shown (spiking sigprop's rule); otherwise the caller's predictions, if any.
  const predictions = o.predictions ?? readoutPredictions(traces, info, n);
  const ids = o.samples.ids ?? Array.from({ length: n }, (_, i) => i);
  const sampleLabels: Record<number, number | string> = {};
  const samplePredictions: Record<number, number | string> = {};
  for (let i = 0; i < n; i++) {
    sampleLabels[i] = `${o.samples.labels[i]}, test #${ids[i]}`;
    if (predictions) samplePredictions[i] = predictions[i];
  }
  const recordings = tracesToRecordings(traces, n, !!o.targetX);
  const layersInfo: Record<number, TraceLayerInfo> = { ...info };
  let input: InputSpikes | undefined;
  if (capture) {
    const channels = Math.min(K, o.record?.inputChannels ?? 1024);
    input = {
      format: 'sigprop-input-spikes', dtMs: net.dtMs, steps: o.steps, channels: K,
      rows: Array.from({ length: rows }, (_, r) => (r < n ? { sample: r, stream: 'input' as const } : { sample: r - n, stream: 'target' as const })),
      events,
    };
    recordings.unshift(...inputRecordings(input, channels));
    layersInfo[INPUT_LAYER] = {
      name: `network input (${o.encoder} encoded${channels < K ? `, first ${channels} of ${K} channels` : ''})`, size: channels, indexLabel: 'input channel',
    };
  }
  const set: TraceSet = {
    label: o.label,
    dtMs: net.dtMs,
    recordings,
    layers: layersInfo,
    sampleLabels,
    samplePredictions: predictions ? samplePredictions : undefined,
  };
  return { set, recorder, input, warnings };
}

/**
 * Chosen neurons (record.neurons, `sigprop traces --neurons`) against the sizes of the recorded
 * layers (the readout records all its units and does not count). A neuron that is in none of
 * them is an error naming the range; one that only some layers lack is left out there, with a
 * warning per layer (one list of neurons serves layers of different sizes).
 */
function checkTracedNeurons(net: Network, layers: readonly number[], info: Record<number, TraceLayerInfo>, neurons: readonly number[]): string[] {
  const traced = layers.filter((li) => info[li].kind !== 'readout');
  if (!traced.length) return [];
  const sizes = traced.map((li) => net.layers[li].size);
  const largest = Math.max(...sizes);
  const outside = neurons.filter((j) => j >= largest);
  if (outside.length) {
    const have = traced.map((li, k) => `${sizes[k]} (layer ${li})`);
    const list = have.length > 1 ? `${have.slice(0, -1).join(', ')} and ${have.at(-1)}` : have[0];
    throw new ParameterError(
      `inspect: neuron${outside.length > 1 ? 's' : ''} ${outside.join(', ')} out of range: the recorded layer${traced.length > 1 ? 's have' : ' has'} ${list} neurons; choose neurons in 0..${largest - 1}`,
    );
  }
  const warnings: string[] = [];
  traced.forEach((li, k) => {
    const missing = neurons.filter((j) => j >= sizes[k]);
    if (!missing.length) return;
    const none = missing.length === neurons.length;
    warnings.push(
      `layer ${li} has ${sizes[k]} neurons (0..${sizes[k] - 1}): neuron${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not traced there${none ? ', so it has no voltage traces' : ''}`,
    );
  });
  return warnings;
}

/** Dense 0/1 spike series (layer INPUT_LAYER, var 'spikes') of the first `channels` input channels of every row. */
export function inputRecordings(input: InputSpikes, channels: number): TraceRecording[] {
  const out: TraceRecording[] = [];
  const byRow = input.rows.map(() => Array.from({ length: channels }, () => new Float32Array(input.steps)));
  for (const [r, k, t] of input.events) if (k < channels) byRow[r][k][t] = 1;
  input.rows.forEach((row, r) => {
    for (let k = 0; k < channels; k++) out.push({ layer: INPUT_LAYER, var: 'spikes', neuron: k, sample: row.sample, stream: row.stream, values: byRow[r][k] });
  });
  return out;
}

/** argmax over classes of the time-summed readout potential per sample, or undefined without a readout. */
export function readoutPredictions(traces: readonly Trace[], info: Record<number, TraceLayerInfo>, n: number): Int32Array | undefined {
  const layer = Object.keys(info).map(Number).find((i) => info[i].kind === 'readout');
  if (layer === undefined) return undefined;
  const best = new Float64Array(n).fill(-Infinity);
  const arg = new Int32Array(n).fill(-1);
  for (const tr of traces) {
    if (tr.layer !== layer || tr.var !== 'voltage' || tr.sample >= n) continue;
    let sum = 0;
    for (const v of tr.values) sum += v;
    if (sum > best[tr.sample]) {
      best[tr.sample] = sum;
      arg[tr.sample] = tr.neuron;
    }
  }
  return arg.every((a) => a >= 0) ? arg : undefined;
}

/** Host values of the network input at each step. */
interface StepSource {
  kind: 'spikes' | 'current';
  host(t: number): Float32Array;
}

/**
 * The network input of every step. For an encoder spec, the rows [samples; targets] are encoded
 * by it (seeded, so the same seed gives the same spikes). For 'raster', samples are pre-encoded
 * [T, K] rasters fed step by step, and target rows are rate-coded, as spiking sigprop does.
 */
function stepSource(o: RecordNetworkOptions, x: Float32Array, n: number, rows: number, K: number): StepSource {
  const rng = new Rng(o.seed);
  if (o.encoder !== 'raster') {
    const spec = parseEncoderSpec(o.encoder);
    const enc = createEncoder({ name: spec.name, params: { ...spec.params, ...(o.encoderParams ?? {}) } }, { rng, steps: o.steps });
    enc.setInput(x, rows, K);
    return { kind: enc.kind, host: (t) => enc.encodeHost(t) };
  }
  const rate = o.targetX ? createEncoder('rate', { rng, steps: o.steps }) : undefined;
  if (rate && o.targetX) rate.setInput(o.targetX, n, K);
  const buf = new Float32Array(rows * K);
  return {
    kind: 'spikes',
    host(t) {
      for (let b = 0; b < n; b++) buf.set(x.subarray((b * o.steps + t) * K, (b * o.steps + t + 1) * K), b * K);
      if (rate) buf.set(rate.encodeHost(t), n * K);
      return buf;
    },
  };
}

/** How many neurons of each layer the default choice traces: the most active, then the most class-selective. */
export const DEFAULT_TRACED = { active: 2, selective: 1 } as const;

/**
 * The neurons a reader learns from in one layer, from `activity[s][j]` (neuron j's spike count,
 * or mean |voltage| in a layer without spikes, on sample s of class `labels[s]`): the `active`
 * ones with the most activity summed over the samples, then the `selective` ones of the rest
 * whose activity is most concentrated on one class, (max_c m_c − mean_c m_c) / (mean_c m_c + 1)
 * with m_c the neuron's mean activity on class c (needs samples of two classes or more, else
 * the next most active). Silent neurons are never chosen; a silent layer gives [0, 1, 2].
 * Ties go to the lower index.
 */
export function pickInformativeNeurons(activity: readonly ArrayLike<number>[], labels: ArrayLike<number>, counts: { active: number; selective: number } = DEFAULT_TRACED): number[] {
  const size = activity[0]?.length ?? 0;
  const total = new Float64Array(size);
  for (const a of activity) for (let j = 0; j < size; j++) total[j] += a[j];
  const live = Array.from({ length: size }, (_, j) => j).filter((j) => total[j] > 0);
  if (!live.length) return [0, 1, 2].filter((j) => j < size);
  const byActivity = [...live].sort((a, b) => total[b] - total[a] || a - b);
  const chosen = byActivity.slice(0, counts.active);
  const classes = [...new Set(Array.from(labels))];
  const rest = byActivity.filter((j) => !chosen.includes(j));
  if (classes.length > 1) {
    const selectivity = (j: number): number => {
      const means = classes.map((c) => {
        let sum = 0, n = 0;
        activity.forEach((a, s) => {
          if (labels[s] === c) {
            sum += a[j];
            n++;
          }
        });
        return sum / n;
      });
      const mean = means.reduce((x, y) => x + y, 0) / means.length;
      return (Math.max(...means) - mean) / (mean + 1);
    };
    const sel = new Map(rest.map((j) => [j, selectivity(j)]));
    rest.sort((a, b) => sel.get(b)! - sel.get(a)! || a - b);
  }
  chosen.push(...rest.slice(0, counts.selective));
  return chosen.sort((a, b) => a - b);
}

/**
 * Default neurons to trace in each recorded layer of `net` (readouts excepted, which show all
 * their units): run the samples' input stream for `steps` steps, count each neuron's spikes per
 * sample (mean |voltage| where the model has no spikes), and pick with pickInformativeNeurons.
 */
export function chooseTraceNeurons(net: Network, o: Omit<RecordNetworkOptions, 'label' | 'targetX' | 'predictions'>): Record<number, number[]> {
  const K = net.inputSize;
  const n = o.samples.labels.length;
  const layers = o.record?.layers ?? net.layers.map((_, i) => i);
  const info = layerInfoOf(net);
  const specs: RecordSpec[] = [];
  const probed = layers.filter((li) => net.layers[li] && info[li].kind !== 'readout');
  for (const li of probed) {
    const layer = net.layers[li];
    specs.push({ layer: li, vars: [layer.model.spikeVar ?? 'voltage'], neurons: 'all', samples: Array.from({ length: n }, (_, i) => i) });
  }
  if (!specs.length) return {};
  const x = o.encoder === 'raster' ? o.samples.x : o.samples.x.subarray(0, n * K);
  const recorder = new Recorder(specs, o.steps);
  const src = stepSource({ ...o, label: '', targetX: undefined }, x, n, n, K);
  net.reset(n);
  net.run({ steps: o.steps, encoder: { kind: src.kind, encode: (t, out, backend) => backend.write(out, src.host(t)) }, recorder });
  const out: Record<number, number[]> = {};
  for (const li of probed) {
    const size = net.layers[li].size;
    const activity = Array.from({ length: n }, () => new Float64Array(size));
    for (const tr of recorder.traces()) {
      if (tr.layer !== li) continue;
      let a = 0;
      for (const v of tr.values) a += Math.abs(v);
      activity[tr.sample][tr.neuron] = net.layers[li].model.spikeVar ? a : a / tr.values.length;
    }
    out[li] = pickInformativeNeurons(activity, o.samples.labels);
  }
  return out;
}

/** Layer index under which the encoded network input appears in a TraceSet. */
export const INPUT_LAYER = -1;

/** The encoded input spikes of a traced run, sparse: one [row, channel, step] per spike. */
export interface InputSpikes {
  format: 'sigprop-input-spikes';
  dtMs: number;
  steps: number;
  /** Input channels (per-step input size). */
  channels: number;
  /** Batch rows: rows [0, n) are the samples, [n, 2n) their target signals (sigprop). */
  rows: { sample: number; stream: 'input' | 'target' }[];
  /** [row, channel, step] of every input spike (value != 0; the value itself is ±1 for spike encoders). */
  events: [number, number, number][];
}

/** Sigprop target-stream inputs t0 = sigmoid(S[c] + d) for `labels`, or undefined without 'target.W'. */
export function targetInputs(tensors: Record<string, Float32Array>, labels: ArrayLike<number>, inputSize: number): Float32Array | undefined {
  const S = tensors['target.W'];
  const d = tensors['target.b'];
  if (!S || !d || d.length !== inputSize) return undefined;
  const out = new Float32Array(labels.length * inputSize);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    for (let k = 0; k < inputSize; k++) out[i * inputSize + k] = 1 / (1 + Math.exp(-(S[c * inputSize + k] + d[k])));
  }
  return out;
}

