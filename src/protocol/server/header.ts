import type { RoundPlan } from '../config.js';
import type { ServerHeader } from '../messages.js';
import { PROTOCOL_VERSION, type Phase } from '../phases.js';

/** Header of a server message asking for `phase`. */
export function serverHeader(plan: RoundPlan, phase: Phase): ServerHeader {
  return { version: PROTOCOL_VERSION, federationId: plan.config.federationId, round: plan.config.round, phase };
}
