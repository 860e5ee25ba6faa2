import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultProvider, FedveilError, toHex } from '../secagg/index.js';
import { readIdentityFile } from '../server/identity.js';
import { canaryUpdate } from '../dp/index.js';
import { readCanarySecret } from './canaries.js';
import { readTabularFile } from './tabular-file.js';
import { testNoiseScale } from './test-noise-scale.js';
import { writeReleasedModel } from './model-files.js';
import { readCoordinatorKey } from '../server/ledger-audit.js';
import { Participant } from '../server/participant.js';
import { defaultReceiptsDir, ReceiptStore } from '../server/receipt-store.js';
import { DEFAULT_RETRY, formatDuration, parseDuration } from '../server/retry.js';
import { fetchTrusting, readCaFile } from '../server/tls.js';
import type * as tf from '@tensorflow/tfjs';
import type { FederationConfig } from '../server/config.js';
import type { FederationInfo } from '../server/wire.js';
import type { EvaluationCounts } from '../server/federated-evaluation.js';
import { evaluationRows } from '../server/federated-evaluation.js';
import { localMoments, standardizedRows, standardizedSchema, statisticsSpec } from '../server/federated-statistics.js';
import type { FederatedStandardizationSpec } from '../server/data-schema.js';
import {
  checkDataFitsModel,
  countParams,
  createModel,
  evaluate,
  initBackend,
  labelHistogram,
  loadMnist,
  setFlatWeights,
  subset,
  trainLocal,
  type Dataset,
  type LocalOptimizer,
  type ModelSpec,
} from '../trainer/index.js';

interface ClientOptions {
  coordinator: string;
  identity: string;
  data?: string;
  canary?: string;
  label?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: LocalOptimizer;
  proxMu: number;
  maxRounds?: number;
  seed: number;
  giveUpAfter: number;
  ca?: string;
  quiet?: boolean;
  receipts?: string;
  coordinatorKey?: string;
  maxEpsilon?: number;
  maxDelta?: number;
  saveModel?: string;
}

/** Default of `--give-up-after`. */
const DEFAULT_GIVE_UP = formatDuration(DEFAULT_RETRY.giveUpAfterMs as number);

const duration = (name: string) => (raw: string): number => {
  const v = parseDuration(raw);
  if (v === null || v <= 0) throw new InvalidArgumentError(`${name} must be a duration such as 90s, 10m or 2h, got ${raw}.`);
  return v;
};

const positiveInt = (name: string) => (raw: string): number => {
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${raw}.`);
  return v;
};
const positive = (name: string) => (raw: string): number => {
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`${name} must be a number > 0, got ${raw}.`);
  return v;
};
const nonNegative = (name: string) => (raw: string): number => {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`${name} must be a number >= 0, got ${raw}.`);
  return v;
};

/** The trainer model a federation config names (`model.name` is the trainer's kind, `model.options` its shape). */
export async function federationModel(model: FederationConfig['model'], seed: number): Promise<tf.LayersModel> {
  return createModel({ kind: model.name, ...model.options } as ModelSpec, seed);
}

/**
 * The participant's local data, checked against the federation's data schema: `mnist` (the
 * training split), `mnist:A-B` (examples A..B-1 of it, e.g. one participant's shard), or a CSV
 * file, which must follow the schema the coordinator publishes (columns, label, classes). Every
 * mismatch is an error naming the file, the line or column, and the rule.
 */
export function loadData(source: string, info: Pick<FederationInfo, 'federationId' | 'data'>, layout: 'flat' | 'image', label?: string): Dataset {
  const m = /^mnist(?::(\d+)-(\d+))?$/.exec(source);
  if (m) {
    if (info.data !== null) {
      throw new FedveilError('cli/bad-data', `federation '${info.federationId}' trains on CSV data with columns ${info.data.features.join(', ')} and label ${info.data.label}, not on MNIST`);
    }
    const all = loadMnist({ split: 'train', layout, ...(m[2] ? { limit: Number(m[2]) } : {}) });
    if (!m[1]) return all;
    const from = Number(m[1]);
    const to = Number(m[2]);
    if (!(from < to)) throw new FedveilError('cli/bad-data', `empty MNIST range ${from}-${to}`);
    return subset(all, Array.from({ length: to - from }, (_, i) => from + i));
  }
  if (info.data === null) {
    throw new FedveilError(
      'cli/no-data-schema',
      `federation '${info.federationId}' publishes no data schema, so CSV data cannot be used: each participant would number the classes by its own rows. ` +
        'Ask the operator to add a `data` section (features, label, classes) to the federation config.',
    );
  }
  if (label !== undefined && label !== info.data.label) {
    throw new FedveilError('cli/bad-data', `--label ${label} contradicts the federation's data schema, whose label column is ${info.data.label}: leave --label out`);
  }
  return readTabularFile(source, info.data, { schema: `the data schema of federation '${info.federationId}'` });
}

/**
 * `fedveil client --coordinator URL --identity KEYFILE --data SOURCE`: a federation participant.
 * Follows the coordinator's rounds; when drawn, it verifies the coordinator's ledger (pinned key,
 * genesis, its receipts, the round's binding, its own ε and δ limits), trains the federation's
 * model on its local data with src/trainer and takes part in secure aggregation, then keeps the
 * coordinator-signed receipt of the round. Only masked, noised updates leave.
 */
export function registerClient(program: Command): void {
  program
    .command('client')
    .description('take part in a federation: train locally, send only masked updates')
    .requiredOption('--coordinator <url>', 'coordinator base URL, e.g. http://127.0.0.1:8080/')
    .requiredOption('--identity <keyfile>', 'identity file from `fedveil keygen`')
    .option('--data <source>', "local data: 'mnist', 'mnist:A-B' (a shard) or a CSV file (required unless --canary)")
    .option('--canary <secrets>', "run this identity as a canary of the federation's empirical audit: contribute its secret direction at the clip norm instead of training (the canaries.json of `fedveil canaries`)")
    .option('--label <column>', "the CSV's label column; optional, it must match the federation's data schema")
    .option('--epochs <n>', 'local epochs per round', positiveInt('--epochs'), 1)
    .option('--batch-size <n>', 'local batch size', positiveInt('--batch-size'), 32)
    .option('--lr <rate>', 'local learning rate', nonNegative('--lr'), 0.05)
    .addOption(new Option('--optimizer <name>', 'local optimiser').choices(['sgd', 'adam']).default('sgd'))
    .option('--prox-mu <mu>', 'FedProx proximal term (0 = FedAvg)', nonNegative('--prox-mu'), 0)
    .option('--max-rounds <n>', 'stop after taking part in this many rounds', positiveInt('--max-rounds'))
    .option('--seed <n>', 'seed of local training (batch order, dropout layers)', positiveInt('--seed'), 1)
    .option('--receipts <dir>', 'where the pinned coordinator key and the signed ledger receipts of my rounds are kept (default: <identity>.receipts)')
    .option('--coordinator-key <key>', "the coordinator's public key obtained out of band (64 hex characters or its coordinator-key.json); default: pinned on first contact")
    .option('--max-epsilon <E>', 'refuse to contribute to a round that would take my own ε past E (asynchronous federations: neither train nor announce an update while the next group would)', positive('--max-epsilon'))
    .option('--max-delta <D>', "refuse a federation whose δ (in its ledger's genesis) is above D", positive('--max-delta'))
    .addOption(
      new Option('--give-up-after <duration>', 'how long to keep retrying an unreachable coordinator (e.g. 90s, 10m, 2h)')
        .argParser(duration('--give-up-after'))
        .default(DEFAULT_RETRY.giveUpAfterMs, DEFAULT_GIVE_UP),
    )
    .option('--ca <file>', "PEM certificate to trust for an https:// coordinator (its self-signed certificate, or its CA's)")
    .option('--save-model <dir>', 'keep the latest released global model in DIR (tfjs model.json, weights.bin, data-schema.json, as serve exports it), replaced atomically after every round: `fedveil predict --model DIR` reads it')
    .option('--quiet', 'no log lines')
    .action(async (opts: ClientOptions) => {
      const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const identity = readIdentityFile(opts.identity, defaultProvider);
      if ((opts.data === undefined) === (opts.canary === undefined)) {
        throw new FedveilError('cli/bad-option', 'give --data (a participant that trains) or --canary (a canary of the empirical audit), not both or neither');
      }
      const canarySecret = opts.canary === undefined ? null : readCanarySecret(opts.canary, toHex(identity.publicKey));
      const noiseScale = testNoiseScale();
      const trusted = opts.ca === undefined ? undefined : fetchTrusting(readCaFile(opts.ca));
      await initBackend();
      let model: tf.LayersModel | null = null;
      let data: Dataset | null = null;
      // Federated evaluation: rows held out from training, on which each round's global model is measured.
      let heldOut: Dataset | null = null;
      // The rows under each round's standardisation (with federated standardisation, the one the ledger's statistics entry records).
      let rowsFor: ReturnType<typeof standardizedRows<Dataset>> = () => ({ train: data as Dataset, heldOut });
      let lossCap = 0;
      let clipNorm = 0;
      const participant = new Participant({
        coordinator: opts.coordinator,
        identity,
        log,
        retry: { ...DEFAULT_RETRY, giveUpAfterMs: opts.giveUpAfter },
        ...(trusted ? { fetch: trusted } : {}),
        train: async (weights, info) => {
          if (canarySecret !== null) {
            log(`round ${info.round}: canary update`);
            return { update: canaryUpdate(canarySecret, weights.length, clipNorm), examples: 0 };
          }
          let evaluation: EvaluationCounts | undefined;
          const rows = rowsFor(info.standardization);
          if (rows.heldOut !== null) {
            // Measured before training: the counts are about the global model the round was sent.
            setFlatWeights(model as tf.LayersModel, weights);
            const e = await evaluate(model as tf.LayersModel, rows.heldOut, 500, { lossCap });
            evaluation = { examples: e.examples, correct: e.correct, lossSum: e.lossSum };
            log(`round ${info.round}: global model v${info.modelVersion} on ${e.examples} held-out rows: accuracy ${e.accuracy.toFixed(4)}, loss ${e.loss.toFixed(4)} (sent only inside the masked, noised sum)`);
          }
          const r = await trainLocal(model as tf.LayersModel, weights, rows.train, {
            epochs: opts.epochs,
            batchSize: opts.batchSize,
            learningRate: opts.lr,
            optimizer: opts.optimizer,
            proxMu: opts.proxMu,
            seed: (opts.seed * 1_000_003 + info.round) % 2 ** 31,
          });
          log(`round ${info.round}: trained on ${r.examples} examples, loss ${r.loss.toFixed(4)}`);
          return { update: r.update, examples: r.examples, ...(evaluation ? { evaluation } : {}) };
        },
        ...(opts.maxRounds === undefined ? {} : { maxRounds: opts.maxRounds }),
        receipts: new ReceiptStore(opts.receipts ?? defaultReceiptsDir(opts.identity)),
        ...(opts.coordinatorKey === undefined ? {} : { coordinatorKey: readCoordinatorKey(opts.coordinatorKey) }),
        ...(opts.maxEpsilon === undefined ? {} : { maxEpsilon: opts.maxEpsilon }),
        ...(opts.maxDelta === undefined ? {} : { maxDelta: opts.maxDelta }),
        ...(noiseScale === undefined ? {} : { noiseScale }),
        ...(opts.saveModel === undefined ? {} : { onModel: (weights, release) => keepModel(weights, release) }),
        // The statistics round's payload: my training rows' feature moments, before any standardisation (a canary has none).
        ...(canarySecret === null ? { moments: (spec: FederatedStandardizationSpec) => localMoments(data as Dataset, spec) } : {}),
      });
      // Its own model instance: the one training is never touched between rounds.
      let template: tf.LayersModel | null = null;
      const keepModel = async (weights: Float32Array, release: { version: number; hash: string }): Promise<void> => {
        const fed = await participant.federation();
        template ??= await federationModel({ name: fed.model.name, options: fed.model.options }, opts.seed);
        const spec = { federationId: fed.federationId, model: { name: fed.model.name, options: fed.model.options }, ...release };
        // With federated standardisation, the saved schema carries the standardisation the verified ledger records.
        const standardization = participant.standardization;
        const schema = fed.data !== null && standardization !== null ? standardizedSchema(fed.data, standardization) : fed.data;
        await writeReleasedModel(template, weights, opts.saveModel as string, spec, schema);
        log(`model v${release.version} saved to ${opts.saveModel as string}`);
      };
      const info = await participant.federation();
      clipNorm = info.dp.clipNorm;
      // Everything about the local data is checked before joining: a participant that cannot
      // train must not hold up a round. A canary trains on nothing.
      if (canarySecret === null) {
        data = loadData(opts.data as string, info, info.model.name === 'cnn' ? 'image' : 'flat', opts.label);
        model = await federationModel({ name: info.model.name, options: info.model.options }, opts.seed);
        if (countParams(model) !== info.dim) {
          throw new FedveilError('cli/dim-mismatch', `model '${info.model.name}' has ${countParams(model)} parameters, the federation's dim is ${info.dim}`);
        }
        checkDataFitsModel(model, data);
        const classes = info.data?.classes ?? Array.from({ length: data.numClasses }, (_, i) => String(i));
        const counts = labelHistogram(data.labels, classes.length);
        log(`local data ${opts.data}: ${data.size} rows; rows per class: ${classes.map((c, i) => `${c} ${counts[i]}`).join(', ')}`);
        const rows = evaluationRows(data, info.evaluation, identity.publicKey);
        if (rows.heldOut !== null) {
          log(
            `holding out ${data.size - rows.train.size} of ${data.size} rows for federated evaluation (never trained on); ` +
              `each round the global model is measured on ${rows.heldOut.size} of them`,
          );
          heldOut = rows.heldOut;
          lossCap = info.evaluation?.lossCap ?? 0;
          data = rows.train;
        }
        rowsFor = standardizedRows({ train: data, heldOut });
        if (statisticsSpec(info) !== null) {
          log(`the federation estimates its feature standardisation before round 0 (a statistics round under its secure aggregation and DP); I train with the one its ledger records`);
        }
      }
      const ack = await participant.join();
      log(
        `joined '${info.federationId}' at ${opts.coordinator} as ${toHex(identity.publicKey)}` +
          (ack.status === 'starting' ? `; the coordinator starts when ${ack.minJoined} participants have joined (${ack.joinedCount} so far)` : ''),
      );
      const results = await participant.run();
      const done = results.filter((r) => r.status === 'completed').length;
      process.stdout.write(`${JSON.stringify({ participated: results.length, completed: done, rounds: results })}\n`);
    });
}
