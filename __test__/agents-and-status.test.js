"use strict";

// Beyond sending: agents, assignment, status, state, metadata and history, each promise against the sandbox.

const test = require("node:test");
const assert = require("node:assert/strict");
const { PHONE, useSandbox } = require("./helpers.js");

const box = useSandbox();

async function participantsOf(uniqueName = "whatsapp_1234567890") {
  const conversation = await box.conversation(uniqueName);
  return conversation.participants.map((p) => p.identity ?? p.messaging_binding.address);
}

async function attributesOf(uniqueName = "whatsapp_1234567890") {
  return JSON.parse((await box.conversation(uniqueName)).attributes);
}

test("addAgent finds or creates the conversation and adds the agent with its attributes", async () => {
  const client = box.client();
  const result = await client.addAgent(PHONE, "alice", { team: "billing" });
  assert.equal(result.success, true, result.error);
  assert.equal(result.identity, "alice");
  assert.equal(result.alreadyPresent, false);
  assert.match(result.participantSid, /^MB/);
  const conversation = await box.conversation("whatsapp_1234567890");
  assert.equal(result.conversationSid, conversation.sid);
  const alice = conversation.participants.find((p) => p.identity === "alice");
  assert.deepEqual(JSON.parse(alice.attributes), { team: "billing" });
});

test("attributes and a metadata patch may be given as JSON object text, as Twilio takes them", async () => {
  const client = box.client();
  const added = await client.addAgent(PHONE, "alice", '{"team":"billing"}');
  assert.equal(added.success, true, added.error);
  const conversation = await box.conversation("whatsapp_1234567890");
  const alice = conversation.participants.find((p) => p.identity === "alice");
  assert.deepEqual(JSON.parse(alice.attributes), { team: "billing" });
  const patched = await client.setConversationMetadata(PHONE, '{"vip":true}');
  assert.deepEqual(patched.metadata, { vip: true });
  for (const text of ["[1]", '"text"', "{not json"]) {
    assert.equal((await client.addAgent(PHONE, "bob", text)).code, "INVALID_ATTRIBUTES", text);
    assert.equal((await client.setConversationMetadata(PHONE, text)).code, "INVALID_METADATA", text);
  }
});

test("addAgent with an agent already in the conversation succeeds with alreadyPresent", async () => {
  const client = box.client();
  const first = await client.addAgent(PHONE, "alice");
  const again = await client.addAgent(PHONE, "alice");
  assert.equal(again.success, true, again.error);
  assert.equal(again.alreadyPresent, true);
  assert.equal(again.participantSid, first.participantSid);
  assert.deepEqual(await participantsOf(), ["whatsapp:+1234567890", "system", "alice"]);
});

test("addAgent for an agent at Twilio's 1,000-conversation limit fails with Twilio's code and says so", async () => {
  await box.sandbox.limits({ conversations_per_identity: 1 });
  const client = box.client({ systemParticipant: "never" });
  assert.equal((await client.addAgent("+15550000001", "busy")).success, true);
  const refused = await client.addAgent(PHONE, "busy");
  assert.equal(refused.success, false);
  assert.equal(refused.code, 50214);
  assert.match(refused.error, /1,000 active or inactive conversations/);
});

test("removeAgent removes the agent, and says removed: false when it was not in", async () => {
  const client = box.client();
  await client.addAgent(PHONE, "alice");
  const removed = await client.removeAgent(PHONE, "alice");
  assert.equal(removed.success, true, removed.error);
  assert.equal(removed.removed, true);
  assert.deepEqual(await participantsOf(), ["whatsapp:+1234567890", "system"]);
  const again = await client.removeAgent(PHONE, "alice");
  assert.deepEqual(again, {
    success: true,
    conversationSid: removed.conversationSid,
    removed: false,
  });
});

test("removeAgent finds the agent by identity and removes it by its SID, as Twilio's delete takes only a SID", async () => {
  const client = box.client();
  const added = await client.addAgent(PHONE, "bob");
  assert.equal(added.success, true, added.error);
  const { conversationSid } = added;
  const participants = `/v1/Conversations/${conversationSid}/Participants`;
  const bob = (await box.conversation("whatsapp_1234567890")).participants.find((p) => p.identity === "bob");
  // Twilio answers a delete by identity 404, and so does the sandbox: the agent stays.
  const auth = Buffer.from(`${box.sandbox.accountSid}:${box.sandbox.authToken}`).toString("base64");
  const byIdentity = await fetch(`${box.sandbox.url}${participants}/bob`, {
    method: "DELETE",
    headers: { authorization: `Basic ${auth}` },
  });
  assert.equal(byIdentity.status, 404);
  assert.ok((await participantsOf()).includes("bob"));
  await box.sandbox.clearRequests();
  const removed = await client.removeAgent(PHONE, "bob");
  assert.equal(removed.removed, true, removed.error);
  assert.deepEqual(await box.calls(), [`GET ${participants}/bob`, `DELETE ${participants}/${bob.sid}`]);
  assert.ok(!(await participantsOf()).includes("bob"));
});

test("listParticipants lists each participant with its binding, parsed attributes and a Date", async () => {
  const client = box.client();
  await client.addAgent(PHONE, "alice", { team: "billing" });
  const { success, conversationSid, participants } = await client.listParticipants(PHONE);
  assert.equal(success, true);
  assert.equal(conversationSid, (await box.conversation("whatsapp_1234567890")).sid);
  assert.deepEqual(
    participants.map((p) => [p.identity, p.address, p.proxyAddress, p.attributes]),
    [
      [null, "whatsapp:+1234567890", "whatsapp:+14155238886", {}],
      ["system", null, null, {}],
      ["alice", null, null, { team: "billing" }],
    ],
  );
  assert.ok(participants.every((p) => p.dateCreated instanceof Date));
  assert.ok(participants.every((p) => p.sid.startsWith("MB")));
});

test("reads never create a conversation: conversationSid is null for a customer without one", async () => {
  const client = box.client();
  assert.deepEqual(await client.listParticipants(PHONE), {
    success: true,
    conversationSid: null,
    participants: [],
  });
  const status = await client.getConversationStatus(PHONE);
  assert.equal(status.conversationSid, null);
  assert.equal(status.state, null);
  assert.deepEqual(await client.getConversationMetadata(PHONE), {
    success: true,
    conversationSid: null,
    metadata: {},
  });
  assert.deepEqual(await client.getMessages(PHONE), {
    success: true,
    conversationSid: null,
    messages: [],
  });
  assert.deepEqual(await client.removeAgent(PHONE, "alice"), {
    success: true,
    conversationSid: null,
    removed: false,
  });
  assert.deepEqual(await client.unassignConversation(PHONE), {
    success: true,
    conversationSid: null,
    previousAssignee: null,
  });
  assert.deepEqual(await client.closeConversation(PHONE), {
    success: true,
    conversationSid: null,
    state: null,
  });
  assert.deepEqual((await box.sandbox.state()).conversations, []);
  assert.ok(
    (await box.calls()).every((call) => call.startsWith("GET ")),
    "only reads were made",
  );
});

test("assignConversation adds the agent, records the assignee, keeps other attributes, and the previous assignee leaves", async () => {
  const client = box.client();
  await client.setConversationMetadata(PHONE, { priority: "high" });
  const first = await client.assignConversation(PHONE, "alice");
  assert.deepEqual(first, {
    success: true,
    conversationSid: first.conversationSid,
    assignee: "alice",
    previousAssignee: null,
  });
  const second = await client.assignConversation(PHONE, "bob");
  assert.equal(second.assignee, "bob");
  assert.equal(second.previousAssignee, "alice");
  assert.deepEqual(await attributesOf(), { priority: "high", assignee: "bob" });
  assert.deepEqual(await participantsOf(), ["whatsapp:+1234567890", "system", "bob"]);
});

test("assignConversation with keepPrevious leaves the previous assignee in", async () => {
  const client = box.client();
  await client.assignConversation(PHONE, "alice");
  const result = await client.assignConversation(PHONE, "bob", {
    keepPrevious: true,
  });
  assert.equal(result.previousAssignee, "alice");
  assert.deepEqual(await participantsOf(), ["whatsapp:+1234567890", "system", "alice", "bob"]);
});

test("unassignConversation clears the assignee and keeps the agent and the other attributes", async () => {
  const client = box.client();
  await client.setConversationMetadata(PHONE, { priority: "high" });
  await client.assignConversation(PHONE, "alice");
  const result = await client.unassignConversation(PHONE);
  assert.equal(result.previousAssignee, "alice");
  assert.deepEqual(await attributesOf(), { priority: "high" });
  assert.ok((await participantsOf()).includes("alice"));
});

test("getConversationStatus reports state, names, assignee, participant count, Dates and timers", async () => {
  const client = box.client({
    conversationTimers: { inactiveAfter: "PT30M", closedAfter: "P1D" },
  });
  await client.sendMessage(PHONE, "hi");
  await client.assignConversation(PHONE, "alice");
  const status = await client.getConversationStatus(PHONE);
  assert.equal(status.success, true, status.error);
  assert.equal(status.state, "active");
  assert.equal(status.uniqueName, "whatsapp_1234567890");
  assert.equal(status.friendlyName, "Chat with +1234567890");
  assert.equal(status.assignee, "alice");
  assert.equal(status.participantCount, 3);
  assert.ok(status.dateCreated instanceof Date);
  assert.ok(status.dateUpdated instanceof Date);
  assert.ok(status.timers.dateInactive instanceof Date);
  assert.equal(status.timers.dateClosed - status.timers.dateInactive, (24 * 60 - 30) * 60 * 1000);
});

test("a status read after a send uses the cached conversation: no lookup by unique name, nothing created", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "hi");
  const sid = (await box.conversation("whatsapp_1234567890")).sid;
  await box.sandbox.clearRequests();
  await client.getConversationStatus(PHONE);
  // Twilio's Conversation has no participant count, so the list is read beside it.
  assert.deepEqual((await box.calls()).sort(), [
    `GET /v1/Conversations/${sid}`,
    `GET /v1/Conversations/${sid}/Participants`,
  ]);
});

test("setConversationState moves the conversation to inactive and back to active", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "hi");
  const inactive = await client.setConversationState(PHONE, "inactive");
  assert.equal(inactive.state, "inactive");
  assert.equal((await box.conversation("whatsapp_1234567890")).state, "inactive");
  assert.equal((await client.setConversationState(PHONE, "active")).state, "active");
});

test("closeConversation closes it and evicts the cache: the next message opens the customer's next conversation", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "before");
  const closed = await client.closeConversation(PHONE);
  assert.equal(closed.success, true, closed.error);
  assert.equal(closed.state, "closed");
  const after = await client.sendMessage(PHONE, "after");
  assert.equal(after.success, true, after.error);
  assert.equal((await box.conversation("whatsapp_1234567890")).state, "closed");
  const next = await box.conversation("whatsapp_1234567890_2");
  assert.equal(after.conversationSid, next.sid);
});

test("getConversationMetadata reads the attributes as an object, {} when there are none", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "hi");
  assert.deepEqual((await client.getConversationMetadata(PHONE)).metadata, {});
  await client.setConversationMetadata(PHONE, { order: 42, vip: true });
  assert.deepEqual((await client.getConversationMetadata(PHONE)).metadata, {
    order: 42,
    vip: true,
  });
});

test("setConversationMetadata merges at the top level, null deletes a key, and replace replaces", async () => {
  const client = box.client();
  await client.setConversationMetadata(PHONE, { a: 1, b: { c: 2 } });
  const merged = await client.setConversationMetadata(PHONE, {
    a: null,
    b: { d: 3 },
    e: "x",
  });
  assert.deepEqual(merged.metadata, { b: { d: 3 }, e: "x" });
  const replaced = await client.setConversationMetadata(PHONE, { only: true }, { replace: true });
  assert.deepEqual(replaced.metadata, { only: true });
  assert.deepEqual(await attributesOf(), { only: true });
});

test("concurrent metadata patches in one process keep each other's keys", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "hi");
  const patches = Array.from({ length: 20 }, (_, i) => client.setConversationMetadata(PHONE, { [`key${i}`]: i }));
  for (const result of await Promise.all(patches)) assert.equal(result.success, true, result.error);
  const keys = Object.keys(await attributesOf()).sort();
  assert.equal(keys.length, 20);
});

test("metadata over 16 KB fails with METADATA_TOO_LARGE and makes no request", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "hi");
  await box.sandbox.clearRequests();
  const result = await client.setConversationMetadata(PHONE, {
    blob: "x".repeat(16 * 1024),
  });
  assert.equal(result.success, false);
  assert.equal(result.code, "METADATA_TOO_LARGE");
  assert.deepEqual(await box.calls(), []);
});

test("getMessages follows Twilio's pages up to the limit, newest first by default, or oldest first", async () => {
  const client = box.client();
  for (let i = 0; i < 5; i++) await client.sendMessage(PHONE, `m${i}`);
  const conversation = await box.conversation("whatsapp_1234567890");
  const newest = await client.getMessages(PHONE, { limit: 3 });
  assert.deepEqual(
    newest.messages.map((m) => m.body),
    ["m4", "m3", "m2"],
  );
  const oldest = await client.getMessages(PHONE, { limit: 2, order: "asc" });
  assert.deepEqual(
    oldest.messages.map((m) => m.body),
    ["m0", "m1"],
  );
  const [first] = oldest.messages;
  assert.equal(first.index, 0);
  assert.equal(first.author, "system");
  assert.ok(first.dateCreated instanceof Date);
  assert.equal(typeof first.attributes, "object");
  assert.equal(first.participantSid, conversation.participants[1].sid);
  assert.equal(newest.conversationSid, conversation.sid);
});

test("getMessages reads past Twilio's page of 100 to reach a limit of 250", async () => {
  const client = box.client({ writesPerSecond: 0 });
  await box.sandbox.limits({ writes_per_second: null });
  await client.sendMessage(PHONE, "first");
  const sid = (await box.conversation("whatsapp_1234567890")).sid;
  await Promise.all(Array.from({ length: 260 }, (_, i) => client.sendMessage(PHONE, `n${i}`)));
  await box.sandbox.clearRequests();
  const { messages } = await client.getMessages(PHONE, { limit: 250 });
  assert.equal(messages.length, 250);
  assert.equal(new Set(messages.map((m) => m.sid)).size, 250);
  const pages = (await box.sandbox.requests()).filter((r) => r.path === `/v1/Conversations/${sid}/Messages`);
  assert.equal(pages.length, 3);
});

test("bad input gets its own code and makes no request", async () => {
  const client = box.client();
  const cases = [
    [() => client.addAgent("12", "alice"), "INVALID_PHONE_NUMBER"],
    [() => client.addAgent(PHONE, ""), "INVALID_IDENTITY"],
    [() => client.addAgent(PHONE, "x".repeat(257)), "INVALID_IDENTITY"],
    [() => client.addAgent(PHONE, 42), "INVALID_IDENTITY"],
    [() => client.addAgent(PHONE, "alice", "not an object"), "INVALID_ATTRIBUTES"],
    [() => client.removeAgent(PHONE, null), "INVALID_IDENTITY"],
    [() => client.assignConversation(PHONE, ""), "INVALID_IDENTITY"],
    [() => client.setConversationState(PHONE, "open"), "INVALID_STATE"],
    [() => client.setConversationMetadata(PHONE, "x"), "INVALID_METADATA"],
    [() => client.setConversationMetadata(PHONE, [1]), "INVALID_METADATA"],
    [() => client.getMessages(PHONE, { limit: 0 }), "INVALID_LIMIT"],
    [() => client.getMessages(PHONE, { limit: 1001 }), "INVALID_LIMIT"],
    [() => client.getMessages(PHONE, { limit: 1.5 }), "INVALID_LIMIT"],
    [() => client.getMessages(PHONE, { limit: "10" }), "INVALID_LIMIT"],
    [() => client.getMessages(PHONE, { order: "newest" }), "INVALID_ORDER"],
  ];
  for (const [call, code] of cases) {
    const result = await call();
    assert.equal(result.success, false, `${code}: ${JSON.stringify(result)}`);
    assert.equal(result.code, code, result.error);
    assert.equal(typeof result.error, "string");
  }
  assert.deepEqual(await box.calls(), []);
});
