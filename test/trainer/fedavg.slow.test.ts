/**
 * End-to-end check of the learning half without DP or secure aggregation: plain in-process
 * FedAvg (McMahan et al. 2017) over 10 clients on the full MNIST training set, evaluated on the
 * official 10k test set after every round. Slow (tens of minutes on 2 shared cores): runs only
 * under `npm run test:slow`. Each round's accuracy is printed and written as JSON to the OS temp
 * directory so the curve can be reported.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createMlp,
  createServerOptimizer,
  evaluate,
  getFlatWeights,
  initBackend,
  loadMnist,
  meanFromExampleWeightedSum,
  partitionDataset,
  setFlatWeights,
  subset,
  trainLocal,
  weightByExamples,
  type PartitionSpec,
} from '../../src/trainer/index.js';

const CLIENTS = 10;
const ROUNDS = 20;
const LOCAL = { epochs: 1, batchSize: 32, learningRate: 0.2, optimizer: 'sgd' as const };

async function federate(name: string, spec: PartitionSpec, stopAt: number): Promise<{ round: number; accuracy: number; loss: number; seconds: number }[]> {
  const backend = await initBackend();
  const train = loadMnist({ split: 'train' });
  const test = loadMnist({ split: 'test' });
  const parts = partitionDataset(train.labels, 10, { clients: CLIENTS, spec, seed: 2024 });
  console.log(`[${name}] backend ${backend.name}; client sizes ${parts.map((p) => p.size).join(' ')}`);
  const clients = parts.map((p) => subset(train, p.indices));
  const model = createMlp(7);
  let global = getFlatWeights(model);
  const server = createServerOptimizer({ kind: 'fedavg', lr: 1 });
  const curve: { round: number; accuracy: number; loss: number; seconds: number }[] = [];
  const t0 = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    const sum = new Float32Array(global.length + 1);
    for (let c = 0; c < CLIENTS; c++) {
      const r = await trainLocal(model, global, clients[c]!, { ...LOCAL, seed: round * 1000 + c });
      const weighted = weightByExamples(r.update, r.examples);
      for (let i = 0; i < sum.length; i++) sum[i]! += weighted[i]!;
    }
    global = server.apply(global, meanFromExampleWeightedSum(sum));
    setFlatWeights(model, global);
    const ev = await evaluate(model, test);
    const point = { round, accuracy: ev.accuracy, loss: ev.loss, seconds: Math.round((performance.now() - t0) / 100) / 10 };
    curve.push(point);
    console.log(`[${name}] round ${round}: accuracy ${(ev.accuracy * 100).toFixed(2)}% loss ${ev.loss.toFixed(4)} (${point.seconds} s)`);
    writeFileSync(path.join(tmpdir(), `fedveil-fedavg-${name}.json`), JSON.stringify({ name, spec, clients: CLIENTS, local: LOCAL, curve }, null, 1));
    if (ev.accuracy >= stopAt) break;
  }
  model.dispose();
  return curve;
}

describe('FedAvg on MNIST with the 2NN MLP', () => {
  it('reaches 97% test accuracy within 20 rounds with 10 IID clients', async () => {
    const curve = await federate('iid', { kind: 'iid' }, 0.97);
    expect(curve.at(-1)!.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(curve.length).toBeLessThanOrEqual(ROUNDS);
  });

  it('reaches 93% test accuracy within 20 rounds with Dirichlet(0.1) label skew', async () => {
    const curve = await federate('dirichlet-0.1', { kind: 'dirichlet', alpha: 0.1 }, 1.01);
    // Measured 95.6% at round 20 (seeded run, wasm); the margin absorbs backend-level float differences.
    expect(curve.at(-1)!.accuracy).toBeGreaterThanOrEqual(0.93);
  });
});
