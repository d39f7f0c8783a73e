// Bundles tsc's output (dist/src) into the files the package ships (dist/pkg):
//
//   index.js, index.d.ts  lock-socket: the lock alone, one file each
//   main.js, main.d.ts    lock-socket/main: the single-instance layer, importing the lock from
//                         ./index.js (one LockSocketError and one LockSocket class for both)
//   solo.js               the CLI: its own self-contained copy, one file
//
// Why one file each: Node's ES-module loader costs 1–2 ms per file (docs/benchmarks.md, P7), and
// a second launch pays it at every start. `lock-socket` loads one file and none of the protocol;
// `lock-socket/main` loads two. Whitespace and syntax are minified (V8 scans every byte before
// compiling lazily); identifiers are not, so stack traces and console.log keep the names. No
// source maps ship: they were 60 % of the package, for a bundle whose names are readable as is.
// Built-ins are fetched with process.getBuiltinModule() instead of imported (`builtins` below).
//
// The declarations are bundled too (rollup-plugin-dts), so users' compilers see the public names
// and what those reference, and never the declarations of internal modules: an internal type
// that TypeScript 5.0 cannot read (Buffer<ArrayBuffer>, say) would otherwise break their build
// (test/consumers.test.ts compiles consumers with the lowest TypeScript the README supports).
import { build } from 'esbuild';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'dist', 'src');
const out = join(root, 'dist', 'pkg');
rmSync(out, { recursive: true, force: true });

// lock-socket/main takes every name that the lock entry exports from ./index.js, never a copy:
// the classes live there (LockSocketError, LockSocket), and `instanceof` must work across the
// two entry points, for TypeScript too (where `#private` makes two copies incompatible). A lock
// file whose exports are all public is replaced by ./index.js outright; one that also exports
// an internal helper (address.js: formatEndpoint) is replaced by a shim that takes the public
// names from ./index.js and the rest from the file, which is then bundled: only its internal
// helpers are used, the rest is dropped as unused.
const lockDir = join(src, 'lock');
const entryNames = new Set(Object.keys(await import(join(src, 'index.js'))));
/** lock file (without extension) → the names of its that the entry exports; or undefined. */
const lockFiles = new Map();
for (const file of readdirSync(lockDir).filter((f) => f.endsWith('.js'))) {
  const names = Object.keys(await import(join(lockDir, file)));
  lockFiles.set(join(lockDir, file.slice(0, -'.js'.length)), { names: names.filter((n) => entryNames.has(n)), all: names.every((n) => entryNames.has(n)) });
}
/** What `spec`, imported from `importer`, becomes in main's bundle (undefined: itself). */
function viaLockEntry(spec, importer) {
  if (!spec.startsWith('.') || importer === undefined || importer.includes(SHIM)) return undefined;
  const file = resolve(dirname(importer), spec).replace(/(\.d)?\.js$/, '');
  const lock = lockFiles.get(file);
  if (lock === undefined || lock.names.length === 0) return undefined;
  return lock.all ? 'entry' : { file, names: lock.names };
}
const SHIM = '.lock-shim';
const ENTRY = 'lock-socket:entry';
const shim = (names, real) => `export { ${names.join(', ')} } from '${ENTRY}';\nexport * from ${JSON.stringify(real)};\n`;

// `import { x } from 'node:fs'` makes Node's ES-module loader build a facade module holding every
// export of the built-in, although the built-in itself is already loaded. process.getBuiltinModule()
// (Node 20.16+; engines asks for 20.19) hands over the same object without a facade. Kept because
// it is worth it where users see it: import('lock-socket/main') in a fresh process, over an
// empty package (bench row P7), took about a fifth longer without it, measured side by side in
// one run when issue 15 asked (the commit that kept it has the figures). The source keeps
// ordinary imports (the tests run it unbundled); this plugin turns each one into a
// getBuiltinModule() call.
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
  legalComments: 'none',
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { index: 'dist/src/index.js', solo: 'dist/src/cli/solo.js' } });
await build({
  ...common,
  entryPoints: { main: 'dist/src/main/index.js' },
  plugins: [
    builtins,
    {
      name: 'lock-entry',
      setup(b) {
        b.onResolve({ filter: /^lock-socket:entry$/ }, () => ({ path: './index.js', external: true }));
        b.onResolve({ filter: /^\./ }, (args) => {
          const via = viaLockEntry(args.path, args.importer);
          if (via === undefined) return undefined;
          if (via === 'entry') return { path: './index.js', external: true };
          return { path: `${via.file}${SHIM}`, namespace: 'lock-shim', pluginData: via };
        });
        b.onLoad({ filter: /.*/, namespace: 'lock-shim' }, ({ pluginData: { file, names } }) => ({
          contents: shim(names, `${file}.js`),
          resolveDir: lockDir,
          loader: 'js',
        }));
      },
    },
  ],
});

// The declarations, the same way: main.d.ts imports the lock's from ./index.js (one class
// LockSocketError for TypeScript too, where `#private` makes two copies incompatible).
const lockTypes = {
  name: 'lock-entry',
  resolveId(spec, importer) {
    if (spec === ENTRY) return { id: './index.js', external: true };
    const via = viaLockEntry(spec, importer);
    if (via === undefined) return null;
    if (via === 'entry') return { id: './index.js', external: true };
    return `${via.file}${SHIM}.d.ts`;
  },
  load(id) {
    if (!id.endsWith(`${SHIM}.d.ts`)) return null;
    const file = id.slice(0, -`${SHIM}.d.ts`.length);
    return shim(lockFiles.get(file).names, `${file}.d.ts`);
  },
};
for (const [input, file, plugins] of [
  ['dist/src/index.d.ts', 'index.d.ts', []],
  ['dist/src/main/index.d.ts', 'main.d.ts', [lockTypes]],
]) {
  const bundle = await rollup({ input: join(root, input), plugins: [...plugins, dts()], external: /^node:/, makeAbsoluteExternalsRelative: false });
  await bundle.write({ file: join(out, file), format: 'es' });
  await bundle.close();
}

// The value exports of each .d.ts are exactly its bundle's exports. rollup-plugin-dts turns
// `export type { SingleInstance }` into a value export; a class exported as a type only would
// then type-check `new SingleInstance()` and `instanceof`, which fail at run time. Loading
// main.js also checks that every name it takes from ./index.js is there, at build time.
const lockRuntime = new Set(Object.keys(await import(join(out, 'index.js'))));
for (const name of ['index', 'main']) {
  const runtime = new Set(Object.keys(await import(join(out, `${name}.js`))));
  const file = join(out, `${name}.d.ts`);
  const text = readFileSync(file, 'utf8');
  const values = /^export \{ ([^}]*) \};$/m.exec(text);
  const types = /^export type \{ ([^}]*) \};$/m.exec(text);
  if (!values || !types) throw new Error(`${file}: no export lists where rollup-plugin-dts writes them`);
  const declared = values[1].split(', ');
  const own = [...runtime].filter((n) => !(name === 'main' && lockRuntime.has(n))).sort();
  const missing = own.filter((n) => !declared.includes(n));
  if (missing.length > 0) throw new Error(`${file}: ${missing.join(', ')} exported at run time but not declared`);
  const typeOnly = [...declared.filter((n) => !runtime.has(n)), ...types[1].split(', ')].sort();
  writeFileSync(file, text.replace(values[0], `export { ${own.join(', ')} };`).replace(types[0], `export type { ${typeOnly.join(', ')} };`));
}
