import type { PrivacyReport } from '../../src/dp/report.js';
import { nobleProvider } from '../../src/secagg/providers/noble.js';
import { verifyLedger, type LedgerDiscrepancy } from '../../src/server/ledger-verify.js';
import { byId, el, fmtEps } from './dom.js';

/** What was verified last, to verify again when the pinned key changes. */
interface LedgerText {
  text: string;
  source: string;
}

let current: LedgerText | null = null;
let report: PrivacyReport | null = null;

/** The auditor's view: the ledger as a table, verified here with the project's own verifier. */
export function startAudit(): { show(): void; setReport(r: PrivacyReport): void } {
  const form = byId<HTMLFormElement>('verify-form');
  const file = byId<HTMLInputElement>('ledger-file');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = file.files?.[0];
    if (f !== undefined) void f.text().then((text) => verify({ text, source: `file ${f.name}` }));
    else if (current !== null) verify(current);
    else void loadServed();
  });
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f !== undefined) void f.text().then((text) => verify({ text, source: `file ${f.name}` }));
  });
  byId('verify-served').addEventListener('click', () => {
    file.value = '';
    void loadServed();
  });
  let shown = false;
  return {
    show() {
      if (!shown) void loadServed();
      shown = true;
    },
    setReport(r) {
      report = r;
      if (current !== null && current.source === 'this coordinator') verify(current);
    },
  };
}

async function loadServed(): Promise<void> {
  setVerdict('pending', 'fetching the ledger…');
  const res = await fetch('/v1/ledger', { cache: 'no-store' });
  if (!res.ok) {
    setVerdict('failed', `could not fetch the ledger: HTTP ${res.status}`);
    return;
  }
  verify({ text: await res.text(), source: 'this coordinator' });
}

/** The pinned key from the field: 64 hex characters or a coordinator-key.json; '' when none; null when unreadable. */
function pinnedKey(raw: string): string | null | '' {
  const t = raw.trim();
  if (t === '') return '';
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase();
  try {
    const k = (JSON.parse(t) as { publicKey?: unknown }).publicKey;
    if (typeof k === 'string' && /^[0-9a-fA-F]{64}$/.test(k)) return k.toLowerCase();
  } catch {
    // not JSON: refused below
  }
  return null;
}

function setVerdict(state: 'pending' | 'verified' | 'failed', text: string): void {
  const v = byId('verdict');
  v.dataset.state = state;
  v.textContent = text;
}

function verify(ledger: LedgerText): void {
  current = ledger;
  byId('ledger-source').textContent = `(${ledger.source})`;
  const key = pinnedKey(byId<HTMLInputElement>('pinned-key').value);
  const problems = byId('problems');
  problems.replaceChildren();
  if (key === null) {
    setVerdict('failed', 'Refused: the pinned key is neither 64 hex characters nor a coordinator-key.json with a publicKey.');
    renderTable([], new Map());
    return;
  }
  const lines = ledger.text.split('\n').filter((l) => l.trim() !== '');
  const unreadable: LedgerDiscrepancy[] = [];
  const entries = lines.map((l, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      unreadable.push({ code: 'ledger/malformed-line', index: i, message: `line ${i + 1} is not JSON` });
      return null;
    }
  });
  const found = [...unreadable, ...verifyLedger(entries, key === '' ? null : key, null, { provider: nobleProvider })];
  const byEntry = new Map<number, LedgerDiscrepancy[]>();
  for (const d of found) byEntry.set(d.index, [...(byEntry.get(d.index) ?? []), d]);
  renderTable(entries, byEntry);
  const genesisKey = (entries[0] as { coordinatorPublicKey?: unknown } | null)?.coordinatorPublicKey;
  if (found.length === 0) {
    setVerdict(
      'verified',
      key === ''
        ? `Verified: ${entries.length} entries; chain, signatures and co-signatures hold under the key the genesis names (${String(genesisKey)}). Pin the key you got out of band to know who signed.`
        : `Verified: ${entries.length} entries; chain, signatures and co-signatures hold under the pinned key ${key}.`,
    );
    return;
  }
  const wrongKey = key !== '' && typeof genesisKey === 'string' && genesisKey !== key;
  const first = found[0] as LedgerDiscrepancy;
  setVerdict(
    'failed',
    wrongKey
      ? `Refused: the ledger is not signed by the pinned key ${key} (its genesis names ${genesisKey}); ${found.length} problems.`
      : `Not verified: ${found.length} problem${found.length === 1 ? '' : 's'}; first at ${first.index < 0 ? 'the ledger as a whole' : `entry ${first.index}`}: ${first.code}.`,
  );
  problems.replaceChildren(...found.map((d) => el('li', { 'data-index': d.index, 'data-code': d.code }, `${d.code}: ${d.message}`)));
}

function renderTable(entries: unknown[], problems: Map<number, LedgerDiscrepancy[]>): void {
  // The report's ε belongs to this coordinator's ledger, not to a file handed to the page.
  const served = current?.source === 'this coordinator';
  const epsByRound = new Map((served ? (report?.rounds ?? []) : []).map((r) => [r.round, r.ledgerReader.cumulativeEpsilon]));
  const rows = entries.map((raw, i) => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const mine = problems.get(i) ?? [];
    const mech = e.mechanism as { mechanism?: string; noiseMultiplier?: number; clipNorm?: number } | undefined;
    const round = typeof e.round === 'number' ? e.round : null;
    const contributors = Array.isArray(e.contributors) ? e.contributors.length : null;
    const hash = typeof e.hash === 'string' ? e.hash : '';
    return el(
      'tr',
      { class: mine.length > 0 ? 'bad' : null, 'data-index': i, 'data-problems': mine.map((d) => d.code).join(' ') },
      el('td', {}, String(i)),
      el('td', {}, typeof e.kind === 'string' ? e.kind : 'unreadable'),
      el('td', {}, round === null ? '' : String(round)),
      el('td', {}, contributors === null ? '' : String(contributors)),
      el('td', {}, mech?.mechanism === undefined ? '' : `${mech.mechanism}${mech.noiseMultiplier === undefined ? '' : ` z=${mech.noiseMultiplier.toFixed(3)}`}${mech.clipNorm === undefined ? '' : ` C=${mech.clipNorm}`}`),
      el('td', {}, round !== null && epsByRound.has(round) ? fmtEps(epsByRound.get(round)) : ''),
      el('td', { class: 'hash', title: hash }, hash.slice(0, 16)),
      el('td', { class: mine.length > 0 ? 'bad' : 'ok' }, mine.length > 0 ? mine.map((d) => d.code).join(', ') : '✓'),
    );
  });
  byId('ledger').querySelector('tbody')?.replaceChildren(...rows);
}
