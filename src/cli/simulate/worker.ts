/**
 * A simulation worker thread: takes part in the rounds the main thread assigns it, each drawn
 * participant a real {@link Participant} talking to the coordinator over loopback HTTP and
 * training with TensorFlow.js on its own shard of MNIST. A participant exists only while its
 * round runs: its identity is derived from the seed and its index, its data sliced from the
 * shards when it is drawn, so the worker's memory follows the cohort, not the population. One
 * worker per core gives parallel training.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { canaryUpdate } from '../../dp/index.js';
import { RoundPlanMemo, ServerMessageMemo } from '../../protocol/index.js';
import { defaultProvider, seededRandom } from '../../secagg/index.js';
import { Participant } from '../../server/participant.js';
import { SharedLedger } from '../../server/ledger-memo.js';
import { createModel, getFlatWeights, initBackend, subset, trainLocal } from '../../trainer/index.js';
import { simulatedDropout } from './dropout.js';
import { simulatedMember, simulatedSession } from './identities.js';
import { withSharedVerification } from './shared-verification.js';
import { modelSpecOf } from './options.js';
import type { AsyncMemberAssignment, BaselineTrainRequest, RoundAssignment, WorkerEvent, WorkerInit } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error('simulate worker must run in a worker thread');
const post = (e: WorkerEvent, transfer: ArrayBuffer[] = []): void => port.postMessage(e, transfer);
const failed = (e: unknown) => post({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });

/** Participant `client`'s example indices in the training set. */
function shardOf(client: number): Uint32Array {
  const { starts, indices, examples } = init.shards;
  const from = starts[client] as number;
  const to = starts[client + 1] as number;
  return indices.subarray(from, examples === undefined ? to : Math.min(to, from + examples));
}

async function main(): Promise<void> {
  const backend = await initBackend(init.backend ? { prefer: init.backend } : {});
  const all = init.train;
  const model = await createModel(modelSpecOf(init.recipe), init.seed);

  // One model per worker: trainings of its participants take turns.
  let queue: Promise<unknown> = Promise.resolve();
  const train = (client: number, round: number, weights: Float32Array) => {
    const run = queue.then(() =>
      trainLocal(model, weights, subset(all, shardOf(client)), {
        epochs: init.recipe.epochs,
        batchSize: init.recipe.batchSize,
        learningRate: init.recipe.learningRate,
        optimizer: 'sgd',
        proxMu: init.recipe.proxMu,
        seed: (init.seed * 1_000_003 + client * 7_919 + round) % 2 ** 31,
      }),
    );
    queue = run.catch(() => undefined);
    return run;
  };

  // One timed warm-up training (it also compiles the backend's kernels) tells the main thread how
  // long phases must wait for this worker's participants.
  const t0 = performance.now();
  await train(0, 0, getFlatWeights(model));
  post({ type: 'ready', backend: backend.name, reason: backend.reason, trainMs: performance.now() - t0 });

  if (init.mode === 'baseline') {
    port!.on('message', (req: BaselineTrainRequest) => {
      void (async () => {
        for (const client of req.clients) {
          const r = await train(client, req.round, req.weights);
          post({ type: 'trained', round: req.round, client, update: r.update, examples: r.examples, loss: r.loss }, [r.update.buffer as ArrayBuffer]);
        }
      })().catch(failed);
    });
    return;
  }

  // The ledger this worker's participants verified: each checks it before contributing, and the
  // part of that check that depends on the ledger alone is done once per worker, not per participant.
  const sharedLedger = new SharedLedger();
  const provider = withSharedVerification(defaultProvider);
  // Likewise the round's plan and the coordinator's requests that are the same for the whole
  // cohort: derived once from exactly the config, decoded once from exactly the text.
  const roundPlans = new RoundPlanMemo();
  const serverMessages = new ServerMessageMemo();
  const clients = init.shards.starts.length - 1;
  const participate = async (a: RoundAssignment): Promise<void> => {
    await Promise.all(
      a.clients.map(async (client) => {
        const member = simulatedMember(init.seed, clients, client);
        const canary = member.canarySecret;
        const participant = new Participant({
          coordinator: a.coordinator,
          identity: member.identity,
          provider,
          session: simulatedSession(init.seed, client),
          sharedLedger,
          roundPlans,
          serverMessages,
          train: async (weights, info) => {
            // A canary trains on nothing: its update is its secret direction at the clip norm, every round.
            if (canary !== undefined) return { update: canaryUpdate(canary, weights.length, init.clip), examples: 0 };
            const r = await train(client, info.round, weights);
            return { update: r.update, examples: r.examples };
          },
          ...(init.noiseScale === undefined ? {} : { noiseScale: init.noiseScale }),
          // Reproducible (and therefore not secret): a simulation, not a deployment.
          random: seededRandom(`fedveil/simulate/${init.seed}/client-${client}/round-${a.round}/secrets`),
          dropout: (round) => simulatedDropout(init.seed, init.dropout, init.phases, client, round),
          onlyRound: a.round,
        });
        for (const result of await participant.run()) post({ type: 'participation', client, result });
      }),
    );
    post({ type: 'round-done', round: a.round });
  };
  // Asynchronous federations: one participant object per replayed training.
  const replay = async (a: AsyncMemberAssignment): Promise<void> => {
    const member = simulatedMember(init.seed, clients, a.client);
    const participant = new Participant({
      coordinator: a.coordinator,
      identity: member.identity,
      provider,
      session: simulatedSession(init.seed, a.client),
      sharedLedger,
      train: async (weights, info) => {
        const r = await train(a.client, info.round, weights);
        return { update: r.update, examples: r.examples };
      },
      ...(init.noiseScale === undefined ? {} : { noiseScale: init.noiseScale }),
      random: seededRandom(`fedveil/simulate/${init.seed}/client-${a.client}/replay-${a.slot}/secrets`),
      dropout: (round) => simulatedDropout(init.seed, init.dropout, init.phases, a.client, round),
      replay: { trainOn: a.trainOn },
    });
    for (const result of await participant.run()) post({ type: 'participation', client: a.client, result });
    post({ type: 'round-done', round: a.slot });
  };
  port!.on('message', (a: RoundAssignment | AsyncMemberAssignment) => {
    if (a.type === 'async-member') replay(a).catch(failed);
    else participate(a).catch(failed);
  });
}

main().catch(failed);
