// Bundles tsc's output (dist/src) into one file per entry point (dist/pkg), with the code they
// share in a common chunk so `lock-socket` and `lock-socket/main` keep one LockSocketError class.
// Why: Node's ES-module loader costs about a millisecond per file, and the unbundled package is
// ~17 files; a second launch pays that on every start (docs/benchmarks.md, rows P4 and P7).
// Types still come from tsc's .d.ts files in dist/src.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}dist/pkg`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    index: 'dist/src/index.js',
    main: 'dist/src/main/index.js',
    solo: 'dist/src/cli/solo.js',
  },
  outdir: 'dist/pkg',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'shared-[hash]',
  // Node built-ins stay imports; there is nothing else to bundle (zero runtime dependencies).
  packages: 'external',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
