"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { PHONE, ADDRESS, SENDER, useSandbox } = require("./helpers.js");

const box = useSandbox();
const customer = (extra = {}) => ({
  address: ADDRESS,
  proxy_address: SENDER,
  ...extra,
});

test("every spelling of a number is one conversation: whatsapp_1234567890, 'Chat with +1234567890'", async () => {
  const client = box.client();
  const sids = new Set();
  for (const input of ["+1 (234) 567-890", "+1234567890", "whatsapp:+1234567890"]) {
    sids.add(await client.findOrCreateConversation(input));
  }
  assert.equal(sids.size, 1);
  const conversation = await box.conversation("whatsapp_1234567890");
  assert.equal(conversation.friendly_name, "Chat with +1234567890");
  const participants = conversation.participants.map((p) => p.messaging_binding ?? { identity: p.identity });
  assert.deepEqual(participants, [
    { type: "whatsapp", address: ADDRESS, proxy_address: SENDER },
    { identity: "system" },
  ]);
});

test("API calls: a first message to a new customer takes 3, a cold send 2, a warm send 1", async () => {
  await box.client().sendMessage(PHONE, "first");
  assert.deepEqual(await box.calls(), [
    "GET /v1/Conversations/whatsapp_1234567890",
    "POST /v1/ConversationWithParticipants",
    `POST /v1/Conversations/${(await box.conversation("whatsapp_1234567890")).sid}/Messages`,
  ]);
  const warm = box.client();
  await warm.sendMessage(PHONE, "cold");
  await box.sandbox.clearRequests();
  await warm.sendMessage(PHONE, "warm");
  assert.equal((await box.calls()).length, 1);
  await box.sandbox.clearRequests();
  await box.client().sendMessage(PHONE, "cold again");
  assert.equal((await box.calls()).length, 2);
});

// Expiry after cacheTtlMs is proven on tokio's paused clock (crates/core/src/resolver.rs), without waiting.

test("a full cache keeps the customers contacted most recently: 200 customers through 100 entries", async () => {
  const client = box.client({ cacheMaxEntries: 100 });
  const numbers = Array.from({ length: 200 }, (_, i) => `+1555000${String(i).padStart(4, "0")}`);
  for (const number of numbers) await client.findOrCreateConversation(number);
  assert.equal(await client.cachedConversations(), 100);
  await box.sandbox.clearRequests();
  for (const number of numbers.slice(100).reverse()) await client.findOrCreateConversation(number);
  assert.deepEqual(await box.calls(), [], "the 100 latest are cached");
  for (const number of numbers.slice(0, 10)) await client.findOrCreateConversation(number);
  assert.equal((await box.calls()).length, 10, "the oldest were let go");
});

test("a customer whose conversation is older than 120 others is found, not refused with 50353", async () => {
  await box.sandbox.seed([
    {
      unique_name: "whatsapp_1234567890",
      date_created: "2020-01-01T00:00:00Z",
      participants: [customer(), { identity: "system" }],
    },
    ...Array.from({ length: 120 }, (_, i) => ({ unique_name: `other_${i}` })),
  ]);
  const result = await box.client().sendMessage(PHONE, "still here");
  assert.equal(result.success, true, result.error);
  assert.deepEqual(
    (await box.conversation("whatsapp_1234567890")).messages.map((m) => m.body),
    ["still here"],
  );
});

test("50 concurrent first messages to a new number make one conversation with 50 messages", async () => {
  const client = box.client();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.sendMessage(PHONE, `m${i}`)));
  assert.equal(results.filter((r) => r.success).length, 50);
  const state = await box.sandbox.state();
  assert.equal(state.conversations.length, 1);
  assert.equal(state.conversations[0].messages.length, 50);
});

test("a binding held by another conversation is used, and no orphan conversation is left", async () => {
  await box.sandbox.seed({
    unique_name: "crm-thread-77",
    participants: [customer()],
  });
  const result = await box.client().sendMessage(PHONE, "hello");
  assert.equal(result.success, true, result.error);
  const state = await box.sandbox.state();
  assert.equal(state.conversations.length, 1);
  assert.equal(result.conversationSid, state.conversations[0].sid);
  assert.deepEqual(
    state.conversations[0].messages.map((m) => m.body),
    ["hello"],
  );
});

test("a closed conversation is never reused: the customer gets a new one that the next lookup finds", async () => {
  await box.sandbox.seed({
    unique_name: "whatsapp_1234567890",
    state: "closed",
    participants: [customer()],
  });
  const first = await box.client().sendMessage(PHONE, "one");
  assert.equal(first.success, true, first.error);
  const second = await box.client().sendMessage(PHONE, "two");
  assert.equal(second.conversationSid, first.conversationSid);
  const successor = await box.conversation("whatsapp_1234567890_2");
  assert.equal(successor.sid, first.conversationSid);
  assert.deepEqual(
    successor.messages.map((m) => m.body),
    ["one", "two"],
  );
});

test("a cached conversation closed behind the client's back is noticed on the next send, which succeeds", async () => {
  const client = box.client();
  const first = await client.sendMessage(PHONE, "one");
  await box.sandbox.setConversation("whatsapp_1234567890", { state: "closed" });
  const second = await client.sendMessage(PHONE, "two");
  assert.equal(second.success, true, second.error);
  assert.notEqual(second.conversationSid, first.conversationSid);
  const successor = await box.conversation("whatsapp_1234567890_2");
  assert.ok(successor.participants.some((p) => p.messaging_binding?.address === ADDRESS));
});

test("a cached conversation deleted behind the client's back is created again", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "one");
  await box.sandbox.deleteConversation("whatsapp_1234567890");
  const second = await client.sendMessage(PHONE, "two");
  assert.equal(second.success, true, second.error);
  assert.deepEqual(
    (await box.conversation("whatsapp_1234567890")).messages.map((m) => m.body),
    ["two"],
  );
});
