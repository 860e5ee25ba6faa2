/** A value that depends on one fetched ledger alone: computed once per ledger where participants share one ({@link LedgerMemo.get}), else on every call. */
export type LedgerOnce = <T>(key: string, compute: () => T) => T;

/** The {@link LedgerOnce} of `memo`, or one that computes on every call where there is none. */
export function ledgerOnce(memo: LedgerMemo | null): LedgerOnce {
  return memo === null ? (_key, compute) => compute() : (key, compute) => memo.get(key, compute);
}

/**
 * Results of pure functions of one fetched ledger (one array of parsed lines), computed once.
 * A process that hosts many participants (a simulation's worker hosts hundreds per round) has
 * them check the same fetch: parsing the entries, verifying the chain and its signatures and
 * indexing the genesis's participants give the same answer for every one of them, and at a
 * population of 10⁴ with a cohort of 10³ repeating them per participant would dominate the round.
 * Only what depends on the ledger alone is memoised; every participant still runs its own checks
 * (its receipts, its membership, its budget) against the result.
 */
export class LedgerMemo {
  private readonly values = new Map<string, unknown>();

  /** `entries` must not be changed afterwards: results are keyed by this array. */
  constructor(readonly entries: readonly unknown[]) {}

  /** The value of `compute()` under `key`, computed on the first call only. */
  get<T>(key: string, compute: () => T): T {
    if (this.values.has(key)) return this.values.get(key) as T;
    const v = compute();
    this.values.set(key, v);
    return v;
  }
}

/** The hash of the last line of a ledger as fetched (null when absent or not a string). */
export function fetchedHeadHash(entries: readonly unknown[]): string | null {
  const h = (entries.at(-1) as { hash?: unknown } | null | undefined)?.hash;
  return typeof h === 'string' ? h : null;
}

/**
 * The ledger the participants of one process fetched last, shared between them: a participant
 * announced a round whose ledger head is the one held reuses it instead of fetching it again (a
 * ledger that ends at that head and verifies is the ledger the coordinator would serve: each
 * entry's hash binds its content and the previous hash; one that does not verify is refused by
 * every participant alike), participants asking at once share one fetch, and the signatures of
 * entries one participant verified are not checked again by the others.
 */
export class SharedLedger {
  private held: LedgerMemo | null = null;
  private inflight: { head: string; memo: Promise<LedgerMemo> } | null = null;
  private verifiedHashes: string[] = [];

  /**
   * The ledger ending at `head` (announced by the coordinator): the one held when it ends there,
   * else the result of a fetch (one for all participants asking for the same head at once).
   */
  async at(head: { seq: number; hash: string } | null, fetch: () => Promise<unknown[]>): Promise<LedgerMemo> {
    if (head !== null && this.held !== null && this.held.entries.length === head.seq + 1 && fetchedHeadHash(this.held.entries) === head.hash) return this.held;
    const key = head === null ? null : `${head.seq}/${head.hash}`;
    if (key !== null && this.inflight?.head === key) return this.inflight.memo;
    const memo = fetch().then((entries) => new LedgerMemo(entries));
    if (key !== null) this.inflight = { head: key, memo };
    try {
      const m = await memo;
      if (this.held === null || m.entries.length >= this.held.entries.length) this.held = m;
      return m;
    } finally {
      if (this.inflight?.memo === memo) this.inflight = null;
    }
  }

  /** Entry hashes (by position) of the longest ledger a participant verified. */
  get verified(): readonly string[] {
    return this.verifiedHashes;
  }

  /** Records the entry hashes of a ledger that passed a participant's check. */
  verifiedNow(hashes: readonly string[]): void {
    if (hashes.length > this.verifiedHashes.length) this.verifiedHashes = [...hashes];
  }
}
