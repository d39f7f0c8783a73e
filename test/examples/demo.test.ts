// `npm start` must show the whole flow and exit 0 on a fresh machine: run the compiled demo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { portsFor } from '../helpers/ports.js';

const { port } = portsFor(import.meta.url);

test('the demo runs a holder and forwarded launches, each answered, survives a SIGKILLed holder, and exits cleanly', async () => {
  const demo = fileURLToPath(new URL('../../examples/demo.js', import.meta.url));
  const child = spawn(process.execPath, [demo, '--port', String(port(0))]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, out);
  assert.match(out, /holder: I hold port \d+ on 127\.\d+\.\d+\.\d+;/);
  assert.match(out, /opened notes with spaces\.txt in the running window/);
  assert.match(out, /"ünïcödé ✓\.md","","--"/);
  assert.match(out, /unknown command "frobnicate" \(exit 2\)|unknown command \\"frobnicate\\"" \(exit 2\)/);
  assert.match(out, new RegExp(`holder: I hold port ${port(0)} on 127\\.`), '--port is the lock');
  assert.match(out, /the holder is killed \(SIGKILL\); the next launch takes over/);
  assert.match(out, /opened to-the-new-holder\.md in the running window/);
  assert.match(out, /first holder: killed \| new holder: 0/);
  assert.match(out, /demo finished: every launch was delivered and answered, and the takeover took a moment/);
});
