"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const path = require("node:path");
const { promisify } = require("node:util");
const { useSandbox, NO_TWILIO_ENV } = require("./helpers.js");

const run = promisify(execFile);
const box = useSandbox();
const FIXTURE = path.join(__dirname, "fixtures", "first-contact.js");

async function processes(count, perProcess, phone) {
  const env = { ...process.env, ...NO_TWILIO_ENV, ...box.sandbox.env() };
  for (const name of Object.keys(env))
    if (env[name] === undefined) delete env[name];
  const runs = Array.from({ length: count }, (_, p) =>
    run(process.execPath, [FIXTURE, phone, String(perProcess), `p${p}`], {
      env,
    }),
  );
  return (await Promise.all(runs)).map(({ stdout }) => JSON.parse(stdout));
}

test("4 processes x 10 concurrent first contacts end in one conversation with all 40 messages", async () => {
  await box.sandbox.latency(20);
  const reports = await processes(4, 10, "+15550004040");
  assert.deepEqual(
    reports.map((r) => r.failed),
    [[], [], [], []],
  );
  const state = await box.sandbox.state();
  assert.equal(state.conversations.length, 1);
  assert.equal(state.conversations[0].unique_name, "whatsapp_15550004040");
  assert.equal(state.conversations[0].messages.length, 40);
  const bodies = new Set(state.conversations[0].messages.map((m) => m.body));
  assert.equal(bodies.size, 40, "each message exactly once");
});
