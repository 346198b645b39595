"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const { PHONE, useSandbox, withEnv } = require("./helpers.js");

const box = useSandbox();

// The Twilio requests the sandbox logged for conversation messages: posts and read-backs, in order.
async function messageRequests() {
  return (await box.sandbox.requests())
    .filter((r) => r.path.endsWith("/Messages"))
    .map((r) =>
      r.method === "GET"
        ? `read back ${r.query.Order ?? ""}`.trim()
        : `POST ${r.status}${r.fault ? ` (${r.fault})` : ""}`,
    );
}

async function bodies() {
  return (await box.conversation("whatsapp_1234567890")).messages.map((m) => m.body);
}

test("a 429 with Retry-After is waited out and the message lands once", async () => {
  const client = box.client();
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    status: 429,
    retry_after: 1,
  });
  const result = await client.sendMessage(PHONE, "after the wait");
  assert.equal(result.success, true, result.error);
  assert.deepEqual(await bodies(), ["after the wait"]);
  // The sandbox's own clock stamps each request: the repeat came no sooner than Retry-After said.
  const [refused, repeated] = (await box.sandbox.requests()).filter((r) => r.path.endsWith("/Messages"));
  assert.equal(refused.status, 429);
  assert.ok(Date.parse(repeated.at) - Date.parse(refused.at) >= 1000);
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

test("a 503 after the message was written is read back and reported as the success, not sent again", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "warm-up");
  await box.sandbox.clearRequests();
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    status: 503,
    after_write: true,
  });
  const result = await client.sendMessage(PHONE, "after 503");
  assert.equal(result.success, true, result.error);
  assert.deepEqual(await messageRequests(), ["POST 201 (status 503 after the write)", "read back desc"]);
  assert.deepEqual(await bodies(), ["warm-up", "after 503"]);
  const conversation = await box.conversation("whatsapp_1234567890");
  assert.equal(result.messageSid, conversation.messages[1].sid);
});

test("a 503 before the message was written is read back, not found, and sent again: one message", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "warm-up");
  await box.sandbox.clearRequests();
  await box.sandbox.fault({ method: "POST", path: "/Messages$", status: 503 });
  assert.equal((await client.sendMessage(PHONE, "after 503")).success, true);
  assert.deepEqual(await messageRequests(), ["POST 503 (status 503)", "read back desc", "POST 201"]);
  assert.deepEqual(await bodies(), ["warm-up", "after 503"]);
});

test("a dropped connection (request never processed) is read back, not found, and sent again", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "warm-up");
  await box.sandbox.clearRequests();
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    drop: "before",
  });
  const result = await client.sendMessage(PHONE, "delivered");
  assert.equal(result.success, true, result.error);
  assert.deepEqual(await messageRequests(), ["POST 0 (drop before)", "read back desc", "POST 201"]);
  assert.deepEqual(await bodies(), ["warm-up", "delivered"]);
});

test("a response lost after the write is found, reported as the success, and not sent twice", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "warm-up");
  await box.sandbox.clearRequests();
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    drop: "after",
  });
  const result = await client.sendMessage(PHONE, "exactly once");
  assert.equal(result.success, true, result.error);
  assert.deepEqual(await messageRequests(), ["POST 201 (drop after)", "read back desc"]);
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

// How soon the call ends is proven on tokio's paused clock (crates/core/src/http.rs); here, what it reports.
test("a slow response past the deadline fails with code TIMEOUT, and a clean log line", async () => {
  await box.sandbox.fault({ path: ".", latency_ms: 3000, times: 50 });
  const client = box.client({ timeoutMs: 150, deadlineMs: 500 });
  const result = await client.sendMessage(PHONE, "hi");
  assert.equal(result.success, false);
  assert.equal(result.code, "TIMEOUT");
  const [entry] = box.logger.entries;
  assert.equal(entry.context.code, "TIMEOUT");
  assert.equal(entry.context.to, "…7890");
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

test("a refused connection is reported as NETWORK_ERROR and logged once, with the number masked", async () => {
  const client = box.client({ baseUrl: "http://127.0.0.1:9", maxRetries: 1 });
  const result = await client.sendMessage(PHONE, "a private body");
  assert.equal(result.success, false);
  assert.equal(result.code, "NETWORK_ERROR");
  assert.match(result.error, /onnect/, "the cause is kept");
  assert.doesNotMatch(result.error, /1234567890|http:/, "no URL, no number");
  assert.equal(box.logger.entries.length, 1);
  const [entry] = box.logger.entries;
  assert.equal(entry.level, "error");
  assert.equal(entry.context.operation, "sendMessage");
  assert.equal(entry.context.code, "NETWORK_ERROR");
  assert.equal(entry.context.to, "…7890");
  assert.doesNotMatch(entry.message, /private body|1234567890/);
});

// Requests go to Twilio over the client's pooled connections, through the proxy the environment names.
test("with HTTP_PROXY set, every request to Twilio goes through the proxy", async () => {
  const relayed = [];
  const proxy = http.createServer((request, response) => {
    relayed.push(`${request.method} ${new URL(request.url).pathname}`);
    const target = new URL(request.url);
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(upstream);
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  try {
    const proxied = withEnv(
      {
        HTTP_PROXY: `http://127.0.0.1:${proxy.address().port}`,
        NO_PROXY: undefined,
        no_proxy: undefined,
      },
      () => box.client(),
    );
    const result = await proxied.sendMessage(PHONE, "via the proxy");
    assert.equal(result.success, true, result.error);
    assert.deepEqual(relayed, await box.calls());
    assert.equal(relayed.length, 3);
  } finally {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  }
});

test("a send's own deadlineMs bounds a persistent 429, and the error says how many attempts over how long", async () => {
  const client = box.client();
  assert.equal((await client.sendMessage(PHONE, "first")).success, true);
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    status: 429,
    code: 20429,
    message: "Too Many Requests",
    probability: 1,
  });
  const result = await client.sendMessage(PHONE, "bounded", null, { deadlineMs: 1500 });
  assert.equal(result.code, 20429);
  assert.match(result.error, /Too Many Requests: Twilio answered 429 to all \d+ attempts over \d+\.\d s/);
  const attempts = (await box.sandbox.requests()).filter((r) => r.method === "POST" && /Messages$/.test(r.path)).length;
  assert.ok(attempts >= 2, `${attempts} attempts`);
  const bad = await client.sendMessage(PHONE, "x", null, { deadlineMs: 0 });
  assert.equal(bad.code, "INVALID_ARGUMENT");
});
