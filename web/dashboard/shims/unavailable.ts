/*
 * node:fs, node:path and node:module for the browser bundles (the dashboard and the participant
 * page). The modules they bundle import them for file reading and writing that the pages never
 * call (identity files, receipt folders, sodium-native); calling one fails loudly instead of
 * doing something else.
 */
function unavailable(name: string): () => never {
  return () => {
    throw new Error(`${name} is not available in a browser build`);
  };
}

export const readFileSync = unavailable('readFileSync');
export const writeFileSync = unavailable('writeFileSync');
export const chmodSync = unavailable('chmodSync');
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
