/**
 * Checkpoint files: the format (src/checkpoint-format.ts, re-exported here) written atomically
 * (temp file, then rename, src/io.ts) and read back with the file named in every message; loading
 * can also refuse a checkpoint of a different architecture.
 */
import { existsSync, readFileSync } from 'node:fs';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint-format.js';
import { fileSystemError, writeFileAtomic } from './io.js';

export * from './checkpoint-format.js';

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

