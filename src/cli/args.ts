/**
 * Command-line parsing for `sigprop`: flag specs, a strict parser (unknown flags are usage
 * errors with a did-you-mean hint), config-override flags generated from the experiment schema,
 * and `--help` text with units and defaults.
 */
import { closest } from '../config/didyoumean.js';
import { describeAllowed, type Schema } from '../config/schema.js';
import { SigpropError } from '../errors.js';

/** A wrong command line: printed with a hint, exit code 2, never a stack trace. */
export class UsageError extends SigpropError {
  constructor(message: string, readonly hint?: string) {
    super(message, 'usage');
    this.name = 'UsageError';
  }
}

export type FlagType = 'string' | 'number' | 'boolean' | 'list';

/** One `--flag` of a command. */
export interface FlagSpec {
  /** Long name in kebab-case, without dashes. */
  name: string;
  type: FlagType;
  /**
   * What the flag does. A boolean flag with default true is listed in help as `--no-<name>`,
   * so its description says what the `--no-` form does (e.g. 'skip report.html').
   */
  description: string;
  /** Shown in help; the parsed value when the flag is absent. */
  default?: string | number | boolean;
  unit?: string;
  /** One-letter alias (e.g. 'o' for -o). */
  short?: string;
  /** Placeholder in help, e.g. 'DIR'. */
  placeholder?: string;
  /** A registry whose names help lists after the description ('; one of: ...'); see prepareSpec. */
  choices?: Choices;
}

/** Registries whose names a flag's help can list. */
export type Choices = 'backend' | 'encoder' | 'dataset';

/** Loaders of each registry's names (imported on demand: the registries load a lot of code). */
const CHOICE_LOADERS: Record<Choices, () => Promise<() => readonly string[]>> = {
  backend: async () => {
    const { backendNames } = await import('../backend/registry.js');
    return () => ['auto', ...backendNames()];
  },
  encoder: async () => (await import('../encoders.js')).encoderNames,
  dataset: async () => (await import('../data/index.js')).datasetNames,
};

/** Config fields whose values are registry names: their help lists the registry, not a fixed text. */
const CONFIG_CHOICES: Readonly<Record<string, Choices>> = { dataset: 'dataset', encoder: 'encoder', backend: 'backend' };

const loadedChoices = new Map<Choices, () => readonly string[]>();
let overridable: (() => [string, Schema][]) | undefined;

/**
 * Load what parsing and help of a command need beyond its flag specs: the experiment schema for
 * the config-override flags, and the registries that help lists. main() awaits this before
 * parseArgs / formatHelp, so that `sigprop --help` loads none of it.
 */
export async function prepareSpec(spec: Pick<ParseSpec, 'flags' | 'configFlags'>): Promise<void> {
  const keys = new Set<Choices>(spec.flags.flatMap((f) => (f.choices ? [f.choices] : [])));
  if (spec.configFlags) {
    overridable ??= (await import('../config/experiment-schema.js')).overridableFields;
    for (const k of Object.values(CONFIG_CHOICES)) keys.add(k);
  }
  for (const k of keys) if (!loadedChoices.has(k)) loadedChoices.set(k, await CHOICE_LOADERS[k]());
}

/** The names of a registry, once prepareSpec loaded it. */
export function choiceNames(c: Choices): readonly string[] | undefined {
  return loadedChoices.get(c)?.();
}

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** Takes all remaining positionals. */
  variadic?: boolean;
}

export type FlagValue = string | number | boolean | string[];

export interface ParsedArgs {
  positionals: string[];
  /** By kebab-case flag name (defaults filled in). */
  flags: Record<string, FlagValue>;
  /** Config-field overrides by camelCase field name (raw strings, parsed by src/config). */
  overrides: Record<string, string>;
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'help', short: 'h', type: 'boolean', description: 'show this help and exit' },
  { name: 'debug', type: 'boolean', description: 'print stack traces of internal errors' },
  { name: 'quiet', short: 'q', type: 'boolean', description: 'no progress bar or per-epoch lines' },
];

export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Config fields that can be overridden from the command line, as flag specs (kebab-case).
 * Needs `await prepareSpec({ flags: [], configFlags: true })` first (main() does it).
 */
export function configFlagSpecs(): (FlagSpec & { field: string; schema: Schema })[] {
  if (!overridable) throw new Error('configFlagSpecs: the experiment schema is not loaded; await prepareSpec(spec) first');
  return overridable().map(([field, schema]) => {
    const choices = CONFIG_CHOICES[field];
    const text = schema.description ?? field;
    const description = choices || describeAllowed(schema) === 'a string' ? text : `${text}; ${describeAllowed(schema)}`;
    return {
      name: kebab(field),
      field,
      schema,
      type: schema.type === 'number' ? 'number' : schema.type === 'boolean' ? 'boolean' : 'string',
      description,
      default: schema.default as string | number | boolean | undefined,
      unit: schema.type === 'number' ? schema.unit : undefined,
      choices,
    };
  });
}

export interface ParseSpec {
  command: string;
  flags: readonly FlagSpec[];
  positionals: readonly PositionalSpec[];
  /** Accept config override flags (--epochs 3, --learning-rate 0.01, ...). */
  configFlags?: boolean;
  /** Pass the first unknown flag and everything after it through as positionals (wrapped scripts). */
  passthrough?: boolean;
}

/**
 * Parse argv (after the subcommand). Accepts `--name value`, `--name=value`, `--flag`,
 * `--no-flag`, `-x value`, and `--` to end flags. camelCase spellings of flags are accepted.
 */
export function parseArgs(argv: readonly string[], spec: ParseSpec): ParsedArgs {
  const own = [...spec.flags, ...GLOBAL_FLAGS];
  const cfg = spec.configFlags ? configFlagSpecs() : [];
  const all: FlagSpec[] = [...own, ...cfg];
  const byName = new Map(all.map((f) => [f.name, f]));
  const byShort = new Map(all.filter((f) => f.short).map((f) => [f.short!, f]));
  const flags: Record<string, FlagValue> = {};
  const overrides: Record<string, string> = {};
  const positionals: string[] = [];
  const helpHint = `run 'sigprop ${spec.command} --help' for the accepted flags`;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = kebab(eq >= 0 ? arg.slice(2, eq) : arg.slice(2));
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const f = byShort.get(arg.slice(1));
      if (!f) throw new UsageError(`unknown option ${arg} for 'sigprop ${spec.command}'`, helpHint);
      name = f.name;
    }
    let f = byName.get(name);
    let negated = false;
    if (!f && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      f = byName.get(name.slice(3));
      negated = true;
    }
    if (!f && spec.passthrough) {
      positionals.push(...argv.slice(i));
      break;
    }
    if (!f) {
      const hint = closest(name, all.map((x) => x.name));
      throw new UsageError(`unknown flag --${name} for 'sigprop ${spec.command}'${hint ? ` (did you mean --${hint}?)` : ''}`, helpHint);
    }
    let value: FlagValue;
    if (f.type === 'boolean') {
      if (inline !== undefined) {
        if (inline !== 'true' && inline !== 'false') throw new UsageError(`--${f.name}=${inline}: a switch takes no value or =true / =false`, helpHint);
        value = inline === 'true';
      } else value = !negated;
    } else {
      const text = inline ?? argv[++i];
      if (text === undefined || (inline === undefined && text.startsWith('--'))) {
        throw new UsageError(`--${f.name} needs a value${f.placeholder ? ` (${f.placeholder})` : ''}`, helpHint);
      }
      const isConfig = cfg.some((c) => c.name === f!.name) && !own.some((o) => o.name === f!.name);
      if (isConfig) value = text; // parsed and checked by src/config (messages name the field)
      else if (f.type === 'number') {
        const v = Number(text);
        if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${f.name} = ${JSON.stringify(text)} is not a number`, helpHint);
        value = v;
      } else if (f.type === 'list') {
        const prev = (flags[f.name] as string[] | undefined) ?? [];
        value = [...prev, ...splitListArg(text)];
      } else value = text;
    }
    const cfgFlag = cfg.find((c) => c.name === f!.name);
    if (cfgFlag && !own.some((o) => o.name === f!.name)) overrides[cfgFlag.field] = String(value);
    else flags[f.name] = value;
  }

  for (const f of own) {
    if (flags[f.name] !== undefined || f.default === undefined) continue;
    flags[f.name] = f.type === 'list' ? splitListArg(String(f.default)) : f.default;
  }
  if (!flags.help) {
    const required = spec.positionals.filter((p) => p.required);
    if (positionals.length < required.length) {
      throw new UsageError(`'sigprop ${spec.command}' needs ${required.map((p) => `<${p.name}>`).join(' ')}`, helpHint);
    }
    const variadic = spec.positionals.some((p) => p.variadic);
    if (!variadic && positionals.length > spec.positionals.length) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[spec.positionals.length])} for 'sigprop ${spec.command}'`, helpHint);
    }
  }
  return { positionals, flags, overrides };
}

/**
 * Split the value of a list flag into its items, on the commas that start a new item:
 * - commas inside (), [] or {} belong to the item ('custom:f=max(0,1-abs(x))', 'record.neurons=[0,1,2]');
 * - a piece `key=value` (a bare identifier before '=') after an item with parameters (`name:...`,
 *   the ':' before any '=') is one more parameter of that item: 'spikeRateEscape:beta=2,k=3,atan'
 *   gives ['spikeRateEscape:beta=2,k=3', 'atan'] (specs also accept ';' between parameters).
 * So '--set a=1,b=2' and '--set surrogate=atan:alpha=2,steps=10' still give two settings each.
 * Items are trimmed; empty ones are dropped.
 */
export function splitListArg(text: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (i === text.length || (c === ',' && depth === 0)) {
      pieces.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const items: string[] = [];
  for (const piece of pieces) {
    if (piece === '') continue;
    const prev = items.at(-1);
    if (prev !== undefined && /^[^=]*:/.test(prev) && /^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(piece)) items[items.length - 1] = `${prev},${piece}`;
    else items.push(piece);
  }
  return items;
}

function flagLine(f: FlagSpec): [string, string] {
  const value = f.type === 'boolean' ? '' : ` ${f.placeholder ?? (f.type === 'number' ? 'N' : f.type === 'list' ? 'A,B,...' : 'VALUE')}`;
  const negated = f.type === 'boolean' && f.default === true;
  const left = `${f.short ? `-${f.short}, ` : '    '}--${negated ? 'no-' : ''}${f.name}${value}`;
  const extras: string[] = [];
  if (f.unit && !f.description.includes(`(${f.unit})`)) extras.push(`unit: ${f.unit}`);
  if (f.default !== undefined && f.type !== 'boolean') extras.push(`default: ${f.default}`);
  const names = f.choices ? choiceNames(f.choices) : undefined;
  const description = names?.length ? `${f.description}; one of: ${names.join(', ')}` : f.description;
  return [left, `${description}${extras.length ? ` [${extras.join(', ')}]` : ''}`];
}

/** Two-column text with wrapped right column. */
export function columns(rows: readonly [string, string][], indent = 2, width = 100): string {
  const leftWidth = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows
    .map(([l, r]) => {
      const words = r.split(' ');
      const lines: string[] = [];
      let cur = '';
      for (const w of words) {
        if (cur && cur.length + 1 + w.length > width - indent - leftWidth) {
          lines.push(cur);
          cur = w;
        } else cur = cur ? `${cur} ${w}` : w;
      }
      lines.push(cur);
      const pad = ' '.repeat(indent);
      const first = l.length + 2 > leftWidth ? `${pad}${l}\n${pad}${' '.repeat(leftWidth)}${lines[0]}` : `${pad}${l.padEnd(leftWidth)}${lines[0]}`;
      return [first, ...lines.slice(1).map((x) => `${pad}${' '.repeat(leftWidth)}${x}`)].join('\n');
    })
    .join('\n');
}

export interface HelpSpec extends ParseSpec {
  summary: string;
  usage: string;
  description?: string;
  examples?: readonly string[];
}

/** The `--help` text of a command. */
export function formatHelp(spec: HelpSpec): string {
  const parts = [`sigprop ${spec.command} — ${spec.summary}`, '', `Usage: ${spec.usage}`];
  if (spec.description) parts.push('', spec.description);
  if (spec.positionals.length) parts.push('', 'Arguments:', columns(spec.positionals.map((p) => [`<${p.name}>${p.variadic ? '...' : ''}`, `${p.description}${p.required ? '' : ' (optional)'}`])));
  if (spec.flags.length) parts.push('', 'Options:', columns(spec.flags.map(flagLine)));
  if (spec.configFlags) {
    parts.push('', 'Config overrides (replace the config file\'s field; camelCase also accepted, e.g. --learningRate):', columns(configFlagSpecs().map(flagLine)));
  }
  parts.push('', 'Global options:', columns(GLOBAL_FLAGS.map(flagLine)));
  if (spec.examples?.length) parts.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return parts.join('\n') + '\n';
}
