import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { canaryDirection, cosine, estimateEmpiricalEpsilon, randomUnitDirection, type EmpiricalAudit } from '../dp/index.js';
import { concatBytes, fromHex, seededRandom, toHex, utf8 } from '../secagg/index.js';
import { check } from '../secagg/util/errors.js';
import { canonicalJson } from './canonical-json.js';
import { LedgerEntrySchema, type LedgerEntry, type RoundEntry } from './ledger-entry.js';
import { buildPrivacyReport } from './report.js';
import { modelHash } from './sqlite-store.js';

/** `format` of the file in which whoever ran the canaries reveals their secrets after the run. */
export const CANARY_REVEAL_FORMAT = 'fedveil.canary-reveal';
/** Domain of the genesis commitment to the canaries. */
export const CANARY_COMMITMENT_DOMAIN = 'fedveil/canary-commitment/v1';
/** Null directions drawn per measured canary. */
export const NULLS_PER_CANARY = 10;
/**
 * The fewest null directions in all: with few canaries, 10 each would leave the null's spread,
 * which μ is measured in, uncertain enough to blur a fourfold under-noising (its error grows with
 * μ), so each canary then gets ⌈1000 / K⌉.
 */
export const MIN_NULLS = 1000;

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 32 bytes as 64 lower-case hex characters');

/** One canary participant: its identity and the secret its direction is drawn from. */
export interface Canary {
  /** Ed25519 public key (hex) it takes part under. */
  publicKey: string;
  /** 32-byte secret (hex); {@link canaryDirection} of it is the direction it contributes. */
  secret: string;
}

/** zod schema of the reveal file (`canaries.json`). */
export const CanaryRevealSchema = z
  .object({
    format: z.literal(CANARY_REVEAL_FORMAT),
    version: z.literal(1),
    federationId: z.string().min(1),
    canaries: z.array(z.object({ publicKey: hex32, secret: hex32 }).strict()).min(2),
  })
  .strict();

/** The reveal file's content. */
export type CanaryReveal = z.infer<typeof CanaryRevealSchema>;

/**
 * SHA-256 (hex) of the canonical JSON of the domain, the federation and the canaries sorted by
 * public key: what the federation config's `auditCommitment` must be, fixed before round 0.
 */
export function canaryCommitment(federationId: string, canaries: readonly Canary[]): string {
  const sorted = [...canaries].sort((a, b) => (a.publicKey < b.publicKey ? -1 : a.publicKey > b.publicKey ? 1 : 0));
  return toHex(sha256(utf8(canonicalJson({ domain: CANARY_COMMITMENT_DOMAIN, federationId, canaries: sorted }))));
}

/** The released model of each version the audit needs: the weights as published (little-endian float32). */
export type ModelVersions = ReadonlyMap<number, Uint8Array>;

/**
 * The randomness of the null directions and of the bootstrap: derived from the revealed secrets,
 * so that nobody could know the null directions while the rounds ran (a coordinator that knew them
 * could push the model towards them and hide a leak).
 */
function auditRandomSeed(canaries: readonly Canary[]): Uint8Array {
  return sha256(concatBytes(utf8('fedveil/canary-audit/nulls/v1'), ...canaries.map((c) => fromHex(c.secret))));
}

function weightsOf(models: ModelVersions, version: number, hash: string, round: number): Float32Array {
  const bytes = models.get(version);
  check(bytes !== undefined, 'audit/missing-model', `round ${round}: model version ${version} is not among the released models given`);
  check(modelHash(bytes) === hash, 'audit/model-mismatch', `round ${round}: model version ${version} does not have the hash the ledger records (${hash})`);
  return new Float32Array(Uint8Array.from(bytes).buffer);
}

/**
 * Runs the empirical audit of a finished federation: checks the revealed canaries against the
 * genesis commitment and every model version against the ledger's hashes, then measures, for each
 * canary, the cosine between its direction and the sum of the released model changes of the rounds
 * it contributed to (the ledger names the contributors; every round's model is released, so this
 * is the paper's all-iterates observer); the null cosines are those of fresh directions with the
 * same sums. The claim tested is the largest ledger-reader ε among the canaries: that ε holds
 * against whoever knows who contributed, as the statistic does. Throws FedveilError `audit/…`.
 */
export function runCanaryAudit(
  entries: readonly LedgerEntry[],
  reveal: CanaryReveal,
  models: ModelVersions,
  o: { confidence?: number; bootstrap?: number } = {},
): EmpiricalAudit {
  const parsed = entries.map((e) => LedgerEntrySchema.parse(e));
  const genesis = parsed[0];
  check(genesis?.kind === 'genesis', 'audit/no-genesis', 'the ledger has no genesis entry');
  const committed = genesis.config['auditCommitment'];
  check(typeof committed === 'string', 'audit/no-commitment', 'the genesis commits to no canaries (no auditCommitment): their directions could have been chosen after the fact');
  check(reveal.federationId === genesis.federationId, 'audit/commitment-mismatch', `the canaries are revealed for '${reveal.federationId}', the ledger is '${genesis.federationId}'`);
  check(canaryCommitment(reveal.federationId, reveal.canaries) === committed, 'audit/commitment-mismatch', 'the revealed canaries are not those the genesis committed to');
  const allowed = new Set(genesis.participants);
  for (const c of reveal.canaries) check(allowed.has(c.publicKey), 'audit/unknown-canary', `canary ${c.publicKey} is not a participant of the federation`);

  const rounds = parsed.filter((e): e is RoundEntry => e.kind === 'round');
  check(rounds.length > 0, 'audit/no-rounds', 'no round was released: there is nothing to measure');
  // The model's own length: a round's `dim` also counts the coordinates appended after the model
  // (evaluation counts, the noise probe), which the released model does not carry.
  const dim = weightsOf(models, rounds[0]!.modelVersionBefore, rounds[0]!.modelHashBefore, rounds[0]!.round).length;
  const deltas = rounds.map((e) => {
    const before = weightsOf(models, e.modelVersionBefore, e.modelHashBefore, e.round);
    const after = weightsOf(models, e.modelVersionAfter, e.modelHashAfter, e.round);
    check(before.length === dim && after.length === dim, 'audit/model-mismatch', `round ${e.round}: the released models do not all have ${dim} weights`);
    const d = new Float64Array(dim);
    for (let i = 0; i < dim; i++) d[i] = (after[i] as number) - (before[i] as number);
    return { contributors: new Set(e.contributors.map((c) => c.publicKey)), d };
  });

  const rng = seededRandom(auditRandomSeed(reveal.canaries));
  const canaryCos: number[] = [];
  const nullCos: number[] = [];
  const contributing = reveal.canaries.filter((c) => deltas.some((r) => r.contributors.has(c.publicKey)));
  check(contributing.length >= 2, 'audit/too-few-canaries', `only ${contributing.length} canary contributed to a released round; the audit needs at least 2`);
  const nullsPerCanary = Math.max(NULLS_PER_CANARY, Math.ceil(MIN_NULLS / contributing.length));
  for (const c of contributing) {
    const sum = new Float64Array(dim);
    for (const r of deltas) if (r.contributors.has(c.publicKey)) for (let i = 0; i < dim; i++) sum[i]! += r.d[i] as number;
    canaryCos.push(cosine(canaryDirection(fromHex(c.secret), dim), sum));
    for (let j = 0; j < nullsPerCanary; j++) nullCos.push(cosine(randomUnitDirection(dim, rng), sum));
  }

  const report = buildPrivacyReport(parsed);
  const claims = contributing.map((c) => report.ledgerReader.participants[c.publicKey] ?? null);
  const claimedEpsilon = claims.some((e) => e === null) ? null : Math.max(...(claims as number[]));
  const est = estimateEmpiricalEpsilon(canaryCos, nullCos, { delta: report.delta, rng, ...o });
  return {
    method: 'one-shot-canaries',
    canaries: contributing.length,
    nulls: nullCos.length,
    rounds: rounds.length,
    delta: report.delta,
    confidence: est.confidence,
    mu: est.mu,
    epsilon: est.epsilon,
    lower: est.lower,
    upper: est.upper,
    claimedEpsilon,
    passed: claimedEpsilon === null || est.lower <= claimedEpsilon,
  };
}
