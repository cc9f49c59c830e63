/**
 * Simulating a feed-forward NIR graph on the project's engine:
 *   Input → (Affine | Linear | Scale)* → neuron (LIF | CubaLIF | LI | IF) → ... → neuron → Output
 * Each run of linear nodes is composed into one weight matrix W [in, out] and bias, and each
 * neuron node becomes one engine Layer. dt (ms) is always given by the caller: NIR files carry
 * none, and NIR time constants are in seconds (τ_s = tauMs / 1000).
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
 * Parameters must be the same for every neuron of a node (the engine's models take one value per
 * layer), except r, w_in and v_leak, which enter the per-neuron weights and bias. Anything else is
 * refused with an error naming the node, the parameter and the reason. Neuron types are a registry
 * (registerNirNeuron), so a new type is one mapping, not a new branch.
 */
import { ParameterError } from '../errors.js';
import { ReferenceBackend } from '../backend/reference.js';
import type { Backend } from '../backend/backend.js';
import { Network, type NetworkSpec } from '../engine/network.js';
import type { LayerSpec } from '../engine/layer.js';
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
        r.fail(key, `differs between neurons (${+lo.toPrecision(6)} to ${+hi.toPrecision(6)}); one value per node is supported, not per-neuron values yet`);
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
  map(p: NirParamReader, dtMs: number): { spec: LayerSpec; gain: Float64Array; constant: Float64Array };
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
    const tau = p.positive('tau'), threshold = p.positive('v_threshold');
    p.zeroReset();
    const r = p.perNeuron('r', 1), vLeak = p.perNeuron('v_leak', 0);
    const oneMinusBeta = -Math.expm1(-dtMs / 1000 / tau);
    return {
      spec: { size: p.n, model: 'lif', params: { tauMs: tau * 1000, threshold, reset: 'zero', resetDelay: false } },
      gain: r.map((x) => oneMinusBeta * x), constant: vLeak.map((x) => oneMinusBeta * x),
    };
  },
});

registerNirNeuron('IF', {
  sizeParam: 'r', spikes: true,
  map(p, dtMs) {
    const threshold = p.positive('v_threshold');
    p.zeroReset();
    return {
      spec: { size: p.n, model: 'lif', params: { beta: 1, threshold, reset: 'zero', resetDelay: false } },
      gain: p.perNeuron('r', 1).map((x) => (dtMs / 1000) * x), constant: new Float64Array(p.n),
    };
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
    const tauMem = p.positive('tau_mem'), tauSyn = p.positive('tau_syn'), threshold = p.positive('v_threshold');
    p.zeroReset();
    if (p.perNeuron('v_leak', 0).some((x) => x !== 0)) p.fail('v_leak', 'is not 0; a nonzero leak voltage in CubaLIF is not supported yet');
    const r = p.perNeuron('r', 1), wIn = p.perNeuron('w_in', 1);
    const g = -Math.expm1(-dtMs / 1000 / tauSyn) * -Math.expm1(-dtMs / 1000 / tauMem);
    return {
      spec: { size: p.n, model: 'synaptic', params: { tauMs: tauMem * 1000, tauSynMs: tauSyn * 1000, threshold, reset: 'zero', resetDelay: false } },
      gain: r.map((x, j) => g * x * wIn[j]), constant: new Float64Array(p.n),
    };
  },
});

/**
 * Map a NIR graph onto engine layers for step size dtMs. Throws a NirError naming the node (or
 * edge), the parameter and the reason for anything it cannot represent.
 */
export function planNir(graph: NirGraph, dtMs: number): NirPlan {
  if (!(typeof dtMs === 'number' && Number.isFinite(dtMs) && dtMs > 0)) {
    throw new ParameterError(`dtMs = ${dtMs}: the step size in ms must be a finite number > 0 (NIR files carry no dt; give one, e.g. 0.1)`);
  }
  const names = Object.keys(graph.nodes);
  const rec = recurrentEdges(graph);
  if (rec.length) fail(`recurrent edge ${rec[0].src} -> ${rec[0].dst}: recurrent layers are not supported yet (only feed-forward chains)`);
  const inputs = names.filter((n) => graph.nodes[n].type === 'Input');
  const outputs = names.filter((n) => graph.nodes[n].type === 'Output');
  if (inputs.length !== 1) fail(`the graph has ${inputs.length} Input nodes${inputs.length ? ` (${inputs.join(', ')})` : ''}; exactly one is supported`);
  if (outputs.length !== 1) fail(`the graph has ${outputs.length} Output nodes${outputs.length ? ` (${outputs.join(', ')})` : ''}; exactly one is supported`);
  const out = new Map<string, string[]>(), inCount = new Map<string, number>();
  for (const e of graph.edges) {
    if (!(e.src in graph.nodes) || !(e.dst in graph.nodes)) fail(`edge ${e.src} -> ${e.dst}: edges to ports of nested graphs are not supported yet`);
    out.set(e.src, [...(out.get(e.src) ?? []), e.dst]);
    inCount.set(e.dst, (inCount.get(e.dst) ?? 0) + 1);
  }
  for (const [n, c] of inCount) if (c > 1) fail(`node ${n} has ${c} incoming edges: merging branches is not supported yet (only chains)`);

  const inputNode = inputs[0];
  const inputSize = nirSize(Array.from((param(inputNode, graph.nodes[inputNode], 'shape') as NirArray).data, Number));
  let width = inputSize;
  // the composed linear map since the last neuron node: M [in, width] and bias [width], float64
  let m: Float64Array = identity(width);
  let mIn = width;
  let b = new Float64Array(width);
  let linear: string[] = [];
  const layers: NirLayerPlan[] = [];
  const seen = new Set<string>();
  let cur = inputNode;
  for (;;) {
    seen.add(cur);
    const next = out.get(cur) ?? [];
    if (next.length === 0) fail(`node ${cur} has no outgoing edge, so the Input does not reach the Output ${outputs[0]}`);
    if (next.length > 1) fail(`node ${cur} has ${next.length} outgoing edges (${next.join(', ')}): branching graphs are not supported yet (only chains)`);
    const name = next[0];
    const node = graph.nodes[name];
    if (node.type === 'Output') {
      if (linear.length) fail(`node ${linear[linear.length - 1]} of type ${graph.nodes[linear[linear.length - 1]].type} feeds the Output: the Output must be fed by a neuron node (${nirNeuronTypes().join(', ')}) for now`);
      if (!layers.length) fail(`the graph has no neuron node between ${inputNode} and ${name}; nothing to simulate`);
      const shape = node.params.shape;
      if (shape && nirSize(Array.from(shape.data, Number)) !== width) fail(`node ${name} of type Output: shape [${Array.from(shape.data).join(', ')}] does not match the ${width} neurons of ${layers[layers.length - 1].node}`);
      const unreached = names.filter((n) => !seen.has(n) && n !== name);
      if (unreached.length) fail(`node ${unreached[0]} of type ${graph.nodes[unreached[0]].type} is not on the chain from ${inputNode} to ${name}: only single chains are supported yet`);
      return { dtMs, inputNode, inputSize, outputNode: name, layers };
    }
    if (node.type === 'Affine' || node.type === 'Linear') {
      const w = param(name, node, 'weight') as NirArray;
      if (w.shape.length !== 2) fail(`node ${name} of type ${node.type}: weight has shape [${w.shape.join(', ')}]; [out, in] is needed`);
      const [o, i] = w.shape;
      if (i !== width) fail(`node ${name} of type ${node.type}: weight [${o}, ${i}] takes ${i} inputs but receives ${width} (from ${cur})`);
      const wm = new Float64Array(mIn * o);
      for (let r = 0; r < mIn; r++) for (let c = 0; c < o; c++) {
        let s = 0;
        for (let k = 0; k < i; k++) s += m[r * i + k] * Number(w.data[c * i + k]);
        wm[r * o + c] = s;
      }
      const nb = new Float64Array(o);
      const bias = node.type === 'Affine' ? node.params.bias : undefined;
      if (bias && bias.data.length !== o) fail(`node ${name} of type Affine: bias has ${bias.data.length} values but weight has ${o} outputs`);
      for (let c = 0; c < o; c++) {
        let s = bias ? Number(bias.data[c]) : 0;
        for (let k = 0; k < i; k++) s += Number(w.data[c * i + k]) * b[k];
        nb[c] = s;
      }
      m = wm; b = nb; width = o;
      linear.push(name);
    } else if (node.type === 'Scale') {
      const s = paramReader(name, node, width).perNeuron('scale');
      for (let r = 0; r < mIn; r++) for (let c = 0; c < width; c++) m[r * width + c] *= s[c];
      for (let c = 0; c < width; c++) b[c] *= s[c];
      linear.push(name);
    } else if (neuronMappings.has(node.type)) {
      const mapping = neuronMappings.get(node.type)!;
      const n = nirSize((param(name, node, mapping.sizeParam) as NirArray).shape);
      if (n !== width) fail(`node ${name} of type ${node.type}: it has ${n} neurons but receives ${width} values (from ${cur})`);
      const { spec, gain, constant } = mapping.map(paramReader(name, node, n), dtMs);
      const w = new Float32Array(mIn * n), bias = new Float32Array(n);
      for (let r = 0; r < mIn; r++) for (let c = 0; c < n; c++) w[r * n + c] = m[r * n + c] * gain[c];
      for (let c = 0; c < n; c++) bias[c] = b[c] * gain[c] + constant[c];
      layers.push({ node: name, type: node.type, linear, size: n, spec: { ...spec, bias: true, name }, w, bias });
      m = identity(n); mIn = n; b = new Float64Array(n); linear = [];
    } else if (node.type === 'Input') {
      fail(`node ${name} of type Input has an incoming edge from ${cur}`);
    } else {
      fail(`node ${name} of type ${node.type}: not supported yet (supported: ${[...NIR_LINEAR_TYPES, ...nirNeuronTypes(), 'Input', 'Output'].join(', ')})`);
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
  net.setWeights(plan.layers.map((l) => ({ w: l.w, bias: l.bias })));
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
 * Simulate a feed-forward NIR graph with step dtMs (ms). `input` holds one row per step, one
 * column per input channel: Float32Array [steps, inputSize] row-major, or rows of numbers.
 * Batch 1, reference backend: the numbers are the exact zero-order-hold solution described above.
 */
export function simulateNir(graph: NirGraph, input: Float32Array | readonly (readonly number[])[], opts: { dtMs: number; backend?: Backend }): NirSimulation {
  const plan = planNir(graph, opts.dtMs);
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
      tr.voltage.set(backend.read(layer.voltage()), t * tr.size);
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
