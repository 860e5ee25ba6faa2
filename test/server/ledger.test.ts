import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeProvider } from '../../src/secagg/providers/index.js';
import { toHex } from '../../src/secagg/util/bytes.js';
import { consistencySignedBytes } from '../../src/protocol/canonical.js';
import { canonicalJson } from '../../src/server/canonical-json.js';
import { chainLedgerEntry, GENESIS_HASH, ledgerEntryHash, signLedgerEntry, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { coordinator, identities, sampleRecord } from './fixtures.js';

const people = identities(4);
const allowed = people.map((p) => toHex(p.publicKey));
const coordPub = toHex(coordinator.publicKey);

function chain(n: number): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  let model = '11'.repeat(32);
  for (let i = 0; i < n; i++) {
    const after = (i + 2).toString(16).padStart(2, '0').repeat(32);
    out.push(chainLedgerEntry(out.at(-1) ?? null, sampleRecord(i * 2, people, model, after, i), nodeProvider, coordinator.secretKey));
    model = after;
  }
  return out;
}

const codes = (entries: unknown[]) => verifyLedger(entries, coordPub, allowed).map((d) => d.code);

describe('canonical JSON', () => {
  it('sorts keys at every depth and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }], é: true })).toBe('{"a":[{"c":null,"d":"x"}],"b":1,"é":true}');
  });

  it('refuses values without a faithful JSON form', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(expect.objectContaining({ code: 'canonical-json/non-finite' }));
    expect(() => canonicalJson({ a: undefined })).toThrow(expect.objectContaining({ code: 'canonical-json/undefined' }));
    expect(() => canonicalJson({ a: new Date(0) })).toThrow(expect.objectContaining({ code: 'canonical-json/not-plain' }));
    expect(() => canonicalJson({ a: 1n })).toThrow(expect.objectContaining({ code: 'canonical-json/unsupported' }));
  });

  it('is a function of the value, not of key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(JSON.parse(canonicalJson(obj))).toEqual(JSON.parse(JSON.stringify(obj)));
      }),
    );
  });
});

describe('privacy ledger', () => {
  it('a well-formed chain verifies with no discrepancy', () => {
    const entries = chain(4);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(entries[2]!.prevHash).toBe(entries[1]!.hash);
    expect(verifyLedger(entries, coordPub, allowed)).toEqual([]);
    // Through a JSON round trip, as an auditor reads ledger.jsonl.
    expect(verifyLedger(JSON.parse(JSON.stringify(entries)) as unknown[], coordPub, allowed)).toEqual([]);
  });

  it('detects edited content (bad hash) and a re-hashed edit (bad signature)', () => {
    const entries = chain(3);
    const edited = { ...entries[1]!, threshold: 1 };
    // The signature covers the recorded hash, which no longer matches the content.
    expect(codes([entries[0], edited, entries[2]])).toEqual(['ledger/bad-hash']);
    const rehashed = { ...edited, hash: ledgerEntryHash(edited) };
    expect(codes([entries[0], rehashed, entries[2]])).toEqual(['ledger/bad-signature', 'ledger/broken-chain']);
  });

  it('detects a missing entry, a reordered pair and a truncated-from-the-front ledger', () => {
    const e = chain(4);
    expect(codes([e[0], e[1], e[3]])).toEqual(['ledger/missing-entry', 'ledger/broken-chain', 'ledger/model-chain', 'ledger/model-chain']);
    expect(codes([e[0], e[2], e[1], e[3]])).toContain('ledger/reordered-entry');
    expect(codes([e[1], e[2]])).toEqual(expect.arrayContaining(['ledger/missing-entry', 'ledger/broken-chain']));
  });

  it('detects a signature by a different coordinator key and unknown participants', () => {
    const e = chain(2);
    const other = identities(1, 'other-coordinator')[0]!;
    const forged = signLedgerEntry({ ...e[1]!, hash: undefined, signature: undefined } as never, nodeProvider, other.secretKey);
    expect(codes([e[0], forged])).toEqual(['ledger/bad-signature']);
    const few = verifyLedger(e, coordPub, allowed.slice(0, 3)).map((d) => d.code);
    expect(few).toEqual(['ledger/unknown-participant', 'ledger/unknown-participant']);
  });

  it('checks consistency signatures of malicious-mode rounds against the protocol encoding', () => {
    const record = sampleRecord(0, people, '11'.repeat(32), '22'.repeat(32), 0);
    const u3 = [0, 1, 2];
    const header = { version: 2, federationId: record.federationId, round: 0 };
    const contributors = people.slice(0, 3).map((p, i) => ({
      publicKey: toHex(p.publicKey),
      // participant 2 signs a different U3 than the one recorded
      consistencySignature: toHex(nodeProvider.ed25519Sign(p.secretKey, consistencySignedBytes(header, i, i === 2 ? [0, 1] : u3, new Uint8Array(0)))),
    }));
    const entry = chainLedgerEntry(null, { ...record, mode: 'malicious', contributors }, nodeProvider, coordinator.secretKey);
    const found = verifyLedger([entry], coordPub, allowed);
    expect(found.map((d) => d.code)).toEqual(['ledger/bad-consistency-signature']);
    expect(found[0]!.message).toContain(toHex(people[2]!.publicKey));
    const unsigned = chainLedgerEntry(
      null,
      { ...record, mode: 'malicious', contributors: contributors.map((c, i) => (i === 1 ? { ...c, consistencySignature: null } : c)) },
      nodeProvider,
      coordinator.secretKey,
    );
    expect(verifyLedger([unsigned], coordPub, allowed).map((d) => d.code)).toEqual([
      'ledger/missing-consistency-signature',
      'ledger/bad-consistency-signature',
    ]);
  });

  it('reports a malformed line and keeps checking the rest', () => {
    const e = chain(3);
    const found = codes([e[0], { nonsense: true }, e[2]]);
    expect(found[0]).toBe('ledger/malformed-entry');
    // The next readable entry is checked against the last readable one: its link is broken.
    expect(found.slice(1)).toEqual(['ledger/broken-chain', 'ledger/model-chain', 'ledger/model-chain']);
  });

  it('flags any single-field corruption of any entry (property)', () => {
    const e = chain(3);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.constantFrom('round', 'threshold', 'dim', 'timestamp', 'aggregateHash'), (i, field) => {
        const copy = e.map((x) => structuredClone(x)) as Record<string, unknown>[];
        const target = copy[i]!;
        target[field] = field === 'timestamp' ? '2030-01-01T00:00:00.000Z' : field === 'aggregateHash' ? 'ef'.repeat(32) : (target[field] as number) + 1;
        expect(verifyLedger(copy, coordPub, allowed).length).toBeGreaterThan(0);
      }),
    );
  });
});
