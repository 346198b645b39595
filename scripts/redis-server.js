"use strict";

// A real redis-server for the fleet tests and the campaign benchmark: Debian's package, installed when missing
// (as root, with apt-get), started on a free loopback port with persistence off, stopped when done. It can be
// stopped and started again on the same port, or frozen, to test Redis going away or hanging mid-campaign.

const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const net = require("node:net");
const readline = require("node:readline");

function installed(command, versionArgument) {
  try {
    execFileSync(command, [versionArgument], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian's `pkg` when `command` is missing and this process may (root, apt-get present). */
function ensurePackage(command, versionArgument, pkg) {
  if (installed(command, versionArgument)) return;
  const root = process.getuid?.() === 0;
  if (!root)
    throw new Error(`${command} is not installed: the fleet tests need it (Debian: apt-get install -y ${pkg})`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", pkg], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

function ensureRedisServer() {
  ensurePackage("redis-server", "--version", "redis-server");
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

/**
 * Starts redis-server on `port` (with `extra` arguments, or a config file first for a Sentinel); resolves once it
 * accepts connections (it says so on stdout).
 */
function launch(port, extra = [], ready = "Ready to accept connections", config = []) {
  const child = spawn(
    "redis-server",
    [...config, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extra],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited with code ${code} before it was ready`)));
    lines.on("line", (line) => {
      if (!line.includes(ready)) return;
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

function scratch() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "twilio-redis-"));
}

/**
 * A Redis Cluster of `masters` redis-servers on loopback ports, its slots spread by redis-cli: `{ url, stop() }`,
 * `url` the comma-separated nodes, as `redisUrl` takes a Cluster.
 */
async function startRedisCluster(masters = 3) {
  ensureRedisServer();
  const dir = scratch();
  const ports = [];
  const busPorts = [];
  // The bus on a free port of its own: the default, the port + 10,000, may be past 65,535 or taken.
  for (let i = 0; i < masters; i += 1) {
    ports.push(await freePort());
    busPorts.push(await freePort());
  }
  const children = await Promise.all(
    ports.map((port, i) =>
      launch(port, [
        "--cluster-enabled",
        "yes",
        "--cluster-port",
        String(busPorts[i]),
        "--cluster-config-file",
        path.join(dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        "2000",
      ]),
    ),
  );
  const nodes = ports.map((port) => `127.0.0.1:${port}`);
  execFileSync("redis-cli", ["--cluster", "create", ...nodes, "--cluster-replicas", "0", "--cluster-yes"], {
    stdio: "ignore",
  });
  // The slots are assigned once every node agrees the cluster is whole.
  for (;;) {
    const info = execFileSync("redis-cli", ["-p", String(ports[0]), "cluster", "info"]).toString();
    if (info.includes("cluster_state:ok")) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: nodes.map((node) => `redis://${node}`).join(","),
    async stop() {
      await Promise.all(children.map(stopped));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A redis-server that only speaks TLS, with a certificate for 127.0.0.1 signed by a CA made for it (openssl):
 * `{ url, caFile, stop() }`.
 */
async function startRedisTls() {
  ensureRedisServer();
  ensurePackage("openssl", "version", "openssl");
  const dir = scratch();
  const file = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync("openssl", args, { stdio: "ignore" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=test CA",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
  );
  fs.writeFileSync(file("ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    file("ext.cnf"),
    "-out",
    file("server.pem"),
  );
  const port = await freePort();
  const child = await launch(0, [
    "--tls-port",
    String(port),
    "--tls-cert-file",
    file("server.pem"),
    "--tls-key-file",
    file("server.key"),
    "--tls-ca-cert-file",
    file("ca.pem"),
    "--tls-auth-clients",
    "no",
  ]);
  return {
    url: `rediss://127.0.0.1:${port}`,
    caFile: file("ca.pem"),
    async stop() {
      await stopped(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server and a Sentinel watching it as `mymaster`: `{ url, stop() }`, `url` as `redisUrl` takes it. */
async function startRedisSentinel() {
  const master = await startRedis();
  const dir = scratch();
  const config = path.join(dir, "sentinel.conf");
  fs.writeFileSync(config, `sentinel monitor mymaster 127.0.0.1 ${master.port} 1\n`);
  const port = await freePort();
  const sentinel = await launch(port, ["--sentinel"], "Sentinel ID is", [config]);
  return {
    url: `redis+sentinel://127.0.0.1:${port}/mymaster`,
    async stop() {
      await stopped(sentinel);
      await master.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startRedis, startRedisCluster, startRedisTls, startRedisSentinel, ensureRedisServer };
