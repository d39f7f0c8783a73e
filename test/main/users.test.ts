/**
 * Another local user (`nobody`) against root's holder: it can reach the port, but it cannot
 * read root's secret, so it can neither pass the holder's proof nor be fooled by it. Needs root
 * to switch users; skipped with the reason otherwise.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { portsFor } from '../helpers/ports.js';
import { Child, killAll } from '../helpers/child.js';
import { holder, instance, NOBODY_FIXTURE, type HardConfig } from '../helpers/hard.js';
import { nobody, nobodySkip, secretDirsForRootAndNobody } from '../helpers/nobody.js';
import { secretPath, loadOrCreateSecret } from '../../src/main/secret.js';

const { port } = portsFor(import.meta.url);
const skip = nobodySkip();
const user = nobody();
const NOBODY = typeof user === 'string' ? -1 : user.uid;
const NOBODY_GID = typeof user === 'string' ? -1 : user.gid;

const dirs = secretDirsForRootAndNobody('users', user);
after(() => killAll());

async function asNobody(args: string[]): Promise<Record<string, unknown>> {
  const p = new Child([NOBODY_FIXTURE, ...args], { uid: NOBODY, gid: NOBODY_GID, env: { PATH: process.env['PATH'] ?? '' } });
  const { code } = await p.closed;
  assert.equal(code, 0, `fixture failed: ${p.stderr}`);
  return p.lines[0] as Record<string, unknown>;
}

describe('another local user (nobody) against root', { skip }, () => {
  test("cannot read root's secret", async () => {
    const appId = 'com.example.users.read';
    await loadOrCreateSecret(appId, dirs.root());
    const file = secretPath(appId, dirs.root());
    assert.equal((await asNobody(['read', file]))['code'], 'EACCES');
    assert.equal((await asNobody(['load', appId, dirs.root()]))['code'], 'ESECRET');
  });

  test("cannot inject a launch into root's holder: refused both ways, the handler never runs", { timeout: 60_000 }, async () => {
    const cfg: HardConfig = { port: port(0), appId: 'com.example.users', secretDir: dirs.root() };
    const h = await holder(cfg);
    const marker = `NOBODY-${process.pid}-${Date.now()}`;

    // A hand-made client: it sends its proof and a sealed LAUNCH anyway, with keys from its own
    // secret. The holder refuses in a sealed ERROR (EAUTH, which nobody cannot even read).
    const injected = await asNobody(['inject', String(cfg.port), cfg.appId, dirs.nobody(), marker]);
    assert.equal(injected['holderProved'], false, "root's holder cannot prove itself to nobody");
    assert.equal(injected['answer'], 'sealed');

    // The library's own launcher run by nobody, aimed at root's address (nobody's default lock
    // address is its own, 127.255.254.1): it refuses to send argv to a holder that cannot prove
    // it knows nobody's secret.
    const launcher = instance({ ...cfg, addr: '127.0.0.1', secretDir: dirs.nobody(), handshakeTimeout: 5000 }, ['--from-nobody', marker], {
      uid: NOBODY,
      gid: NOBODY_GID,
      env: { PATH: process.env['PATH'] ?? '' },
    });
    await launcher.until(() => launcher.lines[0], 30_000, 'the launcher outcome');
    assert.equal(launcher.lines[0]?.['code'], 'EAUTH', JSON.stringify(launcher.lines) + launcher.stderr);
    assert.equal((await launcher.closed).code, 1);

    // Root's own launch still gets through, and it is the only one the handler ever saw.
    const own = instance(cfg, ['--from-root']);
    assert.equal((await own.closed).code, 0, JSON.stringify(own.lines));
    h.send('close');
    await h.closed;
    assert.deepEqual(h.events('launch').map((l) => l['argv']), [['--from-root']]);
    assert.equal(JSON.stringify(h.lines).includes(marker), false);
  });
});
