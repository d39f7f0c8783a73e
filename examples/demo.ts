// `npm start`: the whole flow in one terminal, without Electron. A holder starts; several
// launches with different argv run as real processes and are forwarded to it; each prints the
// holder's answer; a last launch asks the holder to quit; everything exits.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const app = fileURLToPath(new URL('./app.js', import.meta.url));

function run(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [app, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d;
      process.stdout.write(d);
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

console.log('lock-socket demo: one holder, forwarded launches, replies\n');
const holder = spawn(process.execPath, [app], { stdio: ['ignore', 'pipe', 'inherit'] });
const holderExit = new Promise<number>((resolve) => holder.on('exit', (code) => resolve(code ?? 1)));
await new Promise<void>((resolve, reject) => {
  holder.stdout.on('data', (d: Buffer) => {
    process.stdout.write(d);
    if (d.toString().includes('waiting for launches')) resolve();
  });
  holder.on('exit', () => reject(new Error('the holder exited early: is the demo port in use?')));
});

const launches = [
  ['open', 'README.md'],
  ['open', 'notes with spaces.txt', '--line=42'],
  ['open', 'ünïcödé ✓.md', '', '--'],
  ['frobnicate'],
];
console.log('\n-- three launches at once --');
const results = await Promise.all(launches.slice(0, 3).map(run));
console.log('\n-- one the holder refuses (exit code 2) --');
results.push(await run(launches[3] as string[]));
console.log('\n-- asking the holder to quit --');
results.push(await run(['--quit']));
const holderCode = await holderExit;

console.log('\nexit codes of the launches:', results.map((r) => r.code).join(', '), '| holder:', holderCode);
const expected = [0, 0, 0, 2, 0];
const ok = holderCode === 0 && results.every((r, i) => r.code === expected[i]);
console.log(ok ? 'demo finished: every launch was delivered and answered' : 'demo FAILED');
process.exitCode = ok ? 0 : 1;
