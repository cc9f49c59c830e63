/**
 * Recorders: observe a Network while it runs (pass them to `net.run({ recorder })`, or call
 * `record(t, net)` after each `net.step`).
 *
 * - `Recorder` keeps traces over time of chosen variables, neurons and batch rows per layer:
 *   voltage, spikes, synaptic current, the layer's input current, or any model state variable.
 *   Each step reads the recorded tensors back with backend.read (a device backend's tensors have
 *   no host data) and keeps only the chosen elements. Traces come back as
 *   { layer, var, neuron, sample, values: Float32Array of length steps } and export to JSON or CSV.
 * - `SpikeCounter` counts spikes per neuron and per batch row for every spiking layer
 *   (firing rates, spikes per sample) without storing traces.
 *
 * Variable names (per layer): 'voltage' (the model's voltageVar), 'spikes' (its spikeVar),
 * 'output' (what the next layer receives), 'input' (synaptic input x·W + bias given to the model
 * at that step), 'current' (the synaptic current state 'isyn' when the model has one, else
 * 'input'), or the name of any model state variable ('u', 'isyn', 'w', 'h', 'a', ...).
 */
import type { Network, RunObserver } from './engine/network.js';
import type { Layer } from './engine/layer.js';
import { checkNumber, ParameterError, ShapeError } from './errors.js';
import { toCsv, writeFileAtomic, writeJsonAtomic } from './io.js';
import type { Tensor } from './tensor.js';

/** What to record from one layer. */
export interface RecordSpec {
  /** Layer index or name. */
  layer: number | string;
  /** Variables (see the module doc). Default ['voltage', 'spikes'] ('spikes' left out for models without spikes). */
  vars?: string[];
  /** Neuron indices, or 'all'. Default 'all'. */
  neurons?: number[] | 'all';
  /** Batch rows, or 'all', or a function of the network choosing them when the recorder binds (e.g. from net.streams). Default [0]. */
  samples?: number[] | 'all' | ((net: Network) => number[]);
}

/** One recorded time series. */
export interface Trace {
  /** Layer index. */
  layer: number;
  layerName: string;
  /** Variable name as requested ('voltage', 'u', ...). */
  var: string;
  neuron: number;
  /** Batch row. */
  sample: number;
  /** One value per recorded step (length = recorder.steps). */
  values: Float32Array;
}

/** The JSON export format of a recording. */
export interface RecordingJson {
  format: 'sigprop-recording';
  version: 1;
  /** Step size in ms. */
  dtMs: number;
  /** Number of recorded steps. */
  steps: number;
  /** Step index t of each recorded step (time in ms = t·dtMs). */
  t: number[];
  traces: { layer: number; layerName: string; var: string; neuron: number; sample: number; values: number[] }[];
}

interface Binding {
  layer: Layer;
  layerIndex: number;
  varName: string;
  get: () => Tensor;
  /** Flat indices into the [batch, size] tensor, one per trace. */
  idx: Int32Array;
  traces: Trace[];
}

/** Shortest decimal that reads back as the same float32 (keeps JSON and CSV small and exact). */
export function f32ToNumber(v: number): number {
  if (!Number.isFinite(v) || Number.isInteger(v)) return v;
  for (let p = 6; p < 9; p++) {
    const r = Number(v.toPrecision(p));
    if (Math.fround(r) === v) return r;
  }
  return Number(v.toPrecision(9));
}

function resolveLayer(net: Network, ref: number | string): [Layer, number] {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 0 || ref >= net.layers.length) {
      throw new ParameterError(`recorder: layer = ${ref} does not exist; the network has layers 0..${net.layers.length - 1}`);
    }
    return [net.layers[ref], ref];
  }
  const i = net.layers.findIndex((l) => l.name === ref);
  if (i < 0) throw new ParameterError(`recorder: layer "${ref}" is not known; layers: ${net.layers.map((l) => l.name).join(', ')}`);
  return [net.layers[i], i];
}

/** A getter for a variable of a layer (resolved once; the tensor itself is fetched each step). */
export function variableGetter(layer: Layer, name: string): () => Tensor {
  const m = layer.model;
  const fromState = (v: string) => {
    if (!layer.state[v]) {
      throw new ParameterError(
        `recorder: variable "${name}" is not available in ${layer.name} (model "${m.name}"); ` +
          `use voltage, output, input, current${m.spikeVar ? ', spikes' : ''} or a state variable: ${Object.keys(layer.state).join(', ')}`,
      );
    }
    return () => layer.state[v];
  };
  switch (name) {
    case 'voltage': return fromState(m.voltageVar);
    case 'spikes':
      if (!m.spikeVar) throw new ParameterError(`recorder: ${layer.name} (model "${m.name}") has no spikes; record 'output' or 'voltage' instead`);
      return fromState(m.spikeVar);
    case 'output': return () => layer.output();
    case 'input': return () => layer.inputCurrent();
    case 'current': return layer.state.isyn ? () => layer.state.isyn : () => layer.inputCurrent();
    default: return fromState(name);
  }
}

function indexList(what: string, sel: number[] | 'all' | undefined, n: number, dflt: number[] | 'all'): number[] {
  const s = sel ?? dflt;
  if (s === 'all') return Array.from({ length: n }, (_, i) => i);
  if (!Array.isArray(s) || s.length === 0) throw new ParameterError(`recorder: ${what} must be 'all' or a non-empty list of indices`);
  for (const i of s) checkNumber(`recorder ${what} index`, i, { min: 0, max: n - 1, integer: true });
  return s;
}

/** Records chosen variables of chosen neurons and batch rows over time. */
export class Recorder implements RunObserver {
  private readonly specs: RecordSpec[];
  private bindings: Binding[] = [];
  private boundTo: Network | null = null;
  private boundBatch = 0;
  private capacity: number;
  private tIndex: Int32Array;
  /** Number of recorded steps. */
  steps = 0;
  /** Step size of the recorded network (ms), known after the first record. */
  dtMs = 1;

  /** `capacityHint`: expected number of steps (buffers grow as needed). */
  constructor(specs: RecordSpec | RecordSpec[], capacityHint = 64) {
    this.specs = Array.isArray(specs) ? specs : [specs];
    if (this.specs.length === 0) throw new ParameterError('recorder: give at least one { layer, vars, neurons, samples }');
    this.capacity = Math.max(1, Math.floor(capacityHint));
    this.tIndex = new Int32Array(this.capacity);
  }

  /** Resolve the selection against `net` now (record() does it lazily); throws on unknown layers, variables or indices. */
  attach(net: Network): this {
    this.bind(net);
    return this;
  }

  private bind(net: Network): void {
    if (net.batch === 0) throw new ShapeError('recorder: the network has no state; call net.reset(batch) first');
    const old = this.bindings;
    this.bindings = [];
    for (const spec of this.specs) {
      const [layer, li] = resolveLayer(net, spec.layer);
      const vars = spec.vars ?? (layer.model.spikeVar ? ['voltage', 'spikes'] : ['voltage']);
      const neurons = indexList('neurons', spec.neurons, layer.size, 'all');
      const samples = indexList('samples', typeof spec.samples === 'function' ? spec.samples(net) : spec.samples, net.batch, [0]);
      for (const v of vars) {
        const get = variableGetter(layer, v);
        const idx = new Int32Array(samples.length * neurons.length);
        const traces: Trace[] = [];
        let j = 0;
        for (const s of samples) {
          for (const n of neurons) {
            idx[j++] = s * layer.size + n;
            const prev = old.find((b) => b.layerIndex === li && b.varName === v)?.traces.find((tr) => tr.neuron === n && tr.sample === s);
            traces.push(prev ?? { layer: li, layerName: layer.name, var: v, neuron: n, sample: s, values: new Float32Array(this.capacity) });
          }
        }
        this.bindings.push({ layer, layerIndex: li, varName: v, get, idx, traces });
      }
    }
    this.boundTo = net;
    this.boundBatch = net.batch;
    this.dtMs = net.dtMs;
  }

  private grow(): void {
    this.capacity *= 2;
    const t = new Int32Array(this.capacity);
    t.set(this.tIndex);
    this.tIndex = t;
    for (const b of this.bindings) {
      for (const tr of b.traces) {
        const v = new Float32Array(this.capacity);
        v.set(tr.values);
        tr.values = v;
      }
    }
  }

  /** Record step t of `net` (called by net.run after every step). */
  record(t: number, net: Network): void {
    if (this.boundTo !== net || this.boundBatch !== net.batch) this.bind(net);
    if (this.steps === this.capacity) this.grow();
    const k = this.steps;
    this.tIndex[k] = t;
    for (const b of this.bindings) {
      const data = net.backend.read(b.get());
      const idx = b.idx, trs = b.traces;
      for (let j = 0; j < idx.length; j++) trs[j].values[k] = data[idx[j]];
    }
    this.steps = k + 1;
  }

  /** Forget all recorded steps (the selection is kept). */
  clear(): void {
    this.steps = 0;
  }

  /** Step index t of each recorded step. */
  times(): Int32Array {
    return this.tIndex.slice(0, this.steps);
  }

  /** All traces, values trimmed to the recorded steps (copies). */
  traces(): Trace[] {
    const out: Trace[] = [];
    for (const b of this.bindings) for (const tr of b.traces) out.push({ ...tr, values: tr.values.slice(0, this.steps) });
    return out;
  }

  /** One trace's values; throws when that combination was not recorded. */
  get(layer: number | string, varName: string, neuron: number, sample = 0): Float32Array {
    for (const b of this.bindings) {
      if ((b.layerIndex === layer || b.layer.name === layer) && b.varName === varName) {
        const tr = b.traces.find((x) => x.neuron === neuron && x.sample === sample);
        if (tr) return tr.values.slice(0, this.steps);
      }
    }
    throw new ParameterError(`recorder: nothing recorded for layer ${layer}, var "${varName}", neuron ${neuron}, sample ${sample}`);
  }

  /** The recording as a JSON-ready object. */
  toJSON(): RecordingJson {
    return {
      format: 'sigprop-recording',
      version: 1,
      dtMs: this.dtMs,
      steps: this.steps,
      t: Array.from(this.times()),
      traces: this.traces().map((tr) => ({ ...tr, values: Array.from(tr.values, f32ToNumber) })),
    };
  }

  /** Column name of a trace in the CSV export: `<layerName>.<var>[s<sample>,n<neuron>]`. */
  static columnName(tr: Pick<Trace, 'layerName' | 'var' | 'sample' | 'neuron'>): string {
    return `${tr.layerName}.${tr.var}[s${tr.sample},n${tr.neuron}]`;
  }

  /** Wide CSV: one row per recorded step with columns step, time_ms and one column per trace. */
  toCsv(): string {
    const trs = this.traces();
    const cols = ['step', 'time_ms', ...trs.map(Recorder.columnName)];
    const t = this.times();
    const rows: Record<string, unknown>[] = [];
    for (let k = 0; k < this.steps; k++) {
      const row: Record<string, unknown> = { step: t[k], time_ms: f32ToNumber(t[k] * this.dtMs) };
      for (let j = 0; j < trs.length; j++) row[cols[j + 2]] = f32ToNumber(trs[j].values[k]);
      rows.push(row);
    }
    return toCsv(rows, cols);
  }

  /** Write the JSON export atomically. */
  writeJson(path: string): void {
    writeJsonAtomic(path, this.toJSON());
  }

  /** Write the CSV export atomically. */
  writeCsv(path: string): void {
    writeFileAtomic(path, this.toCsv());
  }
}

/** Spike counts of one layer. */
export interface LayerSpikeCounts {
  layer: number;
  layerName: string;
  size: number;
  /** Steps counted. */
  steps: number;
  /** Total spikes over all neurons, rows and steps. */
  total: number;
  /** Spikes per batch row, [batch]. */
  perSample: Float64Array;
  /** Spikes per neuron summed over rows, [size]. */
  perNeuron: Float32Array;
  /** Mean firing rate per neuron in Hz: total / (size·batch·steps·dtMs/1000). */
  rateHz: number;
  /** Mean spikes per neuron per step (in [0, 1]). */
  ratePerStep: number;
}

/** Counts spikes of every spiking layer (per neuron through backend.sumRows, per sample on the host). */
export class SpikeCounter implements RunObserver {
  private perNeuron: (Tensor | null)[] = [];
  private perSample: Float64Array[] = [];
  private net: Network | null = null;
  private batch = 0;
  steps = 0;

  private bind(net: Network): void {
    this.free();
    this.net = net;
    this.batch = net.batch;
    this.perNeuron = net.layers.map((l) => (l.model.spikeVar ? net.backend.tensor([l.size]) : null));
    this.perSample = net.layers.map(() => new Float64Array(net.batch));
    this.steps = 0;
  }

  record(_t: number, net: Network): void {
    if (this.net !== net || this.batch !== net.batch) this.bind(net);
    net.layers.forEach((l, i) => {
      const acc = this.perNeuron[i];
      if (!acc) return;
      const s = l.stateVar(l.model.spikeVar as string);
      net.backend.sumRows(acc, s, 1, 1);
      const d = net.backend.read(s), ps = this.perSample[i], N = l.size;
      for (let b = 0; b < ps.length; b++) {
        let c = 0;
        for (let n = 0; n < N; n++) c += d[b * N + n];
        ps[b] += c;
      }
    });
    this.steps++;
  }

  /** Counts per spiking layer (layers without spikes are left out). */
  counts(): LayerSpikeCounts[] {
    const net = this.net;
    if (!net) return [];
    const out: LayerSpikeCounts[] = [];
    net.layers.forEach((l, i) => {
      const acc = this.perNeuron[i];
      if (!acc) return;
      const perNeuron = net.backend.read(acc);
      let total = 0;
      for (const v of this.perSample[i]) total += v;
      const denom = l.size * this.batch * Math.max(1, this.steps);
      out.push({
        layer: i, layerName: l.name, size: l.size, steps: this.steps, total,
        perSample: this.perSample[i].slice(), perNeuron,
        ratePerStep: total / denom,
        rateHz: total / (denom * net.dtMs / 1000),
      });
    });
    return out;
  }

  /** Zero the counts. */
  clear(): void {
    if (this.net) this.bind(this.net);
  }

  /** Release the count tensors. */
  free(): void {
    if (this.net) for (const t of this.perNeuron) if (t) this.net.backend.free(t);
    this.perNeuron = [];
    this.net = null;
  }
}
