/**
 * The in-memory dataset shape every loader produces: features in one flat Float32Array (row
 * major, `featureSize` values per example) and class labels in a Uint8Array, so that a 60k-image
 * dataset is two buffers rather than millions of JS objects.
 */
import { TrainerError, ensure } from '../errors.js';

/** A labelled classification dataset held in typed arrays. */
export interface Dataset {
  /** `size × featureSize` feature values, example after example. */
  readonly features: Float32Array;
  /** One class index in [0, numClasses) per example. */
  readonly labels: Uint8Array;
  /** Number of examples. */
  readonly size: number;
  /** Shape of one example's features, e.g. `[28, 28, 1]` or `[13]`. */
  readonly featureShape: readonly number[];
  /** Number of classes (at most 256). */
  readonly numClasses: number;
  /** Optional human names of the classes, index-aligned with the labels. */
  readonly classNames?: readonly string[];
}

/** Values per example: the product of `featureShape`. */
export function featureSize(ds: Pick<Dataset, 'featureShape'>): number {
  return ds.featureShape.reduce((a, b) => a * b, 1);
}

/** Checks the invariants of a dataset built by hand; throws `trainer/bad-dataset`. */
export function validateDataset(ds: Dataset): void {
  const fs = featureSize(ds);
  ensure(Number.isInteger(ds.size) && ds.size >= 0, 'trainer/bad-dataset', `dataset size must be a non-negative integer, got ${ds.size}`);
  ensure(ds.features.length === ds.size * fs, 'trainer/bad-dataset', () => `dataset has ${ds.features.length} feature values but ${ds.size} examples × ${fs} features = ${ds.size * fs}`);
  ensure(ds.labels.length === ds.size, 'trainer/bad-dataset', () => `dataset has ${ds.labels.length} labels but ${ds.size} examples`);
  ensure(ds.numClasses >= 1 && ds.numClasses <= 256, 'trainer/bad-dataset', `numClasses must be in [1, 256], got ${ds.numClasses}`);
  for (let i = 0; i < ds.size; i++) {
    if (ds.labels[i]! >= ds.numClasses) {
      throw new TrainerError('trainer/bad-dataset', `label ${ds.labels[i]} of example ${i} is outside [0, ${ds.numClasses})`);
    }
  }
}

/** A new dataset holding the examples at `indices`, in that order (features copied). */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const fs = featureSize(ds);
  const features = new Float32Array(indices.length * fs);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    ensure(Number.isInteger(j) && j >= 0 && j < ds.size, 'trainer/bad-index', `index ${j} is outside the dataset of ${ds.size} examples`);
    features.set(ds.features.subarray(j * fs, (j + 1) * fs), i * fs);
    labels[i] = ds.labels[j]!;
  }
  return { ...ds, features, labels, size: indices.length };
}

/** The first `n` examples (views, no copy). */
export function take(ds: Dataset, n: number): Dataset {
  ensure(Number.isInteger(n) && n >= 0, 'trainer/bad-index', `take needs a non-negative integer, got ${n}`);
  const m = Math.min(n, ds.size);
  const fs = featureSize(ds);
  return { ...ds, features: ds.features.subarray(0, m * fs), labels: ds.labels.subarray(0, m), size: m };
}

/** Number of examples of each class. */
export function labelHistogram(labels: ArrayLike<number>, numClasses: number): number[] {
  const h = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) h[labels[i]!]! += 1;
  return h;
}
