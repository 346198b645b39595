"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const path = require("node:path");
const { promisify } = require("node:util");

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..");

test("startSandbox gives url and credentials, and code after `await stop()` still runs", async () => {
  const script = `
    const { startSandbox } = require(${JSON.stringify(path.join(ROOT, "sandbox.js"))});
    (async () => {
      const sandbox = await startSandbox({ port: 0 });
      const ok = /^http:\\/\\/127\\.0\\.0\\.1:\\d+$/.test(sandbox.url) && sandbox.accountSid.startsWith("AC");
      await sandbox.stop();
      console.log(ok ? "stopped cleanly" : "bad handle");
    })();`;
  const { stdout } = await run(process.execPath, ["-e", script]);
  assert.equal(stdout.trim(), "stopped cleanly");
});

test("npx twilio-sandbox prints TWILIO_BASE_URL first, then the credentials it accepts", async () => {
  const { spawn } = require("node:child_process");
  const child = spawn(process.execPath, [
    path.join(ROOT, "bin", "twilio-sandbox.js"),
    "--port",
    "0",
    "--account-sid",
    "AC00000000000000000000000000000001",
    "--auth-token",
    "secret",
  ]);
  const output = await new Promise((resolve) => {
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk;
      if (text.includes("TWILIO_AUTH_TOKEN=")) resolve(text);
    });
  });
  child.kill("SIGTERM");
  const lines = output.trim().split("\n");
  assert.match(lines[0], /^TWILIO_BASE_URL=http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(
    lines[1],
    "TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001",
  );
  assert.equal(lines[2], "TWILIO_AUTH_TOKEN=secret");
});

test("startSandboxProcess serves from a process of its own, takes the same options, and stop() ends it", async () => {
  const { startSandboxProcess } = require("../sandbox.js");
  const sandbox = await startSandboxProcess({
    accountSid: "AC00000000000000000000000000000002",
    limits: { writes_per_second: null, conversations_per_identity: 7 },
  });
  assert.notEqual(sandbox.process.pid, process.pid);
  assert.equal(sandbox.accountSid, "AC00000000000000000000000000000002");
  const limits = await sandbox.limits();
  assert.equal(limits.writes_per_second, null);
  assert.equal(limits.conversations_per_identity, 7);
  await sandbox.stop();
  assert.equal(sandbox.process.exitCode, 0);
});

test("startSandbox serves in this process and stop() frees its port", async () => {
  const { startSandbox } = require("../sandbox.js");
  const net = require("node:net");
  const sandbox = await startSandbox({ noLimits: true });
  assert.equal((await sandbox.limits()).writes_per_second, null);
  const port = Number(new URL(sandbox.url).port);
  await sandbox.stop();
  await new Promise((resolve, reject) => {
    const server = net.createServer().once("error", reject);
    server.listen(port, "127.0.0.1", () => server.close(resolve));
  });
});
