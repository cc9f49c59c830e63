/**
 * The checkpoint format: everything needed to continue a run bit for bit — weights, optimiser
 * state, RNG states, epoch/batch position and free JSON metadata — as bytes. No file system and no
 * Node built-ins, so pages use it too (the browser bundle); src/checkpoint.ts adds the files.
 *
 * Layout (little-endian):
 *   bytes 0..7    magic "SIGPCKPT"
 *   bytes 8..11   format version (u32)
 *   bytes 12..15  header length H in bytes (u32)
 *   next H bytes  header: UTF-8 JSON (CheckpointHeader), space-padded to a multiple of 4
 *   payload       the float32 tensors, concatenated in header order
 *   last 32 bytes SHA-256 of everything before it
 *
 * Decoding refuses a wrong magic (not a sigprop checkpoint), a newer format version, a truncated
 * body or a bad checksum, each with a message naming the source.
 */
import { SigpropError } from './errors.js';
import type { RngState } from './rng.js';
import { sha256 } from './sha256.js';

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
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = json.length + ((4 - (json.length % 4)) % 4); // space-padded to a multiple of 4
  const payloadBytes = offset * 4;
  const total = PREFIX_BYTES + headerBytes + payloadBytes + DIGEST_BYTES;
  const buf = new Uint8Array(total);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < CHECKPOINT_MAGIC.length; i++) buf[i] = CHECKPOINT_MAGIC.charCodeAt(i);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, headerBytes, true);
  buf.set(json, PREFIX_BYTES);
  buf.fill(0x20, PREFIX_BYTES + json.length, PREFIX_BYTES + headerBytes);
  const payload = new Float32Array(buf.buffer, PREFIX_BYTES + headerBytes, offset);
  for (let i = 0; i < entries.length; i++) payload.set(entries[i][1].data, tensors[i].offset);
  if (!isLittleEndian()) byteSwap32(buf, PREFIX_BYTES + headerBytes, payloadBytes);
  buf.set(sha256(buf.subarray(0, total - DIGEST_BYTES)), total - DIGEST_BYTES);
  return buf;
}

/**
 * Parse checkpoint bytes. `source` names the file in messages. Throws CheckpointError for a
 * foreign file, an unsupported version, truncation or a checksum mismatch.
 */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const buf = bytes;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const latin1 = (a: number, b: number) => String.fromCharCode(...buf.subarray(a, b));
  if (buf.length < 8 || latin1(0, 8) !== CHECKPOINT_MAGIC) {
    throw new CheckpointError(`${source} is not a sigprop checkpoint (its first bytes are not "${CHECKPOINT_MAGIC}"); pass a checkpoint.ckpt file written by sigprop`);
  }
  if (buf.length < PREFIX_BYTES + DIGEST_BYTES) {
    throw new CheckpointError(`${source} is truncated (${buf.length} bytes); the file was cut off — use another checkpoint or rerun`);
  }
  const version = view.getUint32(8, true);
  if (version > CHECKPOINT_VERSION || version < 1) {
    throw new CheckpointError(`${source} has checkpoint format version ${version}, but this sigprop reads version ${CHECKPOINT_VERSION}; use the sigprop version that wrote it`);
  }
  const headerBytes = view.getUint32(12, true);
  if (PREFIX_BYTES + headerBytes + DIGEST_BYTES > buf.length) {
    throw new CheckpointError(`${source} is truncated (header says ${headerBytes} header bytes, file has ${buf.length} bytes in all); use another checkpoint or rerun`);
  }
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes))) as CheckpointHeader;
  } catch {
    throw new CheckpointError(`${source} is corrupt (its header is not valid JSON); use another checkpoint or rerun`);
  }
  const nValues = (header.tensors ?? []).reduce((a, t) => Math.max(a, t.offset + t.length), 0);
  const expected = PREFIX_BYTES + headerBytes + nValues * 4 + DIGEST_BYTES;
  if (buf.length !== expected) {
    throw new CheckpointError(`${source} is ${buf.length < expected ? 'truncated' : 'corrupt'}: it has ${buf.length} bytes but its header describes ${expected}; use another checkpoint or rerun`);
  }
  const digest = sha256(buf.subarray(0, buf.length - DIGEST_BYTES));
  const stored = buf.subarray(buf.length - DIGEST_BYTES);
  if (digest.some((b, i) => b !== stored[i])) {
    throw new CheckpointError(`${source} is corrupt: its SHA-256 checksum does not match its contents; use another checkpoint or rerun`);
  }
  const payloadStart = PREFIX_BYTES + headerBytes;
  const payload = buf.slice(payloadStart, payloadStart + nValues * 4); // aligned copy
  if (!isLittleEndian()) byteSwap32(payload, 0, payload.length);
  const all = new Float32Array(payload.buffer, payload.byteOffset, nValues);
  const tensors: Record<string, SavedTensor> = {};
  for (const t of header.tensors) tensors[t.name] = { shape: t.shape, data: all.slice(t.offset, t.offset + t.length) };
  return { epoch: header.epoch, batch: header.batch, architecture: header.architecture, rng: header.rng, meta: header.meta ?? {}, tensors };
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

/** Reverse the byte order of each 4-byte word in buf[start, start + length). */
function byteSwap32(buf: Uint8Array, start: number, length: number): void {
  for (let i = start; i + 3 < start + length; i += 4) {
    const a = buf[i], b = buf[i + 1];
    buf[i] = buf[i + 3]; buf[i + 1] = buf[i + 2]; buf[i + 2] = b; buf[i + 3] = a;
  }
}
