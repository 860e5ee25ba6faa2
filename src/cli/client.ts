import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultProvider, FedveilError } from '../secagg/index.js';
import { readIdentityFile } from '../server/identity.js';
import { readCoordinatorKey } from '../server/ledger-audit.js';
import { Participant } from '../server/participant.js';
import { defaultReceiptsDir, ReceiptStore } from '../server/receipt-store.js';
import type * as tf from '@tensorflow/tfjs';
import type { FederationConfig } from '../server/config.js';
import {
  countParams,
  createModel,
  initBackend,
  loadMnist,
  parseCsv,
  subset,
  trainLocal,
  type Dataset,
  type LocalOptimizer,
  type ModelSpec,
} from '../trainer/index.js';

interface ClientOptions {
  coordinator: string;
  identity: string;
  data: string;
  label?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: LocalOptimizer;
  proxMu: number;
  maxRounds?: number;
  seed: number;
  quiet?: boolean;
  receipts?: string;
  coordinatorKey?: string;
  maxEpsilon?: number;
  maxDelta?: number;
}

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
 * The participant's local data: `mnist` (the training split), `mnist:A-B` (examples A..B-1 of
 * it, e.g. one participant's shard), or a CSV file (`--label` names its label column).
 */
export function loadData(source: string, label: string | undefined, layout: 'flat' | 'image'): Dataset {
  const m = /^mnist(?::(\d+)-(\d+))?$/.exec(source);
  if (m) {
    const all = loadMnist({ split: 'train', layout, ...(m[2] ? { limit: Number(m[2]) } : {}) });
    if (!m[1]) return all;
    const from = Number(m[1]);
    const to = Number(m[2]);
    if (!(from < to)) throw new FedveilError('cli/bad-data', `empty MNIST range ${from}-${to}`);
    return subset(all, Array.from({ length: to - from }, (_, i) => from + i));
  }
  if (label === undefined) throw new FedveilError('cli/bad-data', 'a CSV data source needs --label <column>');
  return parseCsv(readFileSync(source, 'utf8'), { labelColumn: /^\d+$/.test(label) ? Number(label) : label });
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
    .requiredOption('--data <source>', "local data: 'mnist', 'mnist:A-B' (a shard) or a CSV file")
    .option('--label <column>', 'label column of a CSV source (name, or index without header)')
    .option('--epochs <n>', 'local epochs per round', positiveInt('--epochs'), 1)
    .option('--batch-size <n>', 'local batch size', positiveInt('--batch-size'), 32)
    .option('--lr <rate>', 'local learning rate', nonNegative('--lr'), 0.05)
    .addOption(new Option('--optimizer <name>', 'local optimiser').choices(['sgd', 'adam']).default('sgd'))
    .option('--prox-mu <mu>', 'FedProx proximal term (0 = FedAvg)', nonNegative('--prox-mu'), 0)
    .option('--max-rounds <n>', 'stop after taking part in this many rounds', positiveInt('--max-rounds'))
    .option('--seed <n>', 'seed of local training (batch order, dropout layers)', positiveInt('--seed'), 1)
    .option('--receipts <dir>', 'where the pinned coordinator key and the signed ledger receipts of my rounds are kept (default: <identity>.receipts)')
    .option('--coordinator-key <key>', "the coordinator's public key obtained out of band (64 hex characters or its coordinator-key.json); default: pinned on first contact")
    .option('--max-epsilon <E>', 'refuse to contribute to a round that would take my own ε past E', positive('--max-epsilon'))
    .option('--max-delta <D>', "refuse a federation whose δ (in its ledger's genesis) is above D", positive('--max-delta'))
    .option('--quiet', 'no log lines')
    .action(async (opts: ClientOptions) => {
      const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const identity = readIdentityFile(opts.identity, defaultProvider);
      await initBackend();
      const participant = new Participant({
        coordinator: opts.coordinator,
        identity,
        log,
        train: async (weights, info) => {
          const r = await trainLocal(model, weights, data, {
            epochs: opts.epochs,
            batchSize: opts.batchSize,
            learningRate: opts.lr,
            optimizer: opts.optimizer,
            proxMu: opts.proxMu,
            seed: (opts.seed * 1_000_003 + info.round) % 2 ** 31,
          });
          log(`round ${info.round}: trained on ${r.examples} examples, loss ${r.loss.toFixed(4)}`);
          return { update: r.update, examples: r.examples };
        },
        ...(opts.maxRounds === undefined ? {} : { maxRounds: opts.maxRounds }),
        receipts: new ReceiptStore(opts.receipts ?? defaultReceiptsDir(opts.identity)),
        ...(opts.coordinatorKey === undefined ? {} : { coordinatorKey: readCoordinatorKey(opts.coordinatorKey) }),
        ...(opts.maxEpsilon === undefined ? {} : { maxEpsilon: opts.maxEpsilon }),
        ...(opts.maxDelta === undefined ? {} : { maxDelta: opts.maxDelta }),
      });
      const info = await participant.federation();
      const model = await federationModel({ name: info.model.name, options: info.model.options }, opts.seed);
      if (countParams(model) !== info.dim) {
        throw new FedveilError('cli/dim-mismatch', `model '${info.model.name}' has ${countParams(model)} parameters, the federation's dim is ${info.dim}`);
      }
      const data = loadData(opts.data, opts.label, info.model.name === 'cnn' ? 'image' : 'flat');
      log(`joined '${info.federationId}' as ${Buffer.from(identity.publicKey).toString('hex')} with ${data.size} local examples`);
      const results = await participant.run();
      const done = results.filter((r) => r.status === 'completed').length;
      process.stdout.write(`${JSON.stringify({ participated: results.length, completed: done, rounds: results })}\n`);
    });
}
