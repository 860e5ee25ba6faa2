/**
 * The five phases of one secure-aggregation round (Bonawitz et al. 2017, §4), in order, and the
 * one-byte codes that bind a signature to its phase (see spec/protocol.md, "Signed bytes").
 */

/**
 * Wire version of every protocol message. A message of any other version is rejected. Version 2:
 * the signed bytes cover the round's binding (spec/protocol.md, "Signed bytes").
 */
export const PROTOCOL_VERSION = 2;

/** A phase of the round. `consistency-check` runs only in malicious-server mode. */
export type Phase = 'advertise-keys' | 'share-keys' | 'masked-input' | 'consistency-check' | 'unmask';

/** All phases in protocol order. */
export const PHASES: readonly Phase[] = ['advertise-keys', 'share-keys', 'masked-input', 'consistency-check', 'unmask'];

/** The byte that stands for each phase inside the signed bytes. */
export const PHASE_CODE: Readonly<Record<Phase, number>> = {
  'advertise-keys': 0,
  'share-keys': 1,
  'masked-input': 2,
  'consistency-check': 3,
  unmask: 4,
};

/** Security model of the round. */
export type RoundMode = 'semi-honest' | 'malicious';

/** The phases a round of `mode` runs, in order. */
export function phasesOf(mode: RoundMode): readonly Phase[] {
  return mode === 'malicious' ? PHASES : PHASES.filter((p) => p !== 'consistency-check');
}

/** The phase after `phase` in a round of `mode`, or undefined after the last. */
export function nextPhase(mode: RoundMode, phase: Phase): Phase | undefined {
  const list = phasesOf(mode);
  return list[list.indexOf(phase) + 1];
}
