"use strict";

// Inbound: the sandbox's signed webhooks, the handler under node:http, Express and Fastify, customers' replies,
// pre-event answers, delivery receipts and the WhatsApp 24-hour window, each promise against the sandbox.

const test = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const twilio = require("twilio");
const express = require("express");
const fastify = require("fastify");
const { PHONE, ADDRESS, SENDER, TwilioApiClient, useSandbox, signedHooks } = require("./helpers.js");

const box = useSandbox();

/**
 * The webhook attempt the sandbox made for `eventType`: the sandbox answers once one more attempt is made than were
 * seen, so that the test waits for a delivery rather than polling for it.
 */
async function attemptFor(eventType) {
  for (let seen = 0; ;) {
    const attempts = await box.sandbox.webhooks({ atLeast: seen + 1 });
    const found = attempts.find((w) => w.event_type === eventType);
    if (found) return found;
    if (attempts.length === seen) throw new Error(`no ${eventType} webhook came`);
    seen = attempts.length;
  }
}

// A bound on a wait for webhooks that should come at once: what fails a test that would otherwise hang.
const NEVER_MS = 10_000;

async function listen(server) {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  test.after(() => server.close());
  return `http://127.0.0.1:${server.address().port}`;
}

/**
 * A node:http server running the client's handler; its events are recorded. `until(probe, what)` resolves with
 * what `probe()` returns once it is truthy, looked at again after each request the server answers.
 */
async function hookServer(client, handlers = {}, options = {}) {
  const events = [];
  const answered = [];
  const record = (event) => {
    events.push(event);
  };
  const handler = client.webhookHandler({ onEvent: record, ...handlers }, { protocol: "http", ...options });
  const server = http.createServer((request, response) => {
    response.on("finish", () => answered.splice(0).forEach((wake) => wake()));
    handler(request, response);
  });
  const origin = await listen(server);
  const until = async (probe, what) => {
    const bound = AbortSignal.timeout(NEVER_MS);
    for (let value = probe(); ; value = probe()) {
      if (value) return value;
      if (bound.aborted) throw new Error(`never happened: ${what}`);
      await new Promise((resolve) => {
        answered.push(resolve);
        bound.addEventListener("abort", resolve, { once: true });
      });
    }
  };
  return { events, until, url: `${origin}/twilio/hooks`, origin };
}

/** A customer who has a conversation with us (created by a first template). */
async function customerWithConversation(client) {
  const first = await client.sendTemplateMessage(PHONE, box.sandbox.templateSid, {
    1: "Monday",
    2: "9am",
  });
  assert.equal(first.success, true, first.error);
  return first;
}

function reply(body = "Yes, that works") {
  return box.sandbox.inbound({ from: ADDRESS, to: SENDER, body });
}

function signed(token, url, params) {
  return twilio.getExpectedTwilioSignature(token, url, params);
}

test("the sandbox's webhooks are signed as Twilio signs them: the client's validator and twilio's validateRequest agree", async () => {
  const client = box.client();
  const hooks = await hookServer(client);
  await client.configureWebhooks({ postWebhookUrl: hooks.url });
  await customerWithConversation(client);
  await reply();
  const attempt = await attemptFor("onMessageAdded");
  assert.equal(attempt.status, 200);
  assert.equal(attempt.url, hooks.url);
  assert.equal(twilio.validateRequest(box.sandbox.authToken, attempt.signature, attempt.url, attempt.params), true);
  assert.equal(
    TwilioApiClient.validateWebhookSignature(box.sandbox.authToken, attempt.signature, attempt.url, attempt.params),
    true,
  );
});

test("a customer's reply lands in their conversation and reaches onMessageAdded as a typed event", async () => {
  const client = box.client();
  const added = [];
  const hooks = await hookServer(client, {
    onMessageAdded: (event) => {
      added.push(event);
    },
  });
  await client.configureWebhooks({ postWebhookUrl: hooks.url });
  const first = await customerWithConversation(client);
  const { message } = await reply("Yes, that works");
  assert.equal(message.author, ADDRESS);
  const conversation = await box.conversation("whatsapp_1234567890");
  const customer = conversation.participants.find((p) => p.messaging_binding?.address === ADDRESS);
  assert.equal(message.participant_sid, customer.sid);
  const event = await hooks.until(() => added[0], "onMessageAdded");
  assert.equal(event.eventType, "onMessageAdded");
  assert.equal(event.conversationSid, first.conversationSid);
  assert.equal(event.messageSid, message.sid);
  assert.equal(event.index, 1);
  assert.equal(event.body, "Yes, that works");
  assert.equal(event.author, ADDRESS);
  assert.equal(event.participantSid, customer.sid);
  assert.deepEqual(event.attributes, {});
  assert.ok(event.dateCreated instanceof Date);
  assert.equal(event.source, "SMS");
  assert.equal(event.params.EventType, "onMessageAdded");
});

test("Address Configurations, managed through Twilio's API, decide which addresses start a conversation", async () => {
  const api = (method, path, form) =>
    fetch(`${box.sandbox.url}${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${box.sandbox.accountSid}:${box.sandbox.authToken}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: form && new URLSearchParams(form),
    });
  const other = "whatsapp:+15550000000";
  await assert.rejects(
    box.sandbox.inbound({ from: ADDRESS, to: other, body: "hello?" }),
    /404.*No open conversation has a participant with this address/,
    "no configuration, no conversation",
  );
  const created = await api("POST", "/v1/Configuration/Addresses", {
    Type: "whatsapp",
    Address: "+15550000000",
    "AutoCreation.Enabled": "true",
  });
  assert.equal(created.status, 201);
  const listed = await (await api("GET", "/v1/Configuration/Addresses")).json();
  assert.deepEqual(
    listed.address_configurations.map((c) => [c.type, c.address, c.auto_creation.enabled]),
    [
      ["whatsapp", SENDER, true],
      ["whatsapp", other, true],
    ],
  );
  assert.equal((await box.sandbox.inbound({ from: ADDRESS, to: other, body: "hello?" })).rejected, false);
  const deleted = await api("DELETE", `/v1/Configuration/Addresses/${listed.address_configurations[0].sid}`);
  assert.equal(deleted.status, 204);
  await assert.rejects(box.sandbox.inbound({ from: ADDRESS, to: SENDER, body: "hi" }), /404/);
});

test("an inbound message wakes an inactive conversation and fires onConversationStateUpdated", async () => {
  const client = box.client();
  const hooks = await hookServer(client);
  await customerWithConversation(client);
  await client.setConversationState(PHONE, "inactive");
  await client.configureWebhooks({ postWebhookUrl: hooks.url });
  await reply();
  const event = await hooks.until(
    () => hooks.events.find((e) => e.eventType === "onConversationStateUpdated"),
    "onConversationStateUpdated",
  );
  assert.equal(event.stateFrom, "inactive");
  assert.equal(event.stateTo, "active");
  assert.equal((await client.getConversationStatus(PHONE)).state, "active");
});

test("onMessageAdd may change a customer's message before it is published", async () => {
  const client = box.client();
  const hooks = await hookServer(client, {
    onMessageAdd: (event) => ({
      body: event.body.toUpperCase(),
      attributes: { screened: true },
    }),
  });
  await customerWithConversation(client);
  await client.configureWebhooks({ preWebhookUrl: hooks.url });
  const { rejected, message } = await reply("please call me");
  assert.equal(rejected, false);
  assert.equal(message.body, "PLEASE CALL ME");
  assert.deepEqual(JSON.parse(message.attributes), { screened: true });
});

test("onMessageAdd returning false rejects the customer's message: nothing is published", async () => {
  const client = box.client();
  const hooks = await hookServer(client, { onMessageAdd: () => false });
  await customerWithConversation(client);
  await client.configureWebhooks({ preWebhookUrl: hooks.url });
  const answer = await reply("spam");
  assert.equal(answer.rejected, true);
  assert.equal(answer.message, null);
  const history = await client.getMessages(PHONE);
  assert.equal(history.messages.length, 1);
});

test("the client's own writes fire webhooks only with webhookEnabled", async () => {
  const quiet = box.client();
  const hooks = await hookServer(quiet);
  await quiet.configureWebhooks({
    postWebhookUrl: hooks.url,
    filters: ["onMessageAdded", "onConversationAdded"],
  });
  await quiet.sendMessage(PHONE, "no echo");
  const loud = box.client({ webhookEnabled: true });
  const sent = await loud.sendMessage(PHONE, "echo");
  const event = await hooks.until(() => hooks.events.find((e) => e.eventType === "onMessageAdded"), "onMessageAdded");
  assert.equal(event.messageSid, sent.messageSid ?? sent.sid);
  assert.equal(event.source, "API");
  assert.equal(hooks.events.filter((e) => e.eventType === "onMessageAdded").length, 1);
});

test("a message's receipt goes sent, then delivered on the sandbox's clock, with onDeliveryUpdated and getDeliveryStatus", async () => {
  const client = box.client();
  const hooks = await hookServer(client);
  await client.configureWebhooks({
    postWebhookUrl: hooks.url,
    filters: ["onDeliveryUpdated"],
  });
  const sent = await customerWithConversation(client);
  const messageSid = sent.messageSid ?? sent.sid;
  await box.sandbox.advanceClock("PT2S");
  const statuses = await hooks.until(() => {
    const seen = hooks.events.map((e) => e.status);
    return seen.includes("delivered") && seen;
  }, "delivered");
  assert.deepEqual(statuses, ["sent", "delivered"]);
  const status = await client.getDeliveryStatus(PHONE, messageSid);
  assert.equal(status.success, true, status.error);
  assert.equal(status.delivery.total, 1);
  assert.equal(status.delivery.delivered, "all");
  assert.equal(status.receipts.length, 1);
  assert.equal(status.receipts[0].status, "delivered");
  assert.equal(status.receipts[0].errorCode, null);
  assert.ok(status.receipts[0].dateUpdated instanceof Date);
});

test("a receipt's status set through the control API reaches onDeliveryUpdated", async () => {
  const client = box.client();
  const hooks = await hookServer(client);
  const sent = await customerWithConversation(client);
  await client.configureWebhooks({
    postWebhookUrl: hooks.url,
    filters: ["onDeliveryUpdated"],
  });
  const before = await client.getDeliveryStatus(PHONE, sent.messageSid);
  await box.sandbox.setReceipt(before.receipts[0].sid, "read");
  const event = await hooks.until(() => hooks.events.find((e) => e.status === "read"), "read");
  assert.equal(event.deliveryReceiptSid, before.receipts[0].sid);
  assert.equal((await client.getDeliveryStatus(PHONE, sent.messageSid)).delivery.read, "all");
});

test("a free-form message after 24 hours of customer silence fails with 63016; a template is delivered", async () => {
  const client = box.client();
  const hooks = await hookServer(client);
  await customerWithConversation(client);
  await reply("thanks");
  await box.sandbox.advanceClock("PT25H");
  await client.configureWebhooks({
    postWebhookUrl: hooks.url,
    filters: ["onDeliveryUpdated"],
  });
  const text = await client.sendMessage(PHONE, "are you still there?");
  assert.equal(text.success, true, text.error);
  const template = await client.sendTemplateMessage(PHONE, box.sandbox.templateSid, { 1: "Friday", 2: "10am" });
  await box.sandbox.advanceClock("PT2S");
  const failed = await hooks.until(() => hooks.events.find((e) => e.status === "failed"), "failed");
  assert.equal(failed.messageSid, text.messageSid);
  assert.equal(failed.errorCode, 63016);
  const textStatus = await client.getDeliveryStatus(PHONE, text.messageSid);
  assert.equal(textStatus.receipts[0].status, "failed");
  assert.equal(textStatus.receipts[0].errorCode, 63016);
  const templateStatus = await client.getDeliveryStatus(PHONE, template.messageSid);
  assert.equal(templateStatus.receipts[0].status, "delivered");
});

test("getWhatsAppWindow reads the window from the customer's newest message, on Twilio's clock", async () => {
  const client = box.client();
  const none = await client.getWhatsAppWindow(PHONE);
  assert.deepEqual(none, {
    success: true,
    conversationSid: null,
    open: false,
    lastInboundAt: null,
    closesAt: null,
  });
  await customerWithConversation(client);
  assert.equal((await client.getWhatsAppWindow(PHONE)).open, false);
  const { message } = await reply();
  await client.sendMessage(PHONE, "glad to hear it");
  const open = await client.getWhatsAppWindow(PHONE);
  assert.equal(open.open, true);
  assert.equal(open.lastInboundAt.toISOString(), new Date(message.date_created).toISOString());
  assert.equal(open.closesAt.getTime() - open.lastInboundAt.getTime(), 24 * 3600 * 1000);
  await box.sandbox.advanceClock("PT25H");
  assert.equal((await client.getWhatsAppWindow(PHONE)).open, false);
});

test("freeformOutsideWindow 'refuse' fails a free-form text with OUTSIDE_WHATSAPP_WINDOW and sends nothing; templates go", async () => {
  const client = box.client({ freeformOutsideWindow: "refuse" });
  await customerWithConversation(client);
  await box.sandbox.clearRequests();
  const refused = await client.sendMessage(PHONE, "hello?");
  assert.equal(refused.success, false);
  assert.equal(refused.code, "OUTSIDE_WHATSAPP_WINDOW");
  assert.equal((await box.calls()).filter((c) => c.startsWith("POST")).length, 0);
  const template = await client.sendTemplateMessage(PHONE, box.sandbox.templateSid, { 1: "a", 2: "b" });
  assert.equal(template.success, true, template.error);
  await reply();
  const allowed = await client.sendMessage(PHONE, "hi again");
  assert.equal(allowed.success, true, allowed.error);
});

test("configureWebhooks refuses a bad URL, filter or method before any request", async () => {
  const client = box.client();
  const cases = [
    [{ postWebhookUrl: "not a url" }, "INVALID_WEBHOOK_URL"],
    [{}, "INVALID_WEBHOOK_URL"],
    [{ postWebhookUrl: "https://example.com/h", filters: ["onSomething"] }, "INVALID_WEBHOOK_FILTER"],
    [{ postWebhookUrl: "https://example.com/h", filters: "onMessageAdded" }, "INVALID_WEBHOOK_FILTER"],
    [{ postWebhookUrl: "https://example.com/h", method: "PUT" }, "INVALID_WEBHOOK_METHOD"],
  ];
  for (const [settings, code] of cases) {
    const result = await client.configureWebhooks(settings);
    assert.equal(result.success, false);
    assert.equal(result.code, code, JSON.stringify(settings));
  }
  assert.deepEqual(await box.calls(), []);
});

test("a conversation holds at most five conversation-scoped webhooks (50361)", async () => {
  const client = box.client();
  const { conversationSid } = await customerWithConversation(client);
  const auth = Buffer.from(`${box.sandbox.accountSid}:${box.sandbox.authToken}`).toString("base64");
  const create = () =>
    fetch(`${box.sandbox.url}/v1/Conversations/${conversationSid}/Webhooks`, {
      method: "POST",
      headers: {
        authorization: `Basic ${auth}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "Target=webhook&Configuration.Url=https%3A%2F%2Fexample.com%2Fh&Configuration.Filters=onMessageAdded",
    });
  for (let i = 0; i < 5; i++) assert.equal((await create()).status, 201);
  const sixth = await create();
  assert.equal(sixth.status, 400);
  assert.equal((await sixth.json()).code, 50361);
});

// The handler under each framework: valid, missing, forged, and a valid signature over a changed body.
const PARAMS = {
  AccountSid: "AC00000000000000000000000000000000",
  EventType: "onMessageAdded",
  ConversationSid: "CH00000000000000000000000000000000",
  Index: "3",
  Body: "hi",
  Author: ADDRESS,
};

async function post(url, params, signature) {
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  if (signature !== undefined) headers["x-twilio-signature"] = signature;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: new URLSearchParams(params).toString(),
  });
  return response.status;
}

let frameworkRuns = 0;

async function checkFramework(makeServer) {
  const token = "0123456789abcdef0123456789abcdef";
  const client = new TwilioApiClient({
    accountSid: "AC00000000000000000000000000000000",
    authToken: token,
    baseUrl: box.sandbox.url,
    logger: false,
  });
  const seen = [];
  const handler = client.webhookHandler({ onMessageAdded: (event) => seen.push(event) }, { protocol: "http" });
  const origin = await makeServer(handler);
  const url = `${origin}/twilio/hooks`;
  // A message of its own each time: the same event twice is handed on once (see exactly-once.test.js).
  const params = { ...PARAMS, Index: String(++frameworkRuns) };
  const signature = signed(token, url, params);
  assert.equal(await post(url, params, signature), 200);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].index, frameworkRuns);
  assert.equal(await post(url, params), 400);
  assert.equal(await post(url, params, "bm90IGEgc2lnbmF0dXJl"), 403);
  assert.equal(await post(url, { ...params, Body: "changed" }, signature), 403);
  assert.equal(seen.length, 1);
}

test("webhookHandler under node:http: valid, missing, forged, changed body", async () => {
  await checkFramework((handler) => listen(http.createServer(handler)));
});

test("webhookHandler under Express, with and without a body parser", async () => {
  await checkFramework((handler) => {
    const app = express();
    app.post("/twilio/hooks", express.urlencoded({ extended: false }), handler);
    return listen(http.createServer(app));
  });
  await checkFramework((handler) => {
    const app = express();
    app.use("/twilio", express.Router().post("/hooks", handler));
    return listen(http.createServer(app));
  });
});

test("webhookHandler under Fastify, with @fastify/formbody and with a raw string body", async () => {
  for (const setup of [
    (app) => app.register(require("@fastify/formbody")),
    (app) =>
      app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (request, body, done) =>
        done(null, body),
      ),
  ]) {
    await checkFramework(async (handler) => {
      const app = fastify();
      await setup(app);
      app.post("/twilio/hooks", handler);
      await app.listen({ port: 0, host: "127.0.0.1" });
      test.after(() => app.close());
      return `http://127.0.0.1:${app.server.address().port}`;
    });
  }
});

test("webhookHandler answers 500 when a handler throws, and logs the event type, not the message", async () => {
  const client = box.client();
  const hooks = await hookServer(client, {
    onMessageAdded: () => {
      throw new Error("database down");
    },
  });
  const url = hooks.url;
  const params = { ...PARAMS, AccountSid: box.sandbox.accountSid };
  assert.equal(await post(url, params, signed(box.sandbox.authToken, url, params)), 500);
  const line = box.logger.entries.find((e) => e.level === "error");
  assert.match(line.message, /onMessageAdded failed: database down/);
  assert.doesNotMatch(JSON.stringify(box.logger.entries), /"hi"|1234567890/);
});

test("webhookHandler refuses a body over maxBodyBytes with 413, before checking anything", async () => {
  const client = box.client();
  const hooks = await hookServer(client, {}, { maxBodyBytes: 1024 });
  const status = await post(hooks.url, { ...PARAMS, Body: "x".repeat(2000) }, "sig");
  assert.equal(status, 413);
  assert.deepEqual(hooks.events, []);
});

test("webhooks configured with GET carry their parameters in the signed query string", async () => {
  const client = box.client();
  const added = [];
  const hooks = await hookServer(client, {
    onMessageAdded: (event) => {
      added.push(event);
    },
  });
  await client.configureWebhooks({
    postWebhookUrl: hooks.url,
    method: "GET",
    filters: ["onMessageAdded"],
  });
  await customerWithConversation(client);
  await reply("by GET");
  const event = await hooks.until(() => added[0], "onMessageAdded by GET");
  assert.equal(event.body, "by GET");
  // Logged by the sandbox once it has the answer, which may be after the handler has run.
  const attempt = await attemptFor("onMessageAdded");
  assert.equal(attempt.method, "GET");
  assert.equal(attempt.status, 200);
});

test("a signed event whose EventType names an Object.prototype property goes to onEvent, not to the prototype", async () => {
  const seen = [];
  const hooks = await signedHooks(box.sandbox, {
    onEvent: (event) => seen.push(event.eventType),
  });
  test.after(hooks.close);
  const names = ["constructor", "toString", "__proto__", "hasOwnProperty"];
  for (const eventType of names) assert.equal(await hooks.post({ ...PARAMS, EventType: eventType }), 200);
  assert.deepEqual(seen, names);
});

// Events of their own: each event is handed on once per process, so a test that counts them posts new ones.
let hostEvents = 1000;
const fresh = () => ({ ...PARAMS, Index: String(hostEvents++) });

/** A form POSTed with these extra headers; resolves the status. */
function postWith(origin, headers, params, signature) {
  const body = new URLSearchParams(params).toString();
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${origin}/twilio/hooks`,
      {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": signature,
          "content-length": Buffer.byteLength(body),
          ...headers,
        },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** A form POSTed to `origin` under another Host header than the address it goes to; resolves the status. */
function postAs(origin, host, params, signature) {
  return postWith(origin, { host }, params, signature);
}

test("a handler without url, host or allowedHosts says so once at start and takes requests for loopback names only", async () => {
  const client = box.client();
  const seen = [];
  const warnings = () => box.logger.entries.filter((e) => e.message.includes("TWILIO_WEBHOOK_URL"));
  const handler = client.webhookHandler({ onEvent: (event) => seen.push(event) }, { protocol: "http" });
  assert.equal(warnings().length, 1, "said at start, before any request");
  const origin = await listen(http.createServer(handler));
  const token = box.sandbox.authToken;
  // Signed by Twilio for another host: with the Host trusted, its signature would check out here.
  const params = fresh();
  const forged = signed(token, "http://hooks.other.example/twilio/hooks", params);
  assert.equal(await postAs(origin, "hooks.other.example", params, forged), 403);
  const local = new URL(origin).host;
  assert.equal(await postAs(origin, local, params, signed(token, `${origin}/twilio/hooks`, params)), 200);
  assert.equal(seen.length, 1);
  assert.equal(warnings().length, 1, "once");
  assert.ok(box.logger.entries.some((e) => e.message.includes('"hooks.other.example", which is not allowed')));
});

test("allowedHosts: a request for a host on the list is checked against it, one for any other refused", async () => {
  const client = box.client();
  const seen = [];
  const handler = client.webhookHandler(
    { onEvent: (event) => seen.push(event) },
    { protocol: "http", allowedHosts: ["hooks.example.com"] },
  );
  const origin = await listen(http.createServer(handler));
  const token = box.sandbox.authToken;
  const as = (host) => {
    const params = fresh();
    return postAs(origin, host, params, signed(token, `http://${host}/twilio/hooks`, params));
  };
  assert.equal(await as("hooks.example.com"), 200);
  assert.equal(await as("hooks.example.com:8443"), 200);
  assert.equal(await as("other.example.com"), 403);
  assert.equal(await as(new URL(origin).host), 403, "loopback too");
  assert.equal(seen.length, 2);
  assert.throws(() => client.webhookHandler({}, { allowedHosts: "hooks.example.com" }), /allowedHosts must be/);
});

test("TWILIO_WEBHOOK_URL pins the URL a signature is checked against, as the url option does", async () => {
  const client = box.client();
  const previous = process.env.TWILIO_WEBHOOK_URL;
  process.env.TWILIO_WEBHOOK_URL = "https://hooks.example.com/twilio/hooks";
  let handler;
  try {
    handler = client.webhookHandler({}, {});
  } finally {
    if (previous === undefined) delete process.env.TWILIO_WEBHOOK_URL;
    else process.env.TWILIO_WEBHOOK_URL = previous;
  }
  const origin = await listen(http.createServer(handler));
  const token = box.sandbox.authToken;
  const params = fresh();
  const good = signed(token, "https://hooks.example.com/twilio/hooks", params);
  const hostBased = signed(token, "http://anything.example/twilio/hooks", params);
  assert.equal(await postAs(origin, "anything.example", params, hostBased), 403);
  assert.equal(await postAs(origin, "anything.example", params, good), 200);
});

test("a refused GET webhook's warning names its URL without the query, which holds the customer's number and text", async () => {
  const client = box.client();
  const handler = client.webhookHandler({}, { url: "https://example.com/twilio/hooks" });
  const origin = await listen(http.createServer(handler));
  const query = new URLSearchParams({ ...PARAMS, Body: "my card is 4111111111111111", Author: ADDRESS });
  const response = await fetch(`${origin}/twilio/hooks?${query}`, { headers: { "x-twilio-signature": "forged" } });
  assert.equal(response.status, 403);
  const warning = box.logger.entries.filter((e) => e.level === "warn").at(-1).message;
  assert.match(warning, /https:\/\/example\.com\/twilio\/hooks\?… \(403\)/);
  assert.doesNotMatch(warning, /4111|card|1234567890/);
});

/** Sends `head` on a raw connection; resolves what came back once the server closed the connection. */
function rawExchange(origin, head) {
  const net = require("node:net");
  const { port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(head));
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

/** A handler with these options answers a raw request `head`; what came back once the connection closed. */
async function rawAnswer(options, head) {
  const handler = box.client().webhookHandler({}, { protocol: "http", ...options });
  const origin = await listen(http.createServer(handler));
  return rawExchange(
    origin,
    "POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" + head,
  );
}

// A connection left open would leave rawExchange waiting: the timeout turns that into a failure.
test(
  "a declared body over maxBodyBytes is answered 413 before it is read, and the connection closed",
  { timeout: 10_000 },
  async () => {
    const answer = await rawAnswer({ maxBodyBytes: 1024 }, "Content-Length: 10000000\r\n\r\nA=");
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /connection: close/i);
  },
);

test("a body slower than bodyTimeoutMs is answered 408 and the connection closed", { timeout: 10_000 }, async () => {
  // Ten bytes promised, one sent, the rest never.
  const answer = await rawAnswer({ bodyTimeoutMs: 50 }, "Content-Length: 10\r\n\r\nA");
  assert.match(answer, /^HTTP\/1\.1 408 /);
});

test("webhookHandler under Express with express.json() or express.urlencoded() mounted globally", async () => {
  for (const parser of [express.json(), express.urlencoded({ extended: false })])
    await checkFramework((handler) => {
      const app = express();
      app.use(parser);
      app.post("/twilio/hooks", handler);
      return listen(http.createServer(app));
    });
});

test("a refused webhook logs one warning naming the URL it was checked against and the likely fix", async () => {
  const client = box.client();
  const handler = client.webhookHandler({}, { url: "https://example.com/twilio/hooks" });
  const origin = await listen(http.createServer(handler));
  assert.equal(await post(`${origin}/twilio/hooks`, PARAMS, "forged"), 403);
  assert.equal(await post(`${origin}/twilio/hooks`, PARAMS), 400);
  const warnings = box.logger.entries.filter((e) => e.level === "warn").map((e) => e.message);
  assert.equal(warnings.length, 2, warnings.join("\n"));
  assert.match(warnings[0], /https:\/\/example\.com\/twilio\/hooks \(403\)/);
  assert.match(warnings[0], /`url`.*keep `protocol: 'https'`.*trustProxy/s);
  assert.match(warnings[1], /without X-Twilio-Signature \(400\)/);
});

test("a customer who writes first gets a conversation, as Address Configuration auto-creation makes it, and replies land there", async () => {
  const first = await box.sandbox.inbound({
    from: ADDRESS,
    to: SENDER,
    body: "Hi, is 3pm free?",
  });
  assert.equal(first.rejected, false);
  const state = await box.sandbox.state();
  assert.deepEqual(
    state.address_configurations.map((a) => [a.address, a.auto_creation]),
    [[SENDER, true]],
  );
  const client = box.client();
  const reply = await client.sendMessage(PHONE, "Yes, see you at 3pm.");
  assert.equal(reply.success, true, reply.error);
  const window = await client.getWhatsAppWindow(PHONE);
  assert.equal(window.open, true, "the customer's message opened the window");
  const { conversations } = await box.sandbox.state();
  assert.equal(conversations.length, 1);
  assert.deepEqual(
    conversations[0].messages.map((m) => m.body),
    ["Hi, is 3pm free?", "Yes, see you at 3pm."],
  );
  await assert.rejects(
    box.sandbox.inbound({
      from: ADDRESS,
      to: "whatsapp:+15550000000",
      body: "hi",
    }),
    /404/,
    "an address without a configuration auto-creates nothing",
  );
});

test("a handler named after no Twilio event is refused at construction, with the name meant", () => {
  const client = box.client();
  assert.throws(
    () => client.webhookHandler({ onMessageReceived: () => {} }, { url: "https://example.com/hooks" }),
    /no Twilio event is called onMessageReceived \(did you mean onMessageAdded\?\)/,
  );
  assert.throws(() => client.webhookHandler({ ondeliveryupdated: () => {} }, {}), /did you mean onDeliveryUpdated\?/);
  assert.doesNotThrow(() =>
    client.webhookHandler({ onMessageAdd: () => {}, onEvent: () => {} }, { url: "https://x.example/h" }),
  );
});

test("trustProxy: X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy make the URL Twilio signed", async () => {
  const client = box.client();
  const token = box.sandbox.authToken;
  const behind = { "x-forwarded-proto": "https", "x-forwarded-host": "hooks.example.com" };
  const params = fresh();
  const signature = signed(token, "https://hooks.example.com/twilio/hooks", params);
  const trusted = await listen(http.createServer(client.webhookHandler({}, { trustProxy: ["127.0.0.1"] })));
  assert.equal(await postWith(trusted, behind, params, signature), 200);
  const anyone = await listen(http.createServer(client.webhookHandler({}, { trustProxy: true })));
  assert.equal(await postWith(anyone, behind, fresh(), signature), 403, "signed for other parameters");
  const other = fresh();
  assert.equal(
    await postWith(anyone, behind, other, signed(token, "https://hooks.example.com/twilio/hooks", other)),
    200,
  );
  // Not from a trusted proxy: its forwarded headers are the caller's words, not read.
  const elsewhere = await listen(http.createServer(client.webhookHandler({}, { trustProxy: ["10.0.0.7"] })));
  const third = fresh();
  assert.equal(
    await postWith(elsewhere, behind, third, signed(token, "https://hooks.example.com/twilio/hooks", third)),
    403,
  );
  assert.throws(() => client.webhookHandler({}, { trustProxy: "yes" }), /trustProxy must be/);
});
