import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consistencySignedBytes } from '../../src/protocol/canonical.js';
import { nodeProvider } from '../../src/secagg/providers/index.js';
import { toHex } from '../../src/secagg/util/bytes.js';
import { canonicalJson } from '../../src/server/canonical-json.js';
import { ledgerEntryHash, signLedgerEntry, ZERO_HASH, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { configHash, privacyConfig } from '../../src/server/ledger-genesis.js';
import { entryBinding, verifyLedger } from '../../src/server/ledger-verify.js';
import { coordinator, fixtureLedger, identities, rechain } from './fixtures.js';

const people = identities(4);
const allowed = people.map((p) => toHex(p.publicKey));
const coordPub = toHex(coordinator.publicKey);
const { entries: base } = fixtureLedger(people, 4);
const chain = (): LedgerEntry[] => structuredClone(base);

const codes = (entries: unknown[], key: string | null = coordPub) => verifyLedger(entries, key, allowed).map((d) => d.code);
type Mutable = Record<string, unknown> & { contributors: { consistencySignature: string | null; maskedInput: { signature: string } }[] };

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

describe('privacy ledger v2', () => {
  it('a genesis and co-signed rounds verify with no discrepancy, in both modes and through JSON', () => {
    const entries = chain();
    expect(entries[0]!.kind).toBe('genesis');
    expect(entries[0]!.prevHash).toBe(ZERO_HASH);
    expect(entries[2]!.prevHash).toBe(entries[1]!.hash);
    expect(verifyLedger(entries, coordPub, allowed)).toEqual([]);
    expect(verifyLedger(JSON.parse(JSON.stringify(entries)) as unknown[], coordPub, allowed)).toEqual([]);
    expect(verifyLedger(fixtureLedger(people, 2, { mode: 'malicious' }).entries, coordPub, allowed)).toEqual([]);
    // without a pinned key the genesis's own key is used: self-consistent
    expect(verifyLedger(entries, null, null)).toEqual([]);
  });

  it('refuses a ledger without a genesis, and a second genesis', () => {
    const e = chain();
    expect(codes([])).toEqual(['ledger/missing-genesis']);
    expect(codes(rechain(e.slice(1)))).toContain('ledger/missing-genesis');
    expect(codes(rechain([e[0]!, e[1]!, e[0]!]))).toContain('ledger/extra-genesis');
  });

  it('detects edited content (bad hash) and a re-hashed edit (bad signature)', () => {
    const entries = chain();
    const edited = { ...entries[2]!, aggregateHash: 'ef'.repeat(32) } as LedgerEntry;
    expect(codes([entries[0], entries[1], edited, entries[3]])).toEqual(['ledger/bad-hash']);
    const rehashed = { ...edited, hash: ledgerEntryHash(edited) };
    expect(codes([entries[0], entries[1], rehashed, entries[3]])).toEqual(['ledger/bad-signature', 'ledger/broken-chain']);
  });

  it('detects a missing entry and a reordered pair', () => {
    const e = chain();
    expect(codes([e[0], e[1], e[3], e[4]])).toEqual(expect.arrayContaining(['ledger/missing-entry', 'ledger/broken-chain', 'ledger/model-chain']));
    expect(codes([e[0], e[2], e[1], e[3]])).toContain('ledger/reordered-entry');
  });

  it('detects a signature by a different coordinator key, and participants outside the genesis', () => {
    const e = chain();
    const other = identities(1, 'other-coordinator')[0]!;
    expect(codes(e, toHex(other.publicKey))).toEqual(expect.arrayContaining(['ledger/bad-signature', 'ledger/genesis-mismatch']));
    expect(codes(rechain(e, other.secretKey))).toEqual(expect.arrayContaining(['ledger/bad-signature']));
    expect(verifyLedger(e, coordPub, allowed.slice(0, 3)).map((d) => d.code)).toEqual(['ledger/genesis-mismatch']);
  });

  it('checks consistency signatures of malicious-mode rounds over the recomputed binding', () => {
    const { entries } = fixtureLedger(people, 1, { mode: 'malicious' });
    const round = entries[1] as Extract<LedgerEntry, { kind: 'round' }>;
    const binding = entryBinding(round, entries[0]!.hash);
    const header = { version: round.protocolVersion, federationId: round.federationId, round: round.round };
    const signer = people.find((p) => toHex(p.publicKey) === round.contributors[2]!.publicKey)!;
    // contributor 2 signs a different U3 than the one recorded
    const tampered = structuredClone(round) as unknown as Mutable;
    tampered.contributors[2]!.consistencySignature = toHex(nodeProvider.ed25519Sign(signer.secretKey, consistencySignedBytes(header, 2, [0, 1], binding)));
    expect(codes(rechain([entries[0]!, tampered as unknown as LedgerEntry]))).toEqual(['ledger/bad-consistency-signature']);
    const unsigned = structuredClone(round) as unknown as Mutable;
    unsigned.contributors[1]!.consistencySignature = null;
    expect(codes(rechain([entries[0]!, unsigned as unknown as LedgerEntry]))).toEqual(['ledger/missing-consistency-signature']);
  });

  it('a genesis that disagrees with its own config is refused, and rewriting it breaks every co-signature', () => {
    const e = chain();
    const g = structuredClone(e[0]!) as Extract<LedgerEntry, { kind: 'genesis' }>;
    const loose = rechain([{ ...g, delta: 1e-3 }, ...e.slice(1)]);
    const found = codes(loose);
    expect(found).toContain('ledger/genesis-mismatch');
    expect(found).toContain('ledger/binding-not-cosigned');
    // a genesis rewritten consistently (config, hash, δ) still changes its hash: no round was co-signed under it
    const config = { ...g.config, dp: { ...(g.config.dp as object), delta: 1e-3 } };
    const consistent = rechain([{ ...g, config, configHash: configHash(config), delta: 1e-3 }, ...e.slice(1)]);
    const codes2 = codes(consistent);
    expect(codes2).not.toContain('ledger/genesis-mismatch');
    expect(codes2.filter((c) => c === 'ledger/binding-not-cosigned')).toHaveLength(4);
  });

  it('the genesis binds the privacy config only: operational fields stay out', () => {
    const g = chain()[0] as Extract<LedgerEntry, { kind: 'genesis' }>;
    for (const k of ['storage', 'identity', 'listen', 'longPollMs', 'deadlines', 'maxBodyBytes']) expect(k in g.config).toBe(false);
    for (const k of ['federationId', 'participants', 'rounds', 'cohort', 'threshold', 'mode', 'colluders', 'dp', 'dim', 'seed']) expect(k in g.config).toBe(true);
    expect(g.configHash).toBe(configHash(privacyConfig({ ...g.config, storage: { path: 'elsewhere.db' }, longPollMs: 9 } as never)));
  });

  it('charges a round aborted after unmask: it verifies, and the model chain passes through it', () => {
    const e = chain();
    const last = e.at(-1) as Extract<LedgerEntry, { kind: 'round' }>;
    const { modelVersionBefore, modelVersionAfter: _a, modelHashBefore, modelHashAfter: _h, aggregateHash: _g, kind: _k, hash: _x, signature: _y, ...rest } = last;
    const aborted = signLedgerEntry(
      { ...rest, kind: 'aborted-after-unmask', abort: { code: 'protocol/unrecoverable-secret', reason: 'r' }, unmaskResponders: [last.contributors[0]!.publicKey], modelVersion: modelVersionBefore, modelHash: modelHashBefore },
      nodeProvider,
      coordinator.secretKey,
    );
    expect(codes([...e.slice(0, -1), aborted])).toEqual([]);
    const wrongModel = signLedgerEntry({ ...aborted, hash: undefined, signature: undefined, modelHash: 'ee'.repeat(32) } as never, nodeProvider, coordinator.secretKey);
    expect(codes([...e.slice(0, -1), wrongModel])).toEqual(['ledger/model-chain']);
  });

  it('reports a malformed line and keeps checking the rest', () => {
    const e = chain();
    const found = codes([e[0], e[1], { nonsense: true }, e[3]]);
    expect(found[0]).toBe('ledger/malformed-entry');
    expect(found.slice(1)).toEqual(expect.arrayContaining(['ledger/broken-chain', 'ledger/model-chain']));
  });

  it('flags any single-field corruption of any round entry, even re-signed (property)', () => {
    const e = chain();
    const fields = ['round', 'threshold', 'dim', 'samplingRate', 'mode', 'binding', 'mechanism', 'roundConfig', 'contributors'] as const;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.constantFrom(...fields), fc.boolean(), (i, field, resign) => {
        const copy = structuredClone(e) as unknown as Record<string, unknown>[];
        const t = copy[i]!;
        if (field === 'mode') t.mode = 'malicious';
        else if (field === 'binding') t.binding = 'ab'.repeat(32);
        else if (field === 'mechanism') t.mechanism = { ...(t.mechanism as object), noiseMultiplier: 2 };
        else if (field === 'roundConfig') t.roundConfig = { ...(t.roundConfig as object), roundSeed: 'cd'.repeat(32) };
        else if (field === 'contributors') (t.contributors as unknown[]).pop();
        else if (field === 'samplingRate') t.samplingRate = 0.5;
        else t[field] = (t[field] as number) + 1;
        const tampered = resign ? rechain(copy as unknown as LedgerEntry[]) : copy;
        expect(verifyLedger(tampered, coordPub, allowed).length).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });
});
