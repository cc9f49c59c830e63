/**
 * Reading NIR files (HDF5 through h5wasm) written by other tools, and `sigprop nir info`.
 * Fixtures: test/fixtures/nir/*.nir, from the public NIR repository (neuromorphs/NIR, paper/):
 * written by the NIR reference library, snnTorch and Sinabs.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeNir, NirError, readNir, recurrentEdges, recurrentNodes, SigpropError, type NirGraph } from '../src/index.js';
import { cli } from './cli.helpers.js';

const fixture = (name: string): string => join(import.meta.dirname, 'fixtures', 'nir', `${name}.nir`);

describe('readNir', () => {
  it('two_lif_neurons.nir (NIR reference library): nodes, types, parameters with shapes, edges', async () => {
    const doc = await readNir(fixture('two_lif_neurons'));
    expect(doc.version).toBe('0.2.0');
    const g = doc.graph;
    expect(Object.keys(g.nodes).sort()).toEqual(['in', 'lif1', 'lif2', 'linear1', 'linear2', 'out']);
    expect(Object.fromEntries(Object.entries(g.nodes).map(([k, n]) => [k, n.type]))).toEqual({
      in: 'Input', lif1: 'LIF', lif2: 'LIF', linear1: 'Linear', linear2: 'Linear', out: 'Output',
    });
    const lif1 = g.nodes.lif1.params;
    expect(lif1.tau.shape).toEqual([1]);
    expect(lif1.tau.data[0]).toBeCloseTo(0.01, 7);
    expect(lif1.v_leak.data[0]).toBeCloseTo(1.2, 6);
    expect(lif1.v_threshold.data[0]).toBe(1);
    expect(g.nodes.lif2.params.v_threshold.data[0]).toBe(20);
    expect(g.nodes.linear1.params.weight.shape).toEqual([1, 1]);
    expect(g.nodes.in.params.shape.data).toEqual([1]); // an integer array comes back as numbers
    expect(g.edges).toEqual([
      { src: 'in', dst: 'linear1' }, { src: 'linear1', dst: 'lif1' }, { src: 'lif1', dst: 'linear2' },
      { src: 'linear2', dst: 'lif2' }, { src: 'lif2', dst: 'out' },
    ]);
    expect(recurrentEdges(g)).toEqual([]);
  });

  it('braille (snnTorch): CubaLIF, Affine [out, in] weights, and the recurrent loop found as a cycle', async () => {
    const g = (await readNir(fixture('braille_noDelay_bias_zero'))).graph;
    expect(g.nodes['lif1.lif'].type).toBe('CubaLIF');
    expect(Object.keys(g.nodes['lif1.lif'].params).sort()).toEqual(['r', 'tau_mem', 'tau_syn', 'v_leak', 'v_threshold', 'w_in']);
    expect(g.nodes.fc1.params.weight.shape).toEqual([38, 12]);
    expect(g.nodes.fc1.params.weight.data).toBeInstanceOf(Float32Array);
    expect(g.nodes.fc1.params.weight.data).toHaveLength(38 * 12);
    expect(g.nodes.fc1.params.bias.shape).toEqual([38]);
    expect(g.edges).toHaveLength(7);
    expect(recurrentNodes(g)).toEqual(['lif1.lif', 'lif1.w_rec']);
    expect(recurrentEdges(g).map((e) => `${e.src}->${e.dst}`).sort()).toEqual(['lif1.lif->lif1.w_rec', 'lif1.w_rec->lif1.lif']);
  });

  it('cnn_sinabs.nir (Sinabs): Conv2d, SumPool2d, Flatten, IF with multi-dimensional shapes', async () => {
    const g = (await readNir(fixture('cnn_sinabs'))).graph;
    expect(Object.keys(g.nodes)).toHaveLength(15);
    expect(g.nodes['0'].type).toBe('Conv2d');
    expect(g.nodes['0'].params.weight.shape).toEqual([16, 2, 5, 5]);
    expect(g.nodes['0'].params.groups).toEqual({ shape: [], data: [1] });
    expect(g.nodes['1'].params.v_threshold.shape).toEqual([16, 16, 16]);
    expect(g.nodes['4'].type).toBe('SumPool2d');
    expect(g.nodes.input.params.shape.data).toEqual([2, 34, 34]);
    expect(recurrentEdges(g)).toEqual([]);
  });

  it('self-loops and longer cycles are recurrent; a chain is not', () => {
    const node = { type: 'LIF', params: {} };
    const g: NirGraph = {
      nodes: { a: node, b: node, c: node, d: node },
      edges: [{ src: 'a', dst: 'b' }, { src: 'b', dst: 'c' }, { src: 'c', dst: 'b' }, { src: 'd', dst: 'd' }, { src: 'c', dst: 'd' }],
    };
    expect(recurrentEdges(g).map((e) => `${e.src}->${e.dst}`)).toEqual(['b->c', 'c->b', 'd->d']);
    expect(recurrentNodes(g)).toEqual(['b', 'c', 'd']);
  });

  it('a missing, non-HDF5 or truncated file is a NirError naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-nir-'));
    const text = join(dir, 'net.nir');
    writeFileSync(text, 'not a network\n');
    await expect(readNir(text)).rejects.toThrow(new RegExp(`${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a NIR file: it is not HDF5`));
    await expect(readNir(join(dir, 'missing.nir'))).rejects.toThrow(/missing\.nir: no such file/);
    await expect(readNir(dir)).rejects.toThrow(/is not a file/);
    const cut = join(dir, 'cut.nir');
    writeFileSync(cut, readFileSync(fixture('two_lif_neurons')).subarray(0, 5000));
    await expect(readNir(cut)).rejects.toThrow(/cut\.nir is truncated: its HDF5 header declares 21280 bytes but the file has 5000/);
    const err = await readNir(text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NirError);
    expect(err).toBeInstanceOf(SigpropError);
  });
});

describe('sigprop nir info', () => {
  it('prints nodes with types and shapes, edges, and "none" for a feed-forward graph', async () => {
    const r = await cli('nir', 'info', fixture('two_lif_neurons'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/lif1\s+LIF\s+r \[1\], tau \[1\], v_leak \[1\], v_threshold \[1\]/);
    expect(r.out).toMatch(/linear1\s+Linear\s+weight \[1, 1\]/);
    expect(r.out).toContain('in -> linear1');
    expect(r.out).toContain('recurrent (cycles): none (feed-forward)');
  });

  it('names the nodes that form cycles in the snnTorch braille network', async () => {
    const r = await cli('nir', 'info', fixture('braille_noDelay_bias_zero'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('recurrent (cycles): nodes lif1.lif, lif1.w_rec');
    expect(r.out).toContain('engine layers (sigprop nir simulate / import):\n  lif1.lif (CubaLIF, 38) -> synaptic layer, recurrent all-to-all; weights from fc1, loop lif1.w_rec\n  lif2 (CubaLIF, 7) -> synaptic layer; weights from fc2');
    expect(r.out).toMatch(/fc1\s+Affine\s+bias \[38\], weight \[38, 12\]/);
  });

  it('shows multi-dimensional shapes of the Sinabs CNN', async () => {
    const r = await cli('nir', 'info', fixture('cnn_sinabs'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\b0\s+Conv2d\s+.*weight \[16, 2, 5, 5\]/);
    expect(r.out).toContain('shape=[2, 34, 34]');
    expect(r.out).toContain('15 nodes, 14 edges');
    expect(r.out).toContain('engine layers: none; not supported yet: node 0 of type Conv2d');
  });

  it('a bad file or action: one error line, no stack trace', async () => {
    const r = await cli('nir', 'info', join(import.meta.dirname, '..', 'package.json'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: .*package\.json is not a NIR file/);
    expect(r.err).not.toMatch(/\n\s+at /);
    const u = await cli('nir', 'show', fixture('two_lif_neurons'));
    expect(u.code).toBe(2);
    expect(u.err).toContain("unknown nir action 'show'");
  });

  it('describeNir on a nested graph indents the inner graph', () => {
    const inner: NirGraph = { nodes: { i: { type: 'Input', params: { shape: { shape: [1], data: [2] } } } }, edges: [] };
    const text = describeNir({ version: 'x', graph: { nodes: { sub: { type: 'NIRGraph', params: {}, graph: inner } }, edges: [] } });
    expect(text).toContain('    graph sub: 1 nodes, 0 edges');
  });
});
