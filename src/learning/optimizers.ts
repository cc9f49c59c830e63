/**
 * Optimisers for local learning rules: one optimiser per layer, each owning the state of that
 * layer's parameters only (so no update can read another layer's gradient). SGD, SGD with
 * momentum and Adam are registered by name; weight decay is decoupled-free L2 (added to the
 * gradient, as torch.optim does). The learning rate follows a milestone schedule
 * (lr · gamma^(number of milestones ≤ epoch)).
 *
 * Parameters, gradients and the optimiser state are backend tensors; the element-wise update is a
 * Backend kernel (sgdStep / momentumStep / adamStep), so the tensors never leave the device
 * except for checkpoints (state / loadState).
 */
import type { Backend } from '../backend/backend.js';
import { checkNumber, ParameterError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** A trainable parameter and its gradient accumulator (same shape). */
export interface Param {
  /** Name used in checkpoints, e.g. 'layer0.W'. */
  name: string;
  value: Tensor;
  /** ∂L/∂value, accumulated by the rule; the optimiser reads it and the rule zeroes it. */
  grad: Tensor;
  /** Whether weight decay applies (true for weights, false for biases). Default true. */
  decay?: boolean;
}

/** Settings shared by all optimisers. */
export interface OptimizerOptions {
  /** Base learning rate (> 0). */
  learningRate: number;
  /** Momentum coefficient for 'momentum' (default 0.9). */
  momentum?: number;
  /** L2 weight decay coefficient added to the gradient (default 0). */
  weightDecay?: number;
  /** Adam β1, β2, ε (defaults 0.9, 0.999, 1e-8). */
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** One layer's optimiser. */
export interface Optimizer {
  readonly kind: string;
  /** Learning rate in use now (after the schedule). */
  learningRate: number;
  /** Apply one update to every parameter from its gradient (gradients are left untouched). */
  step(): void;
  /** Optimiser state by `${param.name}.${slot}` (for checkpoints). */
  state(): Record<string, Float32Array>;
  loadState(s: Record<string, Float32Array>): void;
  /** Release the state tensors. */
  dispose(): void;
}

type OptimizerFactory = (be: Backend, params: Param[], opts: OptimizerOptions) => Optimizer;
const registry = new Map<string, OptimizerFactory>();

/** Register an optimiser factory by name. */
export function registerOptimizer(name: string, f: OptimizerFactory): void {
  registry.set(name, f);
}

/** Registered optimiser names. */
export function optimizerNames(): string[] {
  return [...registry.keys()];
}

/** Create an optimiser by name ('sgd' | 'momentum' | 'adam') over parameters of backend `be`. */
export function createOptimizer(be: Backend, kind: string, params: Param[], opts: OptimizerOptions): Optimizer {
  const f = registry.get(kind);
  if (!f) throw new ParameterError(`optimizer = "${kind}" is not known; optimizer must be one of: ${optimizerNames().join(', ')}`);
  checkNumber('learningRate', opts.learningRate, { min: 0, minExclusive: true });
  if (opts.weightDecay !== undefined) checkNumber('weightDecay', opts.weightDecay, { min: 0 });
  if (opts.momentum !== undefined) checkNumber('momentum', opts.momentum, { min: 0, max: 1, maxExclusive: true });
  return f(be, params, opts);
}

/** Learning rate at `epoch` (0-based) for a milestone schedule. */
export function scheduledLearningRate(
  base: number,
  epoch: number,
  schedule?: { milestones: number[]; gamma: number },
): number {
  if (!schedule) return base;
  let lr = base;
  for (const m of schedule.milestones) if (epoch >= m) lr *= schedule.gamma;
  return lr;
}

/** The weight decay that applies to p (0 for parameters with decay: false). */
function decayOf(p: Param, wd: number): number {
  return p.decay !== false ? wd : 0;
}

/** Zero-filled state tensors shaped like each parameter. */
function slotTensors(be: Backend, params: Param[]): Tensor[] {
  return params.map((p) => be.tensor(p.value.shape));
}

function slotState(be: Backend, params: Param[], slots: Map<string, Tensor[]>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [slot, ts] of slots) params.forEach((p, i) => (out[`${p.name}.${slot}`] = be.read(ts[i])));
  return out;
}

function loadSlots(be: Backend, params: Param[], slots: Map<string, Tensor[]>, s: Record<string, Float32Array>): void {
  for (const [slot, ts] of slots) {
    params.forEach((p, i) => {
      const key = `${p.name}.${slot}`;
      const v = s[key];
      if (!v) throw new ParameterError(`optimizer state is missing "${key}"; the checkpoint was written with another optimizer`);
      if (v.length !== ts[i].size) throw new ParameterError(`optimizer state "${key}" has ${v.length} values, expected ${ts[i].size}`);
      be.write(ts[i], v);
    });
  }
}

function freeSlots(be: Backend, slots: Map<string, Tensor[]>): void {
  for (const ts of slots.values()) for (const t of ts) be.free(t);
}

registerOptimizer('sgd', (be, params, opts) => {
  const wd = opts.weightDecay ?? 0;
  return {
    kind: 'sgd',
    learningRate: opts.learningRate,
    step() {
      for (const p of params) be.sgdStep(p.value, p.grad, this.learningRate, decayOf(p, wd));
    },
    state: () => ({}),
    loadState: () => {},
    dispose: () => {},
  };
});

registerOptimizer('momentum', (be, params, opts) => {
  const wd = opts.weightDecay ?? 0;
  const mu = opts.momentum ?? 0.9;
  const vel = slotTensors(be, params);
  const slots = new Map([['velocity', vel]]);
  return {
    kind: 'momentum',
    learningRate: opts.learningRate,
    step() {
      params.forEach((p, k) => be.momentumStep(p.value, p.grad, vel[k], this.learningRate, mu, decayOf(p, wd)));
    },
    state: () => slotState(be, params, slots),
    loadState: (s) => loadSlots(be, params, slots, s),
    dispose: () => freeSlots(be, slots),
  };
});

registerOptimizer('adam', (be, params, opts) => {
  const wd = opts.weightDecay ?? 0;
  const b1 = opts.beta1 ?? 0.9, b2 = opts.beta2 ?? 0.999, eps = opts.eps ?? 1e-8;
  const m = slotTensors(be, params);
  const v = slotTensors(be, params);
  const count = new Float32Array(1); // the step counter stays on the host (it sets the bias corrections)
  const slots = new Map([['adam.m', m], ['adam.v', v]]);
  return {
    kind: 'adam',
    learningRate: opts.learningRate,
    step() {
      const t = ++count[0];
      const c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
      const lr = this.learningRate;
      params.forEach((p, k) => {
        be.adamStep(p.value, p.grad, m[k], v[k], { lr, beta1: b1, beta2: b2, eps, c1, c2, weightDecay: decayOf(p, wd) });
      });
    },
    state() {
      const out = slotState(be, params, slots);
      out[`${params[0]?.name ?? 'opt'}.adam.t`] = count.slice();
      return out;
    },
    loadState(s) {
      loadSlots(be, params, slots, s);
      const t = s[`${params[0]?.name ?? 'opt'}.adam.t`];
      if (t) count.set(t);
    },
    dispose: () => freeSlots(be, slots),
  };
});
