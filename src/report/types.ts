/**
 * Input structures of the report builders. They are plain data (JSON-compatible apart from
 * typed arrays), so a report can be built from a live run, from a run folder's JSON files, or
 * from hand-made data in tests. Units are in the names.
 */
import type { NirImportRecord } from './nir-graph.js';

/** Per-layer statistics at the end of an epoch (matches src/learning/rule.ts LayerStats). */
export interface EpochLayerStats {
  /** Layer index (0 = first hidden layer). */
  layer: number;
  /** Human-readable label, e.g. 'hidden0 (lif, 1000)'. */
  label?: string;
  /** Frobenius norm of the layer's weight matrix. */
  weightNorm?: number;
  /** Mean firing rate of the input stream, spikes per neuron per step. */
  firingRate?: number;
  /** Mean firing rate of the target stream (sigprop), spikes per neuron per step. */
  targetFiringRate?: number;
  /** Mean activation (rate rules). */
  meanActivity?: number;
  /** Learning rate in use. */
  learningRate?: number;
  /** Angle (degrees) between the layer's feedback matrix and its forward weights (PEPITA with mirror, FA, DFA). */
  alignmentAngle?: number;
  /** PEPITA (last layer's entry): angle (degrees) between (W_L…W_1)ᵀ and F. */
  productAlignmentAngle?: number;
}

/** One epoch's metrics (any field may be missing; missing curves are simply not drawn). */
export interface EpochMetrics {
  /** Epoch number (1-based as shown; 0 may hold the before-training evaluation). */
  epoch: number;
  trainLoss?: number;
  /** Fractions in [0, 1]. */
  trainAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Samples the train loss and accuracy were averaged over. */
  trainSamples?: number;
  /** Samples the test accuracy was measured on (shown next to every test accuracy). */
  testSamples?: number;
  /** Each layer's local loss, averaged over the epoch (index 0 = first hidden layer). */
  layerLosses?: number[];
  /** Per-layer statistics at the end of the epoch. */
  layers?: EpochLayerStats[];
  /** Wall time of the epoch, seconds. */
  timeS?: number;
  /** Learning rate during the epoch. */
  learningRate?: number;
}

/** Everything the run report shows. Only `title` and `epochs` are required. */
export interface RunReportData {
  /** Shown as the page title, e.g. the run name. */
  title: string;
  /** One line under the title (rule, dataset, backend, date ...). */
  subtitle?: string;
  /** The run's resolved config (shown as a key/value table; nested objects flattened a.b.c). */
  config?: Record<string, unknown>;
  epochs: EpochMetrics[];
  /** Names of the layers (index = layer); defaults to each layer's label or 'layer i'. */
  layerNames?: string[];
  /** Free-text notes (one paragraph each), e.g. where the raw data lives. */
  notes?: string[];
  /** Final summary rows (name, value), e.g. best test accuracy, total time. */
  summary?: [string, string | number][];
  /** Optional traces (before/after training) to include in the same page. */
  traces?: TraceSet[];
  /** Optional surrogate comparison to include in the same page ({x, curves}, or surrogateComparison()'s {x, surrogates}). */
  surrogates?: SurrogateComparisonData | SurrogateComparisonJson;
  /** Optional surrogate-experiment accuracy table. */
  surrogateAccuracy?: SurrogateAccuracyRow[];
  /** The import record of a network imported from NIR (nir-import.json): the report shows its graph. */
  nirImport?: NirImportRecord;
}

/**
 * One recorded series: variable `var` of neuron `neuron` in layer `layer`, for batch row
 * `sample`, over T steps. This is the recorder's format (src/recorder.ts).
 */
export interface TraceRecording {
  layer: number;
  /** State variable name: the model's voltage variable (e.g. 'u', 'v'), spike variable ('s'), 'i', ... */
  var: string;
  neuron: number;
  sample: number;
  /** Sigprop stream: 'input' (the sample, h) or 'target' (the class signal, t). Default 'input'. */
  stream?: 'input' | 'target';
  /** Values over time, length T. */
  values: ArrayLike<number>;
}

/** Per-layer facts the trace figures need. */
export interface TraceLayerInfo {
  /** Label for figure titles, e.g. 'hidden0 (lif, 500)'. */
  name?: string;
  /** Firing threshold θ in voltage units (drawn as a dashed line); omitted when the model has none. */
  threshold?: number;
  /** Which `var` is the membrane voltage (default: the first present of 'voltage', 'u', 'v', 'mem'). */
  voltageVar?: string;
  /** Which `var` holds the 0/1 spikes (default: the first present of 's', 'spk', 'spike', 'spikes'). */
  spikeVar?: string;
  /** Voltage unit shown on axes (default 'a.u.', dimensionless LIF). */
  voltageUnit?: string;
  /** Layer size (raster y range). */
  size?: number;
  /**
   * 'readout': a non-spiking output integrator (one potential per class); drawn as one panel per
   * sample with every class's potential, input stream only. Default: a neuron population.
   */
  kind?: 'population' | 'readout';
  /** What the raster's y axis counts (default 'neuron index'), e.g. 'input channel'. */
  indexLabel?: string;
}

/** One recording session (e.g. 'before training' or 'after training'). */
export interface TraceSet {
  /** e.g. 'before training', 'after training (epoch 10)'. */
  label: string;
  /** Step size in ms (time axes are in ms). */
  dtMs: number;
  recordings: TraceRecording[];
  /** Per-layer info, keyed by layer index. */
  layers?: Record<number, TraceLayerInfo>;
  /** Class label of each recorded sample (keyed by sample index), shown in titles. */
  sampleLabels?: Record<number, number | string>;
  /** Predicted class of each recorded sample, shown in titles. */
  samplePredictions?: Record<number, number | string>;
}

/** Surrogate curves sampled on one shared x grid (x = U − θ, voltage units). */
export interface SurrogateCurve {
  /** Display name / canonical spec, e.g. 'atan:alpha=2'. */
  name: string;
  /** Primitive f(x) on the grid. */
  f: ArrayLike<number>;
  /** Derivative f'(x) on the grid. */
  df: ArrayLike<number>;
  formulaF?: string;
  formulaDf?: string;
}

export interface SurrogateComparisonData {
  x: ArrayLike<number>;
  curves: SurrogateCurve[];
}

/** The shape of surrogates/comparison.ts surrogateComparison() output (structural, no import). */
export interface SurrogateComparisonJson {
  x: ArrayLike<number>;
  surrogates: { name: string; spec?: string; f: ArrayLike<number>; df: ArrayLike<number>; formula?: { f: string; df: string }; scale?: number }[];
}

/** One row of the surrogate experiment's accuracy table. */
export interface SurrogateAccuracyRow {
  surrogate: string;
  seeds: number[];
  /** Test accuracy (fraction in [0,1]) per seed, same order as `seeds`. */
  accuracies?: number[];
  /** Or precomputed mean and standard deviation (fractions). */
  accuracyMean?: number;
  accuracyStd?: number;
  /** Mean training time per run, seconds. */
  trainTimeS?: number;
}
