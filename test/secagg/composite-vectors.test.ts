import { describe, expect, it } from 'vitest';
import {
  decodeShare,
  fromHex,
  nodeProvider,
  openShare,
  pairwiseMaskSeed,
  prgExpand,
  secaggPlusGraph,
  shamirCombine,
  shamirCombineRobust,
  toHex,
  unpackBits,
} from '../../src/secagg/index.js';
import { buildCompositeVectors } from './composite-vectors.js';
import { expectCode, loadVector } from './helpers.js';

interface Composite {
  kdf: Record<string, unknown>;
  prg: { seed: string; words: Record<string, number[]> };
  pairwiseMask: Record<'aliceSecret' | 'alicePublic' | 'bobSecret' | 'bobPublic' | 'shared' | 'context' | 'maskSeed', string> & {
    first8Words32: number[];
  };
  shamir: {
    secret: string;
    threshold: number;
    encodedShares: string[];
    invalidEncodedShares: { encoded: string; code: string; why: string }[];
    robust: { encodedShares: string[]; wrongXs: number[] };
  };
  sealedShare: { shareKey: string; binding: { federationId: string; round: number; sender: number; recipient: number }; payload: string; sealed: string };
  packing: { bits: number; values: number[]; packed: string }[];
  graph: { n: number; degree: number; roundSeed: string; neighbours: number[][] };
}

const vectors = loadVector<Composite>('secagg-composite.json');

describe('spec/vectors/secagg-composite.json', () => {
  it('is reproduced exactly by the implementation (any encoding change must update spec and vectors together)', () => {
    const { description: _d, ...rebuilt } = buildCompositeVectors();
    const { description: _e, ...stored } = vectors as unknown as Record<string, unknown>;
    expect(JSON.parse(JSON.stringify(rebuilt))).toEqual(stored);
  });

  it('pairwise mask seed and stream via the node:crypto provider', () => {
    const v = vectors.pairwiseMask;
    expect(toHex(nodeProvider.x25519PublicKey(fromHex(v.aliceSecret)))).toBe(v.alicePublic);
    expect(toHex(nodeProvider.x25519(fromHex(v.bobSecret), fromHex(v.alicePublic)))).toBe(v.shared);
    const seed = pairwiseMaskSeed(nodeProvider.x25519Agreement(fromHex(v.bobSecret)), fromHex(v.alicePublic), fromHex(v.context));
    expect(toHex(seed)).toBe(v.maskSeed);
    expect(Array.from(prgExpand(seed, 8, 32))).toEqual(v.first8Words32);
  });

  it('sealed share opens to the encoded share, and the shares reconstruct the secret', () => {
    const s = vectors.sealedShare;
    const payload = openShare(fromHex(s.shareKey), s.binding, fromHex(s.sealed));
    expect(toHex(payload)).toBe(s.payload);
    const sh = vectors.shamir;
    const shares = sh.encodedShares.map((e) => decodeShare(fromHex(e)));
    expect(toHex(shamirCombine(shares.slice(2), sh.threshold, 31))).toBe(sh.secret);
    expect(toHex(shamirCombine(shares, sh.threshold, 31))).toBe(sh.secret);
  });

  it('invalid share encodings are refused with their codes; robust reconstruction names the wrong share', () => {
    const sh = vectors.shamir;
    for (const v of sh.invalidEncodedShares) expectCode(() => decodeShare(fromHex(v.encoded)), v.code);
    const shares = sh.robust.encodedShares.map((e) => decodeShare(fromHex(e)));
    expectCode(() => shamirCombine(shares, sh.threshold, 31), 'shamir/inconsistent-shares');
    const got = shamirCombineRobust(shares, sh.threshold, 31);
    expect(toHex(got.secret)).toBe(sh.secret);
    expect(got.wrong).toEqual(sh.robust.wrongXs);
  });

  it('packing and graph vectors decode as stored', () => {
    for (const p of vectors.packing) {
      expect(Array.from(unpackBits(fromHex(p.packed), p.values.length, p.bits))).toEqual(p.values);
    }
    const g = vectors.graph;
    const graph = secaggPlusGraph(g.n, g.degree, fromHex(g.roundSeed));
    expect(Array.from({ length: g.n }, (_, i) => graph.neighbours(i))).toEqual(g.neighbours);
  });
});
