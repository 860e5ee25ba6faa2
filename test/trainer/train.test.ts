import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/trainer/backend.js';
import { take, type Dataset } from '../../src/trainer/data/dataset.js';
import { loadMnist } from '../../src/trainer/data/mnist.js';
import { evaluate } from '../../src/trainer/evaluate.js';
import { missingTrainingKernels } from '../../src/trainer/kernels.js';
import { createCnn, createMlp, modelFromJson } from '../../src/trainer/models.js';
import { trainLocal, type LocalTrainOptions } from '../../src/trainer/train.js';
import { getFlatWeights, setFlatWeights } from '../../src/trainer/weights.js';

let train: Dataset;
let test: Dataset;
const SGD: LocalTrainOptions = { epochs: 1, batchSize: 32, learningRate: 0.1, optimizer: 'sgd', seed: 1 };

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  train = loadMnist({ split: 'train', limit: 500 });
  test = loadMnist({ split: 'test', limit: 500 });
});

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

describe('trainLocal', () => {
  it('learns MNIST and returns exactly new − global', async () => {
    const model = createMlp(3);
    let global = getFlatWeights(model);
    const before = await evaluate(model, test);
    const losses: number[] = [];
    for (let round = 0; round < 3; round++) {
      const r = await trainLocal(model, global, train, { ...SGD, seed: round });
      expect(r.examples).toBe(500);
      const local = getFlatWeights(model);
      for (let i = 0; i < local.length; i += 997) expect(r.update[i]).toBe(Math.fround(local[i]! - global[i]!));
      losses.push(r.loss);
      global = local;
    }
    expect(losses[2]).toBeLessThan(losses[0]!);
    setFlatWeights(model, global);
    const after = await evaluate(model, test);
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThan(0.6); // chance is 0.1; 3 epochs on 500 examples give ≈ 0.7
    model.dispose();
  });

  it('is reproducible from its seed', async () => {
    const model = createMlp(3, 784, [16], 10);
    const g = getFlatWeights(model);
    const data = take(train, 200);
    const a = await trainLocal(model, g, data, { ...SGD, seed: 7 });
    const b = await trainLocal(model, g, data, { ...SGD, seed: 7 });
    const c = await trainLocal(model, g, data, { ...SGD, seed: 8 });
    expect(a.update).toEqual(b.update);
    expect(a.update).not.toEqual(c.update);
    model.dispose();
  });

  it('keeps the tensor count flat over many rounds (sgd, adam, FedProx)', async () => {
    const model = createMlp(3, 784, [16], 10);
    let g = getFlatWeights(model);
    const data = take(train, 100);
    const counts: number[] = [];
    for (let round = 0; round < 12; round++) {
      const opts: LocalTrainOptions = { ...SGD, optimizer: round % 2 ? 'adam' : 'sgd', learningRate: round % 2 ? 0.001 : 0.05, proxMu: round % 3 ? 0.01 : 0, seed: round };
      const r = await trainLocal(model, g, data, opts);
      g = g.map((w, i) => w + r.update[i]!);
      await evaluate(model, data);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    model.dispose();
  });

  it('pulls the update towards the global model under the FedProx term', async () => {
    const model = createMlp(3, 784, [16], 10);
    const g = getFlatWeights(model);
    const data = take(train, 200);
    const plain = await trainLocal(model, g, data, { ...SGD, epochs: 2 });
    const prox = await trainLocal(model, g, data, { ...SGD, epochs: 2, proxMu: 5 });
    expect(norm(prox.update)).toBeLessThan(0.8 * norm(plain.update));
    model.dispose();
  });

  it('refuses bad input with specific codes', async () => {
    const model = createMlp(3, 784, [8], 10);
    const g = getFlatWeights(model);
    const data = take(train, 40);
    const bad = g.slice();
    bad[5] = NaN;
    await expect(trainLocal(model, bad, data, SGD)).rejects.toMatchObject({ code: 'trainer/non-finite-weights' });
    await expect(trainLocal(model, g.subarray(1), data, SGD)).rejects.toMatchObject({ code: 'trainer/weights-length-mismatch' });
    await expect(trainLocal(model, g, take(data, 0), SGD)).rejects.toMatchObject({ code: 'trainer/empty-dataset' });
    const narrow: Dataset = { features: new Float32Array(40), labels: new Uint8Array(4), size: 4, featureShape: [10], numClasses: 10 };
    await expect(trainLocal(model, g, narrow, SGD)).rejects.toMatchObject({ code: 'trainer/shape-mismatch', message: expect.stringContaining('784') });
    await expect(trainLocal(model, g, { ...data, numClasses: 12 }, SGD)).rejects.toMatchObject({ code: 'trainer/shape-mismatch' });
    for (const o of [{ epochs: 0 }, { batchSize: 2.5 }, { learningRate: -1 }, { optimizer: 'rmsprop' }, { proxMu: -0.1 }]) {
      await expect(trainLocal(model, g, data, { ...SGD, ...(o as object) })).rejects.toMatchObject({ code: 'trainer/bad-option' });
    }
    // Features near float32's maximum overflow the forward pass: the update must be refused, not returned.
    const huge: Dataset = { ...data, features: new Float32Array(data.features.length).fill(3e38) };
    await expect(trainLocal(model, g, huge, SGD)).rejects.toMatchObject({ code: 'trainer/non-finite-update', message: expect.stringContaining('lower the learning rate') });
    model.dispose();
  });
});

describe('convolutional models and backends', () => {
  it('trains the McMahan CNN on wasm with our registered kernels', async () => {
    const cnn = createCnn(1);
    expect(missingTrainingKernels(cnn)).toEqual([]);
    const r = await trainLocal(cnn, getFlatWeights(cnn), take(train, 48), { ...SGD, batchSize: 24 });
    expect(r.update.length).toBe(1663370);
    expect(norm(r.update)).toBeGreaterThan(0);
    cnn.dispose();
  });

  it('refuses a CNN on a backend without Conv2DBackpropFilter and says what to use', async () => {
    const cnn = createCnn(1);
    const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm')!;
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm'); // the stock wasm backend's state
    try {
      expect(missingTrainingKernels(cnn)).toEqual(['Conv2DBackpropFilter']);
      await expect(trainLocal(cnn, getFlatWeights(cnn), take(train, 8), SGD)).rejects.toMatchObject({
        code: 'trainer/backend-missing-kernel',
        message: expect.stringMatching(/Conv2DBackpropFilter.*tfjs-node.*cpu/s),
      });
    } finally {
      tf.registerKernel(kernel);
      cnn.dispose();
    }
  });

  it('trains a small convolutional user model on the cpu backend', async () => {
    await initBackend({ prefer: 'cpu' });
    try {
      const topo = tf.sequential({
        layers: [
          tf.layers.reshape({ inputShape: [784], targetShape: [28, 28, 1] }),
          tf.layers.conv2d({ filters: 2, kernelSize: 5, strides: 3, activation: 'relu' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      });
      const json = topo.toJSON(undefined, false) as object;
      topo.dispose();
      const model = await modelFromJson(json, 4);
      expect(missingTrainingKernels(model)).toEqual([]);
      const r = await trainLocal(model, getFlatWeights(model), take(train, 64), SGD);
      expect(norm(r.update)).toBeGreaterThan(0);
      model.dispose();
    } finally {
      await initBackend({ prefer: 'wasm' });
    }
  });
});
