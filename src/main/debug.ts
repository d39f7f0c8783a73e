/** One debug log for the single-instance layer: NODE_DEBUG=lock-socket turns it on. */
import { debuglog } from 'node:util';

export const debug = debuglog('lock-socket');
