import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/messages.js';
import { ServerMessageMemo } from '../../src/protocol/wire/message-memo.js';
import { decodeServerMessage, encodeServerMessage } from '../../src/protocol/wire/serialize.js';
import { checkServerMessage, isCheckedServerMessage } from '../../src/protocol/wire/validate.js';
import { FedveilError } from '../../src/secagg/util/errors.js';
import { codeOf, start, toClients, toServer, world, type World } from './helpers.js';

/** A malicious-mode round of 4 run honestly up to the unmask request, which is one message for every client. */
function atUnmask(seed: string): { w: World; request: ServerMessage; text: string } {
  const w = world({ mode: 'malicious', seed });
  const checks = toClients(w, toServer(w, toClients(w, toServer(w, toClients(w, toServer(w, start(w)))))));
  const requests = toServer(w, checks);
  const request = requests.get(0) as ServerMessage;
  expect(request.type).toBe('unmask-request');
  for (const m of requests.values()) expect(m).toBe(request);
  return { w, request, text: JSON.stringify(encodeServerMessage(request)) };
}

/** `text` with the first consistency signature's first hex digit changed. */
function withForgedSignature(text: string): string {
  const json = JSON.parse(text) as { signatures: { signature: string }[] };
  const s = json.signatures[0]!.signature;
  json.signatures[0]!.signature = (s[0] === '0' ? '1' : '0') + s.slice(1);
  return JSON.stringify(json);
}

function errorCode(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof FedveilError ? e.code : (e as Error).name;
  }
}

describe('ServerMessageMemo (a request decoded once for the clients of a process)', () => {
  it('decodes one text once; every client answers the shared, frozen message', () => {
    const { w, text } = atUnmask('memo-shared');
    const memo = new ServerMessageMemo();
    const checked = memo.checked(text);
    expect(memo.checked(`${text}`)).toBe(checked);
    expect(isCheckedServerMessage(checked)).toBe(true);
    expect(() => (checked.message as { u3: number[] }).u3.push(3)).toThrow(TypeError);
    for (const c of w.clients) expect(codeOf(c.receive(memo.checked(text)))).toBe('send');
  });

  it('never mixes texts: a forged signature is refused by the client given it, the genuine request answered by the others', () => {
    const { w, text } = atUnmask('memo-forged');
    const memo = new ServerMessageMemo();
    const genuine = memo.checked(text);
    const forged = memo.checked(withForgedSignature(text));
    expect(forged).not.toBe(genuine);
    expect(forged.message).not.toEqual(genuine.message);
    expect(codeOf(w.clients[0]!.receive(forged))).toBe('refused:protocol/bad-signature');
    for (const c of w.clients.slice(1)) expect(codeOf(c.receive(memo.checked(text)))).toBe('send');
    // Asked again, the forged text is still the forged message.
    expect(memo.checked(withForgedSignature(text))).toBe(forged);
  });

  it('refuses text that is not a server message every time, and keeps none of it', () => {
    const { text } = atUnmask('memo-malformed');
    const memo = new ServerMessageMemo();
    const unsorted = JSON.parse(text) as { signatures: unknown[] };
    unsorted.signatures.reverse();
    for (let i = 0; i < 2; i++) {
      expect(errorCode(() => memo.checked('{"type": "unmask-request",'))).toBe('SyntaxError');
      expect(errorCode(() => memo.checked(JSON.stringify(unsorted)))).toBe('protocol/malformed-message');
      expect(errorCode(() => memo.checked(JSON.stringify({ ...unsorted, type: 'key-list' })))).toBe('protocol/malformed-message');
    }
    expect(errorCode(() => memo.checked(text))).toBe('ok');
  });

  it('a look-alike of a checked message is validated like any other message, and rejected', () => {
    const { w, request } = atUnmask('memo-lookalike');
    // Signatures out of order break the wire schema; the client's own checks would not notice.
    const unsorted = { ...request, signatures: [...(request as { signatures: unknown[] }).signatures].reverse() } as ServerMessage;
    const lookalike = { message: unsorted, json: JSON.stringify(encodeServerMessage(request)) };
    expect(isCheckedServerMessage(lookalike)).toBe(false);
    expect(codeOf(w.clients[0]!.receive(lookalike as never))).toBe('rejected:protocol/malformed-message');
    expect(errorCode(() => checkServerMessage(unsorted))).toBe('protocol/malformed-message');
    expect(codeOf(w.clients[0]!.receive(unsorted))).toBe('rejected:protocol/malformed-message');
    expect(codeOf(w.clients[0]!.receive(checkServerMessage(request)))).toBe('send');
  });

  it('gives correct messages once its bounded memory is full', () => {
    const { text } = atUnmask('memo-capacity');
    const memo = new ServerMessageMemo(1);
    const forgedText = withForgedSignature(text);
    for (const t of [text, forgedText, text, forgedText]) expect(memo.checked(t).json).toBe(t);
    expect(memo.checked(text).message).toEqual(decodeServerMessage(JSON.parse(text)));
    expect(codeOf(atUnmask('memo-capacity').w.clients[1]!.receive(memo.checked(forgedText)))).toBe('refused:protocol/bad-signature');
  });
});
