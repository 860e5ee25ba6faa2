import { defaultProvider } from '../secagg/index.js';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadFederationConfig } from '../server/config.js';
import { startCoordinator, type RunningCoordinator } from '../server/start.js';
import { normalizeOrigin } from '../server/cors.js';
import { readFileSync } from 'node:fs';
import { FedveilError } from '../secagg/index.js';
import type { FederationConfig } from '../server/config.js';
import { countParams, evaluate, getFlatWeights, initBackend, type Dataset } from '../trainer/index.js';
import type { RoundSummary } from '../server/coordinator.js';
import { evaluationLogLine } from '../server/evaluation-log.js';
import { noiseWarnings } from '../server/noise-outlook.js';
import type * as tf from '@tensorflow/tfjs';
import { federationModel } from './client.js';
import { writeReleasedModel } from './model-files.js';
import { standardizedRows, standardizedSchema } from '../server/federated-statistics.js';
import { readTabularFile } from './tabular-file.js';
import { saveModelVersion } from './canary-audit-files.js';

/**
 * Version 0 of the global model: a raw little-endian float32 file when given, else the freshly
 * initialised trainer model of the config. Its length must equal the config's `dim`.
 */
export async function initialWeights(config: FederationConfig, file: string | undefined, seed: number, model?: tf.LayersModel): Promise<Float32Array> {
  let weights: Float32Array;
  if (file !== undefined) {
    const bytes = readFileSync(file);
    if (bytes.length % 4 !== 0) throw new FedveilError('cli/bad-model-file', `${file} is not a whole number of float32 values`);
    weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  } else {
    weights = getFlatWeights(model ?? (await checkedModel(config, seed)));
  }
  if (weights.length !== config.dim) throw new FedveilError('cli/dim-mismatch', `initial model has ${weights.length} values, config dim is ${config.dim}`);
  return weights;
}

/** The config's trainer model, checked against its `dim`. */
async function checkedModel(config: FederationConfig, seed: number): Promise<tf.LayersModel> {
  const model = await federationModel(config.model, seed);
  if (countParams(model) !== config.dim) {
    throw new FedveilError('cli/dim-mismatch', `model '${config.model.name}' has ${countParams(model)} parameters but the config says dim ${config.dim}`);
  }
  return model;
}

interface ServeOptions {
  config: string;
  host?: string;
  port?: number;
  initialModel?: string;
  export?: string;
  testData?: string;
  quiet?: boolean;
  corsOrigin?: string[];
  amend?: boolean | string;
}

/**
 * `--cors-origin` values as the origins browsers send (`https://fl.example.org/page/` becomes
 * `https://fl.example.org`). Throws FedveilError `cli/bad-option`, naming the flag, for a value
 * that is no http(s) URL, and for a host with `*` or a URL with credentials: browsers never send
 * such an origin, so the operator meant a wildcard or a login the header cannot express, and the
 * page would silently be refused.
 */
export function corsOrigins(values: readonly string[]): string[] {
  return values.map((v) => {
    let url: URL | null = null;
    try {
      url = new URL(v);
    } catch {
      url = null;
    }
    if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new FedveilError('cli/bad-option', `--cors-origin must be an http(s) origin such as https://fl.example.org, got ${v}`);
    }
    if (url.hostname.includes('*')) {
      throw new FedveilError('cli/bad-option', `--cors-origin takes exact origins, not wildcards: list each origin, got ${v}`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new FedveilError('cli/bad-option', `--cors-origin must be an origin without a user name or password, got ${v}`);
    }
    return normalizeOrigin(v);
  });
}

/** The operator's own test set (`--test-data`), checked against the federation's data schema. */
function readTestData(file: string, config: FederationConfig): Dataset {
  if (config.data === undefined) {
    throw new FedveilError('cli/no-data-schema', `--test-data needs a federation whose config has a data section (features, label, classes): ${file} cannot be read without one`);
  }
  return readTabularFile(file, config.data, { name: `--test-data ${file}`, schema: "the federation's data schema" });
}

const port = (raw: string): number => {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0 || v > 65_535) throw new InvalidArgumentError(`port must be an integer in [0, 65535], got ${raw}.`);
  return v;
};

/** Longest the coordinator keeps answering after the last round, for clients to learn how it ended. */
const MAX_LINGER_MS = 60_000;

/**
 * `fedveil serve --config FILE`: runs a coordinator until the federation's rounds are done (or
 * SIGINT/SIGTERM). It starts its first round once `minJoined` participants have joined, and after
 * every released round writes the audit bundle (ledger.jsonl, coordinator-key.json, report.json)
 * and the model (model/: tfjs model.json, weights.bin, data-schema.json) into the export folder,
 * and once more at the end. Prints the listening URL on stdout, where the dashboard is served
 * unless the config turns it off; log lines go to stderr.
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a federation coordinator (HTTP API under /v1)')
    .requiredOption('--config <file>', 'federation config (YAML or JSON); paths in it are relative to its folder')
    .option('--host <host>', 'listen address (overrides the config)')
    .option('--port <port>', 'listen port, 0 = ephemeral (overrides the config)', port)
    .option('--initial-model <file>', 'initial global weights as raw little-endian float32 (default: the config model, freshly initialised)')
    .option('--export <dir>', 'where to write the audit bundle and the model after every round (default: audit/ beside the storage file)')
    .option('--test-data <file>', "the operator's own labelled CSV (following the federation's data schema): every released model's exact accuracy and loss on it are logged")
    .option('--cors-origin <origin...>', 'origin (e.g. https://fl.example.org) of a page hosted elsewhere that may call this API, such as the participant page; repeatable')
    .option('--quiet', 'no log lines')
    .option(
      '--amend [reason]',
      "accept a config that changes only rounds and/or dp.targetEpsilon of a running federation: the remaining rounds' noise is recalibrated so the total ε stays within the target, and the change (with the optional reason) is signed into the ledger",
    )
    .action(async (opts: ServeOptions) => {
      const cors = opts.corsOrigin === undefined ? undefined : corsOrigins(opts.corsOrigin);
      const loaded = loadFederationConfig(opts.config);
      const config = {
        ...loaded,
        listen: { ...loaded.listen, host: opts.host ?? loaded.listen.host, port: opts.port ?? loaded.listen.port },
      };
      const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      await initBackend();
      const model = await checkedModel(config, 0);
      const weights = await initialWeights(config, opts.initialModel, 0, model);
      const testData = opts.testData === undefined ? null : readTestData(opts.testData, config);
      // With federated standardisation the test rows are read raw and standardised as the participants' are, once the statistics round released.
      const testRows = testData === null ? null : standardizedRows({ train: testData, heldOut: null });
      const dir = opts.export ?? (config.storage.path === undefined || config.storage.path === ':memory:' ? resolve('audit') : join(dirname(resolve(config.storage.path)), 'audit'));
      // Exports run one after another, each of the state at its time.
      let exports: Promise<void> = Promise.resolve();
      const exportRelease = (running: RunningCoordinator, summary?: RoundSummary): Promise<void> => {
        exports = exports
          .then(async () => {
            await running.exportAudit(dir);
            const m = running.coordinator.model;
            // An audited federation keeps every released version: the audit measures their changes.
            if (config.auditCommitment !== undefined) saveModelVersion(dir, m.version, m.weights);
            const release = { federationId: config.federationId, model: config.model, version: m.version, hash: m.hash };
            const standardization = running.coordinator.standardization;
            const schema = config.data !== undefined && standardization !== null ? standardizedSchema(config.data, standardization) : (config.data ?? null);
            await writeReleasedModel(model, new Float32Array(m.weights.slice().buffer), join(dir, 'model'), release, schema);
            log(`model v${m.version} and audit bundle written to ${dir}`);
            if (testRows !== null && summary !== undefined && summary.statistics !== true) {
              // writeReleasedModel left the released weights in `model`: this measures version m.version.
              const e = await evaluate(model, testRows(standardization).train);
              const evaluation = { source: 'test-set', accuracy: e.accuracy, loss: e.loss, examples: e.examples, noised: false } as const;
              running.dashboard?.recordEvaluation(summary.round, evaluation);
              const line = evaluationLogLine({ ...summary, modelVersion: m.version }, evaluation, config.evaluation, running.coordinator.dp);
              if (line !== null) log(line);
            }
          })
          .catch((e: unknown) => {
            log(`export to ${dir} failed: ${e instanceof Error ? e.message : String(e)}`);
          });
        return exports;
      };
      let runningRef: RunningCoordinator | null = null;
      const running = await startCoordinator({
        config,
        initialModel: weights,
        log,
        autoStart: 'when-joined',
        ...(cors === undefined ? {} : { app: { corsOrigins: cors } }),
        amend: opts.amend === undefined || opts.amend === false ? null : typeof opts.amend === 'string' ? { reason: opts.amend } : {},
        onRoundEnd: (summary) => {
          if (summary.status !== 'completed' || runningRef === null) return;
          const line = evaluationLogLine(summary, summary.evaluation, config.evaluation, runningRef.coordinator.dp);
          if (line !== null) log(line);
          void exportRelease(runningRef, summary);
        },
      });
      runningRef = running;
      for (const w of noiseWarnings(config, running.coordinator.dp)) log(`warning: ${w}`);
      if (config.auditCommitment !== undefined) saveModelVersion(dir, running.coordinator.model.version, running.coordinator.model.weights);
      process.stdout.write(`${running.url}\n`);
      log(`coordinator for '${config.federationId}' listening on ${running.url} (crypto ${defaultProvider.name}, coordinator key ${Buffer.from(running.coordinator.publicKey).toString('hex')})`);
      log(`participant page at ${new URL('participant/', running.url).href}`);
      if (running.dashboard !== null) log(`dashboard at ${running.url} (set dashboard: false in the config to turn it off)`);
      const stop = new Promise<void>((done) => {
        const onSignal = () => done();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        // After the last round, keep answering until every joined client has seen how it ended.
        void running.coordinator.finished.then(async () => {
          const t = Date.now();
          const until = t + Math.min(MAX_LINGER_MS, config.longPollMs + 5_000);
          await new Promise((r) => setTimeout(r, 250));
          while (Date.now() < until && !running.joins.allHeardSince(t)) await new Promise((r) => setTimeout(r, 100));
          done();
        });
      });
      await stop;
      await exportRelease(running);
      const eps = running.coordinator.epsilonSpent();
      await running.close();
      log(`audit bundle and model in ${dir}; ε = ${eps === null ? 'unbounded' : eps.toFixed(4)}`);
    });
}
