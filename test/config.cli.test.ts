/**
 * Config checks as the command line meets them: `sigprop run --dry-run` catches bad layer
 * parameters and an output layer smaller than the dataset's classes (before any data is loaded),
 * and prints `warning: ...` on stderr for settings the run would ignore.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';

async function cli(...argv: string[]) {
  const r = { stdout: '', stderr: '', out(t: string) { r.stdout += t; }, err(t: string) { r.stderr += t; }, progress: false as const, handleSigint: false };
  const code = await main(argv, r);
  return { code, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'sigprop-cfgcli-'));
const outDir = join(dir, 'runs');
function configFile(name: string, cfg: object): string {
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify({ dataset: 'moons', trainSize: 32, testSize: 16, rule: 'sigprop', epochs: 1, batchSize: 16, backend: 'reference', outDir, ...cfg }));
  return p;
}

describe('sigprop run --dry-run', () => {
  it('rejects a misspelt or out-of-range layer parameter, naming the layer', async () => {
    const typo = await cli('run', configFile('typo', { layers: [{ size: 8, params: { betta: 0.9 } }, { size: 2 }] }), '--dry-run');
    expect(typo.code).toBe(1);
    expect(typo.err).toContain('layers[0].params.betta is not a parameter of model "lif" (did you mean "beta"?)');
    expect(typo.out).toBe('');
    const range = await cli('run', configFile('range', { layers: [{ size: 8, params: { beta: 1.5 } }, { size: 2 }] }), '--dry-run');
    expect(range.code).toBe(1);
    expect(range.err).toContain('layers[0].params.beta = 1.5 is out of range; layers[0].params.beta must be a finite number with 0 <= value <= 1');
    // --set reaches the same check
    const set = await cli('run', configFile('ok', { layers: [{ size: 8 }, { size: 2 }] }), '--dry-run', '--set', 'layers[0].params.beta=1.5');
    expect(set.err).toContain('layers[0].params.beta = 1.5 is out of range');
  });

  it('rejects an output layer with fewer units than the dataset has classes, before training', async () => {
    const r = await cli('run', configFile('out4', { dataset: 'spike-patterns', mode: 'rate', layers: [{ size: 8 }, { size: 4 }] }), '--dry-run');
    expect(r.code).toBe(1);
    expect(r.err).toContain('layers[1].size = 4 is fewer than the 10 classes of dataset "spike-patterns"; the last layer is the output and needs one unit per class: set layers[1].size to 10');
    const run = await cli('run', configFile('out4', { dataset: 'spike-patterns', mode: 'rate', layers: [{ size: 8 }, { size: 4 }] }), '-q');
    expect(run.code).toBe(1);
    expect(readdirSync(dir)).not.toContain('runs'); // no run folder was started
  });

  it('warns on stderr about a surrogate in rate mode, and prints the config', async () => {
    const r = await cli('run', 'quick', '--dry-run', '--surrogate', 'atan', '--steps', '50');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).surrogate).toBe('atan');
    expect(r.err).toBe(
      'warning: surrogate = "atan" has no effect: mode "rate" (a non-spiking MLP: no time steps, no spikes) does not use it\n' +
        'warning: steps = 50 has no effect: mode "rate" (a non-spiking MLP: no time steps, no spikes) does not use it\n',
    );
    const spiking = await cli('run', 'mnist-lif', '--dry-run', '--surrogate', 'atan');
    expect(spiking.code).toBe(0);
    expect(spiking.err).toBe('');
  });
});
