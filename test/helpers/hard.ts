/**
 * The hardening tests' processes (test/main/{storm,faults,users,hostile}): hard-instance
 * launches and holders on the shared Child, and the argv they send. Cleanup is Child's:
 * a file's `after` calls killAll().
 */
import { Child, fixture } from './child.js';
import type { HardConfig } from '../fixtures/hard-instance.js';

export type { HardConfig };

export const NOBODY_FIXTURE = fixture('hard-nobody');

export interface InstanceOptions {
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/** A hard-instance process with `argv` as its command line. */
export function instance(config: HardConfig, argv: string[] = [], options: InstanceOptions = {}): Child {
  const { nodeArgs = [], env, ...ids } = options;
  // NODE_DEBUG cleared: a debug log switched on for the test run would flood these fixtures' stderr.
  return new Child([...nodeArgs, fixture('hard-instance'), ...argv], {
    ...ids,
    env: { ...process.env, ...env, HARD_CONFIG: JSON.stringify(config), NODE_DEBUG: '' },
  });
}

/** A holder: a hard-instance that must come up as primary (with --expose-gc for memory reports). */
export async function holder(config: HardConfig): Promise<Child> {
  const p = instance(config, [], { nodeArgs: ['--expose-gc'] });
  const first = await p.until(() => p.lines[0], 20_000, 'the holder to start');
  if (first.event !== 'started') {
    p.kill();
    throw new Error(`expected a holder, got ${JSON.stringify(first)}`);
  }
  return p;
}

/** Asks a holder for its memory use after a GC. */
export async function memory(p: Child): Promise<NodeJS.MemoryUsage> {
  const before = p.events('mem').length;
  p.send('mem');
  await p.until(() => p.events('mem').length > before, 10_000, 'a memory report');
  return p.events('mem').at(-1) as unknown as NodeJS.MemoryUsage;
}

/** Arguments no shell or decoder would keep intact by accident. */
export function nastyArgv(tag: string): string[] {
  return [
    tag,
    '',
    ' leading and trailing spaces ',
    'line one\nline two\r\n',
    'tab\there',
    '--',
    '--flag=value with = signs',
    '-x',
    'ünïcödé 日本語 🎉 \u200d',
    '"double" \'single\' `back` $HOME \\ backslash',
    '',
    'x'.repeat(3000),
  ];
}
