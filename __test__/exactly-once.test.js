"use strict";

// A keyed send is sent once across the fleet: claimed in Redis (a real redis-server started here) or in the
// process, found in the customer's earlier conversations, marked so that only this client's mark counts, and
// reported as a replay when an earlier send made it.

const test = require("node:test");
const { before, after } = require("node:test");
const assert = require("node:assert/strict");
const { useSandbox, signedHooks, signedPost, WEBHOOK_TOKEN } = require("./helpers.js");
const { startWorker, runWorker, startReplica, killAfter } = require("./fixtures/campaign.js");
const { startRedis } = require("../scripts/redis-server.js");

const box = useSandbox();
const VARIABLES = { 1: "12/1", 2: "3pm" };

let redis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

const customer = (i) => `+1555${String(6_000_000 + i).padStart(7, "0")}`;

/** Each customer's messages, over all of their conversations. */
async function messagesByCustomer() {
  const counts = new Map();
  for (const c of (await box.sandbox.state()).conversations) {
    const [, name] = c.unique_name.match(/^whatsapp_(\d+)/);
    counts.set(name, (counts.get(name) ?? 0) + c.messages.length);
  }
  return counts;
}

/** Posts into a conversation as a participant of it (an agent's SDK, a bot) can: any author, any attributes. */
async function postAsParticipant(conversationSid, author, attributes) {
  const auth = Buffer.from(`${box.sandbox.accountSid}:${box.sandbox.authToken}`).toString("base64");
  const response = await fetch(`${box.sandbox.url}/v1/Conversations/${conversationSid}/Messages`, {
    method: "POST",
    headers: { authorization: `Basic ${auth}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ Author: author, Body: "hello", Attributes: JSON.stringify(attributes) }).toString(),
  });
  assert.equal(response.status, 201);
  return response.json();
}

test("the same keyed campaign started by two processes at once sends each customer exactly one message", async () => {
  const trials = 5;
  const each = 200;
  for (let trial = 0; trial < trials; trial += 1) {
    const plan = {
      ...box.sandbox.env(),
      TWILIO_REDIS_URL: redis.url,
      templateSid: box.sandbox.templateSid,
      mode: "bulk",
      count: each,
      firstNumber: 6_000_000 + trial * each,
    };
    const workers = await Promise.all([startWorker(plan), startWorker(plan)]);
    for (const worker of workers) worker.go();
    const reports = await Promise.all(workers.map((w) => w.done));
    assert.deepEqual(
      reports.map((r) => r.delivered),
      [each, each],
      "both runs report every message delivered",
    );
    assert.equal(reports[0].replayed + reports[1].replayed, each, "one run's send is the other's replay");
  }
  const counts = await messagesByCustomer();
  assert.equal(counts.size, trials * each);
  assert.deepEqual(new Set(counts.values()), new Set([1]), "every customer exactly one message");
});

test("two clients in one process sending one key at once send it once", async () => {
  for (let round = 0; round < 10; round += 1) {
    const [a, b] = [box.client(), box.client()];
    const phone = customer(10_000 + round);
    const key = { idempotencyKey: `round-${round}` };
    const results = await Promise.all([
      a.sendMessage(phone, "once", null, key),
      b.sendMessage(phone, "once", null, key),
    ]);
    assert.equal(results[0].messageSid, results[1].messageSid);
    assert.deepEqual(results.map((r) => r.replayed === true).sort(), [false, true], "one sent, one replayed");
  }
  const counts = await messagesByCustomer();
  assert.deepEqual([...counts.values()], Array(10).fill(1));
});

test("a replay says so, and stats() counts it apart from sends", async () => {
  const client = box.client();
  const phone = customer(11_000);
  const key = { idempotencyKey: "receipt-42" };
  const first = await client.sendTemplateMessage(phone, box.sandbox.templateSid, VARIABLES, key);
  const again = await client.sendTemplateMessage(phone, box.sandbox.templateSid, VARIABLES, key);
  assert.equal(first.replayed, undefined, "a send that went has the old module's shape");
  assert.equal(again.replayed, true);
  assert.equal(again.messageSid, first.messageSid);
  const stats = client.stats();
  assert.equal(stats.sends, 1);
  assert.equal(stats.replays, 1);
});

test("a key reused with other content is refused and sends nothing", async () => {
  const client = box.client();
  const phone = customer(12_000);
  const key = { idempotencyKey: "reminder-7" };
  assert.equal((await client.sendMessage(phone, "Your order shipped", null, key)).success, true);
  const calls = (await box.calls()).length;
  const other = await client.sendMessage(phone, "Your order was cancelled", null, key);
  assert.deepEqual((await box.calls()).slice(calls), [], "refused from what was remembered, with no request");
  assert.equal(other.success, false);
  assert.equal(other.code, "IDEMPOTENCY_KEY_REUSED");
  assert.doesNotMatch(other.error, /cancelled|reminder-7|\+1555/, "no text, key or number in the error");
  const template = await client.sendTemplateMessage(phone, box.sandbox.templateSid, VARIABLES, key);
  assert.equal(template.code, "IDEMPOTENCY_KEY_REUSED");
  const writes = (await box.calls()).filter((call) => call.startsWith("POST"));
  assert.equal(writes.length, 2, "the conversation's creation and the one message");
});

test("a key reused with other content is refused when only Twilio remembers it", async () => {
  const phone = customer(12_500);
  const plan = { ...box.sandbox.env(), mode: "keyed", to: phone, key: "k-1" };
  assert.equal((await runWorker({ ...plan, text: "first" })).success, true);
  const other = await runWorker({ ...plan, text: "second" });
  assert.equal(other.code, "IDEMPOTENCY_KEY_REUSED");
  const same = await runWorker({ ...plan, text: "first" });
  assert.equal(same.replayed, true);
});

test("a key a participant wrote does not stop the send, and is logged at warn", async () => {
  const client = box.client();
  const phone = customer(13_000);
  const conversationSid = await client.findOrCreateConversation(phone);
  const key = `spring-sale:${phone}`;
  await postAsParticipant(conversationSid, "agent-7", { idempotency_key: key });
  // A whole mark copied from a message the client really sent, into another customer's conversation.
  const genuine = await client.sendMessage(customer(13_001), "hi", null, { idempotencyKey: key });
  const copied = (await box.sandbox.state()).conversations
    .flatMap((c) => c.messages)
    .find((m) => m.sid === genuine.messageSid).attributes;
  await postAsParticipant(conversationSid, "system", JSON.parse(copied));

  const result = await runWorker({ ...box.sandbox.env(), mode: "keyed", to: phone, key, text: "hi" });
  assert.equal(result.success, true);
  assert.notEqual(result.replayed, true);
  const conversation = (await box.sandbox.state()).conversations.find((c) => c.sid === conversationSid);
  assert.equal(conversation.messages.length, 3, "the two forgeries and the real send");
  assert.equal(result.warnings.filter((w) => w.includes("did not write")).length, 2);
  assert.ok(result.warnings.every((w) => !w.includes(phone) && !w.includes(key)));
});

test("a keyed rerun after the customer's conversation closed finds the message there and sends nothing", async () => {
  const plan = { ...box.sandbox.env(), mode: "keyed", to: customer(14_000), key: "welcome", text: "Welcome!" };
  const first = await runWorker(plan);
  const client = box.client();
  assert.equal((await client.setConversationState(plan.to, "closed")).success, true);
  const again = await runWorker(plan);
  assert.equal(again.replayed, true);
  assert.equal(again.messageSid, first.messageSid);
  const counts = await messagesByCustomer();
  assert.deepEqual([...counts.values()], [1]);
});

test("a keyed campaign killed with SIGKILL while holding claims, then run again, sends each customer once", async () => {
  const plan = {
    ...box.sandbox.env(),
    TWILIO_REDIS_URL: redis.url,
    TWILIO_CLAIM_LEASE_MS: "1000",
    templateSid: box.sandbox.templateSid,
    mode: "bulk",
    count: 60,
    firstNumber: 7_000_000,
  };
  await killAfter(plan, 30);
  const again = await runWorker(plan);
  assert.equal(again.delivered, 60);
  const counts = await messagesByCustomer();
  assert.equal(counts.size, 60);
  assert.deepEqual(new Set(counts.values()), new Set([1]), "every customer exactly one message");
});

test("a key with a lone surrogate is refused: it would not reach Rust as written", async () => {
  const client = box.client();
  const result = await client.sendMessage(customer(15_000), "hi", null, { idempotencyKey: "José \ud83d" });
  assert.equal(result.code, "INVALID_IDEMPOTENCY_KEY");
  assert.deepEqual(await box.calls(), []);
});

const hex = (n, width = 32) => n.toString(16).padStart(width, "0");

function messageAdded(i) {
  return {
    AccountSid: `AC${hex(0)}`,
    EventType: "onMessageAdded",
    ConversationSid: `CH${hex(i)}`,
    MessageSid: `IM${hex(i)}`,
    Index: "0",
    Body: "hi",
    Author: "whatsapp:+15551234567",
  };
}

function receipt(status, i = 1) {
  return {
    AccountSid: `AC${hex(0)}`,
    EventType: "onDeliveryUpdated",
    ConversationSid: `CH${hex(i)}`,
    MessageSid: `IM${hex(i)}`,
    DeliveryReceiptSid: `DY${hex(i)}`,
    Status: status,
  };
}

/** Posts `params` to `url` as Twilio does, with its delivery token if given; resolves the status. */
async function deliver(url, params, token) {
  const response = await signedPost(url, params, token ? { "i-twilio-idempotency-token": token } : {});
  await response.arrayBuffer();
  return response.status;
}

test("the same 1,000 webhooks delivered twice each to 3 replicas reach the handlers 1,000 times", async () => {
  const env = {
    TWILIO_ACCOUNT_SID: `AC${hex(0)}`,
    TWILIO_AUTH_TOKEN: WEBHOOK_TOKEN,
    TWILIO_BASE_URL: box.sandbox.url,
    TWILIO_REDIS_URL: redis.url,
  };
  const replicas = await Promise.all([startReplica(env), startReplica(env), startReplica(env)]);
  // Half of them with Twilio's delivery token (the same on each copy), half identified by what they are about.
  const deliveries = [];
  for (let i = 0; i < 1000; i += 1) {
    const params = i % 2 ? messageAdded(20_000 + i) : receipt("delivered", 20_000 + i);
    const token = i % 4 === 1 ? `token-${i}` : undefined;
    for (const replica of replicas) deliveries.push(() => deliver(replica.url, params, token));
    for (const replica of replicas) deliveries.push(() => deliver(replica.url, params, token));
  }
  const statuses = [];
  const lane = async () => {
    while (deliveries.length > 0) statuses.push(await deliveries.shift()());
  };
  await Promise.all(Array.from({ length: 48 }, lane));
  assert.deepEqual(new Set(statuses), new Set([200]));
  for (const replica of replicas) replica.go();
  const handled = (await Promise.all(replicas.map((r) => r.done))).flatMap((r) => r.handled);
  assert.equal(handled.length, 1000);
  assert.equal(new Set(handled).size, 1000);
});

test("a webhook whose handler throws is handled again when Twilio retries it, and then only once", async () => {
  let calls = 0;
  const hooks = await signedHooks(box.sandbox, {
    onMessageAdded: () => {
      calls += 1;
      if (calls === 1) throw new Error("database down");
    },
  });
  try {
    const params = messageAdded(30_000);
    assert.equal(await hooks.post(params), 500);
    assert.equal(await hooks.post(params), 200);
    assert.equal(await hooks.post(params), 200);
    assert.equal(calls, 2);
  } finally {
    await hooks.close();
  }
});

test("delivery receipts never move backwards: a status older than one handed on is dropped", async () => {
  const seen = [];
  const hooks = await signedHooks(box.sandbox, { onDeliveryUpdated: (event) => seen.push(event.status) });
  try {
    for (const status of ["sent", "read", "delivered", "sent", "failed", "read", "delivered"]) {
      assert.equal(await hooks.post(receipt(status, 31_000)), 200, status);
    }
    assert.deepEqual(seen, ["sent", "read", "failed"]);
  } finally {
    await hooks.close();
  }
});

test("a pre-action handler that sets attributes keeps the client's idempotency mark in them", async () => {
  const mark = { idempotency_key: "k", idempotency_content: "c", idempotency_mac: "m" };
  const http = require("node:http");
  const client = new (require(".."))({
    accountSid: `AC${hex(0)}`,
    authToken: WEBHOOK_TOKEN,
    baseUrl: box.sandbox.url,
    logger: false,
  });
  const server = http.createServer(
    client.webhookHandler({ onMessageAdd: () => ({ attributes: { screened: true } }) }, { protocol: "http" }),
  );
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${server.address().port}/twilio/hooks`;
    const params = { ...messageAdded(32_000), EventType: "onMessageAdd", Attributes: JSON.stringify(mark) };
    delete params.MessageSid;
    const answer = await (await signedPost(url, params)).json();
    assert.deepEqual(JSON.parse(answer.attributes), { screened: true, ...mark });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a delivery status whose webhook never arrived is recovered by reconcile, and handed on once", async () => {
  const client = box.client();
  const since = new Date();
  const phone = customer(33_000);
  const sent = await client.sendMessage(phone, "hi");
  const [receiptOf] = (await client.getDeliveryStatus(phone, sent.messageSid)).receipts;
  // No webhook is configured: the channel's report reaches no one, as in an outage.
  await box.sandbox.setReceipt(receiptOf.sid, "read");
  const seen = [];
  const handler = client.webhookHandler({ onDeliveryUpdated: (event) => seen.push(event) }, { protocol: "http" });
  const outcome = await handler.reconcile({ since });
  assert.deepEqual(outcome, { events: 1, handled: 1, duplicate: 0, stale: 0, unhandled: 0, failed: 0 });
  assert.deepEqual(
    seen.map((e) => [e.eventType, e.messageSid, e.deliveryReceiptSid, e.status]),
    [["onDeliveryUpdated", sent.messageSid, receiptOf.sid, "read"]],
  );
  assert.ok(seen[0].dateUpdated instanceof Date);
  const again = await handler.reconcile({ since });
  assert.equal(again.handled, 0, "what was handed on is not handed on again");
  assert.equal(seen.length, 1);
});

test("with Redis, any replica reconciles the messages every process of the fleet sent", async () => {
  const sender = box.client({ redisUrl: redis.url });
  const since = new Date();
  const phone = customer(34_000);
  const sent = await sender.sendMessage(phone, "hi");
  const [receiptOf] = (await sender.getDeliveryStatus(phone, sent.messageSid)).receipts;
  await box.sandbox.setReceipt(receiptOf.sid, "delivered");
  const seen = [];
  const replica = box.client({ redisUrl: redis.url });
  const handler = replica.webhookHandler({ onDeliveryUpdated: (event) => seen.push(event.status) });
  // The journal is written off the send's path: the replica asks until it is there.
  let outcome;
  do outcome = await handler.reconcile({ since });
  while (outcome.events === 0);
  assert.deepEqual(seen, ["delivered"]);
});

/** Resolves once `ready()` holds, asking the sandbox again after each of its answers. */
async function until(ready) {
  for (;;) {
    const value = await ready();
    if (value) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test("through the sandbox: signed for the public URL, retried with one token, out of order, each handled once", async () => {
  const client = box.client();
  const seen = [];
  let failures = 1;
  const PUBLIC = "https://hooks.example.com";
  const url = `${PUBLIC}/twilio/hooks#rc=2&rp=5xx`;
  const handler = client.webhookHandler(
    {
      onMessageAdded: (event) => {
        if (failures-- > 0) throw new Error("database down");
        seen.push(event.eventType);
      },
      onDeliveryUpdated: (event) => seen.push(event.status),
    },
    { url },
  );
  const server = require("node:http").createServer(handler);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await box.sandbox.routeWebhooks(PUBLIC, `http://127.0.0.1:${server.address().port}`);
    const configured = await client.configureWebhooks({
      postWebhookUrl: url,
      filters: ["onMessageAdded", "onDeliveryUpdated"],
    });
    assert.equal(configured.success, true);
    const phone = customer(35_000);
    const sent = await client.sendMessage(phone, "hi");
    await box.sandbox.inbound({ from: `whatsapp:${phone}`, to: "whatsapp:+14155238886", body: "hello" });
    const added = await until(async () => {
      const attempts = (await box.sandbox.webhooks()).filter((a) => a.event_type === "onMessageAdded");
      return attempts.length === 2 && attempts;
    });
    assert.deepEqual(
      added.map((a) => [a.retry, a.status, a.delivered_to.startsWith("http://127.0.0.1:")]),
      [
        [0, 500, true],
        [1, 200, true],
      ],
    );
    assert.equal(added[0].idempotency_token, added[1].idempotency_token, "a retry carries the first's token");

    const [receiptOf] = (await client.getDeliveryStatus(phone, sent.messageSid)).receipts;
    await box.sandbox.holdWebhooks();
    for (const status of ["sent", "delivered", "read"]) await box.sandbox.setReceipt(receiptOf.sid, status);
    await box.sandbox.releaseWebhooks("reversed");
    await until(
      async () => (await box.sandbox.webhooks()).filter((a) => a.event_type === "onDeliveryUpdated").length >= 3,
    );
    assert.deepEqual(seen, ["onMessageAdded", "read"], "handled once; sent and delivered after read are dropped");
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A pre-action webhook of the caller's own making, on a server of its own; resolves its URL and `close()`. */
async function preWebhook(respond) {
  const server = require("node:http").createServer(respond);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/pre`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

test("a keyed message whose attributes a pre-action webhook replaced gets its mark back, and a rerun finds it", async () => {
  // Not the client's handler: one that answers with attributes of its own, which Twilio takes whole.
  const hook = await preWebhook((req, res) => {
    req.resume();
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ attributes: JSON.stringify({ screened: true }) }));
  });
  try {
    const client = box.client({ webhookEnabled: true });
    await client.configureWebhooks({ preWebhookUrl: hook.url, filters: ["onMessageAdd"] });
    const plan = { ...box.sandbox.env(), mode: "keyed", to: customer(36_000), key: "promo-1", text: "Hi" };
    const sent = await client.sendMessage(plan.to, plan.text, null, { idempotencyKey: plan.key });
    const stored = (await box.sandbox.state()).conversations[0].messages[0];
    const attributes = JSON.parse(stored.attributes);
    assert.equal(attributes.screened, true, "what the webhook wrote is kept");
    assert.equal(attributes.idempotency_key, plan.key, "the mark is back");
    const again = await runWorker(plan);
    assert.equal(again.replayed, true);
    assert.equal(again.messageSid, sent.messageSid);
  } finally {
    await hook.close();
  }
});
