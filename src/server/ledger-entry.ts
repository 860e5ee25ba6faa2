import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { DpConfigSchema, DpEventSchema, ReportClippingSchema, ledgerReaderEvent, type DpConfig, type DpEvent } from '../dp/index.js';
import { concatBytes, fromHex, toHex, utf8, type CryptoProvider } from '../secagg/index.js';
import { AsyncGroupSchema } from './async-staleness.js';
import { canonicalJson } from './canonical-json.js';

/** The ledger format version this code writes and verifies. */
export const LEDGER_VERSION = 2;
/** `prevHash` of the first (genesis) entry: 32 zero bytes in hex. */
export const ZERO_HASH = '0'.repeat(64);
/** Domain-separation prefix of the coordinator's signature over an entry hash. */
export const LEDGER_SIGNATURE_DOMAIN = 'fedveil/ledger-entry/v2';
/**
 * The neighbouring relation every ε of the ledger is stated for: two federations are neighbours
 * when one participant's whole contribution is added or removed (client-level DP, add/remove).
 */
export const NEIGHBOURING_RELATION = 'add-or-remove-one-participant';

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

/**
 * A contributor (member of U3) and its co-signatures of the round binding: the signature of its
 * masked-input message (with the vector hash it covers, so anyone can re-verify it) and, in
 * malicious mode, of its consistency-check message.
 */
export const ContributorSchema = z
  .object({
    publicKey: hex32,
    maskedInput: z.object({ vectorSha256: hex32, signature: hex64 }).strict(),
    /** Ed25519 signature over the protocol's consistency-check message; null in semi-honest mode or when the contributor then fell silent. */
    consistencySignature: hex64.nullable(),
  })
  .strict();

/** How the round's cohort was drawn. */
export const CohortDrawSchema = z
  .object({
    method: z.enum(['fixed-size', 'poisson', 'ready-first']),
    /** The probability with which each allowed participant was included (size / N for fixed-size; 1 for 'ready-first', which claims no sampling). */
    samplingRate: z.number().gt(0).max(1),
    /** SHA-256 commitment to the draw seed. */
    seedCommitment: hex32,
    /** Number of allowed participants drawn from. */
    population: z.number().int().min(1),
    /** 'ready-first' (asynchronous) groups: the model version applied to, each member's trained-on version and staleness weight. */
    group: AsyncGroupSchema.optional(),
  })
  .strict();

/** The federation's cohort rule as the genesis binds it. */
export const GenesisCohortSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('fixed-size'), size: z.number().int().min(1), population: z.number().int().min(1), seedCommitment: hex32, seed: z.enum(['secret', 'public']) }).strict(),
  z.object({ method: z.literal('poisson'), rate: z.number().gt(0).max(1), population: z.number().int().min(1), seedCommitment: hex32, seed: z.enum(['secret', 'public']) }).strict(),
  /** Asynchronous federations: each group is the first `size` participants ready (self-selected, no amplification). */
  z.object({ method: z.literal('ready-first'), size: z.number().int().min(1), population: z.number().int().min(1), seedCommitment: hex32, seed: z.enum(['secret', 'public']) }).strict(),
]);

const common = {
  version: z.literal(LEDGER_VERSION),
  federationId: z.string().min(1),
  seq: z.number().int().min(0),
  prevHash: hex32,
  /** Version of the protocol messages (binds every participant signature the entry carries). */
  protocolVersion: z.number().int().min(1),
  timestamp: z.string().datetime(),
};

/**
 * Entry 0: the federation as its coordinator opened it. Every later entry must agree with it,
 * and every participant signature of every round covers its hash (through the round binding).
 */
export const GenesisBodySchema = z
  .object({
    kind: z.literal('genesis'),
    ...common,
    /** The coordinator's Ed25519 key, which signs every entry. */
    coordinatorPublicKey: hex32,
    /** The privacy-relevant federation config (spec/ledger.md §2.1) and SHA-256 of its canonical JSON. */
    config: z.record(z.string(), z.unknown()),
    configHash: hex32,
    delta: z.number().gt(0).lt(1),
    /** The ε the federation is calibrated to spend (config `dp.targetEpsilon`), or null. */
    epsilonBudget: z.number().gt(0).nullable(),
    accountant: z.object({ name: z.string().min(1), version: z.string().min(1) }).strict(),
    neighbouring: z.literal(NEIGHBOURING_RELATION),
    cohort: GenesisCohortSchema,
    /** The allowed participants (population of every draw). */
    participants: z.array(hex32).min(1),
    /** c: participants assumed to collude with the coordinator. */
    colluders: z.number().int().min(0),
    /** The DP configuration every round encodes with (calibrated from `config` when it gives a target ε). */
    mechanism: DpConfigSchema,
    /** The published model when the ledger opened. */
    model: z.object({ version: z.number().int().min(0), hash: hex32 }).strict(),
  })
  .strict();

const roundFields = {
  ...common,
  round: z.number().int().min(0),
  mode: z.enum(['semi-honest', 'malicious']),
  threshold: z.number().int().min(1),
  dim: z.number().int().min(1),
  /** The protocol RoundConfig the participants ran, wire form, without its `binding`. */
  roundConfig: z.record(z.string(), z.unknown()),
  /** The round binding (spec/ledger.md §4) the participants signed under. */
  binding: hex32,
  /** `members` is the round's participant list in index order (participant i = members[i]). */
  cohort: z.object({ draw: CohortDrawSchema, members: z.array(hex32) }).strict(),
  /** U3 in index order, with their co-signatures. */
  contributors: z.array(ContributorSchema),
  dropouts: DropoutsSchema,
  /** The DP encoding configuration the round ran with (src/dp DpConfig). */
  mechanism: DpConfigSchema,
  /** Each participant's inclusion probability; follows from the draw and the genesis. */
  samplingRate: z.number().gt(0).max(1),
  /** The round's privacy event (src/dp DpEvent): {@link entryEvent} of the entry. */
  dpEvent: DpEventSchema,
  /**
   * Federations with adaptive clipping: the clip norm C_t the participants clipped to (which the
   * round binding covers) and the fraction b̄ of contributors whose update fit it, as released
   * (noised under a DP mechanism; null when the round aborted after unmask and released nothing).
   */
  clipping: ReportClippingSchema.optional(),
};

/** A released round: its aggregate was decoded and its model published. */
export const RoundBodySchema = z
  .object({
    kind: z.literal('round'),
    ...roundFields,
    modelVersionBefore: z.number().int().min(0),
    modelVersionAfter: z.number().int().min(1),
    modelHashBefore: hex32,
    modelHashAfter: hex32,
    /** SHA-256 of the unmasked modular sum (little-endian uint32 words) before decoding. */
    aggregateHash: hex32,
    /**
     * Federations with `evaluation`: the released (noised under a DP mechanism) totals of the
     * contributors' held-out evaluation of model `modelVersion`, decoded from the same sum.
     */
    evaluation: z
      .object({
        modelVersion: z.number().int().min(0),
        examples: z.number().finite(),
        correct: z.number().finite(),
        lossSum: z.number().finite(),
      })
      .strict()
      .optional(),
    /**
     * Federations with `noiseProbe` P: the last P coordinates of the released mean, whose inputs
     * were 0: the round's aggregate noise as released (spec/ledger.md).
     */
    noiseProbe: z.array(z.number().finite()).min(1).optional(),
  })
  .strict();

/**
 * A round that aborted after unmask shares were revealed: nothing was published, but the
 * coordinator may hold enough shares to unmask the sum, so the round is charged.
 */
export const AbortedAfterUnmaskBodySchema = z
  .object({
    kind: z.literal('aborted-after-unmask'),
    ...roundFields,
    abort: z.object({ code: z.string().min(1), reason: z.string() }).strict(),
    /** Members that sent unmask shares before the abort. */
    unmaskResponders: z.array(hex32).min(1),
    /** The published model, unchanged by the round. */
    modelVersion: z.number().int().min(0),
    modelHash: hex32,
  })
  .strict();

/**
 * The statistics round of a federation with federated standardisation (spec/ledger.md §2.6):
 * released before any training round, with the same mechanism, dimension and event as one. It
 * publishes no model; it records the released (noised) unit moments and the standardisation that
 * follows from them, which every participant then applies and every verifier recomputes.
 */
export const StatisticsBodySchema = z
  .object({
    kind: z.literal('statistics'),
    ...roundFields,
    /** The published model, unchanged by the round. */
    modelVersion: z.number().int().min(0),
    modelHash: hex32,
    /** SHA-256 of the unmasked modular sum (little-endian uint32 words) before decoding. */
    aggregateHash: hex32,
    statistics: z
      .object({
        /** Per feature, the released mean of u and mean of u² (u: the feature clamped and mapped to [0, 1]), as decoded. */
        released: z.object({ mean: z.array(z.number().finite()), meanSquare: z.array(z.number().finite()) }).strict(),
        /** The standardisation that follows from `released` and the genesis's data schema. */
        standardize: z.object({ mean: z.array(z.number().finite()), std: z.array(z.number().finite()) }).strict(),
      })
      .strict(),
  })
  .strict();

/** The terms an amendment changes: the planned rounds and the ε target (null: no target). */
const FederationTermsSchema = z.object({ rounds: z.number().int().min(1), epsilonBudget: z.number().gt(0).nullable() }).strict();

/**
 * The operator changed the federation's rounds and/or ε target while it ran (spec/ledger.md
 * §2.4). From `fromRound` on, rounds encode with `mechanism`, calibrated so that the rounds
 * already charged and the remaining ones together stay within the amended target.
 */
export const AmendmentBodySchema = z
  .object({
    kind: z.literal('amendment'),
    ...common,
    /** The first round id the amended terms apply to (every later charged entry has a round id at least this). */
    fromRound: z.number().int().min(0),
    /** Rounds released before the amendment. */
    releasedRounds: z.number().int().min(0),
    /** The terms in force before (the genesis's, or the previous amendment's). */
    previous: FederationTermsSchema,
    amended: FederationTermsSchema,
    /**
     * ε (at the genesis δ, with the federation's accountant) of a participant in every charged
     * round before the amendment: an upper bound of what any participant has spent. Null when unbounded.
     */
    epsilonSpent: z.number().min(0).nullable(),
    /** The DP configuration of every round from `fromRound` on. */
    mechanism: DpConfigSchema,
    /** SHA-256 of the canonical JSON of the privacy config with the amended terms. */
    configHash: hex32,
    /** The operator's reason, if given. */
    reason: z.string().max(1000).nullable(),
  })
  .strict();

const signed = { hash: hex32, signature: hex64 };

/** Any ledger entry as stored and exported (one line of ledger.jsonl). */
export const LedgerEntrySchema = z.discriminatedUnion('kind', [
  GenesisBodySchema.extend(signed).strict(),
  RoundBodySchema.extend(signed).strict(),
  AbortedAfterUnmaskBodySchema.extend(signed).strict(),
  StatisticsBodySchema.extend(signed).strict(),
  AmendmentBodySchema.extend(signed).strict(),
]);

/** The genesis entry's body. */
export type GenesisBody = z.infer<typeof GenesisBodySchema>;
/** A released round's entry body. */
export type RoundBody = z.infer<typeof RoundBodySchema>;
/** A charged aborted round's entry body. */
export type AbortedAfterUnmaskBody = z.infer<typeof AbortedAfterUnmaskBodySchema>;
/** A statistics round's entry body. */
export type StatisticsBody = z.infer<typeof StatisticsBodySchema>;
/** An amendment's entry body. */
export type AmendmentBody = z.infer<typeof AmendmentBodySchema>;
/** A signed ledger entry. */
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;
/** Everything an entry records except its own hash and signature. */
export type LedgerEntryBody = GenesisBody | RoundBody | AbortedAfterUnmaskBody | StatisticsBody | AmendmentBody;
/** The signed genesis entry. */
export type GenesisEntry = Extract<LedgerEntry, { kind: 'genesis' }>;
/** An entry that spends ε: a released round, the statistics round, or a round charged after an abort past unmask. */
export type ChargedEntry = Extract<LedgerEntry, { kind: 'round' | 'statistics' | 'aborted-after-unmask' }>;
/** A statistics round's signed entry. */
export type StatisticsEntry = Extract<LedgerEntry, { kind: 'statistics' }>;
/** A signed amendment entry. */
export type AmendmentEntry = Extract<LedgerEntry, { kind: 'amendment' }>;
/** A released round's signed entry. */
export type RoundEntry = Extract<LedgerEntry, { kind: 'round' }>;

/** Distributes Omit over a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An entry body before it is placed in the chain (version, seq and prevHash are assigned on append). */
export type LedgerRecord = DistributiveOmit<LedgerEntryBody, 'seq' | 'prevHash' | 'version'>;

/** True for the entries that spend ε (and carry a round's contributors). */
export function isCharged(e: LedgerEntry): e is ChargedEntry {
  return e.kind === 'round' || e.kind === 'statistics' || e.kind === 'aborted-after-unmask';
}

/** The charged entries of a ledger, in order: what every privacy accountant consumes. */
export function chargedEntries(entries: readonly LedgerEntry[]): ChargedEntry[] {
  return entries.filter(isCharged);
}

/**
 * The privacy event a charged entry must record: the round's mechanism on its |U3| contributors,
 * of whose noise shares those of the protected participant and of the federation's c colluders
 * do not count, with no amplification by sampling (the ledger names every cohort). The one place
 * the ledger maps a round to a src/dp event.
 */
export function entryEvent(e: { mechanism: DpConfig; contributors: readonly unknown[]; dim: number }, colluders: number): DpEvent {
  return ledgerReaderEvent(e.mechanism, e.contributors.length, colluders, e.dim);
}

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
export function signLedgerEntry<B extends LedgerEntryBody>(body: B, provider: CryptoProvider, coordinatorSecretKey: Uint8Array): B & { hash: string; signature: string } {
  const hash = ledgerEntryHash(body);
  const signature = toHex(provider.ed25519Sign(coordinatorSecretKey, ledgerSignatureMessage(hash)));
  return { ...body, hash, signature };
}

/** Builds the next chained entry after `previous` (null for the genesis). */
export function chainLedgerEntry(
  previous: LedgerEntry | null,
  record: LedgerRecord,
  provider: CryptoProvider,
  coordinatorSecretKey: Uint8Array,
): LedgerEntry {
  const body = {
    version: LEDGER_VERSION,
    seq: previous === null ? 0 : previous.seq + 1,
    prevHash: previous === null ? ZERO_HASH : previous.hash,
    ...record,
  } as LedgerEntryBody;
  return signLedgerEntry(body, provider, coordinatorSecretKey) as LedgerEntry;
}

/** One line of ledger.jsonl: the entry's canonical JSON. */
export function ledgerLine(entry: LedgerEntry): string {
  return canonicalJson(entry);
}
