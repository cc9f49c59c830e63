/**
 * Synthetic tasks for fast tests and sanity checks, generated from Rng(seed) (default seed 0):
 * the same seed and params give the same data. Sizes come from trainSize / testSize (defaults
 * below); task parameters from opts.params (unknown keys are rejected). Labels are balanced
 * (sample i has class i mod numClasses, in generation order).
 *
 * - 'spike-patterns': class-dependent Poisson spike trains. Class c has a rate profile over the
 *   inputs: a Gaussian bump centred at input (c + 0.5) * inputs / classes (circular distance,
 *   width inputs / (2 * classes)) on a baseline, rate_c[i] = rateLow + (rateHigh - rateLow) * bump.
 *   Each sample is a raster of 0/1 spikes, spike[t, i] ~ Bernoulli(rate_c[i]) per time step,
 *   stored time-major: inputShape [timeSteps, inputs]. meta.rates holds the profiles [classes][inputs].
 * - 'linear2d': 2 classes, points uniform in [0, 1]^2, class = side of the line through (0.5, 0.5)
 *   at `angleDeg`; points closer than `margin` to the line are redrawn, so a margin separates them.
 * - 'xor': 2 classes, points uniform in [0, 1]^2 away from the centre lines by `margin`,
 *   class = (x > 0.5) XOR (y > 0.5). Not linearly separable.
 * - 'moons': two interleaving half circles (radius 1, the second shifted by (1, -0.5)) with
 *   Gaussian noise `noise`, mapped to [0, 1]^2 by x' = (x + 1.5) / 4, y' = (y + 1.25) / 2.5, clipped.
 * - 'circles': two concentric circles (radii `inner` and 1) with Gaussian noise `noise`, mapped to
 *   [0, 1]^2 by p' = (p + 1.25) / 2.5, clipped.
 * All values lie in [0, 1] (normalisation kind 'none').
 */
import { ParameterError, checkNumber } from '../errors.js';
import { Rng } from '../rng.js';
import type { Dataset, LoadOptions, Split } from './types.js';

/** A synthetic task: its defaults and a generator of n samples. */
export interface SyntheticTask {
  name: string;
  description: string;
  /** Default parameters (also the list of allowed keys). */
  defaults: Record<string, number>;
  defaultTrainSize: number;
  defaultTestSize: number;
  /** Shape of one sample and number of classes for the given params. */
  describe(p: Record<string, number>): { inputShape: number[]; numClasses: number; meta?: Record<string, unknown> };
  /**
   * Fill images [n, inputSize] and labels [n] from `rng` (task-level structure such as the
   * spike-pattern rate profiles depends only on the params, so train and test share it).
   */
  generate(n: number, rng: Rng, p: Record<string, number>, images: Float32Array, labels: Int32Array): void;
}

/** Rate profiles [classes][inputs] of the spike-pattern task (per-time-step spike probabilities). */
export function spikePatternRates(p: Record<string, number>): number[][] {
  const { classes, inputs, rateLow, rateHigh } = p;
  const width = inputs / (2 * classes);
  return Array.from({ length: classes }, (_, c) => {
    const centre = ((c + 0.5) * inputs) / classes;
    return Array.from({ length: inputs }, (_, i) => {
      const raw = Math.abs(i + 0.5 - centre);
      const d = Math.min(raw, inputs - raw);
      return rateLow + (rateHigh - rateLow) * Math.exp(-(d * d) / (2 * width * width));
    });
  });
}

const clip01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Uniform point in [0,1]^2 with |dist(point)| >= margin (rejection sampling, bounded tries). */
function pointAwayFrom(rng: Rng, dist: (x: number, y: number) => number, margin: number): [number, number] {
  for (let tries = 0; tries < 10000; tries++) {
    const x = rng.uniform();
    const y = rng.uniform();
    if (Math.abs(dist(x, y)) >= margin) return [x, y];
  }
  throw new ParameterError(`margin = ${margin} leaves no room for points; use a smaller margin`);
}

const tasks = new Map<string, SyntheticTask>();

/** Register a synthetic task (the dataset registry exposes every task under its name). */
export function registerSyntheticTask(task: SyntheticTask): void {
  tasks.set(task.name, task);
}

/** Registered synthetic tasks. */
export function syntheticTasks(): SyntheticTask[] {
  return [...tasks.values()];
}

registerSyntheticTask({
  name: 'spike-patterns',
  description: 'class-dependent Poisson spike rasters [timeSteps, inputs] (rate bump per class)',
  defaults: { classes: 10, inputs: 100, timeSteps: 50, rateLow: 0.02, rateHigh: 0.3 },
  defaultTrainSize: 1000,
  defaultTestSize: 200,
  describe(p) {
    return { inputShape: [p.timeSteps, p.inputs], numClasses: p.classes, meta: { timeSteps: p.timeSteps, inputs: p.inputs, rates: spikePatternRates(p), encoding: 'spikes' } };
  },
  generate(n, rng, p, images, labels) {
    const rates = spikePatternRates(p);
    const size = p.timeSteps * p.inputs;
    for (let s = 0; s < n; s++) {
      const c = s % p.classes;
      labels[s] = c;
      const r = rates[c];
      for (let t = 0; t < p.timeSteps; t++) {
        const o = s * size + t * p.inputs;
        for (let i = 0; i < p.inputs; i++) images[o + i] = rng.uniform() < r[i] ? 1 : 0;
      }
    }
  },
});

registerSyntheticTask({
  name: 'linear2d',
  description: '2-D points, 2 classes split by a line (linearly separable with a margin)',
  defaults: { angleDeg: 30, margin: 0.05 },
  defaultTrainSize: 1000,
  defaultTestSize: 500,
  describe: () => ({ inputShape: [2], numClasses: 2 }),
  generate(n, rng, p, images, labels) {
    const a = (p.angleDeg * Math.PI) / 180;
    const nx = -Math.sin(a);
    const ny = Math.cos(a);
    const dist = (x: number, y: number) => (x - 0.5) * nx + (y - 0.5) * ny;
    for (let s = 0; s < n; s++) {
      const c = s % 2;
      let x: number, y: number;
      do [x, y] = pointAwayFrom(rng, dist, p.margin);
      while ((dist(x, y) > 0 ? 1 : 0) !== c);
      images[2 * s] = x;
      images[2 * s + 1] = y;
      labels[s] = c;
    }
  },
});

registerSyntheticTask({
  name: 'xor',
  description: '2-D points, 2 classes by quadrant XOR (not linearly separable)',
  defaults: { margin: 0.05 },
  defaultTrainSize: 1000,
  defaultTestSize: 500,
  describe: () => ({ inputShape: [2], numClasses: 2 }),
  generate(n, rng, p, images, labels) {
    const dist = (x: number, y: number) => Math.min(Math.abs(x - 0.5), Math.abs(y - 0.5));
    for (let s = 0; s < n; s++) {
      const c = s % 2;
      let [x, y] = pointAwayFrom(rng, dist, p.margin);
      // Reflect x about the centre to land in a quadrant of class c.
      if ((((x > 0.5) !== (y > 0.5)) ? 1 : 0) !== c) x = 1 - x;
      images[2 * s] = x;
      images[2 * s + 1] = y;
      labels[s] = c;
    }
  },
});

registerSyntheticTask({
  name: 'moons',
  description: '2-D two interleaving half circles with noise, 2 classes (non-linear)',
  defaults: { noise: 0.1 },
  defaultTrainSize: 1000,
  defaultTestSize: 500,
  describe: () => ({ inputShape: [2], numClasses: 2 }),
  generate(n, rng, p, images, labels) {
    for (let s = 0; s < n; s++) {
      const c = s % 2;
      const th = Math.PI * rng.uniform();
      let x = c === 0 ? Math.cos(th) : 1 - Math.cos(th);
      let y = c === 0 ? Math.sin(th) : 0.5 - Math.sin(th);
      x += rng.normal(0, p.noise);
      y += rng.normal(0, p.noise);
      images[2 * s] = clip01((x + 1.5) / 4);
      images[2 * s + 1] = clip01((y + 1.25) / 2.5);
      labels[s] = c;
    }
  },
});

registerSyntheticTask({
  name: 'circles',
  description: '2-D concentric circles with noise, 2 classes (inner = 1, non-linear)',
  defaults: { noise: 0.05, inner: 0.5 },
  defaultTrainSize: 1000,
  defaultTestSize: 500,
  describe: () => ({ inputShape: [2], numClasses: 2 }),
  generate(n, rng, p, images, labels) {
    for (let s = 0; s < n; s++) {
      const c = s % 2;
      const th = 2 * Math.PI * rng.uniform();
      const r = c === 1 ? p.inner : 1;
      images[2 * s] = clip01((r * Math.cos(th) + rng.normal(0, p.noise) + 1.25) / 2.5);
      images[2 * s + 1] = clip01((r * Math.sin(th) + rng.normal(0, p.noise) + 1.25) / 2.5);
      labels[s] = c;
    }
  },
});

/** Merge and validate params against a task's defaults. */
function resolveParams(task: SyntheticTask, given: Record<string, number> = {}): Record<string, number> {
  const p = { ...task.defaults };
  for (const [k, v] of Object.entries(given)) {
    if (!(k in task.defaults)) {
      throw new ParameterError(`synthetic task ${task.name}: unknown parameter ${k}; allowed: ${Object.keys(task.defaults).join(', ')}`);
    }
    p[k] = checkNumber(`${task.name}.${k}`, v);
  }
  if (task.name === 'spike-patterns') {
    checkNumber('spike-patterns.classes', p.classes, { min: 2, max: 255, integer: true });
    checkNumber('spike-patterns.inputs', p.inputs, { min: 1, max: 1e5, integer: true });
    checkNumber('spike-patterns.timeSteps', p.timeSteps, { min: 1, max: 1e5, integer: true });
    checkNumber('spike-patterns.rateLow', p.rateLow, { min: 0, max: 1 });
    checkNumber('spike-patterns.rateHigh', p.rateHigh, { min: 0, max: 1 });
  }
  if ('margin' in p) checkNumber(`${task.name}.margin`, p.margin, { min: 0, max: 0.4 });
  if ('noise' in p) checkNumber(`${task.name}.noise`, p.noise, { min: 0 });
  if ('inner' in p) checkNumber(`${task.name}.inner`, p.inner, { min: 0, max: 1 });
  return p;
}

/**
 * Number of classes of a synthetic task with these params, without generating data (the params
 * are validated as loadSynthetic does: unknown keys and bad values throw ParameterError).
 */
export function syntheticClassCount(name: string, params?: Record<string, number>): number {
  const task = tasks.get(name);
  if (!task) throw new ParameterError(`unknown synthetic task ${name}; known: ${[...tasks.keys()].join(', ')}`);
  return task.describe(resolveParams(task, params)).numClasses;
}

/**
 * Generate a synthetic dataset. The train split uses Rng(seed).fork() and the test split the
 * next fork, so the test set does not change when trainSize does.
 */
export function loadSynthetic(name: string, opts: LoadOptions = {}): Dataset {
  const task = tasks.get(name);
  if (!task) throw new ParameterError(`unknown synthetic task ${name}; known: ${[...tasks.keys()].join(', ')}`);
  const p = resolveParams(task, opts.params);
  const { inputShape, numClasses, meta } = task.describe(p);
  const inputSize = inputShape.reduce((a, b) => a * b, 1);
  const seed = checkNumber('seed', opts.seed ?? 0, { integer: true });
  const rng = new Rng(seed);
  const trainRng = rng.fork();
  const testRng = rng.fork();
  const make = (n: number, r: Rng): Split => {
    const images = new Float32Array(n * inputSize);
    const labels = new Int32Array(n);
    task.generate(n, r, p, images, labels);
    return { images, labels, n, inputSize, numClasses };
  };
  const trainSize = checkNumber('trainSize', opts.trainSize ?? task.defaultTrainSize, { min: 1, max: 1e7, integer: true });
  const testSize = checkNumber('testSize', opts.testSize ?? task.defaultTestSize, { min: 1, max: 1e7, integer: true });
  if (trainSize * inputSize > 2 ** 28 || testSize * inputSize > 2 ** 28) {
    throw new ParameterError(`synthetic task ${name}: ${Math.max(trainSize, testSize)} samples of ${inputSize} values is too large (limit 2^28 values per split)`);
  }
  return {
    name,
    inputShape,
    inputSize,
    numClasses,
    train: make(trainSize, trainRng),
    test: make(testSize, testRng),
    normalisation: { kind: 'none' },
    source: `synthetic ${name} seed=${seed} ${JSON.stringify(p)}`,
    meta: { ...meta, params: p },
  };
}
