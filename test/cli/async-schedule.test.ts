import { describe, expect, it } from 'vitest';
import { asyncSchedule } from '../../src/cli/simulate/async-schedule.js';
import { synchronousRoundSeconds, trainingSeconds } from '../../src/cli/simulate/speeds.js';

const speeds = { medianSeconds: 60, skew: 1, availability: 1 };

describe('simulated speeds', () => {
  it('are reproducible, log-normal across participants, and a synchronous round waits for its slowest member', () => {
    expect(trainingSeconds(1, 3, 0, speeds)).toBe(trainingSeconds(1, 3, 0, speeds));
    const times = Array.from({ length: 400 }, (_, c) => trainingSeconds(1, c, 0, speeds)).sort((a, b) => a - b);
    const median = times[200]!;
    expect(median).toBeGreaterThan(45);
    expect(median).toBeLessThan(80);
    expect(times[399]! / median).toBeGreaterThan(5);
    const equal = Array.from({ length: 50 }, (_, c) => trainingSeconds(1, c, 0, { ...speeds, skew: 0 }));
    expect(Math.max(...equal) / Math.min(...equal)).toBeLessThan(2);
    expect(synchronousRoundSeconds(1, [0, 1, 2], 0, speeds)).toBe(Math.max(...[0, 1, 2].map((c) => trainingSeconds(1, c, 0, speeds))));
  });
});

describe('asynchronous schedule', () => {
  it('follows the coordinator: groups of the first K ready in time order, no member staler than the bound, fast participants more often', () => {
    const s = asyncSchedule({ clients: 30, groupSize: 5, groups: 40, maxStaleness: 3, seed: 2, speeds, roundSeconds: 10 });
    expect(s.groups).toHaveLength(40);
    const times = s.announcements.map((a) => a.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    s.groups.forEach((g, i) => {
      expect(g.modelVersion).toBe(i);
      expect(g.members).toHaveLength(5);
      expect(new Set(g.members).size).toBe(5);
      for (const v of g.trainedOn) expect(i - v >= 0 && i - v <= 3).toBe(true);
      // One group's protocol at a time.
      expect(g.at).toBe(g.formedAt + 10);
      if (i > 0) expect(g.formedAt).toBeGreaterThanOrEqual(s.groups[i - 1]!.at);
    });
    // Every announcement names the groups formed before it: a count that only grows, never ahead of time.
    s.announcements.forEach((a, j) => {
      if (j > 0) expect(a.groupsBefore).toBeGreaterThanOrEqual(s.announcements[j - 1]!.groupsBefore);
      expect(a.groupsBefore).toBeLessThanOrEqual(s.groups.filter((g) => g.at <= a.at).length);
    });
    const count = new Map<number, number>();
    for (const g of s.groups) for (const m of g.members) count.set(m, (count.get(m) ?? 0) + 1);
    const speedOf = (c: number) => trainingSeconds(2, c, 0, speeds);
    const byCount = [...count].sort((a, b) => b[1] - a[1]);
    expect(speedOf(byCount[0]![0])).toBeLessThan(speedOf(byCount.at(-1)![0]));
  });

  it('an asynchronous federation finishes its groups sooner in simulated time than synchronous rounds of the same size', () => {
    const s = asyncSchedule({ clients: 30, groupSize: 5, groups: 20, maxStaleness: 5, seed: 3, speeds, roundSeconds: 10 });
    let sync = 0;
    for (let r = 0; r < 20; r++) sync += synchronousRoundSeconds(3, [0, 1, 2, 3, 4].map((i) => (5 * r + i) % 30), r, speeds) + 10;
    expect(s.groups.at(-1)!.at).toBeLessThan(sync);
  });
});
