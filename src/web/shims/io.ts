/**
 * Browser stand-in for src/io.ts (src/web/build.ts swaps it in): a page has no file system, so
 * the writers throw a FileSystemError that says so; toCsv works as in Node.
 */
import { SigpropError } from '../../errors.js';

export { toCsv } from '../../csv.js';

export class FileSystemError extends SigpropError {
  constructor(message: string, readonly path: string, readonly errno?: string) {
    super(message, 'io');
    this.name = 'FileSystemError';
  }
}

function noFiles(path: string, what: string): never {
  throw new FileSystemError(`${what} ${path}: there is no file system in the browser; use the in-memory form (toJSON, toCsv, encodeCheckpoint) and a Blob download`, path);
}

export function fileSystemError(err: unknown): unknown {
  return err;
}
export function ensureDir(dir: string): string {
  return noFiles(dir, 'cannot create folder');
}
export function createNewDir(dir: string): boolean {
  return noFiles(dir, 'cannot create folder');
}
export function writeFileAtomic(path: string): void {
  noFiles(path, 'cannot write');
}
export function writeJsonAtomic(path: string): void {
  noFiles(path, 'cannot write');
}
