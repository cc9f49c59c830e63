/**
 * The part of the public API that runs anywhere (Node and pages): re-exported by src/index.ts (the
 * Node library, which adds files, datasets from disk, the run loop, reports and NIR) and by
 * src/browser.ts (the browser bundle, which adds checkpoints as bytes and live training). A plain
 * list of re-exports; each symbol is documented where it is defined.
 */

// errors, randomness, tensors
export * from './errors.js';
export { Rng, type RngState } from './rng.js';
export { HostTensor, shapeSize, shapeString, type Tensor } from './tensor.js';
export { toCsv } from './csv.js';

// backends
export type * from './backend/backend.js';
export { createBackend, registerBackend, backendNames, type BackendOptions } from './backend/registry.js';
export { ReferenceBackend } from './backend/reference.js';

// neuron models and surrogates
export * from '../models/registry.js';
export * from '../surrogates/index.js';

// network engine, encoders, recorders
export * from './engine/index.js';
export * from './encoders.js';
export * from './recorder.js';

// learning rules
export * from './learning/index.js';

// configuration types and presets
export type { ExperimentConfig, ResolvedConfig, LayerConfig, RuleName } from './config/types.js';
export { getPreset, listPresets, presetNames, registerPreset, type Preset } from './config/presets.js';
