import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, type CohortMethod, type PrivacyReport, type RoundPrivacyEntry } from '../dp/index.js';
import { toHex } from '../secagg/index.js';
import type { FederationConfig } from './config.js';
import { ledgerLine, type LedgerEntry } from './ledger-entry.js';

/**
 * The cohort method of a ledger entry's draw. Whether the draw was secret is not in the entry:
 * it follows from the federation config (a configured `seed` is public, so its draws can be
 * replayed by anyone and earn no amplification).
 */
export function entryCohortMethod(config: Pick<FederationConfig, 'seed'>, entry: LedgerEntry): CohortMethod {
  const { draw, members } = entry.cohort;
  const secretSeed = config.seed === undefined;
  if (draw.method === 'fixed-size') {
    return members.length >= draw.population ? { kind: 'all', population: draw.population } : { kind: 'fixed', size: members.length, population: draw.population, secretSeed };
  }
  return draw.samplingRate >= 1 ? { kind: 'all', population: draw.population } : { kind: 'poisson', rate: draw.samplingRate, population: draw.population, secretSeed };
}

/** The privacy-report entry of a ledger entry (a released round): its cohort method, contributors U3 with their keys, dimension and DP configuration. */
export function privacyEntryOf(config: Pick<FederationConfig, 'seed'>, entry: LedgerEntry): RoundPrivacyEntry {
  return {
    round: entry.round,
    outcome: 'released',
    cohort: entryCohortMethod(config, entry),
    contributors: entry.contributors.length,
    contributorIds: entry.contributors.map((c) => c.publicKey),
    dim: entry.dim,
    config: entry.mechanism,
  };
}

/**
 * The federation's privacy report (src/dp format), built from the ledger alone: one report round
 * per ledger entry (see {@link privacyEntryOf}). No participants are assumed to collude (the
 * federation config does not name any yet). An auditor rebuilding it from an exported ledger gets
 * the same report.
 */
export function buildPrivacyReport(config: Pick<FederationConfig, 'federationId' | 'dp' | 'seed'>, entries: readonly LedgerEntry[]): PrivacyReport {
  return buildReport({
    federationId: config.federationId,
    delta: config.dp.delta,
    colluders: 0,
    rounds: entries.map((e) => privacyEntryOf(config, e)),
  });
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
  config: Pick<FederationConfig, 'federationId' | 'dp' | 'participants' | 'seed'>,
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
  writeFileSync(paths.report, `${JSON.stringify(buildPrivacyReport(config, entries), null, 2)}\n`);
  return paths;
}
