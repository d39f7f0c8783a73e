#!/usr/bin/env node
/**
 * solo: run a command only if nobody holds the lock on PORT, and hold it while the command
 * runs (Perl Lock::Socket's example program, installed). The lock is released the moment the
 * command ends, or by the kernel if solo itself dies; the command does not inherit it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatEndpoint } from '../lock/address.js';
import { LockSocketError, SYSTEM_ADDRESS, defaultAddress } from '../lock/index.js';
import { instanceStatus, requestSingleInstance } from '../main/instance.js';
import { ExitCode, exitCodeForError } from './exit-codes.js';

/**
 * Options that may come before PORT. Everything from PORT on belongs to COMMAND, so that
 * `solo 5197 ls -la` hands `-la` to ls: only the part before the first positional is parsed.
 */
const OPTIONS = {
  addr: { type: 'string' },
  system: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  wait: { type: 'boolean' },
  status: { type: 'boolean' },
  json: { type: 'boolean' },
  'app-id': { type: 'string' },
  'secret-dir': { type: 'string' },
} as const;

/** The appId a solo holder serves when --app-id is not given. */
export const SOLO_APP_ID = 'solo';

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];

export interface Invocation {
  values: Values;
  /** PORT, COMMAND and COMMAND's arguments, untouched. */
  positionals: string[];
}

/** A mistake in how solo was called: exits with {@link ExitCode.USAGE} and a hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USAGE = `Usage: solo [--addr ADDR | --system] [--wait] [--app-id ID] PORT COMMAND [ARGS...]
       solo --status [--json] [--addr ADDR | --system] [--app-id ID] PORT`;

function helpText(): string {
  let mine: string;
  try {
    mine = defaultAddress();
  } catch {
    mine = 'none for this uid: use --addr';
  }
  return `${USAGE}

Runs COMMAND only if the lock on PORT is free, and holds the lock while COMMAND runs.
If another process holds it, prints which address:port is locked and exits with ${ExitCode.LOCKED}
without running COMMAND. stdin/stdout/stderr pass through; SIGINT, SIGTERM and SIGHUP are
forwarded to COMMAND; solo exits with COMMAND's status (128+N if a signal N killed it).

While it holds the lock, solo answers later launches over the lock socket: another solo on
the same PORT is told who holds it, --wait waits for it to finish, --status describes it.

Options (before PORT; everything after PORT is COMMAND's):
  --addr ADDR       lock this loopback address (127.0.0.0/8, ::1) instead of the default,
                    which is per user: ${mine} here
  --system          lock ${SYSTEM_ADDRESS}: one holder on the machine, whoever the user
  --wait            if the lock is held, wait until its holder releases it, then run COMMAND
                    (woken by the holder's release, not by polling)
  --status          print who holds the lock on PORT (pid, appId, version, since) and exit:
                    0 held, ${ExitCode.FREE} free, ${ExitCode.LOCKED} held by something that is not lock-socket
  --json            with --status: print one JSON object
  --app-id ID       the app this solo serves or asks about (default "${SOLO_APP_ID}"); with
                    --status the holder must prove it is this user's ID ("verified")
  --secret-dir DIR  where the per-user secret lives (default: ~/.lock-socket)
  -h, --help        show this help

Use a PORT below 32768: Linux lends 32768-60999 to outgoing connections.

Examples:
  solo 5197 sleep 30 &          # takes the lock on port 5197 and sleeps
  solo 5197 echo never          # the lock is held: exits ${ExitCode.LOCKED}, echo does not run
  solo --system 5198 ls -la     # one at a time per machine; -la goes to ls
  solo 5199 sh -c 'exit 3'; echo $?   # prints 3: COMMAND's status passes through
  solo --status 5197            # 127.0.0.1:5197 is held by pid 4242 (solo, lock-socket 0.1.0, ...)
  solo --wait 5197 make deploy  # runs make once the holder of 5197 has finished

Exit status: COMMAND's own, or ${ExitCode.USAGE} usage, ${ExitCode.LOCKED} locked, ${ExitCode.CONFIG} bad port/address/permission,
${ExitCode.OSERR} other system error, ${ExitCode.CANNOT_EXECUTE} COMMAND not executable, ${ExitCode.NOT_FOUND} COMMAND not found, 128+N signal N;
--status: 0 held, ${ExitCode.FREE} free.
`;
}

/** Splits argv at the first positional (or `--`): solo's options before, PORT and COMMAND after. */
export function splitArgv(argv: readonly string[]): { optionArgs: string[]; positionals: string[] } {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] ?? '';
    if (arg === '--') return { optionArgs: argv.slice(0, i), positionals: argv.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') break;
    i += takesValue(arg) ? 2 : 1;
  }
  return { optionArgs: argv.slice(0, Math.min(i, argv.length)), positionals: argv.slice(i) };
}

function takesValue(arg: string): boolean {
  if (arg.includes('=')) return false;
  const options = OPTIONS as Record<string, { type: string; short?: string }>;
  if (arg.startsWith('--')) return options[arg.slice(2)]?.type === 'string';
  // A short option takes the next argument only when it is the last letter of its cluster.
  const last = arg.slice(-1);
  return Object.values(options).some((o) => o.short === last && o.type === 'string');
}

export function parseInvocation(argv: readonly string[]): Invocation {
  const { optionArgs, positionals } = splitArgv(argv);
  try {
    const { values } = parseArgs({ args: optionArgs, options: OPTIONS, strict: true, allowPositionals: false });
    return { values, positionals };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
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

/** The lock address from --addr / --system; undefined means the per-user default. */
function lockAddress(values: Values): string | undefined {
  if (values.addr !== undefined && values.system) throw new UsageError('--addr and --system exclude each other');
  return values.system ? SYSTEM_ADDRESS : values.addr;
}

/** Digits only, so '0x10' or '1e3' never pass for a port; anything else is EINVALIDPORT. */
function parsePort(text: string): number {
  return /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
}

function portArgument(portText: string | undefined, missing: string): number {
  if (portText === undefined) throw new UsageError(missing);
  const port = parsePort(portText);
  if (Number.isNaN(port)) {
    throw new UsageError(`PORT must be a number from 1 to 65535, got ${JSON.stringify(portText)}`);
  }
  return port;
}

/**
 * The lock is taken through requestSingleInstance, so that while COMMAND runs solo speaks the
 * protocol on its lock socket: a later solo hears who holds it, `--wait` is woken by the
 * release, `--status` gets an answer.
 */
async function runMode({ values, positionals }: Invocation): Promise<number> {
  const [portText, command, ...args] = positionals;
  const port = portArgument(portText, 'missing PORT and COMMAND');
  const addr = lockAddress(values) ?? defaultAddress();
  if (command === undefined) throw new UsageError('missing COMMAND');
  const endpoint = formatEndpoint(addr, port);
  let instance;
  try {
    instance = await requestSingleInstance({
      port,
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
    return await runCommand(command, args);
  } finally {
    await instance.close();
  }
}

async function statusMode({ values, positionals }: Invocation): Promise<number> {
  const [portText, extra] = positionals;
  const port = portArgument(portText, 'missing PORT');
  if (extra !== undefined) throw new UsageError('--status takes only PORT');
  const addr = lockAddress(values) ?? defaultAddress();
  const appId = values['app-id'];
  const status = await instanceStatus({
    port,
    addr,
    ...(appId === undefined ? {} : { appId }),
    ...(values['secret-dir'] === undefined ? {} : { secretDir: values['secret-dir'] }),
  });
  const endpoint = formatEndpoint(addr, port);
  if (values.json) {
    process.stdout.write(JSON.stringify(status ?? { addr, port, held: false }) + '\n');
  } else if (status === undefined) {
    process.stdout.write(`${endpoint} is free\n`);
  } else {
    const proof = appId === undefined ? 'unverified: pass --app-id to check' : status.verified ? 'verified' : 'NOT verified: it could not prove it is this user\'s app';
    process.stdout.write(
      `${endpoint} is held by pid ${status.pid} (${status.appId}, lock-socket ${status.version}, since ${new Date(status.startedAt).toISOString()}; ${proof})\n`,
    );
  }
  return status === undefined ? ExitCode.FREE : ExitCode.OK;
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs COMMAND with inherited stdio, forwarding signals, and resolves with solo's exit status. */
function runCommand(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: 'inherit' });
    } catch (error) {
      resolve(cannotRun(command, error as NodeJS.ErrnoException));
      return;
    }
    let spawned = false;
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    const stopForwarding = (): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    // Listening also stops these signals from killing solo: it lives exactly as long as COMMAND.
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
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
