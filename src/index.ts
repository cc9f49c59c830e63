/**
 * sigprop — the public library API.
 *
 * Spiking and continuous-time neural networks trained with forward-only learning rules
 * (signal propagation, PEPITA, Forward-Forward, ...). Importing this module registers every
 * built-in backend, neuron model, surrogate, encoder, dataset and learning rule.
 *
 *   import { resolveConfig, runExperiment } from 'sigprop';
 *   const run = await runExperiment(resolveConfig({ dataset: 'moons', layers: [{ size: 32 }, { size: 2 }], rule: 'sigprop', mode: 'rate' }));
 *
 * This file is a plain list of re-exports; each symbol is documented where it is defined.
 */

// what runs anywhere: errors, randomness, tensors, backends, models, surrogates, engine, encoders,
// recorders, learning rules, configuration types and presets (src/core.ts)
export * from './core.js';

// file output, datasets
export { writeFileAtomic, writeJsonAtomic } from './io.js';
export * from './data/index.js';

// configuration, checkpoints, progress, the run loop
export { resolveConfig, loadConfig, loadConfigFile, applyOverrides, saveResolvedConfig } from './config/resolve.js';
export { ConfigError, validate, applyDefaults, type Schema, type ConfigIssue } from './config/schema.js';
export { experimentSchema } from './config/experiment-schema.js';
export {
  saveCheckpoint, loadCheckpoint, encodeCheckpoint, decodeCheckpoint, architectureOf, CheckpointError,
  type Checkpoint, type SavedTensor, type SavedRngState,
} from './checkpoint.js';
export { createProgress, Progress, type ProgressOptions, type ProgressStream } from './progress.js';
export {
  runExperiment, resumeRun, evaluate, accuracy, alternativePredictMethod, evaluateCheckpoint, restoreFromCheckpoint, setupRule, loadConfigDataset, RUN_FILES,
  type RunExperimentOptions, type RunResult, type RunEpochMetrics, type PredictMethod, type RunState, type RunStatus, type ResumeChanges, type ConfigChange,
} from './runner.js';
export type { RuleSetup, SetupOptions } from './run-setup.js';

// reports
export * from './report/index.js';
// names defined in two modules: one keeps the name, the other is renamed
export type { SurrogateCurve } from '../surrogates/index.js';
export type { SurrogateCurve as ReportSurrogateCurve } from './report/index.js';
export type { EpochMetrics } from './report/index.js';
export { writeTracesReport, type TracesReportOptions, type TracesReportResult } from './report/inspect.js';
export { readNir, describeNir, recurrentEdges, recurrentNodes, loadH5wasm, nirSize, NirError, type NirArray, type NirDocument, type NirEdge, type NirGraph, type NirNode } from './interop/nir.js';
export { planNir, simulateNir, flattenNir, nirNetwork, nirTraceCsv, parseNirInputCsv, NIR_LINEAR_TYPES, registerNirNeuron, nirNeuronTypes, type NirNeuronMapping, type NirParamReader, type NirPlan, type NirSpikeConvention, type NirLayerPlan, type NirSimulation, type NirNodeTrace } from './interop/nir-sim.js';
export { writeNir, runToNir, exportRunToNir, lifMlpToNir, NIR_VERSION, type RunNirExport, type ExportDenseLayer, type ExportLifLayer } from './interop/nir-export.js';
export { importNirRun, type NirImportConfig, type NirImportOptions, type NirImportResult } from './interop/nir-import.js';
