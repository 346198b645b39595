"use strict";

// npm run soak: 10,000 sends over 1,000 numbers at concurrency 256 against the sandbox, with 1% of requests
// answered 429 and 0.5% of writes losing their response after taking effect. Counts every message at the
// sandbox: each must be there exactly once. Exits non-zero otherwise.

const TwilioApiClient = require("..");
const { startSandboxProcess } = require("../sandbox.js");

const SENDS = Number(process.env.SOAK_SENDS ?? 10_000);
const NUMBERS = Number(process.env.SOAK_NUMBERS ?? 1_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 256);

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main() {
  let unhandled = 0;
  process.on("unhandledRejection", () => unhandled++);
  const sandbox = await startSandboxProcess();
  await sandbox.fault({ path: ".", status: 429, probability: 0.01 });
  await sandbox.fault({
    method: "POST",
    path: ".",
    drop: "after",
    probability: 0.005,
  });
  const client = new TwilioApiClient({
    accountSid: sandbox.accountSid,
    authToken: sandbox.authToken,
    baseUrl: sandbox.url,
    logger: false,
  });
  const rssBefore = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  let next = 0;
  const failures = [];
  async function worker() {
    while (next < SENDS) {
      const i = next++;
      const phone = `+1555${String(1_000_000 + (i % NUMBERS)).slice(1)}`;
      const result = await client.sendMessage(phone, `soak-${i}`);
      if (!result.success) failures.push(`${i}: ${result.code} ${result.error}`);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  global.gc?.();
  const rssAfter = process.memoryUsage().rss;

  const state = await sandbox.state();
  const faults = (await sandbox.control("GET", "/faults")).faults;
  const requests = await sandbox.requests();
  await sandbox.stop();
  const seen = new Map();
  for (const conversation of state.conversations) {
    for (const message of conversation.messages) seen.set(message.body, (seen.get(message.body) ?? 0) + 1);
  }
  let delivered = 0;
  let duplicates = 0;
  for (let i = 0; i < SENDS; i++) {
    const count = seen.get(`soak-${i}`) ?? 0;
    if (count >= 1) delivered++;
    if (count > 1) duplicates += count - 1;
  }
  const report = {
    sends: SENDS,
    numbers: NUMBERS,
    concurrency: CONCURRENCY,
    seconds: Number(seconds.toFixed(2)),
    sendsPerSecond: Math.round(SENDS / seconds),
    delivered,
    duplicates,
    failedResults: failures.length,
    unhandledRejections: unhandled,
    conversations: state.conversations.length,
    twilioRequests: requests.length,
    injected429: faults[0].fired,
    injectedLostResponses: faults[1].fired,
    rssBefore: mib(rssBefore),
    rssAfter: mib(rssAfter),
  };
  console.log(JSON.stringify(report, null, 2));
  for (const failure of failures.slice(0, 10)) console.error(failure);
  const ok = delivered === SENDS && duplicates === 0 && unhandled === 0 && failures.length === 0;
  console.log(ok ? "soak: every message delivered exactly once" : "soak: FAILED");
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
