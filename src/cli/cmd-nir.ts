/**
 * `sigprop nir info|simulate|export|import`: NIR (Neuromorphic Intermediate Representation) graphs.
 * The implementation (src/interop, h5wasm) is imported inside `run`, so that `sigprop --help`
 * loads none of it.
 */
import { resolve } from 'node:path';
import { UsageError, type ParsedArgs } from './args.js';
import type { CliIO, Command } from './command.js';

const ACTIONS = ['info', 'simulate', 'export', 'import'] as const;

export const nirCommand: Command = {
  command: 'nir',
  summary: 'NIR graphs (neuromorphic interchange format): describe or simulate a .nir file, export a trained run, import a network to fine-tune',
  usage: 'sigprop nir info <file.nir> | sigprop nir simulate <file.nir> --dt-ms X --input in.csv -o out.csv | sigprop nir export <run-dir> -o net.nir --dt-ms X\n' +
    '       sigprop nir import <file.nir> --dt-ms X --dataset NAME -o <run-dir> [--reset subtract|zero] [--dataset-param K=N] [--epochs N] [--learning-rate LR] [--seed N] [--backend NAME] [--steps T] [--encoder SPEC]',
  description:
    "nir info prints the nodes (type and parameter shapes, nested graphs indented), the edges, the nodes that form cycles (recurrence) and the engine layers simulate and import make of them (or why they cannot). " +
    'nir simulate runs a chain Input -> (Affine|Linear|Scale|Delay|Flatten) -> (LIF|CubaLIF|LI|CubaLI|IF|I|Threshold) -> ... -> Output on the engine ' +
    'with step --dt-ms (NIR files carry no dt; NIR time constants are in seconds); a loop from a neuron node through linear nodes back to itself ' +
    "is that layer's recurrent projection (fed by its spikes of the step before), Delay nodes are delays in whole steps of dt, nested graphs are inlined. " +
    'The input CSV holds one row per step and one column per input channel (a header line is allowed); the output CSV holds, per step, the voltage and spikes of every neuron ' +
    'of the node feeding the Output (or --node), with a header. ' +
    'nir export writes a trained spiking sigprop run (its LIF or synaptic LIF layers as LIF or CubaLIF, recurrent layers as a loop, delays as Delay nodes, ' +
    'and the leaky readout as LI, from checkpoint.ckpt) with the time constants for step --dt-ms; what NIR cannot keep (reset by subtraction, a membrane floor) is printed as a warning. ' +
    'nir import turns a network of LIF, IF, CubaLIF or Threshold hidden nodes (recurrent or delayed) and an LI, CubaLI, LIF or CubaLIF readout into a spiking ' +
    'sigprop run folder at epoch 0 (the NIR weights, a fresh target projection and optimiser), trained at step --dt-ms on --dataset (--dataset-param for a synthetic task\'s sizes); ' +
    "eval, traces and 'sigprop run --resume <run-dir> --epochs N' take it, and its report shows the NIR graph. --reset zero keeps NIR's reset to zero (the run spikes as the file says); " +
    'by default the hidden layers reset by subtraction (what spiking sigprop trains exactly; printed as a warning). ' +
    'Refused with the node, the parameter and the reason: convolutions and pooling (not supported yet), branching graphs, per-neuron time constants, a nonzero v_reset, ' +
    'and for import a non-spiking hidden node, delays that differ between connections, sizes that do not fit the dataset.',
  positionals: [
    { name: 'action', description: `what to do: ${ACTIONS.join(' or ')}`, required: true },
    { name: 'file', description: 'a .nir file (HDF5); for export, a run folder or checkpoint file', required: true },
  ],
  flags: [
    { name: 'dt-ms', type: 'number', unit: 'ms', description: 'simulate, export, import: the time step (required; e.g. 0.1)' },
    { name: 'input', type: 'string', placeholder: 'FILE', description: 'simulate: input CSV, one row per step, one column per input channel' },
    { name: 'out', short: 'o', type: 'string', placeholder: 'FILE', description: 'simulate: output CSV (default: print to stdout); export: the .nir file to write (required); import: the run folder to create (required)' },
    { name: 'force', type: 'boolean', description: 'replace an existing output file (simulate -o, export); without it an existing file is never overwritten' },
    { name: 'node', type: 'string', placeholder: 'NAME', description: 'simulate: record this neuron node instead of the one feeding the Output' },
    { name: 'spikes', type: 'string', placeholder: 'CONVENTION', description: "simulate: what a NIR spike is downstream: step (default: a value 1 held over one step, its effect scales with dt) or dirac (a pulse of unit integral: spike-fed weights times 1/dt, the same effect at any dt)" },
    { name: 'dataset', type: 'string', placeholder: 'NAME', description: 'import: the dataset the run fine-tunes on (required; its input size and class count must match the network)' },
    { name: 'epochs', type: 'number', description: 'import: epochs of the run (a later --resume may change it)' },
    { name: 'learning-rate', type: 'number', description: 'import: base learning rate of the fine-tuning' },
    { name: 'seed', type: 'number', description: 'import: seed of the target projection, data order and encoder' },
    { name: 'backend', type: 'string', placeholder: 'NAME', description: "import: compute backend ('reference', 'wasm', 'gpu', 'auto')" },
    { name: 'steps', type: 'number', description: 'import: time steps per sample (NIR files carry none; default 25, as in a config)' },
    { name: 'encoder', type: 'string', placeholder: 'SPEC', description: "import: input encoder, e.g. 'rate' (default) or 'direct'" },
    { name: 'train-size', type: 'number', description: 'import: train on a seeded class-balanced subset of this many samples (default: all)' },
    { name: 'test-size', type: 'number', description: 'import: evaluate on this many test samples (default: all)' },
    { name: 'batch-size', type: 'number', description: 'import: samples per batch (default 64, as in a config)' },
    { name: 'dataset-param', type: 'list', placeholder: 'KEY=N', description: "import: a parameter of a synthetic dataset, e.g. --dataset-param inputs=12,classes=7 (repeatable)" },
    { name: 'reset', type: 'string', placeholder: 'MODE', description: "import: how the hidden layers reset: subtract (default; what spiking sigprop trains exactly) or zero (NIR's reset: the run spikes as the NIR file says)" },
  ],
  examples: [
    'sigprop nir info two_lif_neurons.nir',
    'sigprop nir simulate two_lif_neurons.nir --dt-ms 0.1 --input in.csv -o out.csv',
    'sigprop nir export runs/mnist-lif-20260101-120000 -o mnist-lif.nir --dt-ms 1',
    'sigprop nir import mnist-lif.nir --dt-ms 1 --dataset mnist -o runs/mnist-lif-tuned && sigprop run --resume runs/mnist-lif-tuned --epochs 3',
    'sigprop nir import braille.nir --dt-ms 0.1 --reset zero --dataset spike-patterns --dataset-param inputs=12,classes=7,timeSteps=50 --encoder raster --steps 50 -o runs/braille',
  ],
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const [action, file] = args.positionals;
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown nir action '${action}'`, `use one of: ${ACTIONS.join(', ')}; run 'sigprop nir --help'`);
    }
    if (action === 'export') return exportRun(args, io, file);
    if (action === 'import') return importRun(args, io, file);
    const { readNir, describeNir } = await import('../interop/nir.js');
    if (action === 'info') {
      const doc = await readNir(resolve(file));
      io.out(describeNir(doc, file));
      io.out(await engineMapping(doc.graph));
      return 0;
    }
    const dtMs = dtFlag(args, 'simulate');
    const out = args.flags.out as string | undefined;
    if (out !== undefined) await refuseExisting(args, out);
    const inputFile = args.flags.input as string | undefined;
    if (inputFile === undefined) throw new UsageError("'sigprop nir simulate' needs --input FILE (CSV: one row per step, one column per input channel)");
    const { readFileSync } = await import('node:fs');
    const { fileSystemError, writeFileAtomic } = await import('../io.js');
    const { parseNirInputCsv, planNir, simulateNir, nirTraceCsv } = await import('../interop/nir-sim.js');
    const doc = await readNir(resolve(file));
    const plan = planNir(doc.graph, dtMs);
    let text: string;
    try {
      text = readFileSync(resolve(inputFile), 'utf8');
    } catch (err) {
      throw fileSystemError(err, resolve(inputFile), 'read');
    }
    const input = parseNirInputCsv(text, plan.inputSize, inputFile);
    const spikes = args.flags.spikes as string | undefined;
    if (spikes !== undefined && spikes !== 'step' && spikes !== 'dirac') throw new UsageError(`--spikes = ${JSON.stringify(spikes)}: give step or dirac`);
    const sim = simulateNir(doc.graph, input, { dtMs, ...(spikes ? { spikes: spikes as 'step' | 'dirac' } : {}) });
    const csv = nirTraceCsv(sim, (args.flags.node as string | undefined) ?? sim.outputNode);
    if (out === undefined) io.out(csv);
    else {
      writeFileAtomic(resolve(out), csv);
      const spikes = sim.nodes.map((t) => `${t.node} ${t.spikes ? t.spikes.reduce((a, b) => a + b, 0) : '-'}`).join(', ');
      io.out(`simulated ${sim.steps} steps of ${dtMs} ms (${Number((sim.steps * dtMs).toPrecision(6))} ms); spikes per node: ${spikes}\nwrote ${resolve(out)}\n`);
    }
    return 0;
  },
};

/** How simulate and import map the graph onto engine layers (structure at dt = 1 ms), or why they cannot. */
async function engineMapping(graph: import('../interop/nir.js').NirGraph): Promise<string> {
  const { planNir } = await import('../interop/nir-sim.js');
  try {
    const plan = planNir(graph, 1);
    const layers = plan.layers.map((l) => {
      const model = typeof l.spec.model === 'string' ? l.spec.model : 'model';
      const from = [...l.linear, ...(l.recurrentLinear?.length ? [`loop ${l.recurrentLinear.join(' -> ')}`] : [])].join(', ');
      return `  ${l.node} (${l.type}, ${l.size}) -> ${model} layer${l.spec.recurrent ? `, recurrent ${l.spec.recurrent}` : ''}${l.spec.delays !== undefined ? ', delayed' : ''}${from ? `; weights from ${from}` : ''}`;
    });
    return `engine layers (sigprop nir simulate / import):\n${layers.join('\n')}\n`;
  } catch (err) {
    return `engine layers: none; ${(err as Error).message}\n`;
  }
}

function dtFlag(args: ParsedArgs, action: string): number {
  const dtMs = args.flags['dt-ms'] as number | undefined;
  if (dtMs === undefined) throw new UsageError(`'sigprop nir ${action}' needs --dt-ms X (NIR files carry no time step)`, 'e.g. --dt-ms 0.1');
  if (!(dtMs > 0)) throw new UsageError(`--dt-ms = ${dtMs} must be > 0`);
  return dtMs;
}

async function exportRun(args: ParsedArgs, io: CliIO, source: string): Promise<number> {
  const dtMs = dtFlag(args, 'export');
  const out = args.flags.out as string | undefined;
  if (out === undefined) throw new UsageError("'sigprop nir export' needs -o FILE (the .nir file to write)", 'e.g. -o net.nir');
  await refuseExisting(args, out);
  const { exportRunToNir } = await import('../interop/nir-export.js');
  const r = await exportRunToNir(resolve(source), resolve(out), { dtMs });
  for (const w of r.warnings) io.err(`warning: ${w}\n`);
  const nodes = Object.entries(r.doc.graph.nodes).map(([n, node]) => `${n} (${node.type})`).join(' -> ');
  io.out(`wrote ${r.path}: ${nodes}\n`);
  return 0;
}

async function importRun(args: ParsedArgs, io: CliIO, source: string): Promise<number> {
  const dtMs = dtFlag(args, 'import');
  const out = args.flags.out as string | undefined;
  if (out === undefined) throw new UsageError("'sigprop nir import' needs -o DIR (the run folder to create)", 'e.g. -o runs/imported');
  const dataset = args.flags.dataset as string | undefined;
  if (dataset === undefined) throw new UsageError("'sigprop nir import' needs --dataset NAME (the data the run fine-tunes on)", 'e.g. --dataset mnist');
  const f = args.flags;
  const { importNirRun } = await import('../interop/nir-import.js');
  const { cliCommand } = await import('../invocation.js');
  const r = await importNirRun(resolve(source), {
    dtMs, dataset, runDir: out,
    ...(f.epochs !== undefined ? { epochs: f.epochs as number } : {}),
    ...(f['learning-rate'] !== undefined ? { learningRate: f['learning-rate'] as number } : {}),
    ...(f.seed !== undefined ? { seed: f.seed as number } : {}),
    ...(f.backend !== undefined ? { backend: f.backend as string } : {}),
    ...(f.steps !== undefined ? { steps: f.steps as number } : {}),
    ...(f.encoder !== undefined ? { encoder: f.encoder as string } : {}),
    ...(f['train-size'] !== undefined ? { trainSize: f['train-size'] as number } : {}),
    ...(f['test-size'] !== undefined ? { testSize: f['test-size'] as number } : {}),
    ...(f['batch-size'] !== undefined ? { batchSize: f['batch-size'] as number } : {}),
    ...(f['dataset-param'] !== undefined ? { datasetParams: datasetParams(f['dataset-param'] as string[]) } : {}),
    ...(f.reset !== undefined ? { reset: resetFlag(f.reset as string) } : {}),
  });
  for (const w of r.warnings) io.err(`warning: ${w}\n`);
  const sizes = r.config.layers.map((l) => l.size).join('-');
  io.out(`imported ${r.hiddenNodes.join(', ')} -> ${r.readoutNode} (${sizes}) as a spiking sigprop run at epoch 0: ${r.runDir}\n` +
    (r.reportPath ? `report (the NIR graph and the config): ${r.reportPath}\n` : '') +
    `fine-tune it with: ${cliCommand()} run --resume ${r.runDir} --epochs N\n`);
  return 0;
}

/** --dataset-param KEY=N pieces as an object of numbers. */
function datasetParams(pieces: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pieces) {
    const m = /^\s*([A-Za-z_][\w]*)\s*=\s*(\S+)\s*$/.exec(p);
    if (!m || !Number.isFinite(Number(m[2]))) throw new UsageError(`--dataset-param ${JSON.stringify(p)} is not KEY=NUMBER`, 'e.g. --dataset-param inputs=12,classes=7');
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function resetFlag(v: string): 'subtract' | 'zero' {
  if (v !== 'subtract' && v !== 'zero') throw new UsageError(`--reset = ${JSON.stringify(v)}: give 'subtract' or 'zero'`);
  return v;
}

/** An existing -o file is replaced only with --force. */
async function refuseExisting(args: ParsedArgs, out: string): Promise<void> {
  const { existsSync } = await import('node:fs');
  const { SigpropError } = await import('../errors.js');
  if (existsSync(resolve(out)) && args.flags.force !== true) {
    throw new SigpropError(`${resolve(out)} already exists; choose another -o FILE, or pass --force to replace it`, 'io');
  }
}
