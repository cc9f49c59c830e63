/**
 * sigprop for pages: the entry of the browser bundle (`npm run build:web` writes
 * dist-web/sigprop.js, with kernels.wasm beside it; `sigprop serve` serves it as /sigprop.js).
 *
 *   import * as sigprop from './sigprop.js';
 *   const backend = await sigprop.createBackend('wasm');          // fetches kernels.wasm beside sigprop.js
 *   const data = sigprop.loadSynthetic('spike-patterns', { trainSize: 500 });
 *   const rule = sigprop.createRule({ dataset: 'spike-patterns', rule: 'sigprop', mode: 'spiking', encoder: 'raster', steps: 50,
 *     layers: [{ size: 64 }, { size: 10 }] }, { backend, rng: new sigprop.Rng(0), inputSize: data.inputSize, numClasses: data.numClasses });
 *
 * Everything here runs without Node built-ins. What the Node library has and the bundle has not:
 * file output (run folders, reports, checkpoint files: use encodeCheckpoint and a Blob), the
 * dataset loaders that read files (MNIST from bytes: imageSubsetSplit / imageLiveDataset), the
 * wasm backend's worker threads (threads = 1), custom mathjs surrogates and equation models.
 * src/web/build.ts swaps the few Node-only modules on these paths for the stand-ins in src/web/shims.
 */

// what runs anywhere: errors, randomness, tensors, backends ('gpu' where gpu.js was bundled, 'wasm',
// 'reference'), models, surrogates, engine, encoders, recorders, learning rules, configuration
// types and presets (src/core.ts)
export * from './core.js';
export { setKernelSource, type KernelSource } from './backend/wasm/module.js';

// datasets: synthetic tasks, batching, image subsets from fetched bytes
export type { Dataset, LoadOptions, Normalisation, Split } from './data/types.js';
export { loadSynthetic, registerSyntheticTask, syntheticClassCount, syntheticTasks, spikePatternRates, type SyntheticTask } from './data/synthetic.js';
export { batches, epochOrder, inOrder, matchesAt, numBatches, oneHot, type Batch, type BatchOptions } from './data/batches.js';
export { parseIdx, type IdxData } from './data/idx-parse.js';
export { encodeImageSubset, decodeImageSubset, imageSubsetSplit, IMAGE_SUBSET_MAGIC, type ImageSubset } from './data/mnist-subset.js';

// checkpoints as bytes
export {
  encodeCheckpoint, decodeCheckpoint, architectureOf, stateTensors, checkpointState, CheckpointError, CHECKPOINT_MAGIC, CHECKPOINT_VERSION,
  type Checkpoint, type SavedTensor, type SavedRngState,
} from './checkpoint-format.js';
export { sha256 } from './sha256.js';

// live training for pages (what `sigprop serve`'s page uses)
export * from './web/live.js';
