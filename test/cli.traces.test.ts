/**
 * `sigprop traces`: never replaces the run's own recordings (which report.html names) unless
 * told to, and refuses neuron indices that no recorded layer has.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli.helpers.js';



const dir = mkdtempSync(join(tmpdir(), 'sigprop-traces-'));
const spk = { name: 'spk', dataset: 'moons', trainSize: 32, testSize: 16, layers: [{ size: 6, model: 'lif' }, { size: 4, model: 'lif' }, { size: 2, model: 'lif' }], rule: 'sigprop', mode: 'spiking', steps: 6, epochs: 1, batchSize: 16, learningRate: 0.01, backend: 'reference', outDir: join(dir, 'runs') };
const spkPath = join(dir, 'spk.json');
writeFileSync(spkPath, JSON.stringify(spk));
const runDir = join(dir, 'run');

/** The identity of each of the run's own trace files (a replaced file gets a new inode). */
function runRecordings(): Record<string, string> {
  const files = readdirSync(runDir).filter((f) => /^traces\.(before|after|input)\.(json|csv)$/.test(f)).sort();
  return Object.fromEntries(files.map((f) => [f, `${statSync(join(runDir, f)).ino}:${readFileSync(join(runDir, f), 'utf8').length}`]));
}

describe('sigprop traces: output names', () => {
  it('the run folder keeps its own recordings; the default picks a new name and says where', async () => {
    expect((await cli('run', spkPath, '--run-dir', runDir, '--quiet')).code).toBe(0);
    const own = runRecordings();
    expect(Object.keys(own)).toEqual(['traces.after.csv', 'traces.after.json', 'traces.before.csv', 'traces.before.json', 'traces.input.json']);
    expect(readFileSync(join(runDir, 'report.html'), 'utf8')).toContain('traces.after.json');

    const r = await cli('traces', runDir, '--samples', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`traces report: ${join(runDir, 'traces-2.html')}`);
    expect(r.out).toContain(join(runDir, 'traces-2.after.json'));
    expect(r.out).toMatch(/traces\.\* already exist.*kept/);
    expect(runRecordings()).toEqual(own);

    const again = await cli('traces', runDir, '--samples', '0');
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`traces report: ${join(runDir, 'traces-3.html')}`);
    expect(existsSync(join(runDir, 'traces-2.html'))).toBe(true);
    expect(runRecordings()).toEqual(own);
  });

  it('-o naming existing files is refused unless --force', async () => {
    const own = runRecordings();
    const r = await cli('traces', runDir, '--samples', '1', '-o', join(runDir, 'traces.html'));
    expect(r.code).toBe(1);
    expect(r.err).toContain(join(runDir, 'traces.before.json'));
    expect(r.err).toContain('--force');
    expect(r.err).not.toContain('internal error');
    expect(runRecordings()).toEqual(own);
    expect(existsSync(join(runDir, 'traces.html'))).toBe(false);

    const forced = await cli('traces', runDir, '--samples', '1', '-o', join(runDir, 'traces.html'), '--force');
    expect(forced.code, forced.err).toBe(0);
    expect(existsSync(join(runDir, 'traces.html'))).toBe(true);
    expect(runRecordings()['traces.after.json']).not.toBe(own['traces.after.json']);

    // a new -o name is written as before
    const out = join(dir, 'elsewhere', 'tr.html');
    const fresh = await cli('traces', runDir, '--samples', '0', '-o', out);
    expect(fresh.code, fresh.err).toBe(0);
    expect(existsSync(join(dir, 'elsewhere', 'tr.after.csv'))).toBe(true);
  });

  it('-o naming a folder is refused before anything is written', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const r = await cli('traces', runDir, '--samples', '0', '-o', folder);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${folder} is a folder, not a file`);
    expect(r.err).not.toContain('internal error');
    expect(readdirSync(dir).filter((f) => f.startsWith('a-folder.'))).toEqual([]);
  });
});

describe('sigprop traces: neuron indices', () => {
  it('a neuron no recorded layer has is refused with the range', async () => {
    const r = await cli('traces', runDir, '--samples', '0', '--neurons', '0,5000', '-o', join(dir, 'n', 'big.html'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/neuron 5000 out of range: the recorded layers have 6 \(layer 0\) and 4 \(layer 1\) neurons; choose neurons in 0\.\.5/);
    expect(existsSync(join(dir, 'n'))).toBe(false);
    const one = await cli('traces', runDir, '--samples', '0', '--neurons', '1,4', '--layers', '1', '-o', join(dir, 'n', 'l1.html'));
    expect(one.code).toBe(1);
    expect(one.err).toMatch(/neuron 4 out of range: the recorded layer has 4 \(layer 1\) neurons; choose neurons in 0\.\.3/);
  });

  it('a neuron only some layers lack is traced where it exists, with a warning for the others', async () => {
    const out = join(dir, 'n', 'mixed.html');
    const r = await cli('traces', runDir, '--samples', '0', '--neurons', '0,5', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning: layer 1 has 4 neurons \(0\.\.3\): neuron 5 not traced there\n/);
    expect(r.err.match(/warning: layer 1/g)).toHaveLength(1); // once, not per before/after set
    const after = JSON.parse(readFileSync(join(dir, 'n', 'mixed.after.json'), 'utf8'));
    expect(JSON.stringify(after)).toMatch(/"layer":0,[^}]*"var":"voltage","neuron":5,/);
    const only = await cli('traces', runDir, '--samples', '0', '--neurons', '4,5', '-o', join(dir, 'n', 'only.html'));
    expect(only.code, only.err).toBe(0);
    expect(only.err).toContain('neurons 4, 5 not traced there, so it has no voltage traces');
  });
});
