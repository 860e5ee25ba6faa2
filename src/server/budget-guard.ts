import { calibrationEpsilon, ledgerReaderEvent, type AccountantKind, type DpConfig, type DpEvent } from '../dp/index.js';

/**
 * Relative slack of the target check: the calibration solves for ε ≤ target, and recomputing the
 * same composition event by event may differ in the last digits (RDP) or by the discretisation
 * (PLD). A charged round costs a whole round's share of the budget, far above either.
 */
const SLACK: Record<AccountantKind, number> = { rdp: 1e-9, pld: 1e-3 };

/** Whether `epsilon` is within `target`, up to the accountant's slack. */
export function withinTarget(epsilon: number, target: number, accountant: AccountantKind): boolean {
  return epsilon <= target * (1 + SLACK[accountant]);
}

/** ε (at `delta`) of a participant in every one of the charged rounds whose events are given (0 for none). */
export function spentEpsilon(events: readonly DpEvent[], delta: number, accountant: AccountantKind): number {
  return events.length === 0 ? 0 : calibrationEpsilon({ kind: 'composed', events: [...events] }, delta, accountant);
}

/**
 * ε of a participant in every round of `spent` and in `rounds` more rounds of `mechanism`, each
 * with the fewest contributors it releases with: the accounting the noise is calibrated with, at
 * genesis (spec/dp.md) and by an amendment. Infinity when more rounds would add no noise.
 */
export function epsilonWithRounds(
  spent: DpEvent | null,
  mechanism: DpConfig,
  rounds: number,
  o: { colluders: number; dim: number; delta: number; accountant: AccountantKind },
): number {
  if (mechanism.mechanism === 'none' && rounds > 0) return Infinity;
  const fresh: DpEvent = { kind: 'self_composed', count: rounds, event: ledgerReaderEvent(mechanism, mechanism.minContributors, o.colluders, o.dim) };
  return calibrationEpsilon(spent === null ? fresh : { kind: 'composed', events: [spent, fresh] }, o.delta, o.accountant);
}

/** What {@link nextRoundBudget} found. */
export interface NextRoundBudget {
  /** ε (at the genesis δ) of a participant in every charged round and in the next one. */
  projected: number;
  target: number;
  within: boolean;
}

/**
 * Whether one more round keeps the federation within its ε target, counted as the calibration
 * counts ({@link epsilonWithRounds}): a participant in every charged round so far (released, or
 * aborted after unmask) and in the next. Without aborts after unmask every planned round passes
 * (that is what the noise was calibrated for); each such abort costs a round of budget, and the
 * round that would then overshoot is never started. Null when there is no target or no noise.
 */
export function nextRoundBudget(o: {
  charged: readonly DpEvent[];
  mechanism: DpConfig;
  target: number | null;
  delta: number;
  colluders: number;
  dim: number;
  accountant: AccountantKind;
}): NextRoundBudget | null {
  if (o.target === null || o.mechanism.mechanism === 'none') return null;
  const spent: DpEvent | null = o.charged.length === 0 ? null : { kind: 'composed', events: [...o.charged] };
  const projected = epsilonWithRounds(spent, o.mechanism, 1, o);
  return { projected, target: o.target, within: withinTarget(projected, o.target, o.accountant) };
}
