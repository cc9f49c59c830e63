/**
 * Live training for a page (`sigprop serve`), environment-neutral so that Node tests run it too:
 * the presets the page offers and `LiveTrainer`, which trains a rule batch by batch, yields to
 * the event loop after every batch, measures test accuracy as it goes, records voltage traces and
 * spikes of one test sample with the engine's Recorder, and packs the trained network as a
 * checkpoint in the project's format (`sigprop eval` reads it).
 */
import type { Backend } from '../backend/backend.js';
import { architectureOf, encodeCheckpoint, stateTensors, type Checkpoint } from '../checkpoint-format.js';
import type { ExperimentConfig } from '../config/types.js';
import { batches, inOrder, matchesAt } from '../data/batches.js';
import { imageSubsetSplit } from '../data/mnist-subset.js';
import { loadSynthetic } from '../data/synthetic.js';
import type { Dataset, Split } from '../data/types.js';
import { ParameterError } from '../errors.js';
import { createRule, predictOn, trainOn, type TrainingRule } from '../learning/rule.js';
import { ReferenceBackend } from '../backend/reference.js';
import { Recorder } from '../recorder.js';
import { Rng } from '../rng.js';

/** A configuration the page offers. */
export interface LivePreset {
  name: string;
  label: string;
  description: string;
  /** The experiment (dataset, sizes, network, rule); the page sets surrogate and learningRate. */
  config: ExperimentConfig & { epochs: number; batchSize: number; steps: number };
  /** Test accuracy is measured every this many batches (and at each epoch's end). */
  evalEvery: number;
  /** Voltage traces of this many hidden neurons are shown. */
  traceNeurons: number;
}

/**
 * The page's presets. Spike patterns: 10 classes of Poisson rasters whose rate bumps differ only
 * between 0.05 and 0.12 spikes per step (the defaults of the task, 0.02 and 0.3, are learned in a
 * few batches; these give a learning curve), 100 inputs, 40 steps of 1 ms, LIF 100-64-10.
 */
export const LIVE_PRESETS: readonly LivePreset[] = [
  {
    name: 'spike-patterns',
    label: 'Spike patterns (synthetic)',
    description: '10 classes of Poisson spike rasters (100 inputs, 40 steps of 1 ms); LIF 100-64-10, spiking sigprop',
    config: {
      name: 'browser-spike-patterns', dataset: 'spike-patterns', datasetParams: { classes: 10, inputs: 100, timeSteps: 40, rateLow: 0.05, rateHigh: 0.12 },
      trainSize: 1000, testSize: 200, seed: 0,
      rule: 'sigprop', mode: 'spiking', layers: [{ size: 64, params: { beta: 0.9 } }, { size: 10 }],
      steps: 40, encoder: 'raster', optimizer: 'adam', learningRate: 0.005, batchSize: 32, epochs: 8, surrogate: 'fastSigmoid:k=5',
    },
    evalEvery: 8,
    traceNeurons: 4,
  },
  {
    name: 'mnist',
    label: 'MNIST subset',
    description: 'the first images of MNIST (rate coded over 20 steps of 1 ms); LIF 784-200-10, spiking sigprop',
    config: {
      name: 'browser-mnist', dataset: 'mnist', seed: 0,
      rule: 'sigprop', mode: 'spiking', layers: [{ size: 200, model: 'lif', params: { beta: 0.95, threshold: 1 } }, { size: 10 }],
      representation: 'surrogate', eligibility: 'trace', loss: 'classce', targetProjection: 'learned', ruleParams: { temperature: 0.05 },
      steps: 20, encoder: 'rate', optimizer: 'adam', learningRate: 0.003, batchSize: 32, epochs: 5, surrogate: 'fastSigmoid:k=5',
    },
    evalEvery: 20,
    traceNeurons: 4,
  },
];

/** The preset called `name` (a ParameterError listing the names otherwise). */
export function livePreset(name: string): LivePreset {
  const p = LIVE_PRESETS.find((x) => x.name === name);
  if (!p) throw new ParameterError(`live preset "${name}" is not known; presets: ${LIVE_PRESETS.map((x) => x.name).join(', ')}`);
  return p;
}

/** The synthetic dataset of a preset (generated from its seed and params, as `sigprop run` would). */
export function syntheticLiveDataset(preset: LivePreset): Dataset {
  const c = preset.config;
  return loadSynthetic(c.dataset, { seed: c.seed, params: c.datasetParams, trainSize: c.trainSize, testSize: c.testSize });
}

/** An image dataset from two subsets in the compact binary form (data/mnist-subset.ts). */
export function imageLiveDataset(name: string, trainBytes: Uint8Array, testBytes: Uint8Array): Dataset {
  const train = imageSubsetSplit(trainBytes, `${name} train subset`);
  const test = imageSubsetSplit(testBytes, `${name} test subset`);
  if (train.inputSize !== test.inputSize || train.numClasses !== test.numClasses) {
    throw new ParameterError(`${name}: the train and test subsets differ in image size or classes`);
  }
  const side = Math.round(Math.sqrt(train.inputSize));
  return {
    name, inputShape: side * side === train.inputSize ? [1, side, side] : [train.inputSize], inputSize: train.inputSize, numClasses: train.numClasses,
    train, test, normalisation: { kind: 'unit' }, source: `${name}: first ${train.n} training and ${test.n} test images`,
  };
}

/** What the page chooses on top of a preset. */
export interface LiveSettings {
  /** Surrogate spec, e.g. 'fastSigmoid:k=5' (default the preset's). */
  surrogate?: string;
  /** Learning rate (default the preset's). */
  learningRate?: number;
  /** Epochs (default the preset's). */
  epochs?: number;
}

/** One point of the accuracy curves. */
export interface LivePoint {
  /** Epochs trained so far (fractional: batches / batches per epoch). */
  epoch: number;
  /** Mean training accuracy over the batches since the previous point. */
  trainAccuracy: number;
  /** Test accuracy of the whole test split now. */
  testAccuracy: number;
  /** Mean training loss (sum of the layers' local losses) since the previous point. */
  loss: number;
  /** Seconds since training started. */
  timeS: number;
}

/** Voltage traces and spikes of one test sample, read with the engine's Recorder. */
export interface LiveRecording {
  /** Test-split index of the sample, and its label and predicted class. */
  sample: number;
  label: number;
  predicted: number;
  dtMs: number;
  /** Time of each step in ms. */
  timeMs: number[];
  /** Layer the traces come from (the first hidden layer) and its firing threshold (model units). */
  layerName: string;
  threshold: number;
  /** Membrane potential U over time (model units: the threshold is `threshold`) of a few neurons. */
  voltage: { neuron: number; values: number[] }[];
  /** Spike times (ms) of every neuron of the layer, by neuron. */
  spikeTimesMs: number[][];
  /** Input spike times (ms) by input channel, when the input is a spike raster. */
  inputSpikeTimesMs?: number[][];
}

/** What the page shows after each step of progress. */
export interface LiveProgress {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  /** Training samples per second of training time (evaluation and drawing left out). */
  samplesPerSecond: number;
  points: LivePoint[];
  done: boolean;
}

/** Options of `LiveTrainer.run`. */
export interface LiveRunOptions {
  /** Polled after every batch: true stops training after that batch. */
  shouldStop?: () => boolean;
  /** Called after every batch (cheap) and with `evaluated` true after each test measurement. */
  onProgress?: (p: LiveProgress, evaluated: boolean) => void | Promise<void>;
  /** How to yield to the event loop after each batch (default setTimeout 0). */
  yieldFn?: () => Promise<void>;
}

const defaultYield = () => new Promise<void>((r) => setTimeout(r, 0));

/** Trains a preset's network live on one backend. */
export class LiveTrainer {
  readonly config: ExperimentConfig & { epochs: number; batchSize: number; steps: number };
  readonly rule: TrainingRule;
  readonly points: LivePoint[] = [];
  private readonly ruleRng: Rng;
  private readonly dataRng: Rng;
  epoch = 0;
  batch = 0;
  private trainSeconds = 0;
  private trainSamples = 0;
  private elapsedS = 0;

  constructor(readonly backend: Backend, readonly dataset: Dataset, readonly preset: LivePreset, settings: LiveSettings = {}) {
    const c = preset.config;
    this.config = {
      ...c,
      surrogate: settings.surrogate ?? c.surrogate,
      learningRate: settings.learningRate ?? c.learningRate,
      epochs: settings.epochs ?? c.epochs,
      trainSize: dataset.train.n,
      testSize: dataset.test.n,
    };
    // the same RNG streams as the run loop (src/run-setup.ts), so `sigprop eval` rebuilds the network
    const root = new Rng(this.config.seed ?? 0);
    this.ruleRng = root.fork();
    this.dataRng = root.fork();
    this.rule = createRule(this.config, { backend, rng: this.ruleRng, inputSize: dataset.inputSize, numClasses: dataset.numClasses });
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.dataset.train.n / this.config.batchSize);
  }

  /** Accuracy of the rule on a split (in batches of the config's batch size; predictAsync where reads are asynchronous). */
  async evaluate(split: Split = this.dataset.test): Promise<number> {
    let correct = 0;
    for (const b of inOrder(split, this.config.batchSize)) correct += matchesAt(split, b.start, await predictOn(this.rule, this.backend, b.x, b.size));
    return correct / split.n;
  }

  /** Train until the configured epochs are done or `shouldStop()`; yields after every batch. */
  async run(opts: LiveRunOptions = {}): Promise<void> {
    const yieldFn = opts.yieldFn ?? defaultYield;
    const bpe = this.batchesPerEpoch;
    const started = now() - this.elapsedS * 1000;
    let accSum = 0, lossSum = 0, count = 0;
    const progress = (done: boolean): LiveProgress => ({
      epoch: this.epoch, batch: this.batch, batchesPerEpoch: bpe, points: this.points, done,
      samplesPerSecond: this.trainSeconds > 0 ? this.trainSamples / this.trainSeconds : 0,
    });
    const measure = async () => {
      const testAccuracy = await this.evaluate();
      this.elapsedS = (now() - started) / 1000;
      this.points.push({
        epoch: this.epoch + this.batch / bpe, trainAccuracy: count ? accSum / count : NaN, testAccuracy, loss: count ? lossSum / count : NaN, timeS: this.elapsedS,
      });
      accSum = lossSum = count = 0;
      await opts.onProgress?.(progress(false), true);
    };
    if (this.points.length === 0) await measure(); // the untrained network: chance level
    while (this.epoch < this.config.epochs) {
      this.rule.setEpoch(this.epoch);
      const order = new Rng(0);
      order.setState(this.dataRng.getState());
      let k = 0;
      for (const b of batches(this.dataset.train, this.config.batchSize, this.dataRng)) {
        if (k++ < this.batch) continue; // resuming inside an epoch (after stop / start)
        const t0 = now();
        const r = await trainOn(this.rule, this.backend, b.x, b.labels);
        this.trainSeconds += (now() - t0) / 1000;
        this.trainSamples += b.size;
        this.batch++;
        accSum += r.accuracy ?? NaN;
        lossSum += r.loss;
        count++;
        const endOfEpoch = this.batch === bpe;
        if (endOfEpoch) {
          this.epoch++;
          this.batch = 0;
        }
        if (endOfEpoch || this.batch % this.preset.evalEvery === 0) await measure();
        else await opts.onProgress?.(progress(false), false);
        await yieldFn();
        if (opts.shouldStop?.()) {
          // the data order of an unfinished epoch restarts from its beginning state on the next run
          if (!endOfEpoch) this.dataRng.setState(order.getState());
          this.elapsedS = (now() - started) / 1000;
          return;
        }
      }
    }
    await opts.onProgress?.(progress(true), false);
  }

  /** The hidden neurons whose voltage the last recording traced (kept while they stay informative). */
  private traced: number[] = [];

  /**
   * Run one test sample through the network with a Recorder on the first hidden layer: voltage
   * and spikes of all its neurons (weights unchanged). The voltage traces returned are those of
   * `neurons`, or else of a few informative neurons: ones that fire on this sample but not at
   * almost every step, spread over the range of spike counts (the previous choice is kept while
   * its neurons stay in that set, so the traces do not jump between draws).
   */
  async record(sample = 0, neurons?: number[]): Promise<LiveRecording> {
    const rule = await this.recordingRule();
    const net = rule.network;
    if (!net) throw new ParameterError(`rule ${rule.name} has no engine network to record`);
    const split = this.dataset.test;
    const D = split.inputSize;
    const layer = net.layers[0];
    const rec = new Recorder({ layer: 0, vars: ['voltage', 'spikes'], neurons: 'all', samples: [0] }, this.config.steps);
    net.attach(rec);
    let predicted: number;
    try {
      predicted = rule.predict(split.images.subarray(sample * D, (sample + 1) * D), 1)[0];
    } finally {
      net.detach(rec);
    }
    const dtMs = rec.dtMs;
    const timeMs = Array.from(rec.times(), (t) => t * dtMs);
    const traces = rec.traces();
    const spikeTimesMs: number[][] = Array.from({ length: layer.size }, () => []);
    const volts: Float32Array[] = [];
    for (const t of traces) {
      if (t.var === 'voltage') volts[t.neuron] = t.values;
      else t.values.forEach((v, k) => {
        if (v > 0) spikeTimesMs[t.neuron].push(timeMs[k]);
      });
    }
    const chosen = (neurons ?? this.chooseTraced(spikeTimesMs.map((s) => s.length), timeMs.length)).filter((n) => n >= 0 && n < layer.size);
    const voltage = chosen.map((n) => ({ neuron: n, values: Array.from(volts[n]) }));
    const threshold = Number((layer.params as { threshold?: number } | undefined)?.threshold ?? 1);
    let inputSpikeTimesMs: number[][] | undefined;
    if (this.config.encoder === 'raster') {
      const T = this.config.steps, K = D / T;
      inputSpikeTimesMs = Array.from({ length: K }, () => []);
      for (let t = 0; t < T; t++) for (let i = 0; i < K; i++) if (split.images[sample * D + t * K + i] > 0) inputSpikeTimesMs[i].push(t * dtMs);
    }
    return { sample, label: split.labels[sample], predicted, dtMs, timeMs, layerName: layer.name, threshold, voltage, spikeTimesMs, inputSpikeTimesMs };
  }

  /** The network of the same config on `reference` that records where reads are asynchronous (WebGPU). */
  private twin: TrainingRule | null = null;

  /**
   * The rule a recording runs on: the trained one, or where the backend's reads are asynchronous
   * (the recorder reads every step) a twin on `reference` holding the trained weights.
   */
  private async recordingRule(): Promise<TrainingRule> {
    if (!this.backend.asyncReads) return this.rule;
    await this.backend.sync?.();
    this.twin ??= createRule(this.config, { backend: new ReferenceBackend(), rng: new Rng(this.config.seed ?? 0), inputSize: this.dataset.inputSize, numClasses: this.dataset.numClasses });
    this.twin.loadState(this.rule.state());
    return this.twin;
  }

  /** Neurons to trace: see `record`. */
  private chooseTraced(counts: number[], steps: number): number[] {
    const k = Math.min(this.preset.traceNeurons, counts.length);
    const informative = counts.map((c, n) => [c, n]).filter(([c]) => c > 0 && c < 0.8 * steps).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, n]) => n);
    if (this.traced.length === k && this.traced.every((n) => informative.includes(n))) return this.traced;
    const pick: number[] = [];
    for (let i = 0; i < k && i < informative.length; i++) pick.push(informative[Math.floor((i * informative.length) / k)]);
    for (let n = 0; pick.length < k; n++) if (!pick.includes(n)) pick.push(n);
    this.traced = pick.sort((a, b) => a - b);
    return this.traced;
  }

  /** The trained network as a checkpoint (config and accuracy curve in meta; `sigprop eval` reads it). */
  async checkpoint(): Promise<Checkpoint> {
    await this.backend.sync?.(); // the weights, where reads are asynchronous
    return {
      epoch: this.epoch,
      batch: this.batch,
      architecture: architectureOf(this.config, this.dataset.inputSize),
      tensors: stateTensors(this.rule.state()),
      rng: { rule: this.ruleRng.getState(), data: this.dataRng.getState() },
      meta: {
        config: this.config,
        backend: this.backend.name,
        source: `trained in the browser (sigprop serve) on ${this.dataset.source}`,
        curve: this.points,
      },
    };
  }

  /** The checkpoint's bytes (src/checkpoint-format.ts). */
  async checkpointBytes(): Promise<Uint8Array> {
    return encodeCheckpoint(await this.checkpoint());
  }

  dispose(): void {
    this.rule.dispose?.();
    this.twin?.dispose?.();
  }
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
