/**
 * fedveil secure-aggregation core: key agreement and signatures (two interchangeable providers),
 * HKDF with domain-separated labels, the ChaCha20 mask PRG, arithmetic and bit packing in
 * Z_2^b, Shamir sharing over GF(2^255 − 19), sealed share transport and neighbour graphs.
 * Pure and deterministic given a {@link RandomSource}; byte encodings are normative in
 * spec/secagg.md and pinned by spec/vectors/*.json.
 *
 * @packageDocumentation
 */
export type { KeyPair, CryptoProvider, X25519Agreement } from './keys.js';
export { lowOrderCheck } from './keys.js';
export { nobleProvider, nodeProvider, sodiumProvider, defaultProvider } from './providers/index.js';
export type { KdfLabel } from './kdf.js';
export { hkdfSha256, deriveKey, roundContext, KDF_SALT, MAX_FEDERATION_ID_BYTES } from './kdf.js';
export { prgExpand, prgAccumulate, prgRandomSource, type MaskStream } from './prg.js';
export { addMod, subMod, packBits, unpackBits, packedLength, checkBits, bitMask } from './zmod.js';
export { pairwiseMaskSeed, pairwiseMaskSign, selfMaskSeed } from './masks.js';
export type { ShamirShare, RobustReconstruction } from './shamir.js';
export {
  shamirSplit,
  shamirCombine,
  shamirCombineRobust,
  LagrangeBasis,
  RobustBasis,
  isCanonicalShareY,
  encodeShare,
  decodeShare,
  SHAMIR_PRIME,
  SHAMIR_MAX_X,
} from './shamir.js';
export type { ShareBinding } from './transport.js';
export { shareKey, sealShare, openShare, MIN_SEALED_BYTES, TRANSPORT_BINDING_CODES } from './transport.js';
export type { NeighbourGraph, SecaggPlusOptions } from './graph.js';
export {
  completeGraph,
  secaggPlusGraph,
  secaggPlusParameters,
  graphPermutation,
  MAX_PARTICIPANTS,
} from './graph.js';
export { FedveilError, check } from './util/errors.js';
export type { RandomSource } from './util/random.js';
export { systemRandom, seededRandom, randomBytes, randomUint32, randomUnit, randomBelow } from './util/random.js';
export { toHex, fromHex, concatBytes, bytesEqual, utf8 } from './util/bytes.js';
