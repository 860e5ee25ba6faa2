import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerAccountant } from './accountant.js';
import { registerAudit } from './audit.js';
import { registerCanaries } from './canaries.js';
import { registerClient } from './client.js';
import { registerKeygen } from './keygen.js';
import { registerPredict } from './predict.js';
import { registerServe } from './serve.js';
import { registerSimulate } from './simulate.js';
import { registerVerifyReport } from './verify-report.js';

/** The package version, read from package.json (two levels up from both src/cli and dist/cli). */
export function packageVersion(): string {
  const raw = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const parsed = JSON.parse(raw) as { version?: unknown };
  if (typeof parsed.version !== 'string') throw new Error('package.json has no version string');
  return parsed.version;
}

/**
 * Builds the `fedveil` command. Each subcommand lives in its own module under src/cli and is
 * registered here, so `fedveil --help` lists everything the tool can do.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fedveil')
    .description('Privacy-audited federated learning: secure aggregation, distributed DP, a verifiable privacy ledger.')
    .version(packageVersion(), '-V, --version', 'print the fedveil version')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();
  registerAccountant(program);
  registerKeygen(program);
  registerServe(program);
  registerClient(program);
  registerPredict(program);
  registerVerifyReport(program);
  registerAudit(program);
  registerCanaries(program);
  registerSimulate(program);
  return program;
}
