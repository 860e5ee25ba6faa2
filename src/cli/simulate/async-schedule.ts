import { trainingSeconds, type SpeedModel } from './speeds.js';

/** A participant announcing its update ready, at simulated time `at`, trained on model version `trainedOn`. */
export interface ScheduledAnnouncement {
  client: number;
  trainedOn: number;
  at: number;
  /** Groups formed before this announcement (the coordinator's published model version when it arrives). */
  groupsBefore: number;
}

/** A group as the coordinator forms it: at simulated time `at`, applied to version `modelVersion`. */
export interface ScheduledGroup {
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
  k: number;
  done: number;
}

/**
 * The simulated time line of an asynchronous federation under the coordinator's rules
 * (src/server/async-groups.ts), the protocol itself taking no simulated time: every participant
 * trains from time 0 on version 0 and announces when done; an update staler than `maxStaleness`
 * is refused (its participant trains again on the latest version); each group is the first
 * `groupSize` ready in announcement order once stale ones are dropped (they train again), and its
 * members start training on the version it releases. Ends with the `groups`-th group. Simulations
 * replay `announcements` in order against the real coordinator, which then forms the same groups.
 */
export function asyncSchedule(o: { clients: number; groupSize: number; groups: number; maxStaleness: number; seed: number; speeds: SpeedModel }): AsyncSchedule {
  const trainings: Training[] = [];
  const counts = new Array<number>(o.clients).fill(0);
  const start = (client: number, version: number, at: number) => {
    const k = counts[client] as number;
    counts[client] = k + 1;
    trainings.push({ client, trainedOn: version, k, done: at + trainingSeconds(o.seed, client, k, o.speeds) });
  };
  for (let c = 0; c < o.clients; c++) start(c, 0, 0);
  const announcements: ScheduledAnnouncement[] = [];
  const groups: ScheduledGroup[] = [];
  let ready: ScheduledAnnouncement[] = [];
  let version = 0;
  while (groups.length < o.groups && trainings.length > 0) {
    // Few trainings run at once (one per participant): a linear scan is fine.
    let next = 0;
    for (let i = 1; i < trainings.length; i++) if ((trainings[i] as Training).done < (trainings[next] as Training).done) next = i;
    const t = trainings.splice(next, 1)[0] as Training;
    if (version - t.trainedOn > o.maxStaleness) {
      start(t.client, version, t.done);
      continue;
    }
    const a = { client: t.client, trainedOn: t.trainedOn, at: t.done, groupsBefore: groups.length };
    announcements.push(a);
    ready.push(a);
    if (ready.length < o.groupSize) continue;
    const members = ready.slice(0, o.groupSize);
    groups.push({ at: t.done, modelVersion: version, members: members.map((m) => m.client), trainedOn: members.map((m) => m.trainedOn) });
    version++;
    for (const m of members) start(m.client, version, t.done);
    // The release made some waiting updates too stale: the coordinator drops them, their participants train again.
    for (const r of ready.slice(o.groupSize)) if (version - r.trainedOn > o.maxStaleness) start(r.client, version, t.done);
    ready = ready.slice(o.groupSize).filter((r) => version - r.trainedOn <= o.maxStaleness);
  }
  return { announcements, groups };
}
