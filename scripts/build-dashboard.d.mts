/** The files of a built dashboard. */
export declare const DASHBOARD_OUTPUTS: string[];
/** Writes the dashboard into `outDir` (default dist/dashboard); returns the paths written. */
export declare function buildDashboard(opts?: { outDir?: string; minify?: boolean }): Promise<string[]>;
