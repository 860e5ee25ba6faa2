import { z } from 'zod';
import { FedveilError } from '../../secagg/util/errors.js';
import { deepFreeze } from '../deep-freeze.js';
import type { ServerMessage } from '../messages.js';
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

/**
 * A server message that passed {@link validateServerMessage}, with the JSON the validation
 * produced (what {@link ClientRound} compares a repeated request by). Made only by
 * {@link checkServerMessage}, which freezes the message: a checked message can be handed to many
 * clients without any of them being able to change what the others were given.
 */
export interface CheckedServerMessage {
  readonly message: ServerMessage;
  readonly json: string;
}

/** The checked messages made here: a look-alike object built elsewhere is validated like any other message. */
const checkedByThisModule = new WeakSet<object>();

/**
 * Validates `message` as {@link validateServerMessage} does (same refusal), then freezes it
 * (every object and array in it; byte arrays cannot be frozen and are never written by a client).
 */
export function checkServerMessage(message: ServerMessage): CheckedServerMessage {
  const json = JSON.stringify(validateServerMessage(message));
  const checked = Object.freeze({ message: deepFreeze(message), json });
  checkedByThisModule.add(checked);
  return checked;
}

/** Whether `x` was made by {@link checkServerMessage}. */
export function isCheckedServerMessage(x: unknown): x is CheckedServerMessage {
  return typeof x === 'object' && x !== null && checkedByThisModule.has(x);
}
