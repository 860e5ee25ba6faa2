import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  completeGraph,
  graphPermutation,
  secaggPlusGraph,
  secaggPlusParameters,
  seededRandom,
  type NeighbourGraph,
} from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

function checkWellFormed(g: NeighbourGraph, degree: number): void {
  for (let i = 0; i < g.n; i++) {
    const nb = g.neighbours(i);
    expect(nb.length).toBe(degree);
    expect(nb.includes(i)).toBe(false);
    for (let k = 1; k < nb.length; k++) expect(nb[k]!).toBeGreaterThan(nb[k - 1]!);
    for (const j of nb) {
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(g.n);
      expect(g.neighbours(j).includes(i)).toBe(true);
    }
  }
}

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('completeGraph', () => {
  it('links everyone to everyone else', () => {
    checkWellFormed(completeGraph(7), 6);
    checkWellFormed(completeGraph(1), 0);
  });
  it('rejects bad sizes and indices', () => {
    expectCode(() => completeGraph(0), 'graph/bad-n');
    expectCode(() => completeGraph(2.5), 'graph/bad-n');
    expectCode(() => completeGraph(3).neighbours(3), 'graph/bad-index');
  });
});

describe('secaggPlusGraph', () => {
  it('is a symmetric regular graph of the requested degree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 60 }), fc.nat(60), seedArb, (n, d, seed) => {
        const degree = Math.min(d, n - 1);
        fc.pre(degree % 2 === 0 || n % 2 === 0 || degree === n - 1);
        checkWellFormed(secaggPlusGraph(n, degree, seed), degree);
      }),
      { numRuns: 80 },
    );
  });

  it('is a relabelled circulant: ring neighbours of position p are positions p ± 1..k/2', () => {
    const seed = seededRandom('ring').fill(new Uint8Array(32));
    const n = 31;
    const ring = graphPermutation(n, seed);
    const g = secaggPlusGraph(n, 6, seed);
    for (let p = 0; p < n; p++) {
      const expected = [1, 2, 3].flatMap((s) => [ring[(p + s) % n]!, ring[(p - s + n) % n]!]).sort((a, b) => a - b);
      expect(g.neighbours(ring[p]!)).toEqual(expected);
    }
  });

  it('the permutation is a deterministic permutation of the round seed, different for other seeds', () => {
    const s1 = seededRandom('a').fill(new Uint8Array(32));
    const s2 = seededRandom('b').fill(new Uint8Array(32));
    const p1 = Array.from(graphPermutation(100, s1));
    expect([...p1].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(graphPermutation(100, s1))).toEqual(p1);
    expect(Array.from(graphPermutation(100, s2))).not.toEqual(p1);
  });

  it('degree ≥ n − 1 is the complete graph; odd degree with odd n is refused', () => {
    const seed = new Uint8Array(32);
    checkWellFormed(secaggPlusGraph(9, 8, seed), 8);
    checkWellFormed(secaggPlusGraph(9, 50, seed), 8);
    checkWellFormed(secaggPlusGraph(10, 3, seed), 3);
    expectCode(() => secaggPlusGraph(9, 3, seed), 'graph/bad-degree');
    expectCode(() => secaggPlusGraph(9, -2, seed), 'graph/bad-degree');
    expectCode(() => secaggPlusGraph(9, 2, new Uint8Array(16)), 'graph/bad-seed');
  });
});

describe('secaggPlusParameters', () => {
  it('grows slowly with n and stays far below n for large cohorts', () => {
    const a = secaggPlusParameters({ n: 1000, dropoutFraction: 0.1, corruptionFraction: 0.1 });
    const b = secaggPlusParameters({ n: 10000, dropoutFraction: 0.1, corruptionFraction: 0.1 });
    expect(a.degree % 2).toBe(0);
    expect(a.degree).toBeLessThan(100);
    expect(b.degree).toBeGreaterThanOrEqual(a.degree);
    expect(b.degree).toBeLessThan(2 * a.degree);
  });

  it('returns t > k/2 and k meeting its documented bounds, and k − 2 failing them', () => {
    for (const [n, delta, gamma] of [
      [500, 0.05, 0.05],
      [1000, 0.1, 0.1],
      [2000, 0.3, 0.1],
      [300, 0.1, 0.3],
    ] as const) {
      const { degree: k, threshold: t } = secaggPlusParameters({ n, dropoutFraction: delta, corruptionFraction: gamma });
      expect(t).toBeGreaterThan(k / 2);
      expect(t).toBeLessThanOrEqual(k);
      expect(k).toBeLessThan(n - 1);
      // More demanding parameters never need a smaller graph.
      const harder = secaggPlusParameters({ n, dropoutFraction: delta, corruptionFraction: gamma, securityBits: 80 });
      expect(harder.degree).toBeGreaterThanOrEqual(k);
    }
  });

  it('falls back to the complete graph with t > corrupted count for small n', () => {
    const r = secaggPlusParameters({ n: 10, dropoutFraction: 0.3, corruptionFraction: 0.1 });
    expect(r).toEqual({ degree: 9, threshold: 5 });
  });

  it('refuses infeasible and malformed parameters', () => {
    expectCode(() => secaggPlusParameters({ n: 10, dropoutFraction: 0.6, corruptionFraction: 0.1 }), 'graph/infeasible');
    expectCode(() => secaggPlusParameters({ n: 1, dropoutFraction: 0.1, corruptionFraction: 0.1 }), 'graph/bad-parameters');
    expectCode(() => secaggPlusParameters({ n: 100, dropoutFraction: 1, corruptionFraction: 0.1 }), 'graph/bad-parameters');
    expectCode(() => secaggPlusParameters({ n: 100, dropoutFraction: 0.1, corruptionFraction: -0.1 }), 'graph/bad-parameters');
    expectCode(() => secaggPlusParameters({ n: 100, dropoutFraction: 0.1, corruptionFraction: 0.1, securityBits: 0 }), 'graph/bad-parameters');
  });
});
