import { z } from 'zod';

/**
 * The data schema a federation agrees on: which columns of a participant's CSV are the features
 * (by header name, in model-input order), which is the label, the ordered list of classes (class
 * index = position in the list, the same at every participant whatever its own rows hold), the
 * delimiter, and the standardisation every participant applies. The coordinator publishes it in
 * `GET /v1/federation`; each client checks its data against it before it joins.
 *
 * Standardisation is either fixed by the operator (per-feature mean and standard deviation, e.g.
 * from public reference data or an earlier agreement) or `federated`: estimated before round 0 by a
 * statistics round under the federation's secure aggregation and DP (src/server/federated-statistics.ts),
 * from every participant's rows clamped to the per-feature range the operator declares.
 */

const columnName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^\S(?:.*\S)?$/, 'must not start or end with whitespace (CSV header cells are trimmed)');

const finite = z.number().finite();

/** A standardisation fixed by the operator: per-feature mean and standard deviation. */
const FixedStandardizationSchema = z
  .object({
    mean: z.array(finite),
    std: z.array(finite.gt(0)),
  })
  .strict();

/**
 * A standardisation the federation estimates in its statistics round. Each participant clamps
 * every feature to [lower, upper] (one bound per feature, in `features` order) before it averages,
 * which bounds what one participant can contribute; the estimated std is at least `stdFloor` times
 * the feature's range (noise can make the estimated variance negative).
 */
const FederatedStandardizationSchema = z
  .object({
    federated: z
      .object({
        lower: z.array(finite),
        upper: z.array(finite),
        stdFloor: z.number().gt(0).max(1).default(0.01),
      })
      .strict(),
  })
  .strict();

/** Zod schema of the `data` section of a federation config (and of `data-schema.json`). */
export const DataSchemaSchema = z
  .object({
    /** Feature columns, by header name, in the order the model takes them. */
    features: z.array(columnName).min(1).max(100_000),
    /** The label column's header name. */
    label: columnName,
    /** Class names; a label's class index is its position here. */
    classes: z.array(z.string().min(1).max(256).regex(/^\S(?:.*\S)?$/, 'must not start or end with whitespace (CSV cells are trimmed)')).min(2).max(256),
    /** CSV field delimiter, one character (default `,`). */
    delimiter: z
      .string()
      .length(1)
      .refine((d) => d !== '"' && d !== '\n' && d !== '\r', 'must not be a quote or a newline')
      .default(','),
    /**
     * Per-feature (x − mean) / std applied by every participant, in `features` order: fixed
     * (`{ mean, std }`), or `{ federated: { lower, upper, stdFloor } }`, estimated by the statistics round.
     */
    standardize: z.union([FixedStandardizationSchema, FederatedStandardizationSchema]).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    const seen = new Map<string, number>();
    d.features.forEach((f, i) => {
      if (seen.has(f)) ctx.addIssue({ code: 'custom', path: ['features', i], message: `column "${f}" is listed twice (also at features[${seen.get(f)}])` });
      seen.set(f, i);
    });
    if (seen.has(d.label)) ctx.addIssue({ code: 'custom', path: ['label'], message: `the label column "${d.label}" cannot also be a feature` });
    const classes = new Set<string>();
    d.classes.forEach((c, i) => {
      if (classes.has(c)) ctx.addIssue({ code: 'custom', path: ['classes', i], message: `class "${c}" is listed twice` });
      classes.add(c);
    });
    const perFeature = (path: (string | number)[], values: readonly number[]): void => {
      if (values.length !== d.features.length) {
        ctx.addIssue({ code: 'custom', path, message: `has ${values.length} values; it needs one per feature column (${d.features.length})` });
      }
    };
    const s = d.standardize;
    if (s !== undefined && 'mean' in s) {
      perFeature(['standardize', 'mean'], s.mean);
      perFeature(['standardize', 'std'], s.std);
    } else if (s !== undefined) {
      perFeature(['standardize', 'federated', 'lower'], s.federated.lower);
      perFeature(['standardize', 'federated', 'upper'], s.federated.upper);
      s.federated.lower.forEach((lo, i) => {
        const hi = s.federated.upper[i];
        if (hi !== undefined && !(lo < hi)) {
          ctx.addIssue({ code: 'custom', path: ['standardize', 'federated', 'upper', i], message: `${hi} is not above the lower bound ${lo} of feature "${d.features[i]}"` });
        }
      });
    }
  });

/** A validated data schema (delimiter filled in). */
export type DataSchema = z.output<typeof DataSchemaSchema>;
/** A data schema as written in a config file. */
export type DataSchemaInput = z.input<typeof DataSchemaSchema>;

/** A fixed standardisation: what every participant applies. */
export type FixedStandardization = z.output<typeof FixedStandardizationSchema>;
/** The `federated` settings of a data schema's standardisation. */
export type FederatedStandardizationSpec = z.output<typeof FederatedStandardizationSchema>['federated'];

/** The federated standardisation settings of a schema; null when it has none or a fixed one. */
export function federatedStandardization(data: Pick<DataSchema, 'standardize'> | null | undefined): FederatedStandardizationSpec | null {
  const s = data?.standardize;
  return s !== undefined && 'federated' in s ? s.federated : null;
}
