import type { BuildOptions, Plugin } from 'esbuild';
/** The wasm backend's binaries. */
export declare const WASM_BINARIES: string[];
/** The files of a built participant page. */
export declare const PARTICIPANT_OUTPUTS: string[];
/** Node builtins mapped to the browser shims. */
export declare const nodeShims: Plugin;
/** esbuild options shared by the page and the browser vector tests. */
export declare function browserBundleOptions(): BuildOptions;
/** Writes the participant page into `outDir` (default dist/participant); returns the paths written. */
export declare function buildParticipantWeb(opts?: { outDir?: string; minify?: boolean }): Promise<string[]>;
