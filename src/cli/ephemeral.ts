/**
 * The local ephemeral port range: ports the system lends to outgoing connections as their local
 * port. While a client socket has the lock's port as its local address (even in TIME_WAIT, after
 * it closed), binding that address and port fails and a free lock looks held. solo warns when
 * PORT lies inside the range.
 */
import { readFileSync } from 'node:fs';

export interface PortRange {
  low: number;
  high: number;
  /** Where the range comes from, for the warning: a file, or the platform's default. */
  source: string;
}

const LINUX_RANGE = '/proc/sys/net/ipv4/ip_local_port_range';
const LINUX_RESERVED = '/proc/sys/net/ipv4/ip_local_reserved_ports';

/**
 * Defaults where nothing cheap can be read (a sysctl would cost a process): IANA's dynamic range
 * on macOS, Windows and NetBSD, FreeBSD's net.inet.ip.portrange.first/last. Linux's own default
 * is the fallback when /proc cannot be read. Other platforms: unknown, no warning.
 */
const DEFAULTS: Partial<Record<NodeJS.Platform, [number, number]>> = {
  linux: [32768, 60999],
  darwin: [49152, 65535],
  win32: [49152, 65535],
  netbsd: [49152, 65535],
  freebsd: [10000, 65535],
};

/**
 * The range, or undefined where it is unknown. On Linux `rangeText` is the content of
 * /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999"), read when not given.
 */
export function ephemeralRange(platform: NodeJS.Platform = process.platform, rangeText?: string): PortRange | undefined {
  if (platform === 'linux') {
    const text = rangeText ?? readOrUndefined(LINUX_RANGE);
    const match = text === undefined ? null : /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
    if (match) return { low: Number(match[1]), high: Number(match[2]), source: LINUX_RANGE };
  }
  const fallback = DEFAULTS[platform];
  return fallback === undefined ? undefined : { low: fallback[0], high: fallback[1], source: `the ${platform} default` };
}

/**
 * True when Linux keeps `port` out of the ephemeral range although it lies inside it:
 * /proc/sys/net/ipv4/ip_local_reserved_ports ("8080,9000-9100"), read when not given.
 */
export function isReservedPort(port: number, reservedText: string | undefined = readOrUndefined(LINUX_RESERVED)): boolean {
  for (const part of (reservedText ?? '').split(',')) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!match) continue;
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (port >= low && port <= high) return true;
  }
  return false;
}

/**
 * The warning for `port`, or undefined when it lies outside the range (or, on Linux, in
 * ip_local_reserved_ports). Every input but `port` is read from the system when not given.
 */
export function ephemeralWarning(
  port: number,
  { platform = process.platform, range = ephemeralRange(platform), reservedText }: { platform?: NodeJS.Platform; range?: PortRange | undefined; reservedText?: string } = {},
): string | undefined {
  if (range === undefined || port < range.low || port > range.high) return undefined;
  if (platform === 'linux' && isReservedPort(port, reservedText)) return undefined;
  const advice = [
    ...(range.low > 1024 ? [`pick a port below ${range.low}`] : []),
    ...(platform === 'linux' ? [`reserve it (sysctl -w net.ipv4.ip_local_reserved_ports=${port})`] : []),
  ];
  return (
    `port ${port} is inside the local ephemeral range ${range.low}-${range.high} (${range.source}): ` +
    `the system may lend it to an outgoing connection, and the lock then looks held` +
    (advice.length > 0 ? `; ${advice.join(', or ')}` : '')
  );
}

/** Writes the warning for `port` to stderr, as `solo: warning: ...`, when there is one. */
export function warnIfEphemeral(port: number): void {
  const warning = ephemeralWarning(port);
  if (warning !== undefined) process.stderr.write(`solo: warning: ${warning}\n`);
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}
