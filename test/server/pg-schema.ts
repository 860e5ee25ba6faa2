import { randomBytes } from 'node:crypto';
import pg from 'pg';

const made = new Set<string>();

/** A new, empty schema on the test server, so that test files and processes never share tables. */
export async function freshSchema(url: string): Promise<string> {
  const schema = `t_${process.pid}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  made.add(schema);
  return schema;
}

/** Drops the schemas {@link freshSchema} made in this process. */
export async function dropSchemas(url: string): Promise<void> {
  if (made.size === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of made) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    made.clear();
  } finally {
    await client.end();
  }
}
