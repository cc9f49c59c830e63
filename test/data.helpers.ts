/** Small fixture writers for the data tests (IDX and CIFAR files in a temp directory). */
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory. */
export function tempDir(prefix = 'sigprop-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Bytes of an IDX file with type 0x08, the given dims and payload (payload may be short/long on purpose). */
export function idxBytes(dims: number[], payload: Uint8Array, magicType = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = magicType;
  header[3] = dims.length;
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d >>> 0, false));
  const out = new Uint8Array(header.length + payload.length);
  out.set(header);
  out.set(payload, header.length);
  return out;
}

/** Write a consistent set of four MNIST-style IDX files with nTrain / nTest samples to `dir`. */
export function writeIdxDataset(dir: string, nTrain: number, nTest: number, labelsOf = (i: number) => i % 10): void {
  const write = (prefix: string, n: number) => {
    const px = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) px.fill((i * 37) % 256, i * 784, (i + 1) * 784);
    const lb = new Uint8Array(n);
    for (let i = 0; i < n; i++) lb[i] = labelsOf(i);
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idxBytes([n, 28, 28], px));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idxBytes([n], lb));
  };
  write('train', nTrain);
  write('t10k', nTest);
}

/**
 * Write a file that starts with `head` and is `size` bytes long (zeros after the head). The
 * zeros are a hole in the file, so full-size official files cost no disk and no time to write.
 */
export function writeSparse(path: string, head: Uint8Array, size: number): void {
  writeFileSync(path, head);
  truncateSync(path, size);
}

/** An IDX header (magic 0x08, dims) without payload, for writeSparse. */
export function idxHeader(dims: number[]): Uint8Array {
  return idxBytes(dims, new Uint8Array(0));
}
