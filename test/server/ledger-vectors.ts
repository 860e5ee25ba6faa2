/**
 * Builds spec/vectors/ledger-v2.json: a genesis and two malicious-mode rounds of a three-member
 * federation, each round co-signed by its contributors over its binding (the fixture ledger of
 * test/server/fixtures.ts, under the vector's own keys); the binding of round 0 spelled out; the
 * coordinator's signed head of the last entry (a receipt); one request signature; an amendment
 * that would extend the federation from 2 to 4 rounds after them (kept apart from `entries`, so
 * the head above stays the head of the two rounds); a one-round ledger of a federation with a
 * 4-coordinate noise probe, whose round records its released probe values, and the noise audit
 * its report gives. Regenerate with
 * `npx tsx test/server/ledger-vectors.ts --write`; ledger-vectors.test.ts checks the file against
 * this builder and verifies it from the spec's rules.
 */
import { fromHex, nodeProvider, toHex, type KeyPair } from '../../src/secagg/index.js';
import { canonicalJson } from '../../src/server/canonical-json.js';
import { amendmentFacts, amendmentRecord, currentTerms } from '../../src/server/ledger-amendment.js';
import { chainLedgerEntry, type ChargedEntry, type GenesisEntry, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { signLedgerHead, ledgerHeadMessage } from '../../src/server/ledger-head.js';
import { requestSigningBytes, type RequestBinding } from '../../src/server/request-auth.js';
import { ROUND_BINDING_DOMAIN } from '../../src/server/round-binding.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import { fixtureConfig, fixtureLedger } from './fixtures.js';

/** Fixed keys of the vector (32-byte Ed25519 seeds). Test keys: never use them for anything else. */
const COORDINATOR_SEED = '42'.repeat(32);
const PARTICIPANT_SEEDS = ['01', '02', '03'].map((b) => b.repeat(32));

const keyPair = (seed: string): KeyPair => ({ secretKey: fromHex(seed), publicKey: nodeProvider.ed25519PublicKey(fromHex(seed)) });

export function buildLedgerVectors() {
  const coordinator = keyPair(COORDINATOR_SEED);
  const people = PARTICIPANT_SEEDS.map(keyPair);
  const config = fixtureConfig(people, { federationId: 'vector-federation', rounds: 2, mode: 'malicious', seed: 'vector-seed' });
  const { entries } = fixtureLedger(people, 2, { config, coordinator });
  const genesis = entries[0]!;
  const { hash: _h, signature: _s, ...genesisBody } = genesis;
  const round0 = entries[1] as ChargedEntry;
  const bindingInput = {
    domain: ROUND_BINDING_DOMAIN,
    roundConfig: round0.roundConfig,
    draw: round0.cohort.draw,
    genesisHash: genesis.hash,
    ledgerHead: { seq: round0.seq - 1, hash: round0.prevHash },
  };
  const head = signLedgerHead(entries.at(-1)!, nodeProvider, coordinator);
  const terms = currentTerms(genesis as GenesisEntry, entries);
  const amended = { rounds: 4, epsilonBudget: terms.epsilonBudget };
  const facts = amendmentFacts(genesis as GenesisEntry, entries, amended, 'rdp');
  const amendment = chainLedgerEntry(
    entries.at(-1)!,
    amendmentRecord({ genesis: genesis as GenesisEntry, facts, amended, mechanism: terms.mechanism, fromRound: (entries.at(-1) as ChargedEntry).round + 1, timestamp: '2026-01-01T00:03:00.000Z', reason: 'two more rounds' }),
    nodeProvider,
    coordinator.secretKey,
  );
  const request: RequestBinding = {
    federationId: config.federationId,
    round: 7,
    phase: 'masked-input',
    method: 'POST',
    sender: toHex(people[0]!.publicKey),
    bodyHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    nonce: '00112233445566778899aabbccddeeff',
  };
  const requestBytes = requestSigningBytes(request);
  // A one-round federation with a 4-coordinate noise probe: its round records the released values.
  const probeConfig = fixtureConfig(people, { federationId: 'vector-noise-probe', rounds: 1, mode: 'malicious', seed: 'vector-seed', noiseProbe: 4 });
  const probeLedger = fixtureLedger(people, 1, { config: probeConfig, coordinator, noiseProbe: () => [0.5, -0.625, 0.375, -0.4375] }).entries;
  return {
    description:
      'fedveil privacy ledger v2 (spec/ledger.md): a genesis and two malicious-mode rounds, each co-signed by its contributors over the round binding; the binding of round 0 spelled out; a signed ledger head (a receipt); one request signature; an amendment entry that extends the federation from 2 to 4 rounds (no ε target), chained after the two rounds; `noiseProbe`: a one-round ledger of a federation with `noiseProbe: 4`, its round recording the 4 released probe values (`noiseProbe`), and the noise audit (spec/dp.md §6.3) its privacy report gives. Secret keys are 32-byte Ed25519 seeds; never reuse them.',
    coordinatorSecretKey: COORDINATOR_SEED,
    coordinatorPublicKey: toHex(coordinator.publicKey),
    participants: people.map((p) => ({ secretKey: toHex(p.secretKey), publicKey: toHex(p.publicKey) })),
    entries,
    genesisCanonicalBody: canonicalJson(genesisBody),
    genesisHash: genesis.hash,
    binding: { round: round0.round, canonicalInput: canonicalJson(bindingInput), binding: round0.binding },
    head: { value: head, signedBytes: toHex(ledgerHeadMessage(head)) },
    amendment,
    noiseProbe: { entries: probeLedger, noiseAudit: buildPrivacyReport(probeLedger).noiseAudit ?? null },
    requestSignature: { binding: request, signedBytes: new TextDecoder().decode(requestBytes), signature: toHex(nodeProvider.ed25519Sign(people[0]!.secretKey, requestBytes)) },
  };
}

/**
 * spec/vectors/ledger-statistics-v2.json: a federation with federated standardisation (spec/ledger.md
 * §2.6): its genesis, its statistics entry (released moments and the standardisation they give)
 * and one training round after it, under the same vector keys.
 */
export function buildStatisticsVectors() {
  const coordinator = keyPair(COORDINATOR_SEED);
  const people = PARTICIPANT_SEEDS.map(keyPair);
  const data = {
    features: ['temp_max', 'wind'],
    label: 'weather',
    classes: ['rain', 'sun'],
    standardize: { federated: { lower: [-10, 0], upper: [40, 15] } },
  };
  const config = fixtureConfig(people, { federationId: 'vector-statistics', rounds: 1, seed: 'vector-seed', data });
  const released = { mean: [0.4871, 0.2634], meanSquare: [0.2807, 0.0913] };
  const { entries } = fixtureLedger(people, 2, { config, coordinator, statistics: released });
  const statistics = entries[1] as Extract<LedgerEntry, { kind: 'statistics' }>;
  return {
    description:
      'fedveil privacy ledger v2 (spec/ledger.md §2.6): a federation with federated standardisation: its genesis, the statistics entry released before round 0 (per feature the released mean of u and mean of u², u the feature clamped to [lower, upper] and mapped to [0, 1], and the standardisation they give), and one training round. Keys as in ledger-v2.json.',
    coordinatorPublicKey: toHex(coordinator.publicKey),
    participants: people.map((p) => toHex(p.publicKey)),
    entries,
    released: statistics.statistics.released,
    standardize: statistics.statistics.standardize,
  };
}

if (process.argv.includes('--write')) {
  const { writeFileSync } = await import('node:fs');
  const path = new URL('../../spec/vectors/ledger-v2.json', import.meta.url);
  writeFileSync(path, JSON.stringify(buildLedgerVectors(), null, 2) + '\n');
  writeFileSync(new URL('../../spec/vectors/ledger-statistics-v2.json', import.meta.url), JSON.stringify(buildStatisticsVectors(), null, 2) + '\n');
  console.log(`wrote ${path.pathname}`);
}
