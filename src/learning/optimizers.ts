/**
 * Optimisers for local learning rules: one optimiser per layer, each owning the state of that
 * layer's parameters only (so no update can read another layer's gradient). SGD, SGD with
 * momentum and Adam are registered by name; weight decay is decoupled-free L2 (added to the
 * gradient, as torch.optim does). The learning rate follows a milestone schedule
 * (lr · gamma^(number of milestones ≤ epoch)).
 *
 * Parameters and gradients are backend tensors; the element-wise update runs over their
 * `data` views (O(parameters) per batch, small next to the matmuls that produced the gradient).
 */
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
}

type OptimizerFactory = (params: Param[], opts: OptimizerOptions) => Optimizer;
const registry = new Map<string, OptimizerFactory>();

/** Register an optimiser factory by name. */
export function registerOptimizer(name: string, f: OptimizerFactory): void {
  registry.set(name, f);
}

/** Registered optimiser names. */
export function optimizerNames(): string[] {
  return [...registry.keys()];
}

/** Create an optimiser by name ('sgd' | 'momentum' | 'adam'). */
export function createOptimizer(kind: string, params: Param[], opts: OptimizerOptions): Optimizer {
  const f = registry.get(kind);
  if (!f) throw new ParameterError(`optimizer = "${kind}" is not known; optimizer must be one of: ${optimizerNames().join(', ')}`);
  checkNumber('learningRate', opts.learningRate, { min: 0, minExclusive: true });
  if (opts.weightDecay !== undefined) checkNumber('weightDecay', opts.weightDecay, { min: 0 });
  if (opts.momentum !== undefined) checkNumber('momentum', opts.momentum, { min: 0, max: 1, maxExclusive: true });
  return f(params, opts);
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

function gradWithDecay(p: Param, wd: number, i: number, g: Float32Array, w: Float32Array): number {
  return wd !== 0 && p.decay !== false ? g[i] + wd * w[i] : g[i];
}

function slotState(params: Param[], slots: Map<string, Float32Array[]>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [slot, arrs] of slots) params.forEach((p, i) => (out[`${p.name}.${slot}`] = arrs[i].slice()));
  return out;
}

function loadSlots(params: Param[], slots: Map<string, Float32Array[]>, s: Record<string, Float32Array>): void {
  for (const [slot, arrs] of slots) {
    params.forEach((p, i) => {
      const key = `${p.name}.${slot}`;
      const v = s[key];
      if (!v) throw new ParameterError(`optimizer state is missing "${key}"; the checkpoint was written with another optimizer`);
      if (v.length !== arrs[i].length) throw new ParameterError(`optimizer state "${key}" has ${v.length} values, expected ${arrs[i].length}`);
      arrs[i].set(v);
    });
  }
}

registerOptimizer('sgd', (params, opts) => {
  const wd = opts.weightDecay ?? 0;
  return {
    kind: 'sgd',
    learningRate: opts.learningRate,
    step() {
      for (const p of params) {
        const w = p.value.data, g = p.grad.data, lr = this.learningRate;
        for (let i = 0; i < w.length; i++) w[i] -= lr * gradWithDecay(p, wd, i, g, w);
      }
    },
    state: () => ({}),
    loadState: () => {},
  };
});

registerOptimizer('momentum', (params, opts) => {
  const wd = opts.weightDecay ?? 0;
  const mu = opts.momentum ?? 0.9;
  const vel = params.map((p) => new Float32Array(p.value.size));
  const slots = new Map([['velocity', vel]]);
  return {
    kind: 'momentum',
    learningRate: opts.learningRate,
    step() {
      params.forEach((p, k) => {
        const w = p.value.data, g = p.grad.data, v = vel[k], lr = this.learningRate;
        for (let i = 0; i < w.length; i++) {
          v[i] = mu * v[i] + gradWithDecay(p, wd, i, g, w);
          w[i] -= lr * v[i];
        }
      });
    },
    state: () => slotState(params, slots),
    loadState: (s) => loadSlots(params, slots, s),
  };
});

registerOptimizer('adam', (params, opts) => {
  const wd = opts.weightDecay ?? 0;
  const b1 = opts.beta1 ?? 0.9, b2 = opts.beta2 ?? 0.999, eps = opts.eps ?? 1e-8;
  const m = params.map((p) => new Float32Array(p.value.size));
  const v = params.map((p) => new Float32Array(p.value.size));
  const count = [new Float32Array(1)];
  const slots = new Map([['adam.m', m], ['adam.v', v]]);
  return {
    kind: 'adam',
    learningRate: opts.learningRate,
    step() {
      const t = ++count[0][0];
      const c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
      const lr = this.learningRate;
      params.forEach((p, k) => {
        const w = p.value.data, g = p.grad.data, mk = m[k], vk = v[k];
        for (let i = 0; i < w.length; i++) {
          const gi = gradWithDecay(p, wd, i, g, w);
          mk[i] = b1 * mk[i] + (1 - b1) * gi;
          vk[i] = b2 * vk[i] + (1 - b2) * gi * gi;
          w[i] -= (lr * (mk[i] / c1)) / (Math.sqrt(vk[i] / c2) + eps);
        }
      });
    },
    state() {
      const out = slotState(params, slots);
      out[`${params[0]?.name ?? 'opt'}.adam.t`] = count[0].slice();
      return out;
    },
    loadState(s) {
      loadSlots(params, slots, s);
      const t = s[`${params[0]?.name ?? 'opt'}.adam.t`];
      if (t) count[0].set(t);
    },
  };
});
