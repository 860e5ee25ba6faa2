/*
 * node:fs, node:path and node:module for the dashboard's browser bundle. The verifier's modules
 * import them for file reading and writing that the page never calls (it verifies what it
 * fetched or was handed); calling one fails loudly instead of doing something else.
 */
function unavailable(name: string): () => never {
  return () => {
    throw new Error(`${name} is not available in the dashboard's browser build`);
  };
}

export const readFileSync = unavailable('readFileSync');
export const writeFileSync = unavailable('writeFileSync');
export const existsSync = unavailable('existsSync');
export const statSync = unavailable('statSync');
export const mkdirSync = unavailable('mkdirSync');
export const readdirSync = unavailable('readdirSync');
export const renameSync = unavailable('renameSync');
export const dirname = unavailable('dirname');
export const extname = unavailable('extname');
export const resolve = unavailable('resolve');
export const join = unavailable('join');
export const basename = unavailable('basename');
export const createRequire = unavailable('createRequire');
export const fileURLToPath = unavailable('fileURLToPath');
export default {};
