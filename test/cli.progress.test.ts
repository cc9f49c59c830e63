import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration, formatRate, isInteractive, type ProgressStream } from '../src/progress.js';

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
