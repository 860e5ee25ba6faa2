import { z } from 'zod';
import { FedveilError } from '../../secagg/util/errors.js';
import { packedLength } from '../../secagg/index.js';
import type { ClientMessage, MaskedInputMessage, ServerMessage } from '../messages.js';
import { ClientMessageSchema, MaskedInputEnvelopeSchema, ServerMessageSchema } from './schemas.js';

/**
 * Serialisation between in-memory messages and their wire forms: a JSON value per message, plus a
 * separate binary body (application/octet-stream) for the masked vector. Decoding throws
 * FedveilError `protocol/malformed-message` whose message names the field and the rule broken.
 */

/** A client message on the wire: its JSON, and for `masked-input` the packed vector body. */
export interface WireClientMessage {
  json: unknown;
  body?: Uint8Array;
}

function malformed(what: string, error: z.ZodError): FedveilError {
  return new FedveilError('protocol/malformed-message', `${what}: ${z.prettifyError(error)}`);
}

/** JSON (and body) of a client message. */
export function encodeClientMessage(msg: ClientMessage): WireClientMessage {
  if (msg.type === 'masked-input') {
    const { vector, ...envelope } = msg;
    return { json: z.encode(MaskedInputEnvelopeSchema, envelope), body: vector };
  }
  return { json: z.encode(ClientMessageSchema, msg) };
}

/**
 * The in-memory client message of `json` (and `body`, required for `masked-input`, whose size
 * must be exactly ceil(length · bits / 8) bytes). The body's hash is checked by the server round.
 */
export function decodeClientMessage(json: unknown, body?: Uint8Array): ClientMessage {
  const parsed = z.safeDecode(ClientMessageSchema, json as z.input<typeof ClientMessageSchema>);
  if (!parsed.success) throw malformed('client message', parsed.error);
  const msg = parsed.data;
  if (msg.type === 'masked-input') {
    if (!(body instanceof Uint8Array)) {
      throw new FedveilError('protocol/missing-vector', 'masked-input needs its packed vector as a binary body');
    }
    const expected = packedLength(msg.length, msg.bits);
    if (body.length !== expected) {
      throw new FedveilError(
        'protocol/vector-size-mismatch',
        `masked vector body is ${body.length} bytes; ${msg.length} values of ${msg.bits} bits pack into ${expected}`,
      );
    }
    return { ...msg, vector: body } satisfies MaskedInputMessage;
  }
  if (body !== undefined) {
    throw new FedveilError('protocol/unexpected-body', `a ${msg.type} message has no binary body`);
  }
  return msg;
}

/** JSON of a server message. */
export function encodeServerMessage(msg: ServerMessage): unknown {
  return z.encode(ServerMessageSchema, msg);
}

const serverJsonText = new WeakMap<ServerMessage, string>();

/**
 * The JSON text of a server message (`JSON.stringify` of {@link encodeServerMessage}), encoded once
 * per message object. A round hands one consistency request and one unmask request (with a quorum
 * of signatures, O(n)) to its whole cohort; encoding them per request cost the coordinator O(n²)
 * a round. Server messages are never changed once a round has sent them.
 */
export function serverMessageJson(msg: ServerMessage): string {
  let text = serverJsonText.get(msg);
  if (text === undefined) {
    text = JSON.stringify(encodeServerMessage(msg));
    serverJsonText.set(msg, text);
  }
  return text;
}

/** The in-memory server message of `json`. */
export function decodeServerMessage(json: unknown): ServerMessage {
  const parsed = z.safeDecode(ServerMessageSchema, json as z.input<typeof ServerMessageSchema>);
  if (!parsed.success) throw malformed('server message', parsed.error);
  return parsed.data;
}
