import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../experiments/demo.js';

function capture() {
  const io = { text: '', errText: '', out: (t: string) => { io.text += t; }, err: { write: (t: string) => { io.errText += t; }, isTTY: false } };
  return io;
}

describe('experiments/demo.ts', () => {
  it('simulates a few MNIST digits and writes recordings and a summary', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sigprop-demo-')), 'run');
    const io = capture();
    const code = await runDemo(['--samples', '3', '--steps', '12', '--hidden', '20', '--record-neurons', '4', '--backend', 'reference', '--out', out], io);
    expect(code).toBe(0);
    expect(io.text).toMatch(/784-20-10 LIF network/);
    expect(io.text).toMatch(/hidden1 +20 neurons +rate/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.samples).toBe(3);
    expect(summary.layers.map((l: { name: string }) => l.name)).toEqual(['hidden1', 'output']);
    expect(summary.layers[0].spikesPerSample).toHaveLength(3);
    expect(summary.inputSpikesPerSample.every((c: number) => c > 0)).toBe(true);
    expect(summary.outputSpikeCounts).toHaveLength(3);
    const rec = JSON.parse(readFileSync(join(out, 'recording.json'), 'utf8'));
    expect(rec.steps).toBe(12);
    expect(rec.traces).toHaveLength(2 * 2 * 4 * 2); // 2 layers × 2 vars × 4 neurons × 2 samples
    const csv = readFileSync(join(out, 'recording.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(13);
  }, 30000);

  it('prints help and rejects bad options with exit code 2', async () => {
    const io = capture();
    expect(await runDemo(['--help'], io)).toBe(0);
    expect(io.text).toMatch(/--samples N/);
    const bad = capture();
    expect(await runDemo(['--steps=-3'], bad)).toBe(2);
    expect(bad.errText).toMatch(/--steps -3 is not an integer >= 1/);
    expect(await runDemo(['--bogus'], bad)).toBe(2);
    expect(await runDemo(['--encoder', 'rate:gian=1'], bad)).toBe(2);
    expect(bad.errText).toMatch(/unknown parameter "gian"/);
  });

  it('runs as a script: npx tsx experiments/demo.ts exits 2 on a bad option', () => {
    let code = 0;
    try {
      execFileSync(join(process.cwd(), 'node_modules', '.bin', 'tsx'), ['experiments/demo.ts', '--steps', '-3'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(2);
  }, 30000);
});
