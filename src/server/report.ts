import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, type PrivacyReport } from '../dp/index.js';
import { toHex } from '../secagg/index.js';
import type { FederationConfig } from './config.js';
import { chargedEntries, ledgerLine, type LedgerEntry } from './ledger-entry.js';

/**
 * The federation's privacy report (src/dp format), built from the ledger alone: one report round
 * per charged entry (released rounds and rounds aborted after unmask), with the entry's sampling
 * rate, contributor count |U3|, dimension and DP configuration, at the genesis δ when the ledger
 * has a genesis (else the config's). An auditor rebuilding it from an exported ledger gets the
 * same report.
 */
export function buildPrivacyReport(config: Pick<FederationConfig, 'federationId' | 'dp'>, entries: readonly LedgerEntry[]): PrivacyReport {
  const genesis = entries[0]?.kind === 'genesis' ? entries[0] : null;
  return buildReport({
    federationId: genesis?.federationId ?? config.federationId,
    delta: genesis?.delta ?? config.dp.delta,
    rounds: chargedEntries(entries).map((e) => ({
      round: e.round,
      samplingRate: e.samplingRate,
      contributors: e.contributors.length,
      dim: e.dim,
      config: e.mechanism,
    })),
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
  config: Pick<FederationConfig, 'federationId' | 'dp' | 'participants'>,
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
