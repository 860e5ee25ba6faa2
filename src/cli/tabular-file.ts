import { readFileSync } from 'node:fs';
import { FedveilError } from '../secagg/index.js';
import { parseTabular, type CsvDataset, type TabularSchema } from '../trainer/index.js';

/**
 * The rows of the CSV file `file` under `schema`, for the commands that read one (`client
 * --data`, `serve --test-data`, `predict --data`). Throws FedveilError `cli/bad-data` when the
 * file cannot be read, and the parser's code when it does not fit, each message naming the file
 * as `o.name` (default `file`) and the schema as `o.schema`.
 */
export function readTabularFile(file: string, schema: TabularSchema, o: { schema: string; name?: string; labels?: 'required' | 'optional' }): CsvDataset {
  const name = o.name ?? file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FedveilError('cli/bad-data', `cannot read ${name}: ${(e as Error).message}`);
  }
  try {
    return parseTabular(text, schema, o.labels === undefined ? {} : { labels: o.labels });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') throw e;
    throw new FedveilError(code, `${name} does not fit ${o.schema}: ${(e as Error).message}`);
  }
}
