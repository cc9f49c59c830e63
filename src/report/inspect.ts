/**
 * Inspect a trained model: load a checkpoint (or take weights in memory), run chosen test
 * samples through the spiking network, record voltages, spikes and the encoded input, and write
 * the traces report (before and after training side by side, same input spikes) plus the raw
 * recordings (JSON and CSV). The recording itself is in src/report/record.ts.
 *
 * Network reconstruction: layer i is config.layers[i] (model, params) with weights 'layer<i>.W'
 * ([in, out] row-major, as the rules store them) and bias 'layer<i>.b'; spiking sigprop's
 * 'readout.W' becomes a non-spiking leaky integrator; other tensors are ignored.
 */
import type { Network } from '../engine/network.js';
import { basename, dirname, extname, join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { createBackend } from '../backend/registry.js';
import { checkpointState, loadCheckpoint } from '../checkpoint.js';
import { resolveConfig } from '../config/resolve.js';
import type { ExperimentConfig, ResolvedConfig } from '../config/types.js';
import type { Dataset } from '../data/types.js';
import { ParameterError, SigpropError } from '../errors.js';
import { writeFileAtomic } from '../io.js';
import type { TrainingRule } from '../learning/rule.js';
import type { Recorder } from '../recorder.js';
import { chooseTraceNeurons, DEFAULT_TRACED, recordNetworkTraces, targetInputs, type InputSpikes, type InspectRecordSpec } from './record.js';
import { writeTracesPage, type WrittenReport } from './run.js';
import type { TraceFigureOptions } from './traces.js';
import type { TraceSet } from './types.js';

/** Options of writeTracesReport. Give `checkpoint` or `weights`. */
export interface TracesReportOptions {
  /** checkpoint.ckpt path or a run folder holding one. */
  checkpoint?: string;
  /** In memory instead: the run's config and trained weights by checkpoint name ('layer0.W', ...). */
  weights?: { config: ExperimentConfig; tensors: Record<string, Float32Array>; initialTensors?: Record<string, Float32Array> };
  /** Output HTML path (also names the raw files: '<stem>.before.json' ...). */
  outFile: string;
  /** Write the HTML page (default true); false: only record and write the raw files (the run report embeds the sets; path is '' then). */
  page?: boolean;
  /** Where the raw recordings go (default: next to outFile, '<name>.before.json' etc.); false for none. */
  rawDir?: string | false;
  /** Test-split indices to run (default [0, 1]). */
  samples?: number[];
  record?: InspectRecordSpec;
  /** Also record the untrained network (the rule's initial weights for the same seed). Default true. */
  before?: boolean;
  /** Overrides of the config's steps / encoder. */
  steps?: number;
  encoder?: string;
  /** Use this dataset (tests) instead of loading the config's. */
  dataset?: Dataset;
  backend?: Backend;
  figures?: TraceFigureOptions;
}

/** What writeTracesReport wrote. */
export interface TracesReportResult extends WrittenReport {
  /** Raw recording files (JSON and CSV per set). */
  rawFiles: string[];
  sets: TraceSet[];
  /** Notes about what could not be done (e.g. no initial weights available). */
  warnings: string[];
  /** Which neurons were traced and why, when they were chosen by default (not given). */
  neuronChoice?: string;
}

/** The raw recording files of one set: '<stem>.<tag>.json' / '.csv' (tag 'before', 'after') and '<stem>.input.json'. */
function rawFile(dir: string, stem: string, tag: 'before' | 'after' | 'input', ext: 'json' | 'csv'): string {
  return join(dir, `${stem}.${tag}.${ext}`);
}

/**
 * Every file writeTracesReport may write for `outFile`: the page and, next to it (or in
 * `rawDir`), the raw recordings '<stem>.before.json', '.before.csv', '.after.json', '.after.csv'
 * and '<stem>.input.json'. Callers check these before writing to keep existing files.
 */
export function tracesReportFiles(outFile: string, rawDir: string = dirname(outFile)): string[] {
  const stem = basename(outFile, extname(outFile));
  return [
    outFile,
    ...(['before', 'after'] as const).flatMap((tag) => [rawFile(rawDir, stem, tag, 'json'), rawFile(rawDir, stem, tag, 'csv')]),
    rawFile(rawDir, stem, 'input', 'json'),
  ];
}

/**
 * Give the rule these weights. Every hidden layer's 'layer<i>.W' must be there; other parameter
 * tensors not given (a readout, a target projection, biases) and optimiser state keep their
 * values, and their names are returned so that the caller can say so.
 */
function loadWeights(rule: TrainingRule, t: Record<string, Float32Array>): string[] {
  const own = rule.state();
  const missing = Object.keys(own).filter((k) => /\.(W|b|R)$/.test(k) && !t[k]);
  const hidden = missing.filter((k) => /^layer\d+\.W$/.test(k));
  if (hidden.length) {
    throw new SigpropError(`inspect: the weights lack ${hidden.slice(0, 4).join(', ')}${hidden.length > 4 ? ', …' : ''} of rule "${rule.name}"; names found: ${Object.keys(t).slice(0, 8).join(', ')}`, 'checkpoint');
  }
  rule.loadState({ ...own, ...t });
  return missing;
}

/** The run's rule with its initial weights (same seed as the run) and the engine network it trains. */
async function ruleFor(cfg: ResolvedConfig, dataset: Dataset, backend: Backend): Promise<{ rule: TrainingRule; net: Network }> {
  const { setupRule } = await import('../run-setup.js');
  const rule = (await setupRule(cfg, { backend, dataset })).rule;
  if (!rule.network) {
    rule.dispose?.();
    throw new ParameterError(`inspect: rule "${cfg.rule}" in mode "${cfg.mode}" does not run on the engine network, so it has no voltage traces`);
  }
  return { rule, net: rule.network };
}

/**
 * Load a checkpoint (or weights in memory), run the chosen test samples through the network,
 * record before/after traces, write the raw recordings and the traces report.
 */
export async function writeTracesReport(o: TracesReportOptions): Promise<TracesReportResult> {
  let cfg: ResolvedConfig;
  let tensors: Record<string, Float32Array>;
  let source: string;
  // A caller-supplied Dataset may carry a name the dataset registry does not know.
  const skip = { skipChecks: o.dataset ? ['dataset'] : [] };
  if (o.checkpoint) {
    const { checkpointPathOf } = await import('../run-setup.js');
    const path = checkpointPathOf(o.checkpoint);
    const ck = loadCheckpoint(path);
    if (!ck.meta.config) throw new SigpropError(`checkpoint ${path} has no saved config; it was not written by the run loop`, 'checkpoint');
    cfg = resolveConfig(ck.meta.config, `${path} (saved config)`, skip);
    tensors = checkpointState(ck);
    source = `${path} (epoch ${ck.epoch})`;
  } else if (o.weights) {
    cfg = resolveConfig(o.weights.config, 'weights.config', skip);
    tensors = o.weights.tensors;
    source = 'weights in memory';
  } else throw new ParameterError('writeTracesReport: give checkpoint (a checkpoint.ckpt path or run folder) or weights { config, tensors }');
  if (cfg.mode === 'rate') {
    throw new ParameterError(`inspect: the run uses mode = 'rate' (no time dimension, no voltages); traces need mode 'spiking' or 'continuous'`);
  }
  const backend = o.backend ?? (await createBackend('reference'));
  let dataset = o.dataset;
  if (!dataset) {
    const { loadConfigDataset } = await import('../run-setup.js');
    dataset = loadConfigDataset(cfg);
  }
  const test = dataset.test;
  const ids = o.samples ?? [0, 1];
  for (const i of ids) if (!Number.isInteger(i) || i < 0 || i >= test.n) throw new ParameterError(`inspect: sample ${i} is not in the test split (0..${test.n - 1})`);
  const D = dataset.inputSize;
  const x = new Float32Array(ids.length * D);
  ids.forEach((s, r) => x.set(test.images.subarray(s * D, (s + 1) * D), r * D));
  const labels = Int32Array.from(ids, (s) => test.labels[s]);
  const encoder = o.encoder ?? cfg.encoder;
  const raster = encoder === 'raster';
  if (raster && o.steps !== undefined && o.steps !== cfg.steps) {
    throw new ParameterError(`inspect: steps cannot be changed for encoder 'raster' (the samples hold ${cfg.steps} steps each)`);
  }
  const steps = o.steps ?? cfg.steps;
  if (raster && D % steps !== 0) throw new ParameterError(`inspect: encoder 'raster' needs inputSize (${D}) = steps (${steps}) × channels`);
  /** Per-step input size: the channels of a raster, else the whole sample. */
  const K = raster ? D / steps : D;
  // Explicit options win over the config's record section; undefined fields do not erase it.
  const record: InspectRecordSpec = {
    ...o.record,
    neurons: o.record?.neurons ?? cfg.record?.neurons,
    layers: o.record?.layers ?? cfg.record?.layers,
  };
  const warnings: string[] = [];
  let neuronChoice: string | undefined;
  const { rule, net } = await ruleFor(cfg, dataset, backend);
  const initial = o.before === false ? undefined : o.weights?.initialTensors ?? rule.state();
  net.setTracing(false);
  const sets: TraceSet[] = [];
  const recorders: Recorder[] = [];
  let inputSpikes: InputSpikes | undefined;
  try {
    if (!record.neurons) {
      // by default, neurons a reader learns from: the most active and the most class-selective of each layer after training
      loadWeights(rule, tensors);
      record.neuronsByLayer = chooseTraceNeurons(net, { samples: { x, labels, ids }, steps, encoder, encoderParams: cfg.encoderParams, seed: cfg.seed, record });
      const listed = Object.entries(record.neuronsByLayer).map(([li, js]) => `layer ${li}: ${js.join(', ')}`);
      if (listed.length) {
        neuronChoice = `Neurons traced (the ${DEFAULT_TRACED.active} most active and the ${DEFAULT_TRACED.selective === 1 ? 'most class-selective' : `${DEFAULT_TRACED.selective} most class-selective`} ` +
          `of each layer on these samples after training, the same indices in every set): ${listed.join('; ')}.`;
      }
    }
    const phases: [string, Record<string, Float32Array>][] = [];
    if (initial) phases.push(['before training', initial]);
    phases.push([o.checkpoint ? `after training (${basename(source.split(' (')[0])})` : 'after training', tensors]);
    for (const [label, t] of phases) {
      // the rule's own engine network with these weights; without a readout integrator the prediction is the rule's
      const kept = loadWeights(rule, t);
      if (kept.length) {
        const w = `${label}: ${kept.join(', ')} not in the weights given; they keep the rule's initial values`;
        if (!warnings.includes(w)) warnings.push(w);
      }
      const predictions = t['readout.W'] ? undefined : rule.predict(x, ids.length);
      const targetX = targetInputs(t, labels, K);
      const recorded = recordNetworkTraces(net, {
        samples: { x, labels, ids }, targetX, steps, encoder, encoderParams: cfg.encoderParams, seed: cfg.seed, record, label, predictions,
      });
      for (const w of recorded.warnings) if (!warnings.includes(w)) warnings.push(w);
      sets.push(recorded.set);
      recorders.push(recorded.recorder);
      inputSpikes = recorded.input;
    }
  } finally {
    net.setTracing(true);
    rule.dispose?.();
  }
  const rawFiles: string[] = [];
  if (o.rawDir !== false) {
    const dir = o.rawDir ?? dirname(o.outFile);
    const stem = basename(o.outFile, extname(o.outFile));
    recorders.forEach((r, i) => {
      const tag = sets[i].label.startsWith('before') ? 'before' : 'after';
      const json = rawFile(dir, stem, tag, 'json');
      const csv = rawFile(dir, stem, tag, 'csv');
      r.writeJson(json);
      r.writeCsv(csv);
      rawFiles.push(json, csv);
    });
    if (inputSpikes) {
      // Same seed before and after: one input file serves both sets.
      const f = rawFile(dir, stem, 'input', 'json');
      writeFileAtomic(f, JSON.stringify(inputSpikes));
      rawFiles.push(f);
    }
  }
  const notes = [
    `Model: ${source}; ${cfg.rule} on ${cfg.dataset}, ${steps} steps of ${cfg.dtMs} ms, encoder ${encoder}, seed ${cfg.seed} (same input spikes before and after).`,
    sets.some((s) => s.recordings.some((r) => r.stream === 'target'))
      ? 'Target stream: the class signal t0 = sigmoid(S[c] + d) of each sample\u2019s label, run through the same layers (sigprop).'
      : 'No target stream in these weights (no target.W): only the input stream is shown.',
    rawFiles.length ? `Raw recordings (batch rows ${ids.length} and up are the target stream): ${rawFiles.map((f) => basename(f)).join(', ')}.` : '',
    neuronChoice ?? '',
    ...warnings,
  ].filter(Boolean);
  if (o.page === false) return { path: '', figureCount: 0, bytes: 0, rawFiles, sets, warnings, neuronChoice };
  const w = writeTracesPage(o.outFile, sets, { title: `${cfg.name}: voltage traces`, subtitle: source, notes, config: cfg as unknown as Record<string, unknown> }, o.figures);
  return { ...w, rawFiles, sets, warnings, neuronChoice };
}
