@echo off
rem lock-socket-example: the app's command line (see bin/lock-socket-example). Packaged, this file is
rem resources\bin\lock-socket-example.cmd: the binary is two folders up, cli.js unpacked from app.asar.
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\lock-socket-example.exe" "%~dp0..\app.asar.unpacked\dist\cli.js" %*
endlocal & exit /b %ERRORLEVEL%
