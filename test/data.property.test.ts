/**
 * Property tests: random and corrupted bytes fed to the IDX, CIFAR and Fashion JSON parsers
 * either parse into something consistent with the input length or throw DataError; nothing
 * hangs and nothing allocates more than the input could hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { parseCifar, parseFashionJson, parseIdx, type CifarFormat } from '../src/data/index.js';
import { idxBytes } from './data.helpers.js';

/** Run `f`; it must return or throw DataError (any other error fails the property). */
function parsesOrDataError<T>(f: () => T): T | null {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    return null;
  }
}

const validIdx = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 2 }))
  .map(([n, item]) => {
    const dims = [n, ...item];
    const size = dims.reduce((a, b) => a * b, 1);
    return idxBytes(dims, new Uint8Array(size).map((_, i) => i % 251));
  });

describe('IDX parser properties', () => {
  it('random bytes: parse consistently or throw DataError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = parsesOrDataError(() => parseIdx(bytes, 'random.idx'));
        if (r) {
          expect(r.data.length).toBe(r.dims.reduce((a, b) => a * b, 1));
          expect(r.data.length + 4 + 4 * r.dims.length).toBe(bytes.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('random headers in front of valid magic: parse consistently or throw DataError', () => {
    const arb = fc.tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }),
      fc.uint8Array({ maxLength: 300 }),
    );
    fc.assert(
      fc.property(arb, ([nd, dims, payload]) => {
        const bytes = idxBytes(dims.slice(0, nd), payload);
        const r = parsesOrDataError(() => parseIdx(bytes, 'hdr.idx'));
        if (r) expect(r.data.length).toBe(payload.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('corrupted valid files (byte flips, truncation, extension) never escape as non-DataError', () => {
    const arb = fc.tuple(validIdx, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.integer({ min: -20, max: 20 }));
    fc.assert(
      fc.property(arb, ([bytes, flips, cut]) => {
        const b = new Uint8Array(Math.max(0, bytes.length + cut));
        b.set(bytes.subarray(0, Math.min(bytes.length, b.length)));
        for (const [pos, v] of flips) if (b.length) b[pos % b.length] = v;
        const r = parsesOrDataError(() => parseIdx(b, 'corrupt.idx'));
        if (r) expect(r.data.length + 4 + 4 * r.dims.length).toBe(b.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('a header claiming 2^31 images in a 100-byte file fails fast', () => {
    const bytes = idxBytes([2 ** 31, 28, 28], new Uint8Array(84));
    expect(bytes.length).toBe(100);
    const t = performance.now();
    expect(() => parseIdx(bytes, 'huge.idx')).toThrow(/huge\.idx: truncated or corrupt: header declares dimensions \[2147483648, \.\.\.\]/);
    expect(() => parseIdx(idxBytes([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(10)), 'huge4.idx')).toThrow(DataError);
    expect(performance.now() - t).toBeLessThan(50);
  });

  it('specific failures name the problem', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 8]), 'f')).toThrow(/f: truncated: 3 bytes/);
    expect(() => parseIdx(new Uint8Array([1, 2, 8, 1, 0, 0, 0, 1, 0]), 'f')).toThrow(/wrong magic number 0x01020801/);
    expect(() => parseIdx(idxBytes([1], new Uint8Array(4), 0x0d), 'f')).toThrow(/data type 0x0d \(float\) is not supported/);
    expect(() => parseIdx(idxBytes([2, 3], new Uint8Array(6)).subarray(0, 9), 'f')).toThrow(/truncated header/);
    expect(() => parseIdx(idxBytes([2], new Uint8Array(5)), 'f')).toThrow(/size mismatch: .* \(3 extra\)/);
    expect(() => parseIdx(idxBytes([0], new Uint8Array(0)), 'f')).toThrow(/dimension 0 has size 0/);
    expect(() => parseIdx(idxBytes([2, 3, 3], new Uint8Array(18)), 'f', { ndims: 3, itemShape: [28, 28] })).toThrow(/item shape \[3, 3\] is not the expected \[28, 28\]/);
  });
});

describe('CIFAR parser properties', () => {
  const formats: CifarFormat[] = [
    { labelBytes: 1, labelIndex: 0, numClasses: 10 },
    { labelBytes: 2, labelIndex: 1, numClasses: 100 },
  ];

  it('random bytes (any length up to 3 records): parse consistently or throw DataError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3 * 3074 + 5 }), fc.constantFrom(...formats), (bytes, fmt) => {
        const r = parsesOrDataError(() => parseCifar(bytes, fmt, 'rand.bin'));
        if (r) {
          expect(r.n * (fmt.labelBytes + 3072)).toBe(bytes.length);
          expect(r.pixels.length).toBe(r.n * 3072);
          expect(r.labels.every((l) => l < fmt.numClasses)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('whole-record files with random labels: labels checked, pixels copied exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }), (n, labs) => {
        const fmt = formats[0];
        const bytes = new Uint8Array(n * 3073).map((_, i) => (i * 7) % 256);
        for (let i = 0; i < n; i++) bytes[i * 3073] = labs[i];
        const r = parsesOrDataError(() => parseCifar(bytes, fmt, 'lab.bin'));
        const valid = labs.slice(0, n).every((l) => l < 10);
        expect(r !== null).toBe(valid);
        if (r) expect(r.pixels[3072 * (n - 1) + 5]).toBe(bytes[3073 * (n - 1) + 6]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Fashion JSON parser properties', () => {
  it('random bytes and random ASCII: parse or throw DataError', () => {
    const ascii = fc.string({ unit: fc.constantFrom(...'{}[],"data: 0123456789'.split('')), maxLength: 200 }).map((s) => new TextEncoder().encode(s));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), ascii), (bytes) => {
        const r = parsesOrDataError(() => parseFashionJson(bytes, 'rand.json'));
        if (r) expect(r.pixels.length).toBe(r.n * 784);
      }),
      { numRuns: 2000 },
    );
  });
});
