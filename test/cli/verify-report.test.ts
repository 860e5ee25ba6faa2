import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { nodeProvider } from '../../src/secagg/providers/index.js';
import { toHex } from '../../src/secagg/util/bytes.js';
import { ledgerLine, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { signLedgerHead } from '../../src/server/ledger-head.js';
import { ReceiptStore } from '../../src/server/receipt-store.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import { coordinator, fixtureLedger, identities } from '../server/fixtures.js';

/** Runs the fedveil program in-process; returns what it printed and the exit code it set. */
async function fedveil(...args: string[]): Promise<{ stdout: string; exitCode: number }> {
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram().parseAsync(['node', 'fedveil', ...args]);
    return { stdout, exitCode: Number(process.exitCode ?? 0) };
  } catch (e) {
    if (e instanceof CommanderError) return { stdout, exitCode: e.exitCode };
    throw e;
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

const people = identities(4, 'verify-cli');
const { config, entries } = fixtureLedger(people, 3);
const dir = mkdtempSync(join(tmpdir(), 'fedveil-verify-'));
const write = (name: string, ledger: readonly LedgerEntry[]): string => {
  const path = join(dir, name);
  writeFileSync(path, ledger.map((e) => `${ledgerLine(e)}\n`).join(''));
  return path;
};
const ledger = write('ledger.jsonl', entries);
const report = join(dir, 'report.json');
writeFileSync(report, JSON.stringify(buildPrivacyReport(entries)));
const keyFile = join(dir, 'coordinator-key.json');
writeFileSync(keyFile, JSON.stringify({ algorithm: 'ed25519', federationId: config.federationId, publicKey: toHex(coordinator.publicKey) }));
const receipts = new ReceiptStore(join(dir, 'receipts'));
for (const e of entries.slice(1)) receipts.save(signLedgerHead(e, nodeProvider, coordinator));

afterEach(() => {
  process.exitCode = undefined;
});

describe('fedveil verify-report --ledger FILE --coordinator-key FILE|HEX --receipts DIR', () => {
  it('says whether the coordinator key was pinned', async () => {
    const unpinned = await fedveil('verify-report', report, '--ledger', ledger);
    expect(unpinned.exitCode).toBe(0);
    expect(unpinned.stdout).toContain('coordinator key NOT pinned');
    for (const key of [keyFile, toHex(coordinator.publicKey)]) {
      const pinned = await fedveil('verify-report', report, '--ledger', ledger, '--coordinator-key', key);
      expect(pinned.exitCode).toBe(0);
      expect(pinned.stdout).toContain(`signed by the pinned coordinator key ${toHex(coordinator.publicKey)}`);
      expect(pinned.stdout).toContain(`checked against ledger ${ledger} (4 entries)`);
    }
  });

  it('reads exactly the file it is given: a truncated copy beside the full ledger does not pass', async () => {
    const copy = write('truncated-copy.jsonl', entries.slice(0, 3));
    const r = await fedveil('verify-report', report, '--ledger', copy, '--coordinator-key', keyFile, '--json');
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout) as { ledger: { path: string; entries: number }; discrepancies: { code: string }[] };
    expect(out.ledger).toMatchObject({ path: copy, entries: 3 });
    expect(out.discrepancies.map((d) => d.code)).toEqual(expect.arrayContaining(['ledger/report-rounds', 'ledger/report-round-missing']));
    const folder = await fedveil('verify-report', report, '--ledger', dir, '--json');
    expect((JSON.parse(folder.stdout) as { discrepancies: { code: string }[] }).discrepancies.map((d) => d.code)).toContain('ledger/unreadable');
  });

  it('holds the ledger to the receipts: OK with them all, receipt/ledger-truncated for a truncated ledger and report', async () => {
    const ok = await fedveil('verify-report', report, '--ledger', ledger, '--coordinator-key', keyFile, '--receipts', receipts.dir);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('3 receipt(s) held');
    const short = entries.slice(0, 3);
    const shortReport = join(dir, 'short-report.json');
    writeFileSync(shortReport, JSON.stringify(buildPrivacyReport(short)));
    const cut = await fedveil('verify-report', shortReport, '--ledger', write('short.jsonl', short), '--coordinator-key', keyFile, '--receipts', receipts.dir, '--json');
    expect(cut.exitCode).toBe(1);
    expect((JSON.parse(cut.stdout) as { discrepancies: { code: string }[] }).discrepancies.map((d) => d.code)).toEqual(['receipt/ledger-truncated']);
    const none = await fedveil('verify-report', report, '--ledger', ledger, '--receipts', join(dir, 'receipts', 'nothing-here'), '--json');
    expect((JSON.parse(none.stdout) as { discrepancies: { code: string }[] }).discrepancies.map((d) => d.code)).toEqual(['receipt/unreadable', 'receipt/none']);
  });
});
