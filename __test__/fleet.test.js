"use strict";

// A fleet: several OS processes sending for one account share Twilio's rate through a real redis-server (started
// here, on a free port, persistence off); without Redis they still deliver; Redis going away fails no send.

const test = require("node:test");
const { before, after } = require("node:test");
const assert = require("node:assert/strict");
const { useSandbox } = require("./helpers.js");
const { startWorker } = require("./fixtures/campaign.js");
const { execFileSync } = require("node:child_process");
const { startRedis } = require("../scripts/redis-server.js");

const box = useSandbox();
// The pacer's window is 30 ms longer than Twilio's second, for the jitter between the client's clock and the
// sandbox's; on a loaded machine a write can arrive later than that, and its 429 is repeated. Writes past the
// rate without pacing are counted in tens (four processes' 100 creations in Twilio's first second).
const JITTER_429S = 2;

let redis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

const customer = (i) => `+1555${String(4_000_000 + i).padStart(7, "0")}`;

/** `count` processes, each sending to `each` new customers at once, all starting on the same "go". */
async function fleet(count, each, env = {}) {
  const workers = await Promise.all(
    Array.from({ length: count }, (_, p) =>
      startWorker({
        ...box.sandbox.env(),
        ...env,
        templateSid: box.sandbox.templateSid,
        mode: "all",
        count: each,
        firstNumber: 4_000_000 + p * each,
      }),
    ),
  );
  for (const worker of workers) worker.go();
  return Promise.all(workers.map((w) => w.done));
}

test("processes sharing Redis share Twilio's creation rate: every message delivered, none refused", async () => {
  const reports = await fleet(4, 25, { TWILIO_REDIS_URL: redis.url });
  assert.deepEqual(
    reports.map((r) => [r.delivered, r.failed]),
    [
      [25, 0],
      [25, 0],
      [25, 0],
      [25, 0],
    ],
  );
  const refused = (await box.sandbox.limits()).refused_writes;
  const warnings = reports.flatMap((r) => r.warnings);
  assert.ok(refused <= JITTER_429S, `the fleet went past 30 a second: ${refused} writes refused; ${warnings}`);
});

test("processes without Redis still deliver every message, slowing down on Twilio's 429s", async () => {
  const reports = await fleet(4, 25);
  assert.deepEqual(
    reports.map((r) => r.delivered),
    [25, 25, 25, 25],
  );
  const state = await box.sandbox.state();
  assert.equal(state.conversations.length, 100);
  assert.ok(state.conversations.every((c) => c.messages.length === 1));
});

test("Redis going away mid-campaign fails no send: one warning, local pacing, shared again when it is back", async () => {
  const client = box.client({ redisUrl: redis.url });
  const messages = Array.from({ length: 75 }, (_, i) => ({
    to: customer(200 + i),
    contentSid: box.sandbox.templateSid,
    contentVariables: { 1: "12/1", 2: "3pm" },
  }));
  let restarted = null;
  const outcome = await client.sendBulk(messages, {
    concurrency: 10,
    onResult: (_, index) => {
      if (index === 20) restarted = redis.stop().then(() => redis.start());
    },
  });
  await restarted;
  assert.equal(outcome.delivered, 75);
  const warnings = box.logger.entries.filter((e) => e.level === "warn").map((e) => e.message);
  assert.equal(warnings.filter((w) => w.includes("did not answer")).length, 1, warnings.join("\n"));
  // The restarted server is asked again once the process has paced alone for a while: writes go on until it is.
  const back = () => box.logger.entries.filter((e) => e.message.includes("shared with the fleet again"));
  for (let i = 0; i < 300 && back().length === 0; i += 1)
    assert.equal((await client.sendMessage(customer(200), `after ${i}`)).success, true);
  assert.equal(back().length, 1, "switched back once Redis answered");
  assert.ok(
    [...warnings, back()[0].message].every((w) => w.includes(`127.0.0.1:${redis.port}`) && !w.includes("redis://")),
    "warnings name the host and port, not the URL",
  );
});

test("at logLevel info, a process says once that Redis answers and the rate is shared", async () => {
  const client = box.client({ redisUrl: redis.url, logLevel: "info" });
  for (const i of [300, 301]) assert.equal((await client.sendMessage(customer(i), "hello")).success, true);
  const infos = box.logger.entries.filter((e) => e.level === "info").map((e) => e.message);
  assert.deepEqual(
    infos.filter((m) => m.includes("Redis")),
    [
      `[twilio-api-client] Redis at 127.0.0.1:${redis.port} answers: Twilio's rate is shared with every process that paces through it.`,
    ],
  );
  assert.equal(infos.filter((m) => m.includes("Created conversation")).length, 2);
});

test("a Redis that hangs holds no send up: the process paces alone after 250 ms", async () => {
  const client = box.client({ redisUrl: redis.url });
  assert.equal((await client.sendMessage(customer(400), "connects")).success, true);
  redis.freeze();
  try {
    const outcome = await client.sendBulk(
      Array.from({ length: 40 }, (_, i) => ({
        to: customer(401 + i),
        text: "hi",
      })),
    );
    assert.equal(outcome.delivered, 40);
  } finally {
    redis.thaw();
  }
  const warnings = box.logger.entries.filter((e) => e.message.includes("did not answer"));
  assert.equal(warnings.length, 1);
  assert.ok((await box.sandbox.limits()).refused_writes <= JITTER_429S, "paced alone, still within Twilio's rate");
});

test("Twilio's refusal of the system identity seen by one process holds for the fleet", async () => {
  await box.sandbox.limits({ conversations_per_identity: 2 });
  const first = box.client({ redisUrl: redis.url });
  for (let i = 0; i < 3; i += 1) assert.equal((await first.sendMessage(customer(300 + i), "hi")).success, true);
  await box.sandbox.clearRequests();
  const other = box.client({ redisUrl: redis.url });
  assert.equal((await other.sendMessage(customer(310), "hi")).success, true);
  const creations = (await box.sandbox.requests()).filter((r) => r.path === "/v1/ConversationWithParticipants");
  assert.equal(creations.length, 1, "made without the identity at once, no refused attempt first");
});

/** A command to the test's Redis, as another tenant of it could send. */
function cli(...args) {
  return execFileSync("redis-cli", ["-p", String(redis.port), ...args])
    .toString()
    .trim();
}

const keysLike = (pattern) => cli("--scan", "--pattern", pattern).split("\n").filter(Boolean);

test("a hostile Redis stops no send: starts no client writes and a switch without expiry are repaired, one warning", async () => {
  const client = box.client({ redisUrl: redis.url });
  assert.equal((await client.sendMessage(customer(500), "hello")).success, true);
  const keys = keysLike(`twilio-pacing:${box.sandbox.accountSid}:*`);
  const service = keys.find((key) => key.endsWith(":service"));
  const conversation = keys.find((key) => key.includes(":conversation:"));
  assert.ok(service && conversation, keys.join(", "));
  // Ten years ahead, renewed by nothing: before, every send to a new customer was QUEUE_FULL until the key expired.
  const decade = String(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  cli("DEL", service);
  cli("RPUSH", service, ...Array(40).fill(decade), "not-a-number");
  cli("SET", conversation, "a value of another type");
  const switchKey = service.replace(/:service$/, ":system-full");
  cli("SET", switchKey, "1");
  for (let i = 1; i <= 5; i += 1) {
    const sent = await client.sendMessage(customer(500 + i), "hello");
    assert.equal(sent.success, true, sent.error);
  }
  const again = await client.sendMessage(customer(500), "again");
  assert.equal(again.success, true, again.error);
  assert.ok(!cli("LRANGE", service, "0", "-1").includes(decade), "the foreign starts are gone");
  const ttl = Number(cli("PTTL", switchKey));
  assert.ok(ttl > 0 && ttl <= 600_000, `the switch expires (PTTL ${ttl})`);
  const warnings = box.logger.entries.filter((e) => e.message.includes("compromised process"));
  assert.equal(warnings.length, 1, "one warning");
  assert.match(warnings[0].message, /redisKeyPrefix/);
});

test("redisKeyPrefix puts every key the client writes in Redis under the deployment's prefix", async () => {
  const client = box.client({ redisUrl: redis.url, redisKeyPrefix: "tenant-a:" });
  const keyed = await client.sendMessage(customer(520), "hello", null, { idempotencyKey: "prefix-520" });
  assert.equal(keyed.success, true, keyed.error);
  const mine = keysLike("tenant-a:*");
  assert.ok(
    mine.some((key) => key.startsWith(`tenant-a:twilio-pacing:${box.sandbox.accountSid}:`)),
    mine.join(", "),
  );
  assert.ok(
    mine.some((key) => key.startsWith(`tenant-a:twilio-claims:${box.sandbox.accountSid}:`)),
    mine.join(", "),
  );
  assert.throws(() => box.client({ redisUrl: redis.url, redisKeyPrefix: "two words" }), /redisKeyPrefix must be/);
});

test("what a Redis answers reaches a log as one bounded line: no forged line, no 100 KB warning", async () => {
  const net = require("node:net");
  // Not a Redis: whatever it is asked, it answers an error of 100 KB holding a line break and a forged log line.
  const forged = `ERR refused\n[twilio-api-client] Sent to +14155550142: all is well ${"x".repeat(100_000)}`;
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    // One error per command: each starts with an array header (`*3\r\n`), pipelined ones arrive together.
    socket.on("data", (data) => {
      for (const _ of data.toString("latin1").matchAll(/(?:^|\r\n)\*\d+\r\n/g)) socket.write(`-${forged}\r\n`);
    });
    socket.on("error", () => {});
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  // Its connections end with the test: an open one would hold the event loop.
  test.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const client = box.client({ redisUrl: `redis://127.0.0.1:${server.address().port}` });
  for (let i = 0; i < 3; i += 1) {
    const sent = await client.sendMessage(customer(530 + i), "hello");
    assert.equal(sent.success, true, sent.error);
  }
  const lines = box.logger.entries.filter((e) => e.message.includes("refused"));
  assert.ok(lines.length >= 1);
  for (const { message } of lines) {
    assert.doesNotMatch(message, /\n|\r/, "one line");
    assert.ok(message.length < 1000, `${message.length} characters`);
    assert.doesNotMatch(message, /4155550142/);
  }
});

test("the guide's Redis user for the client may touch only its keys, and the client works with it", async () => {
  const guide = require("node:fs").readFileSync(require("node:path").join(__dirname, "..", "docs", "GUIDE.md"), "utf8");
  const acl = guide.split("\n").find((line) => line.trim().startsWith("ACL SETUSER twilio-api-client"));
  assert.ok(acl, "the guide gives the ACL");
  const password = "a-password-of-its-own";
  const words = acl.trim().replace(">CHANGE-ME", `>${password}`).split(/\s+/);
  assert.equal(cli(...words), "OK");
  const user = (...args) =>
    execFileSync("redis-cli", ["-p", String(redis.port), "--user", "twilio-api-client", "--pass", password, ...args], {
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  assert.match(user("GET", "someone-elses-key"), /NOPERM/);
  const client = box.client({ redisUrl: `redis://twilio-api-client:${password}@127.0.0.1:${redis.port}` });
  assert.equal((await client.sendMessage(customer(540), "hello")).success, true);
  const keyed = await client.sendMessage(customer(540), "once", null, { idempotencyKey: "acl-540" });
  const again = await client.sendMessage(customer(540), "once", null, { idempotencyKey: "acl-540" });
  assert.equal(keyed.success, true, keyed.error);
  assert.equal(again.replayed, true);
  assert.deepEqual(
    box.logger.entries.filter((e) => e.level !== "info").map((e) => e.message),
    [],
    "no Redis refusal",
  );
});

/**
 * A Redis `ms` away: a TCP proxy to the test's Redis that holds each reply that long, counting the reservations of
 * the service's creation lane asked through it.
 */
async function distantRedis(ms) {
  const net = require("node:net");
  const seen = { reservations: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(redis.port, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("data", (data) => {
      // A reservation names the lane's key, then the rate; a start moved or given back, then a time in ms.
      seen.reservations += data.toString("latin1").match(/:service\r\n\$[1-9]\r\n/g)?.length ?? 0;
      upstream.write(data);
    });
    upstream.on("data", (data) => setTimeout(() => client.write(data), ms));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${server.address().port}`,
    seen,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

test("a Redis 50 ms away is asked for several starts at once, and no warning says it slows sends", async () => {
  const distant = await distantRedis(50);
  try {
    const client = box.client({ redisUrl: distant.url });
    const outcome = await client.sendBulk(
      Array.from({ length: 60 }, (_, i) => ({ to: customer(600 + i), text: "hi" })),
    );
    assert.equal(outcome.delivered, 60);
    // One start a round trip would be 60 reservations, and 20 creations a second at most; batches of five (and a
    // script sent again when Redis does not know it yet) make about 20, more on a loaded machine.
    assert.ok(distant.seen.reservations <= 40, `${distant.seen.reservations} reservations for 60 creations`);
    assert.deepEqual(
      box.logger.entries.filter((e) => e.level === "warn").map((e) => e.message),
      [],
    );
    // A start is a time on Redis's clock, met once its answer is in: answers that vary by tens of ms (this proxy's
    // timers on a loaded machine) move the starts by as much, and a few more writes arrive early and are repeated.
    const { refused_writes: refused } = await box.sandbox.limits();
    assert.ok(refused <= 5, `${refused} refused`);
    await client.close();
  } finally {
    distant.close();
  }
});

test("a redisUrl that is not a Redis URL fails construction without echoing it", () => {
  assert.throws(
    () => box.client({ redisUrl: "http://user:s3cret@host" }),
    (error) => /redisUrl/.test(error.message) && !error.message.includes("s3cret"),
  );
});
