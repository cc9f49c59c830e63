/**
 * Output paths a user gets wrong (a file where a folder is needed, a virtual file system, a full
 * disk) are user errors: one `error:` line naming the path and the problem, exit code 1, never
 * "internal error ... report it as a bug", never a hang.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli.helpers.js';
import { SigpropError } from '../src/errors.js';
import { ensureDir, FileSystemError, writeFileAtomic, writeJsonAtomic } from '../src/io.js';

/** Paths whose writes fail with a given error code (node:fs is wrapped for this file only). */
const fail = vi.hoisted(() => ({ match: undefined as RegExp | undefined, code: 'ENOSPC' }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeFileSync = ((path: unknown, ...rest: unknown[]) => {
    if (fail.match?.test(String(path))) {
      throw Object.assign(new Error(`${fail.code}: simulated, open '${String(path)}'`), { code: fail.code, errno: -28, syscall: 'open', path: String(path) });
    }
    return (fs.writeFileSync as (...a: unknown[]) => void)(path, ...rest);
  }) as typeof fs.writeFileSync;
  return { ...fs, writeFileSync, default: { ...fs, writeFileSync } };
});
afterEach(() => {
  fail.match = undefined;
});



const dir = mkdtempSync(join(tmpdir(), 'sigprop-paths-'));
const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'not a folder\n');
const tiny = { name: 'tiny', dataset: 'moons', trainSize: 32, testSize: 16, layers: [{ size: 4 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 1, batchSize: 16, learningRate: 0.01, backend: 'reference', outDir: join(dir, 'runs') };
const tinyPath = join(dir, 'tiny.json');
writeFileSync(tinyPath, JSON.stringify(tiny));

/** A user error: exit 1, one message naming `path`, no "internal error", no stack. */
function expectUserError(r: { code: number; err: string }, ...parts: (string | RegExp)[]): void {
  expect(r.code, r.err).toBe(1);
  expect(r.err).toMatch(/^error: /);
  expect(r.err).not.toContain('internal error');
  expect(r.err).not.toContain('report it as a bug');
  expect(r.err).not.toMatch(/\n\s+at /);
  for (const p of parts) expect(r.err).toMatch(p);
}

describe('output paths under a file', () => {
  it('run --out-dir under a file names the file', async () => {
    const r = await cli('run', tinyPath, '--out-dir', join(aFile, 'x'), '--quiet');
    expectUserError(r, `${aFile} is a file, not a folder`);
  });

  it('run --run-dir that is an existing file names it', async () => {
    const r = await cli('run', tinyPath, '--run-dir', aFile, '--quiet');
    expectUserError(r, `${aFile} is a file, not a folder`);
    expect(readFileSync(aFile, 'utf8')).toBe('not a folder\n');
  });

  it('surrogates --compare -o under a file names the file', async () => {
    const r = await cli('surrogates', '--compare', '--names', 'atan', '--points', '5', '-o', join(aFile, 'sg'));
    expectUserError(r, `${aFile} is a file, not a folder`);
  });

  it('surrogates --compare -o at an existing file names it', async () => {
    const r = await cli('surrogates', '--compare', '--names', 'atan', '--points', '5', '-o', aFile);
    expectUserError(r, `${aFile} is a file, not a folder`);
  });

  it('traces -o under a file names the file', async () => {
    const spk = join(dir, 'spk.json');
    writeFileSync(spk, JSON.stringify({ ...tiny, name: 'spk', mode: 'spiking', steps: 4, layers: [{ size: 4, model: 'lif' }, { size: 2, model: 'lif' }] }));
    const runDir = join(dir, 'spk-run');
    expect((await cli('run', spk, '--run-dir', runDir, '--quiet', '--no-report')).code).toBe(0);
    const r = await cli('traces', runDir, '--samples', '0', '-o', join(aFile, 'x', 'traces.html'));
    expectUserError(r, `${aFile} is a file, not a folder`);
  });
});

describe('virtual file systems', () => {
  // In a child process with a time limit: Node's recursive mkdir loops forever on /proc, and a
  // synchronous loop would also stop an in-process test's own timeout from firing.
  const sigprop = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'src', 'cli', 'main.ts'), ...args], { encoding: 'utf8', timeout: 30_000 });

  it('--out-dir /proc/... fails at once with a message (no hang)', () => {
    const r = sigprop('run', tinyPath, '--out-dir', '/proc/sigprop-test/x', '--quiet');
    expect(r.error, 'timed out: the folder creation hangs').toBeUndefined();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot create folder \/proc\/sigprop-test\/x.*: \/proc does not accept new folders/);
    expect(r.stderr).not.toContain('internal error');
  }, 40_000);

  it('surrogates --compare -o /proc/... fails at once with a message', () => {
    const r = sigprop('surrogates', '--compare', '--names', 'atan', '--points', '5', '-o', '/proc/sigprop-test');
    expect(r.error, 'timed out: the folder creation hangs').toBeUndefined();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/\/proc does not accept new folders/);
  }, 40_000);

  it('ensureDir and writeFileAtomic on /proc throw FileSystemError', () => {
    expect(() => ensureDir('/proc/sigprop-test/a/b')).toThrow(FileSystemError);
    expect(() => writeFileAtomic('/proc/sigprop-test.json', '{}')).toThrow(/\/proc does not accept new files/);
  });
});

describe('disk full, no permission, read-only', () => {
  it('disk full while writing the checkpoint: a user error naming the file', async () => {
    fail.match = /checkpoint\.ckpt/;
    fail.code = 'ENOSPC';
    const runDir = join(dir, 'full');
    const r = await cli('run', tinyPath, '--run-dir', runDir, '--quiet', '--no-report');
    expectUserError(r, join(runDir, 'checkpoint.ckpt'), /no space left on the device/, /ENOSPC/);
    expect(readdirSync(runDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    ['EACCES', /permission denied/],
    ['EPERM', /operation not permitted/],
    ['EROFS', /read-only/],
    ['EDQUOT', /quota/],
  ])('%s becomes a FileSystemError naming the path', (code, why) => {
    fail.match = /out\.json/;
    fail.code = code;
    const p = join(dir, 'errs', 'out.json');
    let caught: unknown;
    try {
      writeJsonAtomic(p, { a: 1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SigpropError);
    expect((caught as FileSystemError).errno).toBe(code);
    expect((caught as Error).message).toContain(`cannot write ${p}: `);
    expect((caught as Error).message).toMatch(why);
    expect(existsSync(p)).toBe(false);
    expect(readdirSync(join(dir, 'errs'))).toEqual([]); // no temp file left behind
  });

  it('programming errors are not dressed up as file-system errors', () => {
    expect(() => writeFileAtomic(join(dir, 'bad.txt'), undefined as unknown as string)).toThrow(TypeError);
  });
});

describe('one folder helper', () => {
  it('ensureDir creates nested folders, accepts existing ones, refuses files', () => {
    const d = join(dir, 'n', 'e', 's', 't');
    expect(ensureDir(d)).toBe(d);
    expect(ensureDir(d)).toBe(d);
    expect(() => ensureDir(aFile)).toThrow(`${aFile} is a file, not a folder`);
  });

  it('no module in src/ calls mkdirSync except src/io.ts (every folder goes through ensureDir)', () => {
    const root = join(__dirname, '..');
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.ts$/.test(e.name) && p !== join(root, 'src', 'io.ts') && /\bmkdir(Sync)?\s*\(/.test(readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    for (const d of ['src', 'surrogates', 'models']) walk(join(root, d));
    expect(offenders).toEqual([]);
  });
});
