"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { PHONE, useSandbox } = require("./helpers.js");

const box = useSandbox();

async function bodies() {
  return (await box.conversation("whatsapp_1234567890")).messages.map(
    (m) => m.body,
  );
}

test("a 429 with Retry-After is waited out and the message lands once", async () => {
  const client = box.client();
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    status: 429,
    retry_after: 1,
  });
  const started = Date.now();
  const result = await client.sendMessage(PHONE, "after the wait");
  assert.equal(result.success, true, result.error);
  assert.ok(Date.now() - started >= 1000);
  assert.deepEqual(await bodies(), ["after the wait"]);
});

test("a 429 without Retry-After is repeated with backoff and the message lands once", async () => {
  const client = box.client();
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    status: 429,
    times: 2,
  });
  assert.equal((await client.sendMessage(PHONE, "once")).success, true);
  assert.deepEqual(await bodies(), ["once"]);
});

test("a 503 on each step of the resolver is survived", async () => {
  for (const [method, step] of [
    ["GET", "^/v1/Conversations/whatsapp_"],
    ["POST", "ConversationWithParticipants$"],
  ]) {
    await box.sandbox.reset();
    await box.sandbox.fault({ method, path: step, status: 503 });
    const result = await box.client().sendMessage(PHONE, "hi");
    assert.equal(result.success, true, `${method} ${step}: ${result.error}`);
    assert.deepEqual(await bodies(), ["hi"]);
  }
});

test("a 503 on the message itself is checked before it is sent again: one message", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "warm-up");
  await box.sandbox.fault({ method: "POST", path: "/Messages$", status: 503 });
  assert.equal((await client.sendMessage(PHONE, "after 503")).success, true);
  assert.deepEqual(await bodies(), ["warm-up", "after 503"]);
});

test("a dropped connection (request never processed) is sent again", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "warm-up");
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    drop: "before",
  });
  const result = await client.sendMessage(PHONE, "delivered");
  assert.equal(result.success, true, result.error);
  assert.deepEqual(await bodies(), ["warm-up", "delivered"]);
});

test("a response lost after the write is found, reported as the success, and not sent twice", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "warm-up");
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    drop: "after",
  });
  const result = await client.sendMessage(PHONE, "exactly once");
  assert.equal(result.success, true, result.error);
  const conversation = await box.conversation("whatsapp_1234567890");
  assert.deepEqual(
    conversation.messages.map((m) => m.body),
    ["warm-up", "exactly once"],
  );
  assert.equal(result.messageSid, conversation.messages[1].sid);
});

test("a creation whose response was lost is not repeated into a second conversation", async () => {
  await box.sandbox.fault({
    method: "POST",
    path: "ConversationWithParticipants$",
    drop: "after",
  });
  const result = await box.client().sendMessage(PHONE, "hi");
  assert.equal(result.success, true, result.error);
  assert.equal((await box.sandbox.state()).conversations.length, 1);
});

test("a slow response past the deadline fails in time, with code TIMEOUT", async () => {
  await box.sandbox.fault({ path: ".", latency_ms: 3000, times: 50 });
  const client = box.client({ timeoutMs: 150, deadlineMs: 500 });
  const started = Date.now();
  const result = await client.sendMessage(PHONE, "hi");
  assert.equal(result.success, false);
  assert.equal(result.code, "TIMEOUT");
  assert.ok(Date.now() - started < 1500, `${Date.now() - started} ms`);
});

test("a gateway error with an HTML body is reported readably, with a string code", async () => {
  await box.sandbox.fault({
    path: ".",
    status: 502,
    raw_body: "<html>Bad Gateway</html>",
    times: 20,
  });
  const result = await box.client({ maxRetries: 1 }).sendMessage(PHONE, "hi");
  assert.equal(result.success, false);
  assert.equal(result.code, "HTTP_502");
  assert.match(result.error, /502/);
});

test("a refused connection is repeated and then reported as NETWORK_ERROR", async () => {
  const client = box.client({ baseUrl: "http://127.0.0.1:9", maxRetries: 1 });
  const result = await client.sendMessage(PHONE, "hi");
  assert.equal(result.code, "NETWORK_ERROR");
});
