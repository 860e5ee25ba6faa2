/**
 * Layering rule from DESIGN.md: cli → server → protocol → {secagg, dp}, cli → trainer,
 * server → trainer (global model only). secagg and dp are pure and import nothing of ours
 * but each other's small shared utilities.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'secagg-is-a-leaf',
      comment: 'src/secagg may import only itself and src/dp/util (shared small utilities).',
      severity: 'error',
      from: { path: '^src/secagg/' },
      to: { path: '^src/(?!secagg/|dp/util)' },
    },
    {
      name: 'dp-is-a-leaf',
      comment: 'src/dp may import only itself and src/secagg/util (shared small utilities).',
      severity: 'error',
      from: { path: '^src/dp/' },
      to: { path: '^src/(?!dp/|secagg/util)' },
    },
    {
      name: 'protocol-uses-only-secagg-and-dp',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/(?!protocol/|secagg/|dp/)' },
    },
    {
      name: 'trainer-is-independent',
      comment: 'The trainer knows nothing of masks, noise or the wire.',
      severity: 'error',
      from: { path: '^src/trainer/' },
      to: { path: '^src/(?!trainer/)' },
    },
    {
      name: 'server-does-not-import-cli',
      severity: 'error',
      from: { path: '^src/server/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'nothing-imports-cli',
      severity: 'error',
      from: { path: '^src/(?!cli/)' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'pure-layers-do-no-io',
      comment: 'secagg, dp and protocol have no I/O: no fs, net, http, child processes or workers.',
      severity: 'error',
      from: { path: '^src/(secagg|dp|protocol)/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|worker_threads|dgram|cluster|readline|os)$',
      },
    },
    {
      name: 'pages-do-not-use-cli',
      comment: 'The browser pages (web/) build on the library layers, never on the CLI.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'pages-use-portable-crypto',
      comment: 'A page computes with the portable noble provider: never the node:crypto or libsodium providers, never sodium-native.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '(^src/secagg/providers/(node|sodium)[.]ts$)|(^src/secagg/sodium[.]ts$)|sodium-native' },
    },
    {
      name: 'pages-do-no-node-io',
      comment: 'Page sources run in the browser: no Node builtins of their own (shared modules reach theirs through the build shims).',
      severity: 'error',
      from: { path: '^web/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
