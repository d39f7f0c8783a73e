/**
 * solo's command line: options before PORT, PORT itself, and which lock (address, port) they
 * name. Shared by the run and status modes.
 */
import { parseArgs } from 'node:util';
import { formatEndpoint } from '../lock/address.js';
import { lockEndpoints } from '../lock/endpoints.js';
import type { LockEndpoint } from '../lock/endpoints.js';

/**
 * Options that may come before PORT. Everything from PORT on belongs to COMMAND, so that
 * `solo 5197 ls -la` hands `-la` to ls: only the part before the first positional is parsed.
 */
export const OPTIONS = {
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

export type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];

export interface Invocation {
  values: Values;
  /** PORT, COMMAND and COMMAND's arguments, untouched. */
  positionals: string[];
}

/** A mistake in how solo was called: exits with ExitCode.USAGE and a hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
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

/**
 * PORT as a number. Anything but digits naming 1-65535 is one usage error with one wording,
 * whether it is `abc`, `0x10`, `1e3`, `0` or `65536`: the command line is wrong either way.
 */
export function portArgument(portText: string | undefined, missing: string): number {
  if (portText === undefined) throw new UsageError(missing);
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`PORT must be a number from 1 to 65535, got ${JSON.stringify(portText)}`);
  return port;
}

/**
 * The lock PORT names for these options: lockEndpoints' first endpoint, with no alternatives
 * (solo's lock is exactly one place, so that Perl's Lock::Socket and other solos meet it).
 * Per user by default: on Linux and Windows the address tells users apart and PORT is used as
 * given; on macOS and the BSDs PORT is mapped to a port of this user's own on 127.0.0.1.
 * `--addr` and `--system` name a machine-wide lock on exactly PORT.
 */
export function lockFor(values: Values, port: number): LockEndpoint {
  if (values.addr !== undefined && values.system) throw new UsageError('--addr and --system exclude each other');
  const [first] = lockEndpoints({
    appId: values['app-id'] ?? SOLO_APP_ID,
    port,
    alternatives: 0,
    ...(values.system ? { system: true } : {}),
    ...(values.addr === undefined ? {} : { addr: values.addr }),
  });
  if (first === undefined) throw new Error('lockEndpoints returned no endpoint');
  return first;
}

/**
 * The lock for messages: `addr:port`, and where PORT was mapped to a port of this user's own
 * (macOS, the BSDs), which PORT it stands for, so that the number the user typed is recognisable.
 */
export function lockName(lock: LockEndpoint, port: number): string {
  const endpoint = formatEndpoint(lock.addr, lock.port);
  return lock.port === port ? endpoint : `${endpoint} (your port for PORT ${port})`;
}
