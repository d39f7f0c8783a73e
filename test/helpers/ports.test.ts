// The port table: every file that takes a block is listed, every listed file exists and takes
// one, and no two share a block. Reads the test sources; binds nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLOCK_SIZE, FILES, portsFor } from './ports.js';

const sources = fileURLToPath(new URL('../../../test/', import.meta.url));

/** This file: it names portsFor() in its checks, and binds nothing. */
const SELF = 'helpers/ports.test.js';

/** Every test file's source but this one's, by the name ports.ts lists it under ('main/claim.test.js'). */
function testFiles(dir = sources): Map<string, string> {
  const found = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const [name, text] of testFiles(path)) found.set(name, text);
    else if (entry.name.endsWith('.test.ts')) found.set(relative(sources, path).split('\\').join('/').replace(/\.ts$/, '.js'), readFileSync(path, 'utf8'));
  }
  found.delete(SELF);
  return found;
}

// Calls that bind a port or make a holder bind one. types.test.ts only type-checks such calls
// (its typeChecks() never runs), and install.test.ts only compiles them in a consumer's source
// (its node -e runs only import and typeof): neither needs a block.
const BINDS = /\b(?:lockSocket|tryLockSocket|requestSingleInstance|forwardLaunch|instanceStatus|bindOnly|createServer)\(|new LockSocket\(|\.listen\(/;
const TYPE_ONLY = new Set(['types.test.js', 'install.test.js']);

test('the listed files are exactly the test files that call portsFor(), each once', () => {
  const files = testFiles();
  assert.ok(files.size > 20, `found the test sources in ${sources}`);
  const callers = [...files].filter(([, text]) => text.includes('portsFor(import.meta.url)')).map(([name]) => name);
  assert.deepEqual([...FILES].sort(), callers.sort());
  assert.equal(new Set(FILES).size, FILES.length, 'no file listed twice');
});

test('every test file that binds a port takes a block', () => {
  for (const [name, text] of testFiles()) {
    if (TYPE_ONLY.has(name) || !BINDS.test(text)) continue;
    assert.ok(text.includes('portsFor(import.meta.url)'), `${name} binds ports without a block of its own`);
  }
});

test('a block holds BLOCK_SIZE ports, an unlisted file gets none, and the table fits below 32768', () => {
  const self = portsFor(new URL('../lock/lock-socket.test.js', import.meta.url).href);
  assert.equal(self.port(0), self.base);
  assert.throws(() => self.port(BLOCK_SIZE), /outside the block/);
  assert.throws(() => portsFor(import.meta.url), /no port block/, 'a file that is not listed gets none');
  // Default base 20000 (LOCK_SOCKET_TEST_PORT_BASE moves it): the last block must end below 32768.
  assert.ok(20000 + FILES.length * BLOCK_SIZE <= 32768);
});
