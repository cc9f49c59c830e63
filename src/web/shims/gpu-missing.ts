/**
 * Browser stand-in for src/backend/gpu/backend.ts when the optional gpu.js package is not installed
 * (src/web/build.ts swaps it in): the bundle then has no gpu backend, and asking for one says so.
 */
import { ParameterError } from '../../errors.js';
import type * as GpuBackendModule from '../../backend/gpu/backend.js';

export const createGpuBackend: typeof GpuBackendModule.createGpuBackend = async () => {
  throw new ParameterError('backend "gpu" is not in this browser build: gpu.js was not installed when it was built (npm install gpu.js, then rebuild)');
};
