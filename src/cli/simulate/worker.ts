/**
 * A simulation worker thread: hosts some of the simulated participants, each a real
 * {@link Participant} talking to the coordinator over loopback HTTP, and trains for them with
 * TensorFlow.js on their own partitions of MNIST. One worker per core gives parallel training.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { canaryUpdate } from '../../dp/index.js';
import type { Phase } from '../../protocol/phases.js';
import { randomBelow, randomUnit, seededRandom } from '../../secagg/index.js';
import { defaultProvider } from '../../secagg/index.js';
import { Participant } from '../../server/participant.js';
import { createModel, getFlatWeights, initBackend, loadMnist, subset, trainLocal, type Dataset } from '../../trainer/index.js';
import { modelSpecOf } from './options.js';
import type { BaselineTrainRequest, HostedClient, StartParticipating, WorkerEvent, WorkerInit } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error('simulate worker must run in a worker thread');
const post = (e: WorkerEvent, transfer: ArrayBuffer[] = []): void => port.postMessage(e, transfer);

/** Where (if anywhere) `client` drops out of `round`: reproducible from the seed. */
function dropoutPhase(client: number, round: number): Phase | undefined {
  if (init.dropout === 0) return undefined;
  const rng = seededRandom(`fedveil/simulate/${init.seed}/dropout/${client}/${round}`);
  if (randomUnit(rng) >= init.dropout) return undefined;
  return init.phases[randomBelow(rng, init.phases.length)];
}

async function main(): Promise<void> {
  const backend = await initBackend(init.backend ? { prefer: init.backend } : {});
  const all = loadMnist({ split: 'train', layout: init.recipe.model === 'cnn' ? 'image' : 'flat' });
  const data = new Map<number, Dataset>(init.clients.filter((c) => c.canarySecret === undefined).map((c) => [c.client, subset(all, c.indices)]));
  const model = await createModel(modelSpecOf(init.recipe.model), init.seed);

  // One model per worker: trainings of its participants take turns.
  let queue: Promise<unknown> = Promise.resolve();
  const train = (c: HostedClient, round: number, weights: Float32Array) => {
    const run = queue.then(() =>
      trainLocal(model, weights, data.get(c.client) as Dataset, {
        epochs: init.recipe.epochs,
        batchSize: init.recipe.batchSize,
        learningRate: init.recipe.learningRate,
        optimizer: 'sgd',
        proxMu: init.recipe.proxMu,
        seed: (init.seed * 1_000_003 + c.client * 7_919 + round) % 2 ** 31,
      }),
    );
    queue = run.catch(() => undefined);
    return run;
  };

  // One timed warm-up training (it also compiles the backend's kernels) tells the main thread how
  // long phases must wait for this worker's participants.
  const first = init.clients.find((c) => c.canarySecret === undefined);
  const t0 = performance.now();
  if (first !== undefined) await train(first, 0, getFlatWeights(model));
  post({ type: 'ready', backend: backend.name, reason: backend.reason, trainMs: performance.now() - t0 });

  if (init.mode === 'baseline') {
    port!.on('message', (req: BaselineTrainRequest) => {
      void (async () => {
        for (const id of req.clients) {
          const c = init.clients.find((x) => x.client === id) as HostedClient;
          const r = await train(c, req.round, req.weights);
          post({ type: 'trained', round: req.round, client: id, update: r.update, examples: r.examples, loss: r.loss }, [r.update.buffer as ArrayBuffer]);
        }
      })().catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
    });
    return;
  }

  const coordinator = await new Promise<string>((resolve) =>
    port!.once('message', (m: StartParticipating) => resolve(m.coordinator)),
  );
  await Promise.all(
    init.clients.map(async (c) => {
      const participant = new Participant({
        coordinator,
        identity: { secretKey: c.secretKey, publicKey: defaultProvider.ed25519PublicKey(c.secretKey) },
        train: async (weights, info) => {
          // A canary trains on nothing: its update is its secret direction at the clip norm, every round.
          if (c.canarySecret !== undefined) return { update: canaryUpdate(c.canarySecret, weights.length, init.clip), examples: 0 };
          const r = await train(c, info.round, weights);
          return { update: r.update, examples: r.examples };
        },
        ...(init.noiseScale === undefined ? {} : { noiseScale: init.noiseScale }),
        // Reproducible (and therefore not secret): a simulation, not a deployment.
        random: seededRandom(`fedveil/simulate/${init.seed}/client-${c.client}/secrets`),
        dropout: (round) => dropoutPhase(c.client, round),
      });
      const results = await participant.run();
      for (const result of results) post({ type: 'participation', client: c.client, result });
    }),
  );
  post({ type: 'done' });
}

main().catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
