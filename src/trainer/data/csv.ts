/**
 * Tabular data from CSV text — what a hospital or bank actually holds. Every feature column must
 * be numeric; the label column may hold any strings, which become class indices. Normalisation
 * statistics are computed from the participant's own rows ({@link fitStandardizer}), never shared.
 */
import { TrainerError, ensure } from '../errors.js';
import type { Dataset } from './dataset.js';

/** Options for {@link parseCsv}. */
export interface CsvOptions {
  /**
   * Name of the label column (a header name), or its 0-based index when there is no header; null
   * for unlabelled rows (every label is then 0 and `labelled` false).
   */
  labelColumn: string | number | null;
  /** Whether the first row is a header. Default true. */
  header?: boolean;
  /** Field delimiter, one character. Default `,`. */
  delimiter?: string;
  /**
   * Feature columns to use, in this order (header names or indices). Default: every column but
   * the label. Giving them pins the schema, so a file with reordered columns still lines up.
   */
  featureColumns?: readonly (string | number)[];
  /**
   * Class names in class-index order. Default: the distinct label values sorted (numerically when
   * all are numbers), which differs between participants whose data lacks a class — federations
   * should pass the agreed list. A label outside the list is an error.
   */
  classNames?: readonly string[];
}

/** A parsed CSV: the dataset and the schema that produced it. */
export interface CsvDataset extends Dataset {
  /** Names of the feature columns, in feature order. */
  readonly featureNames: readonly string[];
  /** Class names, index-aligned with the labels. */
  readonly classNames: readonly string[];
  /** Whether the rows carried labels (false: every label is 0, a placeholder). */
  readonly labelled: boolean;
}

/**
 * A tabular data schema, as a federation agrees on it: feature columns by header name in model
 * order, the label column, the ordered classes, the delimiter, and the standardisation: fixed by
 * the operator (per-feature mean and std, in feature order), or one the federation estimates
 * (`federated`), which the reader leaves to the caller: it is known only after the federation ran.
 */
export interface TabularSchema {
  readonly features: readonly string[];
  readonly label: string;
  readonly classes: readonly string[];
  readonly delimiter?: string;
  readonly standardize?: { readonly mean: readonly number[]; readonly std: readonly number[] } | { readonly federated: unknown };
}

/** Splits CSV text into rows of fields (RFC 4180 quoting: `"a,b"`, `""` for a quote). */
function splitRows(text: string, delimiter: string): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = [];
  let field = '';
  let fields: string[] = [];
  let inQuotes = false;
  let line = 1;
  let rowLine = 1;
  let sawAny = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.length === 0) {
      inQuotes = true;
      sawAny = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      sawAny = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      if (sawAny || field.length > 0) rows.push({ fields, line: rowLine });
      fields = [];
      field = '';
      sawAny = false;
      line++;
      rowLine = line;
    } else {
      field += c;
      sawAny = true;
    }
  }
  if (inQuotes) throw new TrainerError('trainer/csv-unterminated-quote', `CSV line ${rowLine}: a quoted field is never closed`);
  if (sawAny || field.length > 0) {
    fields.push(field);
    rows.push({ fields, line: rowLine });
  }
  return rows;
}

function resolveColumn(ref: string | number, names: readonly string[], hasHeader: boolean, what: string): number {
  if (typeof ref === 'number') {
    ensure(Number.isInteger(ref) && ref >= 0 && ref < names.length, what === 'label' ? 'trainer/csv-missing-label-column' : 'trainer/csv-unknown-column', `${what} column index ${ref} is outside the ${names.length} columns`);
    return ref;
  }
  const i = names.indexOf(ref);
  if (i < 0) {
    const code = what === 'label' ? 'trainer/csv-missing-label-column' : 'trainer/csv-unknown-column';
    const where = hasHeader ? `the header has ${names.map((n) => `"${n}"`).join(', ')}` : 'the CSV has no header, so name columns by index';
    throw new TrainerError(code, `${what} column "${ref}" not found: ${where}`);
  }
  return i;
}

/**
 * Parses CSV text into a {@link CsvDataset}. Errors (each a `TrainerError`): `trainer/csv-empty`,
 * `trainer/csv-missing-label-column`, `trainer/csv-unknown-column`, `trainer/csv-ragged-row`
 * (a row with a different number of fields than the header), `trainer/csv-non-numeric` (a
 * feature cell that is not a finite number, with its line and column), `trainer/csv-missing-label`
 * (an empty label cell), `trainer/csv-unknown-class`, `trainer/csv-too-many-classes`.
 */
export function parseCsv(text: string, opts: CsvOptions): CsvDataset {
  return fromRows(splitRows(text, checkedDelimiter(opts.delimiter)), opts);
}

function checkedDelimiter(delimiter = ','): string {
  ensure(delimiter.length === 1 && delimiter !== '"' && delimiter !== '\n' && delimiter !== '\r', 'trainer/bad-option', `CSV delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  return delimiter;
}

function fromRows(rows: { fields: string[]; line: number }[], opts: CsvOptions): CsvDataset {
  const hasHeader = opts.header ?? true;
  ensure(rows.length > 0, 'trainer/csv-empty', 'CSV text holds no rows');
  const width = rows[0]!.fields.length;
  const names = hasHeader ? rows[0]!.fields.map((s) => s.trim()) : Array.from({ length: width }, (_, i) => String(i));
  const body = hasHeader ? rows.slice(1) : rows;
  ensure(body.length > 0, 'trainer/csv-empty', 'CSV text holds a header but no data rows');

  const labelIdx = opts.labelColumn === null ? -1 : resolveColumn(opts.labelColumn, names, hasHeader, 'label');
  const featureIdx = opts.featureColumns
    ? opts.featureColumns.map((c) => resolveColumn(c, names, hasHeader, 'feature'))
    : names.map((_, i) => i).filter((i) => i !== labelIdx);
  ensure(featureIdx.length > 0, 'trainer/csv-no-features', 'CSV has no feature columns besides the label');
  ensure(!featureIdx.includes(labelIdx), 'trainer/csv-unknown-column', `the label column "${names[labelIdx]}" cannot also be a feature`);

  const n = body.length;
  const d = featureIdx.length;
  const features = new Float32Array(n * d);
  const rawLabels: string[] = new Array<string>(n);
  for (let r = 0; r < n; r++) {
    const { fields, line } = body[r]!;
    if (fields.length !== width) {
      throw new TrainerError('trainer/csv-ragged-row', `CSV line ${line} has ${fields.length} fields, expected ${width} (one per ${hasHeader ? 'header' : 'first-row'} column)`);
    }
    for (let j = 0; j < d; j++) {
      const col = featureIdx[j]!;
      const cell = fields[col]!.trim();
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new TrainerError('trainer/csv-non-numeric', `CSV line ${line}, column "${names[col]}": ${JSON.stringify(fields[col])} is not a finite number`);
      }
      features[r * d + j] = v;
    }
    if (labelIdx < 0) continue;
    const label = fields[labelIdx]!.trim();
    ensure(label !== '', 'trainer/csv-missing-label', `CSV line ${line}: the label column "${names[labelIdx]}" is empty`);
    rawLabels[r] = label;
  }
  if (labelIdx < 0) {
    const classNames = [...(opts.classNames ?? [])];
    return { features, labels: new Uint8Array(n), size: n, featureShape: [d], numClasses: Math.max(classNames.length, 1), classNames, featureNames: featureIdx.map((i) => names[i]!), labelled: false };
  }

  let classNames: string[];
  if (opts.classNames) {
    classNames = [...opts.classNames];
    ensure(new Set(classNames).size === classNames.length, 'trainer/bad-option', 'classNames must be distinct');
  } else {
    classNames = [...new Set(rawLabels)];
    const numeric = classNames.every((s) => Number.isFinite(Number(s)));
    classNames.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  }
  ensure(classNames.length <= 256, 'trainer/csv-too-many-classes', `label column has ${classNames.length} distinct values; at most 256 classes are supported`);
  const index = new Map(classNames.map((c, i) => [c, i]));
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const k = index.get(rawLabels[r]!);
    if (k === undefined) {
      throw new TrainerError('trainer/csv-unknown-class', `CSV line ${body[r]!.line}, column "${names[labelIdx]}": label "${rawLabels[r]}" is not one of the classes ${classNames.join(', ')}`);
    }
    labels[r] = k;
  }
  return {
    features,
    labels,
    size: n,
    featureShape: [d],
    numClasses: Math.max(classNames.length, 1),
    classNames,
    featureNames: featureIdx.map((i) => names[i]!),
    labelled: true,
  };
}

/**
 * Reads CSV text that must follow a federation's {@link TabularSchema}: a header naming every
 * schema column (other columns are ignored), the label column unless `labels` is 'optional'
 * (then a file without it reads as unlabelled, e.g. data to predict), labels among the schema's
 * classes, numeric features, and as many fields in every row as in the header. Applies the
 * schema's fixed standardisation (a `federated` one leaves the features as read). The same errors as {@link parseCsv}, each naming the line or the
 * column and the rule; an unlabelled file where labels are required is `trainer/csv-missing-label-column`.
 */
export function parseTabular(text: string, schema: TabularSchema, opts: { labels?: 'required' | 'optional' } = {}): CsvDataset {
  const rows = splitRows(text, checkedDelimiter(schema.delimiter));
  ensure(rows.length > 0, 'trainer/csv-empty', 'CSV text holds no rows');
  const header = rows[0]!.fields.map((s) => s.trim());
  const labelled = header.includes(schema.label) || opts.labels !== 'optional';
  const ds = fromRows(rows, { labelColumn: labelled ? schema.label : null, featureColumns: schema.features, classNames: schema.classes });
  if (!schema.standardize || !('mean' in schema.standardize)) return ds;
  return standardize(ds, { mean: Float64Array.from(schema.standardize.mean), std: Float64Array.from(schema.standardize.std) });
}

/** Per-feature mean and standard deviation, computed from one participant's rows. */
export interface Standardizer {
  readonly mean: Float64Array;
  readonly std: Float64Array;
}

/**
 * Computes per-feature mean and standard deviation over `ds` (flat features). Constant features
 * get std 1 so that standardising leaves them at 0 instead of dividing by zero.
 */
export function fitStandardizer(ds: Pick<Dataset, 'features' | 'size' | 'featureShape'>): Standardizer {
  ensure(ds.size > 0, 'trainer/csv-empty', 'cannot compute normalisation statistics from an empty dataset');
  const d = ds.featureShape.reduce((a, b) => a * b, 1);
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  // Welford's update: stable for large, offset values (e.g. incomes, timestamps).
  for (let r = 0; r < ds.size; r++) {
    for (let j = 0; j < d; j++) {
      const x = ds.features[r * d + j]!;
      const delta = x - mean[j]!;
      mean[j] = mean[j]! + delta / (r + 1);
      m2[j] = m2[j]! + delta * (x - mean[j]!);
    }
  }
  const std = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(m2[j]! / ds.size);
    std[j] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

/** A copy of `ds` with every feature standardised: (x − mean) / std. */
export function standardize<T extends Dataset>(ds: T, s: Standardizer): T {
  const d = ds.featureShape.reduce((a, b) => a * b, 1);
  ensure(s.mean.length === d && s.std.length === d, 'trainer/shape-mismatch', `standardizer has ${s.mean.length} features but the dataset has ${d}`);
  const out = new Float32Array(ds.features.length);
  for (let r = 0; r < ds.size; r++) {
    for (let j = 0; j < d; j++) out[r * d + j] = (ds.features[r * d + j]! - s.mean[j]!) / s.std[j]!;
  }
  return { ...ds, features: out };
}
