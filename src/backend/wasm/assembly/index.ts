// Entry point of the sigprop wasm kernels (AssemblyScript). Built by src/backend/wasm/build.mjs.
// The module imports a shared memory (env.memory); JavaScript owns allocation: it places
// tensors and per-thread scratch above heapBase(). The kernels never allocate.

export { gemm, gemmScratchBytes, rowDots } from './gemm';
export {
  spikeMatmul, spikeMatmulRows, rowDiffNonZero, padRows, spikeScratchBytes, spikeOuter, outerScratchBytes, spikeMatmulNarrow, spikeOuterNarrow, narrowScratchBytes, spikeOuterPair,
} from './spike';
export { axpby, mul, addRow, sumRows, fill, copy, sum, sumSquares, lifStep, synapticStep, countNonZero, rowNonZero } from './elementwise';
export { surrogate, surrogateHasPrimitive } from './surrogate';

/** First byte JavaScript may allocate (end of static data). */
export function heapBase(): usize {
  return __heap_base;
}
export { neuronFused, gradTail } from './fused';
export {
  addScalar, gateBelow, activation, transpose, normalizeRows, normalizeRowsBackward, normalizeRowsRange, normalizeRowsBackwardRange, softmaxCERange, lossAddRows, softmaxRows, l2PairLoss, ffGoodness, ffPeerNorm, simLogitsRange, simBackwardRange,
  sgdStep, momentumStep, adamStep,
} from './losses';
export { leakyStep, izhikevichStep, adexStep } from './models';
export { delayedSpikeMatmul, delayedOuter } from './delays';
export { rateSpikes, rngJumpInit, rngJumpTableBytes, dropMask } from './encode';
