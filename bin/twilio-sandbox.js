#!/usr/bin/env node
"use strict";

// `npx twilio-sandbox [--port N] [--account-sid AC…] [--auth-token …]`: runs the sandbox in the foreground.

const { spawn } = require("node:child_process");
const { sandboxBinary } = require("../sandbox.js");

let binary;
try {
  binary = sandboxBinary();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
// Stopping this wrapper stops the sandbox too.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
  process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
