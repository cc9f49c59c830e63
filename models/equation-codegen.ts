/**
 * Translate a mathjs expression tree into a JavaScript expression string, for the compiled
 * kernels of equation-defined models. Only a closed set of node types, operators and
 * functions is accepted, and every symbol is mapped through a caller-supplied table, so the
 * generated code cannot reach anything but the model's own variables and Math.
 */
import type { MathNode } from 'mathjs';

/** Raised for an unsupported construct; the caller wraps it with the equation's text. */
export class CodegenError extends Error {}

interface FnSpec {
  /** Allowed argument counts (min, max); max Infinity for variadic. */
  arity: [number, number];
  emit(args: string[]): string;
}

const m1 = (f: string): FnSpec => ({ arity: [1, 1], emit: (a) => `Math.${f}(${a[0]})` });

/** Functions an equation may call (numbers only). */
export const EQUATION_FUNCTIONS: Readonly<Record<string, FnSpec>> = {
  exp: m1('exp'), expm1: m1('expm1'), log10: m1('log10'), log2: m1('log2'), log1p: m1('log1p'),
  sqrt: m1('sqrt'), cbrt: m1('cbrt'), abs: m1('abs'), sign: m1('sign'),
  sin: m1('sin'), cos: m1('cos'), tan: m1('tan'), asin: m1('asin'), acos: m1('acos'), atan: m1('atan'),
  sinh: m1('sinh'), cosh: m1('cosh'), tanh: m1('tanh'), floor: m1('floor'), ceil: m1('ceil'), round: m1('round'),
  log: { arity: [1, 2], emit: (a) => (a.length === 1 ? `Math.log(${a[0]})` : `(Math.log(${a[0]}) / Math.log(${a[1]}))`) },
  atan2: { arity: [2, 2], emit: (a) => `Math.atan2(${a[0]}, ${a[1]})` },
  pow: { arity: [2, 2], emit: (a) => `Math.pow(${a[0]}, ${a[1]})` },
  min: { arity: [1, Infinity], emit: (a) => `Math.min(${a.join(', ')})` },
  max: { arity: [1, Infinity], emit: (a) => `Math.max(${a.join(', ')})` },
  square: { arity: [1, 1], emit: (a) => `((${a[0]}) * (${a[0]}))` },
  cube: { arity: [1, 1], emit: (a) => `((${a[0]}) * (${a[0]}) * (${a[0]}))` },
};

/** Named constants usable in equations (unless a variable or parameter has the same name). */
export const EQUATION_CONSTANTS: Readonly<Record<string, string>> = { pi: 'Math.PI', e: 'Math.E', Infinity: 'Infinity' };

const cmp = (op: string) => (a: string[]) => `((${a[0]}) ${op} (${a[1]}) ? 1 : 0)`;
const fold = (op: string) => (a: string[]) => `(${a.join(` ${op} `)})`;

/** mathjs operator functions (OperatorNode.fn) and their JavaScript forms. */
const OPERATORS: Readonly<Record<string, (a: string[]) => string>> = {
  add: fold('+'), subtract: fold('-'), multiply: fold('*'), divide: fold('/'),
  dotMultiply: fold('*'), dotDivide: fold('/'),
  pow: (a) => `Math.pow(${a[0]}, ${a[1]})`, dotPow: (a) => `Math.pow(${a[0]}, ${a[1]})`,
  mod: (a) => `__mod(${a[0]}, ${a[1]})`,
  unaryMinus: (a) => `(-(${a[0]}))`, unaryPlus: (a) => `(+(${a[0]}))`,
  not: (a) => `((${a[0]}) ? 0 : 1)`,
  and: (a) => `((${a[0]}) && (${a[1]}) ? 1 : 0)`,
  or: (a) => `((${a[0]}) || (${a[1]}) ? 1 : 0)`,
  xor: (a) => `(!(${a[0]}) !== !(${a[1]}) ? 1 : 0)`,
  equal: cmp('==='), unequal: cmp('!=='), smaller: cmp('<'), larger: cmp('>'),
  smallerEq: cmp('<='), largerEq: cmp('>='),
};

/** Helper definitions the generated code may reference. */
export const CODEGEN_PRELUDE = 'const __mod = (x, y) => x - y * Math.floor(x / y);';

/** All symbol names (not function names) an expression reads. */
export function symbolsOf(node: MathNode): Set<string> {
  const names = new Set<string>();
  const visit = (n: MathNode, isFnName: boolean): void => {
    const a = n as unknown as Record<string, unknown>;
    if (n.type === 'SymbolNode') {
      if (!isFnName) names.add(a.name as string);
      return;
    }
    if (n.type === 'FunctionNode') {
      visit(a.fn as MathNode, true);
      for (const c of a.args as MathNode[]) visit(c, false);
      return;
    }
    n.forEach((c: MathNode) => visit(c, false));
  };
  visit(node, false);
  return names;
}

/**
 * Emit JavaScript for `node`. `symbol(name)` returns the JS identifier for a model symbol, or
 * undefined when the name is not defined (then a CodegenError names it).
 */
export function emitJs(node: MathNode, symbol: (name: string) => string | undefined): string {
  const a = node as unknown as Record<string, unknown>;
  switch (node.type) {
    case 'ConstantNode': {
      const v = a.value;
      if (typeof v === 'number') return Number.isFinite(v) ? `(${String(v)})` : String(v);
      if (typeof v === 'boolean') return v ? '1' : '0';
      throw new CodegenError(`constant ${JSON.stringify(v)} is not a number`);
    }
    case 'SymbolNode': {
      const name = a.name as string;
      const js = symbol(name) ?? EQUATION_CONSTANTS[name];
      if (js === undefined) throw new CodegenError(`unknown symbol '${name}'`);
      return js;
    }
    case 'ParenthesisNode':
      return `(${emitJs(a.content as MathNode, symbol)})`;
    case 'OperatorNode': {
      const fn = a.fn as string;
      const emit = OPERATORS[fn];
      if (!emit) throw new CodegenError(`operator '${a.op as string}' (${fn}) is not supported`);
      return emit((a.args as MathNode[]).map((c) => emitJs(c, symbol)));
    }
    case 'FunctionNode': {
      const fnNode = a.fn as MathNode & { name?: string };
      const name = fnNode.type === 'SymbolNode' ? (fnNode.name as string) : '';
      const spec = EQUATION_FUNCTIONS[name];
      if (!spec) {
        throw new CodegenError(
          `unknown function '${name || fnNode.toString()}'; known functions: ${Object.keys(EQUATION_FUNCTIONS).join(', ')}`,
        );
      }
      const args = a.args as MathNode[];
      if (args.length < spec.arity[0] || args.length > spec.arity[1]) {
        const want = spec.arity[0] === spec.arity[1] ? `${spec.arity[0]}` : `${spec.arity[0]} or more`;
        throw new CodegenError(`function '${name}' takes ${spec.arity[1] === 2 && spec.arity[0] === 1 ? '1 or 2' : want} argument(s), got ${args.length}`);
      }
      return spec.emit(args.map((c) => emitJs(c, symbol)));
    }
    case 'ConditionalNode':
      return `((${emitJs(a.condition as MathNode, symbol)}) ? (${emitJs(a.trueExpr as MathNode, symbol)}) : (${emitJs(a.falseExpr as MathNode, symbol)}))`;
    default:
      throw new CodegenError(`'${node.toString()}' (${node.type}) is not supported in an equation`);
  }
}
