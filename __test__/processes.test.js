"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { useSandbox, NO_TWILIO_ENV } = require("./helpers.js");
const { startProcess } = require("./fixtures/campaign.js");

const box = useSandbox();
const FIXTURE = path.join(__dirname, "fixtures", "first-contact.js");

/** `count` processes, each sending `perProcess` messages to `phone`, all starting on one "go" once all are ready. */
async function processes(count, perProcess, phone) {
  const env = { ...process.env, ...NO_TWILIO_ENV, ...box.sandbox.env() };
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  const started = await Promise.all(
    Array.from({ length: count }, (_, p) => startProcess(FIXTURE, [phone, String(perProcess), `p${p}`], env)),
  );
  for (const sender of started) sender.go();
  return Promise.all(started.map((p) => p.done));
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
  const lostRaces = (await box.sandbox.requests()).filter(
    (r) => r.path === "/v1/ConversationWithParticipants" && r.status === 409,
  );
  assert.ok(lostRaces.length >= 1, "the processes raced, and the losers got 50353");
});

test("4 processes x 40 messages to one conversation, past Twilio's 30 writes per second: every message once", async () => {
  const phone = "+15550004141";
  const client = box.client();
  assert.equal((await client.sendMessage(phone, "opening")).success, true);
  const reports = await processes(4, 40, phone);
  assert.deepEqual(
    reports.map((r) => r.failed),
    [[], [], [], []],
  );
  const [conversation] = (await box.sandbox.state()).conversations;
  const bodies = conversation.messages.map((m) => m.body);
  assert.equal(bodies.length, 161);
  assert.equal(new Set(bodies).size, 161, "each message exactly once");
  const { refused_writes } = await box.sandbox.limits();
  assert.ok(refused_writes > 0, "the processes together went past the limit");
  console.log(`4 processes x 40 messages: ${refused_writes} answered 429`);
});
