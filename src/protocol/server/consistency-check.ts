import { check } from '../../secagg/util/errors.js';
import type { ConsistencyCheckMessage, ConsistencySignature } from '../messages.js';
import { sameSet, sortedIndices } from '../sets.js';
import type { PhaseCollector } from './collector.js';

/** Phase 3 (server, malicious mode): collect every U3 member's signature over U3. */
export class ConsistencyCheckCollector implements PhaseCollector<ConsistencyCheckMessage> {
  readonly phase = 'consistency-check' as const;
  readonly submitted = new Set<number>();
  private readonly signatures = new Map<number, Uint8Array>();

  /** `expected` is U3 itself: the list every signer must sign. */
  constructor(readonly expected: readonly number[]) {}

  prepare(msg: ConsistencyCheckMessage): () => void {
    check(
      sameSet(msg.u3, this.expected),
      'protocol/consistency-list-mismatch',
      () => `participant ${msg.header.sender} signed U3 = [${msg.u3.join(',')}], not the announced [${this.expected.join(',')}]`,
    );
    return () => {
      this.signatures.set(msg.header.sender, msg.signature);
      this.submitted.add(msg.header.sender);
    };
  }

  /** The signers and their signatures, sorted by signer. */
  finish(): { signers: number[]; signatures: ConsistencySignature[] } {
    const signers = sortedIndices(this.submitted);
    return { signers, signatures: signers.map((signer) => ({ signer, signature: this.signatures.get(signer) as Uint8Array })) };
  }
}
