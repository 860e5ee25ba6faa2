import { defaultProvider, FedveilError, type CryptoProvider } from '../secagg/index.js';
import type { CoordinatorHttp } from './http-transport.js';
import { LedgerHeadSchema, verifyLedgerHead } from './ledger-head.js';
import type { LedgerHead, Receipt } from './ledger-head.js';
import type { SharedLedger } from './ledger-memo.js';
import type { RoundPlanMemo } from '../protocol/plan-memo.js';
import {
  checkLedgerBeforeReady,
  checkLedgerBeforeRound,
  verifiedOwnPrivacy,
  type LedgerCheck,
  type OwnPrivacy,
  type ReadyCheck,
  type ReadyCheckInput,
  type RoundAnnouncement,
} from './participant-ledger-check.js';

/**
 * Where a participant keeps the coordinator key it pinned and the receipts of its rounds: a folder
 * for `fedveil client` (ReceiptStore), IndexedDB for the browser participant. Reads are
 * synchronous: a store loads what it holds before the participant starts.
 */
export interface ReceiptKeeper {
  /** The coordinator key pinned for `federationId`, or null before first contact. */
  pinnedKey(federationId: string): string | null;
  /** Pins `publicKey` for `federationId` (first contact). */
  pinKey(federationId: string, publicKey: string): void;
  /** Every receipt held for `federationId`. */
  receipts(federationId: string): Receipt[];
  /** Stores the receipt of a round (the signed head of its entry); returns where it went. */
  save(head: LedgerHead): string;
}

/** Options of a {@link ParticipantLedger}. */
export interface ParticipantLedgerOptions {
  /** My public key (hex). */
  self: string;
  /** Where pinned keys and receipts persist; null keeps them for this process only. */
  store: ReceiptKeeper | null;
  /** The coordinator key obtained out of band; otherwise the key is pinned on first contact. */
  coordinatorKey?: string;
  maxEpsilon?: number;
  maxDelta?: number;
  provider?: CryptoProvider;
  /** The ledger verified by the other participants this process hosts (see {@link SharedLedger}). */
  shared?: SharedLedger;
  /** Round plans shared by the participants this process hosts (see RoundPlanMemo). */
  roundPlans?: RoundPlanMemo;
}

/**
 * A participant's side of the ledger: before each round it fetches the coordinator's ledger and
 * checks it ({@link checkLedgerBeforeRound}) against the pinned coordinator key, its receipts and
 * what it verified before (the ledger must extend it); after a round it contributed to, it fetches
 * the coordinator-signed head of that round's entry and keeps it as a receipt.
 */
export class ParticipantLedger {
  private readonly provider: CryptoProvider;
  private pinned: string | null = null;
  /** Entry hashes of the ledger verified last (by position). */
  private verified: string[] = [];

  constructor(
    private readonly http: CoordinatorHttp,
    private readonly opts: ParticipantLedgerOptions,
  ) {
    this.provider = opts.provider ?? defaultProvider;
  }

  /**
   * The coordinator key for `federationId`: the given one, else the one pinned (in the receipt
   * store or in memory), else `advertised` is pinned now. A given key that contradicts a stored
   * pin is refused (FedveilError 'client/coordinator-key-changed').
   */
  coordinatorKey(federationId: string, advertised: string): string {
    if (this.pinned !== null) return this.pinned;
    const stored = this.opts.store?.pinnedKey(federationId) ?? null;
    const given = this.opts.coordinatorKey?.toLowerCase();
    if (given !== undefined && stored !== null && given !== stored) {
      throw new FedveilError('client/coordinator-key-changed', `the given coordinator key ${given} is not the key ${stored} pinned for '${federationId}'`);
    }
    const key = given ?? stored ?? advertised;
    if (stored === null) this.opts.store?.pinKey(federationId, key);
    this.pinned = key;
    return key;
  }

  /** The coordinator key to check against, or the refusal to return when none can be trusted (never a throw). */
  private keyOrRefusal(federationId: string, advertisedKey: string): string | { ok: false; code: string; message: string } {
    try {
      return this.coordinatorKey(federationId, advertisedKey);
    } catch (e) {
      if (e instanceof FedveilError) return { ok: false, code: e.code, message: e.message };
      throw e;
    }
  }

  /** Fetches and checks the ledger for the announced round. Never throws on a bad ledger: it refuses. */
  async beforeRound(federationId: string, advertisedKey: string, round: RoundAnnouncement): Promise<LedgerCheck> {
    return this.checkFetched(federationId, advertisedKey, async () => round.ledgerHead, (input) =>
      checkLedgerBeforeRound({ ...input, round, ...(this.opts.roundPlans === undefined ? {} : { roundPlans: this.opts.roundPlans }) }),
    );
  }

  /**
   * Fetches and checks the ledger before I announce an asynchronous update ready
   * ({@link checkLedgerBeforeReady}): the same trust checks as before a round, and my ε if I joined
   * the next group. Never throws on a bad ledger: it refuses.
   */
  async beforeReady(federationId: string, advertisedKey: string): Promise<ReadyCheck> {
    // Between groups no head is announced: the signed head (one small request) says whether the
    // ledger the participants of this process share is still the coordinator's.
    return this.checkFetched(federationId, advertisedKey, () => this.http.getJson('/v1/ledger/head', LedgerHeadSchema), checkLedgerBeforeReady);
  }

  /**
   * What both checks share: the trusted key, the ledger (through the memo this process's
   * participants share, at the head `head` gives), the refusal of a ledger that no longer extends
   * what I verified, the inputs every check takes; and, when `check` passes, its entries become
   * what I verified.
   */
  private async checkFetched<R extends { ok: true; entries: readonly { hash: string }[] } | { ok: false; code: string; message: string }>(
    federationId: string,
    advertisedKey: string,
    head: () => Promise<{ seq: number; hash: string } | null>,
    check: (input: ReadyCheckInput) => R,
  ): Promise<R | { ok: false; code: string; message: string }> {
    const key = this.keyOrRefusal(federationId, advertisedKey);
    if (typeof key !== 'string') return key;
    const shared = this.opts.shared;
    const memo = shared === undefined ? undefined : await shared.at(await head(), () => this.fetchLedger());
    const entries = memo?.entries ?? (await this.fetchLedger());
    const prefix = verifiedPrefix(entries, this.verified);
    if (prefix < this.verified.length) {
      return { ok: false, code: 'client/ledger-fork', message: `the ledger no longer extends the ${this.verified.length} entries I verified before (it differs from entry ${prefix} on)` };
    }
    const result = check({
      entries,
      self: this.opts.self,
      coordinatorKey: key,
      receipts: this.opts.store?.receipts(federationId) ?? [],
      // Signatures another participant of this process verified need no second check.
      verifiedPrefix: Math.max(prefix, shared === undefined ? 0 : verifiedPrefix(entries, shared.verified)),
      provider: this.provider,
      ...(memo === undefined ? {} : { memo }),
      ...(this.opts.maxEpsilon === undefined ? {} : { maxEpsilon: this.opts.maxEpsilon }),
      ...(this.opts.maxDelta === undefined ? {} : { maxDelta: this.opts.maxDelta }),
    });
    if (result.ok) {
      this.verified = result.entries.map((e) => e.hash);
      shared?.verifiedNow(this.verified);
    }
    return result;
  }

  /**
   * My own ε so far from the coordinator's ledger, verified under the pinned (or given) key and
   * against my receipts; a refusal (never a throw) when it does not verify.
   */
  async ownPrivacy(federationId: string, advertisedKey: string): Promise<OwnPrivacy> {
    const key = this.keyOrRefusal(federationId, advertisedKey);
    if (typeof key !== 'string') return key;
    return verifiedOwnPrivacy({
      entries: await this.fetchLedger(),
      self: this.opts.self,
      coordinatorKey: key,
      receipts: this.opts.store?.receipts(federationId) ?? [],
      provider: this.provider,
    });
  }

  /**
   * After a round I contributed to, whose entry follows `headBefore`: fetches the signed head of
   * that entry, checks it (my round, the pinned key) and stores it as a receipt. Returns its path
   * (null without a store), or throws FedveilError 'client/bad-receipt'.
   */
  async receipt(federationId: string, round: number, headBefore: { seq: number }): Promise<string | null> {
    const head = await this.http.getJson(`/v1/ledger/head?seq=${headBefore.seq + 1}`, LedgerHeadSchema);
    const key = this.pinned;
    if (head.federationId !== federationId || head.round !== round || key === null || head.coordinatorPublicKey !== key || !verifyLedgerHead(head, key, this.provider)) {
      throw new FedveilError('client/bad-receipt', `the coordinator's signed head for round ${round} (entry ${headBefore.seq + 1}) is not a valid receipt of it`);
    }
    return this.opts.store?.save(head) ?? null;
  }

  private async fetchLedger(): Promise<unknown[]> {
    const { bytes } = await this.http.getBytes('/v1/ledger');
    const lines = new TextDecoder().decode(bytes).split('\n').filter((l) => l.trim() !== '');
    return lines.map((l) => {
      try {
        return JSON.parse(l) as unknown;
      } catch {
        return null;
      }
    });
  }
}

/** How many leading entries of `entries` are the ones whose hashes `verified` lists. */
function verifiedPrefix(entries: readonly unknown[], verified: readonly string[]): number {
  let k = 0;
  while (k < verified.length && k < entries.length && (entries[k] as { hash?: unknown } | null)?.hash === verified[k]) k++;
  return k;
}
