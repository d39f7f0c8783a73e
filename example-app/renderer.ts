// The page: no Node, no remote; only what preload.cts exposes on window.lockSocket.
import type { LaunchRecord as LaunchView } from './holder.js'; // a type only: erased, nothing is loaded
interface LockSocketBridge {
  snapshot(): { status: { addr: string; port: number; pid: number; since: number }; launches: LaunchView[] };
  onLaunch(callback: (launch: LaunchView) => void): void;
  quit(): Promise<void>;
  done(file: string): Promise<void>;
}
const bridge = (window as unknown as { lockSocket: LockSocketBridge }).lockSocket;

function cell(row: HTMLTableRowElement, text: string): void {
  row.insertCell().textContent = text;
}

function addLaunch(launch: LaunchView): void {
  const body = document.querySelector<HTMLTableSectionElement>('#launches tbody')!;
  const row = body.insertRow(0);
  cell(row, new Date(launch.time).toLocaleTimeString());
  cell(row, JSON.stringify(launch.argv));
  cell(row, launch.cwd);
  cell(row, launch.data === undefined ? '' : JSON.stringify(launch.data));
  cell(row, launch.deepLink ?? '');
  // `lock-socket-example --wait FILE` waits in its terminal until FILE is marked done here.
  const at = launch.argv.indexOf('--wait');
  const file = at >= 0 ? launch.argv[at + 1] : undefined;
  if (file !== undefined) {
    const button = document.createElement('button');
    button.textContent = `done with ${file}`;
    button.addEventListener('click', () => {
      button.disabled = true;
      void bridge.done(file);
    });
    row.insertCell().append(button);
  }
}

const { status, launches } = bridge.snapshot();
document.querySelector('#lock')!.textContent =
  `port ${status.port} on ${status.addr}, held by pid ${status.pid} since ${new Date(status.since).toLocaleString()}`;
for (const launch of launches) addLaunch(launch);
bridge.onLaunch(addLaunch);
document.querySelector('#quit')!.addEventListener('click', () => void bridge.quit());
export {};
