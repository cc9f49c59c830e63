// Importing the model and surrogate registries (and so every CLI start) must not load mathjs
// (1–2 s): it is loaded on first use, when an equation model or a custom surrogate is defined.
// Runs in a child process, where a module resolve hook logs every ESM load of mathjs and
// require.cache shows the lazy (require) load.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');

function runChild(script: string): { stdout: string; esmLoads: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'sigprop-lazy-mathjs-'));
  const log = join(dir, 'esm-loads.txt');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  if (r.url.includes('/node_modules/mathjs/')) appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}
`);
  const register = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify('file://' + hooks)})`;
  const prelude = `import { createRequire } from 'node:module';
const req = createRequire(${JSON.stringify(repo + '/')});
const loaded = () => Object.keys(req.cache).some((k) => k.includes('/node_modules/mathjs/'));
`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', register, '--input-type=module', '-e', prelude + script], { cwd: repo, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return { stdout: r.stdout.trim(), esmLoads: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
}

describe('mathjs is loaded lazily', () => {
  it('importing the model and surrogate registries does not load it; defining an equation model does', () => {
    const { stdout, esmLoads } = runChild(`
const models = await import('./models/registry.ts');
await import('./surrogates/registry.ts');
const before = loaded();
models.defineEquationModel({ name: 'lazyLif', parameters: { beta: 0.9 }, equations: 'u = beta*u + I', threshold: 'u > 1', reset: 'u = 0' });
console.log(JSON.stringify({ before, after: loaded() }));
`);
    expect(esmLoads).toEqual([]);
    expect(JSON.parse(stdout)).toEqual({ before: false, after: true });
  }, 30_000);

  it('a custom surrogate loads it on first use', () => {
    const { stdout, esmLoads } = runChild(`
const s = await import('./surrogates/registry.ts');
const before = loaded();
s.getSurrogate('custom:f=0.5+atan(k*x)/pi;k=3');
console.log(JSON.stringify({ before, after: loaded() }));
`);
    expect(esmLoads).toEqual([]);
    expect(JSON.parse(stdout)).toEqual({ before: false, after: true });
  }, 30_000);
});
