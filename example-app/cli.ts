/**
 * The example app's command line, VS Code's `code` pattern: the app's own binary runs this file in
 * Node mode (ELECTRON_RUN_AS_NODE=1, set by bin/lock-socket-example and bin/lock-socket-example.cmd),
 * so no Chromium starts. It hands the launch to the running instance and prints its answer; when
 * no instance runs, it starts the GUI, detached, and exits.
 *
 *   lock-socket-example [ARGS...]          forwarded like a second launch of the GUI
 *   lock-socket-example --list             the running instance prints its launches here
 *   lock-socket-example --wait FILE        waits until FILE is marked done in the window
 *                                          (EDITOR="lock-socket-example --wait" for git)
 *   lock-socket-example -                  sends stdin to the running instance
 *
 * Exit status: the holder's exit code; 0 after starting the GUI; 75/78/71 (solo's) when the lock
 * could be neither reached nor found free.
 */
import { forwardLaunch, LockSocketError } from 'lock-socket/main';
import { lockTarget } from './config.js';

const args = process.argv.slice(2);
const wait = args.includes('--wait');

try {
  const reply = await forwardLaunch({
    ...lockTarget(),
    // What a GUI launch would forward: the executable, then the arguments.
    argv: [process.execPath, ...args],
    cwd: process.cwd(),
    data: { via: 'cli', wait },
    ...(args.includes('-') ? { stdin: process.stdin } : {}),
    // --wait: as long as it takes (the user works in the window first).
    ...(wait ? { replyTimeout: Infinity } : {}),
  });
  if (reply) {
    if (reply.message !== undefined) (reply.exitCode === 0 ? process.stdout : process.stderr).write(`${reply.message}\n`);
    process.exitCode = reply.exitCode;
  } else {
    await startGui();
  }
} catch (error) {
  if (!(error instanceof LockSocketError)) throw error;
  process.stderr.write(`lock-socket-example: ${error.code}: ${error.message}\n`);
  process.exitCode = error.code === 'EINVALIDOPTION' ? 78 : error.code === 'ELISTEN' ? 71 : 75;
}

/**
 * No instance runs: start the GUI with these arguments, on its own (detached, its output not
 * tied to this terminal), with ELECTRON_RUN_AS_NODE removed so that the binary starts as Electron.
 * Packaged, the binary is the app; in development (`electron example-app`) it needs the app's
 * folder first. LOCK_SOCKET_EXAMPLE_GUI (JSON array) replaces the binary: the tests run the
 * stand-in Electron runtime there. Its modules are imported here, not at the top: the common case,
 * a launch forwarded to a running instance, never needs them, and they cost a fresh process about
 * 1.5 ms, most of it node:child_process (docs/benchmarks.md, row CLI).
 */
async function startGui(): Promise<void> {
  const [{ spawn }, { dirname }, { fileURLToPath }] = await Promise.all([import('node:child_process'), import('node:path'), import('node:url')]);
  const { ELECTRON_RUN_AS_NODE: _, ...env } = process.env;
  const here = dirname(fileURLToPath(import.meta.url));
  const packaged = here.includes('app.asar');
  const appArgs = packaged ? args : [dirname(here), ...args];
  const override = process.env['LOCK_SOCKET_EXAMPLE_GUI'];
  const [command, ...prefix] = override ? (JSON.parse(override) as string[]) : [process.execPath];
  const gui = spawn(command as string, [...prefix, ...appArgs], { detached: true, stdio: 'ignore', env, cwd: process.cwd() });
  gui.unref();
}
