import { FedveilError } from '../secagg/util/errors.js';

/**
 * Canonical JSON (the RFC 8785 "JCS" rules for the values fedveil writes): object keys sorted by
 * UTF-16 code units, no whitespace, numbers and strings serialised as ECMAScript's JSON.stringify
 * does. The same value always yields the same bytes, so hashes and signatures over it are stable.
 *
 * Refuses what JSON cannot represent faithfully: non-finite numbers, `undefined` object values,
 * functions, symbols, bigints, and objects that are not plain (Date, Map, typed arrays …), so a
 * value never hashes differently from the way it is later read back.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new FedveilError('canonical-json/non-finite', `${where}: ${value} has no JSON form`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${where}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new FedveilError('canonical-json/not-plain', `${where}: only plain objects and arrays can be encoded`);
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) throw new FedveilError('canonical-json/undefined', `${where}.${k} is undefined`);
        parts.push(`${JSON.stringify(k)}:${encode(v, `${where}.${k}`)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new FedveilError('canonical-json/unsupported', `${where}: a ${typeof value} has no JSON form`);
  }
}

/**
 * Relative tolerance of {@link equalUpToRounding}: far above the calibration's own precision
 * (1e-12) and the disagreement of JavaScript engines' `Math.exp`/`log`/`pow` in the last bits, far
 * below anything that moves ε (which the ledger recomputes from the recorded numbers anyway).
 */
export const RECOMPUTED_RELATIVE_TOLERANCE = 1e-9;

/**
 * Whether two JSON values are the same but for non-integer numbers that agree to `relative`:
 * for a value someone recomputes with floating-point maths (the noise multiplier a config
 * calibrates), which a browser's engine and Node's can round differently. Keys, strings, booleans,
 * integers and the shape must match exactly.
 */
export function equalUpToRounding(a: unknown, b: unknown, relative = RECOMPUTED_RELATIVE_TOLERANCE): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return true;
    if (Number.isInteger(a) || Number.isInteger(b) || !Number.isFinite(a) || !Number.isFinite(b)) return false;
    return Math.abs(a - b) <= relative * Math.max(Math.abs(a), Math.abs(b));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equalUpToRounding(x, b[i], relative));
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => equalUpToRounding((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], relative));
}
