/**
 * The gpu backend's parity checks on a real device, in Node:
 *
 *   node --import tsx experiments/gpu-check.ts [webgpu|headlessgl|cpu]   (default webgpu)
 *
 * Runs the cases of the browser test (test/fixtures/gpu-browser-entry.ts: every kernel against
 * `reference` with equal inputs, float32 tolerances; the backend's live buffers over 100 more steps;
 * three rules trained three batches against `reference`) on the gpu backend in Node, where WebGPU
 * is Dawn (the `webgpu` package) on the machine's Vulkan driver: what issue 17 asks to run where a
 * GPU is lent. Prints one JSON line: { mode, report, engine, ok } (ok: every case agrees, no
 * buffer leaked, every rule within 1e-3 of reference); exits 1 when not ok.
 *
 * The fixture is written for a page. The few browser globals it touches while it loads (the WebGL
 * context prototypes it counts textures on, `window` to publish its functions) and once at the
 * start of a run (`document`, for the WebGL renderer's name) are stubbed only for those moments:
 * the backend tells Node from a browser by `window`, and must see Node when it opens the device.
 */
import { pathToFileURL } from 'node:url';
import type { EngineCaseResult, GpuPageReport } from '../test/fixtures/gpu-browser-entry.js';

const MODES = ['webgpu', 'headlessgl', 'cpu'] as const;
type Mode = (typeof MODES)[number];
type Checks = {
  runGpuChecks(mode: string): Promise<GpuPageReport>;
  runEngineChecks(mode: string): Promise<EngineCaseResult[]>;
};

const g = globalThis as Record<string, unknown>;

/** Load the fixture with the globals it reads at load time; returns its two entry points. */
async function loadChecks(): Promise<Checks> {
  class Ctx {
    createTexture(): null {
      return null;
    }
    deleteTexture(): void {}
  }
  g.WebGL2RenderingContext ??= class extends Ctx {};
  g.WebGLRenderingContext ??= class extends Ctx {};
  g.window = globalThis;
  try {
    await import('../test/fixtures/gpu-browser-entry.js');
    return { runGpuChecks: g.runGpuChecks as Checks['runGpuChecks'], runEngineChecks: g.runEngineChecks as Checks['runEngineChecks'] };
  } finally {
    delete g.window;
  }
}

export async function gpuCheck(mode: Mode = 'webgpu'): Promise<{ mode: Mode; ok: boolean; report: GpuPageReport; engine: EngineCaseResult[] }> {
  const checks = await loadChecks();
  // run() reads document once, before its first await (the WebGL renderer's name: none here)
  g.document = { createElement: () => ({ getContext: () => null }) };
  let pending: Promise<GpuPageReport>;
  try {
    pending = checks.runGpuChecks(mode);
  } finally {
    delete g.document;
  }
  const report = await pending;
  const engine = report.error ? [] : await checks.runEngineChecks(mode);
  const ok = !report.error && report.cases.length > 0 && report.cases.every((c) => c.ok) && report.liveAfter === report.liveBefore &&
    engine.length > 0 && engine.every((e) => !e.error && e.relDiff <= 1e-3);
  return { mode, ok, report, engine };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mode = (process.argv[2] ?? 'webgpu') as Mode;
  if (!MODES.includes(mode)) {
    console.error(`gpu-check: mode "${mode}" is not one of ${MODES.join(', ')}`);
    process.exit(2);
  }
  gpuCheck(mode).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(r.ok ? 0 : 1);
    },
    (err) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exit(1);
    },
  );
}
