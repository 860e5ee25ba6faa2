import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist, loadMnistLabels, mnistDataDir } from '../../src/trainer/data/mnist.js';
import { labelHistogram, subset, take, validateDataset } from '../../src/trainer/data/dataset.js';

describe('loadMnist', () => {
  it('reads the official files into typed arrays', () => {
    const train = loadMnist({ split: 'train', limit: 500 });
    expect(train.size).toBe(500);
    expect(train.features).toBeInstanceOf(Float32Array);
    expect(train.features.length).toBe(500 * 784);
    expect(train.labels).toBeInstanceOf(Uint8Array);
    expect(train.featureShape).toEqual([784]);
    // The first training digits of the official MNIST files are 5, 0, 4, 1, 9.
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(train.features.reduce((a, b) => Math.min(a, b), Infinity)).toBe(0);
    expect(train.features.reduce((a, b) => Math.max(a, b), -Infinity)).toBe(1);
    validateDataset(train);
    const test = loadMnist({ split: 'test', limit: 3, layout: 'image' });
    expect(Array.from(test.labels)).toEqual([7, 2, 1]);
    expect(test.featureShape).toEqual([28, 28, 1]);
  });

  it('loads the full test split (10,000 examples, every digit present)', () => {
    const test = loadMnist({ split: 'test' });
    expect(test.size).toBe(10000);
    const h = labelHistogram(test.labels, 10);
    expect(h.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(h[0]).toBe(980);
  });

  it('rejects files with a wrong magic number, truncation or a missing directory', () => {
    const src = mnistDataDir();
    const dir = mkdtempSync(path.join(tmpdir(), 'fedveil-idx-'));
    const images = readFileSync(path.join(src, 't10k-images-idx3-ubyte'));
    const labels = readFileSync(path.join(src, 't10k-labels-idx1-ubyte'));
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), labels);
    writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), labels);
    expect(() => loadMnist({ split: 'test', dir })).toThrow(expect.objectContaining({ code: 'trainer/idx-bad-magic' }));
    writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), images.subarray(0, images.length - 1));
    expect(() => loadMnist({ split: 'test', dir })).toThrow(expect.objectContaining({ code: 'trainer/idx-truncated' }));
    expect(() => loadMnist({ split: 'test', dir: path.join(dir, 'nope') })).toThrow(expect.objectContaining({ code: 'trainer/dataset-missing' }));
    expect(() => loadMnist({ split: 'dev' as never })).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
    expect(() => loadMnist({ limit: 0 })).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
  });

  it('subsets and takes examples without mixing features and labels', () => {
    const ds = loadMnist({ split: 'test', limit: 10 });
    const s = subset(ds, [3, 1]);
    expect(Array.from(s.labels)).toEqual([ds.labels[3], ds.labels[1]]);
    expect(s.features.subarray(0, 784)).toEqual(ds.features.subarray(3 * 784, 4 * 784));
    expect(take(ds, 4).size).toBe(4);
    expect(() => subset(ds, [10])).toThrow(expect.objectContaining({ code: 'trainer/bad-index' }));
  });
});

describe('loadMnistLabels', () => {
  it('gives exactly the labels loadMnist gives, without the pixels', () => {
    const labels = loadMnistLabels({ split: 'test' });
    expect(labels).toHaveLength(10_000);
    expect(labels).toEqual(loadMnist({ split: 'test' }).labels);
    expect(loadMnistLabels()).toHaveLength(60_000);
  });

  it('rejects a missing directory and a bad split', () => {
    expect(() => loadMnistLabels({ dir: '/nonexistent-mnist' })).toThrow(/cannot open/);
    expect(() => loadMnistLabels({ split: 'dev' as never })).toThrow(/split must be "train" or "test"/);
  });
});
