import { z } from 'zod';

/**
 * How a round's cohort was drawn from the federation's population, as the accountant needs it.
 *
 * - `poisson`: every member of the population joined independently with probability `rate`.
 * - `fixed`: a uniformly random subset of exactly `size` members.
 * - `all`: every member of the population was asked.
 *
 * `secretSeed` says whether the draw's randomness was secret. Amplification by sampling is claimed
 * only for a secret draw: a draw anyone can replay (a public seed, as every simulation fixes) tells
 * an observer who was in the cohort, and then sampling hides nothing.
 */
export type CohortMethod =
  | { kind: 'poisson'; rate: number; population: number; secretSeed: boolean }
  | { kind: 'fixed'; size: number; population: number; secretSeed: boolean }
  | { kind: 'all'; population: number };

const population = z.number().int().min(1);

/** zod schema of {@link CohortMethod} (strict; a fixed size never exceeds the population). */
export const CohortMethodSchema: z.ZodType<CohortMethod> = z.union([
  z.object({ kind: z.literal('poisson'), rate: z.number().gt(0).max(1), population, secretSeed: z.boolean() }).strict(),
  z
    .object({ kind: z.literal('fixed'), size: z.number().int().min(1), population, secretSeed: z.boolean() })
    .strict()
    .refine((c) => c.size <= c.population, { message: 'size must not exceed population', path: ['size'] }),
  z.object({ kind: z.literal('all'), population }).strict(),
]);

/** True when the draw supports amplification by sampling: a secret Poisson or fixed-size draw of less than everyone. */
export function cohortAmplifies(cohort: CohortMethod): boolean {
  switch (cohort.kind) {
    case 'poisson':
      return cohort.secretSeed && cohort.rate < 1;
    case 'fixed':
      return cohort.secretSeed && cohort.size < cohort.population;
    case 'all':
      return false;
  }
}

/** The most members a cohort drawn this way can have. */
export function maxCohortMembers(cohort: CohortMethod): number {
  return cohort.kind === 'fixed' ? cohort.size : cohort.population;
}
