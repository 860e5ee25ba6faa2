import { check } from '../../secagg/util/errors.js';
import { signMessage } from '../canonical.js';
import { roundBinding } from '../config.js';
import { checkNoIsolatedSurvivor } from '../checks.js';
import type { ConsistencyCheckMessage, ConsistencyRequestMessage } from '../messages.js';
import { isSubset } from '../sets.js';
import { clientHeader, type CheckedState, type ClientContext, type MaskedState } from './context.js';

/**
 * Phase 3 (client, malicious mode): sign the U3 the server announces, so that no client will later
 * unmask for a U3 that fewer than the quorum signed (Bonawitz et al. 2017, ConsistencyCheck).
 *
 * Refusals: `protocol/list-not-subset` (U3 ⊄ U2), `protocol/self-not-in-set`,
 * `protocol/list-below-threshold`, `protocol/isolated-survivor` (a member of U3 without a
 * neighbour in U3, whose input unmasking would expose).
 */
export function consistencyCheck(
  ctx: ClientContext,
  state: MaskedState,
  msg: ConsistencyRequestMessage,
): { state: CheckedState; message: ConsistencyCheckMessage } {
  checkU3(ctx, state, msg.u3);
  const message = signMessage<ConsistencyCheckMessage>(ctx.provider, ctx.identitySecretKey, {
    type: 'consistency-check',
    header: clientHeader(ctx, 'consistency-check'),
    u3: [...msg.u3],
  }, roundBinding(ctx.plan.config));
  return { state: { ...state, signedU3: [...msg.u3] }, message };
}

/** The checks every client applies to a U3 it is shown. */
export function checkU3(ctx: ClientContext, state: MaskedState, u3: readonly number[]): void {
  check(isSubset(u3, state.u2), 'protocol/list-not-subset', 'U3 is not a subset of U2');
  check(u3.includes(ctx.index), 'protocol/self-not-in-set', `U3 does not contain me (participant ${ctx.index}), yet I sent my masked input`);
  check(
    u3.length >= ctx.plan.minSurvivors,
    'protocol/list-below-threshold',
    () => `U3 has ${u3.length} participants, fewer than the quorum ${ctx.plan.minSurvivors}`,
  );
  checkNoIsolatedSurvivor(ctx.plan, u3);
}
