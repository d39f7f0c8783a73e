// 'electron' for this folder's program (tsconfig "paths"): the vendored version's types, so that
// module resolution never reaches the installed electron package.
/// <reference path="./electron.d.ts" />
export = Electron.CrossProcessExports;
