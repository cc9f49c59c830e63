/**
 * The run report's "NIR graph" section: for a run folder made by `sigprop nir import`, the graph
 * it came from (nodes with type and parameter shapes, edges, the loops that became recurrent
 * layers) and which engine layer each node became, read from the import record nir-import.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Block, Section } from './page.js';

/** The import record's file in a run folder (written by src/interop/nir-import.ts). */
export const NIR_IMPORT_FILE = 'nir-import.json';

/** A NIR graph as the import record keeps it: nodes with type and parameter shapes (values for `shape`), edges, recurrent edges. */
export interface NirGraphRecord {
  nodes: { name: string; type: string; params: Record<string, number[]>; graph?: NirGraphRecord }[];
  edges: [string, string][];
  recurrent: [string, string][];
}

/** What the report reads of nir-import.json. */
export interface NirImportRecord {
  source: string;
  nirVersion?: string;
  dtMs: number;
  reset?: string;
  layers: { layer: string; node: string; type: string; linear: string[]; recurrent?: string[] }[];
  graph?: NirGraphRecord;
  warnings?: string[];
}

/** The run folder's import record, or undefined when it has none (or it cannot be read). */
export function readNirImportRecord(runDir: string): NirImportRecord | undefined {
  const file = join(runDir, NIR_IMPORT_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as NirImportRecord;
    return Array.isArray(r?.layers) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The report section: where the network came from, a table of nodes (→ engine layer) and one of edges. */
export function nirGraphSection(rec: NirImportRecord): Section {
  const role = new Map<string, string>();
  for (const l of rec.layers) {
    role.set(l.node, `${l.layer} (neurons)`);
    for (const n of l.linear) role.set(n, `${l.layer} (input weights)`);
    for (const n of l.recurrent ?? []) role.set(n, `${l.layer} (recurrent weights)`);
  }
  const blocks: Block[] = [{
    kind: 'text',
    text: `Imported from ${rec.source}${rec.nirVersion ? ` (NIR ${rec.nirVersion})` : ''} at dt = ${rec.dtMs} ms` +
      `${rec.reset ? `, hidden layers reset ${rec.reset === 'zero' ? 'to zero (NIR\'s reset)' : 'by subtraction'}` : ''}: ` +
      rec.layers.map((l) => `${l.layer} ← ${[...l.linear, l.node].join(' → ')}${l.recurrent?.length ? ` (loop ${[l.node, ...l.recurrent, l.node].join(' → ')})` : ''}`).join('; ') + '.',
  }];
  const g = rec.graph;
  if (g) {
    const rows: (string | number)[][] = [];
    const walk = (gr: NirGraphRecord, prefix: string): void => {
      for (const n of gr.nodes) {
        const params = Object.entries(n.params).map(([k, s]) => (k === 'shape' ? `shape=[${s.join(', ')}]` : `${k} [${s.join(', ')}]`)).join(', ');
        rows.push([prefix + n.name, n.type, params, role.get(prefix + n.name) ?? (n.type === 'Input' || n.type === 'Output' ? '(network input / output)' : '')]);
        if (n.graph) walk(n.graph, `${prefix}${n.name}.`);
      }
    };
    walk(g, '');
    blocks.push({ kind: 'table', table: { caption: 'Nodes of the NIR graph and the engine layer each became', columns: ['node', 'type', 'parameters', 'engine'], rows } });
    const rec2 = new Set(g.recurrent.map(([a, b]) => `${a}\u0000${b}`));
    blocks.push({
      kind: 'table',
      table: { caption: 'Edges (a cycle is a recurrent loop)', columns: ['from', 'to', ''], rows: g.edges.map(([a, b]) => [a, b, rec2.has(`${a}\u0000${b}`) ? 'recurrent' : '']) },
    });
  }
  for (const w of rec.warnings ?? []) blocks.push({ kind: 'text', text: `Import note: ${w}` });
  return { title: 'NIR graph (imported network)', blocks };
}
