// node:cluster shares a listen among workers through the primary unless `exclusive: true`:
// the lock must not let two workers both believe they hold it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Child, fixture } from '../helpers/child.js';
import { portsFor } from '../helpers/ports.js';

const { port } = portsFor(import.meta.url);
const CLUSTER = fixture('lock-cluster');
const children: Child[] = [];
after(() => {
  for (const child of children) child.kill();
});

async function runCluster(p: number, workers: number, mode: 'lock' | 'plain'): Promise<Array<Record<string, unknown>>> {
  const child = new Child([CLUSTER, String(p), String(workers), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const { results } = await child.next<{ results: Array<Record<string, unknown>> }>(120_000);
  assert.deepEqual(await child.exit(120_000), { code: 0, signal: null }, child.stderr);
  return results;
}

test('control: without exclusive, cluster workers all "listen" on the same address and port', async () => {
  // This is what a naive lock would do under cluster; it shows the test below can fail.
  const results = await runCluster(port(0), 3, 'plain');
  assert.equal(results.length, 3);
  assert.ok(results.every((r) => r.listening === true), JSON.stringify(results));
});

for (const workers of [2, 4]) {
  test(`${workers} cluster workers try the same lock: exactly one gets it`, async () => {
    const results = await runCluster(port(1), workers, 'lock');
    assert.equal(results.length, workers);
    assert.equal(results.filter((r) => r.locked === true).length, 1, JSON.stringify(results));
    assert.equal(results.filter((r) => r.locked === false).length, workers - 1, JSON.stringify(results));
  });
}
