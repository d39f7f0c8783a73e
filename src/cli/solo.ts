#!/usr/bin/env node
/**
 * solo: run a command only if nobody holds the lock on PORT, and hold it while the command
 * runs (Perl Lock::Socket's example program, installed). The lock is released when the command
 * ends; on Linux the command holds it too (inherit.ts), so not even a SIGKILL to solo frees it
 * while the command runs.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LockSocketError, SYSTEM_ADDRESS, lockEndpoints } from '../lock/index.js';
import { requestSingleInstance } from '../main/instance.js';
import { SOLO_APP_ID, UsageError, lockFor, lockName, parseInvocation, portArgument } from './args.js';
import type { Invocation, Values } from './args.js';
import { warnIfEphemeral } from './ephemeral.js';
import { ExitCode, exitCodeForError } from '../main/exit-codes.js';
import { listeningSocketFd } from './inherit.js';
import { forwardSignals } from './signals.js';
import { statusMode } from './status.js';

export { SOLO_APP_ID, UsageError, parseInvocation, splitArgv } from './args.js';
export type { Invocation } from './args.js';

const USAGE = `Usage: solo [--addr ADDR | --system] [--wait] [--app-id ID] PORT COMMAND [ARGS...]
       solo --status [--json] [--addr ADDR | --system] [--app-id ID] PORT`;

function helpText(): string {
  let mine: string;
  try {
    const [first] = lockEndpoints({ appId: SOLO_APP_ID, port: 5197 });
    mine = first?.addr === SYSTEM_ADDRESS && first.port !== 5197 ? `${SYSTEM_ADDRESS}, PORT mapped to a port of your own (5197 → ${first.port})` : `${first?.addr}`;
  } catch {
    mine = 'none for this uid: use --addr';
  }
  return `${USAGE}

Runs COMMAND only if the lock on PORT is free, and holds the lock while COMMAND runs.
If another process holds it, prints which address:port is locked and exits with ${ExitCode.LOCKED}
without running COMMAND. stdin/stdout/stderr pass through; every signal that would end solo
(INT, TERM, HUP, QUIT, USR1, USR2, ALRM, ...) is forwarded to COMMAND; solo exits with
COMMAND's status (128+N if a signal N killed it). On Linux COMMAND holds the lock too (as fd 3),
so it stays held even if solo is killed with SIGKILL.

While it holds the lock, solo answers later launches over the lock socket: another solo on
the same PORT is told who holds it, --wait waits for it to finish, --status describes it.

Options (before PORT; everything after PORT is COMMAND's):
  --addr ADDR       lock this loopback address (127.0.0.0/8, ::1), one lock for every user,
                    instead of the default, which is per user: ${mine} here
  --system          lock ${SYSTEM_ADDRESS}:PORT: one holder on the machine, whoever the user
  --wait            if the lock is held, wait until its holder releases it, then run COMMAND
  --status          print who holds the lock on PORT (pid, appId, version, since) and exit:
                    0 held, ${ExitCode.FREE} free, ${ExitCode.OTHER_APP} held by another app, ${ExitCode.LOCKED} held but not proven to be
                    this user's ID, ${ExitCode.FOREIGN} held by something that is not lock-socket
  --json            with --status: print one JSON object
  --app-id ID       the app this solo serves or asks about (default "${SOLO_APP_ID}"); with
                    --status the holder must prove it is this user's ID ("verified")
  --secret-dir DIR  where the per-user secret lives (default: ~/.lock-socket, without a
                    usable home /run/user/UID, $XDG_RUNTIME_DIR or /tmp/lock-socket-UID)
  -h, --help        show this help

Use a PORT below 32768: Linux lends 32768-60999 to outgoing connections (solo warns).

Examples:
  solo 5197 sleep 30 &          # takes the lock on port 5197 and sleeps
  solo 5197 echo never          # the lock is held: exits ${ExitCode.LOCKED}, echo does not run
  solo --system 5198 ls -la     # one at a time per machine; -la goes to ls
  solo 5199 sh -c 'exit 3'; echo $?   # prints 3: COMMAND's status passes through
  solo --status 5197            # 127.0.0.1:5197 is held by pid 4242 (solo, lock-socket 0.1.0, ...)
  solo --wait 5197 make deploy  # runs make once the holder of 5197 has finished

Exit status: COMMAND's own, or ${ExitCode.USAGE} usage (a PORT that is not 1-65535 too), ${ExitCode.LOCKED} locked,
${ExitCode.CONFIG} bad address/permission/secret, ${ExitCode.OSERR} other system error, ${ExitCode.CANNOT_EXECUTE} COMMAND not executable,
${ExitCode.NOT_FOUND} COMMAND not found, 128+N signal N;
--status: 0 held, ${ExitCode.FREE} free, ${ExitCode.OTHER_APP} another app, ${ExitCode.LOCKED} not proven, ${ExitCode.FOREIGN} not lock-socket.
`;
}

// -- modes --------------------------------------------------------------------------------
// One function per mode; selectMode picks it from the options. New modes (status, wait) add
// an entry to MODES and a line to selectMode.

type Mode = (invocation: Invocation) => Promise<number>;

const MODES = {
  help: async () => {
    process.stdout.write(helpText());
    return ExitCode.OK;
  },
  run: runMode,
  status: statusMode,
} satisfies Record<string, Mode>;

function selectMode(values: Values): keyof typeof MODES {
  if (values.help) return 'help';
  if (values.status) {
    if (values.wait) throw new UsageError('--status and --wait exclude each other');
    return 'status';
  }
  if (values.json) throw new UsageError('--json goes with --status');
  return 'run';
}

/**
 * The lock is taken through requestSingleInstance, so that while COMMAND runs solo speaks the
 * protocol on its lock socket: a later solo hears who holds it, `--wait` is woken by the
 * release, `--status` gets an answer.
 */
async function runMode({ values, positionals }: Invocation): Promise<number> {
  const [portText, command, ...args] = positionals;
  const port = portArgument(portText, 'missing PORT and COMMAND');
  if (command === undefined) throw new UsageError('missing COMMAND');
  // The exact lock (no alternatives): the one Perl's Lock::Socket and every other solo meet.
  const lock = lockFor(values, port);
  const { addr, port: lockPort } = lock;
  warnIfEphemeral(lockPort);
  const endpoint = lockName(lock, port);
  let instance;
  try {
    instance = await requestSingleInstance({
      port: lockPort,
      addr,
      appId: values['app-id'] ?? SOLO_APP_ID,
      argv: [command, ...args],
      waitForRelease: values.wait ?? false,
      ...(values['secret-dir'] === undefined ? {} : { secretDir: values['secret-dir'] }),
    });
  } catch (error) {
    if (error instanceof LockSocketError && exitCodeForError(error.code) === ExitCode.LOCKED) {
      process.stderr.write(`solo: ${endpoint} is locked by another process (${error.code}: ${error.message}); not running ${command}\n`);
      return ExitCode.LOCKED;
    }
    throw error;
  }
  if (!instance.isPrimary) {
    process.stderr.write(`solo: ${endpoint} is locked: ${instance.reply?.message ?? 'held'}; not running ${command}\n`);
    return ExitCode.LOCKED;
  }
  const since = new Date().toISOString();
  instance.on('second-instance', (_launch, reply) =>
    reply({ exitCode: ExitCode.LOCKED, message: `held by solo (pid ${process.pid}) running ${command} since ${since}` }),
  );
  try {
    return await runCommand(command, args, listeningSocketFd(lockPort));
  } finally {
    await instance.close();
  }
}

/**
 * Runs COMMAND with inherited stdio, forwarding signals, and resolves with solo's exit status.
 * `lockFd`, when known, is solo's listening socket: COMMAND gets it as fd 3, so the lock stays
 * held for as long as COMMAND (or a descendant that keeps fd 3 open) runs, even if solo is
 * killed with SIGKILL. Nobody answers on the socket then; launches time out (EHANDSHAKETIMEOUT) and
 * still count as locked.
 */
function runCommand(command: string, args: string[], lockFd: number | undefined): Promise<number> {
  return new Promise((resolve) => {
    const stdio: StdioOptions = lockFd === undefined ? 'inherit' : ['inherit', 'inherit', 'inherit', lockFd];
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio });
    } catch (error) {
      resolve(cannotRun(command, error as NodeJS.ErrnoException));
      return;
    }
    let spawned = false;
    // Listening also stops these signals from ending solo: it lives exactly as long as COMMAND.
    const stopForwarding = forwardSignals((signal) => {
      child.kill(signal);
    });
    child.once('spawn', () => (spawned = true));
    child.on('error', (error: NodeJS.ErrnoException) => {
      // After 'spawn', an error can only come from kill(); COMMAND is still running then.
      if (spawned) return;
      stopForwarding();
      resolve(cannotRun(command, error));
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? ExitCode.SIGNAL_BASE + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}

function cannotRun(command: string, error: NodeJS.ErrnoException): number {
  switch (error.code) {
    case 'ENOENT':
      process.stderr.write(`solo: ${command}: command not found\n`);
      return ExitCode.NOT_FOUND;
    case 'EACCES':
    case 'EPERM':
    case 'ENOEXEC':
    case 'EISDIR':
    case 'ENOTDIR':
      process.stderr.write(`solo: ${command}: cannot execute (${error.code})\n`);
      return ExitCode.CANNOT_EXECUTE;
    default:
      process.stderr.write(`solo: ${command}: ${error.message}\n`);
      return ExitCode.OSERR;
  }
}

/** Runs solo with `argv` (without node and the script) and resolves with its exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const invocation = parseInvocation(argv);
    return await MODES[selectMode(invocation.values)](invocation);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`solo: ${error.message}\n${USAGE}\nTry 'solo --help' for examples.\n`);
      return ExitCode.USAGE;
    }
    if (error instanceof LockSocketError) {
      process.stderr.write(`solo: ${error.message}\n`);
      return exitCodeForError(error.code);
    }
    throw error;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // npm links bins through symlinks; compare real paths.
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));
