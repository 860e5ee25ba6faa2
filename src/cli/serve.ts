import { defaultProvider } from '../secagg/index.js';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadFederationConfig } from '../server/config.js';
import { startCoordinator } from '../server/start.js';
import { readFileSync } from 'node:fs';
import { FedveilError } from '../secagg/index.js';
import type { FederationConfig } from '../server/config.js';
import { countParams, getFlatWeights, initBackend } from '../trainer/index.js';
import { federationModel } from './client.js';

/**
 * Version 0 of the global model: a raw little-endian float32 file when given, else the freshly
 * initialised trainer model of the config. Its length must equal the config's `dim`.
 */
export async function initialWeights(config: FederationConfig, file: string | undefined, seed: number): Promise<Float32Array> {
  let weights: Float32Array;
  if (file !== undefined) {
    const bytes = readFileSync(file);
    if (bytes.length % 4 !== 0) throw new FedveilError('cli/bad-model-file', `${file} is not a whole number of float32 values`);
    weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  } else {
    const model = await federationModel(config.model, seed);
    if (countParams(model) !== config.dim) {
      throw new FedveilError('cli/dim-mismatch', `model '${config.model.name}' has ${countParams(model)} parameters but the config says dim ${config.dim}`);
    }
    weights = getFlatWeights(model);
  }
  if (weights.length !== config.dim) throw new FedveilError('cli/dim-mismatch', `initial model has ${weights.length} values, config dim is ${config.dim}`);
  return weights;
}

interface ServeOptions {
  config: string;
  host?: string;
  port?: number;
  initialModel?: string;
  export?: string;
  quiet?: boolean;
}

const port = (raw: string): number => {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0 || v > 65_535) throw new InvalidArgumentError(`port must be an integer in [0, 65535], got ${raw}.`);
  return v;
};

/**
 * `fedveil serve --config FILE`: runs a coordinator until the federation's rounds are done (or
 * SIGINT/SIGTERM), then writes the audit bundle (ledger.jsonl, coordinator-key.json,
 * report.json). Prints the listening URL on stdout; log lines go to stderr.
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a federation coordinator (HTTP API under /v1)')
    .requiredOption('--config <file>', 'federation config (YAML or JSON)')
    .option('--host <host>', 'listen address (overrides the config)')
    .option('--port <port>', 'listen port, 0 = ephemeral (overrides the config)', port)
    .option('--initial-model <file>', 'initial global weights as raw little-endian float32 (default: the config model, freshly initialised)')
    .option('--export <dir>', 'where to write the audit bundle at the end (default: audit/ beside the storage file)')
    .option('--quiet', 'no log lines')
    .action(async (opts: ServeOptions) => {
      const loaded = loadFederationConfig(opts.config);
      const config = {
        ...loaded,
        listen: { host: opts.host ?? loaded.listen.host, port: opts.port ?? loaded.listen.port },
      };
      const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      if (opts.initialModel === undefined) await initBackend();
      const weights = await initialWeights(config, opts.initialModel, 0);
      const running = await startCoordinator({ config, initialModel: weights, log });
      process.stdout.write(`${running.url}\n`);
      log(`coordinator for '${config.federationId}' listening on ${running.url} (crypto ${defaultProvider.name}, coordinator key ${Buffer.from(running.coordinator.publicKey).toString('hex')})`);
      const stop = new Promise<void>((done) => {
        const onSignal = () => done();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        // After the last round, keep answering for a moment so clients learn how it ended.
        void running.coordinator.finished.then(() => setTimeout(done, Math.min(5_000, config.longPollMs)));
      });
      await stop;
      const dir = opts.export ?? (config.storage.path === ':memory:' ? resolve('audit') : join(dirname(resolve(config.storage.path)), 'audit'));
      const paths = await running.exportAudit(dir);
      const eps = running.coordinator.epsilonSpent();
      await running.close();
      log(`audit bundle: ${paths.ledger}, ${paths.coordinatorKey}, ${paths.report}; ε = ${eps === null ? 'unbounded' : eps.toFixed(4)}`);
    });
}
