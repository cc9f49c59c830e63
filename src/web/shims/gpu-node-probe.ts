/**
 * Browser stand-in for src/backend/gpu/node-probe.ts (src/web/build.ts swaps it in): a page asks
 * `navigator.gpu` itself, so there is no Dawn child process to probe.
 */
import type * as NodeProbe from '../../backend/gpu/node-probe.js';

export const probeWebGpuAdapter: typeof NodeProbe.probeWebGpuAdapter = async () => ({ error: 'the Dawn probe runs only in Node' });

export const gpuDeviceNodes: typeof NodeProbe.gpuDeviceNodes = () => null;

export const noGpuDevice: typeof NodeProbe.noGpuDevice = () => null;
