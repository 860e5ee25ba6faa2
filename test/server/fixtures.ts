import { sha256 } from '@noble/hashes/sha2.js';
import { encodedLength, nextClipNorm } from '../../src/dp/index.js';
import { consistencySignedBytes, maskedInputSignedBytes } from '../../src/protocol/canonical.js';
import { toWireConfig, type RoundConfig } from '../../src/protocol/config.js';
import { PROTOCOL_VERSION, type RoundMode } from '../../src/protocol/phases.js';
import { nodeProvider } from '../../src/secagg/providers/index.js';
import type { KeyPair } from '../../src/secagg/keys.js';
import { fromHex, toHex, utf8 } from '../../src/secagg/util/bytes.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { adaptiveClipRule } from '../../src/server/adaptive-clip.js';
import { stalenessWeight } from '../../src/server/async-staleness.js';
import { drawCohort, type CohortDraw } from '../../src/server/cohort.js';
import { parseFederationConfig, type FederationConfig, type FederationConfigInput } from '../../src/server/config.js';
import { roundDim } from '../../src/server/federated-evaluation.js';
import { federationDpConfig, federationSamplingRate } from '../../src/server/federation-plan.js';
import { chainLedgerEntry, entryEvent, signLedgerEntry, ZERO_HASH, type LedgerEntry, type LedgerEntryBody, type LedgerRecord } from '../../src/server/ledger-entry.js';
import { standardizationOf, statisticsSpec, type UnitMoments } from '../../src/server/federated-statistics.js';
import { drawSeedCommitment, genesisRecord, publicDrawSeed } from '../../src/server/ledger-genesis.js';
import { boundDraw, roundBinding } from '../../src/server/round-binding.js';

/** `n` deterministic Ed25519 identities. */
export function identities(n: number, label = 'participant'): KeyPair[] {
  const rng = seededRandom(`fedveil-test/${label}`);
  return Array.from({ length: n }, () => nodeProvider.ed25519Keygen(rng));
}

/** A deterministic coordinator key. */
export const coordinator = nodeProvider.ed25519Keygen(seededRandom('fedveil-test/coordinator'));

const hash = (s: string): string => toHex(sha256(utf8(s)));

/** A federation config over `people` for ledger fixtures (public draw seed, Skellam, c = 0). */
export function fixtureConfig(people: KeyPair[], overrides: Partial<FederationConfigInput> = {}): FederationConfig {
  return parseFederationConfig({
    federationId: 'fed-test',
    participants: people.map((p) => toHex(p.publicKey)),
    rounds: 5,
    cohort: { size: people.length },
    threshold: 2,
    dp: { mechanism: 'skellam', clipNorm: 1, bits: 20, scale: 0.01, rotation: false, noiseMultiplier: 1, minContributors: 2 },
    model: { name: 'test' },
    dim: 4,
    storage: { path: ':memory:' },
    seed: 'fixture-seed',
    ...overrides,
  });
}

/**
 * The federation the kill tests (crash child, failover coordinator) run: four participants
 * labelled `label`, Skellam, 2 s deadlines, a 1 s long-poll, stored where `storage` says.
 */
export function killTestConfig(label: string, rounds: number, overrides: Partial<FederationConfigInput> & Pick<FederationConfigInput, 'storage'>): FederationConfig {
  return parseFederationConfig({
    federationId: `fed-${label}`,
    participants: identities(4, label).map((p) => toHex(p.publicKey)),
    rounds,
    cohort: { size: 4 },
    threshold: 2,
    dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: false, noiseMultiplier: 0.8 },
    model: { name: 'test' },
    dim: 8,
    deadlines: { 'advertise-keys': 2000, 'share-keys': 2000, 'masked-input': 2000, 'consistency-check': 2000, unmask: 2000 },
    longPollMs: 1000,
    ...overrides,
  });
}

/**
 * A valid v2 ledger built without a coordinator: a genesis, then `rounds` released rounds (ids
 * 0, 2, 4 … so aborted rounds leave gaps) in which the last cohort member drops before its masked
 * input and every contributor co-signs the round binding with its fixture key, as the protocol
 * would have it sign. With adaptive clipping in the config, round r records the fraction
 * `fractions[r]` (default 0.5) and the clip norm the rule gives from the fractions before.
 * A config with `noiseProbe` P has each round record `noiseProbe(round)` (P released probe values).
 */
export function fixtureLedger(
  people: KeyPair[],
  rounds: number,
  opts: { mode?: RoundMode; config?: FederationConfig; coordinator?: KeyPair; statistics?: UnitMoments; fractions?: readonly number[]; noiseProbe?: (round: number) => number[] } = {},
): { config: FederationConfig; entries: LedgerEntry[] } {
  const coord = opts.coordinator ?? coordinator;
  const config = opts.config ?? fixtureConfig(people, { mode: opts.mode ?? 'semi-honest' });
  const mode = config.mode;
  const drawSeed = publicDrawSeed(config.seed) as Uint8Array;
  const dp = federationDpConfig(config);
  const keyOf = new Map(people.map((p) => [toHex(p.publicKey), p]));
  const dim = roundDim(config);
  const clipRule = adaptiveClipRule(config);
  let clipNorm = clipRule === null ? null : clipRule.initial;
  const entries: LedgerEntry[] = [
    chainLedgerEntry(
      null,
      genesisRecord(config, {
        coordinatorPublicKey: toHex(coord.publicKey),
        drawSeedCommitment: drawSeedCommitment(drawSeed),
        timestamp: '2026-01-01T00:00:00.000Z',
        model: { version: 0, hash: hash('model 0') },
      }),
      nodeProvider,
      coord.secretKey,
    ),
  ];
  for (let r = 0; r < rounds; r++) {
    const round = 2 * r;
    const prev = entries.at(-1) as LedgerEntry;
    const { draw, drawRecord, unbound, binding } = fixtureRound(config, round, entries[0]!.hash, { seq: prev.seq, hash: prev.hash }, r, clipNorm);
    const fraction = opts.fractions?.[r] ?? 0.5;
    const u3 = draw.members.map((_, i) => i).slice(0, -1);
    const header = { version: PROTOCOL_VERSION, federationId: config.federationId, round };
    const contributors = u3.map((i) => {
      const id = keyOf.get(draw.members[i] as string) as KeyPair;
      const vectorSha256 = hash(`vector ${round} ${i}`);
      const envelope = { length: encodedLength(dp, dim), bits: dp.bits, vectorSha256: fromHex(vectorSha256) };
      return {
        publicKey: draw.members[i] as string,
        maskedInput: { vectorSha256, signature: toHex(nodeProvider.ed25519Sign(id.secretKey, maskedInputSignedBytes(header, i, envelope, binding))) },
        consistencySignature: mode === 'malicious' ? toHex(nodeProvider.ed25519Sign(id.secretKey, consistencySignedBytes(header, i, u3, binding))) : null,
      };
    });
    const fields = {
      federationId: config.federationId,
      round,
      protocolVersion: PROTOCOL_VERSION,
      timestamp: new Date(Date.UTC(2026, 0, 1, 0, round + 1)).toISOString(),
      mode,
      threshold: config.threshold,
      dim,
      roundConfig: unbound,
      binding: toHex(binding),
      cohort: { draw: drawRecord, members: draw.members },
      contributors,
      dropouts: { 'advertise-keys': [], 'share-keys': [], 'masked-input': draw.members.slice(-1), 'consistency-check': [], unmask: [] },
      mechanism: dp,
      samplingRate: federationSamplingRate(config),
    };
    // With `statistics`, the first round is the statistics round (federated standardisation): it releases no model.
    const spec = statisticsSpec(config);
    const version = r - (opts.statistics === undefined ? 0 : 1);
    const record: LedgerRecord =
      opts.statistics !== undefined && spec !== null && r === 0
        ? {
            kind: 'statistics',
            ...fields,
            dpEvent: entryEvent(fields, 0),
            modelVersion: 0,
            modelHash: hash('model 0'),
            aggregateHash: hash(`aggregate ${round}`),
            statistics: { released: opts.statistics, standardize: standardizationOf(opts.statistics, spec) },
          }
        : {
            kind: 'round',
            ...fields,
            dpEvent: entryEvent(fields, 0),
            modelVersionBefore: version,
            modelVersionAfter: version + 1,
            modelHashBefore: hash(`model ${version}`),
            modelHashAfter: hash(`model ${version + 1}`),
            aggregateHash: hash(`aggregate ${round}`),
            ...(clipNorm === null ? {} : { clipping: { clipNorm, fraction } }),
            ...(opts.noiseProbe === undefined ? {} : { noiseProbe: opts.noiseProbe(round) }),
          };
    entries.push(chainLedgerEntry(prev, record, nodeProvider, coord.secretKey));
    if (clipRule !== null && clipNorm !== null) clipNorm = nextClipNorm(clipNorm, fraction, clipRule);
  }
  return { config, entries };
}

/**
 * Round `round` of a fixture federation as its coordinator would announce it after `head`: draw,
 * config and binding. An asynchronous federation's group is its first K participants, member i
 * trained i versions before `modelVersion` (never before version 0). `clipNorm`: the round's
 * adaptive clip norm (null: fixed clipping).
 */
export function fixtureRound(config: FederationConfig, round: number, genesisHash: string, head: { seq: number; hash: string }, modelVersion = 0, clipNorm: number | null = null) {
  const seed = publicDrawSeed(config.seed) as Uint8Array;
  let draw: CohortDraw;
  if (config.async !== undefined && 'size' in config.cohort) {
    const members = config.participants.slice(0, config.cohort.size);
    const trainedOn = members.map((_, i) => Math.max(0, modelVersion - i));
    const weights = trainedOn.map((v) => stalenessWeight(config.async!.staleness, modelVersion - v));
    draw = { members, method: 'ready-first', samplingRate: 1, seedCommitment: drawSeedCommitment(seed), population: config.participants.length, group: { modelVersion, trainedOn, weights } };
  } else {
    draw = drawCohort(config.participants, config.cohort, seed, round);
  }
  const drawRecord = boundDraw(draw);
  const rc: RoundConfig = {
    federationId: config.federationId,
    round,
    participants: draw.members.map((k) => fromHex(k)),
    threshold: config.threshold,
    graph: { kind: 'complete' },
    mode: config.mode,
    colluders: config.colluders,
    dim: roundDim(config),
    extraCoordinates: 0,
    dp: federationDpConfig(config),
    roundSeed: sha256(utf8(`round seed ${round}`)),
  };
  const unbound = toWireConfig(rc) as Record<string, unknown>;
  const binding = roundBinding({ roundConfig: unbound, draw: drawRecord, genesisHash, ledgerHead: head, clipNorm });
  return { draw, drawRecord, unbound, binding, config: { ...rc, binding } };
}

/**
 * What a coordinator that tampers with its ledger does afterwards: renumbers the entries, re-links
 * their hash chain and re-signs every one with its key, so chain and signatures hold again.
 */
export function rechain(entries: readonly LedgerEntry[], secretKey: Uint8Array = coordinator.secretKey): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const [i, e] of entries.entries()) {
    const { hash: _h, signature: _s, ...body } = structuredClone(e);
    const prev = out.at(-1);
    out.push(signLedgerEntry({ ...body, seq: i, prevHash: prev === undefined ? ZERO_HASH : prev.hash } as LedgerEntryBody, nodeProvider, secretKey) as LedgerEntry);
  }
  return out;
}
