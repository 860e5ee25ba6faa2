/**
 * Local training on one participant's data: FedAvg's inner loop (Mcmahan et al. 2017) with
 * FedProx's proximal term μ/2‖w − w_global‖² (Li et al., MLSys 2020). It is our own loop rather
 * than `model.fit` because `fit` cannot add a term that depends on the global weights. It returns
 * the flat update (new − global) the protocol clips, noises and masks.
 */
import * as tf from '@tensorflow/tfjs';
import { featureSize, type Dataset } from './data/dataset.js';
import { TrainerError, ensure, firstNonFinite } from './errors.js';
import { assertCanTrain } from './kernels.js';
import { crossEntropyPerExample } from './loss.js';
import { createRng } from './rng.js';
import { getFlatWeights, setFlatWeights } from './weights.js';

/** Local optimiser choices. */
export type LocalOptimizer = 'sgd' | 'adam';

/** Hyper-parameters of one participant's local training. */
export interface LocalTrainOptions {
  /** Passes over the local data (≥ 1). */
  epochs: number;
  /** Examples per gradient step (≥ 1); the last batch of an epoch may be smaller. */
  batchSize: number;
  /** Local learning rate (> 0). */
  learningRate: number;
  /** Local optimiser; a fresh one each call, so no state leaks between rounds. */
  optimizer: LocalOptimizer;
  /** FedProx μ ≥ 0; 0 or absent is plain FedAvg. */
  proxMu?: number;
  /** Seeds the per-epoch shuffles. */
  seed: number;
}

/** What local training hands to the protocol. */
export interface LocalTrainResult {
  /** New local weights minus the global weights, flat, in `model.weights` order. */
  update: Float32Array;
  /** Number of local examples (the FedAvg weight, when weighting by examples). */
  examples: number;
  /** Mean cross-entropy over the last epoch's batches (without the proximal term). */
  loss: number;
}

function checkOptions(o: LocalTrainOptions): void {
  ensure(Number.isInteger(o.epochs) && o.epochs >= 1, 'trainer/bad-option', `epochs must be a positive integer, got ${o.epochs}`);
  ensure(Number.isInteger(o.batchSize) && o.batchSize >= 1, 'trainer/bad-option', `batchSize must be a positive integer, got ${o.batchSize}`);
  ensure(Number.isFinite(o.learningRate) && o.learningRate > 0, 'trainer/bad-option', `learningRate must be a positive number, got ${o.learningRate}`);
  ensure(o.optimizer === 'sgd' || o.optimizer === 'adam', 'trainer/bad-option', `optimizer must be "sgd" or "adam", got "${String(o.optimizer)}"`);
  const mu = o.proxMu ?? 0;
  ensure(Number.isFinite(mu) && mu >= 0, 'trainer/bad-option', `proxMu must be a non-negative number, got ${mu}`);
  ensure(Number.isFinite(o.seed), 'trainer/bad-seed', `seed must be a finite number, got ${o.seed}`);
}

/** Checks that `data` fits `model`'s input and output; returns the model's class count. */
export function checkDataFitsModel(model: tf.LayersModel, data: Dataset): number {
  const inShape = model.inputs[0]!.shape.slice(1);
  const inSize = inShape.reduce<number>((a, b) => a * (b ?? 0), 1);
  ensure(inSize === featureSize(data), 'trainer/shape-mismatch', `model "${model.name}" takes ${inSize} input values per example (${inShape.join('×')}) but the data has ${featureSize(data)} (${data.featureShape.join('×')})`);
  const outShape = model.outputs[0]!.shape;
  const classes = outShape[outShape.length - 1];
  ensure(outShape.length === 2 && typeof classes === 'number', 'trainer/bad-model-output', `model "${model.name}" must output [batch, classes], got [${outShape.join(', ')}]`);
  ensure(data.numClasses <= classes, 'trainer/shape-mismatch', `data has ${data.numClasses} classes but model "${model.name}" outputs ${classes}`);
  return classes;
}

/** Builds one batch's input and one-hot target tensors from the examples at `idx`. */
export function makeBatch(data: Dataset, idx: ArrayLike<number>, inShape: number[], classes: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const fs = featureSize(data);
  const b = idx.length;
  // A fresh buffer per batch: the cpu backend keeps a reference to the array it is given.
  const x = new Float32Array(b * fs);
  const y = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const j = idx[i]!;
    x.set(data.features.subarray(j * fs, (j + 1) * fs), i * fs);
    y[i] = data.labels[j]!;
  }
  return tf.tidy(() => ({ xs: tf.tensor(x, [b, ...inShape], 'float32'), ys: tf.oneHot(tf.tensor1d(y, 'int32'), classes) }));
}

/**
 * Trains `model` from `globalWeights` on `data` and returns the update. Leaves `model` holding the
 * trained weights. Throws `trainer/empty-dataset`, `trainer/weights-length-mismatch`,
 * `trainer/shape-mismatch`, `trainer/non-finite-weights` (bad global model),
 * `trainer/non-finite-update` (training diverged), `trainer/backend-missing-kernel`, or
 * `trainer/bad-option`. Allocates no tensors that outlive the call.
 */
export async function trainLocal(model: tf.LayersModel, globalWeights: Float32Array, data: Dataset, opts: LocalTrainOptions): Promise<LocalTrainResult> {
  checkOptions(opts);
  ensure(data.size >= 1, 'trainer/empty-dataset', 'cannot train on an empty dataset');
  const classes = checkDataFitsModel(model, data);
  const bad = firstNonFinite(globalWeights);
  ensure(bad < 0, 'trainer/non-finite-weights', () => `global weights hold ${globalWeights[bad]} at index ${bad}; refusing to train from a corrupted model`);
  assertCanTrain(model);
  setFlatWeights(model, globalWeights);

  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const mu = opts.proxMu ?? 0;
  const anchors = mu > 0 ? vars.map((v) => tf.keep(v.clone())) : [];
  const optimizer = opts.optimizer === 'sgd' ? tf.train.sgd(opts.learningRate) : tf.train.adam(opts.learningRate);
  const rng = createRng(opts.seed);
  const order = new Uint32Array(data.size);
  for (let i = 0; i < order.length; i++) order[i] = i;

  let lossSum: tf.Scalar | null = null;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      rng.shuffle(order);
      lossSum?.dispose();
      lossSum = tf.scalar(0);
      for (let start = 0; start < data.size; start += opts.batchSize) {
        const idx = order.subarray(start, Math.min(start + opts.batchSize, data.size));
        const { xs, ys } = makeBatch(data, idx, inShape, classes);
        let dataLoss: tf.Scalar | null = null;
        let cost: tf.Scalar | null;
        try {
          cost = optimizer.minimize(
            () => {
              const probs = model.apply(xs, { training: true }) as tf.Tensor;
              const ce = tf.mean(crossEntropyPerExample(probs, ys)) as tf.Scalar;
              if (mu === 0) return ce;
              // Kept so the data term survives for the loss report; the returned total is disposed.
              dataLoss = tf.keep(ce);
              let prox = tf.scalar(0);
              for (let i = 0; i < vars.length; i++) prox = tf.add(prox, tf.sum(tf.square(tf.sub(vars[i]!, anchors[i]!))));
              return tf.add(ce, tf.mul(mu / 2, prox)) as tf.Scalar;
            },
            mu === 0,
            vars,
          );
        } finally {
          xs.dispose();
          ys.dispose();
        }
        if (mu === 0) dataLoss = cost;
        const prev: tf.Scalar = lossSum;
        const batchLoss = dataLoss as tf.Scalar | null;
        lossSum = tf.tidy(() => tf.add(prev, tf.mul(batchLoss as tf.Scalar, idx.length)) as tf.Scalar);
        prev.dispose();
        batchLoss?.dispose();
      }
    }
    const loss = (await (lossSum as tf.Scalar | null)!.data())[0]! / data.size;
    const update = getFlatWeights(model);
    for (let i = 0; i < update.length; i++) update[i] = update[i]! - globalWeights[i]!;
    const at = firstNonFinite(update);
    if (at >= 0) {
      throw new TrainerError('trainer/non-finite-update', `local training diverged: the update holds ${update[at]} at index ${at} (last-epoch loss ${loss}); lower the learning rate`);
    }
    return { update, examples: data.size, loss };
  } finally {
    (lossSum as tf.Scalar | null)?.dispose();
    for (const a of anchors) a.dispose();
    optimizer.dispose();
  }
}
