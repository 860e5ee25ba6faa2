/**
 * Evaluation on a held-out set: mean cross-entropy, accuracy and per-class accuracy, computed
 * batch by batch so a 10k-example test set never sits in one tensor.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from './data/dataset.js';
import { ensure } from './errors.js';
import { crossEntropyPerExample } from './loss.js';
import { checkDataFitsModel, makeBatch } from './train.js';

/** Metrics on a held-out set. */
export interface EvaluationResult {
  /** Mean cross-entropy. */
  loss: number;
  /** Fraction of examples whose arg-max prediction is the label. */
  accuracy: number;
  /** Accuracy per class (NaN for a class with no examples). */
  perClassAccuracy: number[];
  /** Examples per class in the evaluated set. */
  perClassCount: number[];
  /** Examples evaluated. */
  examples: number;
  /** Examples whose arg-max prediction is the label. */
  correct: number;
  /** Sum over the examples of their cross-entropy, each capped at `lossCap` when one is given. */
  lossSum: number;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Largest loss counted for one example (federated evaluation bounds each participant's loss sum). */
  lossCap?: number;
}

/**
 * Evaluates `model` on `data` in batches of `batchSize` (default 500); allocates no lasting
 * tensors. With `options.lossCap`, each example's loss counts at most that much (`loss` is then
 * the mean capped loss).
 */
export async function evaluate(model: tf.LayersModel, data: Dataset, batchSize = 500, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  ensure(data.size >= 1, 'trainer/empty-dataset', 'cannot evaluate on an empty dataset');
  const cap = options.lossCap;
  ensure(cap === undefined || cap > 0, 'trainer/bad-option', `lossCap must be > 0, got ${cap}`);
  ensure(Number.isInteger(batchSize) && batchSize >= 1, 'trainer/bad-option', `batchSize must be a positive integer, got ${batchSize}`);
  const classes = checkDataFitsModel(model, data);
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const correct = new Array<number>(classes).fill(0);
  const count = new Array<number>(classes).fill(0);
  let lossSum = 0;
  const idx = new Uint32Array(Math.min(batchSize, data.size));
  for (let start = 0; start < data.size; start += batchSize) {
    const b = Math.min(batchSize, data.size - start);
    for (let i = 0; i < b; i++) idx[i] = start + i;
    const { xs, ys } = makeBatch(data, idx.subarray(0, b), inShape, classes);
    const [lossT, predT] = tf.tidy(() => {
      const probs = model.predict(xs) as tf.Tensor;
      const perExample = crossEntropyPerExample(probs, ys);
      return [tf.sum(cap === undefined ? perExample : tf.minimum(perExample, cap)), tf.argMax(probs, -1)];
    });
    xs.dispose();
    ys.dispose();
    const [lossV, pred] = await Promise.all([lossT.data(), predT.data()]);
    lossT.dispose();
    predT.dispose();
    lossSum += lossV[0]!;
    for (let i = 0; i < b; i++) {
      const label = data.labels[start + i]!;
      count[label]! += 1;
      if (pred[i] === label) correct[label]! += 1;
    }
  }
  const totalCorrect = correct.reduce((a, b) => a + b, 0);
  return {
    loss: lossSum / data.size,
    accuracy: totalCorrect / data.size,
    perClassAccuracy: correct.map((c, k) => (count[k]! > 0 ? c / count[k]! : NaN)),
    perClassCount: count,
    examples: data.size,
    correct: totalCorrect,
    lossSum,
  };
}

/** The arg-max class of `model` for every example of `data` (labels ignored), in batches of `batchSize`. */
export async function predictClasses(model: tf.LayersModel, data: Dataset, batchSize = 500): Promise<Uint8Array> {
  ensure(Number.isInteger(batchSize) && batchSize >= 1, 'trainer/bad-option', `batchSize must be a positive integer, got ${batchSize}`);
  const classes = checkDataFitsModel(model, data);
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const out = new Uint8Array(data.size);
  const idx = new Uint32Array(Math.min(batchSize, Math.max(data.size, 1)));
  for (let start = 0; start < data.size; start += batchSize) {
    const b = Math.min(batchSize, data.size - start);
    for (let i = 0; i < b; i++) idx[i] = start + i;
    const { xs, ys } = makeBatch(data, idx.subarray(0, b), inShape, classes);
    const predT = tf.tidy(() => tf.argMax(model.predict(xs) as tf.Tensor, -1));
    xs.dispose();
    ys.dispose();
    out.set(await predT.data(), start);
    predT.dispose();
  }
  return out;
}
