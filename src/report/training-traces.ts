/**
 * Traces recorded from the training network itself: a recorder attached to the rule's engine
 * network (TrainingRule.network) for one training window records both streams (the first samples
 * of the batch and the first rows of its target stream) as the rule learns on them. After the
 * window the neurons a reader learns from are kept (the most active and the most class-selective
 * of each layer, pickInformativeNeurons) and the recording becomes a TraceSet for the report.
 */
import { join } from 'node:path';
import type { Network } from '../engine/network.js';
import { fileSystemError } from '../io.js';
import { Recorder, type RecordSpec, type Trace } from '../recorder.js';
import { layerInfoOf, pickInformativeNeurons } from './record.js';
import type { TraceRecording, TraceSet } from './types.js';

/** Options of recordTrainingWindow. */
export interface TrainingWindowOptions {
  /** Samples of the batch traced (default 2; the same number of target-stream rows). */
  samples?: number;
  /** Spikes of the first N neurons of each layer go into the raster (default 100). */
  rasterNeurons?: number;
  /** Neurons whose voltage is shown per layer (default: picked from the window, see module doc). */
  neurons?: number[];
}

/** A recorder on the next training window of `net`; call finish with the batch's labels after it. */
export interface TrainingWindow {
  /** Detach the recorder and build the TraceSet (null when nothing was recorded). */
  finish(labels: ArrayLike<number>): { set: TraceSet; recorder: Recorder } | null;
}

/** Rows recorded: the first n rows of every stream, each tagged with its stream and sample index. */
function streamRows(net: Network, n: number): { row: number; stream: 'input' | 'target'; sample: number }[] {
  const out: { row: number; stream: 'input' | 'target'; sample: number }[] = [];
  for (const s of net.streams) {
    for (let j = 0; j < Math.min(n, s.rows); j++) out.push({ row: s.offset + j, stream: s.name === 'input' ? 'input' : 'target', sample: j });
  }
  return out;
}

/** Attach a recorder to `net` for its next run (a training window); label names the set ('during training: epoch 1, batch 1'). */
export function recordTrainingWindow(net: Network, label: string, o: TrainingWindowOptions = {}): TrainingWindow {
  const n = o.samples ?? 2;
  const info = layerInfoOf(net);
  const specs: RecordSpec[] = [];
  const rows = (nt: Network): number[] => streamRows(nt, n).map((r) => r.row);
  const inputRows = (nt: Network): number[] => streamRows(nt, n).filter((r) => r.stream === 'input').map((r) => r.row);
  net.layers.forEach((layer, li) => {
    if (info[li].kind === 'readout') {
      specs.push({ layer: li, vars: ['voltage'], neurons: 'all', samples: inputRows });
      return;
    }
    specs.push({ layer: li, vars: ['voltage'], neurons: o.neurons?.filter((j) => j < layer.size) ?? 'all', samples: rows });
    if (layer.model.spikeVar) specs.push({ layer: li, vars: ['spikes'], neurons: 'all', samples: rows });
  });
  const recorder = new Recorder(specs, 64);
  let seen: ReturnType<typeof streamRows> = [];
  const probe = { record: (_t: number, nt: Network) => (seen = streamRows(nt, n)) };
  net.attach(recorder);
  net.attach(probe);
  return {
    finish(labels) {
      net.detach(recorder);
      net.detach(probe);
      if (recorder.steps === 0) return null;
      const byRow = new Map(seen.map((r) => [r.row, r]));
      const traces = recorder.traces();
      const raster = o.rasterNeurons ?? 100;
      const recordings: TraceRecording[] = [];
      net.layers.forEach((layer, li) => {
        const mine = traces.filter((tr) => tr.layer === li);
        if (info[li].kind === 'readout') {
          recordings.push(...mine.map((tr) => toRecording(tr, byRow)));
          return;
        }
        const keep = o.neurons ?? chooseNeurons(mine, layer.model.spikeVar ? 'spikes' : 'voltage', layer.size, byRow, labels);
        for (const tr of mine) {
          // spikes: the raster's first neurons and the traced ones (their spike ticks)
          if (keep.includes(tr.neuron) || (tr.var === 'spikes' && tr.neuron < raster)) recordings.push(toRecording(tr, byRow));
        }
      });
      const sampleLabels: Record<number, number | string> = {};
      for (let j = 0; j < Math.min(n, labels.length); j++) sampleLabels[j] = `${labels[j]}, batch row ${j}`;
      return { set: { label, dtMs: net.dtMs, recordings, layers: info, sampleLabels }, recorder };
    },
  };
}

function toRecording(tr: Trace, byRow: Map<number, { stream: 'input' | 'target'; sample: number }>): TraceRecording {
  const r = byRow.get(tr.sample) ?? { stream: 'input' as const, sample: tr.sample };
  return { layer: tr.layer, var: tr.var, neuron: tr.neuron, sample: r.sample, stream: r.stream, values: tr.values };
}

/** The neurons of one layer to show: pickInformativeNeurons over the input-stream rows' activity. */
function chooseNeurons(
  traces: readonly Trace[], v: 'spikes' | 'voltage', size: number, byRow: Map<number, { stream: 'input' | 'target'; sample: number }>, labels: ArrayLike<number>,
): number[] {
  const input = [...byRow.entries()].filter(([, r]) => r.stream === 'input');
  const activity = input.map(() => new Float64Array(size));
  const slot = new Map(input.map(([row], i) => [row, i]));
  for (const tr of traces) {
    const i = slot.get(tr.sample);
    if (tr.var !== v || i === undefined) continue;
    let a = 0;
    for (const x of tr.values) a += Math.abs(x);
    activity[i][tr.neuron] = v === 'spikes' ? a : a / tr.values.length;
  }
  return pickInformativeNeurons(activity, input.map(([, r]) => labels[r.sample]));
}

/** Stem of the raw recordings of training windows in a run folder: traces.training-first.json, traces.training-last.json. */
export const RUN_TRACES_TRAINING = 'traces.training';

/**
 * The run loop's training-window traces: the run's first window and the last window of its last
 * epoch are recorded from the training network (recordTrainingWindow), kept as TraceSets for the
 * report and written raw to the run folder. `net` undefined (no engine network, or no report
 * wanted) records nothing.
 */
export class TrainingTraceWindows {
  /** The recorded windows, in order. */
  readonly sets: TraceSet[] = [];
  private current: { window: TrainingWindow; tag: string } | null = null;

  constructor(
    private readonly net: Network | undefined,
    private readonly epochs: number,
    private readonly runDir: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** Before training batch `batch` (of `nb`) of `epoch` (0-based). */
  begin(epoch: number, batch: number, nb: number): void {
    if (!this.net) return;
    const first = epoch === 0 && batch === 0, last = epoch === this.epochs - 1 && batch === nb - 1;
    if (!first && !last) return;
    this.current = { window: recordTrainingWindow(this.net, `during training: epoch ${epoch + 1}, batch ${batch + 1} of ${nb}`), tag: first ? 'first' : 'last' };
  }

  /** After that batch, with its labels. */
  end(labels: ArrayLike<number>): void {
    if (!this.current) return;
    const { window, tag } = this.current;
    this.current = null;
    const r = window.finish(labels);
    if (!r) return;
    this.sets.push(r.set);
    const file = join(this.runDir, `${RUN_TRACES_TRAINING}-${tag}.json`);
    try {
      r.recorder.writeJson(file);
    } catch (err) {
      this.warn(`training traces not written: ${(fileSystemError(err, file, 'write training traces') as Error).message}`);
    }
  }
}
