import { phasesOf, type Phase } from '../../protocol/phases.js';
import type { Coordinator, CoordinatorEvent, RoundEvaluation, RoundSummary } from '../coordinator.js';
import type { JoinRegistry } from '../join.js';
import type { DashboardRound, DashboardSnapshot, PhaseCount } from './snapshot.js';

/** Options of {@link DashboardFeed}. */
export interface DashboardFeedOptions {
  /**
   * Fewest milliseconds between two snapshots pushed to viewers: a burst of submissions becomes
   * one update, so a thousand participants do not make a thousand pushes. Default 100.
   */
  coalesceMs?: number;
}

/** The counts of the running round's phases, kept as its phases pass. */
interface RoundProgress {
  round: number;
  cohort: number;
  /** Per phase: how many could submit when it began, and who did (indices, from the submission events). */
  counts: Map<Phase, { expected: number; submitted: Set<number> }>;
}

/**
 * The live view of one coordinator, pushed to dashboard viewers: it listens to the coordinator's
 * changes and submissions, keeps the per-phase counts of the running round (the coordinator
 * itself only knows the phase it is in) and the evaluations reported after each round, and sends
 * every subscriber a fresh {@link DashboardSnapshot}, at most one per `coalesceMs`.
 */
export class DashboardFeed {
  private readonly subscribers = new Set<(s: DashboardSnapshot) => void>();
  private readonly evaluations = new Map<number, RoundEvaluation>();
  private readonly phases: readonly Phase[];
  private readonly coalesceMs: number;
  private progress: RoundProgress | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly unobserve: () => void;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly joins: JoinRegistry,
    opts: DashboardFeedOptions = {},
  ) {
    this.phases = phasesOf(coordinator.config.mode);
    this.coalesceMs = opts.coalesceMs ?? 100;
    this.unobserve = coordinator.observe((e) => this.onEvent(e));
    this.track();
  }

  /**
   * Records how the model released by `round` does (simulate's test set, or an evaluation that
   * arrives after the round's summary); a summary's own evaluation is used when none is recorded.
   */
  recordEvaluation(round: number, evaluation: RoundEvaluation): void {
    this.evaluations.set(round, evaluation);
    this.schedule();
  }

  /** Calls `send` with every new snapshot until the returned function is called. */
  subscribe(send: (s: DashboardSnapshot) => void): () => void {
    this.subscribers.add(send);
    return () => this.subscribers.delete(send);
  }

  /** Number of viewers subscribed. */
  get viewers(): number {
    return this.subscribers.size;
  }

  /** Stops listening to the coordinator and drops the subscribers. */
  close(): void {
    this.unobserve();
    clearTimeout(this.timer);
    this.subscribers.clear();
  }

  /** The view now. */
  snapshot(): DashboardSnapshot {
    const c = this.coordinator;
    const config = c.config;
    const state = c.state();
    const live = this.joins.live();
    const p = this.progress;
    const running =
      p === null || state.phase === null || state.round !== p.round
        ? null
        : { round: p.round, cohort: p.cohort, phases: this.phases.map((phase) => this.phaseCount(p, phase, state.phase as Phase | 'finalizing')) };
    let awaited: string[] = [];
    let awaitedFor = '';
    const now = c.phaseProgress();
    if (now !== null) {
      const done = new Set(now.submitted);
      awaited = now.expected.filter((i) => !done.has(i)).map((i) => now.members[i] as string);
      awaitedFor = `round ${now.round}, phase ${now.phase}`;
    } else if (state.status === 'starting') {
      awaited = this.joins.waitingFor(config.participants);
      awaitedFor = `joining before round 0 (${config.minJoined} needed)`;
    }
    return {
      federation: {
        federationId: config.federationId,
        mode: config.mode,
        mechanism: c.dp.mechanism,
        delta: config.dp.delta,
        budget: config.dp.targetEpsilon ?? null,
        rounds: config.rounds,
        cohort: 'size' in config.cohort ? `${config.cohort.size} of ${config.participants.length}` : `sampling rate ${config.cohort.samplingRate} of ${config.participants.length}`,
        threshold: config.threshold,
        colluders: config.colluders,
        participants: config.participants.length,
        coordinatorPublicKey: Buffer.from(c.publicKey).toString('hex'),
        phases: this.phases,
      },
      status: state.status,
      round: state.round,
      phase: state.phase,
      roundsCompleted: state.roundsCompleted,
      modelVersion: state.modelVersion,
      deadlineInMs: state.deadlineInMs,
      running,
      connected: live,
      awaited,
      awaitedFor,
      rounds: c.summaries.map((s) => this.roundOf(s)),
      asyncGroups: c.asyncGroups(),
      epsilonSpent: c.epsilonSpent(),
      at: Date.now(),
    };
  }

  private phaseCount(p: RoundProgress, phase: Phase, current: Phase | 'finalizing'): PhaseCount {
    const seen = p.counts.get(phase);
    const order = (x: Phase | 'finalizing') => (x === 'finalizing' ? this.phases.length : this.phases.indexOf(x));
    const state = phase === current ? 'running' : order(phase) < order(current) ? 'done' : 'pending';
    return { phase, expected: seen?.expected ?? null, submitted: seen?.submitted.size ?? 0, state };
  }

  private roundOf(s: RoundSummary): DashboardRound {
    return {
      round: s.round,
      status: s.status,
      code: s.code ?? null,
      reason: s.reason ?? null,
      phase: s.phase ?? null,
      endedAt: s.endedAt,
      durationMs: s.durationMs,
      phaseMs: s.phaseMs,
      cohortSize: s.cohortSize,
      contributors: s.contributors,
      dropouts: s.dropouts,
      modelVersion: s.modelVersion,
      epsilon: s.epsilon,
      evaluation: this.evaluations.get(s.round) ?? s.evaluation ?? null,
    };
  }

  private onEvent(e: CoordinatorEvent): void {
    // A submission is counted from its event: the one that completes a phase is heard while the
    // protocol has already moved on, so the coordinator's progress would no longer show it.
    if (e.kind === 'submitted' && this.progress?.round === e.round) this.progress.counts.get(e.phase)?.submitted.add(e.index);
    else this.track();
    this.schedule();
  }

  /** Starts the counts of a phase that began (a new round starts afresh). */
  private track(): void {
    const now = this.coordinator.phaseProgress();
    if (now === null) return;
    if (this.progress === null || this.progress.round !== now.round) this.progress = { round: now.round, cohort: now.members.length, counts: new Map() };
    if (!this.progress.counts.has(now.phase)) this.progress.counts.set(now.phase, { expected: now.expected.length, submitted: new Set(now.submitted) });
  }

  private schedule(): void {
    if (this.timer !== undefined || this.subscribers.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const s = this.snapshot();
      for (const send of [...this.subscribers]) send(s);
    }, this.coalesceMs);
    this.timer.unref?.();
  }
}
