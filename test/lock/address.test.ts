// The address scheme as a pure function over synthetic platforms and uids, and the address and
// port validation. Nothing here binds a socket.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, SYSTEM_ADDRESS, defaultAddress } from '../../src/lock/index.js';
import { MAX_SCHEME_UID, formatEndpoint, validateAddress, validatePort } from '../../src/lock/address.js';
import { throwsWith } from '../helpers/errors.js';

const linux = (uid: number): string => defaultAddress({ platform: 'linux', uid });

describe('defaultAddress on Linux', () => {
  test('uids 0..65535 map to 127.X.Y.1 like Perl Lock::Socket', () => {
    assert.equal(linux(0), '127.0.0.1');
    assert.equal(linux(1), '127.0.1.1');
    assert.equal(linux(255), '127.0.255.1');
    assert.equal(linux(256), '127.1.0.1');
    assert.equal(linux(1000), '127.3.232.1');
    assert.equal(linux(65535), '127.255.255.1');
  });

  test('uids above 65535 get 127.X.Y.Z with Z = (uid >> 16) + 1', () => {
    assert.equal(linux(65536), '127.0.0.2');
    assert.equal(linux(65536 + 1000), '127.3.232.2');
    assert.equal(linux(2 * 65536 + 257), '127.1.1.3');
    assert.equal(MAX_SCHEME_UID, 254 * 65536 - 1);
    assert.equal(linux(MAX_SCHEME_UID), '127.255.255.254');
  });

  test('uids beyond the scheme, negative or fractional are EUIDRANGE, never a shared address', () => {
    for (const uid of [MAX_SCHEME_UID + 1, 2 ** 32 - 2, -1, 1.5, Number.NaN]) {
      throwsWith(() => linux(uid), ErrorCode.EUIDRANGE);
    }
  });

  test('other unixes with a /8 loopback use the same scheme', () => {
    assert.equal(defaultAddress({ platform: 'android', uid: 10123 }), linux(10123));
  });

  test('distinct uids never share an address (boundaries and a deterministic sample)', () => {
    const uids = new Set<number>([0, 1, 255, 256, 65534, 65535, 65536, 65537, 131071, 131072, MAX_SCHEME_UID - 1, MAX_SCHEME_UID]);
    // A fixed linear congruential walk over the whole range, plus every uid whose low 16 bits
    // equal a small uid's (the collisions a truncating scheme would make).
    let x = 12345;
    for (let i = 0; i < 20000; i += 1) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      uids.add(x % (MAX_SCHEME_UID + 1));
    }
    for (let high = 0; high < 254; high += 1) uids.add(high * 65536 + 1000);
    const seen = new Map<string, number>();
    for (const uid of uids) {
      const addr = linux(uid);
      assert.match(addr, /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
      const last = Number(addr.split('.')[3]);
      assert.ok(last >= 1 && last <= 254, `${addr} must not end in .0 or .255`);
      const other = seen.get(addr);
      assert.equal(other, undefined, `uid ${uid} and uid ${other} share ${addr}`);
      seen.set(addr, uid);
    }
  });
});

describe('defaultAddress elsewhere', () => {
  test('macOS and the BSDs only have 127.0.0.1: the lock is system-wide', () => {
    for (const platform of ['darwin', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix'] as const) {
      assert.equal(defaultAddress({ platform, uid: 1000 }), SYSTEM_ADDRESS);
    }
    assert.equal(SYSTEM_ADDRESS, '127.0.0.1');
  });

  test('Windows derives X.Y from sha256 of the lower-cased user name', () => {
    const digest = createHash('sha256').update('alice').digest();
    const expected = `127.${digest[0]}.${digest[1]}.1`;
    assert.equal(defaultAddress({ platform: 'win32', username: 'alice' }), expected);
    assert.equal(defaultAddress({ platform: 'win32', username: 'ALICE' }), expected);
    assert.notEqual(defaultAddress({ platform: 'win32', username: 'bob' }), expected);
  });

  test('without inputs it describes this process (root here → 127.0.0.1)', () => {
    const expected = defaultAddress({ platform: process.platform, uid: process.getuid?.() ?? 0 });
    assert.equal(defaultAddress(), expected);
    if (process.platform === 'linux' && process.getuid?.() === 0) assert.equal(defaultAddress(), '127.0.0.1');
  });
});

describe('validateAddress', () => {
  test('accepts loopback addresses and normalises them', () => {
    assert.equal(validateAddress('127.0.0.1'), '127.0.0.1');
    assert.equal(validateAddress('127.255.255.254'), '127.255.255.254');
    assert.equal(validateAddress('::1'), '::1');
    assert.equal(validateAddress('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(validateAddress('::FFFF:127.0.0.2'), '::ffff:127.0.0.2');
    assert.equal(validateAddress('::ffff:7f01:203'), '::ffff:127.1.2.3');
  });

  test('refuses every non-loopback address with ENOTLOOPBACK', () => {
    for (const addr of ['10.0.0.1', '0.0.0.0', '8.8.8.8', '128.0.0.1', '::', '::2', 'fe80::1', '::ffff:10.0.0.1', '::127.0.0.1']) {
      throwsWith(() => validateAddress(addr), ErrorCode.ENOTLOOPBACK);
    }
  });

  test('refuses names and malformed text with EINVALIDADDR: names are never resolved', () => {
    for (const addr of ['localhost', 'ip6-localhost', '', '127.1', '127.0.0.01', '127.0.0.256', '::1%lo', ' 127.0.0.1', '[::1]']) {
      throwsWith(() => validateAddress(addr), ErrorCode.EINVALIDADDR);
    }
    throwsWith(() => validateAddress(2130706433 as unknown as string), ErrorCode.EINVALIDADDR);
  });
});

describe('validatePort', () => {
  test('accepts integers 1..65535', () => {
    for (const port of [1, 80, 5197, 32767, 65535]) assert.equal(validatePort(port), port);
  });

  test('refuses anything else with EINVALIDPORT', () => {
    for (const port of [0, -1, 65536, 1.5, Number.NaN, Infinity, 'x', '5197', null, undefined, 5197n]) {
      throwsWith(() => validatePort(port), ErrorCode.EINVALIDPORT);
    }
  });
});

describe('formatEndpoint', () => {
  test('puts IPv6 in brackets, so the port cannot be read as part of the address', () => {
    assert.equal(formatEndpoint('127.3.232.1', 5197), '127.3.232.1:5197');
    assert.equal(formatEndpoint('::1', 5197), '[::1]:5197');
    assert.equal(formatEndpoint('::ffff:127.0.0.1', 5197), '[::ffff:127.0.0.1]:5197');
  });

  test('no source joins an address and a port by hand (which prints IPv6 wrongly)', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const byHand = /\$\{[^}]*(?:addr|host)[^}]*\}:\$\{[^}]*port[^}]*\}/i;
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist') walk(path);
        else if (/\.(?:ts|cts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
          readFileSync(join(root, path), 'utf8')
            .split('\n')
            .forEach((line, i) => {
              // formatEndpoint itself, and bench/raw.ts's copy of it (that file uses no lock-socket code).
              if (byHand.test(line) && !line.includes('`[${')) found.push(`${path}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    for (const dir of ['src', 'test', 'bench', 'examples', 'example-app']) walk(dir);
    assert.ok(byHand.test(['`${lock.addr}', '${lock.port}`'].join(':')), 'control: the pattern finds the hand-made form');
    assert.deepEqual(found, []);
  });
});
