import { consistencySignedBytes } from '../protocol/canonical.js';
import { defaultProvider, fromHex, type CryptoProvider } from '../secagg/index.js';
import { formatZodError } from './config.js';
import {
  GENESIS_HASH,
  LedgerEntrySchema,
  ledgerEntryHash,
  ledgerSignatureMessage,
  type LedgerEntry,
} from './ledger-entry.js';

/** One reason a ledger does not hold. `seq` is the position in the given list. */
export interface LedgerDiscrepancy {
  /** Stable rule identifier, e.g. `ledger/broken-chain`. */
  code: string;
  /** Index of the offending line in the input (0-based). */
  index: number;
  /** The entry's round id, when the entry parsed. */
  round?: number;
  message: string;
}

/** The bytes contributor `signer` (public key hex) signed in the consistency check of `entry`'s round. */
export type ConsistencyMessageFn = (entry: LedgerEntry, signer: string) => Uint8Array;

/**
 * The protocol's consistency-check signed bytes for `signer` in `entry`'s round: the signer's
 * index and U3 are positions in `entry.cohort.members` (the round's participant list).
 */
export function protocolConsistencyMessage(entry: LedgerEntry, signer: string): Uint8Array {
  const index = new Map(entry.cohort.members.map((k, i) => [k, i]));
  const u3 = entry.contributors.map((c) => index.get(c.publicKey) ?? -1).sort((a, b) => a - b);
  return consistencySignedBytes(
    { version: entry.protocolVersion, federationId: entry.federationId, round: entry.round },
    index.get(signer) ?? -1,
    u3,
    // The coordinator does not bind its rounds yet: they sign an empty binding.
    new Uint8Array(0),
  );
}

/** Options of {@link verifyLedger}. */
export interface VerifyLedgerOptions {
  provider?: CryptoProvider;
  /** How to rebuild what contributors signed; defaults to {@link protocolConsistencyMessage}. */
  consistencyMessage?: ConsistencyMessageFn;
  /** When set, every entry must name this federation. */
  federationId?: string;
}

/** Verifies without throwing: a message that cannot be built (e.g. an index out of range) fails. */
function safeVerify(provider: CryptoProvider, publicKey: string, message: () => Uint8Array, signature: string): boolean {
  try {
    return provider.ed25519Verify(fromHex(publicKey), message(), fromHex(signature));
  } catch {
    return false;
  }
}

const isHexKey = (k: string): boolean => /^[0-9a-f]{64}$/.test(k);

/**
 * Checks a whole ledger and returns EVERY discrepancy found (an empty list means it holds):
 * malformed entries, entry hashes that do not match their content, bad coordinator signatures,
 * broken hash chain, missing / reordered / duplicated entries (sequence numbers), round ids that
 * do not increase, model hashes that do not chain (a round's `modelHashBefore` must be the
 * previous round's `modelHashAfter`), participants outside `allowedParticipantKeys`, contributors
 * outside the cohort (skipped when `allowedParticipantKeys` is null: an auditor without the
 * federation's list), fewer contributors than the threshold, and missing or invalid consistency
 * signatures in malicious-mode rounds.
 */
export function verifyLedger(
  entries: readonly unknown[],
  coordinatorPublicKey: Uint8Array | string,
  allowedParticipantKeys: readonly string[] | null,
  opts: VerifyLedgerOptions = {},
): LedgerDiscrepancy[] {
  const provider = opts.provider ?? defaultProvider;
  const out: LedgerDiscrepancy[] = [];
  let coordKey: Uint8Array;
  try {
    coordKey = typeof coordinatorPublicKey === 'string' ? fromHex(coordinatorPublicKey) : coordinatorPublicKey;
  } catch {
    coordKey = new Uint8Array(0);
  }
  if (coordKey.length !== 32) {
    out.push({ code: 'ledger/bad-coordinator-key', index: -1, message: 'the coordinator public key is not 32 bytes' });
  }
  const allowed = allowedParticipantKeys === null ? null : new Set(allowedParticipantKeys.map((k) => k.toLowerCase()));
  for (const k of allowedParticipantKeys ?? []) {
    if (!isHexKey(k.toLowerCase())) out.push({ code: 'ledger/bad-participant-key', index: -1, message: `allowed key ${k} is not 64 hex characters` });
  }

  let prev: LedgerEntry | null = null;
  entries.forEach((raw, index) => {
    const parsed = LedgerEntrySchema.safeParse(raw);
    if (!parsed.success) {
      out.push({ code: 'ledger/malformed-entry', index, message: `entry ${index}: ${formatZodError(parsed.error)}` });
      // The chain cannot be followed through an unreadable entry; the next entry is checked against
      // the last readable one, so a single bad line yields the precise errors around it.
      return;
    }
    const e = parsed.data;
    const report = (code: string, message: string): void => {
      out.push({ code, index, round: e.round, message: `entry ${index} (round ${e.round}): ${message}` });
    };

    if (opts.federationId !== undefined && e.federationId !== opts.federationId) {
      report('ledger/federation-mismatch', `federation '${e.federationId}', expected '${opts.federationId}'`);
    }
    const recomputed = ledgerEntryHash(e);
    if (recomputed !== e.hash) report('ledger/bad-hash', `recorded hash ${e.hash} but content hashes to ${recomputed}`);
    if (coordKey.length === 32 && !provider.ed25519Verify(coordKey, ledgerSignatureMessage(e.hash), fromHex(e.signature))) {
      report('ledger/bad-signature', 'the coordinator signature does not verify');
    }

    if (e.seq !== index) {
      if (e.seq > index) report('ledger/missing-entry', `sequence number ${e.seq} at position ${index}: entries ${index}..${e.seq - 1} are missing`);
      else report('ledger/reordered-entry', `sequence number ${e.seq} at position ${index}: entry repeated or out of order`);
    }
    const expectedPrev = prev === null ? GENESIS_HASH : prev.hash;
    if (index === 0 && e.prevHash !== GENESIS_HASH) {
      report('ledger/broken-chain', 'the first entry does not start from the genesis hash');
    } else if (prev !== null && e.prevHash !== expectedPrev) {
      report('ledger/broken-chain', `prevHash ${e.prevHash} is not the previous entry's hash ${expectedPrev}`);
    }
    if (prev !== null) {
      if (e.round <= prev.round) report('ledger/round-not-increasing', `round ${e.round} does not follow round ${prev.round}`);
      if (e.federationId !== prev.federationId) report('ledger/federation-mismatch', `federation changed from '${prev.federationId}'`);
      if (e.modelHashBefore !== prev.modelHashAfter) {
        report('ledger/model-chain', `modelHashBefore is not the previous round's modelHashAfter`);
      }
      if (e.modelVersionBefore !== prev.modelVersionAfter) {
        report('ledger/model-chain', `model version ${e.modelVersionBefore} does not follow ${prev.modelVersionAfter}`);
      }
    }
    if (e.modelVersionAfter !== e.modelVersionBefore + 1) {
      report('ledger/model-chain', `model version jumps from ${e.modelVersionBefore} to ${e.modelVersionAfter}`);
    }

    const cohort = new Set(e.cohort.members);
    for (const m of e.cohort.members) {
      if (allowed !== null && !allowed.has(m)) report('ledger/unknown-participant', `cohort member ${m} is not an allowed participant`);
    }
    if (cohort.size !== e.cohort.members.length) report('ledger/duplicate-participant', 'the cohort lists a participant twice');
    const contributorKeys = new Set<string>();
    for (const c of e.contributors) {
      if (contributorKeys.has(c.publicKey)) report('ledger/duplicate-participant', `contributor ${c.publicKey} listed twice`);
      contributorKeys.add(c.publicKey);
      if (!cohort.has(c.publicKey)) report('ledger/contributor-not-in-cohort', `contributor ${c.publicKey} was not in the cohort`);
    }
    for (const [phase, keys] of Object.entries(e.dropouts)) {
      for (const k of keys) {
        if (!cohort.has(k)) report('ledger/dropout-not-in-cohort', `${phase} dropout ${k} was not in the cohort`);
        if (contributorKeys.has(k) && phase !== 'consistency-check' && phase !== 'unmask') {
          report('ledger/dropout-contributed', `${k} is both a contributor and a ${phase} dropout`);
        }
      }
    }
    if (e.contributors.length < e.threshold) {
      report('ledger/below-threshold', `${e.contributors.length} contributors, below threshold ${e.threshold}`);
    }

    if (e.mode === 'malicious') {
      const messageOf = opts.consistencyMessage ?? protocolConsistencyMessage;
      const silent = new Set(e.dropouts['consistency-check']);
      const signed = e.contributors.filter((c) => c.consistencySignature !== null).length;
      if (signed < e.threshold) report('ledger/below-threshold', `${signed} consistency signatures, below threshold ${e.threshold}`);
      for (const c of e.contributors) {
        if (c.consistencySignature === null) {
          // A contributor that dropped before signing is recorded as a consistency-check dropout.
          if (!silent.has(c.publicKey)) report('ledger/missing-consistency-signature', `contributor ${c.publicKey} has no consistency signature`);
        } else if (!safeVerify(provider, c.publicKey, () => messageOf(e, c.publicKey), c.consistencySignature)) {
          report('ledger/bad-consistency-signature', `the consistency signature of ${c.publicKey} does not verify`);
        }
      }
    }
    prev = e;
  });
  return out;
}
