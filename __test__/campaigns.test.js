"use strict";

// Campaigns: many sends at once from one process, delivered at Twilio's rate in the order asked, queueing outside
// the call's deadline and bounded by maxQueueMs; sendBulk; idempotency keys, also across a crash. The sandbox
// enforces Twilio's limits as Twilio does (30 creations a second per service, 30 writes per conversation).

const test = require("node:test");
const assert = require("node:assert/strict");
const { useSandbox } = require("./helpers.js");
const { runWorker, killAfter } = require("./fixtures/campaign.js");

const box = useSandbox();
// The pacer's window is 50 ms longer than Twilio's second, for the jitter between the client's clock and the
// sandbox's; on a loaded machine a write can arrive later than that, and its 429 is repeated. Writes past the
// rate without pacing are counted in tens (four processes' 100 creations in Twilio's first second).
const JITTER_429S = 2;

const customer = (i) => `+1555${String(2_000_000 + i).padStart(7, "0")}`;
const VARIABLES = { 1: "12/1", 2: "3pm" };

/** `count` templates to new customers from `first` on, all at once. */
function templates(client, first, count) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.sendTemplateMessage(customer(first + i), box.sandbox.templateSid, VARIABLES),
    ),
  );
}

async function creations() {
  return (await box.sandbox.requests()).filter(
    (r) => r.method === "POST" && r.path === "/v1/ConversationWithParticipants",
  );
}

test("a campaign of three windows' worth of new customers is delivered in the order asked, with no 429", async () => {
  const client = box.client();
  const results = await templates(client, 0, 90);
  assert.deepEqual(
    results.filter((r) => !r.success),
    [],
  );
  // The first window's 30 start as their lookups answer; later turns go in the order the sends were asked. The log
  // is in the order the sandbox answered, which within one window's burst is the connections' race.
  const made = (await creations()).map((r) => Number(r.params.UniqueName.slice(-3)));
  assert.equal(made.length, 90);
  const [second, third] = [made.slice(30, 60), made.slice(60)];
  assert.ok(Math.max(...second) < Math.min(...third), `${second} then ${third}`);
  assert.ok((await box.sandbox.limits()).refused_writes <= JITTER_429S);
});

test("sends past a lane's two windows wait at its gate and are delivered in the order asked", async () => {
  const client = box.client();
  await client.findOrCreateConversation(customer(400));
  await box.sandbox.clearRequests();
  // The conversation's lane lets in 60 sends at 30 writes a window; the last 40 wait at its gate.
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client.sendMessage(customer(400), `m${i}`)));
  assert.deepEqual(
    results.filter((r) => !r.success),
    [],
  );
  const sent = (await box.sandbox.requests())
    .filter((r) => r.method === "POST" && r.path.endsWith("/Messages") && r.status !== 429)
    .map((r) => Number(r.params.Body.slice(1)));
  assert.equal(sent.length, 100);
  // Each window's sends go before the next window's, in the order asked across the gate.
  const windows = [sent.slice(0, 30), sent.slice(30, 60), sent.slice(60, 90), sent.slice(90)];
  for (let w = 1; w < windows.length; w++) {
    assert.ok(Math.max(...windows[w - 1]) < Math.min(...windows[w]), `${windows[w - 1]} then ${windows[w]}`);
  }
});

// The rules themselves are proven on tokio's paused clock (crates/core/src/pacing.rs); these two show the options
// reach them, each with the least real waiting that shows it: one window, and none.
test("waiting for a pacing slot does not count against deadlineMs", async () => {
  // The 31st creation waits a whole window, ten times its deadline; each call's own Twilio work takes milliseconds.
  const client = box.client({ deadlineMs: 100 });
  const results = await templates(client, 100, 31);
  assert.deepEqual(
    results.filter((r) => !r.success).map((r) => r.code),
    [],
  );
  assert.equal((await creations()).length, 31);
});

test("a send whose slot would start past maxQueueMs is refused at once with QUEUE_FULL and retryAfterMs, and sends nothing", async () => {
  const client = box.client({ maxQueueMs: 1 });
  await client.findOrCreateConversation(customer(300));
  await box.sandbox.clearRequests();
  // One conversation takes 30 writes a window: the next 30 would start a window later, past the bound.
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => client.sendMessage(customer(300), `m${i}`)));
  const refused = results.filter((r) => !r.success);
  assert.equal(refused.length, 30);
  for (const result of refused) {
    assert.equal(result.code, "QUEUE_FULL");
    assert.ok(Number.isInteger(result.retryAfterMs) && result.retryAfterMs >= 1000);
    assert.match(result.error, /maxQueueMs/);
  }
  const posts = (await box.sandbox.requests()).filter((r) => r.method === "POST");
  assert.equal(posts.length, results.length - refused.length, "a refused send made no request");
  const delivered = results.findIndex((r) => !r.success);
  assert.ok(
    results.slice(delivered).every((r) => !r.success),
    "the first asked are the ones delivered",
  );
});

test("after Twilio refuses the system identity, the creations queued behind go without it", async () => {
  await box.sandbox.limits({ conversations_per_identity: 5 });
  const client = box.client();
  const results = await templates(client, 400, 60);
  assert.deepEqual(
    results.filter((r) => !r.success),
    [],
  );
  const made = await creations();
  const refused = made.filter((r) => r.status === 403).length;
  // Only creations already sent when the first refusal came back (at most one window's) are refused; deciding
  // before the turn would have spent a refused attempt on each of the 55 after the identity's fifth.
  assert.ok(refused >= 1 && refused <= 30, `${refused} refused`);
  assert.equal(made.length, 60 + refused, "each refused creation repeated once, without the identity");
});

test("sendBulk sends each kind of message, resolves results in input order, and reports progress", async () => {
  const client = box.client({ mediaAllowPrivateHosts: true });
  const progress = [];
  const seen = [];
  const outcome = await client.sendBulk(
    [
      {
        to: customer(500),
        contentSid: box.sandbox.templateSid,
        contentVariables: VARIABLES,
      },
      { to: customer(501), text: "hello" },
      { to: customer(502), mediaUrl: box.sandbox.imageUrl, caption: "look" },
      { to: customer(503) },
      { to: "nope", text: "hi" },
    ],
    {
      onProgress: (p) => progress.push(p),
      onResult: (result, index) => seen.push(index),
    },
  );
  assert.equal(outcome.total, 5);
  assert.equal(outcome.delivered, 3);
  assert.equal(outcome.failed, 2);
  assert.deepEqual(
    outcome.results.map((r) => r.success),
    [true, true, true, false, false],
  );
  assert.equal(typeof outcome.results[0].body, "string", "a template's result shape");
  assert.equal(outcome.results[3].code, "INVALID_BULK_ITEM");
  assert.equal(outcome.results[4].code, "INVALID_PHONE_NUMBER");
  assert.deepEqual(seen.sort(), [0, 1, 2, 3, 4]);
  const last = progress.at(-1);
  assert.deepEqual(
    {
      done: last.done,
      delivered: last.delivered,
      failed: last.failed,
      total: last.total,
    },
    { done: 5, delivered: 3, failed: 2, total: 5 },
  );
  const posts = (await box.sandbox.requests()).filter((r) => r.method === "POST");
  assert.ok(
    posts.every((r) => !JSON.stringify(r.params).includes("nope")),
    "an invalid item made no request",
  );
});

test("sendBulk reads an async iterable only as fast as sends finish", async () => {
  const client = box.client();
  let pulled = 0;
  let pulledAtFirstResult = null;
  async function* rows() {
    for (let i = 0; i < 40; i += 1) {
      pulled += 1;
      yield { to: customer(600 + i), text: `row ${i}` };
    }
  }
  const outcome = await client.sendBulk(rows(), {
    concurrency: 5,
    onResult: () => (pulledAtFirstResult ??= pulled),
  });
  assert.equal(outcome.delivered, 40);
  assert.ok(pulledAtFirstResult <= 6, `${pulledAtFirstResult} rows read before the first send ended`);
});

test("sendBulk with an aborted signal ends the messages not yet started as ABORTED, sending none of them", async () => {
  const client = box.client();
  const controller = new AbortController();
  const messages = Array.from({ length: 30 }, (_, i) => ({
    to: customer(700 + i),
    text: `m${i}`,
  }));
  const outcome = await client.sendBulk(messages, {
    concurrency: 2,
    signal: controller.signal,
    onResult: (_, index) => index === 3 && controller.abort(),
  });
  const started = outcome.results.filter((r) => r.code !== "ABORTED");
  assert.ok(
    started.every((r) => r.success),
    "nothing started was abandoned",
  );
  assert.ok(outcome.results.slice(started.length).every((r) => r.code === "ABORTED"));
  assert.equal(outcome.total, 30);
  const state = await box.sandbox.state();
  assert.equal(state.conversations.length, started.length);
});

test("sendBulk refuses what is not a list of messages and options it does not know how to use", async () => {
  const client = box.client();
  await assert.rejects(client.sendBulk(42), TypeError);
  await assert.rejects(client.sendBulk([], { onProgress: 1 }), TypeError);
  await assert.rejects(client.sendBulk([], { signal: {} }), TypeError);
  await assert.rejects(client.sendBulk([], { concurrency: 0 }), TypeError);
  const throwing = new Proxy(
    {},
    {
      getPrototypeOf: () => Object.prototype,
      get: () => {
        throw new Error("a hostile getter");
      },
    },
  );
  const outcome = await client.sendBulk([throwing]);
  assert.equal(outcome.results[0].code, "INVALID_BULK_ITEM");
  assert.deepEqual(await box.calls(), []);
});

test("a source that throws after 5 messages ends the campaign with its summary and sourceError, never a rejection", async () => {
  const client = box.client();
  const seen = [];
  async function* source() {
    for (let i = 0; i < 5; i += 1) yield { to: customer(800 + i), text: `m${i}` };
    throw new Error("the database went away");
  }
  const outcome = await client.sendBulk(source(), { concurrency: 2, onResult: (_, index) => seen.push(index) });
  assert.equal(outcome.total, 5);
  assert.equal(outcome.delivered, 5);
  assert.equal(outcome.sourceError.message, "the database went away");
  assert.equal(outcome.aborted, false);
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [0, 1, 2, 3, 4],
    "each item reported once",
  );
});

test("an abort while the source waits for its next message ends the campaign with its summary", async () => {
  const client = box.client();
  const controller = new AbortController();
  let finished = false;
  async function* source() {
    yield { to: customer(820), text: "first" };
    // A source that never answers again (a cursor on a stalled database).
    await new Promise(() => {});
    finished = true;
  }
  const outcome = await client.sendBulk(source(), {
    signal: controller.signal,
    onResult: () => controller.abort(),
  });
  assert.equal(outcome.aborted, true);
  assert.equal(outcome.total, 1);
  assert.equal(outcome.delivered, 1);
  assert.equal(finished, false);
});

test("an async onResult that rejects is logged and every message of the campaign is still sent and reported", async () => {
  const client = box.client();
  const before = box.logger.entries.length;
  let reported = 0;
  const messages = Array.from({ length: 20 }, (_, i) => ({ to: customer(840 + i), text: `m${i}` }));
  const outcome = await client.sendBulk(messages, {
    concurrency: 4,
    onResult: async () => {
      reported += 1;
      throw new Error("the results table is full");
    },
  });
  assert.equal(outcome.delivered, 20);
  assert.equal(reported, 20);
  // Rejections are caught as they happen: let the last ones be logged.
  await new Promise((resolve) => setImmediate(resolve));
  const logged = box.logger.entries.slice(before).filter((e) => e.message.includes("the results table is full"));
  assert.equal(logged.length, 20);
});

test("a message with an idempotency key is sent at most once per conversation, whoever sends it", async () => {
  const phone = customer(800);
  const [first, second] = [box.client(), box.client()];
  const key = { idempotencyKey: "campaign-7:row-1" };
  const a = await first.sendTemplateMessage(phone, box.sandbox.templateSid, VARIABLES, key);
  const b = await second.sendTemplateMessage(phone, box.sandbox.templateSid, VARIABLES, key);
  const concurrent = await Promise.all(
    Array.from({ length: 5 }, () => first.sendMessage(phone, "once", null, { idempotencyKey: "k2" })),
  );
  assert.equal(a.success && b.success, true);
  assert.equal(b.messageSid, a.messageSid, "the second sender got the first one's message");
  assert.equal(new Set(concurrent.map((r) => r.messageSid)).size, 1);
  const [conversation] = (await box.sandbox.state()).conversations;
  assert.equal(conversation.messages.length, 2);
});

test("a bad idempotency key is refused before any request", async () => {
  const client = box.client();
  for (const idempotencyKey of ["", "a\nb", "x".repeat(257), 42]) {
    const result = await client.sendMessage(customer(900), "hi", null, {
      idempotencyKey,
    });
    assert.equal(result.code, "INVALID_IDEMPOTENCY_KEY", JSON.stringify(idempotencyKey));
  }
  const messaging = box.client({ delivery: "messaging" });
  const result = await messaging.sendTemplateMessage(customer(900), box.sandbox.templateSid, VARIABLES, {
    idempotencyKey: "k",
  });
  assert.equal(result.code, "INVALID_IDEMPOTENCY_KEY");
  assert.deepEqual(await box.calls(), []);
});

test("a sendBulk killed with SIGKILL half-way and run again with the same keys leaves each customer exactly one message", async () => {
  const plan = {
    ...box.sandbox.env(),
    templateSid: box.sandbox.templateSid,
    mode: "bulk",
    count: 60,
    firstNumber: 3_000_000,
  };
  await killAfter(plan, 30);
  const again = await runWorker(plan);
  assert.equal(again.delivered, 60);
  const counts = (await box.sandbox.state()).conversations.map((c) => c.messages.length);
  assert.equal(counts.length, 60);
  assert.deepEqual(new Set(counts), new Set([1]), "every customer exactly one message");
});

test("an interactive first contact goes ahead of a campaign's queued creations; a send marked bulk waits with them", async () => {
  const client = box.client();
  let sends = null;
  let createdBefore = null;
  const outcome = await client.sendBulk(
    Array.from({ length: 90 }, (_, i) => ({ to: customer(900 + i), text: `m${i}` })),
    {
      onResult: (_, index) => {
        if (index !== 10 || sends !== null) return;
        sends = creations().then((made) => {
          createdBefore = made.length;
          return Promise.all([
            client.sendMessage(customer(1_000), "your code is 123456"),
            client.sendMessage(customer(1_001), "a legacy campaign's message", null, { bulk: true }),
          ]);
        });
      },
    },
  );
  const [code, marked] = await sends;
  assert.equal(outcome.delivered, 90);
  assert.equal(code.success && marked.success, true);
  const order = (await creations()).map((r) => JSON.stringify(r.params));
  const at = (to) => order.findIndex((params) => params.includes(to.slice(1)));
  // Behind at most the creations granted a start in the window it joined (30 a window), not the ones queued.
  assert.ok(
    at(customer(1_000)) < createdBefore + 31,
    `created ${at(customer(1_000)) + 1}th, ${createdBefore} created before it was sent`,
  );
  assert.ok(order.length - at(customer(1_000)) > 30, "most of the campaign was still queued");
  assert.ok(at(customer(1_001)) >= order.length - 3, `the send marked bulk was created ${at(customer(1_001)) + 1}th`);
});
