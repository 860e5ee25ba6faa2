import { nodeProvider } from './node.js';
import { sodiumProvider } from './sodium.js';

export { nobleProvider } from './noble.js';
export { nodeProvider } from './node.js';
export { sodiumProvider } from './sodium.js';

/**
 * The provider fedveil uses unless told otherwise: {@link sodiumProvider} (libsodium, fastest)
 * where its prebuilt addon loads, else {@link nodeProvider} (OpenSSL through node:crypto). Its
 * `name` says which.
 */
export const defaultProvider = sodiumProvider ?? nodeProvider;
