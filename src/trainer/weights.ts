/**
 * Flattening a model's weights to one Float32Array (the vector the protocol clips, noises, masks
 * and sums) and writing such a vector back. The order is `model.weights` order — every layer's
 * weights, trainable and not — so that two models built from the same topology agree on it.
 */
import * as tf from '@tensorflow/tfjs';
import { TrainerError, ensure } from './errors.js';

/** Total number of float32 values in `model`'s weights (the flat vector's length). */
export function countParams(model: tf.LayersModel): number {
  let n = 0;
  for (const w of model.weights) n += sizeOf(w.shape);
  return n;
}

function sizeOf(shape: readonly (number | null)[]): number {
  let n = 1;
  for (const d of shape) n *= d ?? 0;
  return n;
}

/** Copies every weight of `model` into one new Float32Array, in `model.weights` order. */
export function getFlatWeights(model: tf.LayersModel): Float32Array {
  const out = new Float32Array(countParams(model));
  let offset = 0;
  for (const w of model.weights) {
    ensure(w.dtype === 'float32', 'trainer/unsupported-weight-dtype', `weight ${w.name} has dtype ${w.dtype}; only float32 weights can be flattened`);
    const values = w.read().dataSync() as Float32Array;
    out.set(values, offset);
    offset += values.length;
  }
  return out;
}

/**
 * Overwrites `model`'s weights from a flat vector produced by {@link getFlatWeights} on a model
 * of the same topology. The values are copied bit for bit; a length mismatch throws
 * `trainer/weights-length-mismatch` before anything is written.
 */
export function setFlatWeights(model: tf.LayersModel, flat: Float32Array): void {
  ensure(flat instanceof Float32Array, 'trainer/weights-type', 'weights must be a Float32Array');
  const expected = countParams(model);
  if (flat.length !== expected) {
    throw new TrainerError(
      'trainer/weights-length-mismatch',
      `weight vector has ${flat.length} values but the model has ${expected} parameters (${model.weights.length} weight tensors)`,
    );
  }
  let offset = 0;
  for (const w of model.weights) {
    const size = sizeOf(w.shape);
    // `slice` copies, so the model never aliases the caller's buffer.
    const t = tf.tensor(flat.slice(offset, offset + size), w.shape as number[], 'float32');
    w.write(t);
    t.dispose();
    offset += size;
  }
}

/** Shapes of `model`'s weight tensors, in flat-vector order (for diagnostics and manifests). */
export function weightShapes(model: tf.LayersModel): { name: string; shape: number[] }[] {
  return model.weights.map((w) => ({ name: w.name, shape: w.shape as number[] }));
}
