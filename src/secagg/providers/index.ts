import { nodeProvider } from './node.js';

export { nobleProvider } from './noble.js';
export { nodeProvider } from './node.js';

/** The provider fedveil uses unless told otherwise: {@link nodeProvider} (fast, node:crypto). */
export const defaultProvider = nodeProvider;
