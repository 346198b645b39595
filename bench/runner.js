"use strict";

// One measured client in its own process, so that process.cpuUsage() (all threads) and the peak RSS are the
// client's alone. Prints one JSON line.

const fs = require("node:fs");
const { performance } = require("node:perf_hooks");
const TwilioApiClient = require("..");
const { TwilioNodePeer } = require("./peer.js");
const { UndiciPeer } = require("./undici-peer.js");

const config = JSON.parse(process.argv[2]);
const { sandbox } = config;

function makeClient() {
  const options = {
    accountSid: sandbox.accountSid,
    authToken: sandbox.authToken,
    baseUrl: sandbox.url,
  };
  switch (config.client) {
    case "native":
      // The sandbox's rate limit is off for the benchmark (see run.js): so is the client's pacing.
      return new TwilioApiClient({
        ...options,
        logger: false,
        writesPerSecond: 0,
      });
    case "undici":
      return new UndiciPeer(options);
    default:
      return new TwilioNodePeer(options);
  }
}

const phone = (prefix, i) => `+1${prefix}${String(1_000_000 + i).slice(1)}`;

async function control(method, route) {
  const response = await fetch(`${sandbox.url}/__sandbox${route}`, { method });
  return response.json();
}

async function pool(count, concurrency, task) {
  let next = 0;
  const latencies = [];
  let failures = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const started = process.hrtime.bigint();
      const ok = await task(i);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (!ok) failures++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { latencies, failures };
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

async function main() {
  const client = makeClient();
  const { scenario, concurrency, numbers, sends, prefix } = config;
  const send = (i) => client.sendMessage(phone(prefix, i % numbers), `bench ${i}`).then((r) => r.success);
  if (config.warm) await pool(numbers, concurrency, send);
  // One call outside the measured numbers starts each client's runtime and connection pool before the baseline.
  await client.getConversation(phone(prefix, 999_999));
  // The harness's first fetch loads Node's own copy of undici, and compiling it goes on after the call returns
  // (50–70 ms of CPU, much of it on V8's threads): it is made here, or every client's measured phase pays it.
  await control("DELETE", "/requests");
  global.gc?.();
  // Steady state: the clients' JavaScript compiled and their heaps grown again after that collection.
  if (config.warmup) await pool(config.warmup, concurrency, send);
  await control("DELETE", "/requests");
  const rssBefore = process.memoryUsage().rss;
  const threadsBefore = threadTicks();
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const started = process.hrtime.bigint();
  const task =
    scenario === "cache-memory" ? (i) => client.getConversation(phone(prefix, i)).then((sid) => Boolean(sid)) : send;
  const { latencies, failures } = await pool(sends, concurrency, task);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const threads = threadMicros(threadsBefore, threadTicks(), sends);
  // How long the event loop was busy (not idle in the poll phase): what the client takes from the application.
  const elu = performance.eventLoopUtilization(eluBefore);
  global.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const rssAfter = process.memoryUsage().rss;
  const calls = (await control("GET", "/requests")).requests.length;
  latencies.sort((a, b) => a - b);
  const result = {
    client: config.client,
    scenario,
    operations: sends,
    failures,
    seconds,
    perSecond: sends / seconds,
    cpuMicrosPerOp: (cpu.user + cpu.system) / sends,
    loopMicrosPerOp: (elu.active * 1000) / sends,
    callsPerOp: calls / sends,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    rssGrowthMiB: (rssAfter - rssBefore) / 1024 / 1024,
    ...threads,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

/** Linux: each thread's CPU so far, in clock ticks (1/100 s), by thread id, with its name; null elsewhere. */
function threadTicks() {
  let ids;
  try {
    ids = fs.readdirSync("/proc/self/task");
  } catch {
    return null;
  }
  const ticks = new Map();
  for (const id of ids) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${id}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks.set(id, { name, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ticks;
}

/** CPU µs per operation on the event loop's thread, on the Rust runtime's threads, and on all others (V8's
 * garbage collection and compiler, libuv's pool). A thread that ended during the phase is not counted. */
function threadMicros(before, after, operations) {
  const micros = { eventLoop: NaN, runtime: NaN, other: NaN };
  if (before && after) {
    Object.assign(micros, { eventLoop: 0, runtime: 0, other: 0 });
    for (const [id, { name, ticks }] of after) {
      const spent = ((ticks - (before.get(id)?.ticks ?? 0)) * 10_000) / operations;
      const group =
        id === String(process.pid)
          ? "eventLoop"
          : name === "tokio-rt-worker" || name === "twilio-io"
            ? "runtime"
            : "other";
      micros[group] += spent;
    }
  }
  return {
    eventLoopThreadMicrosPerOp: micros.eventLoop,
    runtimeThreadsMicrosPerOp: micros.runtime,
    otherThreadsMicrosPerOp: micros.other,
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
