/**
 * IDX files from disk (the parser of their bytes is idx-parse.ts, re-exported here) (the format of MNIST and Fashion-MNIST: http://yann.lecun.com/exdb/mnist/).
 *
 * Layout: magic number (4 bytes, big-endian) = 0x00 0x00 <type> <ndims>, then ndims big-endian
 * uint32 dimension sizes, then the data in row-major order. Only type 0x08 (unsigned byte) is
 * supported, which is what MNIST uses (0x00000801 labels, 0x00000803 images).
 *
 * Every size is checked against the byte length BEFORE anything is allocated, so a header
 * claiming 2^31 images in a 100-byte file fails at once with a DataError.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';
import { parseIdx, type IdxData, type IdxExpect } from './idx-parse.js';

export { parseIdx, type IdxData, type IdxExpect } from './idx-parse.js';

/** Largest decompressed IDX payload accepted from a .gz file (1 GiB; MNIST train images are 47 MB). */
export const MAX_GUNZIP_BYTES = 1 << 30;

/** Decompress gzip bytes (the official downloads are .gz), refusing output over MAX_GUNZIP_BYTES. */
function gunzipIdx(bytes: Uint8Array, path: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_GUNZIP_BYTES });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataError(`IDX file ${path}: decompresses to more than ${MAX_GUNZIP_BYTES} bytes; not an MNIST-sized file`);
    }
    throw new DataError(`IDX file ${path}: corrupt or truncated gzip data (${(err as Error).message})`);
  }
}

/**
 * Read and parse an IDX file from disk; gzip-compressed files (magic 1f 8b) are decompressed first. Missing or unreadable files throw DataError naming the path. */
export function readIdxFile(path: string, expect: IdxExpect = {}): IdxData {
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) throw new DataError(`IDX file ${path}: is not a regular file`);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT' ? `IDX file ${path}: not found` : `IDX file ${path}: cannot be read (${(err as Error).message})`,
    );
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipIdx(bytes, path);
  return parseIdx(bytes, path, expect);
}

/**
 * The item count (dimension 0) an uncompressed IDX file's header declares, from its first 8 bytes
 * only; undefined for a gzip file, a file too short for a header or one without the IDX magic
 * (readIdxFile reports those properly).
 */
export function idxHeaderCount(path: string): number | undefined {
  const head = new Uint8Array(8);
  let got: number;
  const fd = openSync(path, 'r');
  try {
    got = readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  if (got < 8 || head[0] !== 0 || head[1] !== 0 || head[2] !== 0x08 || head[3] < 1) return undefined;
  return ((head[4] << 24) | (head[5] << 16) | (head[6] << 8) | head[7]) >>> 0;
}
