/**
 * Running experiment scripts (experiments/<name>.ts) from the CLI: `sigprop bench` and
 * `sigprop run <script-name>`. In a source checkout the .ts file runs through tsx; in the
 * installed package the compiled .js file runs with node.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The experiments/ folder next to this build (source tree or dist/). */
export function experimentsDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'experiments');
}

/** Path of experiments/<name>.ts or .js, or undefined. Only plain names (no path parts). */
export function findExperimentScript(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return undefined;
  for (const ext of ['.js', '.ts']) {
    const p = join(experimentsDir(), `${name}${ext}`);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Names of the runnable experiment scripts (files not starting with '_'). */
export function experimentScripts(): string[] {
  const dir = experimentsDir();
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('_'))
    .map((f) => f.replace(/\.(ts|js)$/, ''));
  return [...new Set(names)].sort();
}

/** The tsx loader as an absolute URL (so scripts run from any working directory). */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** Run a script with arguments, output passed through; resolves to its exit code. */
export function runScript(path: string, args: readonly string[]): Promise<number> {
  const nodeArgs = path.endsWith('.ts') ? ['--import', tsxLoader(), path, ...args] : [path, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}
