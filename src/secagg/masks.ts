import { check } from './util/errors.js';
import { deriveKey } from './kdf.js';
import type { X25519Agreement } from './keys.js';

/**
 * The PRG seed of the pairwise mask between me and a peer: deriveKey('pairwise-mask',
 * X25519(mySecret, peerPublic), context), with `agree = provider.x25519Agreement(mySecret)`.
 * Symmetric: both ends derive the same seed.
 */
export function pairwiseMaskSeed(agree: X25519Agreement, peerPublic: Uint8Array, context: Uint8Array): Uint8Array {
  return deriveKey('pairwise-mask', agree(peerPublic), context);
}

/** The PRG seed of a self mask: deriveKey('self-mask', b_u, context) for a 32-byte b_u. */
export function selfMaskSeed(selfSeed: Uint8Array, context: Uint8Array): Uint8Array {
  check(selfSeed instanceof Uint8Array && selfSeed.length === 32, 'masks/bad-seed', 'self-mask seed b_u must be 32 bytes');
  return deriveKey('self-mask', selfSeed, context);
}

/**
 * Sign convention: participant u adds +PRG(seed_uv) for neighbour v when u < v, −PRG when u > v,
 * so the two masks of every edge cancel in the sum. Throws `masks/bad-pair` for u = v or
 * non-indices.
 */
export function pairwiseMaskSign(u: number, v: number): 1 | -1 {
  check(
    Number.isSafeInteger(u) && Number.isSafeInteger(v) && u >= 0 && v >= 0 && u !== v,
    'masks/bad-pair',
    () => `pairwise mask needs two distinct participant indices, got ${u} and ${v}`,
  );
  return u < v ? 1 : -1;
}
