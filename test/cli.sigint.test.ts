/**
 * The real program in a child process: Ctrl-C (SIGINT) finishes the batch, writes checkpoint,
 * metrics and report, exits 130; --resume then ends with the same weights as a run that was
 * never interrupted. Also: a usage error from the real binary prints no stack trace.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint.js';
import { main } from '../src/cli/main.js';
import { resolveConfig } from '../src/config/resolve.js';
import { runExperiment } from '../src/runner.js';

const repo = join(import.meta.dirname, '..');
const cliArgs = ['--import', 'tsx', join(repo, 'src/cli/main.ts')];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = () => ({ out() {}, err() {}, progress: false as const, handleSigint: false });

function tensorBits(path: string): Record<string, number[]> {
  const ck = loadCheckpoint(path);
  return Object.fromEntries(Object.entries(ck.tensors).map(([k, t]) => [k, Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length))]));
}

describe('sigprop as a program', () => {
  it('usage error: exit code 2, message and hint, no stack trace', () => {
    const r = spawnSync(process.execPath, [...cliArgs, 'run', '--bogus'], { cwd: repo, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error: unknown flag --bogus');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 30000);

  it('Ctrl-C writes a checkpoint and exits 130; --resume matches an uninterrupted run bit for bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-sigint-'));
    const base = { name: 'slow', dataset: 'moons', trainSize: 2000, testSize: 50, layers: [{ size: 128 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 1000, batchSize: 8, learningRate: 0.01, seed: 2, backend: 'reference' };
    const cfgPath = join(dir, 'slow.json');
    writeFileSync(cfgPath, JSON.stringify(base));
    const runDir = join(dir, 'run');
    const child = spawn(process.execPath, [...cliArgs, 'run', cfgPath, '--run-dir', runDir], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !existsSync(join(runDir, 'run.json')); i++) await sleep(50);
    await sleep(300);
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('stopping after this batch');
    expect(stdout).toContain(`continue with: sigprop run --resume ${runDir}`);
    const state = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    expect(state.status).toBe('interrupted');
    expect(existsSync(join(runDir, 'report.html')), stdout).toBe(true);
    const ck = loadCheckpoint(join(runDir, 'checkpoint.ckpt'));
    expect([ck.epoch, ck.batch]).toEqual([state.epoch, state.batch]);
    // finish the interrupted epoch (and one more) and compare with a never-interrupted run
    const epochs = state.epoch + 2;
    expect(await main(['run', '--resume', runDir, '--epochs', String(epochs), '--no-report'], quiet())).toBe(0);
    const ref = await runExperiment(resolveConfig({ ...base, epochs }), { runDir: join(dir, 'ref'), progress: false, log: () => {}, report: false });
    expect(tensorBits(join(runDir, 'checkpoint.ckpt'))).toEqual(tensorBits(ref.checkpointPath));
  }, 60000);
});
