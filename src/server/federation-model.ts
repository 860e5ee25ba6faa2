import { z } from 'zod';
import { builtinParamCount } from '../trainer/model-size.js';
import type { ModelSpec } from '../trainer/models.js';
import type { DataSchema } from './data-schema.js';

/**
 * The federation's model: `model.options` checked per built-in model (every error names its
 * field), its input size and class count derived from the data schema, and `dim` (the length of
 * the vector the protocol sums) derived from both. An operator never types `dim` for a built-in
 * model; a `dim` that is given must match.
 */

const size = z.number().int().min(1).max(1 << 24);
const classCount = z.number().int().min(2).max(256);

/** `model.options` of each built-in model. */
const OPTIONS = {
  /** Multinomial logistic regression. */
  logreg: z.object({ inputSize: size.optional(), numClasses: classCount.optional() }).strict(),
  /** Fully connected ReLU network (default 784-200-200-10). */
  mlp: z.object({ inputSize: size.optional(), hidden: z.array(size).max(16).optional(), numClasses: classCount.optional() }).strict(),
  /**
   * A CNN over a [height, width, channels] input (default [28, 28, 1]): McMahan et al.'s by
   * default, or the given 5×5 convolutions' channels, hidden widths and downsampling.
   */
  cnn: z
    .object({
      inputShape: z.tuple([z.number().int().min(4).max(4096), z.number().int().min(4).max(4096), z.number().int().min(1).max(1024)]).optional(),
      numClasses: classCount.optional(),
      filters: z.array(z.number().int().min(1).max(1024)).min(1).max(8).optional(),
      hidden: z.array(size).max(16).optional(),
      downsample: z.enum(['max-pool', 'stride']).optional(),
    })
    .strict(),
  /** A Keras/tfjs JSON topology (a `model.json`, its `modelTopology`, or its text). */
  json: z.object({ topology: z.union([z.string().min(2), z.record(z.string(), z.unknown())]) }).strict(),
} as const;

/** Names of the built-in models whose options {@link resolveFederationModel} checks. */
export const BUILTIN_MODELS = Object.keys(OPTIONS) as (keyof typeof OPTIONS)[];

/** A problem with the model section, its path from the config root. */
export interface ModelIssue {
  path: (string | number)[];
  message: string;
}

/** The model as every participant builds it: options complete, and its vector length. */
export interface ResolvedModel {
  model: { name: string; options: Record<string, unknown> };
  dim: number;
}

function issueAt(issues: ModelIssue[], field: string | (string | number)[], message: string): void {
  issues.push({ path: ['model', 'options', ...(Array.isArray(field) ? field : [field])], message });
}

/** Fills `value` from the data schema's `derived`, or checks a given one against it. */
function derive(issues: ModelIssue[], field: string, given: number | undefined, derived: number | undefined, what: string): number | undefined {
  if (derived === undefined) return given;
  if (given !== undefined && given !== derived) {
    issueAt(issues, field, `${given} does not match the ${derived} ${what}; leave it out: it is derived from the data schema`);
  }
  return derived;
}

/**
 * Checks `model.options` for a built-in model, derives what the data schema determines (input
 * size from `data.features`, class count from `data.classes`) and the parameter count `dim`.
 * A model that is not built in (or `json`) needs an explicit `dim`, checked when the model is
 * built. Returns the resolved model or the issues, each naming its field.
 */
export function resolveFederationModel(
  model: { name: string; options: Record<string, unknown> },
  data: DataSchema | undefined,
  dim: number | undefined,
): ResolvedModel | { issues: ModelIssue[] } {
  const issues: ModelIssue[] = [];
  const features = data?.features.length;
  const classes = data?.classes.length;
  const name = model.name;
  let spec: ModelSpec | null = null;
  let options: Record<string, unknown> = model.options;
  if (name === 'logreg' || name === 'mlp' || name === 'cnn' || name === 'json') {
    const parsed = OPTIONS[name].safeParse(model.options);
    if (!parsed.success) {
      for (const i of parsed.error.issues) issueAt(issues, i.path as (string | number)[], i.message);
      return { issues };
    }
    if (name === 'logreg') {
      const o = parsed.data as z.output<typeof OPTIONS.logreg>;
      const inputSize = derive(issues, 'inputSize', o.inputSize, features, 'feature columns of data.features');
      const numClasses = derive(issues, 'numClasses', o.numClasses, classes, 'classes of data.classes');
      if (inputSize === undefined) issueAt(issues, 'inputSize', "required for model 'logreg' (or give a data schema, from which it is derived)");
      if (numClasses === undefined) issueAt(issues, 'numClasses', "required for model 'logreg' (or give a data schema, from which it is derived)");
      if (inputSize !== undefined && numClasses !== undefined) {
        options = { inputSize, numClasses };
        spec = { kind: 'logreg', inputSize, numClasses };
      }
    } else if (name === 'mlp') {
      const o = parsed.data as z.output<typeof OPTIONS.mlp>;
      const inputSize = derive(issues, 'inputSize', o.inputSize, features, 'feature columns of data.features') ?? 784;
      const numClasses = derive(issues, 'numClasses', o.numClasses, classes, 'classes of data.classes') ?? 10;
      const hidden = o.hidden ?? [200, 200];
      options = { inputSize, hidden, numClasses };
      spec = { kind: 'mlp', inputSize, hidden, numClasses };
    } else if (name === 'cnn') {
      const o = parsed.data as z.output<typeof OPTIONS.cnn>;
      const numClasses = derive(issues, 'numClasses', o.numClasses, classes, 'classes of data.classes') ?? 10;
      const inputShape = o.inputShape ?? [28, 28, 1];
      const values = inputShape[0] * inputShape[1] * inputShape[2];
      if (features !== undefined && values !== features) {
        issueAt(
          issues,
          'inputShape',
          `${o.inputShape === undefined ? 'the default ' : ''}[${inputShape.join(', ')}] holds ${values} values but data.features lists ${features} columns: give [height, width, channels] with height·width·channels = ${features}`,
        );
      }
      // The architecture's fields appear only where given, so McMahan et al.'s CNN resolves as it always has.
      const arch = { ...(o.filters === undefined ? {} : { filters: o.filters }), ...(o.hidden === undefined ? {} : { hidden: o.hidden }), ...(o.downsample === undefined ? {} : { downsample: o.downsample }) };
      const convolutions = (o.filters ?? [32, 64]).length;
      // Max pooling rounds each halving down: too many convolutions leave no image to convolve.
      if (o.downsample !== 'stride' && Math.min(inputShape[0], inputShape[1]) >> convolutions === 0) {
        issueAt(issues, 'filters', `${convolutions} convolutions, each followed by 2×2 max pooling, leave nothing of a ${inputShape[0]}×${inputShape[1]} image: use fewer, or downsample 'stride'`);
      }
      options = { inputShape, numClasses, ...arch };
      spec = { kind: 'cnn', inputShape, numClasses, ...arch };
    }
  }
  if (issues.length > 0) return { issues };
  const derived = spec === null ? null : builtinParamCount(spec);
  if (derived === null) {
    if (dim === undefined) {
      const why = name === 'json' ? "a 'json' model's size is known only once it is built" : `'${name}' is not a built-in model (${BUILTIN_MODELS.join(', ')})`;
      return { issues: [{ path: ['dim'], message: `required: ${why}; serve checks it against the model it builds` }] };
    }
    return { model: { name, options }, dim };
  }
  if (dim !== undefined && dim !== derived) {
    const shape = Object.entries(options)
      .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
      .join(', ');
    return { issues: [{ path: ['dim'], message: `${dim} does not match the ${derived} parameters of model '${name}' (${shape}); leave dim out: it is derived` }] };
  }
  return { model: { name, options }, dim: derived };
}
