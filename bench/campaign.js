"use strict";

// npm run bench:campaign: campaigns of new customers against the sandbox at Twilio's limits (its defaults: 30
// creations a second per service, 30 writes a second per conversation, 1,000 conversations per identity), from
// one process or several, with and without Redis, each process a client with default options. Also the memory
// of 100,000 queued sends, and a campaign killed half-way (SIGKILL) and run again with the same idempotency keys.
// Writes bench/results/campaign.json, campaign.md and campaign.svg. A benchmark, never a test: nothing is asserted.

const fs = require("node:fs");
const path = require("node:path");
const { startSandboxProcess } = require("../sandbox.js");
const { startRedis } = require("../scripts/redis-server.js");
const { startWorker } = require("../__test__/fixtures/campaign.js");

const RESULTS = path.join(__dirname, "results");
const TWILIO_RATE = 30;
const QUICK = process.argv.includes("--quick");
// `--only TEXT`: only the runs whose name contains TEXT, "first contact" for those (no report is written).
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : null;
const scale = (n) => (QUICK ? Math.max(10, Math.round(n / 10)) : n);

const SCENARIOS = [
  { name: "1 process × 1,200", processes: 1, each: scale(1200) },
  { name: "1 process × 3,000", processes: 1, each: scale(3000) },
  { name: "4 processes × 400", processes: 4, each: scale(400) },
  { name: "8 processes × 250", processes: 8, each: scale(250) },
  {
    name: "8 processes × 250, Redis",
    processes: 8,
    each: scale(250),
    redis: true,
  },
];

async function writesServed(sandbox) {
  const requests = await sandbox.requests();
  return requests.filter((r) => r.method === "POST").length;
}

async function runScenario(scenario, redis) {
  const sandbox = await startSandboxProcess();
  try {
    const base = {
      ...sandbox.env(),
      ...(scenario.redis ? { TWILIO_REDIS_URL: redis.url } : {}),
      templateSid: sandbox.templateSid,
      mode: "all",
      count: scenario.each,
    };
    const workers = await Promise.all(
      Array.from({ length: scenario.processes }, (_, i) =>
        startWorker({ ...base, firstNumber: 1_000_000 + i * scenario.each }),
      ),
    );
    const started = performance.now();
    for (const worker of workers) worker.go();
    const finished = await Promise.all(
      workers.map((w) => w.done.then((o) => ({ ...o, at: performance.now() - started }))),
    );
    const total = scenario.processes * scenario.each;
    const delivered = finished.reduce((sum, o) => sum + o.delivered, 0);
    const codes = {};
    for (const o of finished) for (const [code, n] of Object.entries(o.codes)) codes[code] = (codes[code] ?? 0) + n;
    const times = finished.map((o) => o.at / 1000).sort((a, b) => a - b);
    const limits = await sandbox.limits();
    const writes = await writesServed(sandbox);
    const ideal = total / TWILIO_RATE;
    return {
      name: scenario.name,
      total,
      delivered,
      failedCodes: codes,
      firstSeconds: times[0],
      lastSeconds: times.at(-1),
      idealSeconds: ideal,
      ofIdeal: times.at(-1) / ideal,
      ratePerSecond: delivered / times.at(-1),
      ofTwilioRate: delivered / times.at(-1) / TWILIO_RATE,
      served429: limits.refused_writes,
      writes,
      share429: limits.refused_writes / writes,
      rssMiB: Math.max(...finished.map((o) => o.rssMiB)),
    };
  } finally {
    await sandbox.stop();
  }
}

/**
 * The wait of 20 interactive first contacts (new customers, sent one at a time) during campaigns to new customers
 * through sendBulk at concurrency 1,000, from `processes` processes (on Redis when more than one): the first
 * 5 s into the campaign, then one a second.
 */
async function firstContact(processes, redis) {
  const sandbox = await startSandboxProcess();
  try {
    const total = scale(1500);
    const probes = 20;
    const workers = await Promise.all(
      Array.from({ length: processes }, (_, i) =>
        startWorker({
          ...sandbox.env(),
          ...(processes > 1 ? { TWILIO_REDIS_URL: redis.url } : {}),
          templateSid: sandbox.templateSid,
          mode: "bulk",
          concurrency: 1000,
          count: total / processes,
          firstNumber: 6_000_000 + i * (total / processes),
          probes: Math.ceil(probes / processes),
          probeAfter: Math.round((5 * TWILIO_RATE) / processes),
          probeEvery: Math.max(1, Math.round(TWILIO_RATE / processes)),
        }),
      ),
    );
    const started = performance.now();
    for (const worker of workers) worker.go();
    const done = await Promise.all(workers.map((w) => w.done));
    const seconds = (performance.now() - started) / 1000;
    const waits = done
      .flatMap((o) => o.probeMs)
      .slice(0, probes)
      .sort((a, b) => a - b);
    const at = (q) => waits[Math.min(waits.length - 1, Math.ceil(q * waits.length) - 1)];
    const delivered = done.reduce((sum, o) => sum + o.delivered, 0);
    return {
      name: `${processes === 1 ? "1 process" : `${processes} processes on Redis`}, ${total} new customers`,
      probes: waits.length,
      failedProbes: waits.filter((ms) => ms < 0).length,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      campaignOfTwilioRate: delivered / seconds / TWILIO_RATE,
    };
  } finally {
    await sandbox.stop();
  }
}

/** RSS growth while `count` sends to one conversation wait: all made at once, or through sendBulk. */
async function queuedMemory(bulk) {
  const sandbox = await startSandboxProcess();
  try {
    const count = scale(100_000);
    const worker = await startWorker({
      ...sandbox.env(),
      mode: "queued",
      bulk,
      count,
      firstNumber: 5_000_000,
      // A queue this deep at 30 a second takes an hour: the bound is raised so that every send queues.
      maxQueueMs: 4 * 3600 * 1000,
    });
    worker.go();
    const how = bulk ? "through sendBulk" : "with Promise.all";
    return { name: `${count} sends ${how}`, count, ...(await worker.done) };
  } finally {
    await sandbox.stop();
  }
}

async function crashAndResume() {
  const sandbox = await startSandboxProcess();
  try {
    const count = scale(1000);
    const plan = {
      ...sandbox.env(),
      templateSid: sandbox.templateSid,
      mode: "bulk",
      reportEach: true,
      count,
      firstNumber: 7_000_000,
    };
    const first = await startWorker(plan);
    let sent = 0;
    const killed = new Promise((resolve) => {
      first.child.once("exit", resolve);
      first.lines.on("line", (line) => {
        if (line.startsWith("sent ") && ++sent === Math.floor(count / 2)) first.child.kill("SIGKILL");
      });
    });
    first.go();
    await killed;
    const second = await startWorker({ ...plan, reportEach: false });
    second.go();
    const resumed = await second.done;
    const state = await sandbox.state();
    const ours = state.conversations.filter((c) => c.unique_name?.startsWith("whatsapp_1555"));
    const perCustomer = ours.map((c) => c.messages.length);
    return {
      name: `${count} customers, SIGKILL at ${Math.floor(count / 2)} results, run again`,
      seenBeforeKill: sent,
      secondRun: resumed,
      customers: ours.length,
      withExactlyOne: perCustomer.filter((n) => n === 1).length,
      withMore: perCustomer.filter((n) => n > 1).length,
      withNone: count - perCustomer.filter((n) => n >= 1).length,
    };
  } finally {
    await sandbox.stop();
  }
}

function table(rows) {
  const lines = [
    "| run | delivered | failed | first / last process done | of the ideal | achieved rate | 429s served | client RSS |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const failed = Object.entries(r.failedCodes)
      .map(([code, n]) => `${n} × ${code}`)
      .join(", ");
    lines.push(
      `| ${r.name} | ${r.delivered} / ${r.total} | ${failed || "0"} | ${r.firstSeconds.toFixed(1)} s / ${r.lastSeconds.toFixed(1)} s | ${r.ofIdeal.toFixed(2)}× (ideal ${r.idealSeconds.toFixed(1)} s) | ${r.ratePerSecond.toFixed(1)}/s (${(r.ofTwilioRate * 100).toFixed(0)}% of 30) | ${r.served429} of ${r.writes} writes (${(r.share429 * 100).toFixed(1)}%) | ${r.rssMiB.toFixed(0)} MiB |`,
    );
  }
  return lines.join("\n");
}

/** Bars: each run's last finishing time against the ideal at Twilio's rate. */
function chart(rows) {
  const width = 720;
  const barHeight = 26;
  const left = 220;
  const height = rows.length * (barHeight * 2 + 12) + 40;
  const longest = Math.max(...rows.map((r) => Math.max(r.lastSeconds, r.idealSeconds)));
  const x = (seconds) => left + (seconds / longest) * (width - left - 150);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="18" font-weight="bold">Campaign time: last process done (blue) against Twilio's rate (grey)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = 34 + i * (barHeight * 2 + 12);
    parts.push(`<text x="10" y="${y + barHeight}">${r.name}</text>`);
    parts.push(
      `<rect x="${left}" y="${y}" width="${x(r.idealSeconds) - left}" height="${barHeight - 4}" fill="#bbb"/>`,
      `<text x="${x(r.idealSeconds) + 4}" y="${y + 16}">${r.idealSeconds.toFixed(0)} s ideal</text>`,
      `<rect x="${left}" y="${y + barHeight}" width="${x(r.lastSeconds) - left}" height="${barHeight - 4}" fill="#3a7bd5"/>`,
      `<text x="${x(r.lastSeconds) + 4}" y="${y + barHeight + 16}">${r.lastSeconds.toFixed(0)} s, ${r.delivered}/${r.total}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

async function main() {
  const redis = await startRedis();
  const rows = [];
  try {
    for (const scenario of SCENARIOS.filter((s) => !ONLY || s.name.includes(ONLY))) {
      const row = await runScenario(scenario, redis);
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  } finally {
    await redis.stop();
  }
  const contacts = [];
  const probeRedis = await startRedis();
  try {
    for (const processes of [1, 4]) {
      if (ONLY && !"first contact".includes(ONLY)) continue;
      contacts.push(await firstContact(processes, probeRedis));
      console.log(JSON.stringify(contacts.at(-1)));
    }
  } finally {
    await probeRedis.stop();
  }
  if (ONLY) return;
  const queued = [await queuedMemory(false), await queuedMemory(true)];
  console.log(JSON.stringify(queued));
  const resumed = await crashAndResume();
  console.log(JSON.stringify(resumed));
  if (QUICK) return;
  const report = [
    "# Campaigns",
    "",
    "`npm run bench:campaign` on a 2-core machine: the sandbox in its own process at Twilio's default limits, each",
    "client process with default options sending `sendTemplateMessage` to new customers with `Promise.all` (every",
    "send at once). The ideal is the time Twilio's 30 creations a second allow for the campaign.",
    "",
    table(rows),
    "",
    "First contact during a campaign: 20 interactive sends to new customers, one a second from 5 s into a",
    "campaign through sendBulk at concurrency 1,000, each timed from its call to its result (target p99 ≤ 1.2 s):",
    "",
    "| run | p50 | p99 | campaign's rate |",
    "|---|---|---|---|",
    ...contacts.map(
      (c) =>
        `| ${c.name} | ${(c.p50Ms / 1000).toFixed(2)} s | ${(c.p99Ms / 1000).toFixed(2)} s | ${(c.campaignOfTwilioRate * 100).toFixed(0)}% of 30/s |`,
    ),
    "",
    "Queued: sends to one conversation, measured once two windows' worth were sent (the rest waiting), target",
    "≤ 2 KiB a send:",
    "",
    ...queued.map(
      (q) =>
        `- ${q.name}: RSS growth ${q.rssGrowthMiB.toFixed(1)} MiB (${Math.round((q.rssGrowthMiB * 2 ** 20) / q.count)} bytes a send, of which the JS heap's ${Math.round((q.jsHeapGrowthMiB * 2 ** 20) / q.count)}, the promises and the sends' texts).`,
    ),
    "",
    `Crash and resume: ${resumed.name}: ${resumed.customers} customers with a conversation, ${resumed.withExactlyOne} with exactly one message, ${resumed.withMore} with more, ${resumed.withNone} with none.`,
    "",
    "![campaign chart](campaign.svg)",
    "",
  ].join("\n");
  fs.writeFileSync(path.join(RESULTS, "campaign.md"), report);
  fs.writeFileSync(path.join(RESULTS, "campaign.svg"), chart(rows));
  fs.writeFileSync(
    path.join(RESULTS, "campaign.json"),
    `${JSON.stringify({ rows, contacts, queued, resumed }, null, 2)}\n`,
  );
  console.log(report);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
