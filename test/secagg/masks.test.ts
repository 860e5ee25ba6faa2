import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMod,
  completeGraph,
  nobleProvider,
  nodeProvider,
  pairwiseMaskSeed,
  pairwiseMaskSign,
  prgAccumulate,
  roundContext,
  secaggPlusGraph,
  seededRandom,
  selfMaskSeed,
  toHex,
  type NeighbourGraph,
} from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

/** Sum over participants of x_u + Σ_v ±PRG(seed_uv), with the documented seed and sign. */
function maskedSum(graph: NeighbourGraph, inputs: Uint32Array[], bits: number, seed: number): Uint32Array {
  const rng = seededRandom(seed);
  const keys = inputs.map(() => nodeProvider.x25519Keygen(rng));
  const ctx = roundContext('fed', 3);
  const total = new Uint32Array(inputs[0]!.length);
  inputs.forEach((x, u) => {
    const y = Uint32Array.from(x);
    for (const v of graph.neighbours(u)) {
      // Alternate providers so the test also shows they interoperate.
      const provider = (u + v) % 2 === 0 ? nobleProvider : nodeProvider;
      const s = pairwiseMaskSeed(provider.x25519Agreement(keys[u]!.secretKey), keys[v]!.publicKey, ctx);
      prgAccumulate(y, [{ seed: s, sign: pairwiseMaskSign(u, v) }], bits);
    }
    addMod(total, y, bits);
  });
  return total;
}

describe('pairwise masks', () => {
  it('cancel exactly in the sum over any complete or SecAgg+ graph, for any bit width', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 7 }),
        fc.integer({ min: 1, max: 32 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.nat(8),
        fc.integer(),
        (n, bits, d, sparse, degreeRaw, seed) => {
          let graph = completeGraph(n);
          if (sparse) {
            const degree = Math.min(degreeRaw, n - 1);
            if (degree % 2 === 0 || n % 2 === 0 || degree === n - 1) {
              graph = secaggPlusGraph(n, degree, seededRandom(seed).fill(new Uint8Array(32)));
            }
          }
          const inputs = Array.from({ length: n }, (_, u) =>
            Uint32Array.from({ length: d }, (_, i) => ((u + 1) * 7919 * (i + 1)) % 2 ** bits),
          );
          const expected = new Uint32Array(d);
          for (const x of inputs) addMod(expected, x, bits);
          expect(Array.from(maskedSum(graph, inputs, bits, seed))).toEqual(Array.from(expected));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('masks really hide an input: a masked vector differs from the input', () => {
    const rng = seededRandom(1);
    const a = nodeProvider.x25519Keygen(rng);
    const b = nodeProvider.x25519Keygen(rng);
    const s = pairwiseMaskSeed(nodeProvider.x25519Agreement(a.secretKey), b.publicKey, roundContext('f', 1));
    expect(toHex(s)).toBe(toHex(pairwiseMaskSeed(nobleProvider.x25519Agreement(b.secretKey), a.publicKey, roundContext('f', 1))));
    expect(toHex(s)).not.toBe(toHex(pairwiseMaskSeed(nodeProvider.x25519Agreement(a.secretKey), b.publicKey, roundContext('f', 2))));
    const y = new Uint32Array(64);
    prgAccumulate(y, [{ seed: s, sign: 1 }], 32);
    expect(y.filter((v) => v === 0).length).toBeLessThan(2);
  });

  it('sign convention: + towards a higher index, − towards a lower one', () => {
    expect(pairwiseMaskSign(0, 1)).toBe(1);
    expect(pairwiseMaskSign(5, 2)).toBe(-1);
    expectCode(() => pairwiseMaskSign(3, 3), 'masks/bad-pair');
    expectCode(() => pairwiseMaskSign(-1, 3), 'masks/bad-pair');
    expectCode(() => pairwiseMaskSign(1.5, 3), 'masks/bad-pair');
  });

  it('self-mask seeds are label-separated from pairwise seeds and need 32 bytes', () => {
    const b = new Uint8Array(32).fill(4);
    const ctx = roundContext('f', 1);
    expect(selfMaskSeed(b, ctx).length).toBe(32);
    expectCode(() => selfMaskSeed(new Uint8Array(31), ctx), 'masks/bad-seed');
  });
});
