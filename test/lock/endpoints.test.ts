// lockEndpoints: which address and ports an app's lock uses on each platform, as a pure function
// over injected platforms and uids; then for real, as root and as nobody on 127.0.0.1.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, SYSTEM_ADDRESS, defaultAddress, lockEndpoints } from '../../src/lock/index.js';
import { ALTERNATIVE_PORTS, DERIVED_PORT_MAX, DERIVED_PORT_MIN, MAX_ALTERNATIVE_PORTS } from '../../src/lock/endpoints.js';
import { MAX_SCHEME_UID } from '../../src/lock/address.js';
import type { LockEndpoint, LockEndpointsInput } from '../../src/lock/index.js';
import { Child, fixture, killAll } from '../helpers/child.js';
import { nobody, nobodySkip } from '../helpers/nobody.js';
import { throwsWith } from '../helpers/errors.js';

after(() => killAll());

const APP = 'com.example.app';
const ports = (list: LockEndpoint[]): number[] => list.map((e) => e.port);
const addrs = (list: LockEndpoint[]): string[] => [...new Set(list.map((e) => e.addr))];
const at = (input: Partial<LockEndpointsInput>): LockEndpoint[] => lockEndpoints({ appId: APP, ...input });

describe('lockEndpoints: the scheme, per platform', () => {
  test('pinned: the derivation is frozen (every installed instance must find the others)', () => {
    // Changing any of these makes a new version's launch miss an old version's holder and become
    // a second primary. If this fails, the derivation changed: revert it, or tag a new version.
    assert.deepEqual(ports(at({ platform: 'linux', uid: 1000 })), [27770, 1295, 12471, 32656, 14938]);
    assert.deepEqual(ports(at({ platform: 'darwin', uid: 501 })), [7570, 11434, 6761, 25156, 25010]);
    assert.deepEqual(ports(at({ system: true })), [4775, 24528, 8181, 7694, 3921]);
    assert.deepEqual(at({ port: 5197, platform: 'darwin', uid: 501 }), [{ addr: '127.0.0.1', port: 10496 }]);
    assert.deepEqual(ports(at({ port: 5197, platform: 'linux', uid: 1000, alternatives: 2 })), [5197, 13297, 18167]);
  });

  test('Linux: the per-user address, the same derived ports for every user', () => {
    const a = at({ platform: 'linux', uid: 1000 });
    const b = at({ platform: 'linux', uid: 1001 });
    assert.deepEqual(addrs(a), ['127.3.232.1']);
    assert.deepEqual(addrs(b), [defaultAddress({ platform: 'linux', uid: 1001 })]);
    assert.deepEqual(ports(a), ports(b), 'the address already keeps users apart');
    assert.equal(a.length, 1 + ALTERNATIVE_PORTS);
  });

  test('Linux root: 127.0.0.1 like the system lock, but a port of its own', () => {
    const root = at({ platform: 'linux', uid: 0 });
    const system = at({ system: true });
    assert.deepEqual(addrs(root), [SYSTEM_ADDRESS]);
    assert.equal(ports(root).some((p) => ports(system).includes(p)), false, 'root\'s own lock is not the machine-wide one');
  });

  test('a given port is used as given where the address tells users apart, with no alternatives', () => {
    assert.deepEqual(at({ port: 5197, platform: 'linux', uid: 1000 }), [{ addr: '127.3.232.1', port: 5197 }]);
    assert.deepEqual(at({ port: 5197, platform: 'win32', username: 'Alice' }), [{ addr: defaultAddress({ platform: 'win32', username: 'alice' }), port: 5197 }]);
    assert.deepEqual(at({ port: 5197, system: true, platform: 'darwin', uid: 501 }), [{ addr: SYSTEM_ADDRESS, port: 5197 }]);
    assert.deepEqual(at({ port: 5197, addr: '127.0.0.9' }), [{ addr: '127.0.0.9', port: 5197 }]);
  });

  test('macOS and the BSDs: 127.0.0.1 and a per-user port, derived or mapped from the given one', () => {
    for (const platform of ['darwin', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix'] as const) {
      const a = at({ platform, uid: 501 });
      const b = at({ platform, uid: 502 });
      assert.deepEqual(addrs(a), [SYSTEM_ADDRESS], platform);
      assert.equal(ports(a).some((p) => ports(b).includes(p)), false, `${platform}: two users share no port`);
      const given = at({ platform, uid: 501, port: 5197 });
      assert.equal(given.length, 1);
      assert.notEqual(given[0]?.port, 5197, 'mapped for the user');
      assert.notEqual(given[0]?.port, at({ platform, uid: 502, port: 5197 })[0]?.port);
      assert.deepEqual(given, at({ platform, uid: 501, port: 5197 }), 'deterministic');
    }
  });

  test('macOS: mapped ports avoid Perl lock_user_socket\'s port + uid collisions and overflow', () => {
    // Perl: port P of uid U + 1 is port P + 1 of uid U, so 32 uids x 32 ports make 63 locks,
    // and 65500 + 501 overflows past 65535. Hashing spreads the 1024 pairs over the range.
    const seen = new Set<number>();
    for (let uid = 501; uid < 533; uid++) {
      for (let p = 5000; p < 5032; p++) seen.add(at({ platform: 'darwin', uid, port: p })[0]!.port);
    }
    assert.ok(seen.size > 990, `1024 (uid, port) pairs give ${seen.size} distinct ports`);
    const high = at({ platform: 'darwin', uid: 501, port: 65500 })[0]!.port;
    assert.ok(high >= DERIVED_PORT_MIN && high <= DERIVED_PORT_MAX);
  });

  test('Linux uids beyond the address scheme fall back to 127.0.0.1 and a per-user port', () => {
    const big = MAX_SCHEME_UID + 1;
    const a = at({ platform: 'linux', uid: big });
    const b = at({ platform: 'linux', uid: big + 1 });
    assert.deepEqual(addrs(a), [SYSTEM_ADDRESS]);
    assert.equal(ports(a).some((p) => ports(b).includes(p) || ports(at({ platform: 'linux', uid: 0 })).includes(p)), false);
    assert.deepEqual(addrs(at({ platform: 'linux', uid: 1_234_500_001 })), [SYSTEM_ADDRESS], 'an SSSD/AD-style uid');
  });

  test('Windows: the per-user address from the user name; ports from the appId alone', () => {
    const a = at({ platform: 'win32', username: 'alice' });
    assert.deepEqual(addrs(a), [defaultAddress({ platform: 'win32', username: 'alice' })]);
    assert.deepEqual(ports(a), ports(at({ platform: 'win32', username: 'bob' })));
    assert.deepEqual(ports(a), ports(at({ platform: 'linux', uid: 1000 })), 'the same per-user derivation as Linux');
  });

  test('machine-wide: the same endpoints for every user and platform', () => {
    const expected = at({ system: true, platform: 'linux', uid: 1000 });
    for (const input of [{ platform: 'linux', uid: 0 }, { platform: 'darwin', uid: 501 }, { platform: 'win32', username: 'x' }] as const) {
      assert.deepEqual(at({ system: true, ...input }), expected);
    }
    assert.deepEqual(ports(at({ addr: '127.0.0.1', platform: 'darwin', uid: 501 })), ports(expected), 'an explicit address is machine-wide too');
  });

  test('derived ports: in 1024-32767, never a common server port, never repeated, and spread evenly', () => {
    const bins = new Array<number>(31).fill(0);
    for (let i = 0; i < 3100; i++) {
      const list = ports(at({ appId: `app-${i}`, platform: 'linux', uid: 1000, alternatives: MAX_ALTERNATIVE_PORTS }));
      assert.equal(new Set(list).size, list.length);
      for (const p of list) {
        assert.ok(p >= DERIVED_PORT_MIN && p <= DERIVED_PORT_MAX, `${p}`);
        for (const common of [3000, 3306, 5000, 5432, 6379, 8080, 9229, 27017]) assert.notEqual(p, common);
        if (p >= 6000 && p <= 6063) assert.fail(`${p} is an X11 display port`);
      }
      bins[Math.floor((list[0]! - DERIVED_PORT_MIN) / 1024)]! += 1;
    }
    // 3100 first ports over 31 equal bins: 100 expected in each. A chi-square above 60 (30
    // degrees of freedom) would happen by chance once in a thousand; the inputs are fixed.
    const chi = bins.reduce((sum, n) => sum + (n - 100) ** 2 / 100, 0);
    assert.ok(chi < 60, `chi-square ${chi.toFixed(1)} over ${JSON.stringify(bins)}`);
  });

  test('a shorter list is a prefix of a longer one: instances that ask for fewer still agree on the order', () => {
    for (const input of [{ platform: 'linux', uid: 1000 }, { platform: 'darwin', uid: 501 }, { port: 5197, platform: 'linux', uid: 7 }] as const) {
      const long = at({ ...input, alternatives: MAX_ALTERNATIVE_PORTS });
      for (let n = 0; n <= MAX_ALTERNATIVE_PORTS; n++) assert.deepEqual(at({ ...input, alternatives: n }), long.slice(0, n + 1));
    }
  });

  test('different apps, different ports', () => {
    assert.notDeepEqual(ports(at({ platform: 'linux', uid: 1000 })), ports(at({ appId: 'com.example.other', platform: 'linux', uid: 1000 })));
  });

  test('bad input: the lock\'s codes', () => {
    throwsWith(() => lockEndpoints({ appId: '' }), ErrorCode.EINVALIDOPTION);
    throwsWith(() => lockEndpoints(null as unknown as LockEndpointsInput), ErrorCode.EINVALIDOPTION);
    throwsWith(() => at({ addr: '127.0.0.1', system: true }), ErrorCode.EINVALIDOPTION);
    throwsWith(() => at({ system: 'yes' as unknown as boolean }), ErrorCode.EINVALIDOPTION);
    for (const alternatives of [-1, 1.5, MAX_ALTERNATIVE_PORTS + 1]) throwsWith(() => at({ alternatives }), ErrorCode.EINVALIDOPTION);
    throwsWith(() => at({ port: 0 }), ErrorCode.EINVALIDPORT);
    throwsWith(() => at({ addr: '10.0.0.1' }), ErrorCode.ENOTLOOPBACK);
    throwsWith(() => at({ addr: 'localhost' }), ErrorCode.EINVALIDADDR);
    throwsWith(() => at({ platform: 'linux', uid: -1 }), ErrorCode.EUIDRANGE);
  });
});

describe('lockEndpoints for real: two users on 127.0.0.1', { skip: nobodySkip() }, () => {
  const user = nobody();
  const asNobody = typeof user === 'string' ? {} : { uid: user.uid, gid: user.gid, env: { PATH: process.env['PATH'] ?? '' } };
  const HOLDER = fixture('endpoint-holder');

  // Derived ports lie outside this file's port block. An appId is picked (deterministically)
  // whose ports for root, for nobody and machine-wide all fall in 10000-19999, below every
  // test suite's blocks, so the test cannot meet another file's holder.
  const quiet = (p: number | undefined): boolean => p !== undefined && p >= 10_000 && p < 20_000;
  let appId = '';
  for (let n = 0; !appId; n++) {
    const id = `lock-socket-test-users-${n}`;
    const first = (input: Partial<LockEndpointsInput>) => lockEndpoints({ appId: id, platform: 'darwin', ...input })[0]?.port;
    if (quiet(first({ uid: 0 })) && quiet(first({ uid: typeof user === 'string' ? -1 : user.uid })) && quiet(first({ system: true }))) appId = id;
  }

  function holder(config: Partial<LockEndpointsInput>, options: object = {}): Child {
    return new Child([HOLDER, JSON.stringify({ appId, platform: 'darwin', ...config })], options);
  }

  test('per user: root and nobody both hold their own lock at once; a second copy of either does not', async () => {
    const root = holder({});
    const other = holder({}, asNobody);
    const r = await root.next();
    const o = await other.next();
    try {
      assert.equal(r['locked'], true, JSON.stringify(r));
      assert.equal(o['locked'], true, `nobody's lock is its own: ${JSON.stringify(o)} ${other.stderr}`);
      assert.equal(o['uid'], typeof user === 'string' ? -1 : user.uid);
      assert.equal(r['addr'], '127.0.0.1');
      assert.equal(o['addr'], '127.0.0.1');
      assert.notEqual(r['port'], o['port']);
      for (const [first, options] of [[r, {}], [o, asNobody]] as const) {
        const again = holder({}, options);
        const line = await again.next();
        assert.deepEqual({ port: line['port'], locked: line['locked'] }, { port: first['port'], locked: false });
        await again.stop();
      }
    } finally {
      await root.stop();
      await other.stop();
    }
  });

  test('machine-wide (system): one lock for both users', async () => {
    const root = holder({ system: true });
    const r = await root.next();
    try {
      assert.equal(r['locked'], true, JSON.stringify(r));
      const other = holder({ system: true }, asNobody);
      const o = await other.next();
      assert.deepEqual({ addr: o['addr'], port: o['port'], locked: o['locked'] }, { addr: r['addr'], port: r['port'], locked: false });
      await other.stop();
    } finally {
      await root.stop();
    }
  });
});
