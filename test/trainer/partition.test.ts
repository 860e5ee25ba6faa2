import { describe, expect, it } from 'vitest';
import { partitionDataset } from '../../src/trainer/partition.js';
import { createRng } from '../../src/trainer/rng.js';

function labels(n: number, classes: number): Uint8Array {
  const r = createRng(5);
  return Uint8Array.from({ length: n }, () => r.nextInt(classes));
}

function coversExactly(parts: { indices: Uint32Array }[], n: number): void {
  const all = parts.flatMap((p) => Array.from(p.indices)).sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
}

describe('partitionDataset', () => {
  const y = labels(3000, 10);

  it('IID: equal sizes (±1), disjoint, covering, histograms that match the indices', () => {
    const parts = partitionDataset(y, 10, { clients: 7, spec: { kind: 'iid' }, seed: 1 });
    expect(parts.map((p) => p.size)).toEqual([429, 429, 429, 429, 428, 428, 428]);
    coversExactly(parts, 3000);
    for (const p of parts) {
      const h = new Array<number>(10).fill(0);
      for (const i of p.indices) h[y[i]!]! += 1;
      expect(p.labelHistogram).toEqual(h);
      expect(Math.min(...h)).toBeGreaterThan(10); // every class present
    }
  });

  it('is reproducible from its seed and changes with it', () => {
    const a = partitionDataset(y, 10, { clients: 5, spec: { kind: 'dirichlet', alpha: 0.5 }, seed: 9 });
    const b = partitionDataset(y, 10, { clients: 5, spec: { kind: 'dirichlet', alpha: 0.5 }, seed: 9 });
    const c = partitionDataset(y, 10, { clients: 5, spec: { kind: 'dirichlet', alpha: 0.5 }, seed: 10 });
    expect(a.map((p) => Array.from(p.indices))).toEqual(b.map((p) => Array.from(p.indices)));
    expect(a.map((p) => p.size)).not.toEqual(c.map((p) => p.size));
  });

  it('Dirichlet(0.1) concentrates each client on few labels; large α is near IID', () => {
    const skewed = partitionDataset(y, 10, { clients: 10, spec: { kind: 'dirichlet', alpha: 0.1 }, seed: 3 });
    coversExactly(skewed, 3000);
    const dominant = (h: number[]): number => Math.max(...h) / h.reduce((s, v) => s + v, 0);
    const meanDominant = (ps: { labelHistogram: number[] }[]): number => ps.reduce((s, p) => s + dominant(p.labelHistogram), 0) / ps.length;
    expect(meanDominant(skewed)).toBeGreaterThan(0.5);
    const flat = partitionDataset(y, 10, { clients: 10, spec: { kind: 'dirichlet', alpha: 1000 }, seed: 3 });
    expect(meanDominant(flat)).toBeLessThan(0.2);
  });

  it('quantity skew varies sizes but keeps labels IID and every client non-empty', () => {
    const parts = partitionDataset(y, 10, { clients: 20, spec: { kind: 'quantity', alpha: 0.3 }, seed: 4, minSize: 5 });
    coversExactly(parts, 3000);
    const sizes = parts.map((p) => p.size);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeGreaterThan(5);
  });

  it('refuses empty partitions and bad parameters with specific codes', () => {
    expect(() => partitionDataset(y.subarray(0, 5), 10, { clients: 6, spec: { kind: 'iid' }, seed: 1 })).toThrow(expect.objectContaining({ code: 'trainer/empty-partition' }));
    expect(() => partitionDataset(y.subarray(0, 50), 10, { clients: 40, spec: { kind: 'dirichlet', alpha: 0.01 }, seed: 1, maxAttempts: 3 })).toThrow(
      expect.objectContaining({ code: 'trainer/empty-partition', message: expect.stringContaining('3 attempts') }),
    );
    expect(() => partitionDataset(y, 10, { clients: 2, spec: { kind: 'dirichlet', alpha: 0 }, seed: 1 })).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
    expect(() => partitionDataset(y, 10, { clients: 0, spec: { kind: 'iid' }, seed: 1 })).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
    expect(() => partitionDataset([0, 12], 10, { clients: 1, spec: { kind: 'iid' }, seed: 1 })).toThrow(expect.objectContaining({ code: 'trainer/bad-dataset' }));
  });
});
