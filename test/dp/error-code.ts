import { FedveilError } from '../../src/secagg/util/errors.js';

/** The FedveilError code `fn` throws (a description for any other error), or undefined when it returns. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof FedveilError ? e.code : `not a FedveilError: ${String(e)}`;
  }
  return undefined;
}
