import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/secagg/util/bytes.js';
import type { LedgerEntry } from '../../src/server/ledger-entry.js';
import { LedgerMemo, SharedLedger } from '../../src/server/ledger-memo.js';
import { checkLedgerBeforeRound, type RoundAnnouncement } from '../../src/server/participant-ledger-check.js';
import { coordinator, fixtureLedger, fixtureRound, identities } from './fixtures.js';

const people = identities(4, 'memo');
const coordPub = toHex(coordinator.publicKey);
const { config, entries } = fixtureLedger(people, 3);

function announce(ledger: readonly LedgerEntry[]): RoundAnnouncement {
  const last = ledger.at(-1)!;
  const r = fixtureRound(config, 100, ledger[0]!.hash, { seq: last.seq, hash: last.hash });
  return { config: r.config, draw: r.drawRecord, ledgerHead: { seq: last.seq, hash: last.hash } };
}
const head = (l: readonly LedgerEntry[]) => ({ seq: l.at(-1)!.seq, hash: l.at(-1)!.hash });

describe('participants of one process share the ledger they check', () => {
  it('one fetch serves every participant asking for the same head at once, and the held ledger serves later ones', async () => {
    const shared = new SharedLedger();
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 5));
      return structuredClone(entries) as unknown[];
    };
    const memos = await Promise.all([1, 2, 3].map(() => shared.at(head(entries), fetch)));
    expect(fetches).toBe(1);
    expect(memos[1]).toBe(memos[0]);
    expect(await shared.at(head(entries), fetch)).toBe(memos[0]);
    expect(fetches).toBe(1);
    // Another head (the ledger grew): fetched again.
    await shared.at({ seq: head(entries).seq + 1, hash: 'ab'.repeat(32) }, fetch);
    expect(fetches).toBe(2);
  });

  it('every participant still gets its own verdict from a shared memo: a member of the genesis goes ahead, a stranger is refused', () => {
    const memo = new LedgerMemo(structuredClone(entries) as unknown[]);
    const base = { entries: memo.entries, coordinatorKey: coordPub, receipts: [], round: announce(entries), memo };
    const mine = checkLedgerBeforeRound({ ...base, self: toHex(people[0]!.publicKey) });
    const stranger = checkLedgerBeforeRound({ ...base, self: toHex(identities(1, 'memo-stranger')[0]!.publicKey) });
    expect(mine.ok).toBe(true);
    expect(stranger.ok ? 'ok' : stranger.code).toBe('client/not-allowed');
  });

  it('each participant sharing a memo gets its own ε and budget verdict, as if it had checked the ledger alone', () => {
    const memo = new LedgerMemo(structuredClone(entries) as unknown[]);
    const round = announce(entries);
    const alone = people.map((p) => checkLedgerBeforeRound({ entries, self: toHex(p.publicKey), coordinatorKey: coordPub, receipts: [], round }));
    const shared = people.map((p) => checkLedgerBeforeRound({ entries: memo.entries, self: toHex(p.publicKey), coordinatorKey: coordPub, receipts: [], round, memo }));
    const epsilons = alone.map((r) => (r.ok ? r.epsilonIfContributing : NaN));
    expect(shared.map((r) => (r.ok ? r.epsilonIfContributing : NaN))).toEqual(epsilons);
    // The fixture's members took part in different rounds, so their figures differ: the memo holds no one's ε.
    expect(new Set(epsilons).size).toBeGreaterThan(1);
    const limit = (Math.min(...epsilons) + Math.max(...epsilons)) / 2;
    const verdicts = people.map((p) => {
      const r = checkLedgerBeforeRound({ entries: memo.entries, self: toHex(p.publicKey), coordinatorKey: coordPub, receipts: [], round, memo, maxEpsilon: limit });
      return r.ok ? 'ok' : r.code;
    });
    expect(verdicts).toEqual(epsilons.map((e) => (e <= limit ? 'ok' : 'client/epsilon-budget')));
  });

  it('a ledger that does not verify is refused by every participant sharing it', () => {
    const forged = structuredClone(entries) as unknown[];
    (forged[2] as { aggregateHash: string }).aggregateHash = 'ee'.repeat(32);
    const memo = new LedgerMemo(forged);
    for (const p of people.slice(0, 2)) {
      const r = checkLedgerBeforeRound({ entries: forged, self: toHex(p.publicKey), coordinatorKey: coordPub, receipts: [], round: announce(entries), memo });
      expect(r.ok ? 'ok' : r.code).toBe('client/ledger-invalid');
    }
  });
});
