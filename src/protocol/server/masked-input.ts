import { addMod, packedLength } from '../../secagg/index.js';
import { unpackVector } from '../wire/vector.js';
import { bytesEqual } from '../../secagg/util/bytes.js';
import { check } from '../../secagg/util/errors.js';
import { vectorDigest } from '../canonical.js';
import type { RoundPlan } from '../config.js';
import type { MaskedInputMessage } from '../messages.js';
import { sortedIndices } from '../sets.js';
import type { PhaseCollector } from './collector.js';

/**
 * Phase 2 (server): add each masked vector into one running accumulator as it arrives — the
 * server never holds more than the accumulator and the vector being added. U3 = contributors.
 */
export class MaskedInputCollector implements PhaseCollector<MaskedInputMessage> {
  readonly phase = 'masked-input' as const;
  readonly submitted = new Set<number>();
  /** Σ y_u mod 2^bits over the accepted submissions. */
  readonly accumulator: Uint32Array;

  constructor(
    private readonly plan: RoundPlan,
    readonly expected: readonly number[],
  ) {
    this.accumulator = new Uint32Array(plan.vectorLength);
  }

  prepare(msg: MaskedInputMessage): () => void {
    const { plan } = this;
    check(
      msg.length === plan.vectorLength,
      'protocol/vector-length-mismatch',
      () => `masked vector has ${msg.length} coordinates, this round's have ${plan.vectorLength}`,
    );
    check(msg.bits === plan.bits, 'protocol/wrong-bits', () => `masked vector is in Z_2^${msg.bits}, this round uses ${plan.bits} bits`);
    const size = packedLength(plan.vectorLength, plan.bits);
    check(
      msg.vector.length === size,
      'protocol/vector-size-mismatch',
      () => `masked vector body is ${msg.vector.length} bytes, expected ${size}`,
    );
    check(
      bytesEqual(vectorDigest(msg.vector), msg.vectorSha256),
      'protocol/vector-hash-mismatch',
      'the masked vector body does not match the SHA-256 in the signed envelope',
    );
    const y = unpackVector(msg.vector, plan.vectorLength, plan.bits);
    return () => {
      addMod(this.accumulator, y, plan.bits);
      this.submitted.add(msg.header.sender);
    };
  }

  /** U3: the contributors. */
  finish(): { u3: number[] } {
    return { u3: sortedIndices(this.submitted) };
  }
}
