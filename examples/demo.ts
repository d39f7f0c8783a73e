// `npm start`: the whole flow in one terminal, without Electron. A holder starts; several
// launches with different argv run as real processes and are forwarded to it; each prints the
// holder's answer; then the holder is SIGKILLed and the next launch takes over at once (the
// kernel freed the lock); a last launch asks the new holder to quit; everything exits.
//
//   npm start                      the port is derived from the demo's appId
//   npm start -- --port 27190      a port of your choice (below 32768)
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const env = { ...process.env, ...(values.port === undefined ? {} : { DEMO_PORT: values.port }) };
const app = fileURLToPath(new URL('./app.js', import.meta.url));

function run(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [app, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d;
      process.stdout.write(d);
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Starts the app as a holder and resolves once it says it holds the lock. */
function holder(args: string[] = []): Promise<{ child: ChildProcess; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [app, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      if (d.toString().includes('waiting for launches')) resolve({ child, exit });
    });
    child.on('exit', () => reject(new Error('the holder exited early: is its port in use? Try npm start -- --port N')));
  });
}

console.log('lock-socket demo: one holder, forwarded launches, replies, a takeover\n');
const first = await holder();

const launches = [
  ['open', 'README.md'],
  ['open', 'notes with spaces.txt', '--line=42'],
  ['open', 'ünïcödé ✓.md', '', '--'],
];
console.log('\n-- three launches at once --');
const results = await Promise.all(launches.map(run));
console.log('\n-- one the holder refuses (exit code 2) --');
results.push(await run(['frobnicate']));

console.log('\n-- the holder is killed (SIGKILL); the next launch takes over --');
first.child.kill('SIGKILL');
const firstExit = await first.exit;
const second = await holder(['open', 'after-the-crash.md']);
results.push(await run(['open', 'to-the-new-holder.md']));
console.log('\n-- asking the new holder to quit --');
results.push(await run(['--quit']));
const secondCode = await second.exit;

console.log('\nexit codes of the launches:', results.map((r) => r.code).join(', '), '| first holder:', firstExit === null ? 'killed' : firstExit, '| new holder:', secondCode);
const expected = [0, 0, 0, 2, 0, 0];
const ok = firstExit === null && secondCode === 0 && results.every((r, i) => r.code === expected[i]);
console.log(ok ? 'demo finished: every launch was delivered and answered, and the takeover took a moment' : 'demo FAILED');
process.exitCode = ok ? 0 : 1;
