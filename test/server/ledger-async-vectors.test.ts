import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { fromHex, nodeProvider, toHex, utf8 } from '../../src/secagg/index.js';
import { LedgerEntrySchema, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { buildAsyncLedgerVectors } from './ledger-async-vectors.js';
import { rechain } from './fixtures.js';

const v = JSON.parse(readFileSync('spec/vectors/ledger-v2-async.json', 'utf8')) as ReturnType<typeof buildAsyncLedgerVectors>;
const entries = v.entries.map((e) => LedgerEntrySchema.parse(e));

describe('spec/vectors/ledger-v2-async.json', () => {
  it('is what the builder makes (regenerate: npx tsx test/server/ledger-async-vectors.ts --write) and pins the group binding', () => {
    expect(JSON.parse(JSON.stringify(buildAsyncLedgerVectors()))).toEqual(v);
    expect(toHex(sha256(utf8(v.binding.canonicalInput)))).toBe(v.binding.binding);
    const last = entries.at(-1) as Extract<LedgerEntry, { kind: 'round' }>;
    expect(last.cohort.draw.group).toEqual({ modelVersion: 2, trainedOn: [2, 1, 0], weights: [1, Math.pow(2, -0.5), Math.pow(3, -0.5)] });
  });

  it('verifies; a re-signed copy with another weight, or a member staler than the bound, is refused with its code', () => {
    expect(verifyLedger(entries, v.coordinatorPublicKey, v.participants)).toEqual([]);
    const key = fromHex('42'.repeat(32));
    expect(nodeProvider.ed25519PublicKey(key)).toEqual(fromHex(v.coordinatorPublicKey));
    const codes = (edit: (g: { trainedOn: number[]; weights: number[] }) => void): string[] => {
      const copy = structuredClone(entries);
      edit((copy.at(-1) as Extract<LedgerEntry, { kind: 'round' }>).cohort.draw.group!);
      return verifyLedger(rechain(copy, key), v.coordinatorPublicKey, v.participants).map((d) => d.code);
    };
    expect(codes((g) => (g.weights[1] = 1))).toEqual(expect.arrayContaining(['ledger/staleness-weight-mismatch', 'ledger/binding-mismatch']));
    expect(codes((g) => (g.trainedOn[2] = 3))).toContain('ledger/stale-member');
  });
});
