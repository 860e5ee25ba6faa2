import type { PrivacyReport } from '../../src/dp/report.js';
import type { DashboardSnapshot } from '../../src/server/dashboard/snapshot.js';
import { accuracyChart, epsilonChart } from './charts.js';
import { byId, el, fmtEps, fmtMs, setRows, shortKey } from './dom.js';

/** The live view: one Server-Sent Events stream of snapshots, and the report fetched once per finished round. */
export function startLive(onReport: (r: PrivacyReport) => void): void {
  const eps = epsilonChart(byId('eps-chart'));
  const acc = accuracyChart(byId('acc-chart'));
  let last: DashboardSnapshot | null = null;
  let reportFor = -1;
  let deadlineAt: number | null = null;

  const conn = byId('conn');
  const source = new EventSource('/v1/dashboard/events');
  source.addEventListener('open', () => {
    conn.dataset.state = 'live';
    conn.textContent = 'live';
  });
  source.addEventListener('error', () => {
    conn.dataset.state = 'lost';
    conn.textContent = last?.status === 'finished' ? 'finished · reconnecting' : 'reconnecting…';
  });
  source.addEventListener('snapshot', (e) => {
    const s = JSON.parse((e as MessageEvent<string>).data) as DashboardSnapshot;
    last = s;
    deadlineAt = s.deadlineInMs === null ? null : Date.now() + s.deadlineInMs;
    render(s);
    if (s.rounds.length !== reportFor) {
      reportFor = s.rounds.length;
      void loadReport();
    }
  });
  // The deadline counts down between snapshots without asking the server.
  setInterval(() => {
    if (last !== null) byId('round-status').textContent = statusLine(last, deadlineAt);
  }, 1000);

  async function loadReport(): Promise<void> {
    const res = await fetch('/v1/report', { cache: 'no-store' });
    if (!res.ok) return;
    const report = (await res.json()) as PrivacyReport;
    const rounds = report.rounds.filter((r) => r.charged);
    const budget = last?.federation.budget ?? null;
    eps.set(
      rounds.map((r) => r.round),
      [rounds.map((r) => r.ledgerReader.cumulativeEpsilon), rounds.map((r) => r.modelObserver.cumulativeEpsilon), rounds.map(() => budget)],
    );
    setRows(
      'eps-table',
      rounds.map((r) =>
        el(
          'tr',
          { 'data-round': r.round, 'data-ledger-reader': String(r.ledgerReader.cumulativeEpsilon), 'data-model-observer': String(r.modelObserver.cumulativeEpsilon) },
          el('td', {}, String(r.round)),
          el('td', {}, fmtEps(r.ledgerReader.cumulativeEpsilon)),
          el('td', {}, fmtEps(r.modelObserver.cumulativeEpsilon)),
        ),
      ),
    );
    byId('eps-note').textContent =
      `From this coordinator's privacy report at δ = ${report.delta}: ε against ledger readers (the coordinator and anyone reading the ledger; ` +
      `the headline, ${fmtEps(report.epsilon)}) and against those who see only the released models (${fmtEps(report.modelObserver.epsilon)})` +
      (budget === null ? '; no ε budget was set.' : `; the budget is ${budget}.`);
    onReport(report);
  }

  function render(s: DashboardSnapshot): void {
    const f = s.federation;
    byId('fed-id').textContent = f.federationId;
    const facts: [string, string][] = [
      ['status', s.status],
      ['mode', f.mode],
      ['mechanism', f.mechanism],
      ['δ', String(f.delta)],
      ['ε budget', f.budget === null ? 'none set' : String(f.budget)],
      ['ε spent', fmtEps(s.epsilonSpent)],
      ['rounds', `${s.roundsCompleted} of ${f.rounds} released`],
      ['cohort', f.cohort],
      ['threshold', String(f.threshold)],
      ['colluders', String(f.colluders)],
      ['model version', String(s.modelVersion)],
      ...(s.asyncGroups === null ? [] : ([['groups', groupsLine(s.asyncGroups)]] as [string, string][])),
      ['coordinator key', f.coordinatorPublicKey],
    ];
    byId('federation').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { class: k === 'coordinator key' ? 'hash' : null }, v)]));

    byId('round-no').textContent = s.round === null ? '–' : String(s.round);
    const status = byId('round-status');
    status.dataset.round = String(s.round);
    status.dataset.phase = String(s.phase);
    status.dataset.status = s.status;
    status.textContent = statusLine(s, deadlineAt);
    const lastRound = s.rounds.at(-1);
    const phaseRows =
      s.running !== null
        ? s.running.phases.map((p) => {
            const dropped = p.state === 'done' && p.expected !== null ? p.expected - p.submitted : null;
            return el(
              'tr',
              { 'data-phase': p.phase, 'data-state': p.state, 'data-submitted': p.submitted, 'data-expected': p.expected ?? '' },
              el('td', {}, p.phase),
              el('td', {}, p.expected === null ? '–' : `${p.submitted} / ${p.expected}`),
              el('td', {}, dropped === null ? '' : String(dropped)),
              el('td', {}, ''),
            );
          })
        : // Between rounds: how the last one went, phase by phase.
          lastRound === undefined
          ? []
          : f.phases
              .filter((p) => lastRound.phaseMs[p] !== undefined)
              .map((p) =>
                el(
                  'tr',
                  { 'data-phase': p, 'data-state': 'last' },
                  el('td', {}, p),
                  el('td', {}, '–'),
                  el('td', {}, String(lastRound.dropouts[p] ?? 0)),
                  el('td', {}, fmtMs(lastRound.phaseMs[p] as number)),
                ),
              );
    setRows('phases', phaseRows);

    const connected = byId('connected');
    connected.dataset.connected = String(s.connected.length);
    connected.textContent = `${s.connected.length} of ${f.participants} participants connected`;
    byId('awaited-label').textContent = s.awaited.length === 0 ? (s.awaitedFor === '' ? '' : `nobody awaited (${s.awaitedFor})`) : `${s.awaited.length} awaited (${s.awaitedFor}):`;
    byId('awaited').replaceChildren(...s.awaited.map((k) => el('li', { title: k }, shortKey(k))));

    const evaluated = s.rounds.filter((r) => r.evaluation !== null);
    acc.set(
      evaluated.map((r) => r.round),
      [evaluated.map((r) => r.evaluation?.accuracy ?? null), evaluated.map((r) => r.evaluation?.loss ?? null)],
    );
    setRows(
      'acc-table',
      evaluated.map((r) => {
        const ev = r.evaluation!;
        return el(
          'tr',
          { 'data-round': r.round, 'data-accuracy': String(ev.accuracy), 'data-loss': String(ev.loss), 'data-source': ev.source },
          el('td', {}, String(r.round)),
          el('td', {}, `${(100 * ev.accuracy).toFixed(2)}%`),
          el('td', {}, ev.loss.toFixed(4)),
          el('td', {}, ev.source === 'test-set' ? 'test set' : `federated${ev.noised ? ', noised' : ''} (${Math.round(ev.examples)} examples)`),
        );
      }),
    );
    byId('acc-note').textContent = evaluated.length === 0 ? 'No round has been evaluated yet.' : '';

    setRows(
      'rounds',
      [...s.rounds].reverse().map((r) => {
        const drops = Object.entries(r.dropouts)
          .filter(([, n]) => (n ?? 0) > 0)
          .map(([p, n]) => `${p} ${n}`)
          .join(', ');
        const outcome = r.status === 'completed' ? 'released' : `aborted${r.phase ? ` in ${r.phase}` : ''}: ${r.code ?? ''} ${r.reason ?? ''}`;
        return el(
          'tr',
          { class: r.status === 'aborted' ? 'aborted' : null, 'data-round': r.round, 'data-status': r.status },
          el('td', {}, String(r.round)),
          el('td', {}, outcome),
          el('td', {}, fmtMs(r.durationMs)),
          el('td', {}, `${r.contributors} / ${r.cohortSize}`),
          el('td', {}, drops === '' ? 'none' : drops),
          el('td', {}, fmtEps(r.epsilon)),
        );
      }),
    );
  }
}

function statusLine(s: DashboardSnapshot, deadlineAt: number | null): string {
  if (s.status === 'finished') return `finished: ${s.roundsCompleted} of ${s.federation.rounds} rounds released`;
  if (s.status === 'stopped') return 'stopped';
  if (s.status === 'starting') return 'waiting for participants to join';
  if (s.phase === null) return 'between rounds';
  if (s.phase === 'finalizing') return 'finalizing: committing the ledger entry';
  const left = deadlineAt === null ? '' : ` · deadline in ${Math.max(0, Math.round((deadlineAt - Date.now()) / 1000))} s`;
  return `phase ${s.phase}${left}`;
}

/** An asynchronous federation's groups: who waits, and every group dissolved for want of ready participants. */
function groupsLine(g: NonNullable<DashboardSnapshot['asyncGroups']>): string {
  const last = g.recentDissolutions.at(-1);
  return (
    `${g.ready} of ${g.groupSize} ready · ${g.dissolved} dissolved` +
    (last === undefined ? '' : ` (last at ${new Date(last.at).toISOString().slice(11, 19)} UTC with ${last.ready} ready, after ${fmtMs(g.formationTimeoutMs)})`)
  );
}
