/**
 * Decimation of long recordings for plotting. The raw recordings stay in the run folder
 * (JSON/CSV); figures show at most a fixed number of points per trace, and every decimated
 * figure states how (the `note` of each result).
 *
 * - min-max: each bucket of `factor` consecutive steps contributes its minimum and its maximum,
 *   at their true time steps and in time order, so peaks, resets and other extrema survive (a
 *   0/1 spike series keeps one spike per bucket that has any; spike marks in the trace figures
 *   therefore use the exact spike steps instead).
 * - stride: every `factor`-th step (for smooth signals where extrema do not matter).
 * - spike events are never decimated in traces (exact step indices); rasters whose marks would
 *   exceed the budget are binned in time ("a mark = at least one spike in the bin").
 */
import { checkNumber } from '../errors.js';

/** A decimated trace: x are step indices (integers, into the original series), y the values. */
export interface Decimated {
  x: number[];
  y: number[];
  /** Steps per bucket (1 = not decimated). */
  factor: number;
  method: 'none' | 'minmax' | 'stride';
  /** What the figure should say, e.g. 'min-max over 8 steps'; '' when not decimated. */
  note: string;
}

function identity(values: ArrayLike<number>): Decimated {
  const n = values.length;
  const x = new Array<number>(n);
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    x[i] = i;
    y[i] = values[i];
  }
  return { x, y, factor: 1, method: 'none', note: '' };
}

/**
 * Min-max decimation to at most `maxPoints` points (>= 2). Each bucket of `factor` steps gives
 * its minimum and maximum (one point if they coincide), placed at their own step indices, in
 * time order. NaN values are skipped within a bucket.
 */
export function decimateMinMax(values: ArrayLike<number>, maxPoints: number): Decimated {
  checkNumber('maxPoints', maxPoints, { min: 2, integer: true });
  const n = values.length;
  if (n <= maxPoints) return identity(values);
  const factor = Math.ceil(n / Math.floor(maxPoints / 2)); // buckets <= maxPoints/2, 2 points each
  const x: number[] = [];
  const y: number[] = [];
  for (let start = 0; start < n; start += factor) {
    const end = Math.min(n, start + factor);
    let iMin = -1;
    let iMax = -1;
    for (let i = start; i < end; i++) {
      const v = values[i];
      if (Number.isNaN(v)) continue;
      if (iMin < 0 || v < values[iMin]) iMin = i;
      if (iMax < 0 || v > values[iMax]) iMax = i;
    }
    if (iMin < 0) continue;
    const a = Math.min(iMin, iMax);
    const b = Math.max(iMin, iMax);
    x.push(a);
    y.push(values[a]);
    if (b !== a) {
      x.push(b);
      y.push(values[b]);
    }
  }
  return { x, y, factor, method: 'minmax', note: `min-max over ${factor} steps` };
}

/** Every `factor`-th step, with factor chosen so that at most `maxPoints` points remain. */
export function decimateStride(values: ArrayLike<number>, maxPoints: number): Decimated {
  checkNumber('maxPoints', maxPoints, { min: 1, integer: true });
  const n = values.length;
  if (n <= maxPoints) return identity(values);
  const factor = Math.ceil(n / maxPoints);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i += factor) {
    x.push(i);
    y.push(values[i]);
  }
  return { x, y, factor, method: 'stride', note: `every ${ordinal(factor)} step shown` };
}

/** 2 -> '2nd', 4 -> '4th', 21 -> '21st'. */
export function ordinal(k: number): string {
  const m100 = k % 100;
  if (m100 >= 11 && m100 <= 13) return `${k}th`;
  return `${k}${['th', 'st', 'nd', 'rd'][k % 10] ?? 'th'}`;
}

/** Step indices where a 0/1 spike series is set (value > 0.5). Never decimated. */
export function spikeSteps(spikes: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < spikes.length; i++) if (spikes[i] > 0.5) out.push(i);
  return out;
}

/** Raster marks: one (step, neuron) pair per mark. */
export interface RasterMarks {
  steps: number[];
  neurons: number[];
  /** Time bin in steps (1 = exact spike times). */
  binSteps: number;
  /** Spikes before binning. */
  spikeCount: number;
  note: string;
}

/**
 * Raster marks from per-neuron spike step lists (`spikeStepsByNeuron[j]` holds neuron
 * `neuronIds[j]`'s spike steps, ascending). When there are more than `maxMarks` spikes, time is
 * binned in powers of two until the marks fit; a mark then means "at least one spike in the
 * bin" and sits at the bin's first step.
 */
export function rasterMarks(
  spikeStepsByNeuron: readonly (readonly number[])[],
  neuronIds: readonly number[],
  maxMarks: number,
): RasterMarks {
  checkNumber('maxMarks', maxMarks, { min: 1, integer: true });
  let spikeCount = 0;
  for (const s of spikeStepsByNeuron) spikeCount += s.length;
  let bin = 1;
  for (;;) {
    const steps: number[] = [];
    const neurons: number[] = [];
    spikeStepsByNeuron.forEach((list, j) => {
      let last = -1;
      for (const t of list) {
        const b = Math.floor(t / bin) * bin;
        if (b !== last) {
          steps.push(b);
          neurons.push(neuronIds[j]);
          last = b;
        }
      }
    });
    if (steps.length <= maxMarks || bin > 1 << 20) {
      const note = bin === 1 ? '' : `spikes binned over ${bin} steps (a mark = at least one spike in the bin)`;
      return { steps, neurons, binSteps: bin, spikeCount, note };
    }
    bin *= 2;
  }
}
