/**
 * IDX bytes parser (the format of MNIST and Fashion-MNIST: http://yann.lecun.com/exdb/mnist/),
 * without Node built-ins (the browser bundle uses it; src/data/idx.ts reads files and re-exports it).
 *
 * Layout: magic number (4 bytes, big-endian) = 0x00 0x00 <type> <ndims>, then ndims big-endian
 * uint32 dimension sizes, then the data in row-major order. Only type 0x08 (unsigned byte) is
 * supported, which is what MNIST uses (0x00000801 labels, 0x00000803 images).
 *
 * Every size is checked against the byte length BEFORE anything is allocated, so a header
 * claiming 2^31 images in a 100-byte file fails at once with a DataError.
 */
import { DataError } from '../errors.js';

/** A parsed IDX file: dimension sizes and a zero-copy view of the payload bytes. */
export interface IdxData {
  /** Dimension sizes from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The payload, length = product of dims (a view into the input bytes, not a copy). */
  data: Uint8Array;
}

/** What the caller expects (optional): number of dimensions and fixed trailing sizes. */
export interface IdxExpect {
  ndims?: number;
  /** Expected sizes of dimensions 1..ndims-1 (e.g. [28, 28] for images). */
  itemShape?: number[];
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double',
};

/**
 * Parse IDX bytes. `file` names the source in error messages. Throws DataError on a wrong magic
 * number, an unsupported type, zero or absurd dimensions, a truncated payload or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, file: string, expect: IdxExpect = {}): IdxData {
  const fail = (why: string): never => {
    throw new DataError(`IDX file ${file}: ${why}`);
  };
  if (bytes.length < 4) fail(`truncated: ${bytes.length} bytes, too short for the 4-byte magic number`);
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const magicHex = '0x' + magic.toString(16).padStart(8, '0');
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`wrong magic number ${magicHex}: an IDX file starts with two zero bytes (0x00000801 labels, 0x00000803 images)`);
  }
  const type = bytes[2];
  const ndims = bytes[3];
  if (type !== 0x08) {
    const tn = TYPE_NAMES[type] ? ` (${TYPE_NAMES[type]})` : '';
    fail(`wrong magic number ${magicHex}: data type 0x${type.toString(16).padStart(2, '0')}${tn} is not supported, only 0x08 (unsigned byte)`);
  }
  if (ndims < 1 || ndims > 4) fail(`wrong magic number ${magicHex}: ${ndims} dimensions, expected 1 to 4`);
  if (expect.ndims !== undefined && ndims !== expect.ndims) {
    fail(`magic number ${magicHex} declares ${ndims} dimensions, expected ${expect.ndims} (0x0000080${expect.ndims})`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    fail(`truncated header: ${bytes.length} bytes, ${ndims} dimensions need a ${headerBytes}-byte header`);
  }
  const available = bytes.length - headerBytes;
  const dims: number[] = [];
  let product = 1;
  for (let d = 0; d < ndims; d++) {
    const o = 4 + 4 * d;
    const size = ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
    if (size === 0) fail(`dimension ${d} has size 0`);
    dims.push(size);
    product *= size;
    // product only grows, so once it exceeds the bytes present the file cannot be valid.
    if (product > available) {
      fail(`truncated or corrupt: header declares dimensions [${dims.join(', ')}${d < ndims - 1 ? ', ...' : ''}] ` +
        `needing at least ${product} data bytes, but only ${available} follow the ${headerBytes}-byte header`);
    }
  }
  if (product < available) {
    fail(`size mismatch: header declares [${dims.join(', ')}] = ${product} data bytes, but ${available} follow the header (${available - product} extra)`);
  }
  if (expect.itemShape) {
    const item = dims.slice(1);
    if (item.length !== expect.itemShape.length || item.some((v, i) => v !== expect.itemShape![i])) {
      fail(`item shape [${item.join(', ')}] is not the expected [${expect.itemShape.join(', ')}]`);
    }
  }
  return { dims, data: bytes.subarray(headerBytes, headerBytes + product) };
}

