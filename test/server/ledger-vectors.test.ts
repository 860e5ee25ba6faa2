import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, nobleProvider, nodeProvider, toHex } from '../../src/secagg/index.js';
import { canonicalJson } from '../../src/server/canonical-json.js';
import { LedgerEntrySchema, ledgerEntryHash, ledgerSignatureMessage, signLedgerEntry } from '../../src/server/ledger-entry.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { requestSigningBytes } from '../../src/server/request-auth.js';

interface Vector {
  coordinatorSecretKey: string;
  coordinatorPublicKey: string;
  participants: { secretKey: string; publicKey: string }[];
  entries: Record<string, unknown>[];
  entry0CanonicalBody: string;
  entry0Hash: string;
  requestSignature: { binding: Parameters<typeof requestSigningBytes>[0]; signedBytes: string; signature: string };
}

const v = JSON.parse(readFileSync('spec/vectors/ledger-v1.json', 'utf8')) as Vector;
const allowed = v.participants.map((p) => p.publicKey);

describe('spec/vectors/ledger-v1.json', () => {
  it('pins the canonical encoding and the entry hash', () => {
    const { hash: _h, signature: _s, ...body } = v.entries[0]!;
    expect(canonicalJson(body)).toBe(v.entry0CanonicalBody);
    expect(ledgerEntryHash(LedgerEntrySchema.parse(v.entries[0]))).toBe(v.entry0Hash);
    expect(v.entries[0]!.hash).toBe(v.entry0Hash);
  });

  it('re-signing each entry with the vector key reproduces it byte for byte, on both providers', () => {
    for (const provider of [nodeProvider, nobleProvider]) {
      expect(toHex(provider.ed25519PublicKey(fromHex(v.coordinatorSecretKey)))).toBe(v.coordinatorPublicKey);
      for (const raw of v.entries) {
        const e = LedgerEntrySchema.parse(raw);
        const { hash: _h, signature: _s, ...body } = e;
        expect(signLedgerEntry(body, provider, fromHex(v.coordinatorSecretKey))).toEqual(e);
        expect(provider.ed25519Verify(fromHex(v.coordinatorPublicKey), ledgerSignatureMessage(e.hash), fromHex(e.signature))).toBe(true);
      }
    }
  });

  it('the vector ledger verifies (chain, signatures, consistency signatures) and a tampered copy does not', () => {
    expect(verifyLedger(v.entries, v.coordinatorPublicKey, allowed)).toEqual([]);
    const tampered = structuredClone(v.entries);
    (tampered[1]!.contributors as { consistencySignature: string }[])[0]!.consistencySignature = '00'.repeat(64);
    expect(verifyLedger(tampered, v.coordinatorPublicKey, allowed).map((d) => d.code)).toEqual(['ledger/bad-hash', 'ledger/bad-consistency-signature']);
  });

  it('pins the request-signature bytes', () => {
    const bytes = requestSigningBytes(v.requestSignature.binding);
    expect(new TextDecoder().decode(bytes)).toBe(v.requestSignature.signedBytes);
    expect(toHex(nodeProvider.ed25519Sign(fromHex(v.participants[0]!.secretKey), bytes))).toBe(v.requestSignature.signature);
  });
});
