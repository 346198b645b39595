"use strict";

// A real redis-server for the fleet tests and the campaign benchmark: Debian's package, installed when missing
// (as root, with apt-get), started on a free loopback port with persistence off, stopped when done. It can be
// stopped and started again on the same port, or frozen, to test Redis going away or hanging mid-campaign.

const { execFileSync, spawn } = require("node:child_process");
const net = require("node:net");
const readline = require("node:readline");

function installed() {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian's redis-server when it is missing and this process may (root, apt-get present). */
function ensureRedisServer() {
  if (installed()) return;
  const root = process.getuid?.() === 0;
  if (!root)
    throw new Error("redis-server is not installed: the fleet tests need it (Debian: apt-get install -y redis-server)");
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "redis-server"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts redis-server on `port`; resolves once it accepts connections (it says so on stdout). */
function launch(port) {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited with code ${code} before it was ready`)));
    lines.on("line", (line) => {
      if (!line.includes("Ready to accept connections")) return;
      child.removeAllListeners("exit");
      lines.close();
      child.stdout.resume();
      resolve(child);
    });
  });
}

function stopped(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** A redis-server of this process's own: `{ url, stop(), restart() }`. */
async function startRedis() {
  ensureRedisServer();
  const port = await freePort();
  let child = await launch(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    /** Stops the server (its data goes with it: persistence is off). */
    async stop() {
      await stopped(child);
    },
    /** Starts it again on the same port. */
    async start() {
      child = await launch(port);
    },
    /** Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a hung Redis. */
    freeze() {
      child.kill("SIGSTOP");
    },
    thaw() {
      child.kill("SIGCONT");
    },
  };
}

module.exports = { startRedis, ensureRedisServer };
