/**
 * A run owns its folder: the lock (src/run-lock.ts) refuses a second run or resume while the
 * first is alive, is replaced when its process is gone, and is removed at the end; default folder
 * names never collide; a run that cannot start leaves no folder; a --run-dir that is a file is a
 * user error naming it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RuleFactory } from '../src/learning/rule.js';
import { resumeRun, runExperiment } from '../src/runner.js';
import { blobConfig, cli, moonsConfigFile, quiet, tempDir } from './runner.helpers.js';

const root = tempDir('lock');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('run folder lock', () => {
  it('a second run on the same folder is refused while the first runs; the folder holds one run', async () => {
    const dir = join(root, 'same');
    const first = runExperiment(blobConfig({ name: 'first', epochs: 6 }), quiet({ runDir: dir }));
    const second = runExperiment(blobConfig({ name: 'second', seed: 9 }), quiet({ runDir: dir }));
    const [a, b] = await Promise.allSettled([first, second]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    expect(String((b as PromiseRejectedResult).reason.message)).toMatch(new RegExp(`run folder ${dir} is in use by another run \\(process ${process.pid}`));
    expect(String((b as PromiseRejectedResult).reason.message)).toContain(join(dir, 'run.lock'));
    expect(readJson(join(dir, 'config.json')).name).toBe('first');
    expect(readJson(join(dir, 'run.json'))).toMatchObject({ status: 'complete', name: 'first', epochs: 6 });
    expect(readJson(join(dir, 'metrics.json'))).toHaveLength(6);
    expect(existsSync(join(dir, 'run.lock'))).toBe(false); // released at the end
  });

  it('resume takes the lock too: resuming a folder whose run is still going is refused', async () => {
    const dir = join(root, 'resume-while-running');
    const first = runExperiment(blobConfig({ epochs: 6 }), quiet({ runDir: dir }));
    await new Promise((r) => setTimeout(r, 0)); // the first run has written config.json and holds the lock
    await expect(resumeRun(dir, quiet())).rejects.toThrow(/is in use by another run/);
    expect((await first).status).toBe('complete');
    expect(readJson(join(dir, 'metrics.json'))).toHaveLength(6);
    expect((await resumeRun(dir, quiet({ epochs: 7 }))).metrics).toHaveLength(7); // free again afterwards
  });

  it("a lock held by another live process is respected; once that process is gone it is stale and replaced", async () => {
    const dir = join(root, 'other-process');
    mkdirSync(dir, { recursive: true });
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const lock = { pid: child.pid, hostname: hostname(), startedAt: '2024-01-01T00:00:00.000Z', token: 'abc', command: 'sigprop run other' };
    writeFileSync(join(dir, 'run.lock'), JSON.stringify(lock));
    try {
      await expect(runExperiment(blobConfig(), quiet({ runDir: dir }))).rejects.toThrow(new RegExp(`in use by another run \\(process ${child.pid} on ${hostname()}, since 2024-01-01T00:00:00.000Z: sigprop run other\\)`));
      expect(readdirSync(dir)).toEqual(['run.lock']); // nothing written
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    const warnings: string[] = [];
    const r = await runExperiment(blobConfig(), quiet({ runDir: dir, warn: (l) => warnings.push(l) }));
    expect(r.status).toBe('complete');
    expect(warnings.join('\n')).toMatch(new RegExp(`replaced the stale lock .*run\\.lock: process ${child.pid} that wrote it is no longer running`));
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
  });

  it('the CLI refuses a resume of a locked folder with exit 1 and the message', async () => {
    const dir = join(root, 'cli-locked');
    const done = await runExperiment(blobConfig(), quiet({ runDir: dir }));
    expect(done.status).toBe('complete');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: child.pid, hostname: hostname(), startedAt: new Date().toISOString(), token: 't' }));
    try {
      const r = await cli('run', '--resume', dir, '--epochs', '5', '-q');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^error: run folder .* is in use by another run/);
      expect(readJson(join(dir, 'config.json')).epochs).toBe(4); // untouched
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('default run folders started in the same second get different names', async () => {
    const outDir = join(root, 'defaults');
    const cfg = blobConfig({ name: 'twin', outDir, epochs: 2 });
    const runs = await Promise.all([runExperiment(cfg, quiet()), runExperiment(cfg, quiet()), runExperiment(cfg, quiet())]);
    expect(runs.map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
    expect(new Set(runs.map((r) => r.runDir)).size).toBe(3);
    for (const r of runs) expect(readJson(join(r.runDir, 'metrics.json'))).toHaveLength(2);
    expect(readdirSync(outDir).filter((f) => f.startsWith('twin-'))).toHaveLength(3);
  });
});

describe('run folder set-up errors', () => {
  it('a run whose dataset cannot load leaves no folder behind', async () => {
    const dir = join(root, 'no-data');
    const cfg = blobConfig({ dataset: 'mnist', dataDir: join(root, 'missing-data'), layers: [{ size: 10 }] });
    await expect(runExperiment(cfg, { ...quiet({ runDir: dir }), dataset: undefined })).rejects.toThrow(/mnist: data directory .*missing-data does not exist/);
    expect(existsSync(dir)).toBe(false);
  });

  it('a run whose rule cannot be built leaves no folder behind (default folder name too)', async () => {
    const outDir = join(root, 'bad-rule');
    const bad: RuleFactory = () => {
      throw new Error('cannot build');
    };
    await expect(runExperiment(blobConfig({ outDir }), quiet({ createRule: bad }))).rejects.toThrow('cannot build');
    expect(existsSync(outDir) ? readdirSync(outDir) : []).toEqual([]);
  });

  it('a resume that cannot start leaves the folder as it was and unlocked', async () => {
    const dir = join(root, 'resume-setup-fails');
    await runExperiment(blobConfig({ epochs: 2 }), quiet({ runDir: dir }));
    const before = readdirSync(dir).sort();
    const runJson = readFileSync(join(dir, 'run.json'), 'utf8');
    const bad: RuleFactory = () => {
      throw new Error('cannot build');
    };
    await expect(resumeRun(dir, quiet({ createRule: bad, epochs: 3 }))).rejects.toThrow('cannot build');
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe(runJson);
    expect(readJson(join(dir, 'config.json')).epochs).toBe(2);
    expect((await resumeRun(dir, quiet({ epochs: 3 }))).metrics).toHaveLength(3);
  });

  it('--run-dir naming an existing file is a user error naming the path', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const cfgPath = moonsConfigFile(root);
    const r = await cli('run', cfgPath, '--run-dir', file, '-q');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: run folder ${file} is a file, not a folder; choose another path for --run-dir\n`);
    const below = await cli('run', cfgPath, '--run-dir', join(file, 'sub'), '-q');
    expect(below.code).toBe(1);
    expect(below.err).toBe(`error: cannot create folder ${join(file, 'sub')}: ${file} is a file, not a folder; choose another path\n`);
    expect(below.err).not.toContain('internal error');
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('a dataset supplied by the caller', () => {
  it('is checked against the output layer before anything is written', async () => {
    const dir = join(root, 'too-few-outputs');
    await expect(runExperiment(blobConfig({ layers: [{ size: 1 }] }), quiet({ runDir: dir }))).rejects.toThrow(/layers\[0\]\.size = 1 is fewer than the 2 classes/);
    expect(existsSync(dir)).toBe(false);
  });
});
