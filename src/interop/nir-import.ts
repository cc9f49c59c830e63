/**
 * Importing a feed-forward NIR network as a spiking sigprop run folder that `sigprop run --resume`
 * fine-tunes.
 *
 * Accepted graphs: Input → (Affine | Linear | Scale)* → LIF (or IF) → ... → (Affine | Linear | Scale)*
 * → LI (or LIF) → Output: at least one spiking hidden node, and a readout node whose size is the
 * dataset's class count. The weights are mapped with planNir (nir-sim.ts), at the dt given, so the
 * imported network integrates exactly what NIR's per-step solution does:
 *   hidden LIF  U[t] = β·U[t−1] + x·W′ + b′,  β = exp(−dt/τ),  W′ = (1 − β)·R·W,
 *               b′ = (1 − β)·(R·b + v_leak),  threshold θ = v_threshold   (planNir's gains)
 *   hidden IF   β = 1, W′ = dt·R·W, b′ = dt·R·b
 *   readout LI  U_o[t] = β_o·U_o[t−1] + s·W_o + b_o with β_o = exp(−dt/τ) (ruleParams.readoutBeta)
 *               and W_o = (1 − β_o)·R·W, b_o = (1 − β_o)·(R·b + v_leak): planNir's 'leaky' layer
 *               computes h ← β_o·h + (1 − β_o)·(R·I + v_leak), the rule's readout has no (1 − β_o).
 *   readout LIF the same, from planNir's LIF gains; its threshold and spikes are dropped (the rule's
 *               readout is a leaky integrator, predicting with argmax Σ_t U_o[t]); a warning says so.
 * NIR's LIF resets to 0 in the spike's step; spiking sigprop trains layers that reset by
 * subtraction (its presynaptic trace is exact only then), so hidden layers are imported with reset
 * 'subtract' and a warning, as export warns in the other direction. A run exported by
 * exportRunToNir (R = 1/(1 − β)) comes back with its weights unchanged (up to float rounding).
 *
 * Refused, with the node, the parameter and the reason: recurrent graphs, convolutions and other
 * node types, CubaLIF (the synaptic model has no sigprop trace), per-neuron τ or threshold, a
 * nonzero v_reset, an input size or class count that differs from the dataset's.
 *
 * The run folder gets config.json, a checkpoint at epoch 0, batch 0 (the imported weights, a fresh
 * target projection and optimiser state from setupRule), run.json with status 'interrupted' and
 * nir-import.json (the source, dt, node mapping and warnings).
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { saveCheckpoint, stateTensors } from '../checkpoint.js';
import { resolveConfig, saveResolvedConfig } from '../config/resolve.js';
import type { ExperimentConfig, ResolvedConfig } from '../config/types.js';
import { datasetClassCount, type Dataset } from '../data/index.js';
import { SigpropError } from '../errors.js';
import { writeJsonAtomic } from '../io.js';
import type { Backend } from '../backend/backend.js';
import { acquireRunLock } from '../run-lock.js';
import { loadConfigDataset, RUN_FILES, setupRule, type RunState } from '../runner.js';
import { NirError, readNir, recurrentEdges, type NirGraph } from './nir.js';
import { planNir, type NirLayerPlan } from './nir-sim.js';

/** Settings of the imported run that the NIR file does not fix (everything but the network). */
export type NirImportConfig = Omit<ExperimentConfig, 'dataset' | 'layers' | 'rule' | 'mode' | 'dtMs'>;

export interface NirImportOptions extends NirImportConfig {
  /** The time step in ms (NIR files carry none); the run trains at this dt. */
  dtMs: number;
  /** Dataset registry name the run fine-tunes on. */
  dataset: string;
  /** The run folder to create (must not hold a run). */
  runDir: string;
  /** Use this dataset instead of loading `dataset` (tests, custom data). */
  datasetData?: Dataset;
  /** Use this backend instead of creating `backend`. */
  backendInstance?: Backend;
}

export interface NirImportResult {
  runDir: string;
  config: ResolvedConfig;
  /** The NIR neuron node of each hidden layer, and of the readout. */
  hiddenNodes: string[];
  readoutNode: string;
  /** What changes with the import (reset mechanism, a LIF readout's spikes). */
  warnings: string[];
  checkpointPath: string;
}

/** The file in the run folder that records where the network came from (source, dt, node mapping, warnings). */
export const IMPORT_FILE = 'nir-import.json';

/** The node types an import accepts (the linear ones compose into a layer's weights). */
const IMPORT_TYPES = ['Input', 'Output', 'Affine', 'Linear', 'Scale', 'LIF', 'IF', 'LI'];

/** Refusals specific to training (before planNir's own checks), each naming the node and why. */
function checkTrainable(graph: NirGraph, file: string): void {
  const rec = recurrentEdges(graph);
  if (rec.length) {
    throw new NirError(`${file}: edge ${rec[0].src} -> ${rec[0].dst} makes the graph recurrent; sigprop nir import takes feed-forward chains only (spiking sigprop trains feed-forward LIF layers)`);
  }
  for (const [name, node] of Object.entries(graph.nodes)) {
    if (IMPORT_TYPES.includes(node.type)) continue;
    const why = /conv/i.test(node.type)
      ? 'convolutions cannot be imported: spiking sigprop trains fully connected layers; flatten the network to Affine/Linear layers'
      : node.type === 'CubaLIF'
        ? "the current-based LIF (synaptic model) cannot be trained by spiking sigprop, whose eligibility trace is exact for 'lif' layers; use LIF nodes"
        : `not supported by sigprop nir import (supported: ${IMPORT_TYPES.join(', ')})`;
    throw new NirError(`${file}: node ${name} of type ${node.type}: ${why}`);
  }
}

const round = (x: number): number => Number(x.toPrecision(12));

/**
 * The spiking sigprop run of a feed-forward NIR network, written to opts.runDir at epoch 0, batch 0
 * with status 'interrupted': `sigprop run --resume <runDir> --epochs N` fine-tunes it.
 */
export async function importNirRun(nirPath: string, opts: NirImportOptions): Promise<NirImportResult> {
  const file = resolve(nirPath);
  const { dtMs, dataset: datasetName, runDir: dirOpt, datasetData, backendInstance, ...settings } = opts;
  if (!(typeof dtMs === 'number' && Number.isFinite(dtMs) && dtMs > 0)) {
    throw new SigpropError(`dtMs = ${dtMs}: the step size in ms must be a finite number > 0 (NIR files carry no dt; give one, e.g. 1)`, 'parameter');
  }
  const doc = await readNir(file);
  checkTrainable(doc.graph, file);
  const plan = planNir(doc.graph, dtMs);
  const layers = plan.layers;
  const readout = layers[layers.length - 1];
  const hidden = layers.slice(0, -1);
  if (!hidden.length) {
    throw new NirError(`${file}: the chain has one neuron node (${readout.node}); spiking sigprop needs at least one spiking hidden layer (LIF) before the readout`);
  }
  for (const l of hidden) {
    if (l.type === 'LI') throw new NirError(`${file}: node ${l.node} of type LI is a hidden layer; spiking sigprop's hidden layers spike (LIF or IF); LI is accepted only as the readout feeding the Output`);
  }
  if (readout.type !== 'LI' && readout.type !== 'LIF') {
    throw new NirError(`${file}: node ${readout.node} of type ${readout.type} feeds the Output; the readout must be LI (a leaky integrator) or LIF`);
  }

  // sizes against the dataset: classes first (known without loading for registered datasets)
  const classes = datasetData?.numClasses ?? datasetClassCount(datasetName, settings.datasetParams);
  const sizeError = (what: string, nir: number, data: number, fix: string): SigpropError =>
    new SigpropError(`${file}: ${what} is ${nir} but dataset ${datasetName} has ${data}; ${fix}`, 'nir');
  const classError = (c: number): SigpropError =>
    sizeError(`the readout node ${readout.node} has ${readout.size} neuron${readout.size === 1 ? '' : 's'}: the class count`, readout.size, c, 'import it with the dataset it was trained on, or one with as many classes');
  if (classes !== undefined && classes !== readout.size) throw classError(classes);

  const warnings: string[] = [];
  const warnedReset = hidden.map((l) => l.node);
  if (warnedReset.length) {
    warnings.push(`${warnedReset.join(', ')}: NIR's ${[...new Set(hidden.map((l) => l.type))].join(' and ')} resets to 0 in the spike's step; the imported layers reset by subtracting θ (spiking sigprop trains that reset), so spike trains can differ after the first spike`);
  }
  if (readout.type === 'LIF') {
    warnings.push(`${readout.node}: the LIF readout becomes a leaky integrator without threshold or spikes (spiking sigprop's readout); prediction is the class with the largest summed voltage`);
  }

  const lifParams = (l: NirLayerPlan): Record<string, unknown> => {
    const p = l.spec.params as { tauMs?: number; beta?: number; threshold: number };
    const beta = p.beta ?? Math.exp(-dtMs / (p.tauMs as number));
    return { beta: round(beta), threshold: p.threshold, reset: 'subtract' };
  };
  const readoutTauMs = (readout.spec.params as { tauMs: number }).tauMs;
  const readoutBeta = round(Math.exp(-dtMs / readoutTauMs));
  const raw: ExperimentConfig = {
    name: basename(file).replace(/\.nir$/i, ''),
    ...settings,
    dataset: datasetName,
    rule: 'sigprop',
    mode: 'spiking',
    dtMs,
    layers: [...hidden.map((l) => ({ size: l.size, model: 'lif', params: lifParams(l) })), { size: readout.size }],
    ruleParams: { ...(settings.ruleParams ?? {}), readoutBeta },
  };
  const cfg = resolveConfig(raw, `${file} (imported config)`, { skipChecks: datasetData ? ['dataset'] : [] });
  const dataset = datasetData ?? loadConfigDataset(cfg);
  const stepInput = cfg.encoder === 'raster' ? dataset.inputSize / cfg.steps : dataset.inputSize;
  if (plan.inputSize !== stepInput) {
    throw sizeError(`the input size (node ${plan.inputNode})`, plan.inputSize, stepInput, `import it with a dataset of ${plan.inputSize} input channels`);
  }
  if (dataset.numClasses !== readout.size) throw classError(dataset.numClasses);

  // the readout as the rule computes it: W_o = (1 − β_o)·(planNir's W), b_o likewise (see the file comment)
  const roGain = readout.type === 'LI' ? 1 - Math.exp(-dtMs / readoutTauMs) : 1;
  const scaled = (a: Float32Array, g: number): Float32Array => (g === 1 ? a : Float32Array.from(a, (v) => v * g));
  const imported: Record<string, Float32Array> = { 'readout.W': scaled(readout.w, roGain), 'readout.b': scaled(readout.bias, roGain) };
  hidden.forEach((l, i) => {
    imported[`layer${i}.W`] = l.w;
    imported[`layer${i}.b`] = l.bias;
  });

  const runDir = resolve(dirOpt);
  const lock = acquireRunLock(runDir, { create: true });
  if (lock.replacedStale) warnings.push(lock.replacedStale);
  let written = false;
  try {
    if (existsSync(join(runDir, RUN_FILES.state)) || existsSync(join(runDir, RUN_FILES.checkpoint))) {
      throw new SigpropError(`run folder ${runDir} already holds a run; choose another folder (-o) for the import`, 'run');
    }
    const setup = await setupRule(cfg, { dataset, ...(backendInstance ? { backend: backendInstance } : {}) });
    try {
      const state = setup.rule.state();
      for (const [k, v] of Object.entries(imported)) {
        if (state[k]?.length !== v.length) throw new SigpropError(`internal: imported tensor ${k} has ${v.length} values, the rule holds ${state[k]?.length}`, 'nir');
        state[k] = v;
      }
      setup.rule.loadState(state);
      const tensors = stateTensors(setup.rule.state());
      const now = new Date().toISOString();
      const checkpointPath = join(runDir, RUN_FILES.checkpoint);
      const files = [checkpointPath, join(runDir, RUN_FILES.config), join(runDir, IMPORT_FILE), join(runDir, RUN_FILES.state)];
      try {
        // the checkpoint first (as the run loop does): a folder with config.json but no checkpoint would resume from random weights
        saveCheckpoint(checkpointPath, {
          epoch: 0, batch: 0, architecture: setup.architecture, tensors,
          rng: { rule: setup.ruleRng.getState(), data: setup.dataRng.getState() },
          meta: { config: cfg, metrics: [], startedAt: now, backend: setup.backend.name, importedFrom: file },
        });
        saveResolvedConfig(runDir, cfg); // io.ts names the file on a full disk or read-only folder
        writeJsonAtomic(files[2], {
          source: file, nirVersion: doc.version, dtMs, importedAt: now,
          layers: [...hidden.map((l, i) => ({ layer: `layer${i}`, node: l.node, type: l.type, linear: l.linear })), { layer: 'readout', node: readout.node, type: readout.type, linear: readout.linear }],
          warnings,
        });
        writeJsonAtomic(files[3], {
          status: 'interrupted', name: cfg.name, epoch: 0, batch: 0, epochs: cfg.epochs, backend: setup.backend.name, startedAt: now, updatedAt: now,
        } satisfies RunState);
      } catch (err) {
        for (const f of files) rmSync(f, { force: true }); // no half-written import
        throw err;
      }
      written = true;
      return { runDir, config: cfg, hiddenNodes: hidden.map((l) => l.node), readoutNode: readout.node, warnings, checkpointPath };
    } finally {
      setup.rule.dispose?.();
    }
  } finally {
    lock.release({ removeDir: !written });
  }
}
