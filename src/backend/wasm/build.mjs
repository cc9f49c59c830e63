#!/usr/bin/env node
// Build the wasm backend's kernels: AssemblyScript sources in ./assembly -> ./build/kernels.wasm.
// Run by `npm run build:wasm` and by `npm install` / `npm ci` (the package's `prepare` script).
// Flags: 128-bit SIMD, atomics, an imported shared memory (so worker threads can share it),
// the stub runtime (JavaScript owns allocation), release optimisation without assertions.
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, 'assembly', 'index.ts');
const outDir = join(here, 'build');
const outFile = join(outDir, 'kernels.wasm');
// Compile to a temporary file and rename it into place, so a process loading the kernels while a
// rebuild runs never reads a half-written file.
const tmpFile = join(outDir, `.kernels.${process.pid}.wasm`);

// --if-available (used by `prepare`): a missing compiler (production install without dev
// dependencies) is a warning, not a failed install; the wasm backend then reports the missing build.
const ifAvailable = process.argv.includes('--if-available');
let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch (err) {
  if (ifAvailable) {
    console.warn('build:wasm: skipped (assemblyscript is not installed); backend "wasm" will be unavailable until `npm run build:wasm`.');
    process.exit(0);
  }
  console.error(
    'build:wasm: the AssemblyScript compiler (npm package "assemblyscript", a devDependency) is not installed.\n' +
      'Install the dev dependencies (npm install) and run `npm run build:wasm` again. ' +
      `(${err instanceof Error ? err.message : err})`,
  );
  process.exit(1);
}

mkdirSync(outDir, { recursive: true });
const args = [
  entry,
  '--enable', 'simd,threads',
  '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
  '--runtime', 'stub',
  '-O3', '--noAssert', '--use', 'abort=',
  '--outFile', tmpFile,
];
const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
if (error) {
  rmSync(tmpFile, { force: true });
  console.error(`build:wasm: compiling ${relative(process.cwd(), entry)} failed: ${error.message}`);
  process.exit(1);
}
renameSync(tmpFile, outFile);
console.log(`build:wasm: wrote ${relative(process.cwd(), outFile)} (${statSync(outFile).size} bytes)`);
