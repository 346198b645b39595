"use strict";

// Other hosts of Node-API: Deno and Bun (installed from npm as dev dependencies) load the addon, send through the
// sandbox it serves, and end on their own once nothing is pending, as Node does.

const test = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const path = require("node:path");
const { promisify } = require("node:util");
const { NO_TWILIO_ENV } = require("./helpers.js");

const run = promisify(execFile);
const BIN = path.join(__dirname, "..", "node_modules", ".bin");
const HOSTS = { deno: ["run", "--allow-all"], bun: ["run"] };
const SCRIPT = path.join(__dirname, "fixtures", "host-script.cjs");

function host(name, mode) {
  const env = { ...process.env, ...NO_TWILIO_ENV, HOST_SCRIPT_MODE: mode };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  // A process that does not end on its own is killed, and fails the test.
  return run(path.join(BIN, name), [...HOSTS[name], SCRIPT], {
    env,
    timeout: 60_000,
  });
}

for (const name of Object.keys(HOSTS)) {
  test(`under ${name}, a process that sent through a client ends on its own with exit 0`, async () => {
    const { stdout } = await host(name, "send");
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)), {
      success: true,
      cached: 1,
    });
  });

  test(`under ${name}, a process with an idle client ends on its own with exit 0`, async () => {
    const { stdout } = await host(name, "idle");
    assert.equal(stdout.trim(), "made");
  });
}
