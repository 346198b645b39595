"use strict";

// npm run bench: the native client against two peers in the same run: the fastest JavaScript a careful developer
// would write, on undici (bench/undici-peer.js), and the official twilio package (bench/peer.js); against a
// sandbox in its own process. Each measurement runs one client in its own process (bench/runner.js). Writes
// bench/results/README.md (table) and bench/results/chart.svg. A benchmark, never a test: nothing is asserted.
// It measures what a client costs per message, so Twilio's per-second and per-identity limits are switched off in
// the sandbox (and the native client's pacing with them): at 200 conversations the steady state is about 70
// messages per second per conversation, which Twilio would refuse, and the ceiling loop goes faster still.

const { execFileSync, execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { promisify } = require("node:util");
const { startSandboxProcess } = require("../sandbox.js");

const run = promisify(execFile);
const RESULTS = path.join(__dirname, "results");
const QUICK = process.argv.includes("--quick");
// Each scenario runs this many rounds, the clients alternating within a round; the table gives the median and the
// spread (lowest–highest) across rounds.
const ROUNDS = process.argv.includes("--rounds")
  ? Number(process.argv[process.argv.indexOf("--rounds") + 1])
  : QUICK
    ? 1
    : 3;
const SPREAD_KEYS = ["perSecond", "cpuMicrosPerOp", "loopMicrosPerOp"];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One client's rounds of a scenario as one row: the median of every figure, the spread of the main ones. */
function summarise(runs) {
  const row = { ...runs[0], rounds: runs };
  for (const [key, value] of Object.entries(runs[0]))
    if (typeof value === "number") row[key] = median(runs.map((r) => r[key]));
  row.failures = runs.reduce((sum, r) => sum + r.failures, 0);
  row.spread = Object.fromEntries(
    SPREAD_KEYS.map((key) => {
      const values = runs.map((r) => r[key]);
      return [key, [Math.min(...values), Math.max(...values)]];
    }),
  );
  return row;
}
const scale = (n) => (QUICK ? Math.max(20, Math.round(n / 10)) : n);

// The limits a cost measurement cannot run under (see the header); every other limit stays at Twilio's value.
const BENCH_LIMITS = {
  writes_per_second: null,
  conversations_per_identity: null,
};

const SCENARIOS = [
  {
    name: "steady, concurrency 64",
    scenario: "steady",
    warm: true,
    warmup: scale(10_000),
    numbers: 200,
    sends: scale(10_000),
    concurrency: 64,
  },
  {
    name: "steady, concurrency 256",
    scenario: "steady",
    warm: true,
    warmup: scale(10_000),
    numbers: 200,
    sends: scale(10_000),
    concurrency: 256,
  },
  {
    name: "first contact, 1,000 numbers",
    scenario: "first-contact",
    warm: false,
    numbers: scale(1_000),
    sends: scale(1_000),
    concurrency: 64,
  },
  {
    name: "cold send, 100 ms latency",
    scenario: "latency-cold",
    warm: false,
    numbers: scale(200),
    sends: scale(200),
    concurrency: 20,
    latency: 100,
  },
  {
    name: "warm send, 100 ms latency",
    scenario: "latency-warm",
    warm: true,
    numbers: 200,
    sends: scale(400),
    concurrency: 20,
    latency: 100,
  },
  {
    name: "100,000 cached conversations",
    scenario: "cache-memory",
    warm: false,
    numbers: scale(100_000),
    sends: scale(100_000),
    concurrency: 16,
    seed: true,
  },
];

async function measure(sandbox, client, spec, prefix) {
  const config = {
    ...spec,
    client,
    prefix,
    sandbox: {
      url: sandbox.url,
      accountSid: sandbox.accountSid,
      authToken: sandbox.authToken,
    },
  };
  const { stdout } = await run(
    process.execPath,
    ["--expose-gc", path.join(__dirname, "runner.js"), JSON.stringify(config)],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim().split("\n").pop());
}

async function seed(sandbox, count, prefix) {
  const batch = 5_000;
  for (let start = 0; start < count; start += batch) {
    const seeds = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const digits = `1${prefix}${String(1_000_000 + i).slice(1)}`;
      seeds.push({
        unique_name: `whatsapp_${digits}`,
        friendly_name: `Chat with +${digits}`,
      });
    }
    await sandbox.seed(seeds);
  }
}

async function ceiling(sandbox) {
  const conversations = (await sandbox.seed(Array.from({ length: 200 }, (_, i) => ({ unique_name: `load_${i}` }))))
    .conversations;
  const load = path.join(
    __dirname,
    "..",
    "target",
    "release",
    process.platform === "win32" ? "twilio-sandbox-load.exe" : "twilio-sandbox-load",
  );
  const { stdout } = await run(load, [
    sandbox.url,
    sandbox.accountSid,
    sandbox.authToken,
    String(scale(20_000)),
    "64",
    ...conversations.map((c) => c.sid),
  ]);
  return JSON.parse(stdout);
}

// A Rust bench of the core's (crates/core/benches/NAME.rs): one JSON line a case.
function cargoBench(name) {
  const stdout = execFileSync("cargo", ["bench", "-q", "-p", "twilio-core", "--bench", name], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return stdout
    .toString()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

// What exactly-once costs a keyed send and a webhook (bench/claims.js, in a process of its own).
function claims() {
  const args = [path.join(__dirname, "claims.js"), ...(QUICK ? ["--quick"] : [])];
  const stdout = execFileSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(stdout.toString().trim().split("\n").pop());
}

function claimTable(result) {
  const rows = (list) => list.map((r) => `| ${r.name} | ${fmt(r.wallMicros)} | ${fmt(r.cpuMicros)} |`).join("\n");
  return `| keyed send | median wall µs | client CPU µs |
|---|---|---|
${rows(result.sends)}

| webhook event | median wall µs | handler's process CPU µs |
|---|---|---|
${rows(result.webhooks)}
`;
}

function machine() {
  const rustc = (() => {
    try {
      return execFileSync("rustc", ["--version"]).toString().trim();
    } catch {
      return "rustc unknown";
    }
  })();
  return `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, ${rustc}`;
}

const fmt = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", {
        maximumFractionDigits: digits,
        minimumFractionDigits: digits,
      })
    : "–";

const CLIENTS = ["native", "undici", "peer"];
const LABELS = {
  native: "native (this package)",
  undici: "undici peer",
  peer: "twilio-node peer",
};

/** A median with its spread across rounds: `20,399 (19,940–20,512)`. */
function spread(r, key) {
  const [low, high] = r.spread[key];
  return ROUNDS > 1 ? `${fmt(r[key])} (${fmt(low)}–${fmt(high)})` : fmt(r[key]);
}

/** native / other, round by round (the clients alternate within a round): the median ratio and its spread. */
function roundRatios(row, other, key) {
  const ratios = row.native.rounds.map((r, i) => r[key] / row[other].rounds[i][key]);
  const text = `${fmt(median(ratios), 2)}×`;
  return ROUNDS > 1 ? `${text} (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})` : text;
}

function table(rows, reference) {
  const lines = [
    "| scenario | client | ops/s | client CPU µs/op | event loop µs/op | peak RSS MiB | RSS growth MiB | API calls/op | p50 ms | p99 ms | failures |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    for (const client of CLIENTS) {
      const r = row[client];
      lines.push(
        `| ${row.name} | ${LABELS[client]} | ${spread(r, "perSecond")} | ${spread(r, "cpuMicrosPerOp")} | ${spread(r, "loopMicrosPerOp")} | ${fmt(r.peakRssMiB)} | ${fmt(r.rssGrowthMiB, 1)} | ${fmt(r.callsPerOp, 2)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${r.failures} |`,
      );
    }
    for (const other of ["undici", "peer"]) {
      const [native, peer] = [row.native, row[other]];
      lines.push(
        `| ${row.name} | **native / ${other === "peer" ? "twilio-node" : other}** | **${roundRatios(row, other, "perSecond")}** | **${roundRatios(row, other, "cpuMicrosPerOp")}** | **${roundRatios(row, other, "loopMicrosPerOp")}** | ${fmt(native.peakRssMiB / peer.peakRssMiB, 2)}× | | | | | |`,
      );
    }
  }
  lines.push(
    `| sandbox ceiling (Rust keep-alive loop, 64 connections, rate limit off) | reference (the floor) | ${fmt(reference.perSecond)} | ${fmt(reference.cpuMicrosPerRequest)} | | | | 1.00 | | | ${reference.failures} |`,
  );
  return lines.join("\n");
}

/** Where the steady scenarios' CPU goes, thread by thread (Linux only: read from /proc). */
function threadTable(rows) {
  const steady = rows.filter((r) => r.name.startsWith("steady"));
  if (!steady.some((r) => Number.isFinite(r.native.eventLoopThreadMicrosPerOp))) return "";
  const lines = [
    "Where a steady message's CPU goes, µs per message by thread (from `/proc/self/task`, in 10 ms ticks; medians of the rounds):",
    "",
    "| scenario | client | event loop's thread | Rust runtime's threads | other threads (V8's GC and compiler, libuv) |",
    "|---|---|---:|---:|---:|",
  ];
  for (const row of steady)
    for (const client of CLIENTS) {
      const r = row[client];
      lines.push(
        `| ${row.name} | ${LABELS[client]} | ${fmt(r.eventLoopThreadMicrosPerOp, 1)} | ${fmt(r.runtimeThreadsMicrosPerOp, 1)} | ${fmt(r.otherThreadsMicrosPerOp, 1)} |`,
      );
    }
  return `\n${lines.join("\n")}\n`;
}

function chart(rows, reference) {
  const bars = rows
    .filter((r) => !r.name.startsWith("100,000"))
    .flatMap((r) => [
      {
        label: `${r.name}: native`,
        value: r.native.perSecond,
        color: "#d9480f",
      },
      {
        label: `${r.name}: undici`,
        value: r.undici.perSecond,
        color: "#2f9e44",
      },
      {
        label: `${r.name}: twilio-node`,
        value: r.peer.perSecond,
        color: "#1c7ed6",
      },
    ]);
  bars.push({
    label: "sandbox ceiling (Rust loop)",
    value: reference.perSecond,
    color: "#868e96",
  });
  const max = Math.max(...bars.map((b) => b.value));
  const width = 900;
  const left = 330;
  const rowHeight = 26;
  const height = 50 + bars.length * rowHeight;
  const body = bars
    .map((b, i) => {
      const y = 40 + i * rowHeight;
      const w = Math.max(1, ((width - left - 90) * b.value) / max);
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${b.label}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="18" fill="${b.color}"/><text x="${left + w + 6}" y="${y + 15}">${fmt(b.value)}/s</text>`;
    })
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<text x="10" y="22" font-size="15" font-weight="bold">Messages (operations) per second: native, undici peer, twilio-node peer, same sandbox</text>
${body}
</svg>
`;
}

async function main() {
  fs.mkdirSync(RESULTS, { recursive: true });
  const sandbox = await startSandboxProcess({ limits: BENCH_LIMITS });
  const rows = [];
  try {
    let prefix = 100;
    for (const spec of SCENARIOS) {
      const runs = Object.fromEntries(CLIENTS.map((client) => [client, []]));
      for (let round = 1; round <= ROUNDS; round++) {
        for (const client of CLIENTS) {
          await sandbox.reset();
          if (spec.seed) await seed(sandbox, spec.numbers, prefix);
          await sandbox.latency(0);
          if (spec.latency) await sandbox.latency(spec.latency);
          // Warm-up sends happen inside the runner; latency applies to both phases.
          const r = await measure(sandbox, client, spec, prefix);
          runs[client].push(r);
          prefix++;
          console.log(
            `${spec.name} / ${client} / round ${round}: ${fmt(r.perSecond)} ops/s, ${fmt(r.cpuMicrosPerOp)} µs CPU/op, ${fmt(r.loopMicrosPerOp)} µs loop/op, ${fmt(r.callsPerOp, 2)} calls/op, p50 ${fmt(r.p50Ms, 1)} ms, p99 ${fmt(r.p99Ms, 1)} ms, RSS +${fmt(r.rssGrowthMiB, 1)} MiB`,
          );
        }
      }
      const results = Object.fromEntries(CLIENTS.map((client) => [client, summarise(runs[client])]));
      rows.push({ name: spec.name, ...results });
    }
    await sandbox.reset();
    const reference = await ceiling(sandbox);
    console.log(
      `sandbox ceiling: ${fmt(reference.perSecond)} requests/s, ${fmt(reference.cpuMicrosPerRequest)} µs CPU/request`,
    );

    // What checking a template send against its cached definition costs: the check alone, on one thread, after one
    // read of the definition.
    const checks = cargoBench("template_check");
    for (const check of checks) console.log(`template check, ${check.case}: ${fmt(check.microsPerCheck, 2)} µs CPU`);
    const signatures = cargoBench("webhook_signature");
    for (const s of signatures)
      console.log(
        `webhook signature, ${s.parameters} parameters: ${fmt(s.microsPerCheck)} µs (${fmt(s.timesTheFirst, 2)}×)`,
      );
    const once = claims();
    for (const r of [...once.sends, ...once.webhooks])
      console.log(`exactly once, ${r.name}: ${fmt(r.wallMicros)} µs wall, ${fmt(r.cpuMicros)} µs CPU`);

    const steady = rows.filter((r) => r.name.startsWith("steady"));
    const memory = rows.find((r) => r.name.startsWith("100,000"));
    const ratio = (key, other) => steady.map((r) => roundRatios(r, other, key)).join(" and ");
    const targets = [
      `- Client CPU per steady-state message (concurrency 64 and 256): native / undici ${ratio("cpuMicrosPerOp", "undici")} (target ≤ 1×), native / twilio-node ${ratio("cpuMicrosPerOp", "peer")} (target ≤ 0.10×), native / floor ${steady.map((r) => fmt(r.native.cpuMicrosPerOp / reference.cpuMicrosPerRequest, 1) + "×").join(" and ")} (target ≤ 4×).`,
      `- Event-loop time per message: native / undici ${ratio("loopMicrosPerOp", "undici")} (target ≤ 0.3×).`,
      `- Throughput: native / undici ${ratio("perSecond", "undici")} (target ≥ 1.15×), native / twilio-node ${ratio("perSecond", "peer")}.`,
      `- Checking a template send against its cached definition: ${checks.map((c) => `${fmt(c.microsPerCheck, 2)} µs CPU with ${c.case}`).join(", ")} (target ≤ 2 µs), beside ${steady.map((r) => fmt(r.native.cpuMicrosPerOp, 1)).join(" and ")} µs of client CPU per steady-state send.`,
      `- RSS growth for ${fmt(memory.native.operations)} cached conversations: native ${fmt(memory.native.rssGrowthMiB, 1)} MiB, undici ${fmt(memory.undici.rssGrowthMiB, 1)} MiB, twilio-node ${fmt(memory.peer.rssGrowthMiB, 1)} MiB (target ≤ 50 MB).`,
    ];
    const markdown = `# Benchmark results

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}${QUICK ? " (quick run, reduced sizes)" : ""}.
Each scenario ran ${ROUNDS} round${ROUNDS > 1 ? "s" : ""}, the clients alternating within each; a figure is the median, with the
lowest–highest across rounds in brackets, and a ratio is taken round by round.
The sandbox runs in its own process on the same machine; each client runs alone in its own process, and its CPU is
\`process.cpuUsage()\` of that process (all threads) over the measured phase; its event-loop time is
\`performance.eventLoopUtilization()\`'s active time over the same phase. API calls are counted at the sandbox.
Steady-state scenarios send to 200 conversations the client has already cached, and measure after 10,000 sends
of warm-up (every client's JavaScript compiled, its heap and connection pool grown); \`first contact\` sends one message
to each of 1,000 new numbers; the latency scenarios add 100 ms to every sandbox answer; \`100,000 cached
conversations\` looks up that many seeded conversations at concurrency 16 and reports the client's RSS growth
(after a GC). Twilio's 30 writes per second per conversation and 1,000 conversations per identity are switched
off in the sandbox for the benchmark, and the native client's pacing with them (\`writesPerSecond: 0\`): these
scenarios measure what a message costs the client, at rates Twilio would refuse.

${table(rows, reference)}
${threadTable(rows)}
The template check (\`crates/core/benches/template_check.rs\`, \`cargo bench -p twilio-core --bench template_check\`):
\`Client::preflight\` of a template, which makes every check a template send makes before its first write and nothing
else, timed over 200,000 calls on one thread after one read of the definition (the best of 5), with the addon's
allocator: ${checks.map((c) => `${fmt(c.microsPerCheck, 2)} µs a check with ${c.case}`).join(", ")}.

A webhook's signature (\`crates/core/benches/webhook_signature.rs\`): a forged signature over a form of distinct short
parameters, every candidate URL signed and compared, the fastest of 21:
${signatures.map((s) => `${fmt(s.microsPerCheck)} µs at ${s.parameters} parameters (${fmt(s.timesTheFirst, 2)}× the first)`).join(", ")};
the work grows with the parameters and a sort's logarithm, not their square (8× the parameters would be 64×).

Exactly once (\`bench/claims.js\`): one send at a time to 100 cached conversations of their own (at most 22 messages each: a new key is looked for through a conversation's whole history, up to 1,000 messages), in a process of its own, with
the sandbox in another and a redis-server on loopback. A keyed send claims its key (in the process; with
\`redisUrl\` also in Redis: one script to claim, one to record the message) and reads the conversation's newest
messages for the key before it sends, against an unkeyed send. A webhook event is claimed before its handler runs
and settled after, against an event with no handler (signature checked and event typed, nothing claimed); the
requests come from the same process, so its CPU includes theirs.

${claimTable(once)}
![chart](chart.svg)

Against the targets:

${targets.join("\n")}

Reproduce with \`npm run bench\` (\`npm run bench -- --quick\` for a short run).
`;
    fs.writeFileSync(path.join(RESULTS, "README.md"), markdown);
    fs.writeFileSync(path.join(RESULTS, "chart.svg"), chart(rows, reference));
    fs.writeFileSync(
      path.join(RESULTS, "results.json"),
      JSON.stringify(
        { machine: machine(), rows, reference, templateCheck: checks, webhookSignature: signatures, exactlyOnce: once },
        null,
        2,
      ),
    );
    console.log(`\n${targets.join("\n")}\n\nWrote ${path.relative(process.cwd(), RESULTS)}/README.md and chart.svg`);
  } finally {
    await sandbox.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
