/**
 * Preload (CommonJS: Electron loads preloads with require; tsc emits it as dist/preload.cjs). Uses @electron/remote, enabled by the
 * main process for this one window, and hands the page only a few narrow functions through the
 * context bridge: with contextIsolation on, the page itself never touches `remote` or Node.
 */
import type { IpcRendererEvent } from 'electron';
const { contextBridge, ipcRenderer } = require('electron') as typeof import('electron', { with: { 'resolution-mode': 'require' } });
const remote = require('@electron/remote') as typeof import('@electron/remote', { with: { 'resolution-mode': 'require' } });

interface Shared {
  status: { addr: string; port: number; pid: number; since: number };
  launches: unknown[];
}

contextBridge.exposeInMainWorld('lockSocket', {
  /** A snapshot of the lock and the launches so far, read from the main process via remote. */
  snapshot: (): Shared => JSON.parse(JSON.stringify(remote.getGlobal('lockSocketExample'))) as Shared,
  /** Calls back with each launch forwarded from now on. */
  onLaunch: (callback: (launch: unknown) => void): void => {
    ipcRenderer.on('launch', (_event: IpcRendererEvent, launch: unknown) => callback(launch));
  },
  quit: (): Promise<void> => ipcRenderer.invoke('lock-socket-example:quit') as Promise<void>,
  /** Answers the `--wait FILE` launch waiting for FILE. */
  done: (file: string): Promise<void> => ipcRenderer.invoke('lock-socket-example:done', file) as Promise<void>,
});
