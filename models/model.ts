/**
 * The neuron-model contract. A model step is a pure function of (parameters, state, input)
 * that writes the new state in place (Norse style); the stateful Layer wrapper in the engine
 * stays thin. Models register themselves by name in models/registry.ts.
 *
 * Units: time in ms (`dtMs`, `tauMs`); voltages and currents are in the model's own units
 * (dimensionless for LIF-style models; mV, pA, nS for Izhikevich and AdEx as documented there).
 */
import type { Backend } from '../src/backend/backend.js';
import type { Tensor } from '../src/tensor.js';

/** State of a population: named tensors, each [batch, n]. */
/**
 * How the voltage responds to the input current I[t] = x[t]·W (+ bias), as a chain of
 * first-order filters: with the presynaptic traces
 *   e⁽¹⁾[t] = d₁·e⁽¹⁾[t−1] + x[t],   e⁽ᵐ⁾[t] = d_m·e⁽ᵐ⁾[t−1] + e⁽ᵐ⁻¹⁾[t],   e = e⁽ᵐᵃˣ⁾,
 * the eligibility ∂V[t]/∂W_kj is gain·e_k[t] (memory O(rows × inputs), independent of T).
 * Resets are treated as detached (the reset term carries no gradient).
 */
export interface InputResponse {
  /** Decays d_1..d_m of the chain of first-order filters from the input current to the voltage (LIF [β]; synaptic LIF [α, β]). */
  decays: number[];
  /** ∂V/∂I of the last filter's output (1 for LIF; 1−e^{−dt/τ} for the exact leaky integrator; per-step Euler gain for ODE models). */
  gain: number;
  /** true when gain·e is the exact derivative (between threshold crossings, resets detached); false for a factorised approximation. */
  exact: boolean;
  /** For approximations: one line saying what was linearised, shown to users. */
  approximation?: string;
}
export type NeuronState = Record<string, Tensor>;

export interface NeuronModel<P = Record<string, unknown>> {
  /** Registry name, e.g. 'lif'. */
  readonly name: string;
  /** Names of the state variables, in order (e.g. ['u', 's']). */
  readonly stateVars: readonly string[];
  /** Which state variable is the membrane voltage (for recorders and voltage-mode learning). */
  readonly voltageVar: string;
  /** Which state variable holds the spikes of the last step (0/1); absent for rate models. */
  readonly spikeVar?: string;
  /**
   * What a rate model passes to the next layer (e.g. 'a' = φ(h) of 'leaky'), when it has no
   * spikeVar. Optional; consumers fall back to the last state variable.
   */
  readonly outputVar?: string;
  /** Resolve user parameters (fill defaults, derive β from τ and dt, validate). Throws ParameterError. */
  resolve(params: Partial<P> | undefined, dtMs: number): P;
  /** Fresh state for a [batch, n] population (resting values). */
  init(backend: Backend, batch: number, n: number, p: P): NeuronState;
  /** Advance one step of dtMs with input current `input` [batch, n]; writes `state`. */
  step(backend: Backend, p: P, state: NeuronState, input: Tensor): void;
  /** The firing threshold θ used for surrogate x = U − θ, where the model has one. */
  threshold?(p: P): number;
  /**
   * The presynaptic eligibility of the voltage (voltageVar) as a chain of first-order filters
   * (see InputResponse), for online learning rules. Absent when the model cannot give one.
   */
  inputResponse?(p: P): InputResponse;
  /**
   * For models whose whole step is one variable updated as v ← decay·v + I (the discrete leaky
   * integrator): that variable and the decay. The engine then propagates the input straight into
   * it (β·v + Σ_k x_k·W_k + b in one pass) instead of forming I first; same equation.
   */
  integrator?(p: P): { stateVar: string; decay: number };
}
