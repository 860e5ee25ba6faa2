import { FedveilError, randomBytes, toHex, type RandomSource } from '../secagg/index.js';
import { CoordinatorRejection, type CoordinatorHttp } from './http-transport.js';
import { JOIN_TARGET, JoinAckSchema, type FederationInfo, type JoinAck } from './wire.js';

/** A fresh session token: 16 random bytes, hex. */
export function newSessionToken(random: RandomSource): string {
  return toHex(randomBytes(random, 16));
}

/**
 * Joins the federation with `session` (signed `POST /v1/join`) and sends the token with every
 * later request of `http`. Throws FedveilError `client/not-a-participant` when the coordinator
 * does not list this identity, `client/identity-in-use` when another live process holds it,
 * each with the coordinator's explanation; other failures as the transport throws them.
 */
export async function joinFederation(http: CoordinatorHttp, info: FederationInfo, session: string, clock: () => number = Date.now): Promise<JoinAck> {
  const body = new TextEncoder().encode(JSON.stringify({ session, time: clock() }));
  let ack: JoinAck;
  try {
    ack = await http.postJson('/v1/join', body, 'application/json', JoinAckSchema, { federationId: info.federationId, ...JOIN_TARGET });
  } catch (e) {
    if (e instanceof CoordinatorRejection) {
      if (e.rule === 'auth/unknown-sender') throw new FedveilError('client/not-a-participant', `the coordinator at ${http.baseUrl} refused the join: ${stripPrefix(e)}`);
      if (e.rule === 'join/identity-in-use') throw new FedveilError('client/identity-in-use', `the coordinator at ${http.baseUrl} refused the join: ${stripPrefix(e)}`);
    }
    throw e;
  }
  http.session = session;
  return ack;
}

/** The coordinator's own message, without the transport's "coordinator answered 403 code:" prefix. */
function stripPrefix(e: CoordinatorRejection): string {
  return e.message.replace(/^coordinator answered \d+ [^:]+: /, '');
}
