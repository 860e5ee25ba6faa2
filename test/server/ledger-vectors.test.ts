import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, nobleProvider, nodeProvider, toHex } from '../../src/secagg/index.js';
import { canonicalJson } from '../../src/server/canonical-json.js';
import { LedgerEntrySchema, ledgerEntryHash, ledgerSignatureMessage, signLedgerEntry, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { genesisProblems } from '../../src/server/ledger-genesis.js';
import { LedgerHeadSchema, ledgerHeadMessage, verifyLedgerHead } from '../../src/server/ledger-head.js';
import { entryBinding, verifyLedger } from '../../src/server/ledger-verify.js';
import { requestSigningBytes } from '../../src/server/request-auth.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../../src/secagg/util/bytes.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import { buildLedgerVectors, buildStatisticsVectors } from './ledger-vectors.js';

interface Vector {
  coordinatorSecretKey: string;
  coordinatorPublicKey: string;
  participants: { secretKey: string; publicKey: string }[];
  entries: Record<string, unknown>[];
  genesisCanonicalBody: string;
  genesisHash: string;
  binding: { round: number; canonicalInput: string; binding: string };
  head: { value: unknown; signedBytes: string };
  requestSignature: { binding: Parameters<typeof requestSigningBytes>[0]; signedBytes: string; signature: string };
  amendment: Record<string, unknown>;
  noiseProbe: { entries: Record<string, unknown>[]; noiseAudit: unknown };
}

const v = JSON.parse(readFileSync('spec/vectors/ledger-v2.json', 'utf8')) as Vector;
const allowed = v.participants.map((p) => p.publicKey);
const entries = v.entries.map((e) => LedgerEntrySchema.parse(e));

describe('spec/vectors/ledger-v2.json', () => {
  it('is what the builder makes from the vector keys (regenerate: npx tsx test/server/ledger-vectors.ts --write)', () => {
    expect(JSON.parse(JSON.stringify(buildLedgerVectors()))).toEqual(v);
  });

  it('pins the canonical encoding and the genesis hash; the genesis agrees with its config', () => {
    const { hash: _h, signature: _s, ...body } = v.entries[0]!;
    expect(canonicalJson(body)).toBe(v.genesisCanonicalBody);
    expect(ledgerEntryHash(entries[0]!)).toBe(v.genesisHash);
    expect(entries[0]!.kind).toBe('genesis');
    expect(genesisProblems(entries[0] as Extract<LedgerEntry, { kind: 'genesis' }>)).toEqual([]);
  });

  it('re-signing each entry with the vector key reproduces it byte for byte, on both providers', () => {
    for (const provider of [nodeProvider, nobleProvider]) {
      expect(toHex(provider.ed25519PublicKey(fromHex(v.coordinatorSecretKey)))).toBe(v.coordinatorPublicKey);
      for (const e of entries) {
        const { hash: _h, signature: _s, ...body } = e;
        expect(signLedgerEntry(body, provider, fromHex(v.coordinatorSecretKey))).toEqual(e);
        expect(provider.ed25519Verify(fromHex(v.coordinatorPublicKey), ledgerSignatureMessage(e.hash), fromHex(e.signature))).toBe(true);
      }
    }
  });

  it('pins the round binding: SHA-256 of the canonical JSON of its inputs', () => {
    const round = entries.find((e) => e.kind === 'round' && e.round === v.binding.round) as Extract<LedgerEntry, { kind: 'round' }>;
    expect(toHex(sha256(utf8(v.binding.canonicalInput)))).toBe(v.binding.binding);
    expect(toHex(entryBinding(round, v.genesisHash))).toBe(v.binding.binding);
    expect(round.binding).toBe(v.binding.binding);
  });

  it('the vector ledger verifies (genesis, chain, signatures, co-signatures) and a tampered copy does not', () => {
    expect(verifyLedger(v.entries, v.coordinatorPublicKey, allowed)).toEqual([]);
    const tampered = structuredClone(v.entries);
    (tampered[1]!.contributors as { maskedInput: { signature: string } }[])[0]!.maskedInput.signature = '00'.repeat(64);
    expect(verifyLedger(tampered, v.coordinatorPublicKey, allowed).map((d) => d.code)).toEqual(['ledger/bad-hash', 'ledger/binding-not-cosigned']);
  });

  it('pins the signed ledger head (a receipt)', () => {
    const head = LedgerHeadSchema.parse(v.head.value);
    expect(toHex(ledgerHeadMessage(head))).toBe(v.head.signedBytes);
    expect(head.hash).toBe(entries[head.seq]!.hash);
    for (const provider of [nodeProvider, nobleProvider]) expect(verifyLedgerHead(head, v.coordinatorPublicKey, provider)).toBe(true);
    expect(verifyLedgerHead({ ...head, seq: head.seq + 1 }, v.coordinatorPublicKey, nodeProvider)).toBe(false);
  });

  it('pins the request-signature bytes', () => {
    const bytes = requestSigningBytes(v.requestSignature.binding);
    expect(new TextDecoder().decode(bytes)).toBe(v.requestSignature.signedBytes);
    expect(toHex(nodeProvider.ed25519Sign(fromHex(v.participants[0]!.secretKey), bytes))).toBe(v.requestSignature.signature);
  });

  it('pins an amendment entry: it extends the vector ledger, which still verifies; changing its facts or its mechanism is caught', () => {
    const amendment = LedgerEntrySchema.parse(v.amendment);
    expect(amendment.kind).toBe('amendment');
    const { hash: _h, signature: _s, ...body } = amendment;
    expect(signLedgerEntry(body, nobleProvider, fromHex(v.coordinatorSecretKey))).toEqual(amendment);
    expect(verifyLedger([...v.entries, v.amendment], v.coordinatorPublicKey, allowed)).toEqual([]);
    const resigned = (change: (b: Record<string, unknown>) => void): Record<string, unknown> => {
      const b = structuredClone(body) as Record<string, unknown>;
      change(b);
      return signLedgerEntry(b as typeof body, nodeProvider, fromHex(v.coordinatorSecretKey)) as unknown as Record<string, unknown>;
    };
    const codes = (e: Record<string, unknown>) => verifyLedger([...v.entries, e], v.coordinatorPublicKey, allowed).map((d) => d.code);
    expect(codes(resigned((b) => (b['configHash'] = '00'.repeat(32))))).toContain('ledger/amendment-mismatch');
    expect(codes(resigned((b) => (b['releasedRounds'] = 1)))).toContain('ledger/amendment-mismatch');
    expect(codes(resigned((b) => ((b['mechanism'] as { noiseMultiplier: number }).noiseMultiplier = 0.5)))).toContain('ledger/amendment-mechanism');
  });

  it('pins a noise-probe round: it verifies, its report recomputes the audit, and a re-signed entry with another count is ledger/noise-probe-mismatch', () => {
    const probe = v.noiseProbe.entries.map((e) => LedgerEntrySchema.parse(e));
    const round = probe[1]!;
    expect(round.kind === 'round' && round.noiseProbe).toEqual([0.5, -0.625, 0.375, -0.4375]);
    expect(round.kind === 'round' && round.dim).toBe(4 + 4);
    expect(verifyLedger(v.noiseProbe.entries, v.coordinatorPublicKey, allowed)).toEqual([]);
    expect(buildPrivacyReport(probe).noiseAudit).toEqual(v.noiseProbe.noiseAudit);
    const { hash: _h, signature: _s, ...body } = round;
    const shorter = signLedgerEntry({ ...body, noiseProbe: [0.5, -0.625, 0.375] } as typeof body, nodeProvider, fromHex(v.coordinatorSecretKey));
    expect(verifyLedger([v.noiseProbe.entries[0], shorter], v.coordinatorPublicKey, allowed).map((d) => d.code)).toEqual(['ledger/noise-probe-mismatch']);
  });
});

describe('spec/vectors/ledger-statistics-v2.json', () => {
  const s = JSON.parse(readFileSync('spec/vectors/ledger-statistics-v2.json', 'utf8')) as {
    coordinatorPublicKey: string;
    participants: string[];
    entries: Record<string, unknown>[];
    released: { mean: number[]; meanSquare: number[] };
    standardize: { mean: number[]; std: number[] };
  };

  it('is what the builder makes from the vector keys, and verifies: its statistics entry records the standardisation its released moments give', () => {
    expect(JSON.parse(JSON.stringify(buildStatisticsVectors()))).toEqual(s);
    expect(s.entries.map((e) => e['kind'])).toEqual(['genesis', 'statistics', 'round']);
    expect(verifyLedger(s.entries, s.coordinatorPublicKey, s.participants)).toEqual([]);
    // spec/ledger.md §2.6 by hand: mean = lo + (hi − lo)·m̂, std = (hi − lo)·√(ŝ − m̂²)
    expect(s.standardize.mean[0]).toBeCloseTo(-10 + 50 * 0.4871, 12);
    expect(s.standardize.std[1]).toBeCloseTo(15 * Math.sqrt(0.0913 - 0.2634 ** 2), 12);
  });

  it('a statistics entry whose standardisation is not its released moments’, re-signed, is refused', () => {
    const [genesis, statistics] = s.entries.map((e) => LedgerEntrySchema.parse(e));
    const body = structuredClone(statistics) as Extract<LedgerEntry, { kind: 'statistics' }>;
    body.statistics.standardize.std[0] = 1;
    const { hash: _h, signature: _s, ...unsigned } = body;
    const resigned = signLedgerEntry(unsigned, nodeProvider, fromHex(v.coordinatorSecretKey));
    expect(verifyLedger([genesis, resigned], s.coordinatorPublicKey, s.participants).map((d) => d.code)).toEqual(['ledger/statistics-mismatch']);
  });
});
