import { trainingSeconds, type SpeedModel } from './speeds.js';

/** A participant announcing its update ready, at simulated time `at`, trained on model version `trainedOn`. */
export interface ScheduledAnnouncement {
  client: number;
  trainedOn: number;
  at: number;
  /** Groups released before this announcement (the coordinator's published model version when it arrives). */
  groupsBefore: number;
}

/** A group as the coordinator forms it, applied to version `modelVersion`, released at simulated time `at`. */
export interface ScheduledGroup {
  formedAt: number;
  at: number;
  modelVersion: number;
  members: number[];
  trainedOn: number[];
}

/** What an asynchronous federation does in simulated time. */
export interface AsyncSchedule {
  announcements: ScheduledAnnouncement[];
  groups: ScheduledGroup[];
}

interface Training {
  client: number;
  trainedOn: number;
  done: number;
}

/**
 * The simulated time line of an asynchronous federation under the coordinator's rules
 * (src/server/async-groups.ts), the masked protocol of each group taking `roundSeconds`: every
 * participant trains from time 0 on version 0 and announces when done; an update staler than
 * `maxStaleness` is refused (its participant trains again on the latest version); when no group
 * runs, the first `groupSize` ready in announcement order form one; its release publishes the
 * next version, on which its members start training again, and drops the waiting updates it made
 * too stale (they train again). Ends with the `groups`-th release. Simulations replay
 * `announcements` in order against the real coordinator, which then forms the same groups.
 */
export function asyncSchedule(o: {
  clients: number;
  groupSize: number;
  groups: number;
  maxStaleness: number;
  seed: number;
  speeds: SpeedModel;
  roundSeconds?: number;
}): AsyncSchedule {
  const roundSeconds = o.roundSeconds ?? 0;
  const trainings: Training[] = [];
  const counts = new Array<number>(o.clients).fill(0);
  const start = (client: number, version: number, at: number) => {
    const k = counts[client] as number;
    counts[client] = k + 1;
    trainings.push({ client, trainedOn: version, done: at + trainingSeconds(o.seed, client, k, o.speeds) });
  };
  for (let c = 0; c < o.clients; c++) start(c, 0, 0);
  const announcements: ScheduledAnnouncement[] = [];
  const groups: ScheduledGroup[] = [];
  let ready: ScheduledAnnouncement[] = [];
  let version = 0;
  // The group whose protocol runs (held in an object: `form` sets it).
  const group: { running: ScheduledGroup | null } = { running: null };
  const form = (t: number) => {
    if (group.running !== null || ready.length < o.groupSize) return;
    const members = ready.slice(0, o.groupSize);
    ready = ready.slice(o.groupSize);
    group.running = { formedAt: t, at: t + roundSeconds, modelVersion: version, members: members.map((m) => m.client), trainedOn: members.map((m) => m.trainedOn) };
  };
  while (groups.length < o.groups && (trainings.length > 0 || group.running !== null)) {
    // Few trainings run at once (one per participant): a linear scan is fine.
    let next = -1;
    for (let i = 0; i < trainings.length; i++) if (next < 0 || (trainings[i] as Training).done < (trainings[next] as Training).done) next = i;
    const release = group.running;
    if (release !== null && (next < 0 || release.at <= (trainings[next] as Training).done)) {
      groups.push(release);
      group.running = null;
      version++;
      for (const m of release.members) start(m, version, release.at);
      for (const r of ready) if (version - r.trainedOn > o.maxStaleness) start(r.client, version, release.at);
      ready = ready.filter((r) => version - r.trainedOn <= o.maxStaleness);
      form(release.at);
      continue;
    }
    const t = trainings.splice(next, 1)[0] as Training;
    if (version - t.trainedOn > o.maxStaleness) {
      start(t.client, version, t.done);
      continue;
    }
    const a = { client: t.client, trainedOn: t.trainedOn, at: t.done, groupsBefore: groups.length };
    announcements.push(a);
    ready.push(a);
    form(t.done);
  }
  return { announcements, groups };
}
