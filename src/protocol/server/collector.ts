import type { ClientMessage } from '../messages.js';
import type { Phase } from '../phases.js';

/**
 * One server phase: who may submit, who did, and how a submission is checked and recorded. The
 * split between `prepare` (every check; may throw; changes nothing) and the commit it returns
 * (cannot fail) is what guarantees that a rejected message never changes the server's state.
 */
export interface PhaseCollector<M extends ClientMessage = ClientMessage> {
  readonly phase: Phase;
  /** Participants allowed to submit in this phase (the previous set). */
  readonly expected: readonly number[];
  /** Participants whose submission was accepted. */
  readonly submitted: Set<number>;
  /** Checks `msg` beyond header and signature; returns the commit that records it. */
  prepare(msg: M): () => void;
}
