/**
 * Writing NIR files, and exporting a trained spiking sigprop run (the LIF MLP of the run loop)
 * as a NIR graph.
 *
 * File layout (as the NIR reference library writes it): /version; /node the root graph with
 * `type` "NIRGraph", `nodes/<name>/` groups holding `type` and the parameter arrays, and `edges`
 * an [E, 2] string array. Float32Array data is written as float32, Float64Array as float64,
 * integer (number[]) data as int64.
 *
 * Export of a run. Each hidden layer ℓ (U[t] = β·U[t−1] + x[t]·W + b, spikes when U > θ) becomes
 *   fc<ℓ>  Affine  weight Wᵀ [out, in], bias b       (the trained float32 values, unchanged)
 *   lif<ℓ> LIF     tau = −dt/ln β (s), r = 1/(1 − β), v_leak 0, v_threshold θ
 * so that, at the dt given, NIR's exact per-step solution β·v + (1 − β)·R·I (see nir-sim.ts) is
 * β·v + I: the same decay and input gain as the trained layer. A layer with β = 1 becomes IF with
 * r = 1/dt. The readout (leaky integrator U_o[t] = β_o·U_o[t−1] + s[t]·W_o + b_o) becomes
 * fc_out Affine → readout LI with the same mapping. A synaptic LIF layer (I_syn[t] = α·I_syn[t−1] + x·W + b,
 * U[t] = β·U[t−1] + I_syn[t]) becomes CubaLIF with tau_syn = −dt/ln α, tau_mem = −dt/ln β,
 * r = 1/(1 − β), w_in = 1/(1 − α) (gain (1 − α)(1 − β)·R·w_in = 1). A recurrent layer gets a loop
 * lif<ℓ> → rec<ℓ> → lif<ℓ> (Affine with Rᵀ, or Scale with R's diagonal for one-to-one), which NIR
 * simulators, and planNir, feed with the layer's spikes of the step before; a layer with delays d
 * gets a Delay node of d·dt seconds per input before its Affine. NIR's LIF resets to v_reset = 0 in the spike's
 * step; the run's LIF resets by subtraction at the next step (or not at all): that difference is
 * reported as a warning, and NIR simulators (and `sigprop nir simulate`) use NIR's reset.
 */
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SigpropError } from '../errors.js';
import { ensureDir, fileSystemError } from '../io.js';
import { loadH5wasm, type NirArray, type NirDocument, type NirGraph, type NirNode } from './nir.js';

/** The NIR format version written. */
export const NIR_VERSION = '0.2.0';

type H5 = Awaited<ReturnType<typeof loadH5wasm>>;
type H5Group = InstanceType<H5['Group']>;

function writeArray(g: H5Group, name: string, a: NirArray): void {
  const data = a.data instanceof Float32Array || a.data instanceof Float64Array ? a.data : BigInt64Array.from(a.data, (x) => BigInt(Math.round(x)));
  g.create_dataset({ name, data, shape: a.shape });
}

function writeGraph(g: H5Group, graph: NirGraph): void {
  g.create_dataset({ name: 'type', data: 'NIRGraph' });
  const nodes = g.create_group('nodes');
  for (const [name, node] of Object.entries(graph.nodes)) writeNode(nodes.create_group(name), node);
  if (graph.edges.length) g.create_dataset({ name: 'edges', data: graph.edges.flatMap((e) => [e.src, e.dst]), shape: [graph.edges.length, 2] });
}

function writeNode(g: H5Group, node: NirNode): void {
  if (node.type === 'NIRGraph') {
    if (!node.graph) throw new SigpropError('writeNir: a node of type NIRGraph needs its graph', 'nir');
    writeGraph(g, node.graph);
    return;
  }
  g.create_dataset({ name: 'type', data: node.type });
  for (const [k, a] of Object.entries(node.params)) writeArray(g, k, a);
  for (const [k, v] of Object.entries(node.strings ?? {})) g.create_dataset({ name: k, data: v });
}

/**
 * Write a NIR document (or a bare graph, with the current NIR version) to `path` atomically
 * (a temporary file in the same folder, then rename). Returns the path.
 */
export async function writeNir(path: string, doc: NirDocument | NirGraph): Promise<string> {
  const d: NirDocument = 'graph' in doc ? doc : { version: NIR_VERSION, graph: doc };
  const h = await loadH5wasm();
  const dir = dirname(path);
  ensureDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const f = new h.File(tmp, 'w');
    try {
      f.create_dataset({ name: 'version', data: d.version });
      writeGraph(f.create_group('node'), d.graph);
    } finally {
      f.close();
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof SigpropError) throw err;
    throw fileSystemError(err, path, 'write');
  }
  return path;
}

const f32 = (shape: number[], data: ArrayLike<number>): NirArray => ({ shape, data: Float32Array.from(data) });
const f64 = (n: number, value: number): NirArray => ({ shape: [n], data: new Float64Array(n).fill(value) });

/** Wᵀ: [in, out] row-major to [out, in]. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = w[i * cols + j];
  return t;
}

/** A dense layer to export: weights [in, out] row-major, bias [out]. */
export interface ExportDenseLayer {
  w: Float32Array;
  bias?: Float32Array;
  inSize: number;
  outSize: number;
}

/** A hidden LIF (or synaptic LIF) layer to export: its projection and its per-step decays and threshold. */
export interface ExportLifLayer extends ExportDenseLayer {
  beta: number;
  threshold: number;
  /** Synaptic current decay per step: the layer is a synaptic LIF (CubaLIF in NIR). */
  alpha?: number;
  /** Recurrent weights [size, size] (from, to) of a recurrent layer. */
  recurrent?: Float32Array;
  /** 'one-to-one' recurrence (only the diagonal of `recurrent`) is written as a Scale node; otherwise an Affine. */
  recurrence?: 'all-to-all' | 'one-to-one';
  /** Synaptic delay of the layer's projection in steps (written as a Delay node before its Affine). */
  delay?: number;
}

/**
 * The NIR graph of a LIF MLP with a leaky-integrator readout, for step size dtMs (see the file
 * comment for the mapping). Node names: input, fc0, lif0, fc1, lif1, ..., fc_out, readout, output;
 * a recurrent layer ℓ adds rec<ℓ> (lif<ℓ> → rec<ℓ> → lif<ℓ>), a delayed one delay<ℓ> before fc<ℓ>.
 */
export function lifMlpToNir(hidden: readonly ExportLifLayer[], readout: ExportDenseLayer & { beta: number }, dtMs: number): NirGraph {
  if (!(dtMs > 0 && Number.isFinite(dtMs))) throw new SigpropError(`dtMs = ${dtMs}: the step size in ms must be a finite number > 0`, 'parameter');
  const dtS = dtMs / 1000;
  const nodes: Record<string, NirNode> = { input: { type: 'Input', params: { shape: { shape: [1], data: [hidden[0]?.inSize ?? readout.inSize] } } } };
  const edges: { src: string; dst: string }[] = [];
  let prev = 'input';
  const add = (name: string, node: NirNode): void => {
    nodes[name] = node;
    edges.push({ src: prev, dst: name });
    prev = name;
  };
  const affine = (name: string, l: ExportDenseLayer): void => add(name, {
    type: 'Affine',
    params: { weight: f32([l.outSize, l.inSize], transpose(l.w, l.inSize, l.outSize)), bias: f32([l.outSize], l.bias ?? new Float32Array(l.outSize)) },
  });
  const tau = (decay: number): number => -dtS / Math.log(decay);
  hidden.forEach((l, i) => {
    if (l.delay) add(`delay${i}`, { type: 'Delay', params: { delay: f64(l.inSize, l.delay * dtS) } });
    affine(`fc${i}`, l);
    const n = l.outSize;
    if (!(l.beta > 0)) throw new SigpropError(`layer${i}: β = ${l.beta} (no memory) has no NIR time constant (τ = 0); only 0 < β ≤ 1 can be exported`, 'nir');
    if (l.alpha !== undefined) {
      if (!(l.alpha > 0 && l.alpha < 1) || l.beta >= 1) {
        throw new SigpropError(`layer${i}: a synaptic LIF with α = ${l.alpha}, β = ${l.beta} has no NIR CubaLIF time constants; only 0 < α, β < 1 can be exported`, 'nir');
      }
      // CubaLIF gain (1 − α)(1 − β)·R·w_in = 1 with R = 1/(1 − β), w_in = 1/(1 − α): the same per-step update
      add(`lif${i}`, {
        type: 'CubaLIF',
        params: {
          tau_syn: f64(n, tau(l.alpha)), tau_mem: f64(n, tau(l.beta)), r: f64(n, 1 / (1 - l.beta)), v_leak: f64(n, 0), v_threshold: f64(n, l.threshold), w_in: f64(n, 1 / (1 - l.alpha)),
        },
      });
    } else if (l.beta >= 1) add(`lif${i}`, { type: 'IF', params: { r: f64(n, 1 / dtS), v_threshold: f64(n, l.threshold) } });
    else {
      add(`lif${i}`, {
        type: 'LIF',
        params: { tau: f64(n, tau(l.beta)), r: f64(n, 1 / (1 - l.beta)), v_leak: f64(n, 0), v_threshold: f64(n, l.threshold) },
      });
    }
    if (l.recurrent) {
      const rec = `rec${i}`;
      nodes[rec] = l.recurrence === 'one-to-one'
        ? { type: 'Scale', params: { scale: f32([n], Array.from({ length: n }, (_, j) => l.recurrent![j * n + j])) } }
        : { type: 'Affine', params: { weight: f32([n, n], transpose(l.recurrent, n, n)), bias: f32([n], new Float32Array(n)) } };
      edges.push({ src: `lif${i}`, dst: rec }, { src: rec, dst: `lif${i}` });
    }
  });
  affine('fc_out', readout);
  if (!(readout.beta > 0 && readout.beta < 1)) {
    throw new SigpropError(`readout: β = ${readout.beta} has no NIR LI time constant; only 0 < β < 1 can be exported (set ruleParams.readoutBeta)`, 'nir');
  }
  const n = readout.outSize;
  add('readout', { type: 'LI', params: { tau: f64(n, tau(readout.beta)), r: f64(n, 1 / (1 - readout.beta)), v_leak: f64(n, 0) } });
  nodes.output = { type: 'Output', params: { shape: { shape: [1], data: [n] } } };
  edges.push({ src: prev, dst: 'output' });
  return { nodes, edges };
}

/** What runToNir returns: the graph and what the NIR form does not keep. */
export interface RunNirExport {
  doc: NirDocument;
  /** Differences between the trained network and its NIR form (reset, membrane floor, dt). */
  warnings: string[];
  /** The checkpoint read. */
  checkpointPath: string;
}

/**
 * The NIR form of a trained spiking sigprop run (a run folder or its checkpoint file), with time
 * constants for step size dtMs. Refuses other rules and modes with a message saying what is exported.
 */
export async function runToNir(runDirOrCheckpoint: string, opts: { dtMs: number }): Promise<RunNirExport> {
  const { checkpointPathOf } = await import('../runner.js');
  const { loadCheckpoint } = await import('../checkpoint.js');
  const { resolveLif } = await import('../../models/lif.js');
  const { resolveSynaptic } = await import('../../models/synaptic.js');
  const ckPath = checkpointPathOf(runDirOrCheckpoint);
  const ck = loadCheckpoint(ckPath);
  const cfg = ck.meta.config as
    | {
      rule?: string; mode?: string; dtMs?: number; ruleParams?: Record<string, unknown>;
      layers?: { size: number; model?: unknown; params?: Record<string, unknown>; recurrent?: 'all-to-all' | 'one-to-one'; delays?: number }[];
    }
    | undefined;
  if (!cfg || !Array.isArray(cfg.layers)) throw new SigpropError(`${ckPath} has no saved config; export needs a checkpoint written by the run loop (sigprop run)`, 'nir');
  if (cfg.rule !== 'sigprop' || cfg.mode !== 'spiking') {
    throw new SigpropError(`${ckPath}: a ${cfg.rule ?? '?'} run in mode ${cfg.mode ?? '?'}; NIR export supports spiking sigprop runs (rule sigprop, mode spiking: LIF or synaptic LIF layers, recurrent or delayed, and a leaky readout) for now`, 'nir');
  }
  const runDt = cfg.dtMs ?? 1;
  const tensor = (name: string): { shape: number[]; data: Float32Array } => {
    const t = ck.tensors[name];
    if (!t) throw new SigpropError(`${ckPath} has no tensor ${name}; it does not hold a spiking sigprop network`, 'nir');
    return t;
  };
  // checkpoints store tensors flat: the sizes come from the config
  const dense = (name: string, outSize: number): ExportDenseLayer => {
    const w = tensor(`${name}.W`).data, bias = tensor(`${name}.b`).data;
    const inSize = w.length / outSize;
    if (!Number.isInteger(inSize) || bias.length !== outSize) {
      throw new SigpropError(`${ckPath}: ${name}.W holds ${w.length} values and ${name}.b ${bias.length}, which do not fit a layer of ${outSize} neurons`, 'nir');
    }
    return { w, bias, inSize, outSize };
  };
  const warnings: string[] = [];
  const hiddenCfg = cfg.layers.slice(0, -1);
  const hidden: ExportLifLayer[] = hiddenCfg.map((l, i) => {
    const model = l.model ?? 'lif';
    if (model !== 'lif' && model !== 'synaptic') {
      throw new SigpropError(`${ckPath}: layer${i} has model ${JSON.stringify(model)}; NIR export supports 'lif' (LIF, or IF for β = 1) and 'synaptic' (CubaLIF) layers`, 'nir');
    }
    const p = model === 'synaptic' ? resolveSynaptic(l.params as never, runDt) : resolveLif(l.params as never, runDt);
    if (p.reset !== 'zero' || p.resetDelay) {
      const when = p.resetDelay ? ' at the step after a spike' : '';
      const how = p.reset === 'none' ? 'does not reset' : p.reset === 'subtract' ? `resets by subtracting θ${when}` : `resets to zero${when}`;
      warnings.push(`layer${i}: the run's ${model === 'lif' ? 'LIF' : 'synaptic LIF'} ${how}; NIR's ${model === 'lif' ? 'LIF' : 'CubaLIF'} resets to 0 in the spike's step, so spike trains can differ after the first spike`);
    }
    if (p.vMin !== undefined) warnings.push(`layer${i}: the membrane floor vMin = ${p.vMin} has no NIR equivalent and is left out`);
    const rec = l.recurrent ? tensor(`layer${i}.R`).data : undefined;
    return {
      ...dense(`layer${i}`, l.size), beta: p.beta, threshold: p.threshold,
      ...('alpha' in p ? { alpha: (p as { alpha: number }).alpha } : {}),
      ...(rec ? { recurrent: rec, recurrence: l.recurrent } : {}),
      ...(l.delays ? { delay: l.delays } : {}),
    };
  });

  const readoutBeta = typeof cfg.ruleParams?.readoutBeta === 'number' ? cfg.ruleParams.readoutBeta : hidden[hidden.length - 1].beta;
  if (Math.abs(opts.dtMs - runDt) > 1e-12 * runDt) {
    warnings.push(`the run used dt = ${runDt} ms; the NIR time constants are for dt = ${opts.dtMs} ms (the per-step decays β are kept, so τ = −dt/ln β scales with dt)`);
  }
  const graph = lifMlpToNir(hidden, { ...dense('readout', cfg.layers[cfg.layers.length - 1].size), beta: readoutBeta }, opts.dtMs);
  return { doc: { version: NIR_VERSION, graph }, warnings, checkpointPath: ckPath };
}

/** runToNir, then writeNir to `outFile`. */
export async function exportRunToNir(runDirOrCheckpoint: string, outFile: string, opts: { dtMs: number }): Promise<RunNirExport & { path: string }> {
  const r = await runToNir(runDirOrCheckpoint, opts);
  const path = await writeNir(outFile, r.doc);
  return { ...r, path };
}
