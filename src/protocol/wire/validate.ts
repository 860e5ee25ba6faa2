import { z } from 'zod';
import { FedveilError } from '../../secagg/util/errors.js';
import { ClientMessageSchema, ServerMessageSchema } from './schemas.js';

/**
 * Structural validation of in-memory messages, used by the state machines at their entry so that
 * a message built in memory (not decoded from JSON) gets exactly the checks of the wire schemas.
 * Returns the JSON form (useful to compare two messages) or throws `protocol/malformed-message`.
 */
export function validateClientMessage(msg: unknown): unknown {
  if (typeof msg !== 'object' || msg === null) {
    throw new FedveilError('protocol/malformed-message', 'a client message must be an object');
  }
  let envelope: unknown = msg;
  if ((msg as { type?: unknown }).type === 'masked-input') {
    const { vector, ...rest } = msg as { vector?: unknown };
    if (!(vector instanceof Uint8Array)) {
      throw new FedveilError('protocol/missing-vector', 'masked-input needs its packed vector');
    }
    envelope = rest;
  }
  const r = z.safeEncode(ClientMessageSchema, envelope as z.output<typeof ClientMessageSchema>);
  if (!r.success) throw new FedveilError('protocol/malformed-message', `client message: ${z.prettifyError(r.error)}`);
  return r.data;
}

/** As {@link validateClientMessage}, for server messages. */
export function validateServerMessage(msg: unknown): unknown {
  if (typeof msg !== 'object' || msg === null) {
    throw new FedveilError('protocol/malformed-message', 'a server message must be an object');
  }
  const r = z.safeEncode(ServerMessageSchema, msg as z.output<typeof ServerMessageSchema>);
  if (!r.success) throw new FedveilError('protocol/malformed-message', `server message: ${z.prettifyError(r.error)}`);
  return r.data;
}
