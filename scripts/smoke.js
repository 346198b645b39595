#!/usr/bin/env node
"use strict";

// `npm run smoke [-- --target <triple>] [--node 18,20,22,24]`: installs the tarballs `npm run package` wrote into
// an empty folder, with no Rust toolchain on PATH, then, under each Node major (official binaries from npm; arm64
// ones under qemu-user), sends a template, a text and an image through `startSandbox()` and through
// `npx twilio-sandbox`; then (glibc builds of this machine's arch) the same client under Bun and Deno, the
// project's dev dependencies, each process ending on its own. Exits 1 when any run failed.

const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");
const { parseArgs } = require("node:util");
const tools = require("./tools.js");

const ROOT = path.join(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json")));

const ARCH = { x86_64: "x64", aarch64: "arm64" };

function tarball(name) {
  const file = path.join(DIST, `${name}-${pkg.version}.tgz`);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run package\` first`);
  return file;
}

/** This environment without Rust: no directory on PATH that holds cargo or rustc, no CARGO_HOME or RUSTUP_HOME. */
function withoutRust(env) {
  const dirs = env.PATH.split(path.delimiter).filter(
    (dir) => !["cargo", "rustc", "rustup"].some((tool) => fs.existsSync(path.join(dir, tool))),
  );
  const clean = { ...env, PATH: dirs.join(path.delimiter) };
  delete clean.CARGO_HOME;
  delete clean.RUSTUP_HOME;
  try {
    execFileSync("sh", ["-c", "command -v cargo || command -v rustc"], {
      env: clean,
      stdio: "ignore",
    });
  } catch {
    return clean;
  }
  throw new Error("a Rust toolchain is still on PATH");
}

function install(dir, abi, env, foreign) {
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "smoke", private: true }));
  const [platform, cpu, libc] = abi.split("-");
  const args = ["install", "--no-audit", "--no-fund", "--loglevel=error"];
  // npm installs a platform package only where it runs: these flags make npm choose as the platform under test
  // would, and --force lets it place that platform's package on this machine (which runs it through qemu or musl's
  // loader).
  args.push(`--os=${platform}`, `--cpu=${cpu}`);
  if (libc) args.push(`--libc=${libc === "gnu" ? "glibc" : libc}`);
  if (foreign) args.push("--force");
  args.push(tarball(pkg.name), tarball(`${pkg.name}-${abi}`));
  execFileSync("npm", args, { cwd: dir, env, stdio: "inherit" });
  fs.copyFileSync(path.join(__dirname, "smoke-client.js"), path.join(dir, "smoke-client.js"));
  // Deno reads a `.js` file of a package without `"type"` as a module; `.cjs` is CommonJS to every host.
  fs.copyFileSync(path.join(__dirname, "smoke-client.js"), path.join(dir, "smoke-client.cjs"));
}

/** Bun and Deno from the project's dev dependencies, and how each runs a script. */
const OTHER_HOSTS = {
  bun: (script) => ["run", script],
  deno: (script) => ["run", "--allow-all", script],
};

/** Runs `command` to its end; resolves with what `judge(code, stdout, stderr)` makes of it, and how long it took. */
function runProcess(command, args, options, judge) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      ...options,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("close", (code) => resolve({ ...judge(code, out, err), ms: Date.now() - started }));
  });
}

/** smoke-client.js: its last line is its JSON verdict. */
function runClient(command, args, options) {
  return runProcess(command, args, options, (code, out, err) => {
    try {
      const result = JSON.parse(out.trim().split("\n").at(-1));
      return { ...result, ok: result.ok && code === 0 };
    } catch {
      return {
        ok: false,
        error: `exit ${code}: ${(err || out).trim().slice(0, 500)}`,
      };
    }
  });
}

/** The packaged demo (examples/demo.js): it passes when it exits 0 with the customer's reply in its transcript. */
function runDemo(command, args, options) {
  return runProcess(command, args, options, (code, out, err) => {
    const ok = code === 0 && out.includes("YES, see you then") && out.includes("onMessageAdded");
    return {
      ok,
      sandbox: "examples/demo.js",
      messages: (out.match(/^ {4}#\d+ /gm) ?? []).length,
      error: ok ? undefined : `exit ${code}: ${(out + err).trim().slice(-500)}`,
    };
  });
}

/** Starts `npx twilio-sandbox --port 0` and resolves with its printed variables and the child. */
function startCli(command, args, options) {
  // It stops when its standard input closes: npx passes that through, where it might not pass on a signal.
  const child = spawn(command, [...args, "--port", "0", "--exit-on-stdin-close"], {
    ...options,
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const values = {};
    const lines = readline.createInterface({ input: child.stdout });
    child.once("exit", (code) => reject(new Error(`twilio-sandbox exited with ${code}`)));
    lines.on("line", (line) => {
      const eq = line.indexOf("=");
      if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
      if (values.TWILIO_TEMPLATE_SID) {
        child.removeAllListeners("exit");
        lines.close();
        child.stdout.resume();
        resolve({ child, values });
      }
    });
  });
}

function stopCli(child) {
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve(code === 0 ? "exit 0" : `exit ${code ?? signal}`));
    child.stdin.end();
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      target: { type: "string" },
      node: { type: "string", default: "18,20,22,24" },
    },
  });
  const host = tools.hostTriple();
  const triple = values.target ?? host;
  const arch = ARCH[triple.split("-")[0]];
  const musl = triple.endsWith("-musl");
  const abi = `linux-${arch}-${musl ? "musl" : "gnu"}`;
  if (!arch || !triple.includes("-linux-"))
    throw new Error(`${triple}: only Linux builds run here; CI runs the others`);
  const emulated = triple.split("-")[0] !== host.split("-")[0];
  const qemu = emulated ? tools.checkQemu() : null;
  const majors = values.node.split(",").filter((major) => {
    if (!musl || tools.hasMuslNode(arch, major)) return true;
    console.log(`(PyPI has no musl Node ${major} for ${arch}: skipped)`);
    return false;
  });

  const env = withoutRust(process.env);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `twilio-api-client-smoke-${abi}-`));
  console.log(`installing into ${dir} (no Rust on PATH)`);
  install(dir, abi, env, Boolean(qemu) || musl);
  const addon = path.join(dir, "node_modules", `${pkg.name}-${abi}`, `${pkg.napi.binaryName}.${abi}.node`);

  const results = [];
  for (const major of majors) {
    // How this Node starts: directly, under qemu-user, and for musl through musl's loader (this machine is glibc).
    const { node, loader } = musl ? tools.muslNode(arch, major) : { node: tools.nodeBinary(arch, major) };
    const runEnv = {
      ...env,
      PATH: `${path.dirname(node)}${path.delimiter}${env.PATH}`,
      ...(qemu && !musl ? { QEMU_LD_PREFIX: qemu.sysroot } : {}),
      // The loader would see this machine's glibc and pick the gnu addon: it is told which one to load.
      ...(musl ? { NAPI_RS_NATIVE_LIBRARY_PATH: addon } : {}),
    };
    const launcher = [qemu?.qemu, loader].filter(Boolean);
    const [command, ...prefix] = [...launcher, node];
    const options = { cwd: dir, env: runEnv };

    results.push(await runClient(command, [...prefix, "smoke-client.js"], options));

    // Started directly, `npx` finds this Node first on PATH; through a launcher, the bin is started by hand.
    const cli = launcher.length
      ? startCli(command, [...prefix, "node_modules/twilio-api-client/bin/twilio-sandbox.js"], options)
      : startCli("npx", ["--no-install", "twilio-sandbox"], options);
    const { child, values: printed } = await cli;
    const result = await runClient(command, [...prefix, "smoke-client.js"], {
      ...options,
      env: { ...runEnv, ...printed },
    });
    result.stopped = await stopCli(child);
    result.ok = result.ok && result.stopped === "exit 0";
    results.push(result);

    const demo = await runDemo(command, [...prefix, "node_modules/twilio-api-client/examples/demo.js"], options);
    const { node: version, arch: cpu } = results.at(-1);
    results.push({ ...demo, node: version ?? major, arch: cpu });
  }

  if (!qemu && !musl) {
    for (const [name, args] of Object.entries(OTHER_HOSTS)) {
      const bin = path.join(ROOT, "node_modules", ".bin", name);
      const version = tools.output(bin, ["--version"]).trim().split("\n")[0];
      const result = await runClient(bin, args("smoke-client.cjs"), {
        cwd: dir,
        env,
      });
      results.push({ ...result, node: version });
    }
  }

  const how = [qemu && `under ${qemu.qemu}`, musl && "with musl 1.2.5"].filter(Boolean).join(", ");
  console.log(`\n${abi}${how ? ` (${how})` : ""}, installed without Rust:`);
  for (const r of results)
    console.log(
      `  ${r.ok ? "ok  " : "FAIL"} ${r.node ?? "?"} ${r.arch ?? ""} ${r.sandbox ?? ""}: ${r.messages ?? 0} messages in the conversation, ${r.ms} ms${r.error ? `: ${r.error}` : ""}${r.failures?.length ? `: ${r.failures.join("; ")}` : ""}`,
    );
  console.log(`  addon: ${tools.inspectAddon(addon)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}

main().catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
