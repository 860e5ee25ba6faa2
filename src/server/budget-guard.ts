import { calibrationEpsilon, ledgerReaderEvent, type AccountantKind, type DpConfig, type DpEvent } from '../dp/index.js';

/**
 * Relative slack of the check: the calibration solves for ε ≤ target, and recomputing the same
 * composition event by event may differ in the last digits (RDP) or by the discretisation (PLD).
 * A charged round costs a whole round's share of the budget, far above either.
 */
const SLACK: Record<AccountantKind, number> = { rdp: 1e-9, pld: 1e-3 };

/** Whether `epsilon` is within `target`, up to the accountant's slack. */
export function withinTarget(epsilon: number, target: number, accountant: AccountantKind): boolean {
  return epsilon <= target * (1 + SLACK[accountant]);
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
 * counted it: a participant in every charged round so far (released, or aborted after unmask) and
 * in the next, which is charged with the fewest contributors the mechanism releases with. Without
 * aborts after unmask every planned round passes (that is what the noise was calibrated for); each
 * such abort costs a round of budget, and the round that would then overshoot is never started.
 * Null when there is no target or no noise (nothing to protect or nothing bounded).
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
  const next = ledgerReaderEvent(o.mechanism, o.mechanism.minContributors, o.colluders, o.dim);
  const projected = calibrationEpsilon({ kind: 'composed', events: [...o.charged, next] }, o.delta, o.accountant);
  return { projected, target: o.target, within: withinTarget(projected, o.target, o.accountant) };
}
