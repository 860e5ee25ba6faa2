import { describe, expect, it } from 'vitest';
import { accountRounds, ledgerReaderEvent } from '../../src/dp/index.js';
import { nodeProvider } from '../../src/secagg/providers/index.js';
import { toHex } from '../../src/secagg/util/bytes.js';
import { signLedgerHead, type Receipt } from '../../src/server/ledger-head.js';
import type { GenesisEntry, LedgerEntry } from '../../src/server/ledger-entry.js';
import { participantEpsilon } from '../../src/server/participant-budget.js';
import { checkLedgerBeforeRound, type LedgerCheckInput, type RoundAnnouncement } from '../../src/server/participant-ledger-check.js';
import { coordinator, fixtureConfig, fixtureLedger, fixtureRound, identities, rechain } from './fixtures.js';

const people = identities(4, 'guard');
const me = toHex(people[0]!.publicKey);
const coordPub = toHex(coordinator.publicKey);
const { config, entries } = fixtureLedger(people, 3);

/** The next round as an honest coordinator announces it after `ledger`. */
function announce(ledger: readonly LedgerEntry[], round = 100): RoundAnnouncement {
  const last = ledger.at(-1)!;
  const r = fixtureRound(config, round, ledger[0]!.hash, { seq: last.seq, hash: last.hash });
  return { config: r.config, draw: r.drawRecord, ledgerHead: { seq: last.seq, hash: last.hash } };
}

const receipt = (e: LedgerEntry): Receipt => ({ format: 'fedveil.ledger-receipt', ...signLedgerHead(e, nodeProvider, coordinator) });

function check(over: Partial<LedgerCheckInput> = {}): string {
  const r = checkLedgerBeforeRound({ entries, self: me, coordinatorKey: coordPub, receipts: [], round: announce(entries), ...over });
  return r.ok ? 'ok' : r.code;
}

describe('a participant checks the ledger before it contributes', () => {
  it('goes ahead on a verifying ledger that holds its receipts and backs the round binding', () => {
    expect(check({ receipts: entries.slice(1).map(receipt) })).toBe('ok');
  });

  it('refuses a ledger that does not verify, or comes from another coordinator key', () => {
    const forged = structuredClone(entries);
    (forged[2] as { aggregateHash: string }).aggregateHash = 'ee'.repeat(32);
    expect(check({ entries: forged })).toBe('client/ledger-invalid');
    const other = identities(1, 'guard-other')[0]!;
    expect(check({ coordinatorKey: toHex(other.publicKey) })).toBe('client/coordinator-key-changed');
  });

  it('refuses a ledger behind a receipt it holds: truncated, or a coordinator restarted on a fresh store', () => {
    const truncated = entries.slice(0, 2);
    expect(check({ entries: truncated, receipts: [receipt(entries[3]!)], round: announce(truncated) })).toBe('client/ledger-behind-receipt');
    // same key, fresh store: a new genesis, round 0, ε 0
    const fresh = fixtureLedger(people, 0, { config: fixtureConfig(people, { rounds: 6 }) }).entries;
    expect(check({ entries: fresh, receipts: [receipt(entries[1]!)], round: announce(fresh) })).toBe('client/ledger-behind-receipt');
  });

  it('refuses a ledger that forks from a receipt it holds', () => {
    const l = structuredClone(entries) as LedgerEntry[];
    (l[3] as { aggregateHash: string }).aggregateHash = 'ee'.repeat(32);
    const forked = rechain(l);
    expect(check({ entries: forked, receipts: [receipt(entries[3]!)], round: announce(forked) })).toBe('client/ledger-fork');
  });

  it('refuses a round whose binding, head, DP config or draw does not follow from the ledger it verified', () => {
    const honest = announce(entries);
    const stale = announce(entries.slice(0, 3));
    expect(check({ round: { ...honest, config: stale.config } })).toBe('client/binding-mismatch');
    expect(check({ round: { ...honest, config: { ...honest.config, binding: undefined } as never } })).toBe('client/binding-mismatch');
    expect(check({ round: { ...honest, ledgerHead: stale.ledgerHead } })).toBe('client/ledger-head-mismatch');
    const noisier = { ...honest.config, dp: { ...honest.config.dp, noiseMultiplier: 0.5 } };
    expect(check({ round: { ...honest, config: noisier } })).toBe('client/round-off-genesis');
    expect(check({ round: { ...honest, draw: { ...honest.draw!, samplingRate: 0.1 } } })).toBe('client/round-off-genesis');
    expect(check({ round: { ...honest, config: { ...honest.config, colluders: 1 } } })).toBe('client/round-off-genesis');
    expect(check({ round: { ...honest, draw: null } })).toBe('client/round-off-genesis');
  });

  it('refuses a federation that does not list it, or whose δ is above its limit', () => {
    const stranger = toHex(identities(1, 'guard-stranger')[0]!.publicKey);
    expect(check({ self: stranger })).toBe('client/not-allowed');
    expect(check({ maxDelta: 1e-6 })).toBe('client/delta-above-limit');
    expect(check({ maxDelta: 1e-5 })).toBe('ok');
  });

  it('refuses a round that would take its own ε past its limit (its rounds, no amplification, at the genesis δ)', () => {
    // in each fixture round the last cohort member dropped: find rounds I contributed to
    const mine = entries.filter((e) => e.kind === 'round' && e.contributors.some((c) => c.publicKey === me));
    const dp = announce(entries).config.dp;
    const events = [...mine.map((e) => ledgerReaderEvent(dp, (e as { contributors: unknown[] }).contributors.length, 0, config.dim)), ledgerReaderEvent(dp, 2, 0, config.dim)];
    const epsilon = accountRounds(events, config.dp.delta).total.epsilon;
    const r = checkLedgerBeforeRound({ entries, self: me, coordinatorKey: coordPub, receipts: [], round: announce(entries) });
    expect(r.ok && r.epsilonIfContributing).toBeCloseTo(epsilon, 12);
    expect(check({ maxEpsilon: epsilon * 1.0001 })).toBe('ok');
    expect(check({ maxEpsilon: epsilon * 0.9999 })).toBe('client/epsilon-budget');
    expect(participantEpsilon(entries[0] as GenesisEntry, entries.slice(0, 1), me).epsilon).toBe(0);
  });
});
