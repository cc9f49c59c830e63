/**
 * Equation-defined neuron models (in the spirit of Brian2): the user writes the dynamics as
 * strings, mathjs parses them once, they are validated once and compiled once into a
 * JavaScript kernel that loops over the [batch, n] population.
 *
 * The compiled per-element function steps through the Backend kernel `elementwise` (over the
 * state variables, the spikes, the time and the input current, with the parameter values and dt):
 * `reference` and `wasm` run it in JavaScript over their own memory (wasm: views of the shared
 * memory, no copy); a device backend compiles the same function into a device kernel, as gpu.js
 * does. The step touches no tensor.data itself.
 *
 *   const eqLif = defineEquationModel({
 *     name: 'eqlif',
 *     equations: 'dv/dt = (-(v - vrest) + R*I)/tau',
 *     threshold: 'v > vth',
 *     reset: 'v = vreset',
 *     parameters: { vrest: 0, R: 1, tau: 10, vth: 1, vreset: 0 },
 *   });
 *   registerModel(eqLif);  // then getModel('eqlif') like any built-in model
 *
 * Equations (one per state variable; a string with lines or ';' separators, or an array):
 *   'dx/dt = f'  an ODE, time in ms. method 'euler' (default): x ← x + dt·f.
 *                method 'exponential' (exponential Euler, as Brian2's exponential_euler):
 *                f must be linear in x (f = A + B·x, B = ∂f/∂x found symbolically and free of x);
 *                x ← x + f·(e^{B·dt} − 1)/B, exact for linear equations with constant input.
 *   'x = g'      a discrete update x[t] = g(values at t−1): for models defined directly in
 *                discrete time, e.g. the snnTorch LIF 'u = beta*u + I - s*threshold'.
 * Step semantics, in order: (1) every equation is evaluated from the values at the start of
 * the step (synchronous update); (2) the threshold condition is evaluated on the new values;
 * (3) where it holds, the reset statements run in order on the new values ('v = vr', 'w += b')
 * and the spike variable s is 1 (else 0). Symbols: the state variables, the parameters,
 * I (input current of this step), t (time in ms at the start of the step), dt (step in ms),
 * s (the spikes of the previous step, when a threshold is given; this is how a delayed
 * snnTorch-style reset is written), the constants pi and e, and the functions listed in
 * EQUATION_FUNCTIONS. Anything else is rejected when the model is defined, with a
 * ParameterError that quotes the equation and names the problem.
 *
 * Input response (inputResponse, for presynaptic eligibility traces): mathjs `derivative` of the
 * voltage equation's right-hand side f with respect to the voltage (A = ∂f/∂v) and to I
 * (B = ∂f/∂I), evaluated at the resting state (the init values, I = 0, s = 0, t = 0), mapped
 * through the integration scheme: discrete 'v = f' gives decay A and gain B; method 'euler'
 * decay 1 + dt·A and gain dt·B; method 'exponential' decay e^{A·dt} and gain B·(e^{A·dt} − 1)/A.
 * It is exact (between threshold crossings) when A and B are constants (f linear in v and I),
 * no other state variable appears in f (the previous spikes s, a detached reset term, may), and
 * every reset of the voltage is a shift ('v -= vth', d(new v)/dv = 1). Otherwise it is the
 * linearisation at rest with the other state variables held fixed and resets ignored (exact
 * false, the approximation line says what was linearised). When I does not enter f but reaches
 * v through other variables (e.g. a synaptic current: 'dv/dt = (-v + g)/tau', 'dg/dt = -g/taus + I'),
 * the chain I → g → v is followed, each link linearised the same way (the coupling ∂f_v/∂g
 * scales the gain), giving one decay per variable; that is an approximation too, since the
 * synchronous update delays each link by one step. Absent when I does not reach v or mathjs
 * cannot differentiate an equation.
 */
import type { MathNode } from 'mathjs';
import { mathjs } from '../src/lazy-mathjs.js'; // loaded when the first equation model is defined
import type { Backend, ElementwiseKernel } from '../src/backend/backend.js';
import { checkNumber, checkOneOf, ParameterError } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { registerModel } from './catalog.js';
import { allocState, checkDt, checkKnownKeys, checkStep } from './common.js';
import { CODEGEN_PRELUDE, CodegenError, emitJs, EQUATION_CONSTANTS, symbolsOf } from './equation-codegen.js';
import type { InputResponse, NeuronModel, NeuronState } from './model.js';

/** A user's description of an equation-defined model. */
export interface EquationModelSpec {
  /** Registry name. */
  name: string;
  /** 'dx/dt = f' ODEs and/or 'x = g' discrete updates (string with newlines or ';', or an array). */
  equations: string | readonly string[];
  /** Spike condition on the new state, e.g. 'v > vth'. Without it the model has no spikes. */
  threshold?: string;
  /** Statements run where the threshold holds: 'v = vr', 'w += b' (also -=, *=, /=). */
  reset?: string | readonly string[];
  /** Parameter values by name (every non-state symbol the equations use). */
  parameters?: Readonly<Record<string, number>>;
  /** Initial value of each state variable (default 0). */
  init?: Readonly<Record<string, number>>;
  /** Integration of the ODEs: 'euler' (default) or 'exponential'. */
  method?: 'euler' | 'exponential';
  /** Which state variable is the voltage (default: the first one). */
  voltage?: string;
  /** For models without a threshold: the variable passed to the next layer (default: the last equation's). */
  output?: string;
}

/** Resolved parameters of an equation model: the parameter values plus dtMs. */
export type EquationResolved = Record<string, number> & { dtMs: number };

const RESERVED = ['I', 't', 'dt', 's', 'dtMs'];
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface ParsedEq {
  text: string;
  target: string;
  kind: 'ode' | 'discrete';
  rhs: MathNode;
}

function splitStatements(x: string | readonly string[] | undefined): string[] {
  if (x === undefined) return [];
  const list = typeof x === 'string' ? x.split(/[;\n]/) : x.flatMap((e) => String(e).split(/[;\n]/));
  return list.map((e) => e.trim()).filter((e) => e.length > 0 && !e.startsWith('#'));
}

function parseRhs(model: string, what: string, text: string, rhs: string): MathNode {
  if (rhs.trim() === '') throw new ParameterError(`${model}: ${what} '${text}': the right-hand side is empty`);
  try {
    return mathjs().parse(rhs);
  } catch (e) {
    throw new ParameterError(`${model}: ${what} '${text}' is malformed: ${(e as Error).message}`);
  }
}

function parseEquation(model: string, text: string): ParsedEq {
  const ode = /^d\s*([A-Za-z_][A-Za-z0-9_]*)\s*\/\s*dt\s*=(?!=)(.*)$/s.exec(text);
  if (ode) return { text, target: ode[1], kind: 'ode', rhs: parseRhs(model, 'equation', text, ode[2]) };
  const upd = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$/s.exec(text);
  if (upd) return { text, target: upd[1], kind: 'discrete', rhs: parseRhs(model, 'equation', text, upd[2]) };
  throw new ParameterError(
    `${model}: equation '${text}' is malformed: write 'dx/dt = expression' (an ODE) or 'x = expression' (a discrete update)`,
  );
}

function parseReset(model: string, text: string, stateVars: readonly string[]): { text: string; target: string; rhs: MathNode } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*([-+*/]?)=(?!=)(.*)$/s.exec(text);
  if (!m) throw new ParameterError(`${model}: reset '${text}' is malformed: write 'x = expression' or 'x += expression'`);
  const [, target, op, rhsText] = m;
  if (!stateVars.includes(target)) {
    throw new ParameterError(`${model}: reset '${text}' assigns '${target}', which is not a state variable (${stateVars.join(', ')})`);
  }
  const rhs = parseRhs(model, 'reset', text, rhsText);
  return { text, target, rhs: op ? mathjs().parse(`${target} ${op} (${rhs.toString()})`) : rhs };
}

/** Build, validate and compile an equation-defined model. Throws ParameterError on any problem. */
export function defineEquationModel(spec: EquationModelSpec): NeuronModel<EquationResolved> {
  if (!spec || typeof spec.name !== 'string' || !spec.name) throw new ParameterError('defineEquationModel: spec.name must be a non-empty string');
  const name = spec.name;
  const method = checkOneOf(`${name}: method`, spec.method ?? 'euler', ['euler', 'exponential'] as const);
  const eqs = splitStatements(spec.equations).map((e) => parseEquation(name, e));
  if (eqs.length === 0) throw new ParameterError(`${name}: no equations given; write at least one 'dx/dt = ...' or 'x = ...'`);
  const vars: string[] = [];
  for (const e of eqs) {
    if (vars.includes(e.target)) throw new ParameterError(`${name}: equation '${e.text}' defines '${e.target}' a second time`);
    if (RESERVED.includes(e.target)) {
      throw new ParameterError(`${name}: equation '${e.text}': '${e.target}' is reserved (${RESERVED.join(', ')}); rename the variable`);
    }
    vars.push(e.target);
  }
  const hasThreshold = spec.threshold !== undefined && spec.threshold.trim() !== '';
  const params = { ...(spec.parameters ?? {}) };
  const paramNames = Object.keys(params);
  for (const p of paramNames) {
    if (!IDENT.test(p)) throw new ParameterError(`${name}: parameter name '${p}' is not an identifier (letters, digits, _)`);
    if (RESERVED.includes(p) || vars.includes(p)) {
      throw new ParameterError(`${name}: parameter '${p}' clashes with a state variable or a reserved name (${RESERVED.join(', ')})`);
    }
    checkNumber(`${name}: parameter ${p}`, params[p]);
  }

  let usesT = false;
  // symbol table: state values before the step ('old') or after the update ('new')
  const symbolFor = (stage: 'old' | 'new') => (sym: string): string | undefined => {
    if (vars.includes(sym)) return `${stage === 'old' ? 'x_' : 'n_'}${sym}`;
    if (sym in params) return `p_${sym}`;
    if (sym === 'I') return 'in_';
    if (sym === 'dt') return 'dt_';
    if (sym === 't') return (usesT = true), 't_';
    if (sym === 's' && hasThreshold) return 'sp_';
    return undefined;
  };
  const known = () =>
    `state variables (${vars.join(', ')}), parameters (${paramNames.join(', ') || 'none'}), I, t, dt` +
    `${hasThreshold ? ', s' : ''}, constants (${Object.keys(EQUATION_CONSTANTS).join(', ')})`;
  const emit = (what: string, text: string, node: MathNode, stage: 'old' | 'new'): string => {
    for (const sym of symbolsOf(node)) {
      if (symbolFor(stage)(sym) === undefined && !(sym in EQUATION_CONSTANTS)) {
        throw new ParameterError(
          `${name}: ${what} '${text}': unknown symbol '${sym}'; it is none of the ${known()}` +
            `${sym === 's' ? " (s, the previous spikes, needs a threshold)" : '; if it is a parameter, give its value in parameters'}`,
        );
      }
    }
    try {
      return emitJs(node, symbolFor(stage));
    } catch (e) {
      if (e instanceof CodegenError) throw new ParameterError(`${name}: ${what} '${text}': ${e.message}`);
      throw e;
    }
  };

  const body: string[] = [];
  for (const e of eqs) {
    const f = emit('equation', e.text, e.rhs, 'old');
    if (e.kind === 'discrete') body.push(`let n_${e.target} = ${f};`);
    else if (method === 'euler') body.push(`let n_${e.target} = x_${e.target} + dt_ * ${f};`);
    else {
      let b: MathNode;
      try {
        b = mathjs().derivative(e.rhs, e.target);
      } catch (err) {
        throw new ParameterError(`${name}: equation '${e.text}': cannot differentiate it for method 'exponential' (${(err as Error).message}); use method 'euler'`);
      }
      if (symbolsOf(b).has(e.target)) {
        throw new ParameterError(
          `${name}: equation '${e.text}' is not linear in '${e.target}' (d/d${e.target} = ${b.toString()}); method 'exponential' needs linear equations, use method 'euler'`,
        );
      }
      const bj = emit('equation', e.text, b, 'old');
      body.push(
        `const f_${e.target} = ${f}; const B_${e.target} = ${bj};`,
        `let n_${e.target} = x_${e.target} + (B_${e.target} !== 0 ? f_${e.target} * (Math.expm1(B_${e.target} * dt_) / B_${e.target}) : f_${e.target} * dt_);`,
      );
    }
  }
  if (hasThreshold) {
    const cond = emit('threshold', spec.threshold!, parseRhs(name, 'threshold', spec.threshold!, spec.threshold!), 'new');
    const resets = splitStatements(spec.reset).map((r) => parseReset(name, r, vars));
    body.push('let fire = 0;', `if (${cond}) {`, '  fire = 1;');
    for (const r of resets) body.push(`  n_${r.target} = ${emit('reset', r.text, r.rhs, 'new')};`);
    body.push('}');
  } else if (splitStatements(spec.reset).length > 0) {
    throw new ParameterError(`${name}: reset statements need a threshold condition (e.g. threshold: 'v > vth')`);
  }

  const stateVars = [...vars, ...(hasThreshold ? ['s'] : []), ...(usesT ? ['t'] : [])];
  const voltage = spec.voltage ?? vars[0];
  if (!vars.includes(voltage)) throw new ParameterError(`${name}: voltage = '${voltage}' is not a state variable (${vars.join(', ')})`);
  const output = spec.output ?? vars[vars.length - 1];
  if (!vars.includes(output)) throw new ParameterError(`${name}: output = '${output}' is not a state variable (${vars.join(', ')})`);
  const init: Record<string, number> = {};
  checkKnownKeys(`${name}: init`, spec.init, vars);
  for (const v of stateVars) init[v] = v === 's' || v === 't' ? 0 : checkNumber(`${name}: init.${v}`, spec.init?.[v] ?? 0);

  // arrays: the state variables, then s (with a threshold), t (when used) and the input; params: the parameters, then dt
  const nv = vars.length, spAt = nv, ttAt = nv + (hasThreshold ? 1 : 0), inAt = ttAt + (usesT ? 1 : 0);
  const src = [
    CODEGEN_PRELUDE,
    'return function step(A, P, lo_, hi_) {',
    ...vars.map((v, k) => `  const S_${v} = A[${k}];`),
    hasThreshold ? `  const SP = A[${spAt}];` : '',
    usesT ? `  const TT = A[${ttAt}];` : '',
    `  const IN = A[${inAt}];`,
    ...paramNames.map((p, k) => `  const p_${p} = P[${k}];`),
    `  const dt_ = P[${paramNames.length}];`,
    '  for (let i = lo_; i < hi_; i++) {',
    ...vars.map((v) => `    const x_${v} = S_${v}[i];`),
    '    const in_ = IN[i];',
    hasThreshold ? '    const sp_ = SP[i];' : '',
    usesT ? '    const t_ = TT[i];' : '',
    ...body.map((l) => `    ${l}`),
    ...vars.map((v) => `    S_${v}[i] = n_${v};`),
    hasThreshold ? '    SP[i] = fire;' : '',
    usesT ? '    TT[i] = t_ + dt_;' : '',
    '  }',
    '};',
  ].join('\n');
  const kernel = new Function(src)() as ElementwiseKernel;

  const paramCache = new WeakMap<object, number[]>();
  const step = (b: Backend, p: EquationResolved, state: NeuronState, input: Tensor): void => {
    const ts = checkStep(name, state, stateVars, input);
    let pv = paramCache.get(p);
    if (!pv) paramCache.set(p, (pv = [...paramNames.map((k) => p[k]), p.dtMs]));
    b.elementwise(kernel, [...ts.slice(0, vars.length), ...(hasThreshold ? [state.s] : []), ...(usesT ? [state.t] : []), input], pv);
  };

  const model: NeuronModel<EquationResolved> & { source: string; spec: EquationModelSpec } = {
    name,
    stateVars,
    voltageVar: voltage,
    ...(hasThreshold ? { spikeVar: 's' } : { outputVar: output }),
    resolve(overrides, dtMs) {
      const dt = checkDt(dtMs);
      checkKnownKeys(name, overrides, [...paramNames, 'dtMs']);
      const out: Record<string, number> = { ...params };
      for (const [k, v] of Object.entries(overrides ?? {})) {
        if (k !== 'dtMs' && v !== undefined) out[k] = checkNumber(k, v);
      }
      return { ...out, dtMs: dt } as EquationResolved;
    },
    init: (backend, batch, n) => allocState(backend, batch, n, init),
    step,
    source: src,
    spec,
  };
  const thr = simpleThreshold(spec.threshold, voltage, params);
  if (thr) model.threshold = thr;
  const response = equationInputResponse(eqs, voltage, method, vars, paramNames, init,
    hasThreshold ? splitStatements(spec.reset).map((r) => parseReset(name, r, vars)) : []);
  if (response) model.inputResponse = response;
  return model;
}

/** One link of the chain from the input current to the voltage: the equation of `eq.target`, fed by `from`. */
interface Link {
  eq: ParsedEq;
  /** ∂f/∂target and ∂f/∂from (from = I, or the upstream state variable). */
  dSelf: MathNode;
  dFrom: MathNode;
  from: string;
}

const isZero = (n: MathNode): boolean => n.type === 'ConstantNode' && Number((n as unknown as { value: unknown }).value) === 0;

/**
 * The input response of an equation model (see the file comment): the chain of equations from
 * I to the voltage, each linearised at rest, or undefined when I does not reach the voltage or
 * mathjs cannot differentiate an equation. Derivatives are taken once; each call evaluates them
 * at rest with the resolved parameters.
 */
function equationInputResponse(
  eqs: readonly ParsedEq[],
  voltage: string,
  method: 'euler' | 'exponential',
  vars: readonly string[],
  paramNames: readonly string[],
  init: Readonly<Record<string, number>>,
  resets: readonly { text: string; target: string; rhs: MathNode }[],
): ((p: EquationResolved) => InputResponse) | undefined {
  const eqOf = (x: string): ParsedEq => eqs.find((e) => e.target === x)!;
  const feeds = (x: string): string[] => vars.filter((y) => y !== x && symbolsOf(eqOf(x).rhs).has(y));
  // does I reach x through equations not yet in the chain?
  const reachesI = (x: string, seen: Set<string>): boolean =>
    symbolsOf(eqOf(x).rhs).has('I') || feeds(x).some((y) => !seen.has(y) && reachesI(y, new Set([...seen, x])));
  const links: Link[] = [];
  const shifts: boolean[] = [];
  try {
    const seen = new Set<string>([voltage]);
    let cur = eqOf(voltage);
    for (;;) {
      const dSelf = mathjs().derivative(cur.rhs, cur.target);
      const dI = mathjs().derivative(cur.rhs, 'I');
      if (!isZero(dI)) {
        links.push({ eq: cur, dSelf, dFrom: dI, from: 'I' });
        break;
      }
      const up = feeds(cur.target).find((y) => !seen.has(y) && reachesI(y, new Set(seen)));
      if (up === undefined) return undefined; // the input current does not reach the voltage
      links.push({ eq: cur, dSelf, dFrom: mathjs().derivative(cur.rhs, up), from: up });
      seen.add(up);
      cur = eqOf(up);
    }
    for (const r of resets.filter((r) => links.some((l) => l.eq.target === r.target))) {
      const d = mathjs().derivative(r.rhs, r.target);
      shifts.push(d.type === 'ConstantNode' && Number((d as unknown as { value: unknown }).value) === 1);
    }
  } catch {
    return undefined;
  }
  const chain = links.map((l) => l.eq.target);
  const constant = (n: MathNode): boolean => [...symbolsOf(n)].every((x) => paramNames.includes(x) || x === 'dt' || x in EQUATION_CONSTANTS);
  const others = vars.filter((x) => !chain.includes(x) && links.some((l) => symbolsOf(l.eq.rhs).has(x)));
  const linear = links.every((l) => constant(l.dSelf) && constant(l.dFrom));
  const resetShift = shifts.every(Boolean);
  const exact = links.length === 1 && linear && others.length === 0 && resetShift;
  const compiled = links.map((l) => ({ self: l.dSelf.compile(), from: l.dFrom.compile() }));
  const schemeOf = (e: ParsedEq): string => (e.kind === 'discrete' ? 'discrete update' : method === 'euler' ? 'Euler step' : 'exponential Euler step');
  const schemes = [...new Set(links.map((l) => schemeOf(l.eq)))].join(', ');
  return (p) => {
    const scope: Record<string, number> = { ...init, s: 0, t: 0, I: 0, dt: p.dtMs };
    for (const k of paramNames) scope[k] = p[k];
    const dt = p.dtMs;
    const decays: number[] = [];
    const slopes: string[] = [];
    let gain = 1;
    links.forEach((l, i) => {
      const A = Number(compiled[i].self.evaluate({ ...scope }));
      const C = Number(compiled[i].from.evaluate({ ...scope }));
      slopes.push(`d/d${l.eq.target} = ${A.toPrecision(4)}, d/d${l.from} = ${C.toPrecision(4)}`);
      let decay: number, g: number;
      if (l.eq.kind === 'discrete') [decay, g] = [A, C];
      else if (method === 'euler') [decay, g] = [1 + dt * A, dt * C];
      else [decay, g] = [Math.exp(A * dt), A !== 0 ? (C * Math.expm1(A * dt)) / A : C * dt];
      decays.unshift(decay); // decays run from the input to the voltage
      gain *= g;
    });
    if (exact) return { decays, gain, exact };
    const what: string[] = [];
    if (!linear) {
      const at = [...chain, ...others].map((x) => `${x} = ${init[x]}`).join(', ');
      what.push(`linearised at rest (${at}, I = 0): ${slopes.join('; ')}`);
    }
    if (links.length > 1) what.push(`chain I → ${[...chain].reverse().join(' → ')} followed, ignoring the one-step lag of the synchronous update between variables`);
    if (others.length) what.push(`${others.join(', ')} held fixed`);
    if (!resetShift) what.push(`reset of ${chain.filter((x) => resets.some((r) => r.target === x)).join(', ')} ignored (treated as detached)`);
    return { decays, gain, exact, approximation: `${what.join('; ')} (${schemes})` };
  };
}

/** For thresholds of the form 'v > X' / 'v >= X' (X a parameter or number): θ for surrogates. */
function simpleThreshold(
  text: string | undefined,
  voltage: string,
  params: Record<string, number>,
): ((p: EquationResolved) => number) | undefined {
  if (!text) return undefined;
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*>=?\s*([A-Za-z_][A-Za-z0-9_]*|[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*$/.exec(text);
  if (!m || m[1] !== voltage) return undefined;
  const rhs = m[2];
  if (rhs in params) return (p) => p[rhs];
  const v = Number(rhs);
  return Number.isFinite(v) ? () => v : undefined;
}

/** Define an equation model and register it under spec.name; returns the model. */
export function registerEquationModel(spec: EquationModelSpec, replace = false): NeuronModel<EquationResolved> {
  const m = defineEquationModel(spec);
  registerModel(m, replace);
  return m;
}

/** An equation model's parsed parts (the spec must build with defineEquationModel). */
export interface EquationParts {
  vars: string[];
  eqs: { text: string; target: string; kind: 'ode' | 'discrete'; rhs: MathNode }[];
  /** Reset statements in order, `x op= e` already rewritten as `x = x op (e)`. */
  resets: { text: string; target: string; rhs: MathNode }[];
  method: 'euler' | 'exponential';
  voltage: string;
  threshold: string | undefined;
  paramNames: string[];
}

/** The parsed equations and resets of a spec, as defineEquationModel reads them (used by the BPTT backward, src/learning/bptt-equation.ts). */
export function equationParts(spec: EquationModelSpec): EquationParts {
  const name = spec.name || 'inline';
  const eqs = splitStatements(spec.equations).map((e) => parseEquation(name, e));
  const vars = eqs.map((e) => e.target);
  const threshold = spec.threshold !== undefined && spec.threshold.trim() !== '' ? spec.threshold : undefined;
  return {
    vars, eqs, resets: threshold ? splitStatements(spec.reset).map((r) => parseReset(name, r, vars)) : [],
    method: spec.method ?? 'euler', voltage: spec.voltage ?? vars[0], threshold, paramNames: Object.keys(spec.parameters ?? {}),
  };
}
