import type { AsyncGroup, StalenessFunction } from './async-staleness.js';
import { stalenessWeight } from './async-staleness.js';
import { HttpError } from './http-errors.js';

/** The staleness rules of an asynchronous federation (its config's `async` section) and its group size K. */
export interface AsyncGroupRules {
  groupSize: number;
  maxStaleness: number;
  staleness: StalenessFunction;
  formationTimeoutMs: number;
}

/** A group the coordinator runs as one masked round: its members in index order and their versions and weights. */
export interface FormedGroup {
  members: string[];
  group: AsyncGroup;
}

/** Options of {@link AsyncGroups}. */
export interface AsyncGroupsOptions extends AsyncGroupRules {
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
  /** Called when K fresh participants are ready (the coordinator starts a round if none runs). */
  onFormable: () => void;
  /** Called when a group that could not gather K members in time is dissolved. */
  onDissolved?: (ready: number) => void;
}

/** A group that could not gather K members in time. */
export interface Dissolution {
  /** When it was dissolved (milliseconds since the epoch, the coordinator's clock). */
  at: number;
  /** Participants ready then (fewer than K); they stay ready. */
  ready: number;
}

/** What an operator or auditor sees of the groups: who waits, and the groups dissolved so far. */
export interface AsyncGroupsView {
  groupSize: number;
  formationTimeoutMs: number;
  ready: number;
  dissolved: number;
  /** The latest dissolutions, oldest first (at most {@link RECENT_DISSOLUTIONS}). */
  recentDissolutions: Dissolution[];
}

/** How many dissolutions {@link AsyncGroups.view} lists (the count covers them all). */
export const RECENT_DISSOLUTIONS = 20;

interface Ready {
  trainedOn: number;
  /** When it announced (or, after a dissolved group, when the next group's wait began). */
  since: number;
}

/**
 * The coordinator's side of an asynchronous (FedBuff-style) federation: participants train on a
 * published model at their own pace and announce they are ready with the version they trained
 * on; every group is the first K of them, in the order they announced. Nothing is drawn, so the
 * members select themselves and the ledger claims no amplification by sampling.
 *
 * A group that has not gathered K members `formationTimeoutMs` after its first member announced
 * is dissolved: its members stay ready, first in line for the next group, whose wait starts then.
 * Updates staler than `maxStaleness` versions are refused when announced and dropped when a group
 * forms (their participants see the published version move on and train again).
 */
export class AsyncGroups {
  private readonly ready = new Map<string, Ready>();
  private readonly clock: () => number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dissolvedCount = 0;
  private readonly recent: Dissolution[] = [];
  private stopped = false;

  constructor(private readonly opts: AsyncGroupsOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /**
   * Records that `key` is ready with an update trained on model version `trainedOn` while
   * version `published` is served; returns how many are ready. A participant ready again
   * replaces its earlier announcement (and goes to the back of the line). Throws HttpError
   * `coordinator/stale-update` for an update staler than the bound, and
   * `coordinator/unpublished-version` for a version not yet published.
   */
  announce(key: string, trainedOn: number, published: number): number {
    if (trainedOn > published) {
      throw new HttpError('coordinator/unpublished-version', `model version ${trainedOn} is not published yet (the latest is ${published})`, 'modelVersion');
    }
    const tau = published - trainedOn;
    if (tau > this.opts.maxStaleness) {
      throw new HttpError(
        'coordinator/stale-update',
        `an update trained on model version ${trainedOn} is ${tau} versions stale, more than the federation's bound ${this.opts.maxStaleness}: train on version ${published}`,
        'modelVersion',
      );
    }
    this.ready.delete(key);
    this.ready.set(key, { trainedOn, since: this.clock() });
    if (this.ready.size >= this.opts.groupSize) this.opts.onFormable();
    else this.arm();
    return this.ready.size;
  }

  /** Participants ready now. */
  get readyCount(): number {
    return this.ready.size;
  }

  /** Groups dissolved so far for want of K ready members. */
  get dissolved(): number {
    return this.dissolvedCount;
  }

  /** The groups as an operator or auditor sees them (the dashboard's asynchronous section). */
  view(): AsyncGroupsView {
    return {
      groupSize: this.opts.groupSize,
      formationTimeoutMs: this.opts.formationTimeoutMs,
      ready: this.ready.size,
      dissolved: this.dissolvedCount,
      recentDissolutions: this.recent.map((d) => ({ ...d })),
    };
  }

  /** Whether `key` is waiting for a group. */
  isReady(key: string): boolean {
    return this.ready.has(key);
  }

  /**
   * The next group, applied to model version `published`: the first K ready participants whose
   * updates are still within the staleness bound (staler ones are dropped), each with its trained-on
   * version and weight s(published − version); null when fewer than K are ready (the formation
   * timer then runs). `allowed` filters the candidates (e.g. to participants with a live session).
   */
  take(published: number, allowed: (key: string) => boolean = () => true): FormedGroup | null {
    for (const [key, r] of this.ready) if (published - r.trainedOn > this.opts.maxStaleness) this.ready.delete(key);
    const candidates = [...this.ready].filter(([key]) => allowed(key)).slice(0, this.opts.groupSize);
    if (candidates.length < this.opts.groupSize) {
      this.arm();
      return null;
    }
    this.disarm();
    for (const [key] of candidates) this.ready.delete(key);
    const trainedOn = candidates.map(([, r]) => r.trainedOn);
    return {
      members: candidates.map(([key]) => key),
      group: { modelVersion: published, trainedOn, weights: trainedOn.map((v) => stalenessWeight(this.opts.staleness, published - v)) },
    };
  }

  /** Stops the formation timer for good. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  /** Starts the formation timer of the group now gathering, if it is not running. */
  private arm(): void {
    if (this.stopped || this.timer !== undefined || this.ready.size === 0) return;
    const first = Math.min(...[...this.ready.values()].map((r) => r.since));
    const wait = Math.max(0, first + this.opts.formationTimeoutMs - this.clock());
    this.timer = setTimeout(() => this.dissolve(), wait);
    this.timer.unref?.();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The gathering group ran out of time: its members stay ready, and the next group's wait starts now. */
  private dissolve(): void {
    this.timer = undefined;
    if (this.stopped || this.ready.size === 0 || this.ready.size >= this.opts.groupSize) return;
    this.dissolvedCount++;
    const now = this.clock();
    this.recent.push({ at: now, ready: this.ready.size });
    if (this.recent.length > RECENT_DISSOLUTIONS) this.recent.shift();
    for (const r of this.ready.values()) r.since = now;
    this.opts.onDissolved?.(this.ready.size);
    this.arm();
  }
}
