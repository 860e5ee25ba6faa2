import type { PhaseName } from './config.js';
import type { RoundRecord, StoredModel } from './store.js';

/** A `rounds` table row, as both SQL stores lay it out. */
export interface RoundRow {
  round: number;
  status: RoundRecord['status'];
  started_at: string;
  ended_at: string | null;
  cohort: string;
  draw: string;
  phase: string | null;
  abort_reason: string | null;
}

/** A `models` table row, as both SQL stores lay it out. */
export interface ModelRow {
  version: number;
  hash: string;
  weights: Buffer;
  optimizer_state: Buffer | null;
}

/** The stored model a `models` row holds. */
export function modelOf(row: ModelRow): StoredModel {
  return {
    version: row.version,
    hash: row.hash,
    weights: new Uint8Array(row.weights),
    optimizerState: row.optimizer_state === null ? null : new Uint8Array(row.optimizer_state),
  };
}

/** The round record a `rounds` row holds. */
export function roundOf(r: RoundRow): RoundRecord {
  return {
    round: r.round,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    cohort: JSON.parse(r.cohort) as string[],
    draw: JSON.parse(r.draw) as Record<string, unknown>,
    phase: r.phase as PhaseName | null,
    abortReason: r.abort_reason,
  };
}
