// The README and docs/ state defaults, constants and error codes; these tests keep the text and
// the code in step wherever the tables are (proper-lockfile's README once said 5000 where its code
// clamped to 2000). The error codes are in the README; the defaults in docs/api.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as lock from '../src/lock/index.js';
import * as main from '../src/main/index.js';
import * as internal from '../src/main/constants.js';
import * as address from '../src/lock/address.js';
import * as endpoints from '../src/lock/endpoints.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const docsDir = new URL('../../docs/', import.meta.url);
/** The README and every page of docs/, as one text. */
const docs = [readme, ...readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => readFileSync(new URL(f, docsDir), 'utf8'))].join('\n');
/** Every constant the text may state: the exports, and the limits the code keeps inside. */
const constants = { ...internal, ...address, ...endpoints, ...main } as unknown as Record<string, unknown>;

function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

test('the error-code table lists exactly the codes of ErrorCode', () => {
  const rows = [...section('Error codes').matchAll(/^\| `([A-Z0-9]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...rows].sort(), Object.values(main.ErrorCode).sort());
  assert.equal(new Set(rows).size, rows.length, 'no code listed twice');
});

test("the codes the table marks lock or both are exactly the lock's own (what `lock-socket` exports)", () => {
  const rows = [...section('Error codes').matchAll(/^\| `([A-Z0-9]+)` \| ([a-z]+) \|/gm)];
  const lockRows = rows.filter(([, , where]) => where === 'lock' || where === 'both').map(([, code]) => code);
  assert.deepEqual(lockRows.sort(), Object.values(lock.ErrorCode).sort());
});

test('the Defaults table lists exactly the keys of `defaults`, each with its value', () => {
  // From the "Defaults" heading, at whatever level, to the next heading.
  const at = /^#+ Defaults\n/m.exec(docs);
  assert.ok(at, 'the docs have a "Defaults" heading');
  const rest = docs.slice(at.index + at[0].length);
  const defaults = rest.slice(0, /^#+ /m.exec(rest)?.index);
  const rows = [...defaults.matchAll(/^\| `([a-z][A-Za-z]+)` \| ([0-9][0-9_]*) \|/gm)].map(([, name, value]) => [name!, Number(value!.replaceAll('_', ''))] as const);
  assert.deepEqual(Object.fromEntries(rows), { ...main.defaults });
  assert.equal(rows.length, Object.keys(main.defaults).length, 'no option listed twice');
  assert.ok(Object.isFrozen(main.defaults), 'defaults is frozen');
});

test('every `defaults.name` the README or docs/ mention is a key of `defaults`', () => {
  for (const [, name] of docs.matchAll(/`defaults\.(\w+)`/g)) assert.ok(name! in main.defaults, `defaults.${name} is not a default`);
});

test('every constant the README or docs state (`NAME` = `value`, or a table row) matches the code', () => {
  // Names stated as documented numbers, exported or not: the code is the reference.
  const stated = [...docs.matchAll(/`([A-Z][A-Z0-9_]+)` = `'?([^`']+)'?`/g), ...docs.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([0-9][0-9_]*) \|/gm)];
  assert.ok(stated.some(([, name]) => name === 'MAX_SCHEME_UID'), 'MAX_SCHEME_UID is stated');
  for (const [, name, value] of stated) {
    if (!(name! in constants)) continue; // e.g. the CLI's exit codes, checked by its own test
    const actual = constants[name!];
    assert.equal(String(actual), typeof actual === 'number' ? String(Number(value!.replaceAll('_', ''))) : value, `the docs say ${name} = ${value}`);
  }
});

test('LIBRARY_VERSION is package.json version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(internal.LIBRARY_VERSION, pkg.version);
});
