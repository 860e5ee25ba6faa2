import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { DpConfigSchema, DpEventSchema } from '../dp/index.js';
import { concatBytes, fromHex, toHex, utf8, type CryptoProvider } from '../secagg/index.js';
import { canonicalJson } from './canonical-json.js';

/** The ledger format version this code writes and verifies. */
export const LEDGER_VERSION = 1;
/** `prevHash` of the first entry: 32 zero bytes in hex. */
export const GENESIS_HASH = '0'.repeat(64);
/** Domain-separation prefix of the coordinator's signature over an entry hash. */
export const LEDGER_SIGNATURE_DOMAIN = 'fedveil/ledger-entry/v1';

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 32 bytes as 64 lower-case hex characters');
const hex64 = z.string().regex(/^[0-9a-f]{128}$/, 'must be 64 bytes as 128 lower-case hex characters');

/** Participants who fell out of the round, listed by the phase they missed. */
export const DropoutsSchema = z
  .object({
    'advertise-keys': z.array(hex32),
    'share-keys': z.array(hex32),
    'masked-input': z.array(hex32),
    'consistency-check': z.array(hex32),
    unmask: z.array(hex32),
  })
  .strict();

/** A contributor (member of U3) and its signature from the consistency check, when one ran. */
export const ContributorSchema = z
  .object({
    publicKey: hex32,
    /** Ed25519 signature over the protocol's consistency-check message; null in semi-honest mode. */
    consistencySignature: hex64.nullable(),
  })
  .strict();

/** How the round's cohort was drawn. */
export const CohortDrawSchema = z
  .object({
    method: z.enum(['fixed-size', 'poisson']),
    /** The probability with which each allowed participant was included (size / N for fixed-size). */
    samplingRate: z.number().gt(0).max(1),
    /** SHA-256 commitment to the draw seed (the seed itself stays with the coordinator). */
    seedCommitment: hex32,
    /** Number of allowed participants drawn from. */
    population: z.number().int().min(1),
  })
  .strict();

/** Everything an entry records except its own hash and signature. */
export const LedgerEntryBodySchema = z
  .object({
    version: z.literal(LEDGER_VERSION),
    federationId: z.string().min(1),
    seq: z.number().int().min(0),
    prevHash: hex32,
    round: z.number().int().min(0),
    /** Version of the protocol messages the round ran (binds the consistency signatures). */
    protocolVersion: z.number().int().min(1),
    timestamp: z.string().datetime(),
    mode: z.enum(['semi-honest', 'malicious']),
    threshold: z.number().int().min(1),
    dim: z.number().int().min(1),
    /** `members` is the round's participant list in index order (participant i = members[i]). */
    cohort: z.object({ draw: CohortDrawSchema, members: z.array(hex32) }).strict(),
    /** U3 in index order. */
    contributors: z.array(ContributorSchema),
    dropouts: DropoutsSchema,
    /** The DP encoding configuration the round ran with (src/dp DpConfig). */
    mechanism: DpConfigSchema,
    /** Sampling rate the accountant assumed (each participant's inclusion probability). */
    samplingRate: z.number().gt(0).max(1),
    /** The round's privacy event (src/dp DpEvent), the input to every accountant. */
    dpEvent: DpEventSchema,
    modelVersionBefore: z.number().int().min(0),
    modelVersionAfter: z.number().int().min(1),
    modelHashBefore: hex32,
    modelHashAfter: hex32,
    /** SHA-256 of the unmasked modular sum (little-endian uint32 words) before decoding. */
    aggregateHash: hex32,
  })
  .strict();

/** A signed, chained ledger entry as stored and exported (one line of ledger.jsonl). */
export const LedgerEntrySchema = LedgerEntryBodySchema.extend({ hash: hex32, signature: hex64 }).strict();

/** The recorded content of one completed round. */
export type LedgerEntryBody = z.infer<typeof LedgerEntryBodySchema>;
/** A ledger entry with its hash and the coordinator's signature. */
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;
/** An entry body before it is placed in the chain (seq and prevHash are assigned on append). */
export type LedgerRecord = Omit<LedgerEntryBody, 'seq' | 'prevHash' | 'version'>;

/** SHA-256 (hex) of the canonical JSON of an entry body. Extra fields `hash`/`signature` are ignored. */
export function ledgerEntryHash(entry: LedgerEntryBody | LedgerEntry): string {
  const { hash: _h, signature: _s, ...body } = entry as LedgerEntry;
  return toHex(sha256(utf8(canonicalJson(body))));
}

/** The bytes the coordinator signs for an entry: the domain string, a zero byte, the 32-byte hash. */
export function ledgerSignatureMessage(hashHex: string): Uint8Array {
  return concatBytes(utf8(LEDGER_SIGNATURE_DOMAIN), new Uint8Array([0]), fromHex(hashHex));
}

/** Hashes and signs an entry body with the coordinator's Ed25519 secret key (32-byte seed). */
export function signLedgerEntry(body: LedgerEntryBody, provider: CryptoProvider, coordinatorSecretKey: Uint8Array): LedgerEntry {
  const hash = ledgerEntryHash(body);
  const signature = toHex(provider.ed25519Sign(coordinatorSecretKey, ledgerSignatureMessage(hash)));
  return { ...body, hash, signature };
}

/** Builds the next chained entry after `previous` (null for the first). */
export function chainLedgerEntry(
  previous: LedgerEntry | null,
  record: LedgerRecord,
  provider: CryptoProvider,
  coordinatorSecretKey: Uint8Array,
): LedgerEntry {
  const body: LedgerEntryBody = {
    version: LEDGER_VERSION,
    seq: previous === null ? 0 : previous.seq + 1,
    prevHash: previous === null ? GENESIS_HASH : previous.hash,
    ...record,
  };
  return signLedgerEntry(body, provider, coordinatorSecretKey);
}

/** One line of ledger.jsonl: the entry's canonical JSON. */
export function ledgerLine(entry: LedgerEntry): string {
  return canonicalJson(entry);
}
