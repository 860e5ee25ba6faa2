import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeProvider, seededRandom, toHex } from '../../src/secagg/index.js';
import { generateIdentity, writeIdentityFile } from '../../src/server/identity.js';

/**
 * An audited federation as its operator runs it, every step a separate `fedveil` process:
 * `fedveil canaries`, a config with the printed participants and `auditCommitment`, `fedveil
 * serve`, the training participants' and the canaries' `fedveil client`s, then, after the last
 * round, the secrets revealed into the export folder and `fedveil audit` and `fedveil
 * verify-report` run on it. `env` goes to every participant (FEDVEIL_TEST_NOISE_SCALE there makes
 * their build add only a fraction of the noise, while the coordinator still claims the calibrated ε).
 */

const fedveil = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'] as const;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What the operator saw. */
export interface AuditedFederation {
  /** The export folder: ledger, report, coordinator key, canary-audit/. */
  exported: string;
  serve: Exit;
  /** The training participants' and then the canaries' client runs. */
  clients: Exit[];
  audit: SpawnSyncReturns<string>;
  verify: SpawnSyncReturns<string>;
}

/** A started process, and what it has written to stderr so far (shown when a test fails). */
export interface Started {
  args: string[];
  child: ChildProcess;
  stderr: () => string;
}

function started(args: string[], env: Record<string, string>, processes: Started[]): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(fedveil[0], [...fedveil.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  processes.push({ args, child, stderr: () => stderr });
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise<Exit>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))) };
}

function cli(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(fedveil[0], [...fedveil.slice(1), ...args], { encoding: 'utf8' });
}

/**
 * Runs one round of a federation of `trainers` participants training a logistic regression on
 * MNIST shards and `canaries` canary participants, everyone in the cohort and no dropouts, Skellam
 * noise calibrated to ε = 8 at δ = 1e-5 with `colluders` assumed colluders (default 0);
 * `processes` collects the children so a failing test can stop them and show their logs.
 */
export async function runAuditedFederation(o: { dir: string; trainers: number; canaries: number; env?: Record<string, string>; colluders?: number; confidence?: number; processes: Started[] }): Promise<AuditedFederation> {
  const env = o.env ?? {};
  const federationId = 'audited-e2e';
  const made = cli(['canaries', '--count', String(o.canaries), '--federation-id', federationId, '--out', join(o.dir, 'canaries'), '--json']);
  if (made.status !== 0) throw new Error(`fedveil canaries failed: ${made.stderr}`);
  const printed = JSON.parse(made.stdout) as { auditCommitment: string; participants: string[]; secrets: string };
  const trainerKeys = Array.from({ length: o.trainers }, (_, i) => {
    const id = generateIdentity(nodeProvider, seededRandom(`audited-e2e-trainer-${i}`));
    writeIdentityFile(join(o.dir, `trainer-${i}.json`), id);
    return toHex(id.publicKey);
  });
  const n = o.trainers + o.canaries;
  const exported = join(o.dir, 'audit');
  writeFileSync(
    join(o.dir, 'federation.json'),
    JSON.stringify({
      federationId,
      participants: [...trainerKeys, ...printed.participants],
      auditCommitment: printed.auditCommitment,
      rounds: 1,
      cohort: { size: n },
      threshold: Math.floor(n / 2) + 1,
      minJoined: n,
      colluders: o.colluders ?? 0,
      dp: { mechanism: 'skellam', clipNorm: 0.5, bits: 32, scale: 1e-8, rotation: true, targetEpsilon: 8, delta: 1e-5, minContributors: n },
      model: { name: 'logreg', options: { inputSize: 784, numClasses: 10 } },
      deadlines: { 'advertise-keys': 120_000, 'share-keys': 60_000, 'masked-input': 120_000, 'consistency-check': 60_000, unmask: 60_000 },
      storage: { path: join(o.dir, 'coordinator.db') },
      listen: { host: '127.0.0.1', port: 0 },
      dashboard: false,
    }),
  );
  const serve = started(['serve', '--config', join(o.dir, 'federation.json'), '--export', exported], env, o.processes);
  const url = await new Promise<string>((resolve, reject) => {
    serve.child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    void serve.done.then((e) => reject(new Error(`fedveil serve exited ${e.code}: ${e.stderr}`)));
  });
  const client = (identity: string, role: string[]) =>
    started(['client', '--coordinator', url, '--identity', identity, ...role, '--give-up-after', '2m'], env, o.processes).done;
  const runs = [
    ...trainerKeys.map((_, i) => client(join(o.dir, `trainer-${i}.json`), ['--data', `mnist:${100 * i}-${100 * (i + 1)}`])),
    ...printed.participants.map((_, k) => client(join(o.dir, 'canaries', `canary-${k}.json`), ['--canary', printed.secrets])),
  ];
  const clients = await Promise.all(runs);
  const served = await serve.done;
  // After the last round the operator reveals the secrets beside the exported models, and audits.
  mkdirSync(join(exported, 'canary-audit'), { recursive: true });
  copyFileSync(printed.secrets, join(exported, 'canary-audit', 'canaries.json'));
  const audit = cli(['audit', exported, ...(o.confidence === undefined ? [] : ['--confidence', String(o.confidence)])]);
  const verify = cli(['verify-report', join(exported, 'report.json'), '--ledger', join(exported, 'ledger.jsonl'), '--coordinator-key', join(exported, 'coordinator-key.json')]);
  return { exported, serve: served, clients, audit, verify };
}

/** The `empiricalAudit` that `fedveil audit` wrote into the exported report. */
export function writtenAudit(f: AuditedFederation): { canaries: number; nulls: number; epsilon: number; lower: number; claimedEpsilon: number | null; passed: boolean } {
  return (JSON.parse(readFileSync(join(f.exported, 'report.json'), 'utf8')) as { empiricalAudit: ReturnType<typeof writtenAudit> }).empiricalAudit;
}
