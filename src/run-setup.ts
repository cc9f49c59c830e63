/**
 * What training, evaluation and the reports share to rebuild a run: the names of a run folder's
 * files, the dataset a config names, and a config's rule set up with its backend, dataset and
 * RNG streams. The run loop (src/runner.ts) and the trace reports of a checkpoint (src/report/)
 * both import it, so neither has to import the other.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from './backend/backend.js';
import { createBackend } from './backend/registry.js';
import { architectureOf } from './checkpoint.js';
import { outputSizeIssues } from './config/resolve.js';
import { ConfigError } from './config/schema.js';
import type { ResolvedConfig } from './config/types.js';
import { loadDataset, type Dataset } from './data/index.js';
import './learning/index.js'; // registers the built-in rules
import { createRule, ruleHasAsyncForm, type RuleFactory } from './learning/rule.js';
import { Rng } from './rng.js';
import { LOCK_FILE } from './run-lock.js';

/** Names of the files in a run folder. */
export const RUN_FILES = { config: 'config.json', state: 'run.json', metrics: 'metrics.json', csv: 'metrics.csv', checkpoint: 'checkpoint.ckpt', report: 'report.html', lock: LOCK_FILE } as const;

/** Load the dataset a config names (subsets seeded by config.seed). */
export function loadConfigDataset(cfg: ResolvedConfig): Dataset {
  return loadDataset(cfg.dataset, { dataDir: cfg.dataDir, trainSize: cfg.trainSize, testSize: cfg.testSize, seed: cfg.seed, standardize: cfg.standardize, params: cfg.datasetParams });
}

/** What a caller may supply instead of what the config names. */
export interface SetupOptions {
  /** Use this backend instead of creating `config.backend`. */
  backend?: Backend;
  /** Use this dataset instead of loading `config.dataset` (tests, custom data). */
  dataset?: Dataset;
  /** Use this rule factory instead of the registry's `config.rule`. */
  createRule?: RuleFactory;
}

/** Set up backend, dataset, RNG streams and rule for a config (shared by training and eval). */
export async function setupRule(cfg: ResolvedConfig, opts: SetupOptions = {}) {
  // 'auto' tries a hardware GPU first where the rule's form also trains on WebGPU's asynchronous read-back
  const preferGpu = !opts.createRule && ruleHasAsyncForm(cfg.rule, cfg.mode, cfg);
  const backend = opts.backend ?? (await createBackend(cfg.backend, { threads: cfg.threads, preferGpu }));
  const dataset = opts.dataset ?? loadConfigDataset(cfg);
  if (opts.dataset) {
    // resolution checked a registered dataset's class count; a supplied dataset is checked here
    const issues = outputSizeIssues(cfg, dataset.numClasses);
    if (issues.length) throw new ConfigError(issues, 'config (with the supplied dataset)');
  }
  const root = new Rng(cfg.seed);
  const ruleRng = root.fork();
  const dataRng = root.fork();
  const rule = (opts.createRule ?? createRule)(cfg, { backend, rng: ruleRng, inputSize: dataset.inputSize, numClasses: dataset.numClasses });
  return { backend, dataset, rule, ruleRng, dataRng, architecture: architectureOf(cfg, dataset.inputSize) };
}

export type RuleSetup = Awaited<ReturnType<typeof setupRule>>;

/** Locate the checkpoint of a run folder or accept a checkpoint file path. */
export function checkpointPathOf(pathOrRunDir: string): string {
  return existsSync(join(pathOrRunDir, RUN_FILES.checkpoint)) ? join(pathOrRunDir, RUN_FILES.checkpoint) : pathOrRunDir;
}
