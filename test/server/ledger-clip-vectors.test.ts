import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/secagg/index.js';
import { adaptiveClipRule, nextRoundClipNorm } from '../../src/server/adaptive-clip.js';
import { LedgerEntrySchema, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { genesisFederationConfig } from '../../src/server/ledger-genesis.js';
import { entryBinding, verifyLedger } from '../../src/server/ledger-verify.js';
import { rechain } from './fixtures.js';
import { buildClipLedgerVectors, CLIP_VECTOR_FRACTIONS } from './ledger-clip-vectors.js';

interface Vector {
  coordinatorSecretKey: string;
  coordinatorPublicKey: string;
  participants: { publicKey: string }[];
  entries: Record<string, unknown>[];
  binding: { round: number; canonicalInput: string; binding: string };
  nextClipNorm: number;
}

const v = JSON.parse(readFileSync('spec/vectors/ledger-adaptive-clip.json', 'utf8')) as Vector;
const entries = v.entries.map((e) => LedgerEntrySchema.parse(e));
type Round = Extract<LedgerEntry, { kind: 'round' }>;

describe('spec/vectors/ledger-adaptive-clip.json', () => {
  it('is what the builder makes from the vector keys (regenerate: npx tsx test/server/ledger-clip-vectors.ts --write)', () => {
    expect(JSON.parse(JSON.stringify(buildClipLedgerVectors()))).toEqual(v);
  });

  it('records the clip norms of spec/ledger.md §2.7, computed here from the formula, and the binding covers them', () => {
    const [r0, r1] = entries.slice(1) as [Round, Round];
    expect(r0.clipping).toEqual({ clipNorm: 0.5, fraction: CLIP_VECTOR_FRACTIONS[0] });
    expect(r1.clipping!.clipNorm).toBeCloseTo(0.5 * Math.exp(-0.2 * (0.75 - 0.5)), 14);
    expect(r1.dim).toBe(5);
    const rule = adaptiveClipRule(genesisFederationConfig(entries[0] as Extract<LedgerEntry, { kind: 'genesis' }>))!;
    expect(nextRoundClipNorm(rule, entries)).toBeCloseTo(v.nextClipNorm, 14);
    expect(JSON.parse(v.binding.canonicalInput).clipNorm).toBe(r1.clipping!.clipNorm);
    expect(toHex(sha256(utf8(v.binding.canonicalInput)))).toBe(v.binding.binding);
    expect(toHex(entryBinding(r1, entries[0]!.hash))).toBe(r1.binding);
  });

  it('verifies, and a clip norm off the rule does not', () => {
    const allowed = v.participants.map((p) => p.publicKey);
    expect(verifyLedger(v.entries, v.coordinatorPublicKey, allowed)).toEqual([]);
    const off = structuredClone(entries);
    (off[2] as Round).clipping!.clipNorm = 0.5;
    // re-signed by the coordinator: the chain and its signatures hold, the rule and the co-signatures do not
    expect(verifyLedger(rechain(off, fromHex(v.coordinatorSecretKey)), v.coordinatorPublicKey, allowed).map((d) => d.code)).toEqual(['ledger/clip-mismatch', 'ledger/binding-mismatch', 'ledger/binding-not-cosigned']);
  });
});
