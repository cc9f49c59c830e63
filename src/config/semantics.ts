/**
 * What each rule and mode reads from a configuration, so that resolution can (1) check the
 * layers' neuron models and parameters before training (`sigprop run --dry-run` catches them)
 * and (2) warn about settings that a run silently ignores (a surrogate in rate mode, a
 * readout layer's parameters, ...).
 *
 * The facts here mirror src/learning: sigprop-rate.ts and bptt.ts's BackpropMlp (dense layers,
 * φ = ruleParams.activation), sigprop-spiking.ts and bptt.ts's BpttRule (LIF, synaptic, Izhikevich, AdEx or equation-defined
 * hidden layers whose threshold is 'x > θ', via resolveSpikingLayer, a leaky readout whose decay is ruleParams.readoutBeta), hebbian.ts
 * (leaky integrators, the output layer built from the last hidden layer's parameters).
 */
import { getModel, hasModel, modelNames, type AnyNeuronModel } from '../../models/registry.js';
import { UnknownParameterError } from '../../models/common.js';
import { bpttEquationModel, equationBpttIssue, equationSpecOf } from '../learning/bptt-equation.js';
import { layerModel, modelLabel } from './inline-model.js';
import type { ResolvedConfig } from './types.js';

/** The network a (rule, mode) pair trains. */
export type NetworkKind = 'rate' | 'spiking' | 'continuous';

/** Rules whose network is the rate MLP unless mode says otherwise (src/learning pepita.ts, feedback-alignment.ts): mode defaults to 'rate' for them. */
export const RATE_DEFAULT_RULES: readonly string[] = ['pepita', 'fa', 'dfa'];
/** Rules with a spiking form (src/learning pepita-spiking.ts, dfa-spiking.ts): mode 'spiking' trains the LIF network online in time. */
export const SPIKING_FORM_RULES: readonly string[] = ['pepita', 'dfa'];
/** The modes a rule is implemented for, where not every mode is (the others: sigprop all three, bp rate, bptt spiking). */
const RULE_MODES: Record<string, readonly NetworkKind[]> = { pepita: ['rate', 'spiking'], fa: ['rate'], dfa: ['rate', 'spiking'], ff: ['rate', 'spiking'] };

/** The network a config trains: 'bp' is always the rate MLP, 'bptt' always spiking, 'sigprop' follows mode. */
export function networkKind(cfg: Pick<ResolvedConfig, 'rule' | 'mode'>): NetworkKind {
  if (cfg.rule === 'bp' || cfg.rule === 'fa') return 'rate';
  if (cfg.rule === 'bptt') return 'spiking';
  return cfg.mode;
}

/** One-phrase description of the network, for messages. */
function described(cfg: Pick<ResolvedConfig, 'rule' | 'mode'>): string {
  if (cfg.rule === 'bp') return 'rule "bp" (the backprop MLP: no time steps, no spikes)';
  if (cfg.rule === 'bptt') return 'rule "bptt" (backprop through time on spiking layers)';
  if (RATE_DEFAULT_RULES.includes(cfg.rule)) return cfg.mode === 'spiking' ? `rule "${cfg.rule}" in mode "spiking" (LIF layers)` : `rule "${cfg.rule}" (a rate MLP: no time steps, no spikes)`;
  if (cfg.mode === 'rate') return 'mode "rate" (a non-spiking MLP: no time steps, no spikes)';
  if (cfg.mode === 'continuous') return 'mode "continuous" (leaky integrators, no spikes)';
  return 'mode "spiking"';
}

/** A setting the run does not read, with why. `field` is a config path ('surrogate', 'layers[1].params'). */
export interface IgnoredSetting {
  field: string;
  why: string;
}

/**
 * Settings the resolved config's rule and mode never read (whatever their value). Layer fields
 * are listed per layer index.
 */
export function ignoredSettings(cfg: ResolvedConfig): IgnoredSetting[] {
  const out: IgnoredSetting[] = [];
  const kind = networkKind(cfg);
  const net = described(cfg);
  const add = (fields: string[], why: string): void => {
    for (const field of fields) out.push({ field, why });
  };
  const last = cfg.layers.length - 1;
  if (cfg.rule === 'bp' && cfg.mode !== 'rate') add(['mode'], 'rule "bp" is always the rate MLP; for a spiking baseline use rule "bptt"');
  if (cfg.rule === 'bptt' && cfg.mode !== 'spiking') add(['mode'], 'rule "bptt" always trains the spiking network');
  if (kind === 'rate') {
    add(['surrogate', 'representation', 'eligibility', 'steps', 'dtMs', 'encoder', 'encoderParams'], `${net} does not use it`);
    cfg.layers.forEach((_, i) => add([`layers[${i}].model`, `layers[${i}].params`], `${net} has no neuron models; its nonlinearity is ruleParams.activation`));
  } else if (kind === 'spiking') {
    if (cfg.rule === 'bptt') add(['representation', 'eligibility'], `${net} does not use it`);
    else if (cfg.rule !== 'ff' && cfg.representation === 'voltage') add(['surrogate'], 'representation "voltage" puts the loss on the membrane voltage itself, with no surrogate');
    if (cfg.rule === 'ff') add([`layers[${last}].model`, `layers[${last}].params`], 'rule "ff" has no output layer: the last entry of layers only gives the number of classes');
    else add([`layers[${last}].model`, `layers[${last}].params`], 'the output layer is a leaky readout; its decay is ruleParams.readoutBeta (default: the last hidden layer\'s beta)');
  } else {
    add(['surrogate', 'representation', 'eligibility', 'encoder', 'encoderParams'], `${net} does not use it`);
    add([`layers[${last}].model`, `layers[${last}].params`], 'the output layer is a leaky integrator with the last hidden layer\'s parameters');
  }
  if (cfg.rule === 'ff') add(['loss', 'targetProjection'], 'rule "ff" (Forward-Forward) learns from the goodness of positive and negative data, without sigprop\'s local loss or target projection');
  if (cfg.rule === 'ff' && cfg.mode === 'spiking') add(['representation'], 'spiking Forward-Forward takes its goodness from ruleParams.ffSpikeGoodness');
  if (cfg.rule === 'bp' || cfg.rule === 'bptt') add(['loss', 'targetProjection'], `rule "${cfg.rule}" learns by backprop with softmax cross-entropy, without sigprop's local loss or target projection`);
  if (RATE_DEFAULT_RULES.includes(cfg.rule) && kind === 'rate') add(['loss', 'targetProjection'], `rule "${cfg.rule}" has no sigprop local loss or target projection (its settings are in ruleParams)`);
  if (SPIKING_FORM_RULES.includes(cfg.rule) && kind === 'spiking') {
    add(['loss', 'targetProjection', 'representation', ...(cfg.rule === 'pepita' ? ['surrogate', 'eligibility'] : [])], `spiking ${cfg.rule} does not use it (its settings are in ruleParams)`);
  }
  return out;
}

/** Whether a raw (unresolved) config sets `field` ('surrogate', 'layers[2].params'). */
function isSet(raw: unknown, field: string): boolean {
  const m = /^layers\[(\d+)\]\.(\w+)$/.exec(field);
  const obj = raw as Record<string, unknown>;
  if (!m) return obj[field] !== undefined;
  const layer = (obj.layers as Record<string, unknown>[] | undefined)?.[Number(m[1])];
  return layer?.[m[2]] !== undefined;
}

/** Short rendering of a value for warnings. */
function brief(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * Warnings for settings that `raw` gives explicitly but the run will ignore (defaults filled in by
 * resolution are not mentioned). One sentence each, naming the field, its value and why.
 */
export function ignoredSettingWarnings(raw: unknown, cfg: ResolvedConfig): string[] {
  return ignoredSettings(cfg)
    .filter((s) => isSet(raw, s.field))
    .map((s) => {
      const m = /^layers\[(\d+)\]\.(\w+)$/.exec(s.field);
      const value = m ? (cfg.layers[Number(m[1])] as unknown as Record<string, unknown>)[m[2]] : (cfg as unknown as Record<string, unknown>)[s.field];
      return `${s.field} = ${brief(value)} has no effect: ${s.why}`;
    });
}

/** The neuron models a config's hidden layers may use, the default and the parameter defaults the rule adds. */
export interface HiddenLayerModels {
  /** The registered models allowed (listed in messages). */
  allowed: readonly string[];
  /** Whether a model (registered or inline) is allowed, where that is decided by what the model declares. */
  accepts?: (m: AnyNeuronModel) => boolean;
  default: string;
  /** Parameters the rule fills in before the model's own defaults (hebbian.ts: sigmoid, τ = 5 ms). */
  paramDefaults?: Record<string, unknown>;
  /** Why only these models. */
  why: string;
  /** Why this particular model is refused, where the rule can say more than `why` (bptt: an equation model's threshold). */
  refusal?: (m: AnyNeuronModel) => string | undefined;
}

/** Parameter defaults of the continuous-time Hebbian layers: hebbian.ts builds its layers with them, and resolution validates layers against them. */
export const CONTINUOUS_LAYER_DEFAULTS: Readonly<Record<string, unknown>> = { activation: 'sigmoid', tauMs: 5 };

/** Whether spiking sigprop can train a model online: it declares its input response and, in surrogate mode, has a threshold. */
function onlineTrainable(m: AnyNeuronModel, cfg: ResolvedConfig): boolean {
  return !!m.inputResponse && (cfg.representation === 'voltage' || !!m.threshold);
}

/** The built-in models the bptt baseline trains (src/learning/bptt.ts BPTT_MODELS; equation models are judged by bpttEquationModel). */
const BPTT_BUILTIN: readonly string[] = ['lif', 'synaptic', 'izhikevich', 'adex'];

/** What the hidden layers of this config may be; undefined when the rule reads no layer models (rate). */
export function hiddenLayerModels(cfg: ResolvedConfig): HiddenLayerModels | undefined {
  switch (networkKind(cfg)) {
    case 'rate':
      return undefined;
    case 'spiking':
      return cfg.rule === 'bptt'
        ? {
          allowed: [...BPTT_BUILTIN, ...modelNames().filter((m) => !BPTT_BUILTIN.includes(m) && bpttEquationModel(getModel(m)))],
          accepts: (m) => (equationSpecOf(m) ? bpttEquationModel(m) : BPTT_BUILTIN.includes(m.name)), default: 'lif',
          why: "the bptt baseline is implemented for LIF, synaptic LIF, Izhikevich and AdEx layers and for equation-defined models whose threshold is 'x > θ' or 'x >= θ' (x a state variable, θ a number or a parameter)",
          refusal: (m) => {
            const eq = equationSpecOf(m);
            return eq ? equationBpttIssue(eq) : undefined;
          },
        }
        : {
          allowed: modelNames().filter((m) => onlineTrainable(getModel(m), cfg)), accepts: (m) => onlineTrainable(m, cfg), default: 'lif',
          why: `online sigprop needs a model that declares how its voltage responds to its input (inputResponse, models/model.ts)${cfg.representation === 'voltage' ? '' : ' and, in surrogate mode, a firing threshold'}`,
        };
    case 'continuous':
      return { allowed: ['leaky'], default: 'leaky', paramDefaults: CONTINUOUS_LAYER_DEFAULTS, why: 'continuous-time Hebbian sigprop uses leaky integrator layers' };
  }
}

/** A layer problem: the field path and the message. */
export interface LayerIssue {
  path: string;
  value: unknown;
  message: string;
}

/**
 * Check each hidden layer's model and parameters with the model's own validation
 * (models/*.ts resolve), naming the layer: `layers[0].params.betta is not a parameter of model
 * "lif" (did you mean "beta"?)`, `layers[0].params.beta = 1.5 is out of range; ...`.
 */
export function layerIssues(cfg: ResolvedConfig): LayerIssue[] {
  const modeIssue = ruleModeIssues(cfg);
  if (modeIssue.length) return modeIssue;
  const spec = hiddenLayerModels(cfg);
  const issues = projectionIssues(cfg);
  if (!spec) return issues;
  cfg.layers.slice(0, -1).forEach((layer, i) => {
    const model = layer.model ?? spec.default;
    let built: AnyNeuronModel | undefined;
    try {
      const m = layerModel(model);
      built = typeof m === 'string' ? (hasModel(m) ? getModel(m) : undefined) : m;
    } catch {
      built = undefined; // an inline model that does not build is reported by the schema check
    }
    const ok = spec.accepts ? !!built && spec.accepts(built) : typeof model === 'string' && spec.allowed.includes(model);
    if (!ok || !built) {
      const more = built && spec.refusal ? spec.refusal(built) : undefined;
      issues.push({
        path: `layers[${i}].model`, value: model,
        message: `layers[${i}].model = ${modelLabel(model)} cannot be used with ${described(cfg)}: ${spec.why}${more ? ` (${more})` : ''}; use model ${spec.allowed.map((m) => `"${m}"`).join(' or ')}`,
      });
      return;
    }
    const where = `layers[${i}].params`;
    const given = (layer.params ?? {}) as Record<string, unknown>;
    let resolved: Record<string, unknown>;
    try {
      resolved = built.resolve({ ...spec.paramDefaults, ...given } as never, cfg.dtMs) as Record<string, unknown>;
    } catch (err) {
      issues.push({ path: where, value: layer.params, message: paramMessage(err, where, built.name, given) });
      return;
    }
    // resolveSpikingLayer (src/learning/bptt.ts): the BPTT baseline's layers need a reset the gradient is exact for
    if (cfg.rule === 'bptt' && resolved.reset === 'zero') {
      issues.push({
        path: `${where}.reset`, value: 'zero',
        message: `${where}.reset = "zero" cannot be used with ${described(cfg)}: the gradient is implemented for reset "subtract" or "none"; use one of those`,
      });
    }
  });
  return issues;
}

/** Rule and mode pairs that do not exist: Forward-Forward ('ff') has a rate and a spiking form only. */
function ruleModeIssues(cfg: ResolvedConfig): LayerIssue[] {
  const modes = RULE_MODES[cfg.rule];
  if (!modes || modes.includes(cfg.mode)) return [];
  const names = modes.map((m) => `"${m}"`).join(' or ');
  return [{
    path: 'mode', value: cfg.mode,
    message: `mode = "${cfg.mode}" cannot be used with rule "${cfg.rule}": it is implemented for mode ${names}${modes.length > 1 ? ' (rate: the MLP; spiking: LIF layers, online in time)' : ''}; set mode to ${names}${cfg.rule === 'fa' ? ' (or leave it out)' : ''}`,
  }];
}

/** Recurrent and delayed projections: spiking sigprop and the bptt baseline train them, on hidden layers. */
function projectionIssues(cfg: ResolvedConfig): LayerIssue[] {
  const issues: LayerIssue[] = [];
  if ((cfg.rule === 'fa' || cfg.rule === 'dfa') && cfg.layers.length < 2) {
    issues.push({ path: 'layers', value: cfg.layers, message: `layers has only the output layer, but rule "${cfg.rule}" sends its error back to hidden layers; add one, e.g. layers = [{ "size": 1000 }, { "size": ${cfg.layers[0]?.size ?? 10} }]` });
  }
  const trains = networkKind(cfg) === 'spiking' && (cfg.rule === 'sigprop' || cfg.rule === 'bptt');
  cfg.layers.forEach((layer, i) => {
    for (const key of ['recurrent', 'delays'] as const) {
      if (layer[key] === undefined) continue;
      const why = i === cfg.layers.length - 1 ? 'the output layer is the readout' : !trains ? `${described(cfg)} does not train them` : undefined;
      if (why) issues.push({ path: `layers[${i}].${key}`, value: layer[key], message: `layers[${i}].${key} cannot be used with ${described(cfg)}: ${why}; use rule "sigprop" (mode "spiking") or "bptt" on a hidden layer` });
    }
  });
  return issues;
}

/** A model's parameter error, rewritten to name the layer's field path. */
function paramMessage(err: unknown, where: string, model: string, given: Record<string, unknown>): string {
  if (err instanceof UnknownParameterError) {
    return `${where}.${err.key} is not a parameter of model "${model}"${err.hint ? ` (did you mean "${err.hint}"?)` : ''}; its parameters: ${err.known.filter((k) => k !== 'dtMs').join(', ')}`;
  }
  const msg = err instanceof Error ? err.message : String(err);
  // checkNumber / checkOneOf / checkBool messages start with the parameter's name: "beta = 1.5 is out of range; beta must be ..."
  const key = Object.keys(given).find((k) => msg.startsWith(`${k} = `));
  if (key) return `${where}.${msg.split(`; ${key} must be`).join(`; ${where}.${key} must be`)}`;
  return `${where} (model "${model}"): ${msg.startsWith(`${model}: `) ? msg.slice(model.length + 2) : msg}`;
}
