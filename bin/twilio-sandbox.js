#!/usr/bin/env node
"use strict";

// `npx twilio-sandbox [--port N] [--account-sid AC…] [--auth-token …]`: runs the sandbox in the foreground.

const { spawnSync } = require("node:child_process");
const { sandboxBinary } = require("../sandbox.js");

let binary;
try {
  binary = sandboxBinary();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: "inherit" });
process.exit(result.status ?? 1);
