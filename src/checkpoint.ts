/**
 * Checkpoints: everything needed to continue a run bit for bit — weights, optimiser state,
 * RNG states, epoch/batch position and free JSON metadata — in one binary file.
 *
 * Layout (little-endian):
 *   bytes 0..7    magic "SIGPCKPT"
 *   bytes 8..11   format version (u32)
 *   bytes 12..15  header length H in bytes (u32)
 *   next H bytes  header: UTF-8 JSON (CheckpointHeader), space-padded to a multiple of 4
 *   payload       the float32 tensors, concatenated in header order
 *   last 32 bytes SHA-256 of everything before it
 *
 * Files are written atomically (temp file, then rename, src/io.ts). Loading refuses a file with
 * a wrong magic (not a sigprop checkpoint), a newer format version, a truncated body, a bad
 * checksum, or (when asked) a different architecture — each with a message naming the file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { SigpropError } from './errors.js';
import { fileSystemError, writeFileAtomic } from './io.js';
import type { RngState } from './rng.js';

/** Magic bytes at the start of every checkpoint. */
export const CHECKPOINT_MAGIC = 'SIGPCKPT';
/** Current format version; files with a higher version are refused. */
export const CHECKPOINT_VERSION = 1;
const DIGEST_BYTES = 32;
const PREFIX_BYTES = 16;

/** A saved RNG state (src/rng.ts Rng.getState()). */
export interface SavedRngState {
  s: RngState;
  spare: number | null;
}

/** One saved tensor: shape and float32 data (row-major). */
export interface SavedTensor {
  shape: number[];
  data: Float32Array;
}

/** A checkpoint's tensors as a rule state (for rule.loadState): the inverse of stateTensors. */
export function checkpointState(ck: Pick<Checkpoint, 'tensors'>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(ck.tensors).map(([k, t]) => [k, t.data]));
}

/** A rule's state (rule.state()) as checkpoint tensors: 1-D copies (the rule knows its shapes). */
export function stateTensors(state: Record<string, Float32Array>): Record<string, SavedTensor> {
  const out: Record<string, SavedTensor> = {};
  for (const [k, v] of Object.entries(state)) out[k] = { shape: [v.length], data: Float32Array.from(v) };
  return out;
}

/** Everything a checkpoint holds. */
export interface Checkpoint {
  /** Epochs fully completed. */
  epoch: number;
  /** Batches completed inside the current (incomplete) epoch; 0 at an epoch boundary. */
  batch: number;
  /**
   * Fingerprint of the network (layer sizes, models, rule, input size). A run refuses to resume
   * from a checkpoint whose fingerprint differs. See `architectureOf`.
   */
  architecture: string;
  /** Weights and optimiser state by name, e.g. 'layer0.W', 'optim.layer0.W.m'. */
  tensors: Record<string, SavedTensor>;
  /** Named RNG states, e.g. { data: ..., rule: ... }. */
  rng: Record<string, SavedRngState>;
  /** Free JSON metadata (resolved config, metrics history, optimiser step counts, ...). */
  meta: Record<string, unknown>;
}

/** What the header JSON holds (tensor data is in the payload). */
interface CheckpointHeader {
  epoch: number;
  batch: number;
  architecture: string;
  rng: Record<string, SavedRngState>;
  meta: Record<string, unknown>;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

/** A checkpoint that cannot be used (corrupt, truncated, foreign or of another architecture). */
export class CheckpointError extends SigpropError {
  constructor(message: string) {
    super(message, 'checkpoint');
    this.name = 'CheckpointError';
  }
}

/** Serialise a checkpoint to bytes (see the layout above). */
export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  const entries = Object.entries(ck.tensors);
  let offset = 0;
  const tensors = entries.map(([name, t]) => {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new CheckpointError(`checkpoint tensor ${name} has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${size}`);
    }
    const e = { name, shape: [...t.shape], offset, length: t.data.length };
    offset += t.data.length;
    return e;
  });
  const header: CheckpointHeader = { epoch: ck.epoch, batch: ck.batch, architecture: ck.architecture, rng: ck.rng, meta: ck.meta, tensors };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - (json.length % 4)) % 4;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const payloadBytes = offset * 4;
  const total = PREFIX_BYTES + json.length + payloadBytes + DIGEST_BYTES;
  const buf = Buffer.alloc(total);
  buf.write(CHECKPOINT_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(CHECKPOINT_VERSION, 8);
  buf.writeUInt32LE(json.length, 12);
  json.copy(buf, PREFIX_BYTES);
  const payload = new Float32Array(buf.buffer, buf.byteOffset + PREFIX_BYTES + json.length, offset);
  for (let i = 0; i < entries.length; i++) payload.set(entries[i][1].data, tensors[i].offset);
  if (!isLittleEndian()) byteSwap32(buf, PREFIX_BYTES + json.length, payloadBytes);
  const body = buf.subarray(0, total - DIGEST_BYTES);
  createHash('sha256').update(body).digest().copy(buf, total - DIGEST_BYTES);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/**
 * Parse checkpoint bytes. `source` names the file in messages. Throws CheckpointError for a
 * foreign file, an unsupported version, truncation or a checksum mismatch.
 */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || buf.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) {
    throw new CheckpointError(`${source} is not a sigprop checkpoint (its first bytes are not "${CHECKPOINT_MAGIC}"); pass a checkpoint.ckpt file written by sigprop`);
  }
  if (buf.length < PREFIX_BYTES + DIGEST_BYTES) {
    throw new CheckpointError(`${source} is truncated (${buf.length} bytes); the file was cut off — use another checkpoint or rerun`);
  }
  const version = buf.readUInt32LE(8);
  if (version > CHECKPOINT_VERSION || version < 1) {
    throw new CheckpointError(`${source} has checkpoint format version ${version}, but this sigprop reads version ${CHECKPOINT_VERSION}; use the sigprop version that wrote it`);
  }
  const headerBytes = buf.readUInt32LE(12);
  if (PREFIX_BYTES + headerBytes + DIGEST_BYTES > buf.length) {
    throw new CheckpointError(`${source} is truncated (header says ${headerBytes} header bytes, file has ${buf.length} bytes in all); use another checkpoint or rerun`);
  }
  let header: CheckpointHeader;
  try {
    header = JSON.parse(buf.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes)) as CheckpointHeader;
  } catch {
    throw new CheckpointError(`${source} is corrupt (its header is not valid JSON); use another checkpoint or rerun`);
  }
  const nValues = (header.tensors ?? []).reduce((a, t) => Math.max(a, t.offset + t.length), 0);
  const expected = PREFIX_BYTES + headerBytes + nValues * 4 + DIGEST_BYTES;
  if (buf.length !== expected) {
    throw new CheckpointError(`${source} is ${buf.length < expected ? 'truncated' : 'corrupt'}: it has ${buf.length} bytes but its header describes ${expected}; use another checkpoint or rerun`);
  }
  const digest = createHash('sha256').update(buf.subarray(0, buf.length - DIGEST_BYTES)).digest();
  if (!digest.equals(buf.subarray(buf.length - DIGEST_BYTES))) {
    throw new CheckpointError(`${source} is corrupt: its SHA-256 checksum does not match its contents; use another checkpoint or rerun`);
  }
  const payloadStart = PREFIX_BYTES + headerBytes;
  const payload = Buffer.from(buf.subarray(payloadStart, payloadStart + nValues * 4)); // aligned copy
  if (!isLittleEndian()) byteSwap32(payload, 0, payload.length);
  const all = new Float32Array(payload.buffer, payload.byteOffset, nValues);
  const tensors: Record<string, SavedTensor> = {};
  for (const t of header.tensors) tensors[t.name] = { shape: t.shape, data: all.slice(t.offset, t.offset + t.length) };
  return { epoch: header.epoch, batch: header.batch, architecture: header.architecture, rng: header.rng, meta: header.meta ?? {}, tensors };
}

/**
 * Write a checkpoint file atomically (temp file in the same folder, then rename). A full disk or
 * an unwritable folder is a SigpropError naming the file; the previous checkpoint stays intact.
 */
export function saveCheckpoint(path: string, ck: Checkpoint): void {
  const bytes = encodeCheckpoint(ck);
  try {
    writeFileAtomic(path, bytes);
  } catch (err) {
    throw fileSystemError(err, path, 'write checkpoint');
  }
}

/** What a loader may require of a checkpoint. */
export interface CheckpointExpectation {
  /** Refuse a checkpoint saved for a different network (see `architectureOf`). */
  architecture?: string;
}

/** Read and verify a checkpoint file. Throws CheckpointError with the reason and the file name. */
export function loadCheckpoint(path: string, expect: CheckpointExpectation = {}): Checkpoint {
  if (!existsSync(path)) throw new CheckpointError(`checkpoint ${path} does not exist; pass the checkpoint.ckpt file of a run folder`);
  const ck = decodeCheckpoint(readFileSync(path), path);
  if (expect.architecture !== undefined && ck.architecture !== expect.architecture) {
    throw new CheckpointError(
      `checkpoint ${path} was saved for a different network:\n  checkpoint: ${ck.architecture}\n  this run:   ${expect.architecture}\nuse the same layers, models, rule and dataset as the run that wrote it`,
    );
  }
  return ck;
}

/**
 * A fingerprint of a network for checkpoint compatibility: the input size and, per layer, the
 * size and neuron model, plus rule and mode. Two configs with equal fingerprints have weights of
 * the same names and shapes.
 */
export function architectureOf(
  cfg: { rule: string; mode?: string; layers: readonly { size: number; model?: string | object }[] },
  inputSize: number,
): string {
  // an inline equation model (config layers[i].model as an object) is fingerprinted by its JSON
  const layers = cfg.layers.map((l) => `${typeof l.model === 'object' ? JSON.stringify(l.model) : l.model ?? 'default'}:${l.size}`).join(',');
  return `rule=${cfg.rule};mode=${cfg.mode ?? 'spiking'};in=${inputSize};layers=${layers}`;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

function byteSwap32(buf: Buffer, start: number, length: number): void {
  buf.subarray(start, start + length).swap32();
}
