/**
 * Builds spec/vectors/ledger-adaptive-clip.json: the ledger of a three-member federation with
 * adaptive clipping (spec/ledger.md §2.7): a genesis whose config has `clipping.adaptive`, then two
 * released rounds co-signed over bindings that include their clip norm, the first at C_0 with
 * fraction 0.75, the second at the clip norm the rule gives from it. Regenerate with
 * `npx tsx test/server/ledger-clip-vectors.ts --write`; ledger-clip-vectors.test.ts checks the file
 * against this builder and verifies it from the spec's rules.
 */
import { fromHex, nodeProvider, toHex, type KeyPair } from '../../src/secagg/index.js';
import { canonicalJson } from '../../src/server/canonical-json.js';
import type { ChargedEntry } from '../../src/server/ledger-entry.js';
import { ROUND_BINDING_DOMAIN } from '../../src/server/round-binding.js';
import { fixtureConfig, fixtureLedger } from './fixtures.js';

/** Fixed keys of the vector (32-byte Ed25519 seeds). Test keys: never use them for anything else. */
const COORDINATOR_SEED = '43'.repeat(32);
const PARTICIPANT_SEEDS = ['11', '12', '13'].map((b) => b.repeat(32));
/** The fractions the two rounds release. */
export const CLIP_VECTOR_FRACTIONS = [0.75, 0.25] as const;

const keyPair = (seed: string): KeyPair => ({ secretKey: fromHex(seed), publicKey: nodeProvider.ed25519PublicKey(fromHex(seed)) });

export function buildClipLedgerVectors() {
  const coordinator = keyPair(COORDINATOR_SEED);
  const people = PARTICIPANT_SEEDS.map(keyPair);
  const config = fixtureConfig(people, {
    federationId: 'vector-adaptive-clip',
    rounds: 2,
    seed: 'vector-seed',
    clipping: { adaptive: { targetQuantile: 0.5, learningRate: 0.2, initial: 0.5, min: 0.01, max: 10, normShare: 0.2 } },
  });
  const { entries } = fixtureLedger(people, 2, { config, coordinator, fractions: CLIP_VECTOR_FRACTIONS });
  const round1 = entries[2] as ChargedEntry;
  const bindingInput = {
    domain: ROUND_BINDING_DOMAIN,
    roundConfig: round1.roundConfig,
    draw: round1.cohort.draw,
    genesisHash: entries[0]!.hash,
    ledgerHead: { seq: round1.seq - 1, hash: round1.prevHash },
    clipNorm: round1.clipping!.clipNorm,
  };
  return {
    description:
      'fedveil privacy ledger v2 with adaptive clipping (spec/ledger.md §2.7): a genesis whose config has clipping.adaptive (γ 0.5, η 0.2, C_0 0.5, bounds [0.01, 10], β 0.2; dim 4 + 1 for the bit), two released rounds: round 0 at C_0 = 0.5 releasing fraction 0.75, round 2 at C = 0.5·exp(−0.2·(0.75 − 0.5)) releasing 0.25. The binding of round 2 is spelled out: its canonical input carries clipNorm. Secret keys are 32-byte Ed25519 seeds; never reuse them.',
    coordinatorSecretKey: COORDINATOR_SEED,
    coordinatorPublicKey: toHex(coordinator.publicKey),
    participants: people.map((p) => ({ secretKey: toHex(p.secretKey), publicKey: toHex(p.publicKey) })),
    entries,
    binding: { round: round1.round, canonicalInput: canonicalJson(bindingInput), binding: round1.binding },
    nextClipNorm: 0.5 * Math.exp(-0.2 * (0.75 - 0.5)) * Math.exp(-0.2 * (0.25 - 0.5)),
  };
}

if (process.argv.includes('--write')) {
  const { writeFileSync } = await import('node:fs');
  const path = new URL('../../spec/vectors/ledger-adaptive-clip.json', import.meta.url);
  writeFileSync(path, JSON.stringify(buildClipLedgerVectors(), null, 2) + '\n');
}
