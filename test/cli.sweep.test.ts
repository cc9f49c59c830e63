import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { main } from '../src/cli/main.js';
import { parseNumberList, parseShard, shardPoints, sweepGrid } from '../src/cli/sweep.js';

const quietIO = () => {
  const r = { stdout: '', stderr: '', out(t: string) { r.stdout += t; }, err(t: string) { r.stderr += t; }, progress: false as const, handleSigint: false };
  return r;
};

describe('sweep grid and shards', () => {
  it('grid order is fixed: surrogate, then learning rate, then seed', () => {
    const g = sweepGrid({ surrogates: ['atan:alpha=2', 'fastSigmoid'], learningRates: [0.1, 0.01], seeds: [0, 1] });
    expect(g).toHaveLength(8);
    expect(g.map((p) => p.name).slice(0, 3)).toEqual(['atan_alpha=2__lr0.1__seed0', 'atan_alpha=2__lr0.1__seed1', 'atan_alpha=2__lr0.01__seed0']);
    expect(g[7].overrides).toEqual({ surrogate: 'fastSigmoid', learningRate: 0.01, seed: 1 });
    expect(sweepGrid({})).toEqual([{ index: 0, name: 'base', overrides: {} }]);
    expect(() => sweepGrid({ seeds: [1, 1] })).toThrow(/twice/);
  });

  it('shards partition the grid exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), (nS, nL, n) => {
        const g = sweepGrid({ surrogates: Array.from({ length: nS }, (_, i) => `s${i}`), learningRates: Array.from({ length: nL }, (_, i) => i + 1) });
        const seen = Array.from({ length: n }, (_, i) => shardPoints(g, { index: i + 1, count: n })).flat().map((p) => p.index).sort((a, b) => a - b);
        expect(seen).toEqual(g.map((p) => p.index));
      }),
    );
  });

  it('parses shards and number lists', () => {
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    expect(() => parseShard('9/8')).toThrow(/1 <= i <= n/);
    expect(() => parseShard('a/b')).toThrow();
    expect(parseNumberList('seeds', ['0-3', '7'], true)).toEqual([0, 1, 2, 3, 7]);
    expect(parseNumberList('learning-rates', ['1e-3', '0.5'], false)).toEqual([0.001, 0.5]);
    expect(() => parseNumberList('seeds', ['1.5'], true)).toThrow(/not an integer/);
  });
});

describe('sigprop sweep', () => {
  it('two shards cover a 2x2 grid once; rerunning skips finished points; summary lists all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-sweep-'));
    const cfgPath = join(dir, 'base.json');
    // spiking: a surrogate sweep over a rate-mode config is refused (see below)
    writeFileSync(cfgPath, JSON.stringify({ name: 'sw', dataset: 'moons', trainSize: 32, testSize: 16, layers: [{ size: 4 }, { size: 2 }], rule: 'sigprop', mode: 'spiking', steps: 4, epochs: 1, batchSize: 16, backend: 'reference' }));
    const sweepDir = join(dir, 'sweep');
    const args = [cfgPath, '--surrogates', 'atan,fastSigmoid', '--seeds', '0-1', '--sweep-dir', sweepDir, '--quiet', '--no-report'];
    const list = quietIO();
    expect(await main(['sweep', ...args, '--shard', '2/2', '--list'], list)).toBe(0);
    expect(list.stdout).toContain('grid: 4 points; shard 2/2: 2');
    for (const s of ['1/2', '2/2']) {
      const o = quietIO();
      expect(await main(['sweep', ...args, '--shard', s], o)).toBe(0);
      expect(o.stdout).toContain('2/2 points done');
    }
    const points = readdirSync(sweepDir).filter((f) => statSync(join(sweepDir, f)).isDirectory()).sort();
    expect(points).toEqual(['atan__seed0', 'atan__seed1', 'fastSigmoid__seed0', 'fastSigmoid__seed1']);
    const saved = JSON.parse(readFileSync(join(sweepDir, 'fastSigmoid__seed1', 'config.json'), 'utf8'));
    expect(saved).toMatchObject({ surrogate: 'fastSigmoid', seed: 1, name: 'sw__fastSigmoid__seed1' });
    const summary = JSON.parse(readFileSync(join(sweepDir, 'summary.json'), 'utf8'));
    expect(summary).toHaveLength(4);
    expect(summary.every((r: { status: string; testAccuracy: number }) => r.status === 'complete' && r.testAccuracy >= 0)).toBe(true);
    expect(readFileSync(join(sweepDir, 'summary.csv'), 'utf8').split('\n')[0]).toBe('point,status,surrogate,learningRate,seed,epochs,testAccuracy,bestTestAccuracy,trainLoss,timeS');
    const before = statSync(join(sweepDir, 'atan__seed0', 'checkpoint.ckpt')).mtimeMs;
    const again = quietIO();
    expect(await main(['sweep', ...args, '--shard', '1/2'], again)).toBe(0);
    expect(statSync(join(sweepDir, 'atan__seed0', 'checkpoint.ckpt')).mtimeMs).toBe(before);
    const sum = quietIO();
    expect(await main(['sweep', '--summarize', sweepDir], sum)).toBe(0);
    expect(sum.stdout.trim().split('\n')).toHaveLength(4);
    // the surrogate comparison takes the accuracy per surrogate from the sweep
    const cmp = quietIO();
    const out = join(dir, 'cmp');
    expect(await main(['surrogates', '--compare', '--sweep', sweepDir, '--points', '11', '-o', out], cmp)).toBe(0);
    expect(cmp.stdout).toContain('with test accuracy from 4 runs');
    const json = JSON.parse(readFileSync(join(out, 'surrogates.json'), 'utf8'));
    expect(json.surrogates.map((c: { name: string }) => c.name)).toEqual(['atan', 'fastSigmoid']);
    expect(json.accuracy.map((r: { surrogate: string; seeds: number[] }) => [r.surrogate, r.seeds])).toEqual([['atan', [0, 1]], ['fastSigmoid', [0, 1]]]);
  });

  it('refuses --surrogates over a config that has no surrogate (rate mode, voltage representation), before any run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-sweep-'));
    const base = { name: 'sw', dataset: 'moons', trainSize: 32, testSize: 16, layers: [{ size: 4 }, { size: 2 }], rule: 'sigprop', epochs: 1, batchSize: 16, backend: 'reference' };
    for (const [tag, extra, why] of [
      ['rate', { mode: 'rate' }, /mode "rate" \(a non-spiking MLP: no time steps, no spikes\) does not use it/],
      ['voltage', { mode: 'spiking', representation: 'voltage' }, /representation "voltage" puts the loss on the membrane voltage itself/],
      ['bp', { rule: 'bp' }, /rule "bp" \(the backprop MLP/],
    ] as const) {
      const cfgPath = join(dir, `${tag}.json`);
      writeFileSync(cfgPath, JSON.stringify({ ...base, ...extra }));
      const sweepDir = join(dir, `sweep-${tag}`);
      for (const more of [[], ['--list']]) {
        const o = quietIO();
        expect(await main(['sweep', cfgPath, '--surrogates', 'atan,fastSigmoid', '--seeds', '0-1', '--sweep-dir', sweepDir, '--quiet', '--no-report', ...more], o), tag).toBe(2);
        expect(o.stderr).toMatch(/--surrogates: the surrogate has no effect on this config .* every surrogate would train the same network and give identical rows/);
        expect(o.stderr).toMatch(why);
        expect(o.stdout).toBe('');
      }
      expect(existsSync(sweepDir), tag).toBe(false);
    }
    // seeds and learning rates over the same rate config are fine
    const o = quietIO();
    expect(await main(['sweep', join(dir, 'rate.json'), '--seeds', '0-1', '--learning-rates', '0.01,0.001', '--list'], o)).toBe(0);
    expect(o.stdout).toContain('grid: 4 points');
  });

  it('warns on stderr about settings the base config ignores', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-sweep-'));
    const cfgPath = join(dir, 'rate.json');
    writeFileSync(cfgPath, JSON.stringify({ dataset: 'moons', layers: [{ size: 4 }, { size: 2 }], rule: 'sigprop', mode: 'rate', steps: 40 }));
    const o = quietIO();
    expect(await main(['sweep', cfgPath, '--seeds', '0-1', '--list'], o)).toBe(0);
    expect(o.stderr).toBe('warning: steps = 40 has no effect: mode "rate" (a non-spiking MLP: no time steps, no spikes) does not use it\n');
  });
});
