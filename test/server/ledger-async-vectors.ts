/**
 * Builds spec/vectors/ledger-v2-async.json: the ledger of an asynchronous federation (config
 * `async`, spec/ledger.md §2.5) — a genesis whose cohort rule is `ready-first` and three released
 * groups of the three participants, member i having trained i versions before the group's model
 * version, each group's versions and FedBuff weights (1 + τ)^(−0.5) in its draw and covered by its
 * binding, the last member dropping before its masked input; the binding of the last group
 * spelled out. Regenerate with `npx tsx test/server/ledger-async-vectors.ts --write`.
 */
import { fromHex, nodeProvider, toHex, type KeyPair } from '../../src/secagg/index.js';
import { canonicalJson } from '../../src/server/canonical-json.js';
import type { ChargedEntry } from '../../src/server/ledger-entry.js';
import { ROUND_BINDING_DOMAIN } from '../../src/server/round-binding.js';
import { fixtureConfig, fixtureLedger } from './fixtures.js';

/** Fixed keys of the vector (32-byte Ed25519 seeds): the ledger-v2 vector's. Test keys: never use them for anything else. */
const COORDINATOR_SEED = '42'.repeat(32);
const PARTICIPANT_SEEDS = ['01', '02', '03'].map((b) => b.repeat(32));

const keyPair = (seed: string): KeyPair => ({ secretKey: fromHex(seed), publicKey: nodeProvider.ed25519PublicKey(fromHex(seed)) });

export function buildAsyncLedgerVectors() {
  const coordinator = keyPair(COORDINATOR_SEED);
  const people = PARTICIPANT_SEEDS.map(keyPair);
  const config = fixtureConfig(people, { federationId: 'vector-async-federation', rounds: 3, seed: 'vector-seed', async: { maxStaleness: 2 } });
  const { entries } = fixtureLedger(people, 3, { config, coordinator });
  const last = entries.at(-1) as ChargedEntry;
  const bindingInput = {
    domain: ROUND_BINDING_DOMAIN,
    roundConfig: last.roundConfig,
    draw: last.cohort.draw,
    genesisHash: entries[0]!.hash,
    ledgerHead: { seq: last.seq - 1, hash: last.prevHash },
  };
  return {
    description:
      'fedveil privacy ledger v2, asynchronous federation (spec/ledger.md §2.5): a genesis with cohort rule ready-first and three released groups whose draws state each member\'s trained-on version and staleness weight (1 + τ)^(−0.5), bound by the round binding; the binding of the last group spelled out. Secret keys are 32-byte Ed25519 seeds; never reuse them.',
    coordinatorPublicKey: toHex(coordinator.publicKey),
    participants: people.map((p) => toHex(p.publicKey)),
    entries,
    binding: { round: last.round, canonicalInput: canonicalJson(bindingInput), binding: last.binding },
  };
}

if (process.argv.includes('--write')) {
  const { writeFileSync } = await import('node:fs');
  const path = new URL('../../spec/vectors/ledger-v2-async.json', import.meta.url);
  writeFileSync(path, JSON.stringify(buildAsyncLedgerVectors(), null, 2) + '\n');
  console.log(`wrote ${path.pathname}`);
}
