/**
 * The experiment configuration: what a config file (JSON) or the CLI describes, after defaults
 * are filled in. The CLI helper owns validation (schema, unknown fields rejected, errors naming
 * field/value/allowed); learning rules consume ResolvedConfig. Units are in the names.
 *
 * Extend by adding optional fields; keep this the one place where a run's settings are typed.
 */
import type { EquationModelSpec } from '../../models/equation.js';

/** The implemented learning rules (src/learning registers them; pepita, dfa and ff also in spiking forms). */
export type RuleName = 'sigprop' | 'bp' | 'bptt' | 'pepita' | 'fa' | 'dfa' | 'ff';

/** An equation-defined model written inline in a config (models/equation.ts EquationModelSpec; name optional). */
export type InlineModelSpec = Omit<EquationModelSpec, 'name'> & { name?: string };

export interface LayerConfig {
  /** Number of neurons. */
  size: number;
  /**
   * Neuron model registry name: 'lif' | 'synaptic' | 'leaky' | ... (models/registry.ts), or an
   * inline equation model: what defineEquationModel (models/equation.ts) accepts, name optional.
   */
  model?: string | InlineModelSpec;
  /** Model parameters (e.g. { beta: 0.95, threshold: 1, reset: 'subtract' }). */
  params?: Record<string, unknown>;
  /** Recurrent projection from the layer's own spikes at t−1: 'all-to-all' or 'one-to-one' (snnTorch RLeaky / RSynaptic). Hidden layers of spiking rules. */
  recurrent?: 'all-to-all' | 'one-to-one';
  /** Synaptic delay of the layer's input projection in steps (integer ≥ 0). Hidden layers of spiking sigprop. */
  delays?: number;
}

export interface ExperimentConfig {
  /** Free-form run name (used in the run folder name). */
  name?: string;
  /** Dataset registry name: 'mnist' | 'fashion-mnist' | 'cifar10' | 'cifar100' | synthetic names. */
  dataset: string;
  /** Directory for datasets that are read from disk (CIFAR). */
  dataDir?: string;
  /**
   * Number of training / test samples. Image datasets: a class-balanced subset drawn with `seed`
   * (data/split.ts subsetIndices; not the first N), default the whole split. Synthetic tasks: the
   * number of samples generated, default the task's.
   */
  trainSize?: number;
  testSize?: number;
  /** Hidden layers and output layer sizes are given here; the input size comes from the dataset. */
  layers: LayerConfig[];
  /** Learning rule. */
  rule: RuleName;
  /** 'spiking' runs neuron models over T steps; 'rate' is the non-spiking MLP (T = 1). */
  mode?: 'spiking' | 'rate' | 'continuous';
  /** Spiking representation for sigprop: surrogate primitive of U − θ, or the voltage U itself. */
  representation?: 'surrogate' | 'voltage';
  /** Surrogate spec, e.g. 'fastSigmoid:k=25' or 'atan:alpha=2'. */
  surrogate?: string;
  /** Eligibility: 'trace' (exact presynaptic trace) or 'instant' (x[t] in place of e[t]). */
  eligibility?: 'trace' | 'instant';
  /** Sigprop local loss. */
  loss?: 'simce' | 'l2' | 'classce';
  /** Sigprop target signal projection: learned or fixed random. */
  targetProjection?: 'learned' | 'fixed';
  /** Number of time steps per sample and step size. */
  steps?: number;
  dtMs?: number;
  /** Input encoder spec (src/encoders.ts: 'rate', 'latency', 'direct', 'delta', with options), or 'raster' for pre-encoded spike rasters. */
  encoder?: string;
  encoderParams?: Record<string, number>;
  /** Optimiser and schedule. */
  optimizer?: 'sgd' | 'momentum' | 'adam';
  learningRate?: number;
  momentum?: number;
  weightDecay?: number;
  /** Multiply the learning rate by `gamma` at each epoch listed in `milestones`. */
  schedule?: { milestones: number[]; gamma: number };
  epochs?: number;
  batchSize?: number;
  seed?: number;
  /** A registered backend name ('reference', 'wasm', 'gpu') or 'auto' (the fastest available; never gpu). */
  backend?: string;
  /** wasm backend threads, 1..64; 0 (default): one per core, at most 4. Results do not depend on it. */
  threads?: number;
  /** Where the run folder goes (default runs/). */
  outDir?: string;
  /** Record these for traces: neuron indices per layer and batch rows. */
  record?: { layers?: number[]; neurons?: number[]; samples?: number[] };
  /** Rule-specific extras (e.g. PEPITA's F scale, FF's theta). */
  ruleParams?: Record<string, unknown>;
  /** Parameters of a synthetic dataset task (see src/data/synthetic.ts), e.g. { noise: 0.1 }. */
  datasetParams?: Record<string, number>;
  /** Standardise inputs per channel with training-split statistics instead of [0, 1]. Default false. */
  standardize?: boolean;
  /** Write a checkpoint every N epochs (0 = only at the end and on Ctrl-C). Default 1. */
  checkpointEvery?: number;
}

/** Fields that always have a value after `resolveConfig` (src/config/resolve.ts) fills defaults. */
export type DefaultedField =
  | 'name' | 'mode' | 'representation' | 'surrogate' | 'eligibility' | 'loss' | 'targetProjection'
  | 'steps' | 'dtMs' | 'encoder' | 'optimizer' | 'learningRate' | 'momentum' | 'weightDecay'
  | 'epochs' | 'batchSize' | 'seed' | 'backend' | 'threads' | 'outDir' | 'checkpointEvery' | 'standardize';

/** A validated configuration with defaults filled in (what the run loop and rules receive). */
export type ResolvedConfig = ExperimentConfig & Required<Pick<ExperimentConfig, DefaultedField>>;
