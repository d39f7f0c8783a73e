// Bundles tsc's output (dist/src) into the files the package ships (dist/pkg):
//
//   main.js   lock-socket/main: everything, one minified file
//   index.js  lock-socket: re-exports the lock's names from main.js (one LockSocketError class)
//   solo.js   the CLI: its own self-contained copy, one file
//
// Why one file each: Node's ES-module loader costs 1–2 ms per file on this 2-core machine, about
// as much as compiling the whole package, and a second launch pays it at every start
// (docs/benchmarks.md, P4, P5, P7). `lock-socket` alone loads the same bundle: two files, as it
// was before with its own chunk, and one class per name for users who import both entries.
// Whitespace and syntax are minified (V8 scans every byte before compiling lazily); identifiers
// are not, so stack traces and console.log keep the names (esbuild's keepNames instead adds a
// call per function, ~0.4 ms at load). A source map ships beside each file for
// `node --enable-source-maps`. Built-ins are fetched with process.getBuiltinModule() instead of
// imported (see `builtins` below). Types still come from tsc's .d.ts files in dist/src.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = `${root}dist/pkg`;
rmSync(out, { recursive: true, force: true });

// `import { x } from 'node:fs'` makes Node's ES-module loader build a facade module holding every
// export of the built-in: ~2.7 ms for node:fs, ~1 ms for node:util, measured in a fresh process on
// this 2-core machine, although both are already loaded. process.getBuiltinModule() (Node 20.16+,
// engines asks for 20.19) hands over the same object without a facade. The source keeps ordinary
// imports (the tests run it unbundled); this plugin turns each one into a getBuiltinModule() call.
const builtins = {
  name: 'builtins',
  setup(b) {
    // One small module per importing file and built-in, binding only the names that file
    // imports: a bundle holds no binding it does not use (util.parseArgs, for one, is a getter
    // that loads a module, and only solo.js needs it).
    b.onResolve({ filter: /^node:/ }, (args) => ({
      path: `${args.path} from ${relative(root, args.importer)}`,
      namespace: 'builtin',
      pluginData: { spec: args.path, importer: args.importer },
    }));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      // Plain bindings, read once when the bundle starts. Not a CommonJS wrapper (esbuild's
      // __toESM copies every export behind a getter), nor every export (fs.promises is a getter
      // that loads a module). A name missing here fails the build, it cannot go wrong quietly.
      const { spec, importer } = args.pluginData;
      const names = [...namesOf(importer).get(spec) ?? []].sort();
      return {
        contents: `const m = process.getBuiltinModule(${JSON.stringify(spec)});\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`,
        loader: 'js',
      };
    });
  },
};

/** node:* module → the names one file of tsc's output imports from it, read once per file. */
const importsByFile = new Map();
function namesOf(file) {
  if (!importsByFile.has(file)) importsByFile.set(file, importedNames(file));
  return importsByFile.get(file);
}

/** node:* module → the names `file` imports from it (`import { a, b as c } from 'node:x'`). */
function importedNames(file) {
  const code = readFileSync(file, 'utf8');
  // A namespace import would reach names this list does not bind, and get undefined quietly.
  if (/^import\s+\*\s+as\s+\w+\s+from\s*'node:/m.test(code)) throw new Error(`${file}: import * from a built-in; import the names instead`);
  const found = new Map();
  for (const [, list, spec] of code.matchAll(/^import\s+(?:\w+\s*,\s*)?\{([^}]*)\}\s*from\s*'(node:[\w/]+)';/gm)) {
    const set = found.get(spec) ?? new Set();
    for (const part of list.split(',')) {
      const name = part.trim().split(/\s+as\s+/)[0];
      if (name) set.add(name);
    }
    found.set(spec, set);
  }
  return found;
}

const common = {
  absWorkingDir: root,
  outdir: 'dist/pkg',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Zero runtime dependencies: only built-ins, which the plugin turns into getBuiltinModule().
  packages: 'external',
  plugins: [builtins],
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { main: 'dist/src/main/index.js', solo: 'dist/src/cli/solo.js' } });

// lock-socket exports exactly the lock's names (what dist/src/index.d.ts declares), taken from
// main.js so that both entry points share one copy of every class.
const lock = await import(`${root}dist/src/index.js`);
const names = Object.keys(lock).sort();
writeFileSync(
  `${out}/index.js`,
  `// lock-socket: the lock's names, from the one bundle (see scripts/bundle.mjs).\nexport { ${names.join(', ')} } from './main.js';\n`,
);
