// The README states defaults and error codes; these tests keep the text and the code in step
// (proper-lockfile's README once said 5000 where its code clamped to 2000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as main from '../src/main/index.js';
import * as internal from '../src/main/constants.js';
import * as address from '../src/lock/address.js';
import * as endpoints from '../src/lock/endpoints.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const docsDir = new URL('../../docs/', import.meta.url);
const docs = readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => new URL(f, docsDir));
/** Every constant the README may state: the exports, and the limits the code keeps inside. */
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

test('the Defaults table lists exactly the keys of `defaults`, each with its value', () => {
  // From the "Defaults" heading, at whatever level, to the next heading.
  const at = /^#+ Defaults\n/m.exec(readme);
  assert.ok(at, 'the README has a "Defaults" heading');
  const rest = readme.slice(at.index + at[0].length);
  const defaults = rest.slice(0, /^#+ /m.exec(rest)?.index);
  const rows = [...defaults.matchAll(/^\| `([a-z][A-Za-z]+)` \| ([0-9][0-9_]*) \|/gm)].map(([, name, value]) => [name!, Number(value!.replaceAll('_', ''))] as const);
  assert.deepEqual(Object.fromEntries(rows), { ...main.defaults });
  assert.equal(rows.length, Object.keys(main.defaults).length, 'no option listed twice');
  assert.ok(Object.isFrozen(main.defaults), 'defaults is frozen');
});

test('every `defaults.name` the README or docs/ mention is a key of `defaults`', () => {
  for (const source of [readme, ...docs.map((file) => readFileSync(file, 'utf8'))]) {
    for (const [, name] of source.matchAll(/`defaults\.(\w+)`/g)) assert.ok(name! in main.defaults, `defaults.${name} is not a default`);
  }
});

test('every constant the README states (`NAME` = `value`, or a table row) matches the code', () => {
  // Names the README states as documented numbers, exported or not: the code is the reference.
  const stated = [
    ...readme.matchAll(/`([A-Z][A-Z0-9_]+)` = `'?([^`']+)'?`/g),
    ...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([0-9][0-9_]*) \|/gm),
  ];
  assert.ok(stated.some(([, name]) => name === 'MAX_SCHEME_UID'), 'MAX_SCHEME_UID is stated');
  for (const [, name, value] of stated) {
    if (!(name! in constants)) continue; // e.g. the CLI's exit codes, checked by its own test
    const actual = constants[name!];
    assert.equal(String(actual), typeof actual === 'number' ? String(Number(value!.replaceAll('_', ''))) : value, `README says ${name} = ${value}`);
  }
});

test('LIBRARY_VERSION is package.json version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(internal.LIBRARY_VERSION, pkg.version);
});
