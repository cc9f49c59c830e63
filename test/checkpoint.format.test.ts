import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  architectureOf,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from '../src/checkpoint.js';
import { Rng } from '../src/rng.js';

function sample(): Checkpoint {
  const rng = new Rng(7);
  rng.normal(); // leaves a cached spare value
  const w = rng.fillNormal(new Float32Array(12));
  w[3] = -0; // sign of zero must survive
  w[4] = 1.401298464324817e-45; // denormal
  return {
    epoch: 3,
    batch: 5,
    architecture: architectureOf({ rule: 'sigprop', layers: [{ size: 4 }, { size: 3, model: 'lif' }] }, 3),
    tensors: { 'layer0.W': { shape: [3, 4], data: w }, 'optim.step': { shape: [1], data: new Float32Array([42]) }, empty: { shape: [0], data: new Float32Array(0) } },
    rng: { data: rng.getState(), rule: new Rng(1).getState() },
    meta: { metrics: [{ epoch: 1, loss: 0.5 }], note: 'héllo' },
  };
}

describe('checkpoint format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigprop-ckpt-'));

  it('round-trips tensors bit for bit, RNG state, epoch and meta', () => {
    const ck = sample();
    const back = decodeCheckpoint(encodeCheckpoint(ck));
    expect(back.epoch).toBe(3);
    expect(back.batch).toBe(5);
    expect(back.architecture).toBe(ck.architecture);
    expect(back.meta).toEqual(ck.meta);
    expect(back.rng).toEqual(ck.rng);
    expect(new Uint32Array(back.tensors['layer0.W'].data.buffer.slice(0))).toEqual(new Uint32Array(ck.tensors['layer0.W'].data.buffer.slice(0)));
    expect(Object.is(back.tensors['layer0.W'].data[3], -0)).toBe(true);
    expect(back.tensors['layer0.W'].shape).toEqual([3, 4]);
    expect(back.tensors.empty.data.length).toBe(0);
    // restored RNG continues the same sequence (including the cached normal)
    const a = new Rng(0);
    a.setState(ck.rng.data);
    const b = new Rng(0);
    b.setState(back.rng.data);
    expect([b.normal(), b.normal(), b.uniform()]).toEqual([a.normal(), a.normal(), a.uniform()]);
  });

  it('writes atomically: no temp files are left and the file loads', () => {
    const path = join(dir, 'a', 'checkpoint.ckpt');
    saveCheckpoint(path, sample());
    saveCheckpoint(path, { ...sample(), epoch: 4 });
    expect(readdirSync(join(dir, 'a'))).toEqual(['checkpoint.ckpt']);
    expect(loadCheckpoint(path).epoch).toBe(4);
  });

  it('refuses a file with a flipped byte (checksum)', () => {
    const bytes = encodeCheckpoint(sample());
    const bad = new Uint8Array(bytes);
    bad[bad.length - 40] ^= 0x01; // inside the payload
    expect(() => decodeCheckpoint(bad, 'x.ckpt')).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(bad, 'x.ckpt')).toThrow(/x\.ckpt is corrupt: its SHA-256 checksum does not match/);
  });

  it('refuses a truncated file', () => {
    const bytes = encodeCheckpoint(sample());
    const path = join(dir, 'trunc.ckpt');
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    expect(() => loadCheckpoint(path)).toThrow(/trunc\.ckpt is truncated/);
    writeFileSync(path, bytes.subarray(0, 12));
    expect(() => loadCheckpoint(path)).toThrow(/truncated/);
  });

  it('refuses a foreign file and a future version', () => {
    const path = join(dir, 'foreign.ckpt');
    writeFileSync(path, '{"weights": [1,2,3]}');
    expect(() => loadCheckpoint(path)).toThrow(/foreign\.ckpt is not a sigprop checkpoint/);
    const bytes = new Uint8Array(encodeCheckpoint(sample()));
    bytes[8] = 99;
    expect(() => decodeCheckpoint(bytes, 'v.ckpt')).toThrow(/format version 99/);
  });

  it('refuses a checkpoint of another architecture', () => {
    const path = join(dir, 'arch.ckpt');
    saveCheckpoint(path, sample());
    const other = architectureOf({ rule: 'sigprop', layers: [{ size: 5 }, { size: 3, model: 'lif' }] }, 3);
    expect(() => loadCheckpoint(path, { architecture: other })).toThrow(/saved for a different network/);
    expect(loadCheckpoint(path, { architecture: sample().architecture }).epoch).toBe(3);
    expect(() => loadCheckpoint(join(dir, 'nope.ckpt'))).toThrow(/does not exist/);
  });

  it('rejects a tensor whose data does not match its shape when saving', () => {
    const ck = sample();
    ck.tensors.bad = { shape: [2, 2], data: new Float32Array(3) };
    expect(() => encodeCheckpoint(ck)).toThrow(/bad has 3 values but shape \[2, 2\] needs 4/);
  });

  it('file starts with the magic header', () => {
    const path = join(dir, 'm.ckpt');
    saveCheckpoint(path, sample());
    expect(readFileSync(path).toString('latin1', 0, 8)).toBe('SIGPCKPT');
  });
});
