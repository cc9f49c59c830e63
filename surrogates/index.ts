/**
 * Surrogate spike functions: public entry point. Importing it registers the built-in families
 * (fastSigmoid, atan, sigmoid, triangular, rectangular, straightThrough, piecewiseQuadratic,
 * piecewiseExp, softSign, erf, spikeRateEscape).
 */
export type { Surrogate, SurrogateFamily, SurrogateParamDef, SurrogateSource } from './types.js';
export { instantiate, resolveParams } from './types.js';
export {
  formatSurrogateList,
  getSurrogate,
  getSurrogateFamily,
  isBuiltinSurrogate,
  listSurrogates,
  parseSurrogateSpec,
  registerSurrogate,
  surrogateNames,
  type ParsedSurrogateSpec,
  type SurrogateInfo,
  type SurrogateSpec,
} from './registry.js';
export { customFamily, customSurrogate, type CustomParam, type CustomSurrogateDefinition } from './custom.js';
export { applySurrogate, evaluateSurrogate } from './kernel.js';
export {
  surrogateComparison,
  type SurrogateComparison,
  type SurrogateComparisonOptions,
  type SurrogateCurve,
} from './comparison.js';
export { erf, erfc, logistic } from './math.js';
