"use strict";

// Twilio's limits, as the sandbox enforces them by default, met through the JS class: the identity limit and
// the system participant, timers on the sandbox's clock, and the options that steer them.

const test = require("node:test");
const assert = require("node:assert/strict");
const { startSandbox } = require("../sandbox.js");
const { useSandbox, PHONE, TwilioApiClient } = require("./helpers.js");

const box = useSandbox();

// 1,000 open conversations with the system identity in each: Twilio's limit for one identity, reached.
async function systemIdentityAtItsLimit() {
  const seeds = Array.from({ length: 1000 }, (_, i) => ({
    unique_name: `earlier_${i}`,
    participants: [{ identity: "system" }],
  }));
  await box.sandbox.seed(seeds);
}

const newCustomer = (i) => `+1555000${String(i).padStart(4, "0")}`;

test("past the identity limit new customers get their message, without the system participant, and one warning is logged", async () => {
  await systemIdentityAtItsLimit();
  const client = box.client();
  for (let i = 0; i < 5; i++) {
    const result = await client.sendMessage(newCustomer(i), `hello ${i}`);
    assert.equal(result.success, true, result.error);
  }
  const state = await box.sandbox.state();
  const created = state.conversations.filter((c) => c.unique_name.startsWith("whatsapp_"));
  assert.equal(created.length, 5);
  for (const conversation of created) {
    assert.deepEqual(
      conversation.participants.map((p) => p.messaging_binding?.address),
      [`whatsapp:+${conversation.unique_name.slice("whatsapp_".length)}`],
    );
    assert.equal(conversation.messages.length, 1);
  }
  const warnings = box.logger.entries.filter((e) => e.level === "warn");
  assert.equal(warnings.length, 1, JSON.stringify(box.logger.entries));
  assert.match(warnings[0].message, /1,000/);
  assert.match(warnings[0].message, /conversationTimers/);
  assert.doesNotMatch(JSON.stringify(warnings), /1555000/);
  const refusals = (await box.sandbox.requests()).filter((r) => r.status === 403);
  assert.equal(refusals.length, 1, "later customers do not pay for a doomed request");
});

test("a logger without warn() gets the warning through error()", async () => {
  await systemIdentityAtItsLimit();
  const seen = [];
  const client = box.client({ logger: { error: (m) => seen.push(m) } });
  assert.equal((await client.sendMessage(PHONE, "hi")).success, true);
  assert.equal(seen.length, 1);
  assert.match(seen[0], /system participant/);
});

test("systemParticipant 'never' puts the system identity in no conversation", async () => {
  const client = box.client({ systemParticipant: "never" });
  assert.equal((await client.sendMessage(PHONE, "hi")).success, true);
  const [conversation] = (await box.sandbox.state()).conversations;
  assert.equal(conversation.participants.length, 1);
  assert.equal(conversation.participants[0].identity, null);
  assert.equal(conversation.messages[0].author, "system");
});

test("systemParticipant 'always' fails the send when Twilio refuses the system identity", async () => {
  await systemIdentityAtItsLimit();
  const client = box.client({ systemParticipant: "always" });
  const result = await client.sendMessage(PHONE, "hi");
  assert.equal(result.success, false);
  assert.equal(result.code, 50214);
  assert.equal(await box.conversation("whatsapp_1234567890"), undefined);
});

test("conversationTimers are set on every conversation the client creates", async () => {
  const client = box.client({
    conversationTimers: { inactiveAfter: "PT30M", closedAfter: "P1D" },
  });
  await client.sendMessage(PHONE, "hi");
  const conversation = await box.conversation("whatsapp_1234567890");
  // The message restarted the timers: they run from it.
  const created = Date.parse(conversation.messages.at(-1).date_created);
  assert.equal(Date.parse(conversation.timers.date_inactive) - created, 30 * 60 * 1000);
  assert.equal(Date.parse(conversation.timers.date_closed) - created, 24 * 60 * 60 * 1000);
});

test("a conversation closed by its timer sends the next message to the customer's next conversation", async () => {
  const client = box.client({ conversationTimers: { closedAfter: "PT10M" } });
  assert.equal((await client.sendMessage(PHONE, "before")).success, true);
  await box.sandbox.advanceClock("PT10M");
  const after = await client.sendMessage(PHONE, "after");
  assert.equal(after.success, true, after.error);
  const first = await box.conversation("whatsapp_1234567890");
  const next = await box.conversation("whatsapp_1234567890_2");
  assert.equal(first.state, "closed");
  assert.deepEqual(
    first.messages.map((m) => m.body),
    ["before"],
  );
  assert.deepEqual(
    next.messages.map((m) => m.body),
    ["after"],
  );
  assert.equal(after.conversationSid, next.sid);
});

test("the timer environment variables are read, and bad timers, modes and rates are refused at construction", () => {
  const base = { accountSid: "AC1", authToken: "t" };
  for (const [options, message] of [
    [{ systemParticipant: "sometimes" }, /'auto', 'always' or 'never'/],
    [{ conversationTimers: { inactiveAfter: "PT30S" } }, /at least 1 minute/],
    [{ conversationTimers: { closedAfter: "PT5M" } }, /at least 10 minute/],
    [{ conversationTimers: { closedAfter: "1 day" } }, /ISO-8601/],
    [{ conversationTimers: { closed: "P1D" } }, /Unknown conversationTimers option: closed/],
    [{ conversationTimers: "P1D" }, /conversationTimers must be an object/],
    [{ conversationTimers: { closedAfter: 600 } }, /must be an ISO-8601 duration string/],
    [{ writesPerSecond: -1 }, /writesPerSecond must be a non-negative whole number/],
  ]) {
    assert.throws(() => new TwilioApiClient({ ...base, ...options, logger: false }), message, JSON.stringify(options));
  }
  const previous = process.env.TWILIO_CONVERSATION_CLOSED_AFTER;
  process.env.TWILIO_CONVERSATION_CLOSED_AFTER = "PT1M";
  try {
    assert.throws(() => new TwilioApiClient({ ...base, logger: false }), /closedAfter must be at least 10 minute/);
  } finally {
    if (previous === undefined) delete process.env.TWILIO_CONVERSATION_CLOSED_AFTER;
    else process.env.TWILIO_CONVERSATION_CLOSED_AFTER = previous;
  }
});

test("the sandbox starts with Twilio's limits, takes others from startSandbox, and a reset restores them", async () => {
  assert.equal((await box.sandbox.limits()).writes_per_second, 30);
  assert.equal((await box.sandbox.limits()).conversations_per_identity, 1000);
  const relaxed = await startSandbox({
    limits: { writes_per_second: null, conversations_per_identity: 5 },
  });
  try {
    await relaxed.limits({ conversations_per_identity: 7 });
    await relaxed.reset();
    const limits = await relaxed.limits();
    assert.equal(limits.writes_per_second, null);
    assert.equal(limits.conversations_per_identity, 5);
  } finally {
    await relaxed.stop();
  }
});
