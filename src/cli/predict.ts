import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { FedveilError } from '../secagg/index.js';
import { formatZodError } from '../server/config.js';
import { DataSchemaSchema, type DataSchema } from '../server/data-schema.js';
import { initBackend, predictClasses, type BackendKind } from '../trainer/index.js';
import { DATA_SCHEMA_FILE, loadModelFiles } from './model-files.js';
import { readTabularFile } from './tabular-file.js';

interface PredictOptions {
  model: string;
  data: string;
  schema?: string;
  json?: boolean;
  backend?: BackendKind;
}

/**
 * Reads a data schema: a `data-schema.json` as `fedveil serve` writes beside the model, or a
 * federation config (YAML or JSON), whose `data` section is used. Errors name the file and the field.
 */
export function readDataSchema(file: string): DataSchema {
  let value: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    value = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new FedveilError('cli/bad-schema', `cannot read the data schema ${file}: ${(e as Error).message}`);
  }
  if (value !== null && typeof value === 'object' && 'federationId' in value) {
    const data = (value as { data?: unknown }).data;
    if (data === undefined) throw new FedveilError('cli/bad-schema', `the federation config ${file} has no data section`);
    value = data;
  }
  const parsed = DataSchemaSchema.safeParse(value);
  if (!parsed.success) throw new FedveilError('cli/bad-schema', `${file} is not a data schema: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/** What `predict --json` prints. */
export interface PredictionSummary {
  rows: number;
  /** The class predicted for every row, in file order. */
  predictions: string[];
  /** With a label column: the fraction of rows predicted right, and per class (null for a class with no rows). */
  accuracy?: number;
  perClass?: Record<string, { rows: number; accuracy: number | null }>;
}

/**
 * `fedveil predict --model DIR --data FILE`: the released model's class for every row of a CSV
 * that follows the federation's data schema (read from DIR/data-schema.json unless `--schema`
 * names one), one class name per line; or, when the CSV has the label column, its accuracy.
 */
export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description("predict with a released model: one class per CSV row, or the accuracy when the CSV has the label column")
    .requiredOption('--model <dir>', 'model folder as `fedveil serve` writes it (model.json, weights.bin, data-schema.json)')
    .requiredOption('--data <file>', "CSV following the federation's data schema (the label column is optional)")
    .option('--schema <file>', `data schema (${DATA_SCHEMA_FILE}, or a federation config with a data section); default: the one in the model folder`)
    .option('--json', 'print one JSON object: predictions, and accuracy when the CSV is labelled')
    .addOption(new Option('--backend <name>', 'tfjs backend (default: fastest available)').choices(['node', 'wasm', 'cpu']).env('FEDVEIL_BACKEND'))
    .action(async (opts: PredictOptions) => {
      const schemaFile = opts.schema ?? join(opts.model, DATA_SCHEMA_FILE);
      if (opts.schema === undefined && !existsSync(schemaFile)) {
        throw new FedveilError('cli/bad-schema', `${opts.model} holds no ${DATA_SCHEMA_FILE}: name the federation's data schema (or its config) with --schema`);
      }
      const schema = readDataSchema(schemaFile);
      const data = readTabularFile(opts.data, schema, { schema: `the data schema ${schemaFile}`, labels: 'optional' });
      await initBackend(opts.backend ? { prefer: opts.backend } : {});
      const { model, metadata } = await loadModelFiles(opts.model);
      const outputs = model.outputs[0]!.shape.at(-1);
      if (outputs !== schema.classes.length) {
        throw new FedveilError('cli/schema-mismatch', `the model in ${opts.model} outputs ${outputs} classes, the data schema lists ${schema.classes.length}`);
      }
      const predicted = await predictClasses(model, data);
      const names = Array.from(predicted, (k) => schema.classes[k] as string);
      const release = (metadata as { fedveil?: { federationId?: string; modelVersion?: number } }).fedveil;
      if (release && !opts.json) process.stderr.write(`model v${release.modelVersion} of federation '${release.federationId}', ${data.size} rows\n`);
      const summary: PredictionSummary = { rows: data.size, predictions: names };
      if (data.labelled) {
        const rows = new Array<number>(schema.classes.length).fill(0);
        const right = new Array<number>(schema.classes.length).fill(0);
        for (let i = 0; i < data.size; i++) {
          const y = data.labels[i]!;
          rows[y]! += 1;
          if (predicted[i] === y) right[y]! += 1;
        }
        const correct = right.reduce((a, b) => a + b, 0);
        summary.accuracy = correct / data.size;
        summary.perClass = Object.fromEntries(schema.classes.map((c, k) => [c, { rows: rows[k]!, accuracy: rows[k]! > 0 ? right[k]! / rows[k]! : null }]));
        if (!opts.json) {
          process.stdout.write(`accuracy ${(100 * summary.accuracy).toFixed(2)}% (${correct} of ${data.size} rows)\n`);
          for (const [c, v] of Object.entries(summary.perClass)) {
            process.stdout.write(`  ${c}: ${v.accuracy === null ? 'no rows' : `${(100 * v.accuracy).toFixed(2)}% of ${v.rows} rows`}\n`);
          }
        }
      } else if (!opts.json) {
        process.stdout.write(names.map((n) => `${n}\n`).join(''));
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      model.dispose();
    });
}
