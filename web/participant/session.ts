/**
 * The browser participant without its page: the coordinator's federation and privacy terms, the
 * local CSV checked against the federation's data schema, the model, and a {@link Participant}
 * (the same protocol client, ledger checks and own-budget enforcement as `fedveil client`) on the
 * portable noble provider, training with the tfjs trainer. main.ts wires it to the DOM.
 */
import type * as tf from '@tensorflow/tfjs';
import { FedveilError, nobleProvider, systemRandom, toHex, type KeyPair } from '../../src/secagg/index.js';
import { Participant, type ParticipationResult } from '../../src/server/participant.js';
import type { ReceiptKeeper } from '../../src/server/participant-ledger.js';
import type { Phase } from '../../src/protocol/phases.js';
import { FederationInfoSchema, type FederationInfo } from '../../src/server/wire.js';
import { parseTabular } from '../../src/trainer/data/csv.js';
import { labelHistogram, take, type Dataset } from '../../src/trainer/data/dataset.js';
import { evaluate } from '../../src/trainer/evaluate.js';
import { setFlatWeights } from '../../src/trainer/weights.js';
import { evaluationRows, type EvaluationCounts } from '../../src/server/federated-evaluation.js';
import { localMoments, standardizedRows } from '../../src/server/federated-statistics.js';
import { createModel, type ModelSpec } from '../../src/trainer/models.js';
import { checkDataFitsModel, trainLocal } from '../../src/trainer/train.js';
import { countParams } from '../../src/trainer/weights.js';

/** The provider every secret of the page is computed with: portable, no native code. */
export const PAGE_PROVIDER = nobleProvider;

/** The federation the coordinator at `coordinator` runs (`GET /v1/federation`, unsigned). */
export async function fetchFederation(coordinator: string): Promise<FederationInfo> {
  const res = await fetch(new URL('v1/federation', coordinator));
  if (!res.ok) throw new FedveilError('client/unreachable', `the coordinator at ${coordinator} answered ${res.status} for its federation`);
  return FederationInfoSchema.parse(await res.json());
}

/** The rows of a local CSV, checked against the federation's data schema (nothing leaves the page). */
export interface LocalData {
  dataset: Dataset;
  /** Rows per class, in the schema's class order. */
  perClass: { name: string; rows: number }[];
}

/**
 * `text` parsed under the federation's data schema (the same checker as `fedveil client --data`).
 * Throws FedveilError `cli/no-data-schema` when the federation publishes none, else the
 * trainer's code for the first rule the file breaks (`trainer/csv-*`), naming the line or column.
 */
export function checkLocalCsv(text: string, fileName: string, info: Pick<FederationInfo, 'federationId' | 'data'>): LocalData {
  if (info.data === null) {
    throw new FedveilError('cli/no-data-schema', `federation '${info.federationId}' publishes no data schema, so a CSV file cannot be used: ask the operator to add one`);
  }
  let dataset: Dataset;
  try {
    dataset = parseTabular(text, info.data);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') throw e;
    throw new FedveilError(code, `${fileName} does not fit the data schema of federation '${info.federationId}': ${(e as Error).message}`);
  }
  const counts = labelHistogram(dataset.labels, info.data.classes.length);
  return { dataset, perClass: info.data.classes.map((name, i) => ({ name, rows: counts[i] ?? 0 })) };
}

/** The federation's model, checked against its dimension and the local data. */
export async function federationModel(info: FederationInfo, data: Dataset, seed: number): Promise<tf.LayersModel> {
  const model = await createModel({ kind: info.model.name, ...info.model.options } as ModelSpec, seed);
  if (countParams(model) !== info.dim) {
    throw new FedveilError('cli/dim-mismatch', `model '${info.model.name}' has ${countParams(model)} parameters, the federation's dim is ${info.dim}`);
  }
  checkDataFitsModel(model, data);
  return model;
}

/**
 * One small training step from zero weights, before joining: the backend compiles its kernels
 * (WebGL shaders take seconds on a software GPU) now rather than while a round's deadlines run,
 * where a tab busy compiling misses its first phases. Returns the time it took, in ms.
 */
export async function warmUp(model: tf.LayersModel, data: Dataset, training: LocalTraining): Promise<number> {
  const t0 = performance.now();
  await trainLocal(model, new Float32Array(countParams(model)), take(data, training.batchSize), {
    epochs: 1,
    batchSize: training.batchSize,
    learningRate: training.learningRate,
    optimizer: 'sgd',
    seed: training.seed,
  });
  return performance.now() - t0;
}

/** Local training settings (the defaults of `fedveil client`). */
export interface LocalTraining {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export const DEFAULT_TRAINING: LocalTraining = { epochs: 1, batchSize: 32, learningRate: 0.05, seed: 1 };

/** The shuffling seed of round `round`'s local training: a fresh order every round, reproducible. */
export function roundSeed(training: LocalTraining, round: number): number {
  return (training.seed * 1_000_003 + round) % 2 ** 31;
}

/** Options of {@link browserParticipant}. */
export interface BrowserParticipantOptions {
  coordinator: string;
  identity: KeyPair;
  receipts: ReceiptKeeper;
  /** Null until the person picked a CSV; training refuses without it. */
  data: () => { dataset: Dataset; model: tf.LayersModel } | null;
  training?: LocalTraining;
  maxEpsilon?: number;
  onPhase?: (round: number, phase: Phase) => void;
  onResult?: (result: ParticipationResult) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** A {@link Participant} for the page: noble provider, the browser's fetch and CSPRNG, tfjs training. */
export function browserParticipant(opts: BrowserParticipantOptions): Participant {
  const training = opts.training ?? DEFAULT_TRAINING;
  // The split of the chosen file (and its rows under each standardisation), made once per file rather than every round.
  let rows: ({ dataset: Dataset; standardized: ReturnType<typeof standardizedRows<Dataset>> } & ReturnType<typeof evaluationRows>) | null = null;
  const split = async (): Promise<NonNullable<typeof rows>> => {
    const local = opts.data();
    if (local === null) throw new FedveilError('client/no-data', 'no local data was chosen');
    const spec = (await participant.federation()).evaluation;
    if (rows?.dataset !== local.dataset) {
      const r = evaluationRows(local.dataset, spec, opts.identity.publicKey);
      rows = { dataset: local.dataset, ...r, standardized: standardizedRows(r) };
    }
    return rows;
  };
  const participant: Participant = new Participant({
    coordinator: opts.coordinator,
    identity: opts.identity,
    provider: PAGE_PROVIDER,
    receipts: opts.receipts,
    // Called bare, window.fetch would throw 'Illegal invocation' once stored on another object.
    fetch: (input, init) => fetch(input, init),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.maxEpsilon === undefined ? {} : { maxEpsilon: opts.maxEpsilon }),
    ...(opts.onPhase ? { onPhase: opts.onPhase } : {}),
    ...(opts.onResult ? { onResult: opts.onResult } : {}),
    // The statistics round of a federation with federated standardisation: my raw training rows' moments.
    moments: async (spec) => localMoments((await split()).train, spec),
    train: async (weights, info) => {
      const local = opts.data();
      if (local === null) throw new FedveilError('client/no-data', 'no local data was chosen');
      // Federated evaluation, as `fedveil client` does it: the same rows (split by this identity's
      // key) are held out every round and never trained on; the global model is measured on them
      // before training and the counts travel only inside the masked, noised sum. With federated
      // standardisation both are standardised as the ledger's statistics entry says.
      const spec = (await participant.federation()).evaluation;
      const { train: trainRows, heldOut } = (await split()).standardized(info.standardization);
      let evaluation: EvaluationCounts | undefined;
      if (spec !== null && heldOut !== null) {
        setFlatWeights(local.model, weights);
        const e = await evaluate(local.model, heldOut, 500, { lossCap: spec.lossCap });
        evaluation = { examples: e.examples, correct: e.correct, lossSum: e.lossSum };
        opts.log?.(`round ${info.round}: global model on ${e.examples} held-out rows: accuracy ${e.accuracy.toFixed(4)} (sent only inside the masked, noised sum)`);
      }
      const r = await trainLocal(local.model, weights, trainRows, {
        epochs: training.epochs,
        batchSize: training.batchSize,
        learningRate: training.learningRate,
        optimizer: 'sgd',
        seed: roundSeed(training, info.round),
      });
      opts.log?.(`round ${info.round}: trained on ${r.examples} examples, loss ${r.loss.toFixed(4)}`);
      return { update: r.update, examples: r.examples, ...(evaluation ? { evaluation } : {}) };
    },
  });
  return participant;
}

/** A fresh identity from the browser's CSPRNG. */
export function newIdentity(): KeyPair {
  return PAGE_PROVIDER.ed25519Keygen(systemRandom);
}

/** The public key an operator adds to the federation's participants. */
export function publicKeyOf(identity: KeyPair): string {
  return toHex(identity.publicKey);
}
