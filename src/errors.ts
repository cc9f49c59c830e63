/**
 * The library's own error type. Every failure a user can cause (bad parameter, bad file,
 * bad config) is a SigpropError whose message names the thing that was wrong and the fix.
 */
export class SigpropError extends Error {
  /** Short machine-readable category, e.g. 'parameter', 'shape', 'data', 'config'. */
  readonly code: string;
  constructor(message: string, code = 'error') {
    super(message);
    this.name = 'SigpropError';
    this.code = code;
  }
}

/** A parameter outside its allowed range or of the wrong kind. */
export class ParameterError extends SigpropError {
  constructor(message: string) {
    super(message, 'parameter');
    this.name = 'ParameterError';
  }
}

/** Tensor shapes that do not fit together. */
export class ShapeError extends SigpropError {
  constructor(message: string) {
    super(message, 'shape');
    this.name = 'ShapeError';
  }
}

/** A data file or dataset that is missing, truncated or malformed. */
export class DataError extends SigpropError {
  constructor(message: string) {
    super(message, 'data');
    this.name = 'DataError';
  }
}

/**
 * A host read of a tensor on a backend whose read-back is asynchronous (Backend.asyncReads, e.g.
 * WebGPU) that no `await backend.sync([tensor])` has made available since the tensor last changed.
 */
export class ReadNotSyncedError extends SigpropError {
  constructor(message: string) {
    super(message, 'read-not-synced');
    this.name = 'ReadNotSyncedError';
  }
}

export interface RangeSpec {
  min?: number;
  max?: number;
  /** Exclude the bounds (min < v rather than min <= v). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  integer?: boolean;
  /** Unit shown in the message, e.g. 'ms'. */
  unit?: string;
}

function describeRange(spec: RangeSpec): string {
  const lo = spec.min === undefined ? '' : `${spec.min} ${spec.minExclusive ? '<' : '<='} `;
  const hi = spec.max === undefined ? '' : ` ${spec.maxExclusive ? '<' : '<='} ${spec.max}`;
  const kind = spec.integer ? 'an integer' : 'a finite number';
  const range = lo || hi ? `${lo}value${hi}` : '';
  return range ? `${kind} with ${range}${spec.unit ? ` (${spec.unit})` : ''}` : kind;
}

/**
 * Validate one numeric parameter. Throws a ParameterError naming the parameter, the value
 * given and the allowed range. Returns the value for chaining.
 */
export function checkNumber(name: string, value: unknown, spec: RangeSpec = {}): number {
  const bad = (why: string): never => {
    throw new ParameterError(
      `${name} = ${typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value)} ${why}; ${name} must be ${describeRange(spec)}`,
    );
  };
  if (typeof value !== 'number' || !Number.isFinite(value)) bad('is not a finite number');
  const v = value as number;
  if (spec.integer && !Number.isInteger(v)) bad('is not an integer');
  if (spec.min !== undefined && (spec.minExclusive ? v <= spec.min : v < spec.min)) bad('is out of range');
  if (spec.max !== undefined && (spec.maxExclusive ? v >= spec.max : v > spec.max)) bad('is out of range');
  return v;
}

/** Validate that a value is one of a fixed set of strings. */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ParameterError(
      `${name} = ${JSON.stringify(value)} is not allowed; ${name} must be one of: ${allowed.join(', ')}`,
    );
  }
  return value as T;
}

/** Validate an optional boolean setting: `dflt` when undefined, else it must be true or false. */
export function checkBoolean(name: string, value: unknown, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== 'boolean') throw new ParameterError(`${name} = ${JSON.stringify(value)} must be true or false`);
  return value;
}
