/**
 * createBackend('auto') falling back from wasm to reference: never silent. The wasm factory is
 * replaced by one that fails as the real loader does when kernels.wasm is not built.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBackend, registerBackend } from '../src/backend/registry.js';
import type { BackendFactory } from '../src/backend/backend.js';
import { SigpropError } from '../src/errors.js';

const missing = () => {
  throw new SigpropError(
    'wasm backend: the compiled kernels are missing (looked for /nowhere/kernels.wasm). ' +
      'Run `npm run build:wasm` (it runs automatically on `npm install`), or use backend "reference".',
    'backend',
  );
};

describe("createBackend('auto') without the wasm kernels", () => {
  // what src/backend/registry.ts registers
  const real: BackendFactory = async (opts) => (await import('../src/backend/wasm/backend.js')).createWasmBackend(opts);
  beforeEach(() => registerBackend('wasm', missing));
  afterEach(() => registerBackend('wasm', real));

  it('runs on reference and says so on one line, naming the reason, the slow-down and the fix', async () => {
    const lines: string[] = [];
    const be = await createBackend('auto', { onFallback: (m) => lines.push(m) });
    expect(be.name).toBe('reference');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(lines[0]).toMatch(/^backend "auto" runs on "reference", about 14x slower, because "wasm" could not start: wasm backend: the compiled kernels are missing/);
    expect(lines[0]).toContain('npm run build:wasm');
  });

  it('adds the build command when the failure does not name it', async () => {
    registerBackend('wasm', () => {
      throw new Error('WebAssembly.Memory(): could not allocate memory');
    });
    const lines: string[] = [];
    await createBackend('auto', { onFallback: (m) => lines.push(m) });
    expect(lines[0]).toMatch(/could not allocate memory; build it with `npm run build:wasm`$/);
  });

  it('by default writes `warning: ...` to stderr once per process; onFallback false silences it', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await createBackend('auto', { onFallback: false });
      expect(spy).not.toHaveBeenCalled();
      await createBackend('auto');
      await createBackend('auto', { threads: 2 });
      const written = spy.mock.calls.map((c) => String(c[0]));
      expect(written).toHaveLength(1);
      expect(written[0]).toMatch(/^warning: backend "auto" runs on "reference", about 14x slower, because "wasm" could not start: .*npm run build:wasm.*\n$/);
    } finally {
      spy.mockRestore();
    }
  });

  it('says nothing when wasm starts, or when a backend is named explicitly', async () => {
    registerBackend('wasm', real);
    const lines: string[] = [];
    const be = await createBackend('auto', { onFallback: (m) => lines.push(m) });
    expect(be.name).toBe('wasm');
    await (be as { dispose?: () => Promise<void> }).dispose?.();
    expect(await createBackend('reference', { onFallback: (m) => lines.push(m) })).toBeDefined();
    expect(lines).toEqual([]);
    registerBackend('wasm', missing);
    await expect(createBackend('wasm', { onFallback: (m) => lines.push(m) })).rejects.toThrow(/npm run build:wasm/);
    expect(lines).toEqual([]);
  });
});

describe("createBackend('auto', { preferGpu }): a hardware GPU first, one note where there is none", () => {
  // what src/backend/registry.ts registers for 'gpu' is replaced by stand-ins; restored after
  let realGpu: BackendFactory;
  beforeEach(async () => {
    const reg = await import('../src/backend/registry.js');
    realGpu = reg.backendFactory('gpu')!;
  });
  afterEach(() => registerBackend('gpu', realGpu));

  it('without a GPU: runs on wasm and says so in one `note` line (not a warning); without preferGpu the GPU is not tried', async () => {
    const asked: unknown[] = [];
    registerBackend('gpu', (opts) => {
      asked.push(opts);
      throw new SigpropError('no GPU device on this machine (no /dev/dri/renderD* or /dev/nvidia*)', 'gpu-unavailable');
    });
    const lines: [string, boolean | undefined][] = [];
    const be = await createBackend('auto', { preferGpu: true, onFallback: (m, serious) => lines.push([m, serious]) });
    expect(be.name).toBe('wasm');
    expect(asked).toEqual([{ threads: undefined, gpuMode: 'auto', hardwareOnly: true }]); // hardware only, never CPU mode
    expect(lines).toEqual([['backend "auto" runs on "wasm": no GPU device on this machine (no /dev/dri/renderD* or /dev/nvidia*)', false]]);
    await createBackend('auto', { onFallback: (m) => lines.push([m, undefined]) });
    expect(asked).toHaveLength(1);
  });

  it('with a GPU: runs there, silently', async () => {
    registerBackend('gpu', () => ({ name: 'gpu' }) as never);
    const lines: string[] = [];
    const be = await createBackend('auto', { preferGpu: true, onFallback: (m) => lines.push(m) });
    expect(be.name).toBe('gpu');
    expect(lines).toEqual([]);
  });

  it('the run loop asks for the GPU only for rule forms that train on asynchronous read-back', async () => {
    const { ruleHasAsyncForm } = await import('../src/learning/index.js');
    // BPTT's form covers LIF and synaptic layers only (the others' backward steps run on the host)
    const bptt = (model?: string) => ({ dataset: 'mnist', rule: 'bptt' as const, mode: 'spiking' as const, layers: [{ size: 5, ...(model ? { model } : {}) }, { size: 10 }] });
    expect(ruleHasAsyncForm('bptt', 'spiking', bptt())).toBe(true);
    expect(ruleHasAsyncForm('bptt', 'spiking', bptt('synaptic'))).toBe(true);
    expect(ruleHasAsyncForm('bptt', 'spiking', bptt('izhikevich'))).toBe(false);
    expect(ruleHasAsyncForm('sigprop', 'spiking')).toBe(true);
    expect(ruleHasAsyncForm('sigprop')).toBe(true); // the config default mode
    for (const [rule, mode] of [['sigprop', 'rate'], ['bp', 'rate'], ['fa', 'rate'], ['dfa', 'rate'], ['dfa', 'spiking'], ['pepita', 'spiking'], ['pepita', 'rate'], ['ff', 'rate'], ['ff', 'spiking'], ['bptt', 'spiking']] as const) expect(ruleHasAsyncForm(rule, mode), `${rule} ${mode}`).toBe(true);
    for (const [rule, mode] of [['sigprop', 'continuous'], ['nope', 'spiking']] as const) {
      expect(ruleHasAsyncForm(rule, mode), `${rule} ${mode}`).toBe(false);
    }
  });
});
