/**
 * Simulating a NIR graph on the project's engine:
 *   Input → (Affine | Linear | Scale | Delay | Flatten)* → neuron (LIF | CubaLIF | LI | CubaLI | IF | I | Threshold)
 *         → ... → neuron → Output
 * Each run of linear nodes is composed into one weight matrix W [in, out] and bias, and each
 * neuron node becomes one engine Layer. A loop from a neuron node through linear nodes back to
 * itself (e.g. snnTorch's RSynaptic: CubaLIF → Affine → the same CubaLIF) becomes that layer's
 * recurrent projection (all-to-all, or one-to-one when the loop's matrix is diagonal), fed by the
 * layer's output of the step before, as in snnTorch's RLeaky/RSynaptic; the loop's bias joins the
 * layer's bias. Delay nodes become synaptic delays in whole steps of dt (per input row before the
 * first Affine/Linear of a run, per neuron after it; a bias before a Delay is not held back for the
 * first d steps). Nested graphs are inlined (flattenNir), their
 * Input and Output nodes pass-throughs, as are Flatten nodes. dt (ms) is always given by the
 * caller: NIR files carry none, and NIR time constants are in seconds (τ_s = tauMs / 1000). A spike
 * is a value 1 held over one step, or with spikes 'dirac' a pulse of unit integral (NirSpikeConvention).
 *
 * Discretisation (zero-order hold). The input of step t, x[t], is held constant over the step
 * [t·dt, (t+1)·dt); the state after step t is the state at time (t+1)·dt. For the NIR LIF
 *   τ dv/dt = (v_leak − v) + R·I,   I = W·x + b constant over the step,
 * the exact solution over one step is
 *   v((t+1)dt) = v_∞ + (v(t·dt) − v_∞)·β,   v_∞ = v_leak + R·I,   β = exp(−dt/τ)
 *             = β·v(t·dt) + (1 − β)·(v_leak + R·I).
 * The project's LIF is U[t] = β·U[t−1] + I'[t] (snnTorch `Leaky`), so the mapping is exact with
 * the incoming weights and bias scaled instead of changing the model:
 *   W' = (1 − β)·R·W,   b' = (1 − β)·(R·b + v_leak),   threshold θ = v_threshold,
 * reset to zero applied in the spike's own step (reset 'zero', resetDelay false): NIR sets
 * v = v_reset (0) when v > v_threshold. Threshold crossings are only seen at the ends of steps,
 * so a spike comes up to one step later than the continuous crossing (error < dt per spike).
 * Compared with snnTorch's own NIR convention (forward Euler: β = 1 − dt/τ, input gain dt·R/τ),
 * the two agree to first order in dt/τ; this one is exact for piecewise-constant input.
 *   IF  (dv/dt = R·I):               β = 1, W' = dt_s·R·W, b' = dt_s·R·b (exact for constant I).
 *   LI  (τ dv/dt = (v_leak − v) + R·I): the 'leaky' model with method 'exact' and the identity
 *        activation, W' = R·W, b' = R·b + v_leak (its step is h ← h + (1 − β)·(I' − h): exact).
 *   CubaLIF (τ_syn dI/dt = −I + w_in·S; τ_mem dv/dt = (v_leak − v) + R·I): the 'synaptic' model.
 *        The current is integrated exactly (α = exp(−dt/τ_syn), input gain (1 − α)·w_in); the
 *        voltage takes the current at the end of the step as constant over the step (gain
 *        (1 − β)·R), which is first order in dt/τ_syn. Scaled: W' = (1−α)(1−β)·R·w_in·W.
 *        v_leak must be 0 (a constant leak cannot enter the synaptic model's voltage directly).
 *   CubaLI: the same without threshold (a synaptic layer that never fires; it must feed the Output).
 *   I   (dv/dt = R·I):               'li' with β = 1, W' = dt_s·R·W (exact for constant I).
 *   Threshold (z = H(x − θ)):        a LIF with β = 0 and no reset.
 * Time constants must be the same for every neuron of a node (the engine's models take one value
 * per layer); r, w_in and v_leak enter the per-neuron weights and bias, and per-neuron thresholds
 * are folded into them too (threshold 1, neuron j's input divided by θ_j: the same spikes, the
 * voltage reported as U·θ_j). Anything else is refused with an error naming the node, the
 * parameter and the reason. Neuron types are a registry (registerNirNeuron), so a new type is one
 * mapping, not a new branch.
 */
import { ParameterError } from '../errors.js';
import { ReferenceBackend } from '../backend/reference.js';
import type { Backend } from '../backend/backend.js';
import { Network, type NetworkSpec } from '../engine/network.js';
import type { LayerSpec, Recurrence } from '../engine/layer.js';
import { Rng } from '../rng.js';
import { NirError, nirSize, recurrentEdges, type NirArray, type NirGraph, type NirNode } from './nir.js';

/** NIR node types that compose into a layer's weights. */
export const NIR_LINEAR_TYPES = ['Affine', 'Linear', 'Scale'] as const;

/** One engine layer made from a NIR neuron node and the linear nodes before it. */
export interface NirLayerPlan {
  /** The neuron node's name. */
  node: string;
  type: string;
  /** The linear nodes composed into this layer's weights, in order. */
  linear: string[];
  size: number;
  /** The engine layer spec (model and parameters). */
  spec: LayerSpec;
  /** Weights [in, size] row-major, already scaled for dt (see the file comment). */
  w: Float32Array;
  bias: Float32Array;
  /** Recurrent weights [size, size] (from, to), scaled like w, when a loop leads the node's output back to it. */
  wRec?: Float32Array;
  /** The linear nodes of that loop, in order. */
  recurrentLinear?: string[];
  /**
   * Per-neuron thresholds differ: the layer runs with threshold 1 and inputs divided by each
   * neuron's v_threshold, and the NIR voltage is U·vScale[j].
   */
  vScale?: Float64Array;
}

/** A NIR graph mapped onto the engine for one dt. */
export interface NirPlan {
  dtMs: number;
  inputNode: string;
  inputSize: number;
  outputNode: string;
  layers: NirLayerPlan[];
}

const fail = (msg: string): never => {
  throw new NirError(msg);
};

function param(name: string, node: NirNode, key: string, required = true): NirArray | undefined {
  const p = node.params[key];
  if (!p && required) fail(`node ${name} of type ${node.type}: parameter ${key} is missing`);
  return p;
}

/** Reads the parameters of one neuron node of n neurons; every error names the node and parameter. */
export interface NirParamReader {
  readonly name: string;
  readonly node: NirNode;
  readonly n: number;
  /** Values per neuron (one value broadcasts); `fallback` when the parameter is absent, else required. */
  perNeuron(key: string, fallback?: number): Float64Array;
  /** The one value the engine takes per layer; refuses values that differ between neurons. */
  uniform(key: string, fallback?: number): number;
  /** uniform(), and finite > 0. */
  positive(key: string): number;
  /** Refuse a nonzero v_reset (the engine resets to zero). */
  zeroReset(): void;
  /** Throw a NirError naming the node, the parameter and the reason. */
  fail(key: string, reason: string): never;
}

function paramReader(name: string, node: NirNode, n: number): NirParamReader {
  const r: NirParamReader = {
    name, node, n,
    fail: (key, reason) => fail(`node ${name} of type ${node.type}: parameter ${key} ${reason}`),
    perNeuron(key, fallback) {
      const p = param(name, node, key, fallback === undefined);
      const out = new Float64Array(n);
      if (!p) return out.fill(fallback as number);
      const d = p.data;
      if (d.length === 1) return out.fill(Number(d[0]));
      if (d.length !== n) r.fail(key, `has ${d.length} values but the node has ${n} neurons`);
      for (let i = 0; i < n; i++) out[i] = Number(d[i]);
      return out;
    },
    uniform(key, fallback) {
      const v = r.perNeuron(key, fallback);
      let lo = Infinity, hi = -Infinity;
      for (const x of v) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
      if (hi - lo > 1e-6 * Math.max(1, Math.abs(hi))) {
        r.fail(key, `differs between neurons (${+lo.toPrecision(6)} to ${+hi.toPrecision(6)}); one value per node is supported, not per-neuron values yet (the engine's models take one value per layer): split the node into nodes of equal ${key}`);
      }
      return v[0];
    },
    positive(key) {
      const v = r.uniform(key);
      if (!(v > 0) || !Number.isFinite(v)) r.fail(key, `= ${+v.toPrecision(6)} must be a finite number > 0`);
      return v;
    },
    zeroReset() {
      if (node.params.v_reset && r.perNeuron('v_reset').some((x) => x !== 0)) r.fail('v_reset', 'is not 0; a reset to a nonzero potential is not supported yet');
    },
  };
  return r;
}

/**
 * How a NIR neuron type becomes an engine layer: the model spec and, per neuron j, the gain g_j
 * that scales the incoming weights and bias and the constant c_j added to the bias, so that the
 * layer computes the NIR equation's solution for step dtMs (see the file comment).
 */
export interface NirNeuronMapping {
  /** The parameter whose shape gives the number of neurons. */
  sizeParam: string;
  /** False for non-spiking types (LI). */
  spikes: boolean;
  /** Set when the node can only feed the Output (its engine layer passes nothing usable on): why. */
  terminal?: string;
  map(p: NirParamReader, dtMs: number): { spec: LayerSpec; gain: Float64Array; constant: Float64Array; vScale?: Float64Array };
}

/**
 * The threshold of a spiking node: one value, or per-neuron values folded into the gains (the
 * layer's threshold becomes 1 and neuron j's input and constant are divided by θ_j; with a reset
 * to zero or by subtracting θ the spikes are the same, and the NIR voltage is U·θ_j).
 */
function threshold(p: NirParamReader, key: string, gain: Float64Array, constant: Float64Array): { threshold: number; vScale?: Float64Array } {
  const th = p.perNeuron(key);
  for (const x of th) if (!(x > 0) || !Number.isFinite(x)) p.fail(key, `= ${+x.toPrecision(6)} must be a finite number > 0`);
  if (th.every((x) => Math.abs(x - th[0]) <= 1e-6 * Math.max(1, Math.abs(th[0])))) return { threshold: th[0] };
  for (let j = 0; j < p.n; j++) { gain[j] /= th[j]; constant[j] /= th[j]; }
  return { threshold: 1, vScale: th };
}

const neuronMappings = new Map<string, NirNeuronMapping>();

/** Register (or replace) how a NIR neuron type is simulated. */
export function registerNirNeuron(type: string, mapping: NirNeuronMapping): void {
  neuronMappings.set(type, mapping);
}

/** The NIR neuron types that can be simulated. */
export function nirNeuronTypes(): string[] {
  return [...neuronMappings.keys()];
}

registerNirNeuron('LIF', {
  sizeParam: 'tau', spikes: true,
  map(p, dtMs) {
    const tau = p.positive('tau');
    p.zeroReset();
    const r = p.perNeuron('r', 1), vLeak = p.perNeuron('v_leak', 0);
    const oneMinusBeta = -Math.expm1(-dtMs / 1000 / tau);
    const gain = r.map((x) => oneMinusBeta * x), constant = vLeak.map((x) => oneMinusBeta * x);
    const th = threshold(p, 'v_threshold', gain, constant);
    return { spec: { size: p.n, model: 'lif', params: { tauMs: tau * 1000, threshold: th.threshold, reset: 'zero', resetDelay: false } }, gain, constant, vScale: th.vScale };
  },
});

registerNirNeuron('IF', {
  sizeParam: 'r', spikes: true,
  map(p, dtMs) {
    p.zeroReset();
    const gain = p.perNeuron('r', 1).map((x) => (dtMs / 1000) * x), constant = new Float64Array(p.n);
    const th = threshold(p, 'v_threshold', gain, constant);
    return { spec: { size: p.n, model: 'lif', params: { beta: 1, threshold: th.threshold, reset: 'zero', resetDelay: false } }, gain, constant, vScale: th.vScale };
  },
});

registerNirNeuron('LI', {
  sizeParam: 'tau', spikes: false,
  map(p) {
    const tau = p.positive('tau');
    return {
      spec: { size: p.n, model: 'leaky', params: { tauMs: tau * 1000, activation: 'identity', method: 'exact' } },
      gain: p.perNeuron('r', 1), constant: p.perNeuron('v_leak', 0),
    };
  },
});

registerNirNeuron('CubaLIF', {
  sizeParam: 'tau_mem', spikes: true,
  map(p, dtMs) {
    const c = cuba(p, dtMs);
    p.zeroReset();
    const th = threshold(p, 'v_threshold', c.gain, c.constant);
    return { spec: { size: p.n, model: 'synaptic', params: { ...c.params, threshold: th.threshold, reset: 'zero', resetDelay: false } }, gain: c.gain, constant: c.constant, vScale: th.vScale };
  },
});

/** The current-based part shared by CubaLIF and CubaLI: decays and the gain (1 − α)(1 − β)·R·w_in. */
function cuba(p: NirParamReader, dtMs: number): { params: Record<string, number>; gain: Float64Array; constant: Float64Array } {
  const tauMem = p.positive('tau_mem'), tauSyn = p.positive('tau_syn');
  if (p.perNeuron('v_leak', 0).some((x) => x !== 0)) {
    p.fail('v_leak', `is not 0; a leak voltage cannot enter the synaptic model's membrane directly (its constant input passes the synaptic filter first), so a nonzero v_leak in ${p.node.type} is not supported yet`);
  }
  const r = p.perNeuron('r', 1), wIn = p.perNeuron('w_in', 1);
  const g = -Math.expm1(-dtMs / 1000 / tauSyn) * -Math.expm1(-dtMs / 1000 / tauMem);
  return { params: { tauMs: tauMem * 1000, tauSynMs: tauSyn * 1000 }, gain: r.map((x, j) => g * x * wIn[j]), constant: new Float64Array(p.n) };
}

// CubaLI: the synaptic model that never fires (reset none, a threshold no voltage reaches); its output is the voltage
registerNirNeuron('CubaLI', {
  sizeParam: 'tau_mem', spikes: false,
  terminal: "a CubaLI node runs as a synaptic LIF that never fires, so only its voltage is recorded; it must feed the Output",
  map(p, dtMs) {
    const c = cuba(p, dtMs);
    return { spec: { size: p.n, model: 'synaptic', params: { ...c.params, threshold: 1e30, reset: 'none' } }, gain: c.gain, constant: c.constant };
  },
});

// I: dv/dt = R·I, exact for constant input as the plain integrator 'li' with β = 1 and gain dt·R
registerNirNeuron('I', {
  sizeParam: 'r', spikes: false,
  map(p, dtMs) {
    return { spec: { size: p.n, model: 'li', params: { beta: 1 } }, gain: p.perNeuron('r').map((x) => (dtMs / 1000) * x), constant: new Float64Array(p.n) };
  },
});

// Threshold: z = H(x − θ) without memory: a LIF with β = 0 and no reset
registerNirNeuron('Threshold', {
  sizeParam: 'threshold', spikes: true,
  map(p) {
    const gain = new Float64Array(p.n).fill(1), constant = new Float64Array(p.n);
    const th = threshold(p, 'threshold', gain, constant);
    return { spec: { size: p.n, model: 'lif', params: { beta: 0, threshold: th.threshold, reset: 'none' } }, gain, constant, vScale: th.vScale };
  },
});

/**
 * A NIR graph with its nested graphs inlined: the nodes of a NIRGraph node `g` become `g.<name>`,
 * its Input and Output nodes pass-throughs (internal type 'Identity'), and an edge to or from `g`
 * itself goes to its one Input or comes from its one Output. Graphs without nesting are returned
 * as they are.
 */
export function flattenNir(graph: NirGraph, prefix = ''): NirGraph {
  if (!Object.values(graph.nodes).some((n) => n.type === 'NIRGraph') && !prefix) return graph;
  const nodes: Record<string, NirNode> = {};
  const edges: { src: string; dst: string }[] = [];
  const port = new Map<string, { in: string; out: string }>();
  for (const [name, node] of Object.entries(graph.nodes)) {
    const full = prefix + name;
    if (node.type === 'NIRGraph' && node.graph) {
      const inner = flattenNir(node.graph, `${full}.`);
      Object.assign(nodes, inner.nodes);
      edges.push(...inner.edges);
      const kinds = (t: string): string[] => Object.keys(node.graph!.nodes).filter((n) => node.graph!.nodes[n].type === t);
      const ins = kinds('Input'), outs = kinds('Output');
      port.set(name, { in: ins.length === 1 ? `${full}.${ins[0]}` : '', out: outs.length === 1 ? `${full}.${outs[0]}` : '' });
    } else {
      nodes[full] = prefix && (node.type === 'Input' || node.type === 'Output') ? { type: 'Identity', params: {} } : node;
    }
  }
  const end = (n: string, dir: 'in' | 'out'): string => {
    const p = port.get(n);
    if (!p) return prefix + n;
    if (!p[dir]) fail(`nested graph ${prefix + n}: an edge ${dir === 'in' ? 'into' : 'out of'} it needs exactly one ${dir === 'in' ? 'Input' : 'Output'} node inside; name the port (${prefix + n}.<node>)`);
    return p[dir];
  };
  for (const e of graph.edges) edges.push({ src: end(e.src, 'out'), dst: end(e.dst, 'in') });
  return { nodes, edges };
}

/** A NIR Delay value (s) in whole steps of dtMs, or a NirError naming the node. */
function delaySteps(name: string, seconds: number, dtMs: number): number {
  const steps = (seconds * 1000) / dtMs;
  const k = Math.round(steps);
  if (!(seconds >= 0) || Math.abs(steps - k) > 1e-6 * Math.max(1, steps)) {
    fail(`node ${name} of type Delay: parameter delay ${+seconds.toPrecision(6)} s is ${seconds < 0 ? 'negative' : `not a whole number of steps of dt = ${dtMs} ms (${+steps.toPrecision(6)} steps); choose a dt that divides every delay`}`);
  }
  return k;
}

/**
 * The linear map composed along a run of linear nodes: M [mIn, width] (float64), bias [width], and
 * delays in steps, per input row (dPre: delays before the first Affine or Linear) and per output
 * column (dPost: after it), so that connection (r, c) is delayed dPre[r] + dPost[c] steps.
 */
class LinearRun {
  m: Float64Array;
  b: Float64Array;
  width: number;
  dPre: Float64Array;
  dPost: Float64Array;
  names: string[] = [];
  private weighted = false;

  constructor(readonly mIn: number, private readonly dtMs: number) {
    this.m = identity(mIn);
    this.b = new Float64Array(mIn);
    this.width = mIn;
    this.dPre = new Float64Array(mIn);
    this.dPost = new Float64Array(mIn);
  }

  /** Append a linear node (Affine, Linear, Scale, Flatten, Delay, or a nested graph's Input/Output); false for any other type. */
  apply(name: string, node: NirNode, from: string): boolean {
    const { mIn } = this;
    if (node.type === 'Affine' || node.type === 'Linear') {
      const w = param(name, node, 'weight') as NirArray;
      if (w.shape.length !== 2) fail(`node ${name} of type ${node.type}: weight has shape [${w.shape.join(', ')}]; [out, in] is needed`);
      const [o, i] = w.shape;
      if (i !== this.width) fail(`node ${name} of type ${node.type}: weight [${o}, ${i}] takes ${i} inputs but receives ${this.width} (from ${from})`);
      const wm = new Float64Array(mIn * o);
      for (let r = 0; r < mIn; r++) for (let c = 0; c < o; c++) {
        let s = 0;
        for (let k = 0; k < i; k++) s += this.m[r * i + k] * Number(w.data[c * i + k]);
        wm[r * o + c] = s;
      }
      const nb = new Float64Array(o);
      const bias = node.type === 'Affine' ? node.params.bias : undefined;
      if (bias && bias.data.length !== o) fail(`node ${name} of type Affine: bias has ${bias.data.length} values but weight has ${o} outputs`);
      for (let c = 0; c < o; c++) {
        let s = bias ? Number(bias.data[c]) : 0;
        for (let k = 0; k < i; k++) s += Number(w.data[c * i + k]) * this.b[k];
        nb[c] = s;
      }
      // delays so far move to the rows (before any mixing), or must be one value for all (after it)
      const d = this.dPost;
      if (d.some((x) => x !== 0)) {
        if (!this.weighted) for (let r = 0; r < mIn; r++) this.dPre[r] += d[r];
        else if (d.some((x) => x !== d[0])) fail(`node ${name} of type ${node.type}: it mixes signals that Delay nodes before it delayed by different amounts; per-neuron delays are supported before the first or after the last Affine/Linear of a run of linear nodes`);
        else for (let r = 0; r < mIn; r++) this.dPre[r] += d[0];
      }
      this.m = wm; this.b = nb; this.width = o; this.dPost = new Float64Array(o);
      this.weighted = true;
    } else if (node.type === 'Scale') {
      const s = paramReader(name, node, this.width).perNeuron('scale');
      const wd = this.width;
      for (let r = 0; r < mIn; r++) for (let c = 0; c < wd; c++) this.m[r * wd + c] *= s[c];
      for (let c = 0; c < wd; c++) this.b[c] *= s[c];
    } else if (node.type === 'Delay') {
      const d = paramReader(name, node, this.width).perNeuron('delay');
      for (let c = 0; c < this.width; c++) this.dPost[c] += delaySteps(name, d[c], this.dtMs);
    } else if (node.type === 'Flatten') {
      const t = node.params.input_type;
      if (t && nirSize(Array.from(t.data, Number)) !== this.width) {
        fail(`node ${name} of type Flatten: input_type [${Array.from(t.data).join(', ')}] holds ${nirSize(Array.from(t.data, Number))} values but it receives ${this.width} (from ${from})`);
      }
    } else if (node.type !== 'Identity') return false;
    this.names.push(name);
    return true;
  }

  /** Delays [mIn, width] in steps: undefined when all 0, a number when all equal, else per connection. */
  delays(): number | Int32Array | undefined {
    const { mIn, width } = this;
    const d = new Int32Array(mIn * width);
    for (let r = 0; r < mIn; r++) for (let c = 0; c < width; c++) d[r * width + c] = this.dPre[r] + this.dPost[c];
    if (d.every((x) => x === d[0])) return d[0] === 0 ? undefined : d[0];
    return d;
  }
}

/** Node types that compose into a layer's weights (with NIR_LINEAR_TYPES). */
const PASS_TYPES = ['Flatten', 'Delay'];

/**
 * How a spike of a NIR neuron node acts downstream: 'step' (default) a value 1 held over one step,
 * as the discrete-time NIR backends do (its effect scales with dt); 'dirac' a pulse of unit
 * integral, as the NIR repository proposes (paper/01_lif/debug_spike_representation): the weights
 * of projections fed by spikes, recurrent loops included, are multiplied by 1/dt (in s), so a
 * spike's effect is the same at any dt (to first order in dt/τ). The network input is a current
 * held over each step either way.
 */
export type NirSpikeConvention = 'step' | 'dirac';

/**
 * Map a NIR graph onto engine layers for step size dtMs. Throws a NirError naming the node (or
 * edge), the parameter and the reason for anything it cannot represent.
 */
export function planNir(graphIn: NirGraph, dtMs: number, opts: { spikes?: NirSpikeConvention } = {}): NirPlan {
  const spikes = opts.spikes ?? 'step';
  if (spikes !== 'step' && spikes !== 'dirac') throw new ParameterError(`spikes = ${JSON.stringify(spikes)}: give 'step' (default) or 'dirac'`);
  const spikeGain = (type: string | undefined): number => (spikes === 'dirac' && type !== undefined && neuronMappings.get(type)?.spikes ? 1000 / dtMs : 1);
  if (!(typeof dtMs === 'number' && Number.isFinite(dtMs) && dtMs > 0)) {
    throw new ParameterError(`dtMs = ${dtMs}: the step size in ms must be a finite number > 0 (NIR files carry no dt; give one, e.g. 0.1)`);
  }
  const graph = flattenNir(graphIn);
  const names = Object.keys(graph.nodes);
  const inputs = names.filter((n) => graph.nodes[n].type === 'Input');
  const outputs = names.filter((n) => graph.nodes[n].type === 'Output');
  if (inputs.length !== 1) fail(`the graph has ${inputs.length} Input nodes${inputs.length ? ` (${inputs.join(', ')})` : ''}; exactly one is supported`);
  if (outputs.length !== 1) fail(`the graph has ${outputs.length} Output nodes${outputs.length ? ` (${outputs.join(', ')})` : ''}; exactly one is supported`);
  const key = (e: { src: string; dst: string }): string => `${e.src}\u0000${e.dst}`;
  const recurrent = new Set(recurrentEdges(graph).map(key));
  const out = new Map<string, string[]>(), recOut = new Map<string, string[]>(), inCount = new Map<string, number>();
  for (const e of graph.edges) {
    if (!(e.src in graph.nodes) || !(e.dst in graph.nodes)) fail(`edge ${e.src} -> ${e.dst}: edges to ports of nested graphs are not supported yet`);
    const m = recurrent.has(key(e)) ? recOut : out;
    m.set(e.src, [...(m.get(e.src) ?? []), e.dst]);
    if (!recurrent.has(key(e))) inCount.set(e.dst, (inCount.get(e.dst) ?? 0) + 1);
  }
  for (const [n, c] of inCount) if (c > 1) fail(`node ${n} has ${c} incoming edges: merging branches is not supported yet (only chains, and loops from a neuron node back to itself)`);
  const usedRec = new Set<string>();

  const inputNode = inputs[0];
  const inputSize = nirSize(Array.from((param(inputNode, graph.nodes[inputNode], 'shape') as NirArray).data, Number));
  let run = new LinearRun(inputSize, dtMs);
  const layers: NirLayerPlan[] = [];
  const seen = new Set<string>();
  const supported = (): string => [...NIR_LINEAR_TYPES, ...PASS_TYPES, ...nirNeuronTypes(), 'Input', 'Output'].join(', ');
  let cur = inputNode;
  for (;;) {
    seen.add(cur);
    const next = out.get(cur) ?? [];
    if (next.length === 0) fail(`node ${cur} has no outgoing edge, so the Input does not reach the Output ${outputs[0]}`);
    if (next.length > 1) fail(`node ${cur} has ${next.length} outgoing edges (${next.join(', ')}): branching graphs are not supported yet (only chains)`);
    const name = next[0];
    const node = graph.nodes[name];
    if (node.type === 'Output') {
      const acting = run.names.filter((n) => !['Identity', 'Flatten'].includes(graph.nodes[n].type));
      if (acting.length) fail(`node ${acting[acting.length - 1]} of type ${graph.nodes[acting[acting.length - 1]].type} feeds the Output: the Output must be fed by a neuron node (${nirNeuronTypes().join(', ')}) for now`);
      if (!layers.length) fail(`the graph has no neuron node between ${inputNode} and ${name}; nothing to simulate`);
      const shape = node.params.shape;
      if (shape && nirSize(Array.from(shape.data, Number)) !== run.width) fail(`node ${name} of type Output: shape [${Array.from(shape.data).join(', ')}] does not match the ${run.width} neurons of ${layers[layers.length - 1].node}`);
      const unusedRec = graph.edges.find((e) => recurrent.has(key(e)) && !usedRec.has(key(e)));
      if (unusedRec) fail(`recurrent edge ${unusedRec.src} -> ${unusedRec.dst}: the cycle is not a loop from a neuron node through linear nodes back to itself; only such loops (recurrent layers) are supported`);
      const unreached = names.filter((n) => !seen.has(n) && n !== name);
      if (unreached.length) fail(`node ${unreached[0]} of type ${graph.nodes[unreached[0]].type} is not on the chain from ${inputNode} to ${name}: only single chains are supported yet`);
      return { dtMs, inputNode, inputSize, outputNode: name, layers };
    }
    if (run.apply(name, node, cur)) {
      // a linear node: composed into the next layer's weights
    } else if (neuronMappings.has(node.type)) {
      const mapping = neuronMappings.get(node.type)!;
      const prev = layers[layers.length - 1];
      if (prev && neuronMappings.get(prev.type)?.terminal) fail(`node ${prev.node} of type ${prev.type} feeds ${name}: ${neuronMappings.get(prev.type)!.terminal}`);
      const n = nirSize((param(name, node, mapping.sizeParam) as NirArray).shape);
      if (n !== run.width) fail(`node ${name} of type ${node.type}: it has ${n} neurons but receives ${run.width} values (from ${cur})`);
      const { spec, gain, constant, vScale } = mapping.map(paramReader(name, node, n), dtMs);
      // loops from this node back to itself through linear nodes: the recurrent projection (from its output at t−1)
      const loop = new LinearRun(n, dtMs);
      if ((recOut.get(name) ?? []).length > 1) fail(`node ${name} of type ${node.type} has ${recOut.get(name)!.length} recurrent loops (${recOut.get(name)!.join(', ')}); one loop per neuron node is supported: sum them into one Affine`);
      for (const first of recOut.get(name) ?? []) {
        const path: string[] = [];
        let at = first;
        while (at !== name) {
          const nd = graph.nodes[at];
          if (!loop.apply(at, nd, path[path.length - 1] ?? name)) fail(`recurrent edge ${path[path.length - 1] ?? name} -> ${at}: node ${at} of type ${nd.type} is in a loop; only linear nodes (Affine, Linear, Scale) may lead a neuron node's output back to itself`);
          path.push(at);
          const nx = [...(out.get(at) ?? []), ...(recOut.get(at) ?? [])];
          if (nx.length !== 1) fail(`node ${at} of type ${nd.type} in the loop of ${name} has ${nx.length} outgoing edges; a recurrent loop must be a single path back to ${name}`);
          at = nx[0];
        }
        if (loop.width !== n) fail(`the loop ${[name, ...path, name].join(' -> ')} gives ${loop.width} values to ${n} neurons`);
        if (loop.delays() !== undefined) fail(`the loop ${[name, ...path, name].join(' -> ')} holds a Delay: delays in recurrent loops are not supported yet (the recurrent input is the output of the previous step)`);
        const hops = [name, ...path, name];
        for (let i = 0; i + 1 < hops.length; i++) usedRec.add(key({ src: hops[i], dst: hops[i + 1] }));
        for (const p of path) seen.add(p);
      }
      const hasLoop = (recOut.get(name) ?? []).length > 0;
      const w = new Float32Array(run.mIn * n), bias = new Float32Array(n);
      const inGain = spikeGain(prev?.type), recGain = spikeGain(node.type);
      for (let r = 0; r < run.mIn; r++) for (let c = 0; c < n; c++) w[r * n + c] = run.m[r * n + c] * gain[c] * inGain;
      for (let c = 0; c < n; c++) bias[c] = (run.b[c] + (hasLoop ? loop.b[c] : 0)) * gain[c] + constant[c];
      let wRec: Float32Array | undefined, recurrence: Recurrence | undefined;
      if (hasLoop) {
        wRec = new Float32Array(n * n);
        let offDiagonal = false;
        for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
          wRec[r * n + c] = loop.m[r * n + c] * gain[c] * recGain;
          if (r !== c && wRec[r * n + c] !== 0) offDiagonal = true;
        }
        recurrence = offDiagonal ? 'all-to-all' : 'one-to-one';
      }
      const delays = run.delays();
      layers.push({
        node: name, type: node.type, linear: run.names, size: n, w, bias,
        spec: { ...spec, bias: true, name, ...(recurrence ? { recurrent: recurrence } : {}), ...(delays !== undefined ? { delays } : {}) },
        ...(wRec ? { wRec, recurrentLinear: loop.names } : {}),
        ...(vScale ? { vScale } : {}),
      });
      run = new LinearRun(n, dtMs);
    } else if (node.type === 'Input') {
      fail(`node ${name} of type Input has an incoming edge from ${cur}`);
    } else {
      fail(`not supported yet: node ${name} of type ${node.type} (supported: ${supported()})`);
    }
    cur = name;
  }
}

function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** Build the engine Network of a plan (weights set; the network is not reset). */
export function nirNetwork(plan: NirPlan, backend: Backend = new ReferenceBackend()): Network {
  const spec: NetworkSpec = { inputSize: plan.inputSize, dtMs: plan.dtMs, inputKind: 'current', layers: plan.layers.map((l) => l.spec) };
  const net = new Network(backend, spec, new Rng(0));
  net.setWeights(plan.layers.map((l) => ({ w: l.w, bias: l.bias, ...(l.wRec ? { recurrent: l.wRec } : {}) })));
  return net;
}

/** Traces of one neuron node: values [steps, size] row-major. */
export interface NirNodeTrace {
  node: string;
  type: string;
  size: number;
  /** Membrane voltage at the end of each step (after a reset in that step). */
  voltage: Float32Array;
  /** Spikes (0/1) of each step; absent for LI (no spikes). */
  spikes?: Float32Array;
}

/** Result of simulateNir. */
export interface NirSimulation {
  dtMs: number;
  steps: number;
  /** The neuron node feeding the Output. */
  outputNode: string;
  /** Every neuron node's traces, input to output. */
  nodes: NirNodeTrace[];
}

/**
 * Simulate a NIR graph (chains of neuron nodes, with recurrent loops) with step dtMs (ms). `input` holds one row per step, one
 * column per input channel: Float32Array [steps, inputSize] row-major, or rows of numbers.
 * Batch 1, reference backend: the numbers are the exact zero-order-hold solution described above.
 */
export function simulateNir(
  graph: NirGraph, input: Float32Array | readonly (readonly number[])[], opts: { dtMs: number; backend?: Backend; spikes?: NirSpikeConvention },
): NirSimulation {
  const plan = planNir(graph, opts.dtMs, { spikes: opts.spikes });
  const n = plan.inputSize;
  let flat: Float32Array;
  if (input instanceof Float32Array) flat = input;
  else {
    input.forEach((row, t) => {
      if (row.length !== n) throw new ParameterError(`input row ${t} has ${row.length} values but the NIR Input ${plan.inputNode} has ${n} channels`);
    });
    flat = Float32Array.from(input.flat());
  }
  if (flat.length % n !== 0) throw new ParameterError(`input has ${flat.length} values, not a whole number of steps of ${n} channels (the NIR Input ${plan.inputNode})`);
  const steps = flat.length / n;
  const backend = opts.backend ?? new ReferenceBackend();
  const net = nirNetwork(plan, backend);
  net.reset(1);
  const traces: NirNodeTrace[] = plan.layers.map((l) => ({
    node: l.node, type: l.type, size: l.size, voltage: new Float32Array(steps * l.size),
    ...(neuronMappings.get(l.type)?.spikes === false ? {} : { spikes: new Float32Array(steps * l.size) }),
  }));
  const x = net.inputTensor();
  for (let t = 0; t < steps; t++) {
    backend.write(x, flat.subarray(t * n, (t + 1) * n));
    net.step(x);
    net.layers.forEach((layer, i) => {
      const tr = traces[i];
      const v = backend.read(layer.voltage());
      const scale = plan.layers[i].vScale;
      if (scale) for (let j = 0; j < tr.size; j++) v[j] *= scale[j];
      tr.voltage.set(v, t * tr.size);
      if (tr.spikes) tr.spikes.set(backend.read(layer.stateVar(layer.model.spikeVar!)), t * tr.size);
    });
  }
  net.free();
  return { dtMs: plan.dtMs, steps, outputNode: plan.layers[plan.layers.length - 1].node, nodes: traces };
}

/**
 * The CSV of one node's traces: a header `step,time_ms,<node>.v[0],...,<node>.s[0],...` and one
 * row per step; time_ms is the end of the step, (step + 1)·dt.
 */
export function nirTraceCsv(sim: NirSimulation, node = sim.outputNode): string {
  const tr = sim.nodes.find((t) => t.node === node);
  if (!tr) throw new ParameterError(`no neuron node ${node} in the simulation; nodes: ${sim.nodes.map((t) => t.node).join(', ')}`);
  const cols = ['step', 'time_ms'];
  for (let j = 0; j < tr.size; j++) cols.push(`${node}.v[${j}]`);
  if (tr.spikes) for (let j = 0; j < tr.size; j++) cols.push(`${node}.s[${j}]`);
  const lines = [cols.join(',')];
  for (let t = 0; t < sim.steps; t++) {
    const row: (string | number)[] = [t, Number(((t + 1) * sim.dtMs).toPrecision(12))];
    for (let j = 0; j < tr.size; j++) row.push(tr.voltage[t * tr.size + j]);
    if (tr.spikes) for (let j = 0; j < tr.size; j++) row.push(tr.spikes[t * tr.size + j]);
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * Parse an input CSV: one row per step, one column per input channel; an optional header line
 * (any row whose first cell is not a number) is skipped. Errors name the file and line.
 */
export function parseNirInputCsv(text: string, channels: number, file = 'input'): Float32Array {
  const values: number[] = [];
  const lines = text.split(/\r?\n/);
  let rows = 0;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const cells = line.split(',').map((c) => c.trim());
    if (rows === 0 && values.length === 0 && !Number.isFinite(Number(cells[0])) ) return; // header
    if (cells.length !== channels) throw new ParameterError(`${file} line ${i + 1}: ${cells.length} columns, but the NIR Input has ${channels} channels (one column per channel, one row per step)`);
    for (const c of cells) {
      const v = Number(c);
      if (c === '' || !Number.isFinite(v)) throw new ParameterError(`${file} line ${i + 1}: ${JSON.stringify(c)} is not a number`);
      values.push(v);
    }
    rows++;
  });
  if (!rows) throw new ParameterError(`${file} has no input rows; give one row per step with ${channels} number(s)`);
  return Float32Array.from(values);
}
