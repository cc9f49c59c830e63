/**
 * Inline equation models in configs: `layers[i].model` may be an object with the fields of
 * defineEquationModel's spec (models/equation.ts; `name` optional) instead of a registry name.
 * It is validated by building the model.
 */
import { defineEquationModel, type EquationModelSpec } from '../../models/equation.js';
import type { NeuronModel } from '../../models/model.js';
import { closest } from './didyoumean.js';
import type { InlineModelSpec } from './types.js';

/** The fields an inline model may have (EquationModelSpec's). */
export const INLINE_MODEL_FIELDS = ['name', 'equations', 'threshold', 'reset', 'parameters', 'init', 'method', 'voltage', 'output'] as const;

/** Name given to an inline model without one. */
export const INLINE_MODEL_NAME = 'inline';

/** Build the model an inline spec describes (throws ParameterError, as defineEquationModel does). */
export function buildInlineModel(spec: InlineModelSpec): NeuronModel<Record<string, number> & { dtMs: number }> {
  return defineEquationModel({ ...spec, name: spec.name ?? INLINE_MODEL_NAME } as EquationModelSpec);
}

/** What is wrong with an inline model object (unknown field, or the error building it gives), or undefined. */
export function inlineModelIssue(value: Record<string, unknown>): string | undefined {
  for (const k of Object.keys(value)) {
    if (!(INLINE_MODEL_FIELDS as readonly string[]).includes(k)) {
      const hint = closest(k, INLINE_MODEL_FIELDS);
      return `"${k}" is not a field of an inline equation model${hint ? ` (did you mean "${hint}"?)` : ''}; its fields: ${INLINE_MODEL_FIELDS.join(', ')}`;
    }
  }
  if (value.equations === undefined) return 'an inline equation model needs "equations" (e.g. "dv/dt = (-v + I)/tau")';
  if (value.name !== undefined && typeof value.name !== 'string') return '"name" must be a string';
  try {
    buildInlineModel(value as InlineModelSpec);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const name = typeof value.name === 'string' && value.name ? value.name : INLINE_MODEL_NAME;
    return msg.startsWith(`${name}: `) ? msg.slice(name.length + 2) : msg;
  }
  return undefined;
}

/** A layer's model as written in messages: `"lif"` or `an inline equation model ("name")`. */
export function modelLabel(model: string | InlineModelSpec): string {
  return typeof model === 'string' ? `"${model}"` : `an inline equation model ("${model.name ?? INLINE_MODEL_NAME}")`;
}

/** What the engine's Layer takes for a config layer's model: the registry name, or the built inline model. */
export function layerModel(model: string | InlineModelSpec): string | NeuronModel<Record<string, number> & { dtMs: number }> {
  return typeof model === 'string' ? model : buildInlineModel(model);
}
