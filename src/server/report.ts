import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, reportEvaluation, withNoiseProbes, type CohortMethod, type PrivacyReport, type ReportRound, type RoundPrivacyEntry } from '../dp/index.js';
import { toHex } from '../secagg/index.js';
import type { FederationConfig } from './config.js';
import { FedveilError } from '../secagg/util/errors.js';
import { chargedEntries, ledgerLine, type ChargedEntry, type GenesisEntry, type LedgerEntry } from './ledger-entry.js';

/**
 * The cohort method of a charged entry's draw, with the draw seed's secrecy as the genesis binds
 * it (a configured `seed` is public: anyone can replay its draws, which then earn no
 * amplification).
 */
export function entryCohortMethod(genesis: GenesisEntry, entry: ChargedEntry): CohortMethod {
  const { draw, members } = entry.cohort;
  const secretSeed = genesis.cohort.seed === 'secret';
  // An asynchronous group selected itself by readiness: no amplification by sampling.
  if (draw.method === 'ready-first') return { kind: 'all', population: draw.population };
  if (draw.method === 'fixed-size') {
    return members.length >= draw.population ? { kind: 'all', population: draw.population } : { kind: 'fixed', size: members.length, population: draw.population, secretSeed };
  }
  return draw.samplingRate >= 1 ? { kind: 'all', population: draw.population } : { kind: 'poisson', rate: draw.samplingRate, population: draw.population, secretSeed };
}

/** A charged entry's privacy-report outcome: the statistics round released an aggregate like a round. */
export function entryOutcome(entry: ChargedEntry): 'released' | 'aborted-after-unmask' {
  return entry.kind === 'aborted-after-unmask' ? 'aborted-after-unmask' : 'released';
}

/** The privacy-report entry of a charged ledger entry: its outcome, cohort method, contributors U3 with their keys, dimension and DP configuration. */
export function privacyEntryOf(genesis: GenesisEntry, entry: ChargedEntry): RoundPrivacyEntry {
  return {
    round: entry.round,
    outcome: entryOutcome(entry),
    cohort: entryCohortMethod(genesis, entry),
    contributors: entry.contributors.length,
    contributorIds: entry.contributors.map((c) => c.publicKey),
    dim: entry.dim,
    config: entry.mechanism,
  };
}

/**
 * The federation's privacy report (src/dp format), built from the ledger alone: one report round
 * per charged entry (released rounds and rounds aborted after unmask; see {@link privacyEntryOf}),
 * released rounds with the federated evaluation totals and noise-probe values their entries carry (and the noise audit of those),
 * charged rounds of an adaptively clipping federation with their clip norm and released clipped fraction,
 * at the genesis's δ and with its c colluders. An auditor rebuilding it from an exported ledger
 * gets the same report. Throws FedveilError('ledger/no-genesis') for a ledger without a genesis.
 */
export function buildPrivacyReport(entries: readonly LedgerEntry[]): PrivacyReport {
  const genesis = entries[0]?.kind === 'genesis' ? entries[0] : null;
  if (genesis === null) throw new FedveilError('ledger/no-genesis', 'the ledger has no genesis entry: nothing binds its δ, cohort rule or colluders');
  const charged = chargedEntries(entries);
  const report = buildReport({
    federationId: genesis.federationId,
    delta: genesis.delta,
    colluders: genesis.colluders,
    rounds: charged.map((e) => privacyEntryOf(genesis, e)),
  });
  // buildReport keeps one round per charged entry, in order. Released rounds of a federation that
  // evaluates carry their totals, as their entries record them; charged rounds of one that clips
  // adaptively carry the clip norm they ran with (and the clipped fraction they released): the
  // round's config.clipNorm is then only the reference norm. The noise-probe values released
  // rounds carry are gathered for the report's noise audit.
  const probes = new Map<number, readonly number[]>();
  charged.forEach((e, i) => {
    const r = report.rounds[i] as ReportRound;
    if (e.kind === 'round' && e.evaluation !== undefined) r.evaluation = reportEvaluation(e.evaluation, e.mechanism);
    if (e.clipping !== undefined) r.clipping = { ...e.clipping };
    if (e.kind === 'round' && e.noiseProbe !== undefined) probes.set(e.round, e.noiseProbe);
  });
  return probes.size === 0 ? report : withNoiseProbes(report, probes);
}

/** Paths written by {@link exportLedger}. */
export interface LedgerExport {
  ledger: string;
  coordinatorKey: string;
  report: string;
}

/**
 * Writes the audit bundle into `dir`: `ledger.jsonl` (one canonical-JSON entry per line, in
 * chain order), `coordinator-key.json` (the key that signed it, with the federation's allowed
 * participant keys for reference) and `report.json`.
 */
export function exportLedger(
  dir: string,
  config: Pick<FederationConfig, 'federationId' | 'participants'>,
  entries: readonly LedgerEntry[],
  coordinatorPublicKey: Uint8Array,
): LedgerExport {
  mkdirSync(dir, { recursive: true });
  const paths: LedgerExport = {
    ledger: join(dir, 'ledger.jsonl'),
    coordinatorKey: join(dir, 'coordinator-key.json'),
    report: join(dir, 'report.json'),
  };
  writeFileSync(paths.ledger, entries.map((e) => `${ledgerLine(e)}\n`).join(''));
  writeFileSync(
    paths.coordinatorKey,
    `${JSON.stringify({ algorithm: 'ed25519', federationId: config.federationId, publicKey: toHex(coordinatorPublicKey), participants: config.participants }, null, 2)}\n`,
  );
  writeFileSync(paths.report, `${JSON.stringify(buildPrivacyReport(entries), null, 2)}\n`);
  return paths;
}
