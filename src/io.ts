/**
 * File output helpers. Nothing the library writes is ever left half-written: every file is
 * written to a temporary sibling and renamed into place (rename is atomic on one filesystem).
 *
 * Every folder the library creates goes through `ensureDir`, and every file through
 * `writeFileAtomic`; what a user can cause or fix (a file where a folder is needed, a full disk,
 * no permission, a read-only or virtual file system) becomes a FileSystemError (a SigpropError)
 * naming the path, the problem and the fix, never an "internal error".
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SigpropError } from './errors.js';

/** A file-system failure a user can cause or fix. `errno` is Node's code, e.g. 'ENOSPC'. */
export class FileSystemError extends SigpropError {
  constructor(message: string, readonly path: string, readonly errno?: string) {
    super(message, 'io');
    this.name = 'FileSystemError';
  }
}

/** What a user can do about each error code (the message names the path before it). */
const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device (the disk is full); free some space or write to another disk',
  EDQUOT: 'the disk quota is used up; free some space or write to another disk',
  EACCES: 'permission denied; choose a folder you can write to',
  EPERM: 'operation not permitted; choose a folder you can write to',
  EROFS: 'the file system is read-only; choose a writable folder',
  EISDIR: 'it is a folder, not a file; give a file name',
  ENOTDIR: 'a part of the path is a file, not a folder; choose another path',
  EEXIST: 'a file of that name is where a folder is needed; choose another path',
  ENAMETOOLONG: 'the name is too long; choose a shorter path',
  ELOOP: 'the path has too many levels of symbolic links',
};

const codeOf = (err: unknown): string | undefined => {
  const c = (err as NodeJS.ErrnoException | null)?.code;
  return typeof c === 'string' ? c : undefined;
};

/** An error from a system call (has `syscall`), as opposed to a programming error. */
const isSystemError = (err: unknown): boolean => typeof (err as NodeJS.ErrnoException | null)?.syscall === 'string';

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** The nearest ancestor of `p` (or `p` itself) that exists and is not a folder, if any. */
function fileInTheWay(p: string): string | undefined {
  for (let q = resolve(p); ; q = dirname(q)) {
    const st = statOrUndefined(q);
    if (st) return st.isDirectory() ? undefined : q;
    if (dirname(q) === q) return undefined;
  }
}

/**
 * Turn a Node file-system error met while trying to `action` (e.g. 'write', 'create folder')
 * `path` into a FileSystemError naming the path, the problem and the fix. SigpropErrors and
 * errors that did not come from a system call (programming errors) are returned unchanged;
 * callers rethrow the result.
 */
export function fileSystemError(err: unknown, path: string, action: string): unknown {
  if (err instanceof SigpropError || !isSystemError(err)) return err;
  const code = codeOf(err);
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    const file = fileInTheWay(code === 'EEXIST' ? path : dirname(path));
    if (file) return new FileSystemError(`cannot ${action} ${path}: ${file} is a file, not a folder; choose another path`, path, code);
  }
  const reason = code ? REASONS[code] : undefined;
  const why = reason ?? (err as Error).message;
  return new FileSystemError(`cannot ${action} ${path}: ${why}${code && reason ? ` (${code})` : ''}`, path, code);
}

/**
 * Create the folder `dir` and its missing parents, one component at a time, and make sure it is
 * a folder. Throws a FileSystemError naming the path when a part of it is a file, when a parent
 * refuses new folders (e.g. /proc, where Node's recursive mkdir never returns), or on any other
 * file-system problem. Returns the absolute path.
 */
export function ensureDir(dir: string): string {
  const abs = resolve(dir);
  const st = statOrUndefined(abs);
  if (st?.isDirectory()) return abs;
  // Walk up to the nearest existing ancestor; it must be a folder.
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    let s: Stats;
    try {
      s = statSync(p);
    } catch (err) {
      const code = codeOf(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fileSystemError(err, abs, 'create folder');
      if (dirname(p) === p) throw fileSystemError(err, abs, 'create folder');
      missing.push(p);
      continue;
    }
    if (!s.isDirectory()) {
      throw new FileSystemError(`cannot create folder ${abs}: ${p} is a file, not a folder; choose another path`, abs, p === abs ? 'EEXIST' : 'ENOTDIR');
    }
    break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'EEXIST' && statOrUndefined(p)?.isDirectory()) continue; // made by another process meanwhile
      if (code === 'ENOENT') {
        // The parent exists (it was checked or just made) yet refuses the new entry: a virtual
        // file system such as /proc or /sys.
        throw new FileSystemError(`cannot create folder ${abs}: ${dirname(p)} does not accept new folders (as on a virtual file system such as /proc or /sys); choose another path`, abs, code);
      }
      throw fileSystemError(err, abs, 'create folder');
    }
  }
  return abs;
}

/**
 * Create the folder `dir`, which must not exist yet (its parent is made with ensureDir). Returns
 * false when something of that name exists already, so callers can claim a fresh name by trying
 * the next one; other problems are FileSystemErrors naming the path.
 */
export function createNewDir(dir: string): boolean {
  ensureDir(dirname(resolve(dir)));
  try {
    mkdirSync(dir);
    return true;
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return false;
    throw fileSystemError(err, dir, 'create folder');
  }
}

let counter = 0;

/** Write `data` to `path` atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  ensureDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // keep the original error
    }
    if (codeOf(err) === 'ENOENT' && statOrUndefined(dir)?.isDirectory()) {
      throw new FileSystemError(`cannot write ${path}: the folder ${dir} does not accept new files (as on a virtual file system such as /proc or /sys); choose another path`, path, 'ENOENT');
    }
    throw fileSystemError(err, path, 'write');
  }
}

/** Write a value as pretty JSON atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export { toCsv } from './csv.js';
