import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/trainer/backend.js';
import { take, type Dataset } from '../../src/trainer/data/dataset.js';
import { loadMnist } from '../../src/trainer/data/mnist.js';
import { evaluate } from '../../src/trainer/evaluate.js';
import { createMlp } from '../../src/trainer/models.js';

let data: Dataset;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  data = loadMnist({ split: 'test', limit: 300 });
});

describe('evaluate', () => {
  it('matches a direct computation of accuracy, per-class accuracy and loss, whatever the batch size', async () => {
    const model = createMlp(9, 784, [32], 10);
    const probs = tf.tidy(() => model.predict(tf.tensor2d(data.features, [data.size, 784])) as tf.Tensor).arraySync() as number[][];
    let correct = 0;
    let loss = 0;
    const perClass = new Array<number>(10).fill(0);
    const count = new Array<number>(10).fill(0);
    probs.forEach((p, i) => {
      const label = data.labels[i]!;
      const pred = p.indexOf(Math.max(...p));
      count[label]! += 1;
      if (pred === label) {
        correct++;
        perClass[label]! += 1;
      }
      loss -= Math.log(Math.min(Math.max(p[label]! / p.reduce((a, b) => a + b, 0), 1e-7), 1 - 1e-7));
    });
    for (const batch of [7, 500]) {
      const ev = await evaluate(model, data, batch);
      expect(ev.examples).toBe(300);
      expect(ev.accuracy).toBeCloseTo(correct / 300, 10);
      expect(ev.perClassCount).toEqual(count);
      expect(ev.perClassAccuracy).toEqual(perClass.map((c, k) => c / count[k]!));
      expect(ev.loss).toBeCloseTo(loss / 300, 4);
      expect(ev.correct).toBe(correct);
      expect(ev.lossSum).toBeCloseTo(loss, 2);
    }
    // federated evaluation caps each example's loss: the cap bounds the sum, and a cap above every loss changes nothing
    const capped = await evaluate(model, data, 500, { lossCap: 0.5 });
    expect(capped.lossSum).toBeLessThanOrEqual(0.5 * 300 + 1e-6);
    expect(capped.lossSum).toBeLessThan(loss);
    expect(capped.correct).toBe(correct);
    expect((await evaluate(model, data, 500, { lossCap: 1e6 })).lossSum).toBeCloseTo(loss, 2);
    await expect(evaluate(model, data, 500, { lossCap: 0 })).rejects.toMatchObject({ code: 'trainer/bad-option' });
    model.dispose();
  });

  it('reports NaN accuracy for absent classes and rejects empty sets', async () => {
    const model = createMlp(9, 784, [8], 10);
    const zeros = { ...take(data, 50), labels: new Uint8Array(50) };
    const ev = await evaluate(model, zeros);
    expect(ev.perClassCount[0]).toBe(50);
    expect(ev.perClassAccuracy[3]).toBeNaN();
    await expect(evaluate(model, take(data, 0))).rejects.toMatchObject({ code: 'trainer/empty-dataset' });
    await expect(evaluate(model, data, 0)).rejects.toMatchObject({ code: 'trainer/bad-option' });
    model.dispose();
  });
});
