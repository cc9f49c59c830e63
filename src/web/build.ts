/**
 * The browser build: src/browser.ts bundled by esbuild for pages (platform 'browser', ESM), and
 * the page script of `sigprop serve` (src/web/page/app.ts), which imports the bundle as
 * ./sigprop.js instead of including it a second time.
 *
 * The few Node-only modules on the library's paths are swapped for browser stand-ins
 * (BROWSER_SHIMS); any other Node built-in a browser path imports makes the build fail, since
 * esbuild cannot resolve `node:` modules for the browser.
 *
 *   npm run build:web        writes dist-web/sigprop.js and dist-web/kernels.wasm beside it
 *   buildBrowserBundle()     the same bundle in memory (what `sigprop serve` serves)
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { SigpropError } from '../errors.js';
import { ensureDir, writeFileAtomic } from '../io.js';

/** The package root: the nearest folder above this file whose package.json is sigprop's. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'sigprop') return dir;
    dir = dirname(dir);
  }
  throw new SigpropError(`browser build: no sigprop package.json above ${fileURLToPath(import.meta.url)}`, 'build');
}

/** The package root (repository checkout or installed package). */
export const ROOT = packageRoot();
/** Bundled from the TypeScript sources in a checkout, from the compiled dist/ in an installed package. */
const FROM_SOURCE = fileURLToPath(import.meta.url).endsWith('.ts');
const CODE_BASE = FROM_SOURCE ? ROOT : join(ROOT, 'dist');
const CODE_EXT = FROM_SOURCE ? '.ts' : '.js';

/** The file of module `name` (package-relative, no extension, e.g. 'src/io') in this installation. */
export function modulePath(name: string): string {
  return join(CODE_BASE, name + CODE_EXT);
}

/** Node-only modules (package-relative, without extension) and the browser stand-ins the bundle uses instead. */
export const BROWSER_SHIMS: Readonly<Record<string, string>> = {
  'src/io': 'src/web/shims/io',
  'src/lazy-mathjs': 'src/web/shims/lazy-mathjs',
  'src/backend/wasm/threads': 'src/web/shims/threads',
  'src/backend/wasm/kernel-file': 'src/web/shims/kernel-file',
  'src/backend/gpu/node-probe': 'src/web/shims/gpu-node-probe',
};

/** Whether the optional gpu.js package can be bundled; without it the gpu backend is a stub that says so. */
function hasGpuJs(): boolean {
  try {
    createRequire(join(ROOT, 'package.json')).resolve('gpu.js');
    return true;
  } catch {
    return false;
  }
}

/** BROWSER_SHIMS, plus the stub gpu backend where gpu.js is not installed. */
function browserShims(): Readonly<Record<string, string>> {
  return hasGpuJs() ? BROWSER_SHIMS : { ...BROWSER_SHIMS, 'src/backend/gpu/backend': 'src/web/shims/gpu-missing' };
}

/** Where kernels.wasm is built (`npm run build:wasm`). */
export const KERNELS_WASM = join(ROOT, 'src/backend/wasm/build/kernels.wasm');

/** The page's static files (index.html, style.css). */
export const PAGE_DIR = join(ROOT, 'src/web/page');

/**
 * The esbuild plugin of every browser bundle (the library's, the page's, and test pages'): swaps the
 * Node-only modules for their stand-ins (BROWSER_SHIMS).
 */
export function browserShimPlugin(): Plugin {
  const shims = browserShims();
  return {
    name: 'sigprop-browser-shims',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.importer) return undefined;
        const path = resolve(dirname(args.importer), args.path).replace(/\.(js|ts)$/, '');
        const shim = shims[relative(CODE_BASE, path).split('\\').join('/')];
        return shim ? { path: modulePath(shim) } : undefined;
      });
    },
  };
}

/** The page script imports the library from src/browser.ts; in the build that is ./sigprop.js. */
function pageExternalPlugin(): Plugin {
  return {
    name: 'sigprop-page-external',
    setup(b) {
      b.onResolve({ filter: /browser\.js$/ }, (args) => {
        const path = resolve(dirname(args.importer), args.path);
        return path === join(CODE_BASE, 'src/browser.js') ? { path: './sigprop.js', external: true } : undefined;
      });
    },
  };
}

export interface BrowserBuildOptions {
  /**
   * Minify (default true): whitespace and comments only. gpu.js compiles the gpu backend's kernels
   * from their JavaScript source text, which renamed identifiers and rewritten syntax would break.
   */
  minify?: boolean;
  /** Include an inline source map (default false). */
  sourcemap?: boolean;
}

async function bundle(entry: string, plugins: Plugin[], opts: BrowserBuildOptions): Promise<string> {
  try {
    const r = await build({
      entryPoints: [modulePath(entry)],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      minifyWhitespace: opts.minify ?? true,
      sourcemap: opts.sourcemap ? 'inline' : false,
      logLevel: 'silent',
      legalComments: 'none',
      plugins,
      absWorkingDir: ROOT,
    });
    return r.outputFiles[0].text;
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    const detail = errors?.length
      ? errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('; ')
      : (err as Error).message;
    throw new SigpropError(`browser build of ${entry} failed: ${detail}`, 'build');
  }
}

/** The library bundle (src/browser.ts) as ESM source text. */
export function buildBrowserBundle(opts: BrowserBuildOptions = {}): Promise<string> {
  return bundle('src/browser', [browserShimPlugin()], opts);
}

/** The page script of `sigprop serve` (src/web/page/app.ts), importing ./sigprop.js. */
export function buildPageScript(opts: BrowserBuildOptions = {}): Promise<string> {
  return bundle('src/web/page/app', [pageExternalPlugin(), browserShimPlugin()], opts);
}

/** Write dist-web/sigprop.js and copy kernels.wasm beside it; returns the files written. */
export async function writeBrowserBuild(outDir = join(ROOT, 'dist-web'), opts: BrowserBuildOptions = {}): Promise<string[]> {
  const code = await buildBrowserBundle(opts);
  ensureDir(outDir);
  const files = [join(outDir, 'sigprop.js')];
  writeFileAtomic(files[0], code);
  if (existsSync(KERNELS_WASM)) {
    writeFileAtomic(join(outDir, 'kernels.wasm'), readFileSync(KERNELS_WASM));
    files.push(join(outDir, 'kernels.wasm'));
  }
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeBrowserBuild().then(
    (files) => {
      for (const f of files) process.stdout.write(`build:web: wrote ${relative(process.cwd(), f)}\n`);
      if (files.length < 2) process.stdout.write('build:web: kernels.wasm is not built (npm run build:wasm); the bundle falls back to the reference backend\n');
    },
    (err: Error) => {
      process.stderr.write(`build:web: ${err.message}\n`);
      process.exit(1);
    },
  );
}
