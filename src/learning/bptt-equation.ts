/**
 * The BPTT baseline's backward through one step of an equation-defined hidden layer
 * (models/equation.ts), on the host in float64 (this baseline's backward runs at the window's end;
 * the forward is the engine's compiled kernel).
 *
 * A step is x[t] = R(F(x[t−1], I[t])): the update F of every state variable from the values at the
 * step's start (synchronous), then, where the threshold holds, the reset R on the new values. The
 * Jacobians ∂F_i/∂x_j and ∂F_i/∂I are built once, symbolically (mathjs `derivative` of each
 * equation's right-hand side f_i with respect to every state variable and to I), through the
 * model's integration scheme:
 *   discrete 'x = g':        F = g,               ∂F/∂y = ∂g/∂y;
 *   Euler:                   F = x + dt·f,        ∂F/∂y = δ_xy + dt·∂f/∂y;
 *   exponential Euler:       F = x + f·φ(B), B = ∂f/∂x (free of x), φ(B) = (e^{B·dt} − 1)/B
 *                            ∂F/∂y = δ_xy + φ(B)·∂f/∂y + f·φ'(B)·∂B/∂y   (φ → dt, φ' → dt²/2 at B = 0),
 * and compiled (models/equation-codegen.ts, as the forward) into one per-element backward
 * function. The previous spikes s and the time t are not differentiated (a reset term
 * '− s·vth' is detached, as the 'lif' model's delayed reset).
 * Spikes: S = H(x_θ − θ) for a threshold 'x_θ > θ' or 'x_θ >= θ' (x_θ a state variable, θ a number
 * or a parameter; any other threshold is refused): the spike's gradient dS[t] adds dS·f'(x_θ − θ)
 * to the pre-reset x_θ. Resets are detached: where the neuron fired, a reset 'x = e' passes to the
 * pre-reset x only ∂e/∂x (at the pre-reset values), so 'v -= vth' and 'w += b' pass the gradient
 * unchanged (the un-reset Jacobian) and 'v = c' cuts it; the reset's dependence on other
 * variables is dropped.
 */
import type { MathNode } from 'mathjs';
import { equationParts, type EquationModelSpec } from '../../models/equation.js';
import { CODEGEN_PRELUDE, emitJs, symbolsOf } from '../../models/equation-codegen.js';
import type { AnyNeuronModel } from '../../models/registry.js';
import { mathjs } from '../lazy-mathjs.js';
import { ParameterError } from '../errors.js';

/** The spec of an equation-defined model (defineEquationModel attaches it), or undefined for other models. */
export function equationSpecOf(m: unknown): EquationModelSpec | undefined {
  const s = (m as { spec?: EquationModelSpec; source?: unknown } | undefined);
  return s && typeof s.source === 'string' && s.spec && s.spec.equations !== undefined ? s.spec : undefined;
}

const THRESHOLD = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*>=?\s*([A-Za-z_][A-Za-z0-9_]*|[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*$/;

/**
 * Why BPTT cannot train this equation model, or undefined when it can: it needs a threshold of the
 * form 'x > θ' (x a state variable, θ a number or parameter) and differentiable equations.
 */
export function equationBpttIssue(spec: EquationModelSpec): string | undefined {
  try {
    compileEquationBackward(spec);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Whether a model (registered or inline) is an equation model the BPTT baseline can train. */
export function bpttEquationModel(m: AnyNeuronModel): boolean {
  const spec = equationSpecOf(m);
  return !!spec && equationBpttIssue(spec) === undefined;
}

/**
 * One step's backward over n elements. X: the state variables at the step's start (in the order of
 * `vars`), SP the spikes of the previous step, IN the input current I[t], FIRED the step's spikes,
 * DS = ∂L/∂S[t]; G (one per variable): ∂L/∂x[t] at the step's end on entry, ∂L/∂x[t−1] on return;
 * GI receives ∂L/∂I[t]. P: the parameter values (in `paramNames` order); tMs the time at the step's start.
 */
export type EquationStepBackward = (
  X: readonly Float32Array[], SP: Float32Array, IN: Float32Array, FIRED: Float32Array, DS: Float32Array,
  G: Float64Array[], GI: Float32Array, P: readonly number[], dt: number, tMs: number, df: (x: number) => number,
) => void;

export interface EquationBackward {
  vars: string[];
  paramNames: string[];
  /** The variable the threshold compares and θ's source (a parameter name or a number). */
  thresholdVar: string;
  step: EquationStepBackward;
  /** The generated source (for inspection). */
  source: string;
}

const cache = new WeakMap<object, EquationBackward>();

/** Build (once per spec) the compiled backward of an equation model's step; throws ParameterError when BPTT cannot train it. */
export function compileEquationBackward(spec: EquationModelSpec): EquationBackward {
  const hit = cache.get(spec);
  if (hit) return hit;
  const name = spec.name || 'inline';
  const parts = equationParts(spec);
  const { vars, eqs, resets, method, paramNames } = parts;
  if (!parts.threshold) throw new ParameterError(`${name}: bptt needs spikes, and the model has no threshold; give threshold: 'v > vth'`);
  const m = THRESHOLD.exec(parts.threshold);
  const thrVar = m?.[1], thrRhs = m?.[2];
  const thrOk = m && vars.includes(thrVar as string) && (paramNames.includes(thrRhs as string) || Number.isFinite(Number(thrRhs)));
  if (!thrOk) {
    throw new ParameterError(
      `${name}: bptt takes the surrogate of (x − θ) for a threshold 'x > θ' or 'x >= θ' (x a state variable, θ a number or a parameter); the threshold '${parts.threshold}' is not of that form`,
    );
  }
  const sym = (s: string): string | undefined => {
    if (vars.includes(s)) return `x_${s}`;
    if (paramNames.includes(s)) return `p_${s}`;
    if (s === 'I') return 'in_';
    if (s === 'dt') return 'dt_';
    if (s === 't') return 't_';
    if (s === 's') return 'sp_';
    return undefined;
  };
  const symNew = (s: string): string | undefined => (vars.includes(s) ? `n_${s}` : sym(s));
  const js = (what: string, node: MathNode, table = sym): string => {
    try {
      return emitJs(node, table);
    } catch (e) {
      throw new ParameterError(`${name}: bptt cannot compile the derivative of ${what} (${node.toString()}): ${(e as Error).message}`);
    }
  };
  const d = (what: string, node: MathNode, y: string): MathNode | null => {
    if (!symbolsOf(node).has(y)) return null;
    try {
      const r = mathjs().derivative(node, y);
      return r.type === 'ConstantNode' && Number((r as unknown as { value: unknown }).value) === 0 ? null : r;
    } catch (e) {
      throw new ParameterError(`${name}: bptt cannot differentiate ${what} with respect to ${y}: ${(e as Error).message}`);
    }
  };
  const wrt = [...vars, 'I'];
  const body: string[] = [];
  // the pre-reset new values (only the threshold variable's and the reset targets' are read)
  for (const e of eqs) {
    const f = js(`equation '${e.text}'`, e.rhs);
    if (e.kind === 'discrete') body.push(`const n_${e.target} = ${f};`);
    else if (method === 'euler') body.push(`const n_${e.target} = x_${e.target} + dt_ * ${f};`);
    else {
      const B = mathjs().derivative(e.rhs, e.target);
      body.push(`const f_${e.target} = ${f}; const B_${e.target} = ${js(`equation '${e.text}'`, B)};`,
        `const n_${e.target} = x_${e.target} + (B_${e.target} !== 0 ? f_${e.target} * (Math.expm1(B_${e.target} * dt_) / B_${e.target}) : f_${e.target} * dt_);`);
    }
  }
  body.push('const fired = FIRED[i] !== 0;');
  for (const v of vars) body.push(`let gn_${v} = G_${v}[i];`);
  // detached resets: x = e passes ∂e/∂x to the pre-reset x
  for (const r of resets) {
    const dr = d(`reset '${r.text}'`, r.rhs, r.target);
    body.push(`if (fired) gn_${r.target} *= ${dr ? js(`reset '${r.text}'`, dr, symNew) : '0'};`);
  }
  const theta = paramNames.includes(thrRhs as string) ? `p_${thrRhs}` : `(${Number(thrRhs)})`;
  body.push(`gn_${thrVar} += DS[i] * df_(n_${thrVar} - ${theta});`);
  // Jacobian-transpose products
  const acc: Record<string, string[]> = Object.fromEntries(wrt.map((y) => [y, [] as string[]]));
  for (const e of eqs) {
    const x = e.target, what = `equation '${e.text}'`;
    if (e.kind === 'ode' && method === 'exponential') {
      const B = mathjs().derivative(e.rhs, x);
      body.push(`const phi_${x} = B_${x} !== 0 ? Math.expm1(B_${x} * dt_) / B_${x} : dt_;`,
        `const dphi_${x} = B_${x} !== 0 ? (dt_ * Math.exp(B_${x} * dt_) * B_${x} - Math.expm1(B_${x} * dt_)) / (B_${x} * B_${x}) : dt_ * dt_ / 2;`);
      for (const y of wrt) {
        const terms: string[] = [];
        if (y === x) terms.push('1');
        const df = d(what, e.rhs, y);
        if (df) terms.push(`phi_${x} * ${js(what, df)}`);
        const dB = y === x ? null : d(what, B, y);
        if (dB) terms.push(`f_${x} * dphi_${x} * ${js(what, dB)}`);
        if (terms.length) acc[y].push(`gn_${x} * (${terms.join(' + ')})`);
      }
    } else {
      for (const y of wrt) {
        const df = d(what, e.rhs, y);
        const terms: string[] = [];
        if (e.kind === 'ode' && y === x) terms.push('1');
        if (df) terms.push(e.kind === 'ode' ? `dt_ * ${js(what, df)}` : js(what, df));
        if (terms.length) acc[y].push(`gn_${x} * (${terms.join(' + ')})`);
      }
    }
  }
  for (const v of vars) body.push(`G_${v}[i] = ${acc[v].length ? acc[v].join(' + ') : '0'};`);
  body.push(`GI[i] = ${acc.I.length ? acc.I.join(' + ') : '0'};`);
  const source = [
    CODEGEN_PRELUDE,
    'return function stepBackward(X, SP, IN, FIRED, DS, G, GI, P, dt_, t_, df_) {',
    ...vars.map((v, k) => `  const X_${v} = X[${k}], G_${v} = G[${k}];`),
    ...paramNames.map((p, k) => `  const p_${p} = P[${k}];`),
    '  for (let i = 0; i < IN.length; i++) {',
    ...vars.map((v) => `    const x_${v} = X_${v}[i];`),
    '    const in_ = IN[i], sp_ = SP[i];',
    ...body.map((l) => `    ${l}`),
    '  }',
    '};',
  ].join('\n');
  let fn: EquationStepBackward;
  try {
    fn = new Function(source)() as EquationStepBackward;
  } catch (e) {
    throw new ParameterError(`${name}: bptt could not compile the backward of the model: ${(e as Error).message}`);
  }
  const out: EquationBackward = { vars, paramNames, thresholdVar: thrVar as string, step: fn, source };
  cache.set(spec, out);
  return out;
}
