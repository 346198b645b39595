"use strict";

// What exactly-once costs (run by bench/run.js, or alone): a keyed send's claim, in the process and in a Redis on
// loopback, and a webhook event's de-duplication, each against the same work without it. The sandbox runs in its
// own process with no limits; sends go one at a time to conversations already cached, so that each figure is one
// send's own time. Prints one JSON line.

const http = require("node:http");
const twilio = require("twilio");
const TwilioApiClient = require("..");
const { startSandboxProcess } = require("../sandbox.js");
const { startRedis } = require("../scripts/redis-server.js");

const QUICK = process.argv.includes("--quick");
const SENDS = QUICK ? 300 : 2_000;
const EVENTS = QUICK ? 500 : 5_000;
const TOKEN = "0123456789abcdef0123456789abcdef";
// Each ends with (200 + SENDS) / CONVERSATIONS messages: one page of the newest 100 holds them all.
const CONVERSATIONS = 100;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Each of `count` calls of `one(i)` after the others: the median wall time and the mean CPU, in µs. */
async function timed(count, one) {
  const walls = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    const started = process.hrtime.bigint();
    await one(i);
    walls.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  const used = process.cpuUsage(cpu);
  return { wallMicros: median(walls), cpuMicros: (used.user + used.system) / count };
}

async function sends(sandbox, redisUrl) {
  const options = {
    accountSid: sandbox.accountSid,
    authToken: sandbox.authToken,
    baseUrl: sandbox.url,
    writesPerSecond: 0,
    logger: false,
  };
  let first = 0;
  const run = async (name, client, key) => {
    // Conversations of its own for each run, all growing alike: a new key is looked for through the whole history.
    const phones = Array.from({ length: CONVERSATIONS }, (_, i) => `+1555${String(first + i).padStart(7, "0")}`);
    first += CONVERSATIONS;
    for (const phone of phones) await client.findOrCreateConversation(phone);
    const to = (i) => phones[i % CONVERSATIONS];
    // Warm-up: the connection pool, the JavaScript, Redis's scripts loaded.
    for (let i = 0; i < 200; i += 1) await client.sendMessage(to(i), "warm-up", null, key(`w${i}`));
    const before = client.stats().requests;
    const result = await timed(SENDS, (i) => client.sendMessage(to(i), "bench", null, key(`${name}${i}`)));
    return { name, ...result, requestsPerSend: (client.stats().requests - before) / SENDS };
  };
  const none = () => ({});
  const keyed = (k) => ({ idempotencyKey: `${k}-${process.pid}` });
  return [
    await run("unkeyed", new TwilioApiClient(options), none),
    await run("keyed", new TwilioApiClient(options), keyed),
    await run("keyed, Redis", new TwilioApiClient({ ...options, redisUrl }), keyed),
  ];
}

async function webhooks(redisUrl) {
  const run = async (name, options, handlers) => {
    const client = new TwilioApiClient({
      accountSid: `AC${"0".repeat(32)}`,
      authToken: TOKEN,
      logger: false,
      ...options,
    });
    const server = http.createServer(client.webhookHandler(handlers, { protocol: "http" }));
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${server.address().port}/hooks`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (i) => {
      const params = {
        AccountSid: `AC${"0".repeat(32)}`,
        EventType: "onMessageAdded",
        ConversationSid: `CH${"0".repeat(32)}`,
        MessageSid: `IM${String(i).padStart(32, "0")}`,
        Body: "hi",
        // Events of their own in each run: a process's claims outlive its clients.
        Index: `${name.length}${i}`,
      };
      const body = new URLSearchParams(params).toString();
      return new Promise((resolve, reject) => {
        const request = http.request(url, {
          method: "POST",
          agent,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": twilio.getExpectedTwilioSignature(TOKEN, url, params),
          },
        });
        request.on("response", (response) => response.resume().on("end", resolve));
        request.on("error", reject);
        request.end(body);
      });
    };
    for (let i = 0; i < 200; i += 1) await post(EVENTS + i);
    const result = { name, ...(await timed(EVENTS, post)) };
    server.close();
    agent.destroy();
    return result;
  };
  return [
    // No handler for the event: signature checked and event typed, nothing claimed.
    await run("no handler", {}, { onConversationAdded() {} }),
    await run("handled once", {}, { onMessageAdded() {} }),
    await run("handled once, Redis", { redisUrl }, { onMessageAdded() {} }),
  ];
}

async function main() {
  const sandbox = await startSandboxProcess({ noLimits: true });
  const redis = await startRedis();
  try {
    const result = { sends: await sends(sandbox, redis.url), webhooks: await webhooks(redis.url) };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await redis.stop();
    await sandbox.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
