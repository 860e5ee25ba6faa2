/**
 * Where the tests find the services they cannot start themselves: Debian's Chromium for the
 * browser tests and a PostgreSQL server for the Postgres store. `.ci/services.sh` starts both and
 * exports their locations; CI also sets FEDVEIL_REQUIRE_SERVICES=1, so a missing service fails
 * the run there instead of skipping silently.
 */
import { existsSync } from 'node:fs';

/** A service the suite needs, or why it is absent (the reason is printed as the skip message). */
export interface Service {
  readonly available: boolean;
  /** The browser executable path, or the Postgres connection URL; '' when absent. */
  readonly location: string;
  readonly skipReason: string;
}

const required = process.env.FEDVEIL_REQUIRE_SERVICES === '1';

function resolve(name: string, location: string, missing: string): Service {
  if (location !== '') return { available: true, location, skipReason: '' };
  if (required) throw new Error(`${name} is required here (FEDVEIL_REQUIRE_SERVICES=1) but ${missing}`);
  return { available: false, location: '', skipReason: `${name} tests skipped: ${missing}` };
}

/** Debian's Chromium (never a downloaded browser). */
export function chromium(): Service {
  const path = process.env.FEDVEIL_CHROMIUM ?? '/usr/bin/chromium';
  return resolve('browser', existsSync(path) ? path : '', `no Chromium at ${path} (apt-get install chromium, or source .ci/services.sh)`);
}

/** A PostgreSQL server the tests may create tables in. */
export function postgres(): Service {
  const url = process.env.FEDVEIL_TEST_POSTGRES ?? '';
  return resolve('Postgres', url, 'FEDVEIL_TEST_POSTGRES is not set (source .ci/services.sh to start a local cluster)');
}
