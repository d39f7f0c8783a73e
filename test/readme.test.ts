// The README states defaults and error codes; these tests keep the text and the code in step
// (proper-lockfile's README once said 5000 where its code clamped to 2000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as lock from '../src/lock/index.js';
import * as main from '../src/main/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// The tables of defaults and constants live in the API reference; the error codes in the README.
const docsDir = new URL('../../docs/', import.meta.url);
const docs = [readme, ...readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => readFileSync(new URL(f, docsDir), 'utf8'))].join('\n');

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

test('every numeric constant the README or docs state in a table matches the exported value', () => {
  const exported = main as unknown as Record<string, unknown>;
  const stated = [...docs.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([0-9][0-9_]*) \|/gm)];
  assert.ok(stated.length >= 10, 'the defaults table is there');
  for (const [, name, value] of stated) {
    if (!(name! in exported)) continue; // e.g. the CLI's exit codes, checked by its own test
    assert.equal(Number(value!.replaceAll('_', '')), exported[name!], `README says ${name} = ${value}`);
  }
});

test('every constant the README or docs state inline (`NAME` = `value`) matches the exported value', () => {
  const exported = main as unknown as Record<string, unknown>;
  const stated = [...docs.matchAll(/`([A-Z][A-Z0-9_]+)` = `'?([^`']+)'?`/g)];
  assert.ok(stated.some(([, name]) => name === 'MAX_SCHEME_UID'), 'MAX_SCHEME_UID is stated');
  for (const [, name, value] of stated) {
    assert.ok(name! in exported, `README states ${name}, which is not exported`);
    const actual = exported[name!];
    assert.equal(String(actual), typeof actual === 'number' ? String(Number(value)) : value, `README says ${name} = ${value}`);
  }
});

test('every exported DEFAULT_* constant is in the docs, with its value', () => {
  for (const [name, value] of Object.entries(main)) {
    if (!name.startsWith('DEFAULT_')) continue;
    assert.match(docs, new RegExp(`^\\| \`${name}\` \\| ${value} \\|`, 'm'), `${name} (${value}) is missing from the README`);
  }
});

test('LIBRARY_VERSION is package.json version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(main.LIBRARY_VERSION, pkg.version);
});
