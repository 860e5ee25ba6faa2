import { z } from 'zod';
import { concatBytes, fromHex, toHex, utf8, type CryptoProvider } from '../secagg/index.js';
import { canonicalJson } from './canonical-json.js';
import { isCharged, LedgerEntrySchema, type LedgerEntry } from './ledger-entry.js';

/** Domain-separation prefix of the coordinator's signature over a ledger head. */
export const LEDGER_HEAD_DOMAIN = 'fedveil/ledger-head/v2';

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const hex64 = z.string().regex(/^[0-9a-f]{128}$/);

/**
 * `GET /v1/ledger/head[?seq=K]`: the coordinator's signed statement that entry `seq` of its
 * ledger has hash `hash`. `round` and `kind` are informational (the hash covers them).
 */
export const LedgerHeadSchema = z
  .object({
    federationId: z.string().min(1),
    seq: z.number().int().min(0),
    hash: hex32,
    kind: z.enum(['genesis', 'round', 'statistics', 'aborted-after-unmask', 'amendment']),
    round: z.number().int().min(0).nullable(),
    coordinatorPublicKey: hex32,
    signature: hex64,
  })
  .strict();

/** A signed ledger head. */
export type LedgerHead = z.infer<typeof LedgerHeadSchema>;

/** A receipt as a participant stores it: a signed head of a round it contributed to. */
export const ReceiptSchema = LedgerHeadSchema.extend({ format: z.literal('fedveil.ledger-receipt') }).strict();

/** A stored receipt. */
export type Receipt = z.infer<typeof ReceiptSchema>;

/** The bytes the coordinator signs for a head: domain ‖ 0x00 ‖ canonical JSON of {federationId, seq, hash}. */
export function ledgerHeadMessage(head: { federationId: string; seq: number; hash: string }): Uint8Array {
  return concatBytes(utf8(LEDGER_HEAD_DOMAIN), new Uint8Array([0]), utf8(canonicalJson({ federationId: head.federationId, seq: head.seq, hash: head.hash })));
}

/** The coordinator's signed head for `entry`. */
export function signLedgerHead(entry: LedgerEntry, provider: CryptoProvider, coordinator: { publicKey: Uint8Array; secretKey: Uint8Array }): LedgerHead {
  return {
    federationId: entry.federationId,
    seq: entry.seq,
    hash: entry.hash,
    kind: entry.kind,
    round: isCharged(entry) ? entry.round : null,
    coordinatorPublicKey: toHex(coordinator.publicKey),
    signature: toHex(provider.ed25519Sign(coordinator.secretKey, ledgerHeadMessage(entry))),
  };
}

/** True when `head.signature` is a valid signature by `coordinatorPublicKey` (hex). Never throws. */
export function verifyLedgerHead(head: LedgerHead, coordinatorPublicKey: string, provider: CryptoProvider): boolean {
  try {
    return provider.ed25519Verify(fromHex(coordinatorPublicKey), ledgerHeadMessage(head), fromHex(head.signature));
  } catch {
    return false;
  }
}

/** A receipt the ledger does not honour. */
export interface ReceiptDiscrepancy {
  /** `receipt/bad-signature`, `receipt/federation-mismatch`, `receipt/ledger-truncated` or `receipt/ledger-fork`. */
  code: string;
  round?: number;
  message: string;
}

/**
 * Holds a ledger to receipts: each receipt must be signed by `coordinatorPublicKey` (hex), be for
 * the ledger's federation, and name an entry the ledger has (else the ledger was truncated) with
 * the same hash (else the ledger forked from what the participant was shown).
 */
export function checkReceipts(
  entries: readonly unknown[],
  receipts: readonly Receipt[],
  coordinatorPublicKey: string,
  provider: CryptoProvider,
): ReceiptDiscrepancy[] {
  const out: ReceiptDiscrepancy[] = [];
  // Nothing to hold the ledger to (a participant's first round): parsing every entry would find nothing.
  if (receipts.length === 0) return out;
  const bySeq = new Map<number, LedgerEntry>();
  let federationId: string | null = null;
  for (const raw of entries) {
    const r = LedgerEntrySchema.safeParse(raw);
    if (!r.success) continue;
    federationId ??= r.data.federationId;
    if (!bySeq.has(r.data.seq)) bySeq.set(r.data.seq, r.data);
  }
  const length = entries.length;
  for (const rc of receipts) {
    const where = { ...(rc.round === null ? {} : { round: rc.round }) };
    const what = `receipt for entry ${rc.seq}${rc.round === null ? '' : ` (round ${rc.round})`}`;
    if (!verifyLedgerHead(rc, coordinatorPublicKey, provider)) {
      out.push({ code: 'receipt/bad-signature', ...where, message: `${what} is not signed by coordinator key ${coordinatorPublicKey} (signed by ${rc.coordinatorPublicKey}?)` });
      continue;
    }
    if (federationId !== null && rc.federationId !== federationId) {
      out.push({ code: 'receipt/federation-mismatch', ...where, message: `${what} is for federation '${rc.federationId}', the ledger for '${federationId}'` });
      continue;
    }
    const e = bySeq.get(rc.seq);
    if (e === undefined) {
      out.push({ code: 'receipt/ledger-truncated', ...where, message: `${what}: the ledger has ${length} entries and no entry ${rc.seq}, which the coordinator signed` });
    } else if (e.hash !== rc.hash) {
      out.push({ code: 'receipt/ledger-fork', ...where, message: `${what}: the ledger's entry ${rc.seq} has hash ${e.hash}, the coordinator signed ${rc.hash}` });
    }
  }
  return out;
}
