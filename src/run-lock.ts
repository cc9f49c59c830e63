/**
 * Run-folder ownership. A run (or a resume) owns its folder through a lock file, `run.lock`,
 * created with an exclusive open (`wx`) before anything else is written there and removed when
 * the run ends (also on process exit, e.g. a second Ctrl-C). It holds the owner's pid, host name,
 * start time and command line. A second run on the same folder is refused with a message naming
 * the owner; a lock left by a process that no longer runs on this host (killed, crashed) is stale
 * and is replaced. A lock from another host cannot be checked and is respected: the message says
 * which file to delete when no run uses it any more.
 *
 * Default run folders (`<outDir>/<name>-<UTC time>`) are claimed with an exclusive mkdir, adding
 * `-2`, `-3`, ... when the name is taken, so runs started within the same second never share one.
 */
import { closeSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SigpropError } from './errors.js';
import { createNewDir, ensureDir, fileSystemError } from './io.js';

/** Name of the lock file inside a run folder. */
export const LOCK_FILE = 'run.lock';

/** Contents of run.lock. */
export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Random id: tells this lock from another one the same process writes later. */
  token: string;
  command?: string;
}

export interface RunLock {
  readonly dir: string;
  readonly path: string;
  /** True when taking the lock created the run folder. */
  readonly createdDir: boolean;
  /** Set when a stale lock was replaced: what it was and why it was stale. */
  readonly replacedStale?: string;
  /** Remove the lock (when still ours); `removeDir`: also remove the folder if this lock created it and it is empty. */
  release(opts?: { removeDir?: boolean }): void;
}

/** An unreadable lock younger than this may still be being written by its owner. */
const UNREADABLE_GRACE_MS = 10_000;

/** Locks this process holds, by path (removed on process exit). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function removeIfOurs(path: string, token: string): void {
  try {
    if (readLock(path)?.token === token) unlinkSync(path);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [path, token] of held) removeIfOurs(path, token);
  });
}

function readLock(path: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof v?.pid === 'number' && typeof v.hostname === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Whether process `pid` exists on this host (EPERM: it exists but belongs to another user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why the lock at `path` is stale, or undefined when its owner may still be running. */
function staleReason(path: string, info: LockInfo | undefined): string | undefined {
  if (!info) {
    let age = 0;
    try {
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      return 'it is gone';
    }
    return age > UNREADABLE_GRACE_MS ? `it is unreadable and ${Math.round(age / 1000)} s old` : undefined;
  }
  if (info.hostname !== hostname()) return undefined;
  if (info.pid === process.pid) return held.get(path) === info.token ? undefined : `it was left by an earlier process with the same id ${info.pid}`;
  return pidAlive(info.pid) ? undefined : `process ${info.pid} that wrote it is no longer running`;
}

/** Create `dir` (and its parents) unless it exists; a file in its place is a user error. Returns whether it was created. */
function ensureFolder(dir: string, create: boolean): boolean {
  let isDir: boolean | undefined;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = undefined;
  }
  if (isDir === false) throw new SigpropError(`run folder ${dir} is a file, not a folder; choose another path for --run-dir`, 'run');
  if (isDir) return false;
  if (!create) throw new SigpropError(`run folder ${dir} does not exist; pass the folder of a run started by sigprop run`, 'run');
  ensureDir(dir);
  return true;
}

/**
 * Claim a new folder `<parent>/<base>` (or `<base>-2`, `<base>-3`, ... when taken) with an
 * exclusive mkdir. Returns its path.
 */
export function createUniqueFolder(parent: string, base: string): string {
  ensureFolder(parent, true);
  for (let i = 1; i <= 10_000; i++) {
    const dir = join(parent, i === 1 ? base : `${base}-${i}`);
    if (createNewDir(dir)) return dir;
  }
  throw new SigpropError(`cannot find a free run folder name ${join(parent, base)}-N; clean up ${parent} or pass --run-dir`, 'run');
}

/**
 * Take the lock of run folder `dir`, creating the folder when `create` (a new run; `createdDir`:
 * the caller has just created it, see createUniqueFolder). Throws a SigpropError when another
 * live run holds it, when `dir` is a file or missing (resume), or when it cannot be written.
 */
export function acquireRunLock(dir: string, opts: { create: boolean; createdDir?: boolean }): RunLock {
  const createdDir = ensureFolder(dir, opts.create) || opts.createdDir === true;
  const path = join(dir, LOCK_FILE);
  let replacedStale: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), token: randomBytes(8).toString('hex'), command: process.argv.slice(1).join(' ') };
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileSystemError(err, path, 'create run lock');
      const other = readLock(path);
      const why = staleReason(path, other);
      if (why === undefined || attempt > 0) throw inUse(dir, path, other);
      try {
        unlinkSync(path);
      } catch {
        // another process replaced it first; the next open decides
      }
      replacedStale = `replaced the stale lock ${path}: ${why}`;
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(info, null, 2)}\n`);
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(path);
      } catch {
        // nothing to clean up
      }
      throw fileSystemError(err, path, 'write run lock');
    }
    closeSync(fd);
    held.set(path, info.token);
    installExitHook();
    return {
      dir,
      path,
      createdDir,
      replacedStale,
      release(o = {}) {
        if (held.get(path) !== info.token) return;
        held.delete(path);
        removeIfOurs(path, info.token);
        if (o.removeDir && createdDir) {
          try {
            rmdirSync(dir); // only when empty
          } catch {
            // something else is in it: leave it
          }
        }
      },
    };
  }
}

function inUse(dir: string, path: string, other: LockInfo | undefined): SigpropError {
  const owner = other
    ? `process ${other.pid}${other.pid === process.pid && other.hostname === hostname() ? ' (this process)' : ''} on ${other.hostname}, since ${other.startedAt}${other.command ? `: ${other.command}` : ''}`
    : `lock ${path} is being written`;
  return new SigpropError(
    `run folder ${dir} is in use by another run (${owner}); wait for that run to end or use another folder. If no run uses it any more, delete ${path}`,
    'run',
  );
}
