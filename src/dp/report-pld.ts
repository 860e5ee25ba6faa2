import type { DpEvent } from './events.js';
import { DEFAULT_VALUE_DISCRETIZATION, PLD_ACCOUNTANT, pldEpsilon, pldSupports } from './accountant/pld/accountant.js';

/** The PLD figures of a report, beside its RDP ones (all ε at the report's δ; Infinity = unbounded). */
export interface PldFigures {
  valueDiscretization: number;
  /** Each round's own ε against ledger readers and against model observers. */
  ledgerReaderPerRound: number[];
  modelObserverPerRound: number[];
  /** After each round: the worst participant's ε against ledger readers; all rounds' ε against model observers. */
  ledgerReaderCumulative: number[];
  modelObserverCumulative: number[];
  ledgerReader: number;
  modelObserver: number;
}

/** The name and version a report records for the PLD accountant. */
export const REPORT_PLD_ACCOUNTANT = PLD_ACCOUNTANT;

/**
 * A multiset of round events: event key → how many rounds ran it. Composing rounds with equal
 * events is one self-composition, so a participant's (or all rounds') composition is one event.
 */
type Signature = Map<string, number>;

function signatureEvent(sig: Signature, events: Map<string, DpEvent>): DpEvent {
  const parts: DpEvent[] = [];
  for (const key of [...sig.keys()].sort()) parts.push({ kind: 'self_composed', count: sig.get(key) as number, event: events.get(key) as DpEvent });
  return { kind: 'composed', events: parts };
}

function signatureKey(sig: Signature): string {
  return JSON.stringify([...sig.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** True when every event count of `a` is at most that of `b` (then a's ε cannot exceed b's). */
function dominatedBy(a: Signature, b: Signature): boolean {
  for (const [k, n] of a) if ((b.get(k) ?? 0) < n) return false;
  return true;
}

/**
 * The signatures no other one dominates (ε only grows as rounds are added, so the worst is among
 * them). Largest first, each kept unless a kept one dominates it: a signature can only be
 * dominated by one with at least as many rounds, so this finds exactly the maximal ones.
 */
function maximal(sigs: Iterable<Signature>): Signature[] {
  const unique = new Map<string, { sig: Signature; total: number }>();
  for (const sig of sigs) {
    let total = 0;
    for (const n of sig.values()) total += n;
    unique.set(signatureKey(sig), { sig, total });
  }
  const kept: Signature[] = [];
  for (const { sig } of [...unique.values()].sort((a, b) => b.total - a.total)) {
    if (!kept.some((k) => dominatedBy(sig, k))) kept.push(sig);
  }
  return kept;
}

/**
 * The report's ε under the PLD accountant, or null when some charged round's event is one it does
 * not support (distributed noise over several coordinates): per round, after each round, and in
 * total, against ledger readers (the worst participant, each composed over the rounds it
 * contributed to) and against model observers. Rounds with equal events are composed as one
 * self-composition, and among participants only those whose rounds no other participant's
 * include are evaluated, so a federation of identical rounds costs a handful of PLD evaluations.
 */
export function reportPldFigures(
  ledgerEvents: readonly DpEvent[],
  modelEvents: readonly DpEvent[],
  ids: readonly (readonly string[])[],
  delta: number,
  valueDiscretization = DEFAULT_VALUE_DISCRETIZATION,
): PldFigures | null {
  if (![...ledgerEvents, ...modelEvents].every(pldSupports)) return null;
  const events = new Map<string, DpEvent>();
  const keyOf = (e: DpEvent): string | null => {
    if (e.kind === 'no_op') return null;
    const k = JSON.stringify(e);
    events.set(k, e);
    return k;
  };
  const cache = new Map<string, number>();
  const epsilonOf = (sig: Signature): number => {
    if (sig.size === 0) return 0;
    const k = signatureKey(sig);
    let v = cache.get(k);
    if (v === undefined) {
      v = pldEpsilon(signatureEvent(sig, events), delta, { valueDiscretization });
      cache.set(k, v);
    }
    return v;
  };
  const single = (e: DpEvent): number => {
    const k = keyOf(e);
    return k === null ? 0 : epsilonOf(new Map([[k, 1]]));
  };
  const add = (sig: Signature, k: string | null): Signature => {
    const next = new Map(sig);
    if (k !== null) next.set(k, (next.get(k) ?? 0) + 1);
    return next;
  };

  const ledgerReaderPerRound = ledgerEvents.map(single);
  const modelObserverPerRound = modelEvents.map(single);
  const modelObserverCumulative: number[] = [];
  let all: Signature = new Map();
  for (const e of modelEvents) {
    all = add(all, keyOf(e));
    modelObserverCumulative.push(epsilonOf(all));
  }
  const participants = new Map<string, Signature>();
  const ledgerReaderCumulative: number[] = [];
  ledgerEvents.forEach((e, r) => {
    const k = keyOf(e);
    for (const id of ids[r] ?? []) participants.set(id, add(participants.get(id) ?? new Map(), k));
    let worst = 0;
    for (const sig of maximal(participants.values())) worst = Math.max(worst, epsilonOf(sig));
    ledgerReaderCumulative.push(worst);
  });
  return {
    valueDiscretization,
    ledgerReaderPerRound,
    modelObserverPerRound,
    ledgerReaderCumulative,
    modelObserverCumulative,
    ledgerReader: ledgerReaderCumulative.length === 0 ? 0 : (ledgerReaderCumulative[ledgerReaderCumulative.length - 1] as number),
    modelObserver: modelObserverCumulative.length === 0 ? 0 : (modelObserverCumulative[modelObserverCumulative.length - 1] as number),
  };
}
