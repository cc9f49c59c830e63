/**
 * The Node side of the gpu backend's device probe: asks the `webgpu` package (Dawn) for an adapter
 * in a child process. Browser bundles use src/web/shims/gpu-node-probe.ts instead (no Node built-ins there).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** What a WebGPU adapter says of itself (GPUAdapterInfo), as the probe reports it. */
export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** The probe's answer: the adapter, null when none answered, or why the probe could not run. */
export type WebGpuProbe = AdapterInfo | null | { error: string };


/** The script a child Node process runs to ask Dawn for an adapter; prints JSON on stdout. */
function webGpuProbeScript(moduleUrl: string): string {
  return `import(${JSON.stringify(moduleUrl)}).then(async (m) => {
  const navigator = { gpu: m.create([]) };
  const a = await navigator.gpu.requestAdapter();
  const i = a && a.info ? a.info : {};
  process.stdout.write(JSON.stringify(a ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description } : null));
  process.exit(0);
}, (e) => { process.stdout.write(JSON.stringify({ error: String((e && e.message) || e) })); process.exit(0); });`;
}

/**
 * Ask the `webgpu` package (Dawn) for an adapter, as its README does (`navigator = { gpu: create([]) }`,
 * kept local rather than set on globalThis). The probe runs in a child Node process: Dawn writes its
 * adapter diagnostics (Vulkan warnings with native source lines) straight to the process's stderr,
 * which would read like a stack trace above the backend's message.
 */
export async function probeWebGpuAdapter(timeoutMs = 15_000): Promise<WebGpuProbe> {
  type Info = WebGpuProbe;
  try {
    const url = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
    return await new Promise<Info>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', webGpuProbeScript(url)], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', () => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(out) as Info);
        } catch {
          reject(new Error(`the probe printed no result${out ? `: ${out.slice(0, 200)}` : ''}`));
        }
      });
    });
  } catch (err) {
    return { error: `could not be probed: ${(err as Error).message.split('\n')[0]}` };
  }
}

/**
 * GPU device nodes of this machine (Linux: /dev/dri/renderD*, /dev/nvidia0…), or null where that is
 * not how GPUs show (other systems): a quick "is there any GPU" before probing Dawn.
 */
export function gpuDeviceNodes(): string[] | null {
  if (process.platform !== 'linux') return null;
  const nodes: string[] = [];
  if (existsSync('/dev/dri')) for (const f of readdirSync('/dev/dri')) if (f.startsWith('renderD')) nodes.push(`/dev/dri/${f}`);
  if (existsSync('/dev')) for (const f of readdirSync('/dev')) if (/^nvidia\d+$/.test(f)) nodes.push(`/dev/${f}`);
  return nodes;
}

/** Why there is certainly no GPU here (Linux without any GPU device node), else null (there may be one). */
export function noGpuDevice(): string | null {
  const nodes = gpuDeviceNodes();
  return nodes && nodes.length === 0 ? 'no GPU device on this machine (no /dev/dri/renderD* or /dev/nvidia*)' : null;
}
