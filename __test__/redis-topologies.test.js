"use strict";

// Redis as fleets run it: a 3-master Redis Cluster, a Sentinel's master, and TLS with a private CA, each a real
// redis-server started here. The pacing and the claims work on every one: processes share Twilio's rate, and a
// keyed campaign started twice at once sends each customer once.

const test = require("node:test");
const { after } = require("node:test");
const assert = require("node:assert/strict");
const { useSandbox } = require("./helpers.js");
const { startWorker } = require("./fixtures/campaign.js");
const { startRedisCluster, startRedisSentinel, startRedisTls } = require("../scripts/redis-server.js");

const box = useSandbox();
// As in fleet.test.js: the jitter between the client's clock and the sandbox's may cost a 429 or two; with 8
// processes, 3 redis-servers and the sandbox on this machine's 2 cores, writes arrive bunched, and up to 1% of
// the campaign's writes is refused all the same (the same with one redis-server; processes that share no Redis are
// refused several times as often).
const JITTER_429S = 2;
const LOADED_JITTER_429S = 40;

const servers = [];
after(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});
async function started(server) {
  servers.push(server);
  return server;
}

/** `count` worker processes, each sending its plan, all starting on the same "go". */
async function run(count, plan) {
  const workers = await Promise.all(Array.from({ length: count }, (_, p) => startWorker(plan(p))));
  for (const worker of workers) worker.go();
  return Promise.all(workers.map((w) => w.done));
}

async function messagesPerConversation() {
  return (await box.sandbox.state()).conversations.map((c) => c.messages.length);
}

/** The same keyed campaign of 50 new customers started by 2 processes at once, through `env`'s Redis. */
async function keyedTwice(env, firstNumber) {
  const plan = {
    ...box.sandbox.env(),
    ...env,
    templateSid: box.sandbox.templateSid,
    mode: "bulk",
    count: 50,
    firstNumber,
  };
  const reports = await run(2, () => plan);
  assert.deepEqual(
    reports.map((r) => r.delivered),
    [50, 50],
  );
  assert.equal(reports[0].replayed + reports[1].replayed, 50);
  const counts = await messagesPerConversation();
  assert.equal(counts.length, 50);
  assert.deepEqual(new Set(counts), new Set([1]), "every customer exactly one message");
  assert.ok((await box.sandbox.limits()).refused_writes <= JITTER_429S, "the two shared Twilio's rate");
}

test("a campaign of 8 processes × 250 new customers paced through a Redis Cluster delivers 2,000 of 2,000", async () => {
  const cluster = await started(await startRedisCluster(3));
  const reports = await run(8, (p) => ({
    ...box.sandbox.env(),
    TWILIO_REDIS_URL: cluster.url,
    templateSid: box.sandbox.templateSid,
    mode: "all",
    count: 250,
    firstNumber: 8_000_000 + p * 250,
  }));
  assert.equal(
    reports.reduce((sum, r) => sum + r.delivered, 0),
    2000,
  );
  const { refused_writes: refused } = await box.sandbox.limits();
  assert.ok(refused <= LOADED_JITTER_429S, `the fleet kept to 30 a second (${refused} refused)`);
  // 2,000 conversations are past the system identity's 1,000: that warning is Twilio's limit, not Redis's.
  assert.deepEqual(
    reports.flatMap((r) => r.warnings).filter((warning) => warning.includes("Redis")),
    [],
    "Redis answered every process in time",
  );
});

test("keyed sends are claimed once through a Redis Cluster", async () => {
  const cluster = await started(await startRedisCluster(3));
  await keyedTwice({ TWILIO_REDIS_URL: cluster.url }, 8_100_000);
});

test("keyed sends are claimed once through the master a Sentinel names", async () => {
  const sentinel = await started(await startRedisSentinel());
  await keyedTwice({ TWILIO_REDIS_URL: sentinel.url }, 8_200_000);
});

test("keyed sends are claimed once through rediss://, its certificate checked against redisCaFile", async () => {
  const tls = await started(await startRedisTls());
  await keyedTwice({ TWILIO_REDIS_URL: tls.url, TWILIO_REDIS_CA_FILE: tls.caFile }, 8_300_000);
});

test("a redisUrl or redisCaFile the client cannot use is refused at construction, without the URL's password", () => {
  const options = { accountSid: box.sandbox.accountSid, authToken: box.sandbox.authToken, logger: false };
  const TwilioApiClient = require("..");
  for (const redisUrl of [
    "redis+sentinel://:hunter2@127.0.0.1/",
    "redis+sentinel://:hunter2@127.0.0.1:26379/",
    "redis://:hunter2@127.0.0.1:7000,memcached://127.0.0.1:7001",
    "http://:hunter2@127.0.0.1:6379",
  ]) {
    assert.throws(
      () => new TwilioApiClient({ ...options, redisUrl }),
      (error) => /^redisUrl must be/.test(error.message) && !error.message.includes("hunter2"),
      redisUrl.replace("hunter2", "…"),
    );
  }
  assert.throws(
    () => new TwilioApiClient({ ...options, redisUrl: "rediss://127.0.0.1:6380", redisCaFile: "/nonexistent/ca.pem" }),
    /redisCaFile '\/nonexistent\/ca.pem' cannot be read/,
  );
});
