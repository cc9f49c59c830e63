/**
 * Importing a NIR network as a spiking sigprop run folder that `sigprop run --resume` fine-tunes.
 *
 * Accepted graphs: Input → (Affine | Linear | Scale | Delay | Flatten)* → hidden neuron node → ...
 * → (linear nodes)* → readout node → Output, where hidden nodes are LIF, IF, CubaLIF or Threshold
 * (optionally with a loop through linear nodes back to themselves: a recurrent layer) and the
 * readout is LI, CubaLI, LIF or CubaLIF of the dataset's class count. The weights are mapped with
 * planNir (nir-sim.ts), at the dt given, so the imported network integrates exactly what NIR's
 * per-step solution does:
 *   hidden LIF     U[t] = β·U[t−1] + x·W′ + b′,  β = exp(−dt/τ),  W′ = (1 − β)·R·W,
 *                  b′ = (1 − β)·(R·b + v_leak),  threshold θ = v_threshold   (planNir's gains)
 *   hidden IF      β = 1, W′ = dt·R·W, b′ = dt·R·b
 *   hidden CubaLIF the 'synaptic' model, α = exp(−dt/τ_syn), β = exp(−dt/τ_mem), W′ = (1−α)(1−β)·R·w_in·W
 *   hidden Threshold  a LIF with β = 0 and no reset
 *   a loop         the layer's recurrent weights (layer<i>.R, config `recurrent`), scaled like W′
 *   Delay nodes    the layer's `delays` (one value in whole steps for the projection)
 *   readout LI     U_o[t] = β_o·U_o[t−1] + s·W_o + b_o with β_o = exp(−dt/τ) (ruleParams.readoutBeta)
 *                  and W_o = (1 − β_o)·R·W, b_o = (1 − β_o)·(R·b + v_leak): planNir's 'leaky' layer
 *                  computes h ← β_o·h + (1 − β_o)·(R·I + v_leak), the rule's readout has no (1 − β_o).
 *   readout LIF    the same, from planNir's LIF gains; its threshold and spikes are dropped (the rule's
 *                  readout is a leaky integrator, predicting with argmax Σ_t U_o[t]); a warning says so.
 *   readout CubaLIF / CubaLI  the membrane (τ_mem) as the rule's leaky readout; the synaptic filter
 *                  is dropped, its steady-state gain 1/(1 − α) kept in W_o; a warning says so.
 * Per-neuron thresholds are folded into the weights as planNir does (threshold 1), with a warning.
 * Reset: NIR resets to 0 in the spike's step. With reset 'zero' the hidden layers do exactly that
 * (reset 'zero', resetDelay false: the imported run's spikes are NIR's); with reset 'subtract'
 * (the default: spiking sigprop's presynaptic trace is exact only for a reset by subtraction) they
 * reset by subtracting θ at the next step, and a warning says so, as export warns in the other
 * direction. A run exported by exportRunToNir (R = 1/(1 − β)) comes back with its weights
 * unchanged (up to float rounding).
 *
 * Refused, with the node, the parameter and the reason: convolutions and other node types, a
 * non-spiking hidden node, per-neuron time constants, a nonzero v_reset, delays that differ
 * between connections (a run config holds one delay per layer), a recurrent or delayed readout,
 * an input size or class count that differs from the dataset's.
 *
 * The run folder gets config.json, a checkpoint at epoch 0, batch 0 (the imported weights, a fresh
 * target projection and optimiser state from setupRule), run.json with status 'interrupted',
 * nir-import.json (the source, dt, node mapping, the NIR graph's nodes and edges for the report,
 * and warnings) and report.html (the NIR graph and the config; run --resume rewrites it).
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { saveCheckpoint, stateTensors } from '../checkpoint.js';
import { resolveConfig, saveResolvedConfig } from '../config/resolve.js';
import type { ExperimentConfig, LayerConfig, ResolvedConfig } from '../config/types.js';
import { datasetClassCount, type Dataset } from '../data/index.js';
import { SigpropError } from '../errors.js';
import { writeJsonAtomic } from '../io.js';
import type { Backend } from '../backend/backend.js';
import { NIR_IMPORT_FILE, type NirGraphRecord } from '../report/nir-graph.js';
import { acquireRunLock } from '../run-lock.js';
import { loadConfigDataset, RUN_FILES, setupRule, type RunState } from '../runner.js';
import { NirError, readNir, recurrentEdges, type NirGraph } from './nir.js';
import { flattenNir, planNir, type NirLayerPlan } from './nir-sim.js';

/** The type of node `name` of the graph with nested graphs inlined. */
const flatType = (g: NirGraph, name: string): string => flattenNir(g).nodes[name]?.type ?? '';

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
  /**
   * How the hidden layers reset: 'subtract' (default; what spiking sigprop trains exactly) or
   * 'zero' (NIR's own reset, to 0 in the spike's step: the imported network spikes as the NIR file says).
   */
  reset?: 'subtract' | 'zero';
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
  /** The run's report.html at epoch 0 (the NIR graph and the config), when it could be written. */
  reportPath?: string;
}

/** The file in the run folder that records where the network came from (source, dt, node mapping, warnings). */
export const IMPORT_FILE = NIR_IMPORT_FILE;

/** The node types an import accepts (the linear ones compose into a layer's weights). */
const IMPORT_TYPES = ['Input', 'Output', 'Affine', 'Linear', 'Scale', 'Delay', 'Flatten', 'NIRGraph', 'LIF', 'IF', 'CubaLIF', 'Threshold', 'LI', 'CubaLI', 'I'];
/** Spiking nodes that can be hidden layers, and nodes that can be the readout. */
const HIDDEN_TYPES = ['LIF', 'IF', 'CubaLIF', 'Threshold'];
const READOUT_TYPES = ['LI', 'CubaLI', 'LIF', 'CubaLIF'];

/** Refusals specific to training (before planNir's own checks), each naming the node and why. */
function checkTrainable(graph: NirGraph, file: string): void {
  for (const [name, node] of Object.entries(graph.nodes)) {
    if (node.graph) checkTrainable(node.graph, file);
    if (IMPORT_TYPES.includes(node.type)) continue;
    const why = /conv|pool/i.test(node.type)
      ? 'convolutions and pooling cannot be imported: spiking sigprop trains fully connected layers; flatten the network to Affine/Linear layers'
      : `sigprop nir import takes ${IMPORT_TYPES.filter((t) => t !== 'NIRGraph').join(', ')} and nested graphs`;
    throw new NirError(`${file}: not supported yet: node ${name} of type ${node.type}: ${why}`);
  }
}

/** The NIR graph as the import record keeps it for the run report (src/report/nir-graph.ts shows it). */
export function nirGraphRecord(graph: NirGraph): NirGraphRecord {
  return {
    nodes: Object.entries(graph.nodes).map(([name, node]) => ({
      name, type: node.type,
      params: Object.fromEntries(Object.entries(node.params).map(([k, a]) => [k, k === 'shape' || k === 'input_type' ? Array.from(a.data, Number) : a.shape])),
      ...(node.graph ? { graph: nirGraphRecord(node.graph) } : {}),
    })),
    edges: graph.edges.map((e) => [e.src, e.dst]),
    recurrent: recurrentEdges(graph).map((e) => [e.src, e.dst]),
  };
}

/** x with float noise of a round trip removed (0.9000000000000001 → 0.9), else unchanged (so the run steps as planNir does). */
const round = (x: number): number => {
  const r = Number(x.toPrecision(12));
  return Math.abs(r - x) <= 1e-14 * Math.abs(x) ? r : x;
};

/**
 * The spiking sigprop run of a feed-forward NIR network, written to opts.runDir at epoch 0, batch 0
 * with status 'interrupted': `sigprop run --resume <runDir> --epochs N` fine-tunes it.
 */
export async function importNirRun(nirPath: string, opts: NirImportOptions): Promise<NirImportResult> {
  const file = resolve(nirPath);
  const { dtMs, dataset: datasetName, runDir: dirOpt, datasetData, backendInstance, reset: resetOpt, ...settings } = opts;
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
    if (!HIDDEN_TYPES.includes(l.type)) {
      throw new NirError(`${file}: node ${l.node} of type ${l.type} is a hidden layer; spiking sigprop's hidden layers spike (${HIDDEN_TYPES.join(', ')}); ${READOUT_TYPES.filter((t) => !HIDDEN_TYPES.includes(t)).join(' and ')} are accepted only as the readout feeding the Output`);
    }
    if (l.spec.delays instanceof Int32Array) {
      throw new NirError(`${file}: the Delay nodes before ${l.node} (${l.linear.filter((n) => /Delay/.test(flatType(doc.graph, n))).join(', ')}) delay its connections by different amounts; a run config holds one delay per layer, so only equal delays can be imported (simulate the file with 'sigprop nir simulate' instead)`);
    }
  }
  if (!READOUT_TYPES.includes(readout.type)) {
    throw new NirError(`${file}: node ${readout.node} of type ${readout.type} feeds the Output; the readout must be ${READOUT_TYPES.join(', ')} (spiking sigprop's readout is a leaky integrator)`);
  }
  if (readout.wRec) throw new NirError(`${file}: the readout node ${readout.node} has a recurrent loop (${readout.recurrentLinear?.join(', ')}); spiking sigprop's readout is a leaky integrator without recurrence`);
  if (readout.spec.delays !== undefined) throw new NirError(`${file}: the readout node ${readout.node} has delayed inputs; spiking sigprop's readout takes none`);

  // sizes against the dataset: classes first (known without loading for registered datasets)
  const classes = datasetData?.numClasses ?? datasetClassCount(datasetName, settings.datasetParams);
  const sizeError = (what: string, nir: number, data: number, fix: string): SigpropError =>
    new SigpropError(`${file}: ${what} is ${nir} but dataset ${datasetName} has ${data}; ${fix}`, 'nir');
  const classError = (c: number): SigpropError =>
    sizeError(`the readout node ${readout.node} has ${readout.size} neuron${readout.size === 1 ? '' : 's'}: the class count`, readout.size, c, 'import it with the dataset it was trained on, or one with as many classes');
  if (classes !== undefined && classes !== readout.size) throw classError(classes);

  const reset = resetOpt ?? 'subtract';
  if (reset !== 'subtract' && reset !== 'zero') throw new SigpropError(`reset = ${JSON.stringify(reset)}: give 'subtract' (default) or 'zero' (NIR's own reset)`, 'parameter');
  const warnings: string[] = [];
  const resetting = hidden.filter((l) => l.type !== 'Threshold');
  if (resetting.length && reset === 'subtract') {
    warnings.push(`${resetting.map((l) => l.node).join(', ')}: NIR's ${[...new Set(resetting.map((l) => l.type))].join(' and ')} resets to 0 in the spike's step; the imported layers reset by subtracting θ (spiking sigprop trains that reset), so spike trains can differ after the first spike (import with reset 'zero' to keep NIR's reset)`);
  }
  for (const l of hidden) {
    if (l.vScale) warnings.push(`${l.node}: its neurons' thresholds differ; they are folded into the weights (layer threshold 1, neuron j's input divided by its v_threshold): the same spikes, voltages in units of each neuron's threshold`);
  }
  if (readout.type === 'LIF' || readout.type === 'CubaLIF') {
    warnings.push(`${readout.node}: the ${readout.type} readout becomes a leaky integrator without threshold or spikes (spiking sigprop's readout); prediction is the class with the largest summed voltage`);
  }
  if (readout.type === 'CubaLIF' || readout.type === 'CubaLI') {
    warnings.push(`${readout.node}: the readout's synaptic current filter (τ_syn) is dropped: the rule's readout integrates with τ_mem alone; its steady-state gain 1/(1 − α) is kept in the weights`);
  }

  const hiddenLayer = (l: NirLayerPlan): LayerConfig => {
    const p = l.spec.params as { tauMs?: number; beta?: number; tauSynMs?: number; threshold: number; reset?: string };
    const beta = p.beta ?? Math.exp(-dtMs / (p.tauMs as number));
    const resetParams = p.reset === 'none' ? { reset: 'none' } : reset === 'zero' ? { reset: 'zero', resetDelay: false } : { reset: 'subtract' };
    const params: Record<string, unknown> = { beta: round(beta), threshold: p.threshold, ...resetParams };
    if (l.spec.model === 'synaptic') params.alpha = round(Math.exp(-dtMs / (p.tauSynMs as number)));
    return {
      size: l.size, model: l.spec.model as string, params,
      ...(l.spec.recurrent ? { recurrent: l.spec.recurrent } : {}), ...(typeof l.spec.delays === 'number' ? { delays: l.spec.delays } : {}),
    };
  };
  const ro = readout.spec.params as { tauMs: number; tauSynMs?: number };
  const readoutTauMs = ro.tauMs;
  const readoutBeta = round(Math.exp(-dtMs / readoutTauMs));
  const raw: ExperimentConfig = {
    name: basename(file).replace(/\.nir$/i, ''),
    ...settings,
    dataset: datasetName,
    rule: 'sigprop',
    mode: 'spiking',
    dtMs,
    layers: [...hidden.map(hiddenLayer), { size: readout.size }],
    ruleParams: { ...(settings.ruleParams ?? {}), readoutBeta },
  };
  const cfg = resolveConfig(raw, `${file} (imported config)`, { skipChecks: datasetData ? ['dataset'] : [] });
  const dataset = datasetData ?? loadConfigDataset(cfg);
  const stepInput = cfg.encoder === 'raster' ? dataset.inputSize / cfg.steps : dataset.inputSize;
  if (plan.inputSize !== stepInput) {
    throw sizeError(`the input size (node ${plan.inputNode})`, plan.inputSize, stepInput, `import it with a dataset of ${plan.inputSize} input channels`);
  }
  if (dataset.numClasses !== readout.size) throw classError(dataset.numClasses);

  // the readout as the rule computes it: W_o = (1 − β_o)·(planNir's W), b_o likewise (see the file comment);
  // a LIF readout keeps planNir's gains, a synaptic one gains 1/(1 − α) for the dropped current filter;
  // per-neuron thresholds folded in by planNir are undone (the readout has none)
  const roGain = readout.type === 'LI' ? 1 - Math.exp(-dtMs / readoutTauMs) : ro.tauSynMs !== undefined ? 1 / -Math.expm1(-dtMs / ro.tauSynMs) : 1;
  const scaled = (a: Float32Array): Float32Array => Float32Array.from(a, (v, k) => v * roGain * (readout.vScale?.[k % readout.size] ?? 1));
  const imported: Record<string, Float32Array> = { 'readout.W': scaled(readout.w), 'readout.b': scaled(readout.bias) };
  hidden.forEach((l, i) => {
    imported[`layer${i}.W`] = l.w;
    imported[`layer${i}.b`] = l.bias;
    if (l.wRec) imported[`layer${i}.R`] = l.wRec;
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
          source: file, nirVersion: doc.version, dtMs, importedAt: now, reset,
          layers: [
            ...hidden.map((l, i) => ({ layer: `layer${i}`, node: l.node, type: l.type, linear: l.linear, ...(l.recurrentLinear ? { recurrent: l.recurrentLinear } : {}) })),
            { layer: 'readout', node: readout.node, type: readout.type, linear: readout.linear },
          ],
          graph: nirGraphRecord(doc.graph),
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
      // the run's report at epoch 0: the NIR graph and the config (a run --resume rewrites it with the training)
      let reportPath: string | undefined;
      try {
        const { writeRunReport, readNirImportRecord } = await import('../report/index.js');
        const nirImport = readNirImportRecord(runDir);
        reportPath = writeRunReport(join(runDir, RUN_FILES.report), {
          title: cfg.name, subtitle: `imported from ${basename(file)} at dt = ${dtMs} ms: spiking sigprop on ${cfg.dataset}, epoch 0 (not trained here yet)`,
          config: cfg as unknown as Record<string, unknown>, epochs: [], ...(nirImport ? { nirImport } : {}),
          notes: [`Fine-tune with: sigprop run --resume ${runDir} --epochs N (this report is then rewritten with the training).`],
        }).path;
      } catch (err) {
        warnings.push(`the report was not written: ${(err as Error).message}`);
      }
      return { runDir, config: cfg, hiddenNodes: hidden.map((l) => l.node), readoutNode: readout.node, warnings, checkpointPath, ...(reportPath ? { reportPath } : {}) };
    } finally {
      setup.rule.dispose?.();
    }
  } finally {
    lock.release({ removeDir: !written });
  }
}
