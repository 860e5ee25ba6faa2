import { z } from 'zod';
import { clipFactor, updateL2Norm } from '../dp/encoding/clip.js';

/**
 * Staleness of an asynchronous federation (FedBuff, Nguyen et al. 2022): an update trained on
 * model version v and applied at version v' is τ = v' − v versions stale and is down-weighted by
 * s(τ) ≤ 1. The participant multiplies its clipped update by s(τ) before encoding, so the
 * sensitivity of the group's sum stays at most the clip norm and the coordinator learns only the
 * weighted sum.
 */

/** How an update's weight decays with its staleness. */
export const StalenessFunctionSchema = z.discriminatedUnion('function', [
  /** FedBuff's polynomial decay s(τ) = (1 + τ)^(−exponent). */
  z.object({ function: z.literal('polynomial'), exponent: z.number().min(0).max(16).default(0.5) }).strict(),
  /** No down-weighting: s(τ) = 1 (only the staleness bound applies). */
  z.object({ function: z.literal('constant') }).strict(),
]);

/** A validated staleness function. */
export type StalenessFunction = z.infer<typeof StalenessFunctionSchema>;

/** The weight s(τ) of an update `tau` versions stale (τ a non-negative integer). */
export function stalenessWeight(fn: StalenessFunction, tau: number): number {
  if (!Number.isSafeInteger(tau) || tau < 0) return Number.NaN;
  switch (fn.function) {
    case 'polynomial':
      return Math.pow(1 + tau, -fn.exponent);
    case 'constant':
      return 1;
  }
}

/**
 * Whether a stated weight is s(τ). Equal up to a relative 1e-12: the weight travels as a JSON
 * number and another runtime's `Math.pow` may differ in the last bit, but never by more.
 */
export function weightMatches(fn: StalenessFunction, tau: number, stated: number): boolean {
  const expected = stalenessWeight(fn, tau);
  return Number.isFinite(stated) && Number.isFinite(expected) && Math.abs(stated - expected) <= 1e-12 * expected;
}

/**
 * The group of an asynchronous round as its binding covers it: the model version the group's sum
 * is applied to, and for every member (in index order) the version it trained on and its weight.
 */
export const AsyncGroupSchema = z
  .object({
    /** v': the published model version when the group formed (its release makes version v' + 1). */
    modelVersion: z.number().int().min(0),
    /** v of each member, in the round's index order. */
    trainedOn: z.array(z.number().int().min(0)),
    /** s(v' − v) of each member, in index order. */
    weights: z.array(z.number().gt(0).max(1)),
  })
  .strict();

/** A group's versions and weights. */
export type AsyncGroup = z.infer<typeof AsyncGroupSchema>;

/** A problem with a group record: which rule it breaks, and what it says. */
export interface GroupProblem {
  code: 'stale-member' | 'staleness-weight-mismatch' | 'group-shape';
  message: string;
}

/**
 * Every way `group` breaks the federation's staleness rules, for a round of `members` members
 * that started from model version `modelVersion`: a member staler than `maxStaleness` (or trained
 * on a version not yet published), a weight that is not s(τ), lists of the wrong length, or a
 * group version that is not the round's.
 */
export function groupProblems(
  group: AsyncGroup,
  rules: { maxStaleness: number; staleness: StalenessFunction },
  members: number,
  modelVersion: number,
): GroupProblem[] {
  const out: GroupProblem[] = [];
  if (group.trainedOn.length !== members || group.weights.length !== members) {
    out.push({ code: 'group-shape', message: `the group states ${group.trainedOn.length} versions and ${group.weights.length} weights for ${members} members` });
    return out;
  }
  if (group.modelVersion !== modelVersion) out.push({ code: 'group-shape', message: `the group is applied to model version ${group.modelVersion}, the round started from ${modelVersion}` });
  group.trainedOn.forEach((v, i) => {
    const tau = group.modelVersion - v;
    if (tau < 0 || tau > rules.maxStaleness) {
      out.push({ code: 'stale-member', message: `member ${i} trained on version ${v}, ${tau} versions from ${group.modelVersion} (the bound is ${rules.maxStaleness})` });
    } else if (!weightMatches(rules.staleness, tau, group.weights[i] as number)) {
      out.push({ code: 'staleness-weight-mismatch', message: `member ${i}'s weight ${group.weights[i]} is not s(${tau}) = ${stalenessWeight(rules.staleness, tau)}` });
    }
  });
  return out;
}

/**
 * A participant's check of its own place in a group before it contributes: the group must state
 * the version it really trained on, a staleness within the bound and the weight s(τ). Returns the
 * weight to apply, or the refusal: `client/no-group` (the round states no group),
 * `client/stale-update`, `client/staleness-weight-mismatch`.
 */
export function ownGroupWeight(
  group: AsyncGroup | undefined,
  index: number,
  trainedOn: number,
  rules: { maxStaleness: number; staleness: StalenessFunction },
): { ok: true; weight: number } | { ok: false; code: string; message: string } {
  if (group === undefined) return { ok: false, code: 'client/no-group', message: 'the round states no asynchronous group: no staleness weight to apply' };
  const stated = group.trainedOn[index];
  const weight = group.weights[index];
  if (stated !== trainedOn || weight === undefined) {
    return { ok: false, code: 'client/staleness-weight-mismatch', message: `the group says I trained on version ${stated}, I trained on ${trainedOn}` };
  }
  const tau = group.modelVersion - trainedOn;
  if (tau < 0 || tau > rules.maxStaleness) {
    return { ok: false, code: 'client/stale-update', message: `my update is ${tau} versions stale at version ${group.modelVersion}, the bound is ${rules.maxStaleness}` };
  }
  if (!weightMatches(rules.staleness, tau, weight)) {
    return { ok: false, code: 'client/staleness-weight-mismatch', message: `the group weights my update ${weight}, not s(${tau}) = ${stalenessWeight(rules.staleness, tau)}` };
  }
  return { ok: true, weight };
}

/**
 * The update a group member encodes: clipped to `clipNorm`, then multiplied by its staleness
 * weight s ≤ 1, so its norm stays at most the clip norm and the released sum is Σ sᵢ·clip(uᵢ).
 */
export function weightedUpdate(update: Float32Array, clipNorm: number, weight: number): Float32Array {
  const f = clipFactor(updateL2Norm(update), clipNorm) * weight;
  const out = new Float32Array(update.length);
  for (let i = 0; i < update.length; i++) out[i] = (update[i] as number) * f;
  return out;
}
