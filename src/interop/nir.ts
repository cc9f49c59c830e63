/**
 * NIR (Neuromorphic Intermediate Representation, neuromorphs/NIR): the graph model and reading
 * NIR files. A NIR file is HDF5:
 *   /version            a string, e.g. "0.2.0"
 *   /node               the root graph: `type` "NIRGraph", `nodes/<name>/` (one group per node,
 *                       each with a `type` string and parameter arrays), `edges` [E, 2] names
 * Graphs nest (a node of type NIRGraph has its own nodes and edges). Parameters keep their
 * stored shape; float32 arrays become Float32Array, float64 Float64Array, integer arrays number[].
 * Time constants are in seconds in NIR (e.g. LIF tau 0.01 = 10 ms).
 *
 * HDF5 is read with the `h5wasm` package (HDF5 compiled to WebAssembly), imported on first use
 * so that loading the library or the CLI does not load it.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { SigpropError } from '../errors.js';

/** A parameter array of a NIR node, with its shape ([] for a scalar). */
export interface NirArray {
  shape: number[];
  /**
   * Row-major values: Float32Array for 32-bit floating-point data, Float64Array for 64-bit
   * (kept at full precision: NIR writes time constants as float64), number[] for integers.
   */
  data: Float32Array | Float64Array | number[];
}

/** One node of a NIR graph. */
export interface NirNode {
  /** The NIR node type: 'Input', 'Output', 'Affine', 'Linear', 'Scale', 'LIF', 'CubaLIF', 'LI', 'IF', 'NIRGraph', ... */
  type: string;
  /** Numeric parameters by their NIR name (e.g. weight [out, in], bias, tau, r, v_leak, v_threshold, shape). */
  params: Record<string, NirArray>;
  /** Non-numeric (string) parameters other than `type`, if any. */
  strings?: Record<string, string>;
  /** For a NIRGraph node: the nested graph. */
  graph?: NirGraph;
}

/** An edge of a NIR graph, from node `src` to node `dst` (names as in the file). */
export interface NirEdge {
  src: string;
  dst: string;
}

/** A NIR graph: named nodes (in the order HDF5 lists them: by name) and edges (in file order). */
export interface NirGraph {
  nodes: Record<string, NirNode>;
  edges: NirEdge[];
}

/** A NIR file: format version and root graph. */
export interface NirDocument {
  version: string;
  graph: NirGraph;
}

/** A NIR file that cannot be read (missing, not HDF5, not NIR, malformed). */
export class NirError extends SigpropError {
  constructor(message: string) {
    super(message, 'nir');
    this.name = 'NirError';
  }
}

type H5 = typeof import('h5wasm/node').default;
type H5Group = InstanceType<H5['Group']>;
type H5Dataset = InstanceType<H5['Dataset']>;

let h5: Promise<H5> | null = null;

/** The h5wasm module, loaded and initialised once. */
export async function loadH5wasm(): Promise<H5> {
  h5 ??= (async () => {
    const mod = (await import('h5wasm/node')).default;
    await mod.ready;
    return mod;
  })();
  return h5;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Where the HDF5 signature is (offset 0, 512, 1024, 2048, ...: the user-block sizes), and the
 * file length the superblock declares (its end-of-file address), or undefined when unknown.
 * Returns null when the file has no signature (not HDF5).
 */
function hdf5Header(path: string, size: number): { offset: number; declaredSize?: number } | null {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      const got = readSync(fd, buf, 0, 64, off);
      if (got < 8 || !buf.subarray(0, 8).equals(HDF5_SIGNATURE)) continue;
      const version = buf[8];
      // superblock v0/v1: size of offsets at byte 13, end-of-file address after base and free-space addresses
      // (v1 has 4 more bytes before them); v2/v3: size of offsets at byte 9, after base and extension addresses
      const o = version <= 1 ? buf[13] : buf[9];
      const eofAt = version === 0 ? 24 + 2 * o : version === 1 ? 28 + 2 * o : 12 + 2 * o;
      if (o !== 8 || eofAt + 8 > got) return { offset: off };
      const base = version <= 1 ? Number(buf.readBigUInt64LE(eofAt - 2 * o)) : Number(buf.readBigUInt64LE(12));
      return { offset: off, declaredSize: base + Number(buf.readBigUInt64LE(eofAt)) };
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Size of the file, or a NirError naming it when it is missing or a folder. */
function checkFile(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new NirError(`${path}: no such file; give the path of a .nir file (HDF5) written by a NIR exporter`);
  }
  if (!st.isFile()) throw new NirError(`${path} is not a file; give the path of a .nir file`);
  return st.size;
}

const isGroup = (h: H5, o: unknown): o is H5Group => o instanceof h.Group;
const isDataset = (h: H5, o: unknown): o is H5Dataset => o instanceof h.Dataset;

function toNumber(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function datasetToArray(ds: H5Dataset): NirArray | string | string[] {
  const shape = (ds.shape ?? []).map(Number);
  const v = ds.value as unknown;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  if (typeof v === 'number' || typeof v === 'bigint') {
    const dt = typeof ds.dtype === 'string' ? ds.dtype : '';
    return { shape, data: dt.includes('d') ? Float64Array.of(Number(v)) : dt.includes('f') ? Float32Array.of(Number(v)) : [toNumber(v)] };
  }
  if (v instanceof Float32Array) return { shape, data: v };
  if (v instanceof Float64Array) return { shape, data: v };
  if (ArrayBuffer.isView(v)) return { shape, data: Array.from(v as unknown as ArrayLike<number | bigint>, toNumber) };
  if (typeof v === 'boolean') return { shape, data: [v ? 1 : 0] };
  throw new Error(`unsupported dataset value (dtype ${JSON.stringify(ds.dtype)})`);
}

function readGraph(h: H5, g: H5Group, where: string, file: string): NirGraph {
  const nodesGroup = g.get('nodes');
  if (!isGroup(h, nodesGroup)) throw new NirError(`${file}: ${where}/nodes is missing; a NIRGraph holds a group 'nodes' and a dataset 'edges'`);
  const nodes: Record<string, NirNode> = {};
  for (const name of nodesGroup.keys()) {
    const ng = nodesGroup.get(name);
    if (!isGroup(h, ng)) throw new NirError(`${file}: ${where}/nodes/${name} is not a group; each node is a group with a 'type'`);
    nodes[name] = readNode(h, ng, `${where}/nodes/${name}`, file);
  }
  const edges: NirEdge[] = [];
  const eds = g.get('edges');
  if (eds !== null && eds !== undefined) {
    if (!isDataset(h, eds)) throw new NirError(`${file}: ${where}/edges is not a dataset of [E, 2] node names`);
    const v = eds.value as unknown;
    const flat = typeof v === 'string' ? [v] : Array.isArray(v) ? (v as unknown[]) : [];
    if (flat.length % 2 !== 0 || flat.some((x) => typeof x !== 'string')) {
      throw new NirError(`${file}: ${where}/edges must be an [E, 2] array of node names (got shape ${JSON.stringify(eds.shape)})`);
    }
    for (let i = 0; i < flat.length; i += 2) {
      const e = { src: flat[i] as string, dst: flat[i + 1] as string };
      for (const end of [e.src, e.dst]) {
        // NIR allows 'node.port' names for the ports of a nested graph; the node is the part before the first dot when the full name is not a node
        if (!(end in nodes) && !(end.split('.')[0] in nodes)) {
          throw new NirError(`${file}: edge ${e.src} -> ${e.dst} in ${where} names node '${end}', which the graph does not have`);
        }
      }
      edges.push(e);
    }
  }
  return { nodes, edges };
}

function readNode(h: H5, g: H5Group, where: string, file: string): NirNode {
  const t = g.get('type');
  const type = isDataset(h, t) ? t.value : undefined;
  if (typeof type !== 'string') throw new NirError(`${file}: ${where} has no 'type' string; every NIR node names its type`);
  const node: NirNode = { type, params: {} };
  if (type === 'NIRGraph') {
    node.graph = readGraph(h, g, where, file);
    return node;
  }
  for (const key of g.keys()) {
    if (key === 'type') continue;
    const o = g.get(key);
    if (isGroup(h, o)) continue; // e.g. metadata groups: not parameters
    if (!isDataset(h, o)) continue;
    let a;
    try {
      a = datasetToArray(o);
    } catch (err) {
      throw new NirError(`${file}: ${where}/${key}: ${(err as Error).message}`);
    }
    if (typeof a === 'string') (node.strings ??= {})[key] = a;
    else if (Array.isArray(a)) (node.strings ??= {})[key] = a.join(',');
    else node.params[key] = a;
  }
  return node;
}

/**
 * Read a NIR file. Throws a NirError naming the file when it is missing, not HDF5, or not a NIR
 * graph (no /node group of type NIRGraph, a node without a type, an edge to an unknown node).
 */
export async function readNir(path: string): Promise<NirDocument> {
  const size = checkFile(path);
  const header = hdf5Header(path, size);
  if (!header) {
    throw new NirError(`${path} is not a NIR file: it is not HDF5 (no HDF5 signature; ${size} bytes); a .nir file is HDF5 written by a NIR exporter (nir.write in Python)`);
  }
  if (header.declaredSize !== undefined && header.declaredSize > size) {
    throw new NirError(`${path} is truncated: its HDF5 header declares ${header.declaredSize} bytes but the file has ${size}; copy or download it again`);
  }
  const h = await loadH5wasm();
  let f;
  try {
    f = new h.File(path, 'r');
  } catch (err) {
    throw new NirError(`${path}: HDF5 could not open it (${String((err as Error)?.message ?? err)}); the file may be truncated or corrupt`);
  }
  try {
    const root = f.get('node');
    if (!isGroup(h, root)) throw new NirError(`${path} is HDF5 but not NIR: it has no group /node (the root graph)`);
    const t = root.get('type');
    const type = isDataset(h, t) ? t.value : undefined;
    if (type !== 'NIRGraph') throw new NirError(`${path}: /node/type is ${JSON.stringify(type)}, not "NIRGraph"`);
    const v = f.get('version');
    const version = isDataset(h, v) && typeof v.value === 'string' ? v.value : 'unknown';
    return { version, graph: readGraph(h, root, '/node', path) };
  } catch (err) {
    if (err instanceof SigpropError) throw err;
    throw new NirError(`${path}: could not read the NIR graph (${String((err as Error)?.message ?? err)}); the file may be corrupt`);
  } finally {
    f.close();
  }
}

/** Number of elements of a shape. */
export function nirSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The edges that lie on a cycle (recurrence), found with Tarjan's strongly connected components:
 * an edge is recurrent when both ends are in the same component of more than one node, or it is
 * a self-loop. Names with a port suffix ('node.port') that are not nodes count as their node.
 */
export function recurrentEdges(graph: NirGraph): NirEdge[] {
  const nodeOf = (n: string): string => (n in graph.nodes ? n : n.split('.')[0]);
  const adj = new Map<string, string[]>();
  for (const n of Object.keys(graph.nodes)) adj.set(n, []);
  for (const e of graph.edges) adj.get(nodeOf(e.src))?.push(nodeOf(e.dst));
  const index = new Map<string, number>(), low = new Map<string, number>(), comp = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>();
  let next = 0, compCount = 0;
  const sizes: number[] = [];
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      let size = 0, w: string;
      do { w = stack.pop()!; onStack.delete(w); comp.set(w, compCount); size++; } while (w !== v);
      sizes.push(size);
      compCount++;
    }
  };
  for (const n of adj.keys()) if (!index.has(n)) visit(n);
  return graph.edges.filter((e) => {
    const a = nodeOf(e.src), b = nodeOf(e.dst);
    return a === b || (comp.get(a) === comp.get(b) && sizes[comp.get(a)!] > 1);
  });
}

/** The nodes on a cycle (recurrent nodes), in node order. */
export function recurrentNodes(graph: NirGraph): string[] {
  const nodeOf = (n: string): string => (n in graph.nodes ? n : n.split('.')[0]);
  const on = new Set<string>();
  for (const e of recurrentEdges(graph)) { on.add(nodeOf(e.src)); on.add(nodeOf(e.dst)); }
  return Object.keys(graph.nodes).filter((n) => on.has(n));
}

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * A readable description of a NIR document: every node with its type and parameter shapes
 * (nested graphs indented), the edges, and the nodes and edges that form cycles.
 */
export function describeNir(doc: NirDocument, file?: string): string {
  const lines: string[] = [];
  if (file) lines.push(`file: ${file}`);
  lines.push(`NIR version: ${doc.version}`);
  const walk = (g: NirGraph, indent: string, label: string): void => {
    const names = Object.keys(g.nodes);
    lines.push(`${indent}${label}: ${names.length} nodes, ${g.edges.length} edges`);
    lines.push(`${indent}nodes:`);
    const w = Math.max(4, ...names.map((n) => n.length));
    for (const n of names) {
      const node = g.nodes[n];
      const ps = Object.entries(node.params).map(([k, a]) => (k === 'shape' || (a.shape.length === 0) ? `${k}=${a.data.length === 1 ? a.data[0] : shapeText(Array.from(a.data))}` : `${k} ${shapeText(a.shape)}`));
      lines.push(`${indent}  ${n.padEnd(w)}  ${node.type.padEnd(9)} ${ps.join(', ')}`.trimEnd());
      if (node.graph) walk(node.graph, `${indent}    `, `graph ${n}`);
    }
    lines.push(`${indent}edges:`);
    for (const e of g.edges) lines.push(`${indent}  ${e.src} -> ${e.dst}`);
    const rec = recurrentEdges(g);
    if (rec.length) {
      lines.push(`${indent}recurrent (cycles): nodes ${recurrentNodes(g).join(', ')}`);
      for (const e of rec) lines.push(`${indent}  ${e.src} -> ${e.dst}`);
    } else lines.push(`${indent}recurrent (cycles): none (feed-forward)`);
  };
  walk(doc.graph, '', 'graph');
  return lines.join('\n') + '\n';
}
