/**
 * Every ```ts block of README.md and docs/*.md compiles, under `strict`, against the library as
 * users get it: `npm pack`, the tarball installed in a fresh consumer project, Electron's types
 * beside it (its electron.d.ts only: installing the electron package would run its download).
 *
 * Markers, on the line before a block's fence (HTML comments, invisible when rendered):
 *   <!-- docs-test: skip (why) -->  not compiled: a fragment that cannot stand alone, or one
 *                                   needing a package the consumer does not have. The reason
 *                                   is required; the test counts these.
 *   <!-- docs-test: cts -->         compiled as a CommonJS file (.cts) instead of an ES module.
 * Free names the docs use for "your code" are declared once, in PLACEHOLDERS below.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateDir } from './helpers/dirs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/** Names the docs call as stand-ins for the reader's own code. */
const PLACEHOLDERS = `
declare function openFiles(...args: unknown[]): Promise<void>;
declare function doTheWork(): Promise<void>;
`;

interface Block {
  source: string;
  line: number;
  code: string;
  kind: 'ts' | 'cts' | 'skip';
  reason?: string;
}

function blocks(source: string): Block[] {
  const lines = readFileSync(join(root, source), 'utf8').split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```ts\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    const marker = k >= 0 ? /^\s*<!-- docs-test: (skip|cts)(?: \((.+)\))? -->\s*$/.exec(lines[k]!) : null;
    const kind = (marker?.[1] as 'skip' | 'cts' | undefined) ?? 'ts';
    found.push({ source, line: i + 1, code: body.join('\n'), kind, ...(marker?.[2] ? { reason: marker[2] } : {}) });
    i = j;
  }
  return found;
}

const sources = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const all = sources.flatMap(blocks);
let consumer = '';

before(() => {
  const work = privateDir('lock-socket-docs-');
  const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' });
  assert.equal(packed.status, 0, packed.stderr);
  const tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'docs-consumer', private: true, type: 'module' }));
  const installed = spawnSync('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', tarball], {
    cwd: consumer,
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  assert.equal(installed.status, 0, installed.stderr);
  // Electron's types without the electron package's install step.
  const electron = join(consumer, 'node_modules', 'electron');
  mkdirSync(electron, { recursive: true });
  const electronPkg = require.resolve('electron/package.json');
  copyFileSync(join(dirname(electronPkg), 'electron.d.ts'), join(electron, 'electron.d.ts'));
  const { version } = JSON.parse(readFileSync(electronPkg, 'utf8')) as { version: string };
  writeFileSync(join(electron, 'package.json'), JSON.stringify({ name: 'electron', version, types: 'electron.d.ts' }));
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        lib: ['ES2022', 'esnext.disposable'],
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
        noEmit: true,
        skipLibCheck: true,
      },
      include: ['blocks'],
    }),
  );
});

test('every ```ts block of README.md and docs/*.md compiles against the packed library, under strict', (t) => {
  const blocksDir = join(consumer, 'blocks');
  mkdirSync(blocksDir);
  writeFileSync(join(blocksDir, 'placeholders.d.ts'), PLACEHOLDERS);
  const compiled = all.filter((b) => b.kind !== 'skip');
  const names = new Map<string, Block>();
  for (const block of compiled) {
    const name = `${block.source.replace(/[^\w]+/g, '-')}-L${block.line}.${block.kind === 'cts' ? 'cts' : 'ts'}`;
    names.set(name, block);
    // `export {}` makes each block a module of its own: top-level await, no shared names.
    writeFileSync(join(blocksDir, name), `${block.code}\nexport {};\n`);
  }
  const tsc = spawnSync(process.execPath, [join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'), '-p', consumer], { encoding: 'utf8' });
  const errors = `${tsc.stdout}${tsc.stderr}`
    .split('\n')
    .filter((l) => /error TS\d+/.test(l))
    .map((l) => {
      const m = /blocks[\\/]([^()]+)\((\d+),(\d+)\)/.exec(l);
      const block = m ? names.get(m[1]!) : undefined;
      return block ? `${block.source}:${block.line + Number(m![2])}: ${l.slice(l.indexOf('error'))}` : l;
    });
  assert.deepEqual(errors, [], 'blocks that do not compile (file:line of the docs)');
  assert.equal(tsc.status, 0, tsc.stdout);
  const skipped = all.filter((b) => b.kind === 'skip');
  t.diagnostic(`${compiled.length} blocks compiled, ${skipped.length} skipped: ${skipped.map((b) => `${b.source}:${b.line} (${b.reason})`).join('; ')}`);
  assert.ok(compiled.length >= 7, `found the blocks (${compiled.length})`);
});

test('every skipped block says why, and every docs-test marker is one the test knows', () => {
  for (const block of all.filter((b) => b.kind === 'skip')) assert.ok(block.reason, `${block.source}:${block.line} is skipped without a reason`);
  for (const source of sources) {
    const text = readFileSync(join(root, source), 'utf8');
    for (const [marker] of text.matchAll(/<!-- docs-test:[^>]*-->/g)) {
      assert.match(marker, /^<!-- docs-test: (skip \(.+\)|cts) -->$/, `${source}: unknown marker ${marker}`);
    }
  }
});
