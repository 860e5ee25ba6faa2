import type { Phase } from '../../protocol/phases.js';
import type { AsyncGroupsView } from '../async-groups.js';
import type { CoordinatorStatus, RoundEvaluation, RoundSummary } from '../coordinator.js';

/*
 * What the dashboard page is sent: plain JSON, shared as types with the page's own sources
 * (web/dashboard), so both sides agree on every field.
 */

/** Submissions of one phase of the running round against who could submit in it. */
export interface PhaseCount {
  phase: Phase;
  /** Participants that could submit in this phase (the cohort, then the previous phase's submitters); null before the phase begins. */
  expected: number | null;
  /** Accepted submissions so far. */
  submitted: number;
  state: 'done' | 'running' | 'pending';
}

/**
 * One finished round, as the coordinator summarised it (absent fields as null, for JSON), with its
 * evaluation when one arrived.
 */
export type DashboardRound = Omit<RoundSummary, 'code' | 'reason' | 'phase' | 'startedAt' | 'evaluation'> & {
  code: string | null;
  reason: string | null;
  /** Phase that could not complete (aborted rounds). */
  phase: Phase | null;
  evaluation: RoundEvaluation | null;
};

/** The whole live view at one moment. */
export interface DashboardSnapshot {
  federation: {
    federationId: string;
    mode: 'semi-honest' | 'malicious';
    mechanism: string;
    delta: number;
    /** The ε the federation was calibrated to spend over all its rounds (null when none was set). */
    budget: number | null;
    rounds: number;
    /** e.g. "20 of 100" or "sampling rate 0.1 of 100". */
    cohort: string;
    threshold: number;
    colluders: number;
    participants: number;
    coordinatorPublicKey: string;
    phases: readonly Phase[];
  };
  status: CoordinatorStatus;
  /** Round in progress, or the last one. */
  round: number | null;
  phase: Phase | 'finalizing' | null;
  roundsCompleted: number;
  modelVersion: number;
  /** Milliseconds until the running phase's deadline when the snapshot was taken. */
  deadlineInMs: number | null;
  /** The running round's phases, null between rounds. */
  running: { round: number; cohort: number; phases: PhaseCount[] } | null;
  /** Allowed participants with a live session, and those the coordinator waits for now (public keys). */
  connected: string[];
  awaited: string[];
  /** What `awaited` means at this moment. */
  awaitedFor: string;
  rounds: DashboardRound[];
  /** Asynchronous federations: participants ready for a group and groups dissolved for want of them; null for synchronous rounds. */
  asyncGroups: AsyncGroupsView | null;
  epsilonSpent: number | null;
  /** Milliseconds since the epoch, on the coordinator's clock. */
  at: number;
}
