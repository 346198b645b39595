"use strict";

// What a service sees of the client: a debug line per Twilio request, refused input at debug, diagnostics channels,
// OpenTelemetry spans, and running totals.

const test = require("node:test");
const assert = require("node:assert/strict");
const dc = require("node:diagnostics_channel");
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require("@opentelemetry/sdk-trace-base");
const { useSandbox, PHONE } = require("./helpers.js");
const { instrument } = require("../opentelemetry.js");

const box = useSandbox();

test("at logLevel debug, one line per Twilio request with method, route, status, attempt and duration, no number", async () => {
  const client = box.client({ logLevel: "debug" });
  await client.sendMessage(PHONE, "hello");
  const lines = box.logger.entries.filter((e) => e.level === "debug");
  assert.equal(lines.length, 3);
  assert.match(
    lines[2].message,
    /^\[twilio-api-client\] POST 127\.0\.0\.1:\d+\/v1\/Conversations\/\{ConversationSid\}\/Messages 201 \(attempt 1, [\d.]+ ms\)$/,
  );
  assert.doesNotMatch(JSON.stringify(box.logger.entries), /1234567890/);
});

test("at logLevel info, each conversation the client creates is logged once, with its SID and the number's last four digits", async () => {
  const client = box.client({ logLevel: "info" });
  await client.sendMessage(PHONE, "hello");
  await client.sendMessage(PHONE, "again");
  const [conversation] = (await box.sandbox.state()).conversations;
  assert.deepEqual(
    box.logger.entries.map((e) => [e.level, e.message]),
    [["info", `[twilio-api-client] Created conversation ${conversation.sid} for customer …7890.`]],
  );
  await box.client({ logLevel: "warn" }).sendMessage("+15550001111", "hello");
  assert.equal(box.logger.entries.length, 1, "below info, a creation is not logged");
});

test("TWILIO_LOG_LEVEL sets the level; without it nothing is logged per request", async () => {
  await box.client().sendMessage(PHONE, "hello");
  assert.deepEqual(box.logger.entries, []);
  const { withEnv } = require("./helpers.js");
  const client = withEnv({ TWILIO_LOG_LEVEL: "debug" }, () => box.client());
  await client.sendMessage(PHONE, "again");
  // Its own lookup, then the send.
  assert.equal(box.logger.entries.filter((e) => e.level === "debug").length, 2);
  assert.throws(
    () => box.client({ logLevel: "loud" }),
    /logLevel must be 'error', 'warn', 'info' or 'debug', not 'loud'/,
  );
});

test("refused input is logged at debug, not error; Twilio's refusals at error", async () => {
  const client = box.client();
  const refused = await client.sendMessage("not a number", "hello");
  assert.equal(refused.code, "INVALID_PHONE_NUMBER");
  assert.deepEqual(box.logger.entries, []);
  const debugging = box.client({ logLevel: "debug" });
  await debugging.sendMessage("not a number", "hello");
  assert.deepEqual(
    box.logger.entries.map((e) => e.level),
    ["debug"],
  );
  await box.sandbox.fault({ method: "POST", path: "/Messages$", status: 400, code: 21610, message: "Unsubscribed" });
  const refusedByTwilio = await client.sendMessage(PHONE, "hello");
  assert.equal(refusedByTwilio.code, 21610);
  assert.deepEqual(
    box.logger.entries.map((e) => e.level),
    ["debug", "error"],
  );
});

test("a TracingChannel per client call and a channel per Twilio request, for APM agents", async () => {
  const seen = [];
  const calls = dc.tracingChannel("twilio-api-client:call");
  const handlers = {
    start: (c) => seen.push(`start ${c.operation} ${c.to}`),
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (c) => seen.push(`asyncEnd ${c.operation} ${c.result.success}`),
    error: (c) => seen.push(`error ${c.operation}`),
  };
  const onRequest = (r) => seen.push(`${r.method} ${r.route} ${r.status} ${r.operation}`);
  calls.subscribe(handlers);
  dc.subscribe("twilio-api-client:request", onRequest);
  try {
    await box.client().sendMessage(PHONE, "hello");
  } finally {
    calls.unsubscribe(handlers);
    dc.unsubscribe("twilio-api-client:request", onRequest);
  }
  assert.deepEqual(seen, [
    "start sendMessage …7890",
    "GET /v1/Conversations/{ConversationSid} 404 sendMessage",
    "POST /v1/ConversationWithParticipants 201 sendMessage",
    "POST /v1/Conversations/{ConversationSid}/Messages 201 sendMessage",
    "asyncEnd sendMessage true",
  ]);
});

test("the tracing channel carries the result the caller gets: a check's verdict, null, a rejection's error", async () => {
  const seen = [];
  const calls = dc.tracingChannel("twilio-api-client:call");
  const handlers = {
    start: () => {},
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (c) => seen.push([c.operation, c.error ? `rejected ${c.error.code}` : c.result]),
    error: () => {},
  };
  calls.subscribe(handlers);
  const client = box.client();
  try {
    await client.checkMessage(PHONE, "hello");
    await client.getConversation("+15550009999");
    await assert.rejects(client.findOrCreateConversation("12"), TypeError);
  } finally {
    calls.unsubscribe(handlers);
  }
  assert.deepEqual(seen, [
    ["checkMessage", { success: true, wouldSend: true }],
    ["getConversation", null],
    ["findOrCreateConversation", "rejected INVALID_PHONE_NUMBER"],
  ]);
});

test("a tracing subscriber sees an outline of each call: no message text, attributes or full number", async () => {
  const contexts = [];
  const calls = dc.tracingChannel("twilio-api-client:call");
  const keep = (c) => contexts.push(JSON.stringify({ ...c, error: c.error?.message, details: c.error?.details }));
  const handlers = { start: () => {}, end: () => {}, asyncStart: () => {}, asyncEnd: keep, error: keep };
  calls.subscribe(handlers);
  const client = box.client();
  let sent;
  try {
    sent = await client.sendMessage(PHONE, "my card is 4111 1111 1111 1111");
    await client.getMessages(PHONE);
    await client.getConversationMetadata(PHONE);
    await client.findOrCreateConversation(PHONE);
  } finally {
    calls.unsubscribe(handlers);
  }
  assert.equal(sent.success, true, "the caller still gets the whole result");
  assert.equal(typeof sent.data, "object");
  assert.equal(contexts.length, 4);
  const seen = contexts.join("\n");
  assert.doesNotMatch(seen, /4111|card|1234567890/);
  assert.match(seen, /"success":true/);
  assert.match(seen, /"messageSid":"IM/);
});

test("OpenTelemetry: a span per call with a client span per Twilio request under it (in-memory exporter)", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const stop = instrument({ tracer: provider.getTracer("test") });
  try {
    await box.client().sendMessage(PHONE, "hello");
    await box.client().sendMessage("+1555", "too short");
  } finally {
    stop();
  }
  const spans = exporter.getFinishedSpans();
  const call = spans.find((s) => s.name === "twilio sendMessage");
  const children = spans.filter((s) => s.parentSpanContext?.spanId === call.spanContext().spanId);
  assert.deepEqual(
    children.map((s) => [s.name, s.attributes["url.template"], s.attributes["http.response.status_code"]]),
    [
      ["GET /v1/Conversations/{ConversationSid}", "/v1/Conversations/{ConversationSid}", 404],
      ["POST /v1/ConversationWithParticipants", "/v1/ConversationWithParticipants", 201],
      ["POST /v1/Conversations/{ConversationSid}/Messages", "/v1/Conversations/{ConversationSid}/Messages", 201],
    ],
  );
  const refused = spans.filter((s) => s.name === "twilio sendMessage").at(-1);
  assert.equal(refused.status.code, 2, "an error status");
  assert.equal(refused.attributes["twilio.error.code"], "INVALID_PHONE_NUMBER");
  assert.doesNotMatch(JSON.stringify(spans.map((s) => s.attributes)), /1234567890|hello/);
});

test("stats(): sends, failures by code, requests, retries, 429s, cache hits and misses, queue and pacing waits", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "one");
  await client.sendMessage(PHONE, "two");
  await client.sendMessage("bad", "three");
  const stats = client.stats();
  assert.deepEqual(
    { ...stats, pacingWaitMs: Object.keys(stats.pacingWaitMs) },
    {
      sends: 2,
      replays: 0,
      failures: { INVALID_PHONE_NUMBER: 1 },
      requests: 4,
      retries: 0,
      rateLimited: 0,
      cacheHits: 1,
      cacheMisses: 1,
      queued: 0,
      pacingWaitMs: ["p50", "p99"],
    },
  );
});

/** The lines a logger wrote to a stream, parsed. */
function captured() {
  const { Writable } = require("node:stream");
  const lines = [];
  const stream = new Writable({
    write(chunk, _, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

test("pino, winston and console take the client's lines as they are: the context arrives as fields", async () => {
  const pinoOut = captured();
  const pino = require("pino")({ level: "debug" }, pinoOut.stream);
  const winston = require("winston");
  const winstonOut = captured();
  const wlogger = winston.createLogger({
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream: winstonOut.stream })],
  });
  for (const logger of [pino, wlogger]) {
    await box.sandbox.fault({ method: "POST", path: "/Messages$", status: 400, code: 21610, message: "Unsubscribed" });
    const result = await box.client({ logger }).sendMessage(PHONE, "hello");
    assert.equal(result.code, 21610);
  }
  await new Promise((resolve) => setImmediate(resolve));
  for (const [name, lines, messageKey] of [
    ["pino", pinoOut.lines, "msg"],
    ["winston", winstonOut.lines, "message"],
  ]) {
    const line = lines.find((l) => String(l[messageKey]).includes("sendMessage failed"));
    assert.ok(line, `${name}: ${JSON.stringify(lines)}`);
    assert.equal(line.operation, "sendMessage", name);
    assert.equal(line.to, "…7890", name);
    assert.equal(line.code, 21610, name);
    assert.equal(line.status, 400, name);
  }
});

test("registerMetrics: the client's totals as prom-client counters (_total, monotonic) and gauges, replays apart", async () => {
  const prom = require("prom-client");
  const { registerMetrics } = require("../prometheus.js");
  const registry = new prom.Registry();
  const client = box.client();
  const { unregister } = registerMetrics(client, { registry, labels: { client: "billing" } });
  assert.equal((await client.sendMessage(PHONE, "hello", null, { idempotencyKey: "metrics-1" })).success, true);
  assert.equal((await client.sendMessage(PHONE, "hello", null, { idempotencyKey: "metrics-1" })).replayed, true);
  await client.sendMessage("not a number", "hello");
  const first = await registry.metrics();
  assert.match(first, /^# TYPE twilio_sends_total counter$/m);
  assert.match(first, /^twilio_sends_total\{client="billing"\} 1$/m);
  assert.match(first, /^twilio_replays_total\{client="billing"\} 1$/m);
  assert.match(first, /^twilio_failures_total\{client="billing",code="INVALID_PHONE_NUMBER"\} 1$/m);
  assert.match(first, /^twilio_queued\{client="billing"\} 0$/m);
  assert.match(first, /^twilio_pacing_wait_seconds\{client="billing",quantile="0.99"\} /m);
  assert.equal((await client.sendMessage(PHONE, "again")).success, true);
  assert.match(await registry.metrics(), /^twilio_sends_total\{client="billing"\} 2$/m, "read again at each scrape");
  unregister();
  assert.equal(await registry.metrics(), "\n");
});
