import { check } from '../secagg/util/errors.js';
import type { RoundPlan } from './config.js';
import type { ClientHeader, ServerHeader, ServerMessage } from './messages.js';
import { PROTOCOL_VERSION, type Phase } from './phases.js';

/**
 * Header checks shared by both sides. A header for another version, federation, round or phase
 * is a replay or a stray message; each case has its own code so operators can tell them apart.
 */

/** Throws `protocol/wrong-version|wrong-federation|wrong-round` unless `header` is for this round. */
export function checkRoundHeader(plan: RoundPlan, header: ServerHeader | ClientHeader): void {
  check(
    header.version === PROTOCOL_VERSION,
    'protocol/wrong-version',
    () => `message has protocol version ${header.version}, this round speaks ${PROTOCOL_VERSION}`,
  );
  check(
    header.federationId === plan.config.federationId,
    'protocol/wrong-federation',
    () => `message is for federation ${JSON.stringify(header.federationId)}, not ${JSON.stringify(plan.config.federationId)}`,
  );
  check(
    header.round === plan.config.round,
    'protocol/wrong-round',
    () => `message is for round ${header.round}, this is round ${plan.config.round}`,
  );
}

/** As {@link checkRoundHeader}, plus the phase and a sender index inside the participant list. */
export function checkClientHeader(plan: RoundPlan, header: ClientHeader, phase: Phase): void {
  checkRoundHeader(plan, header);
  check(header.phase === phase, 'protocol/wrong-phase', () => `message is for phase ${header.phase}, expected ${phase}`);
  check(
    header.sender < plan.n,
    'protocol/unknown-sender',
    () => `sender index ${header.sender} is not in this round's participant list of ${plan.n}`,
  );
}

/** Throws `protocol/unknown-participant` unless every index is below n. */
export function checkIndices(plan: RoundPlan, xs: readonly number[], what: string): void {
  for (const x of xs) {
    check(x < plan.n, 'protocol/unknown-participant', () => `${what} names participant ${x}, but the round has ${plan.n}`);
  }
}

/**
 * Throws `protocol/unknown-participant` when a server message names an index ≥ n in any of its
 * lists: U1 and the advertisements' senders of a key list, U2 and the share senders of a bundle,
 * U3, the dropped list and the consistency signers. The schemas bound indices only by 65 535; the
 * set checks of each phase would report such an index as some other inconsistency.
 */
export function checkServerIndices(plan: RoundPlan, msg: ServerMessage): void {
  switch (msg.type) {
    case 'key-list':
      checkIndices(plan, msg.u1, 'U1');
      checkIndices(plan, msg.advertisements.map((a) => a.header.sender), 'the key list');
      break;
    case 'share-bundle':
      checkIndices(plan, msg.u2, 'U2');
      checkIndices(plan, msg.shares.map((s) => s.peer), 'the share bundle');
      break;
    case 'consistency-request':
      checkIndices(plan, msg.u3, 'U3');
      break;
    case 'unmask-request':
      checkIndices(plan, msg.u3, 'U3');
      checkIndices(plan, msg.dropped, 'the dropped list');
      checkIndices(plan, msg.signatures.map((s) => s.signer), 'the consistency signatures');
      break;
    case 'round-aborted':
      break;
  }
}

/**
 * Throws `protocol/isolated-survivor` when some member of U3 has no neighbour in U3. Unmasking
 * would then reveal that participant's input on its own: its self mask is removed and every
 * pairwise mask it added is with a dropped neighbour, whose mask key is reconstructed. Only
 * possible with a sparse graph (the quorum keeps |U3| ≥ 2 in the complete graph).
 */
export function checkNoIsolatedSurvivor(plan: RoundPlan, u3: readonly number[]): void {
  const members = new Set(u3);
  const isolated = u3.filter((u) => !plan.graph.neighbours(u).some((v) => members.has(v)));
  check(
    isolated.length === 0,
    'protocol/isolated-survivor',
    () => `participants [${isolated.join(',')}] of U3 have no neighbour in U3: unmasking would expose their inputs`,
  );
}
