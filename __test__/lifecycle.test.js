"use strict";

// A client's promises are settled through one threadsafe function per client (src/bridge.rs): these are the
// promises napi's own per-call bridge keeps, checked in processes of their own.

const test = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const { promisify } = require("node:util");
const { useSandbox, NO_TWILIO_ENV, PHONE } = require("./helpers.js");

const run = promisify(execFile);
const box = useSandbox();
const ENTRY = JSON.stringify(require.resolve(".."));

function node(script) {
  const env = { ...process.env, ...NO_TWILIO_ENV, ...box.sandbox.env() };
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  // A process the client kept alive for nothing is killed, and fails the test.
  return run(process.execPath, ["-e", script], { env, timeout: 20_000 });
}

test("a pending call keeps the process alive until its promise settles, then lets it exit", async () => {
  await box.sandbox.latency(300);
  const { stdout } = await node(`
    const TwilioApiClient = require(${ENTRY});
    const client = new TwilioApiClient({ logger: false });
    client
      .sendMessage("${PHONE}", "hello")
      .then((r) => console.log(r.success))
      .then(() => client.getConversation("${PHONE}"))
      .then((sid) => console.log(typeof sid));
  `);
  assert.deepEqual(stdout.trim().split("\n"), ["true", "string"]);
});

test("an idle client does not keep the process alive", async () => {
  // A process held open is killed by node()'s timeout, which rejects.
  const { stdout } = await node(`
    const TwilioApiClient = require(${ENTRY});
    globalThis.client = new TwilioApiClient({ logger: false });
    process.on("exit", () => console.log("ended on its own"));
  `);
  assert.equal(stdout.trim(), "ended on its own");
});

test("a worker ended with calls pending takes their promises with it, and the process carries on", async () => {
  // The worker's message writes are held in the sandbox: it is ended with its calls certainly in flight.
  await box.sandbox.fault({ method: "POST", path: "/Messages$", hold: true });
  const { stdout } = await node(`
    const { Worker } = require("node:worker_threads");
    const TwilioApiClient = require(${ENTRY});
    const control = (method, route) => fetch(process.env.TWILIO_BASE_URL + "/__sandbox/" + route, { method });
    const held = async () => (await (await control("GET", "faults")).json()).faults.some((fault) => fault.fired > 0);
    const worker = new Worker(\`
      const TwilioApiClient = require(${ENTRY.replace(/"/g, "'")});
      const client = new TwilioApiClient({ logger: false });
      for (let i = 0; i < 20; i++) client.sendMessage("${PHONE}", "from the worker " + i);
    \`, { eval: true });
    (async () => {
      while (!(await held())) await new Promise((resolve) => setImmediate(resolve));
      await worker.terminate();
      await control("DELETE", "faults");
      const client = new TwilioApiClient({ logger: false });
      const result = await client.sendMessage("${PHONE}", "from the main thread");
      console.log(result.success);
    })();
  `);
  assert.equal(stdout.trim(), "true");
});

test("a collected client closes its wake-up, whether its last call ends before or after", async () => {
  await box.sandbox.latency(100);
  const { stdout } = await node(`
    require("node:v8").setFlagsFromString("--expose-gc");
    const gc = require("node:vm").runInNewContext("gc");
    const TwilioApiClient = require(${ENTRY});
    const handles = () => process.report.getReport().libuv.filter((h) => h.type === "async").length;
    const before = handles();
    const sends = [];
    for (let i = 0; i < 20; i++) {
      // Collected with a call in flight: the handle is closed when that call ends, off the JS thread.
      sends.push(new TwilioApiClient({ logger: false }).sendMessage("${PHONE}", "sent " + i));
      // Collected idle.
      new TwilioApiClient({ logger: false });
    }
    const opened = handles() - before;
    gc();
    // A collected client's function is released by its finalizer, and its handle closed by the event loop:
    // both happen on later turns of the loop, which this waits on (not on time), a bounded number of them.
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    Promise.all(sends).then(async (results) => {
      for (let turns = 0; turns < 100 && handles() > before; turns++) {
        gc();
        await turn();
      }
      console.log(opened, results.every((r) => r.success), handles() - before);
    });
  `);
  assert.equal(stdout.trim(), "40 true 0");
});

test("close() lets a call in flight finish, answers later calls CLIENT_CLOSED, and ends the Redis connections", async () => {
  const { startRedis } = require("../scripts/redis-server.js");
  const { execFileSync } = require("node:child_process");
  const redis = await startRedis();
  try {
    const clients = () =>
      execFileSync("redis-cli", ["-p", String(redis.port), "CLIENT", "LIST"])
        .toString()
        .trim()
        .split("\n")
        .filter(Boolean).length;
    const client = box.client({ redisUrl: redis.url });
    assert.equal((await client.sendMessage("+15550009000", "connects")).success, true);
    const before = clients();
    const inFlight = client.sendMessage("+15550009001", "in flight");
    const closing = client.close();
    assert.equal(client.close(), closing, "one promise for every call");
    const late = await client.sendMessage("+15550009002", "too late");
    assert.equal(late.code, "CLIENT_CLOSED");
    await assert.rejects(client.findOrCreateConversation("+15550009002"), (error) => error.code === "CLIENT_CLOSED");
    assert.equal((await inFlight).success, true, "the call in flight finished");
    await closing;
    // redis-cli itself is one of the clients listed.
    assert.ok(before >= 2, `${before} clients while the client was connected`);
    assert.equal(clients(), 1, "the client's connection is gone");
    const disposed = box.client();
    await disposed[Symbol.asyncDispose ?? Symbol.for("nodejs.asyncDispose")]();
    assert.equal((await disposed.sendMessage("+15550009003", "hi")).code, "CLIENT_CLOSED");
  } finally {
    await redis.stop();
  }
});
