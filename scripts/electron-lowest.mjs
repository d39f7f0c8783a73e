// Refreshes test/electron-lowest/: the electron.d.ts (and licence) of the lowest Electron in
// package.json's peer range, which `npm test` type-checks the adapter against. Vendored, not
// installed: installing an old electron (even under an npm alias) runs its postinstall, which
// downloads the binary and fails offline; the types alone are all the check needs.
// Usage: node scripts/electron-lowest.mjs   (needs the npm registry; commit the result)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).peerDependencies.electron;
const lowest = /^>=(\d+)$/.exec(range)?.[1];
if (!lowest) throw new Error(`peer range ${range}: expected ">=N"`);
const version = `${lowest}.0.0`;
const work = mkdtempSync(join(tmpdir(), 'electron-lowest-'));
try {
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', `electron@${version}`, '--json', '--pack-destination', work], { encoding: 'utf8' }));
  execFileSync('tar', ['-xzf', join(work, filename), '-C', work, 'package/electron.d.ts', 'package/LICENSE']);
  const out = join(root, 'test', 'electron-lowest');
  copyFileSync(join(work, 'package', 'electron.d.ts'), join(out, 'electron.d.ts'));
  copyFileSync(join(work, 'package', 'LICENSE'), join(out, 'LICENSE'));
  writeFileSync(join(out, 'VERSION'), `${version}\n`);
  console.log(`test/electron-lowest: electron ${version}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
