import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../src/config/resolve.js';
import { createProgress, formatDuration, formatRate, isInteractive, type ProgressStream } from '../src/progress.js';
import { runExperiment } from '../src/runner.js';

function sink(isTTY: boolean): ProgressStream & { out: string } {
  const s = { out: '', isTTY, columns: 200, write(t: string) { s.out += t; return true; } };
  return s;
}

describe('progress', () => {
  it('formats durations and rates', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(NaN)).toBe('--:--');
    expect(formatRate(12.345, 'batch')).toBe('12.3 batch/s');
    expect(formatRate(0.5, 'epoch')).toBe('2.00 s/epoch');
    expect(formatRate(1234.5, 'sample')).toBe('1235 sample/s');
    expect(formatRate(812.4, 'sample', 'samples')).toBe('812 samples/s');
    expect(formatRate(0.25, 'sample', 'samples')).toBe('4.00 s/sample');
    expect(formatRate(NaN, 'sample', 'samples')).toBe('-- samples/s');
  });

  it('counts batches but shows samples/s and an ETA from the samples left (the last batch smaller)', () => {
    let t = 0;
    const s = sink(true);
    // 4 batches of 64 samples and one of 44 (300 samples)
    const p = createProgress({ total: 5, label: 'epoch 1/2', unit: 'batch', stream: s, tty: true, now: () => t, rate: { unit: 'sample', units: 'samples', total: 300 } });
    t = 1000;
    p.tick(1, { loss: '0.5' }, 64);
    t = 2000;
    p.tick(1, undefined, 64);
    const line = p.line();
    expect(line).toContain('batch 2/5');
    expect(line).toContain('64.0 samples/s');
    expect(line).toContain('ETA 0:03'); // 172 samples left at 64/s: 2.7 s (by batches it would be 3 × 1 s)
    expect(line).not.toContain('batch/s');
    t = 3000;
    p.tick(2, undefined, 128);
    expect(p.etaSeconds()).toBeCloseTo(44 / (256 / 3), 6); // 44 samples left at 256 samples / 3 s
    t = 3500;
    p.tick(1, undefined, 44);
    p.finish();
    expect(s.out.trimEnd().split('\r').at(-1)).toMatch(/100% batch 5\/5 85\.7 samples\/s elapsed 0:04 loss=0\.5$/);
  });

  it('resumed work shows in the count but not in the rate', () => {
    let t = 0;
    const p = createProgress({ total: 10, unit: 'batch', tty: false, stream: sink(false), now: () => t, initial: 6, rate: { unit: 'sample', units: 'samples', total: 100, initial: 60 } });
    t = 2000;
    p.tick(1, undefined, 10);
    expect(p.line()).toContain('batch 7/10');
    expect(p.rate()).toBe(5); // 10 samples in 2 s, not 70
    expect(p.etaSeconds()).toBe(6); // 30 samples left
    const q = createProgress({ total: 10, unit: 'batch', tty: false, stream: sink(false), now: () => t, initial: 6 });
    t = 4000;
    q.tick(1);
    expect(q.line()).toContain('2.00 s/batch'); // 1 batch in 2 s
  });

  it('a training run shows its progress in batches with samples/s', async () => {
    const s = sink(false);
    const cfg = resolveConfig({ name: 'p', dataset: 'moons', trainSize: 100, testSize: 20, layers: [{ size: 8 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 1, batchSize: 32, seed: 1, backend: 'reference' });
    await runExperiment(cfg, { runDir: join(mkdtempSync(join(tmpdir(), 'sigprop-progress-')), 'run'), progress: s, log: () => {}, report: false });
    const last = s.out.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^epoch 1\/1 100% batch 4\/4 (\d+|[\d.]+) samples\/s elapsed \d+:\d\d loss=/);
  });

  it('before the last epoch, the line also gives the training time left in the whole run', async () => {
    const s = sink(false);
    const cfg = resolveConfig({ name: 'p2', dataset: 'moons', trainSize: 100, testSize: 20, layers: [{ size: 8 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 2, batchSize: 32, seed: 1, backend: 'reference' });
    await runExperiment(cfg, { runDir: join(mkdtempSync(join(tmpdir(), 'sigprop-progress-')), 'run'), progress: s, log: () => {}, report: false });
    const lines = s.out.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('epoch 1/2')).at(-1)).toMatch(/ run-ETA=\d+:\d\d/);
    expect(lines.filter((l) => l.startsWith('epoch 2/2')).at(-1)).not.toContain('run-ETA');
  });

  it('detects interactive terminals and honours CI=true', () => {
    expect(isInteractive({ write() {}, isTTY: true }, {})).toBe(true);
    expect(isInteractive({ write() {}, isTTY: true }, { CI: 'true' })).toBe(false);
    expect(isInteractive({ write() {}, isTTY: false }, {})).toBe(false);
  });

  it('draws a bar with rate and ETA on a TTY', () => {
    let t = 0;
    const s = sink(true);
    const p = createProgress({ total: 10, label: 'epoch 1/2', unit: 'batch', stream: s, tty: true, now: () => t });
    t = 2000;
    p.tick(4, { loss: '0.5' });
    expect(s.out).toContain('\r');
    expect(s.out).toContain('[########------------]');
    expect(s.out).toContain('4/10');
    expect(s.out).toContain('2.00 batch/s');
    expect(s.out).toContain('ETA 0:03');
    expect(s.out).toContain('loss=0.5');
    t = 5000;
    p.tick(6);
    p.finish();
    expect(s.out.endsWith('\n')).toBe(true);
    expect(s.out).toContain('elapsed 0:05');
  });

  it('writes plain lines (no control characters) when not a TTY, about every 10%', () => {
    let t = 0;
    const s = sink(false);
    const p = createProgress({ total: 100, unit: 'sample', stream: s, now: () => t });
    for (let i = 0; i < 100; i++) {
      t += 200;
      p.tick();
    }
    p.finish();
    expect(s.out).not.toMatch(/[\r\x1b]/);
    const lines = s.out.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(9);
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(lines[0]).toMatch(/10\/100 5.00 sample\/s ETA 0:18/);
    expect(lines.at(-1)).toMatch(/100%.*100\/100/);
  });

  it('plain mode prints only the final line for short work', () => {
    let t = 0;
    const s = sink(false);
    const p = createProgress({ total: 16, stream: s, now: () => t });
    for (let i = 0; i < 16; i++) {
      t += 5;
      p.tick();
    }
    p.finish();
    expect(s.out.trim().split('\n')).toHaveLength(1);
  });

  it('silent mode writes nothing', () => {
    const s = sink(false);
    const p = createProgress({ total: 2, stream: s, silent: true });
    p.tick(2);
    p.log('x');
    p.finish();
    expect(s.out).toBe('');
  });
});
