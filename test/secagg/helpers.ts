import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { FedveilError } from '../../src/secagg/util/errors.js';

/** Parsed JSON of spec/vectors/<name>. */
export function loadVector<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../spec/vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** Asserts that `fn` throws a FedveilError with exactly `code`. */
export function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected FedveilError ${code}`).toBeInstanceOf(FedveilError);
  expect((thrown as FedveilError).code).toBe(code);
}
