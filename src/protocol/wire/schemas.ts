import { z } from 'zod';
import { PHASES } from '../phases.js';
import { bytesCodec, IndexListSchema, IndexSchema, peerBytesListCodec } from './codecs.js';
import { MAX_DIM, MAX_EXTRA_COORDINATES } from '../config.js';

/**
 * Zod schemas of the JSON form of every message. Each is a codec: `z.decode(S, json)` yields the
 * in-memory message (Uint8Array fields), `z.encode(S, message)` the JSON. Anything that fails
 * these schemas is rejected before it reaches a state machine. Ranges that depend on the round
 * (an index below n, a vector of the round's length) are checked by the state machines.
 */

/** Smallest sealed share pair: 24-byte nonce + 16-byte tag + two 32-byte shares + binding. */
export const MIN_SHARE_CIPHERTEXT_BYTES = 24 + 16 + 64;
/** Largest sealed share pair accepted (the binding carries a federation id of ≤ 255 bytes). */
export const MAX_SHARE_CIPHERTEXT_BYTES = 512;
/** Longest abort reason text. */
export const MAX_REASON_CHARS = 1_000;

const PhaseSchema = z.enum(PHASES as [string, ...string[]]) as z.ZodType<(typeof PHASES)[number]>;

const headerFields = {
  // Any version parses; the state machines answer a foreign one with `protocol/wrong-version`.
  version: z.number().int().min(1).max(0xffff),
  federationId: z.string().min(1).max(255),
  round: z.number().int().min(0).max(0xffffffff),
};

/** Header of a participant's message. */
export const ClientHeaderSchema = z.object({ ...headerFields, phase: PhaseSchema, sender: IndexSchema }).strict();
/** Header of a server message. */
export const ServerHeaderSchema = z.object({ ...headerFields, phase: PhaseSchema }).strict();

const Signature = bytesCodec(64);
const Key32 = bytesCodec(32);

/** Sealed share pairs `{ peer, ciphertext }`, sorted by peer. */
const EncryptedSharesSchema = peerBytesListCodec('ciphertext', MIN_SHARE_CIPHERTEXT_BYTES, MAX_SHARE_CIPHERTEXT_BYTES, 65_535);
/** Revealed shares `{ peer, share }` (32 bytes), sorted by peer. */
const RevealedSharesSchema = peerBytesListCodec('share', 32, 32, 65_536);

/** advertise-keys (client → server). */
export const AdvertiseKeysSchema = z
  .object({
    type: z.literal('advertise-keys'),
    header: ClientHeaderSchema,
    encryptionKey: Key32,
    maskingKey: Key32,
    signature: Signature,
  })
  .strict();

/** share-keys (client → server); shares sorted by recipient. */
export const ShareKeysSchema = z
  .object({
    type: z.literal('share-keys'),
    header: ClientHeaderSchema,
    shares: EncryptedSharesSchema,
    signature: Signature,
  })
  .strict();

/** masked-input JSON envelope (client → server); the packed vector travels as a separate binary body. */
export const MaskedInputEnvelopeSchema = z
  .object({
    type: z.literal('masked-input'),
    header: ClientHeaderSchema,
    length: z.number().int().min(1).max(MAX_DIM + MAX_EXTRA_COORDINATES),
    bits: z.number().int().min(1).max(32),
    vectorSha256: Key32,
    signature: Signature,
  })
  .strict();

/** consistency-check (client → server, malicious mode). */
export const ConsistencyCheckSchema = z
  .object({ type: z.literal('consistency-check'), header: ClientHeaderSchema, u3: IndexListSchema, signature: Signature })
  .strict();

/** unmask (client → server); both share lists sorted by peer. */
export const UnmaskSchema = z
  .object({
    type: z.literal('unmask'),
    header: ClientHeaderSchema,
    selfMaskShares: RevealedSharesSchema,
    maskKeyShares: RevealedSharesSchema,
    signature: Signature,
  })
  .strict();

/** key-list (server → client). */
export const KeyListSchema = z
  .object({
    type: z.literal('key-list'),
    header: ServerHeaderSchema,
    u1: IndexListSchema,
    advertisements: z.array(AdvertiseKeysSchema).max(65_536),
  })
  .strict();

/** share-bundle (server → client); shares sorted by sender. */
export const ShareBundleSchema = z
  .object({
    type: z.literal('share-bundle'),
    header: ServerHeaderSchema,
    u2: IndexListSchema,
    shares: EncryptedSharesSchema,
  })
  .strict();

/** consistency-request (server → client, malicious mode). */
export const ConsistencyRequestSchema = z
  .object({ type: z.literal('consistency-request'), header: ServerHeaderSchema, u3: IndexListSchema })
  .strict();

/** unmask-request (server → client). */
export const UnmaskRequestSchema = z
  .object({
    type: z.literal('unmask-request'),
    header: ServerHeaderSchema,
    u3: IndexListSchema,
    dropped: IndexListSchema,
    signatures: z
      .array(z.object({ signer: IndexSchema, signature: Signature }).strict())
      .max(65_536)
      .refine(
        (xs) => xs.every((x, i) => i === 0 || x.signer > (xs[i - 1] as { signer: number }).signer),
        'signatures must be sorted by signer, no repeats',
      ),
  })
  .strict();

/** round-aborted (server → client). */
export const RoundAbortedSchema = z
  .object({
    type: z.literal('round-aborted'),
    header: ServerHeaderSchema,
    code: z.string().min(1).max(100),
    reason: z.string().max(MAX_REASON_CHARS),
  })
  .strict();

/** Any client message's JSON (the masked-input envelope without its body). */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  AdvertiseKeysSchema,
  ShareKeysSchema,
  MaskedInputEnvelopeSchema,
  ConsistencyCheckSchema,
  UnmaskSchema,
]);

/** Any server message's JSON. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  KeyListSchema,
  ShareBundleSchema,
  ConsistencyRequestSchema,
  UnmaskRequestSchema,
  RoundAbortedSchema,
]);
