/**
 * Windows foreground rights for the holder. Windows lets a process bring its window to the front
 * only if it is the foreground process or the foreground process allowed it: a launch the user
 * just started is the foreground process, the holder in the background is not, so the holder's
 * `focus()` only flashes its taskbar button. Electron's built-in lock (ProcessSingleton) and
 * VS Code make the launcher call `AllowSetForegroundWindow(holderPid)` before it hands over;
 * JavaScript cannot, so a native helper has to.
 *
 * No dependency is added for it: the helper is looked up at run time, on Windows only, and
 * missing it only costs the focus (the taskbar flashes instead). `windows-foreground-love` is
 * what VS Code uses (N-API, so no electron-rebuild, but no prebuilt binaries: node-gyp compiles it
 * at install on every platform, which is why it is not even an optionalDependency here); an app
 * that has `koffi` (prebuilt FFI) can pass its own function instead (docs/electron.md).
 */

/** Grants the process `pid` the right to take the foreground; the result is not needed. */
export type AllowForeground = (pid: number) => unknown;

// A variable, not a literal: bundlers that follow `import('literal')` would fail on a package the
// app does not have.
const HELPER = 'windows-foreground-love';

interface Helper {
  allowSetForegroundWindow?: (pid?: number) => boolean;
  default?: { allowSetForegroundWindow?: (pid?: number) => boolean };
}

/**
 * The grant function to use: the one passed in (any platform: tests inject one), none when
 * `false`, else on Windows the helper package if the app has it installed.
 */
export async function foregroundGrant(option: AllowForeground | false | undefined, platform = process.platform): Promise<AllowForeground | undefined> {
  if (option === false) return undefined;
  if (typeof option === 'function') return option;
  if (platform !== 'win32') return undefined;
  try {
    const helper = (await import(HELPER)) as Helper;
    const allow = helper.allowSetForegroundWindow ?? helper.default?.allowSetForegroundWindow;
    return typeof allow === 'function' ? (pid) => allow(pid) : undefined;
  } catch {
    return undefined; // not installed: the holder's window flashes in the taskbar instead
  }
}
