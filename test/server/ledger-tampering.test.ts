import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, type PrivacyReport } from '../../src/dp/index.js';
import { toHex } from '../../src/secagg/index.js';
import { chargedEntries, entryEvent, type ChargedEntry, type GenesisEntry, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { ledgerReportCheck, type LedgerBundle } from '../../src/server/ledger-audit.js';
import { configHash } from '../../src/server/ledger-genesis.js';
import { entryBinding } from '../../src/server/ledger-verify.js';
import { verifyReport } from '../../src/dp/index.js';
import { ReceiptStore } from '../../src/server/receipt-store.js';
import { buildPrivacyReport, privacyEntryOf } from '../../src/server/report.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import type { Receipt } from '../../src/server/ledger-head.js';
import { rechain } from './fixtures.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

// One real federation (coordinator on 127.0.0.1, four participants keeping receipts), then every
// tampering of the table in spec/ledger.md §6: the coordinator edits its ledger, re-links and
// re-signs it with its own key, and rebuilds the report to match. verify-report's check must
// refuse each one with its specific code.

const people = identities(4, 'tamper');
const dropper = toHex(people[3]!.publicKey);
const config = smallConfig(people, {
  rounds: 3,
  dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: false, noiseMultiplier: 1.5 },
  deadlines: { 'advertise-keys': 60_000, 'share-keys': 60_000, 'masked-input': 60_000, 'consistency-check': 60_000, unmask: 60_000 },
});
let running: RunningCoordinator;
let ledger: LedgerEntry[];
let receipts: Receipt[];
let coordPub: string;

beforeAll(async () => {
  running = await startTestCoordinator(config);
  coordPub = toHex(running.coordinator.publicKey);
  // the dropper stays silent at masked-input in round 1: that round has 3 contributors of 4
  const timer = setInterval(() => {
    const p = running.coordinator.phaseProgress();
    if (p === null || p.round !== 1 || p.phase !== 'masked-input') return;
    const missing = p.expected.filter((i) => !p.submitted.includes(i)).map((i) => p.members[i]);
    if (missing.length === 1 && missing[0] === dropper) running.coordinator.expireDeadline();
  }, 10);
  const stores = people.map(() => new ReceiptStore(mkdtempSync(join(tmpdir(), 'fedveil-receipts-'))));
  const clients = people.map((p, i) =>
    participant(running.url, p, 0.1, config.dim, { receipts: stores[i]!, ...(i === 3 ? { dropout: (r: number) => (r === 1 ? ('masked-input' as const) : undefined) } : {}) }),
  );
  await Promise.all(clients.map((c) => c.run()));
  clearInterval(timer);
  ledger = await running.coordinator.ledger();
  receipts = stores[0]!.receipts(config.federationId);
}, 60_000);

afterAll(async () => {
  await running?.close();
});

/** verify-report's verdict (its codes, deduplicated, in order) on a ledger and a report. */
function verdict(entries: readonly unknown[], report: PrivacyReport, withReceipts = false): string[] {
  const bundle: LedgerBundle = { path: 'ledger.jsonl', entries: [...entries], pinnedKey: coordPub, receipts: withReceipts ? receipts : null, problems: [] };
  const found = verifyReport(report, { checks: [ledgerReportCheck(bundle)] });
  if (process.env.FEDVEIL_SHOW_VERDICTS) console.log(found.map((d) => `${d.code}: ${d.message}`).join('\n'));
  return [...new Set(found.map((d) => d.code))];
}

/** The report a coordinator would rebuild from its edited ledger (self-consistent: its own checks pass). */
const rebuilt = (entries: readonly LedgerEntry[], delta = 1e-5): PrivacyReport => {
  const genesis = entries[0] as GenesisEntry;
  return buildReport({
    federationId: config.federationId,
    delta,
    colluders: genesis.colluders,
    rounds: chargedEntries(entries).map((e) => privacyEntryOf(genesis, e)),
  });
};

const copy = (): LedgerEntry[] => structuredClone(ledger);

/**
 * What a coordinator covering its tracks does: re-links and re-signs every entry and rewrites
 * each round's recorded binding to the binding of its (edited) entry, so that everything but the
 * participants' signatures is consistent again.
 */
function forge(entries: readonly LedgerEntry[], secretKey?: Uint8Array): LedgerEntry[] {
  let out = rechain(entries, secretKey);
  for (let i = 1; i < out.length; i++) {
    const e = out[i] as ChargedEntry;
    e.binding = toHex(entryBinding(e, out[0]!.hash));
    out = rechain(out, secretKey);
  }
  return out;
}
const charged = (l: LedgerEntry[], i: number) => l[i] as ChargedEntry & Record<string, unknown>;

describe('the ledger of a real federation', () => {
  it('verifies against its report, its key and the receipts; the participants kept one receipt per round', () => {
    expect(ledger.map((e) => e.kind)).toEqual(['genesis', 'round', 'round', 'round']);
    expect(charged(ledger, 2).contributors.map((c) => c.publicKey)).not.toContain(dropper);
    expect(receipts.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(verdict(ledger, buildPrivacyReport(ledger), true)).toEqual([]);
    expect(verifyReport(rebuilt(ledger))).toEqual([]);
  });
});

describe('each tampering, re-signed by the coordinator with its report rebuilt to match, is refused', () => {
  it('δ raised from 1e-5 to 1e-3 in the report: ledger/report-delta (δ is in the genesis)', () => {
    const report = rebuilt(ledger, 1e-3);
    expect(verifyReport(report)).toEqual([]); // the report alone is self-consistent …
    expect(report.epsilon!).toBeLessThan(rebuilt(ledger).epsilon!); // … and claims less ε
    expect(verdict(ledger, report)).toEqual(['ledger/report-delta']);
  });

  it('δ raised in the genesis too (config, hash and field, consistently): ledger/binding-not-cosigned', () => {
    const l = copy();
    const g = l[0] as Extract<LedgerEntry, { kind: 'genesis' }>;
    g.config = { ...g.config, dp: { ...(g.config.dp as object), delta: 1e-3 } };
    g.configHash = configHash(g.config);
    g.delta = 1e-3;
    const forged = forge(l);
    expect(verdict(forged, rebuilt(forged, 1e-3))).toEqual(['ledger/binding-not-cosigned']);
  });

  it('a genesis that contradicts its own config: ledger/genesis-mismatch', () => {
    const l = copy();
    (l[0] as Extract<LedgerEntry, { kind: 'genesis' }>).delta = 1e-3;
    const forged = forge(l);
    expect(verdict(forged, rebuilt(forged, 1e-3))).toContain('ledger/genesis-mismatch');
  });

  it('last entry dropped: invisible without an external anchor, receipt/ledger-truncated with the receipts', () => {
    const truncated = copy().slice(0, -1);
    expect(verdict(truncated, rebuilt(truncated))).toEqual([]);
    expect(verdict(truncated, rebuilt(truncated), true)).toEqual(['receipt/ledger-truncated']);
  });

  it('samplingRate divided by 10: ledger/sampling-mismatch (it must follow from the draw and the genesis)', () => {
    const last = copy();
    const e = charged(last, 3);
    e.samplingRate /= 10;
    e.dpEvent = entryEvent(e, 0);
    const forgedLast = forge(last);
    expect(verdict(forgedLast, rebuilt(forgedLast))).toEqual(['ledger/sampling-mismatch']);
    // in every round: each later round's participants co-signed the untampered head before it
    const all = copy();
    for (const i of [1, 2, 3]) {
      const r = charged(all, i);
      r.samplingRate /= 10;
      r.dpEvent = entryEvent(r, 0);
    }
    const forged = forge(all);
    expect(verdict(forged, rebuilt(forged))).toEqual(['ledger/sampling-mismatch', 'ledger/binding-not-cosigned']);
  });

  it('samplingRate divided by 10 in the draw as well: ledger/binding-not-cosigned (the draw is co-signed)', () => {
    const l = copy();
    for (const i of [1, 2, 3]) {
      const e = charged(l, i);
      e.samplingRate /= 10;
      e.cohort.draw.samplingRate /= 10;
      e.dpEvent = entryEvent(e, 0);
    }
    const forged = forge(l);
    expect(verdict(forged, rebuilt(forged))).toEqual(expect.arrayContaining(['ledger/binding-not-cosigned', 'ledger/sampling-mismatch']));
  });

  it('noise multiplier doubled in the recorded mechanism (and round config, event, binding): ledger/binding-not-cosigned', () => {
    const l = copy();
    for (const i of [1, 2, 3]) {
      const e = charged(l, i);
      e.mechanism = { ...e.mechanism, noiseMultiplier: e.mechanism.noiseMultiplier * 2 };
      e.roundConfig = { ...e.roundConfig, dp: e.mechanism };
      e.dpEvent = entryEvent(e, 0);
    }
    const forged = forge(l);
    const found = verdict(forged, rebuilt(forged));
    expect(found).toContain('ledger/binding-not-cosigned');
    expect(found).toContain('ledger/mechanism-mismatch');
    expect(found).not.toContain('ledger/binding-mismatch');
    expect(rebuilt(forged).epsilon!).toBeLessThan(rebuilt(ledger).epsilon!);
  });

  it('noise multiplier doubled in the genesis as well: still ledger/binding-not-cosigned', () => {
    const l = copy();
    const g = l[0] as Extract<LedgerEntry, { kind: 'genesis' }>;
    g.config = { ...g.config, dp: { ...(g.config.dp as object), noiseMultiplier: 3 } };
    g.configHash = configHash(g.config);
    g.mechanism = { ...g.mechanism, noiseMultiplier: 3 };
    for (const i of [1, 2, 3]) {
      const e = charged(l, i);
      e.mechanism = { ...e.mechanism, noiseMultiplier: 3 };
      e.roundConfig = { ...e.roundConfig, dp: e.mechanism };
      e.dpEvent = entryEvent(e, 0);
    }
    const forged = forge(l);
    expect(verdict(forged, rebuilt(forged))).toEqual(['ledger/binding-not-cosigned']);
  });

  it('a round deleted and modelHashBefore re-linked: ledger/binding-not-cosigned (the binding covers the previous head)', () => {
    const l = copy();
    const [, first, , third] = l as [LedgerEntry, ChargedEntry & { kind: 'round' }, LedgerEntry, ChargedEntry & { kind: 'round' }];
    third.modelHashBefore = first.modelHashAfter;
    third.modelVersionBefore = first.modelVersionAfter;
    third.modelVersionAfter = first.modelVersionAfter + 1;
    const forged = forge([l[0]!, first, third]);
    expect(verdict(forged, rebuilt(forged))).toEqual(['ledger/binding-not-cosigned']);
    expect(verdict(forged, rebuilt(forged), true)).toEqual(expect.arrayContaining(['receipt/ledger-fork', 'receipt/ledger-truncated']));
  });

  it('semi-honest contributors inflated (a masked-input dropout listed as contributor): ledger/bad-cosignature', () => {
    const l = copy();
    const e = charged(l, 2);
    const index = e.cohort.members.indexOf(dropper);
    e.dropouts['masked-input'] = e.dropouts['masked-input'].filter((k) => k !== dropper);
    e.contributors.push({ publicKey: dropper, maskedInput: { vectorSha256: 'ab'.repeat(32), signature: 'cd'.repeat(64) }, consistencySignature: null });
    e.contributors.sort((a, b) => e.cohort.members.indexOf(a.publicKey) - e.cohort.members.indexOf(b.publicKey));
    e.dpEvent = entryEvent(e, 0);
    const forged = forge(l);
    expect(index).toBeGreaterThanOrEqual(0);
    // round 1's entry names a contributor whose co-signature is forged; round 2's participants
    // co-signed the head before the edit, so its binding is no longer co-signed either
    expect(verdict(forged, rebuilt(forged))).toEqual(['ledger/bad-cosignature', 'ledger/binding-not-cosigned']);
    expect(rebuilt(forged).epsilon!).toBeLessThan(rebuilt(ledger).epsilon!);
  });

  it('a fork (the last entry rewritten and re-signed): receipt/ledger-fork', () => {
    const l = copy();
    charged(l, 3).aggregateHash = 'ef'.repeat(32);
    const forged = forge(l);
    expect(verdict(forged, rebuilt(forged))).toEqual([]);
    expect(verdict(forged, rebuilt(forged), true)).toEqual(['receipt/ledger-fork']);
  });

  it('a ledger re-signed under another coordinator key (its genesis rewritten to name it): receipt/bad-signature', () => {
    const other = identities(1, 'other-coordinator')[0]!;
    const l = copy();
    (l[0] as Extract<LedgerEntry, { kind: 'genesis' }>).coordinatorPublicKey = toHex(other.publicKey);
    const forged = forge(l, other.secretKey);
    // unpinned, the ledger is self-consistent but for its co-signatures; the receipts refuse its key
    const bundle: LedgerBundle = { path: 'x', entries: forged, pinnedKey: null, receipts, problems: [] };
    const codes = [...new Set(verifyReport(rebuilt(forged), { checks: [ledgerReportCheck(bundle)] }).map((d) => d.code))];
    expect(codes).toEqual(['ledger/binding-not-cosigned', 'receipt/bad-signature']);
    // pinned to the real key, its signatures fail as well
    expect(verdict(forged, rebuilt(forged))).toEqual(expect.arrayContaining(['ledger/bad-signature', 'ledger/genesis-mismatch']));
  });
});
