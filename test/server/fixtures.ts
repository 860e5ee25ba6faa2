import { nodeProvider } from '../../src/secagg/providers/index.js';
import type { KeyPair } from '../../src/secagg/keys.js';
import { toHex } from '../../src/secagg/util/bytes.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import type { LedgerRecord } from '../../src/server/ledger-entry.js';

/** `n` deterministic Ed25519 identities. */
export function identities(n: number, label = 'participant'): KeyPair[] {
  const rng = seededRandom(`fedveil-test/${label}`);
  return Array.from({ length: n }, () => nodeProvider.ed25519Keygen(rng));
}

/** A deterministic coordinator key. */
export const coordinator = nodeProvider.ed25519Keygen(seededRandom('fedveil-test/coordinator'));

/** A plausible semi-honest ledger record for round `round` over `members`. */
export function sampleRecord(round: number, members: KeyPair[], modelBefore: string, modelAfter: string, version: number): LedgerRecord {
  const keys = members.map((m) => toHex(m.publicKey));
  return {
    federationId: 'fed-test',
    round,
    protocolVersion: 2,
    samplingRate: 1,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, round)).toISOString(),
    mode: 'semi-honest',
    threshold: 2,
    dim: 4,
    cohort: {
      draw: { method: 'fixed-size', samplingRate: 1, seedCommitment: 'ab'.repeat(32), population: keys.length },
      members: keys,
    },
    contributors: keys.slice(0, keys.length - 1).map((publicKey) => ({ publicKey, consistencySignature: null })),
    dropouts: {
      'advertise-keys': [],
      'share-keys': [],
      'masked-input': keys.slice(keys.length - 1),
      'consistency-check': [],
      unmask: [],
    },
    mechanism: { mechanism: 'skellam', clipNorm: 1, bits: 16, scale: 0.01, rotation: false, noiseMultiplier: 1, minContributors: 2 },
    dpEvent: { kind: 'gaussian', noiseMultiplier: 1 },
    modelVersionBefore: version,
    modelVersionAfter: version + 1,
    modelHashBefore: modelBefore,
    modelHashAfter: modelAfter,
    aggregateHash: 'cd'.repeat(32),
  };
}
