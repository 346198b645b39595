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
  assert.equal(lines[1], "TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001");
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

/** Starts the CLI with `args`; resolves with its printed variables once it has printed them all. */
function startCli(args) {
  const { spawn } = require("node:child_process");
  const child = spawn(process.execPath, [path.join(ROOT, "bin", "twilio-sandbox.js"), ...args]);
  return new Promise((resolve) => {
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk;
      if (text.includes("TWILIO_TEMPLATE_SID=")) {
        const values = Object.fromEntries(
          text
            .trim()
            .split("\n")
            .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
        );
        resolve({ child, values });
      }
    });
  });
}

function stopCli(child) {
  return new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
}

test("twilio-sandbox --dotenv writes the variables (0600) and keeps its own credentials and port across restarts", async () => {
  const fs = require("node:fs");
  const os = require("node:os");
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-env-")), ".env");
  fs.writeFileSync(file, "PORT=3000\n", { mode: 0o644 });
  const first = await startCli(["--dotenv", file]);
  await stopCli(first.child);
  const written = fs.readFileSync(file, "utf8");
  assert.match(written, /^PORT=3000\n/, "the app's own lines are kept");
  assert.ok(written.includes(`TWILIO_AUTH_TOKEN=${first.values.TWILIO_AUTH_TOKEN}\n`));
  assert.ok(written.includes(`TWILIO_BASE_URL=${first.values.TWILIO_BASE_URL}\n`));
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, "readable by its owner only");
  const second = await startCli(["--dotenv", file]);
  await stopCli(second.child);
  for (const name of ["TWILIO_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])
    assert.equal(second.values[name], first.values[name], name);
});

test("twilio-sandbox --dotenv refuses an app's .env with real credentials: nothing adopted, printed or written", async () => {
  const fs = require("node:fs");
  const os = require("node:os");
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-env-")), ".env");
  const real =
    "TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef\nTWILIO_AUTH_TOKEN=realtoken0123456789abcdef012345\n";
  fs.writeFileSync(file, real, { mode: 0o644 });
  const refused = await run(process.execPath, [path.join(ROOT, "bin", "twilio-sandbox.js"), "--dotenv", file]).then(
    () => null,
    (error) => error,
  );
  assert.ok(refused, "the CLI exits with an error");
  assert.equal(refused.code, 2);
  assert.equal(refused.stdout, "", "nothing printed");
  assert.match(refused.stderr, /did not write.*--dotenv \.env\.sandbox/s);
  assert.doesNotMatch(refused.stderr, /realtoken/);
  assert.equal(fs.readFileSync(file, "utf8"), real, "the file is left as it was");
});

test("twilio-sandbox ends when the process that started it ends", async () => {
  const { spawn } = require("node:child_process");
  // A parent that starts the CLI on its own stdout and then waits; the CLI holds that pipe open while it runs.
  const parent = spawn(process.execPath, [
    "-e",
    `require("node:child_process").spawn(process.execPath, [${JSON.stringify(
      path.join(ROOT, "bin", "twilio-sandbox.js"),
    )}, "--port", "0"], { stdio: ["ignore", "inherit", "inherit"] });
     setInterval(() => {}, 1 << 30);`,
  ]);
  let printed = "";
  const ended = new Promise((resolve) => parent.stdout.on("end", resolve));
  await new Promise((resolve) =>
    parent.stdout.on("data", (chunk) => {
      printed += chunk;
      if (printed.includes("TWILIO_TEMPLATE_SID=")) resolve();
    }),
  );
  parent.kill("SIGKILL");
  // The pipe ends when its last writer, the CLI, has exited.
  await ended;
  const url = /TWILIO_BASE_URL=(\S+)/.exec(printed)[1];
  await assert.rejects(fetch(`${url}/__sandbox/state`), "nothing serves there any more");
});

test("the sandbox's helpers: control() takes a route in any spelling, env() and clientOptions() point a client at it", async () => {
  const { startSandbox } = require("../sandbox.js");
  const TwilioApiClient = require("..");
  const sandbox = await startSandbox({ port: 0 });
  try {
    for (const route of ["faults", "/faults", "/__sandbox/faults"])
      assert.deepEqual(await sandbox.control("GET", route), { faults: [] }, route);
    assert.equal(sandbox.env().TWILIO_CHAT_SERVICE_SID, sandbox.chatServiceSid);
    const client = new TwilioApiClient({ ...sandbox.clientOptions(), logger: false });
    assert.equal((await client.testConnection()).success, true);
    // A fault without `times` answers once.
    await sandbox.fault({ method: "GET", path: "^/v1/Configuration$", status: 503 });
    assert.equal((await client.getWebhookConfiguration()).success, true, "the one 503 is retried, the next answers");
    const missing = await fetch(`${sandbox.url}/images/missing.png`);
    assert.equal(missing.status, 404, "a missing image, without credentials");
  } finally {
    await sandbox.stop();
  }
});

test("the README's quick start command runs as written on this Node, into a directory without .env", async () => {
  const fs = require("node:fs");
  const os = require("node:os");
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const line = readme.split("\n").find((l) => l.startsWith("npx --no-install twilio-sandbox"));
  assert.ok(line, "the README's command");
  const args = line.split(/\s+/).slice(3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "quick-start-"));
  const { spawn } = require("node:child_process");
  // As npx runs it: the bin file by node, from the app's directory.
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "bin", "twilio-sandbox.js"), ...args.map((a) => (a === "4010" ? "0" : a))],
    {
      cwd: dir,
    },
  );
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const printed = await new Promise((resolve) => {
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk;
      if (text.includes("TWILIO_TEMPLATE_SID=")) resolve(text);
    });
    exited.then(() => resolve(text));
  });
  child.kill("SIGTERM");
  assert.match(printed, /^TWILIO_BASE_URL=http:\/\/127\.0\.0\.1:\d+$/m, `exit ${await exited}`);
  assert.match(fs.readFileSync(path.join(dir, ".env"), "utf8"), /TWILIO_AUTH_TOKEN=/);
});
