/**
 * A full disk while writing a checkpoint is a clear error naming the file (not an internal error
 * asking for a bug report), and run.json records the failure. The disk is "filled" by a test
 * double of src/io.ts whose atomic writes of *.ckpt files fail with ENOSPC.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { cli, moonsConfigFile, tempDir } from './runner.helpers.js';

vi.mock('../src/io.js', async (importOriginal) => {
  const io = await importOriginal<typeof import('../src/io.js')>();
  return {
    ...io,
    writeFileAtomic(path: string, data: string | Uint8Array) {
      if (path.endsWith('.ckpt')) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      return io.writeFileAtomic(path, data);
    },
  };
});

describe('disk full', () => {
  it('ENOSPC while writing the checkpoint: exit 1 with the file named, run.json status failed', async () => {
    const root = tempDir('diskfull');
    const dir = join(root, 'run');
    const r = await cli('run', moonsConfigFile(root), '--run-dir', dir, '-q');
    expect(r.code).toBe(1);
    const ck = join(dir, 'checkpoint.ckpt');
    expect(r.err).toBe(`error: cannot write checkpoint ${ck}: no space left on the device (the disk is full); free some space or write to another disk (ENOSPC)\n`);
    const st = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(st.status).toBe('failed');
    expect(st.error).toContain(`cannot write checkpoint ${ck}: no space left`);
  });
});
