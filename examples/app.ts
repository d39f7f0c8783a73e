// A plain-Node app with a single instance: run it twice and the second run hands its command
// line to the first, prints the answer, and exits with the first one's exit code.
//
//   node dist/examples/app.js open README.md      (first run: holds the lock and serves)
//   node dist/examples/app.js open other.txt      (later runs: forwarded, answered, exit)
//   node dist/examples/app.js --quit              (asks the running one to quit)
//
// The port is derived from the appId, so every run finds the same lock; DEMO_PORT picks one.
import { requestSingleInstance, LockSocketError } from '../src/main/index.js';

const tag = `[${process.pid}]`;

try {
  const instance = await requestSingleInstance({
    ...(process.env['DEMO_PORT'] ? { port: Number(process.env['DEMO_PORT']) } : {}),
    appId: 'com.example.lock-socket-demo',
    argv: process.argv.slice(2),
    data: { launchedAt: new Date().toISOString() },
    env: ['XDG_ACTIVATION_TOKEN'],
    onDelivered: ({ holderPid, queued }) => console.log(`${tag} launcher: handed over to pid ${holderPid}${queued ? ' (queued)' : ''}`),
  });

  if (instance.isPrimary) {
    console.log(`${tag} holder: I hold port ${instance.port} on ${instance.addr}; waiting for launches`);
    let served = 0;
    instance.on('second-instance', async (launch, reply) => {
      served++;
      console.log(`${tag} holder: launch #${served} from pid ${launch.pid} in ${launch.cwd}: ${JSON.stringify(launch.argv)}`);
      if (launch.argv[0] === '--quit') {
        reply({ exitCode: 0, message: `holder ${process.pid} quits after ${served} launches` });
        await instance.close();
        console.log(`${tag} holder: released the lock, bye`);
        return;
      }
      await new Promise((r) => setTimeout(r, 20)); // "opening the file"
      const file = launch.argv[1] ?? '(nothing)';
      reply({ exitCode: launch.argv[0] === 'open' ? 0 : 2, message: launch.argv[0] === 'open' ? `opened ${file} in the running window` : `unknown command ${JSON.stringify(launch.argv[0])}` });
    });
  } else {
    console.log(`${tag} launcher: holder answered ${JSON.stringify(instance.reply?.message)} (exit ${instance.reply?.exitCode})`);
    process.exitCode = instance.reply?.exitCode ?? 0;
  }
} catch (error) {
  if (!(error instanceof LockSocketError)) throw error;
  console.error(`${tag} ${error.code}: ${error.message}`);
  process.exitCode = 70;
}
