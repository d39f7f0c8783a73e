/**
 * A real holder that binds without listening, as Perl's Lock::Socket does (socket(), bind(),
 * nothing else: lib/Lock/Socket.pm sets no SO_REUSEADDR). Node cannot make such a socket
 * (its TCP servers always listen), so the holder is a Perl one-liner; both Perl and Python ship
 * with the machines this runs on. It prints one line, `bound` or `failed <errno text>`, and
 * holds the socket until its stdin ends.
 */
import { Child } from './child.js';

export interface BindOnlyOptions {
  /** Set SO_REUSEADDR before bind(), as a program other than Lock::Socket might. Default false. */
  reuseAddr?: boolean;
}

const PERL = `
use Socket;
my ($addr, $port, $reuse) = @ARGV;
$| = 1;
socket(my $s, PF_INET, SOCK_STREAM, getprotobyname('tcp')) or die "socket: $!";
setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1) or die "setsockopt: $!" if $reuse;
if (bind($s, pack_sockaddr_in($port, inet_aton($addr)))) { print "bound\\n" } else { print "failed $!\\n"; exit 1 }
1 while <STDIN>;
`;

export interface BindOnly {
  child: Child;
  /** True when bind() succeeded (the holder now holds addr:port), false when it failed. */
  bound: boolean;
  /** The errno text when bind() failed, e.g. "Address already in use". */
  failure: string | undefined;
  /** Closes stdin; resolves once the process has exited (and the kernel has closed its socket). */
  release: () => Promise<void>;
}

/** Starts a bind-only holder on `addr:port` and resolves once it has tried to bind. */
export async function bindOnly(addr: string, port: number, options: BindOnlyOptions = {}): Promise<BindOnly> {
  const child = new Child(['-e', PERL, addr, String(port), options.reuseAddr ? '1' : '0'], { command: 'perl' });
  const line = await child.next();
  const text = String(line['text'] ?? '');
  if (text !== 'bound' && !text.startsWith('failed ')) throw new Error(`bind-only holder said ${JSON.stringify(line)}; stderr: ${child.stderr}`);
  return {
    child,
    bound: text === 'bound',
    failure: text.startsWith('failed ') ? text.slice('failed '.length) : undefined,
    release: async () => {
      await child.stop();
    },
  };
}
