/**
 * Trainer benchmarks. `local_epoch_ms`: wall time of one local epoch of `trainLocal` (params:
 * backend, model, examples, batch). `fit_overhead_ratio`: that time over plain tfjs `model.fit`
 * on the same model, data, batch size, optimiser and backend (target ≤ 1.5, DESIGN.md).
 * Runs are interleaved and the median of several is taken, because the machine is shared.
 */
import * as tf from '@tensorflow/tfjs';
import type { BenchResult } from '../results.js';
import { createCnn, createMlp, createLogisticRegression, getFlatWeights, initBackend, loadMnist, setFlatWeights, trainLocal, type Dataset } from '../../src/trainer/index.js';

const EXAMPLES = 600;
const BATCH = 32;
const REPEATS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function fitEpochMs(model: tf.LayersModel, w0: Float32Array, data: Dataset): Promise<number> {
  setFlatWeights(model, w0);
  const xs = tf.tensor2d(data.features, [data.size, 784]);
  const ys = tf.oneHot(tf.tensor1d(Int32Array.from(data.labels), 'int32'), 10);
  const t0 = performance.now();
  await model.fit(xs, ys, { epochs: 1, batchSize: BATCH, shuffle: true, verbose: 0 });
  const ms = performance.now() - t0;
  xs.dispose();
  ys.dispose();
  return ms;
}

async function oursEpochMs(model: tf.LayersModel, w0: Float32Array, data: Dataset, seed: number): Promise<number> {
  const t0 = performance.now();
  await trainLocal(model, w0, data, { epochs: 1, batchSize: BATCH, learningRate: 0.05, optimizer: 'sgd', seed });
  return performance.now() - t0;
}

/** Runs the trainer suite on the automatically chosen backend. */
export async function run(): Promise<BenchResult[]> {
  const backend = await initBackend();
  const data = loadMnist({ split: 'train', limit: EXAMPLES });
  const results: BenchResult[] = [];
  // The CNN is ~30× costlier per epoch; fewer repeats keep the suite under a few minutes.
  const models: [string, () => tf.LayersModel, number][] = [
    ['mlp', () => createMlp(1), REPEATS],
    ['logreg', () => createLogisticRegression(784, 10, 1), REPEATS],
    ['cnn', () => createCnn(1), 1],
  ];
  for (const [name, make, repeats] of models) {
    const model = make();
    const w0 = getFlatWeights(model);
    // model.fit needs a compiled model; the compiled loss is the same categorical cross-entropy.
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
    const warm = { ...data, size: 64, features: data.features.subarray(0, 64 * 784), labels: data.labels.subarray(0, 64) };
    await oursEpochMs(model, w0, warm, 0);
    await fitEpochMs(model, w0, warm);
    const ours: number[] = [];
    const fit: number[] = [];
    for (let r = 0; r < repeats; r++) {
      ours.push(await oursEpochMs(model, w0, data, r));
      fit.push(await fitEpochMs(model, w0, data));
    }
    const params = { backend: backend.name, model: name, examples: EXAMPLES, batch: BATCH };
    const oursMs = median(ours);
    const fitMs = median(fit);
    results.push({ metric: 'local_epoch_ms', value: Math.round(oursMs * 10) / 10, unit: 'ms', params });
    results.push({ metric: 'fit_overhead_ratio', value: Math.round((oursMs / fitMs) * 1000) / 1000, unit: 'ratio', params: { ...params, fit_epoch_ms: Math.round(fitMs * 10) / 10 }, target: 1.5 });
    model.dispose();
  }
  return results;
}
