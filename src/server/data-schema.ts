import { z } from 'zod';

/**
 * The data schema a federation agrees on: which columns of a participant's CSV are the features
 * (by header name, in model-input order), which is the label, the ordered list of classes (class
 * index = position in the list, the same at every participant whatever its own rows hold), the
 * delimiter, and the standardisation every participant applies. The coordinator publishes it in
 * `GET /v1/federation`; each client checks its data against it before it joins.
 *
 * Standardisation is fixed by the operator (per-feature mean and standard deviation, e.g. from
 * public reference data or an earlier agreement); fedveil does not estimate it across
 * participants, which would need its own secure aggregation and privacy accounting.
 */

const columnName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^\S(?:.*\S)?$/, 'must not start or end with whitespace (CSV header cells are trimmed)');

const finite = z.number().finite();

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
    /** Per-feature (x − mean) / std applied by every participant, in `features` order. */
    standardize: z
      .object({
        mean: z.array(finite),
        std: z.array(finite.gt(0)),
      })
      .strict()
      .optional(),
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
    if (d.standardize) {
      for (const k of ['mean', 'std'] as const) {
        if (d.standardize[k].length !== d.features.length) {
          ctx.addIssue({
            code: 'custom',
            path: ['standardize', k],
            message: `has ${d.standardize[k].length} values; it needs one per feature column (${d.features.length})`,
          });
        }
      }
    }
  });

/** A validated data schema (delimiter filled in). */
export type DataSchema = z.output<typeof DataSchemaSchema>;
/** A data schema as written in a config file. */
export type DataSchemaInput = z.input<typeof DataSchemaSchema>;
