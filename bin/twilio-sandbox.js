#!/usr/bin/env node
"use strict";

// `npx --no-install twilio-sandbox`: serves the sandbox in the foreground, from the addon (no Rust toolchain
// needed). Prints TWILIO_BASE_URL first, then the credentials it accepts (and with --env-file writes them there,
// taking the credentials and port already in that file, so that an app's `.env` stays valid across restarts), and
// serves until Ctrl-C, SIGTERM, the process that started it ending, or (with --exit-on-stdin-close) the end of
// standard input.

const fs = require("node:fs");
const { parseArgs } = require("node:util");
const { startSandbox } = require("../sandbox.js");

const USAGE = `usage: twilio-sandbox [--port N] [--host IP] [--account-sid AC…] [--auth-token TOKEN] [--env-file PATH]
                      [--limit NAME=N|off]… [--no-limits] [--control-token TOKEN] [--exit-on-stdin-close]
--env-file PATH: reuses the TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and port of TWILIO_BASE_URL in PATH (when it
exists), and writes the variables printed there, keeping the file's other lines.
Bound beyond loopback (--host 0.0.0.0), the control API demands a token in X-Sandbox-Token: the one given, or one
made up and printed as TWILIO_SANDBOX_CONTROL_TOKEN.
limits: conversations_per_identity participants_per_conversation non_chat_participants participants_per_request
        writes_per_second conversation_attributes_bytes message_attributes_bytes participant_attributes_bytes
        initializing_ms`;

/** `NAME=N` or `NAME=off`, as the `limits` option takes it. */
function limit(spec) {
  const match = /^(\w+)=(\d+|off)$/.exec(spec);
  if (!match) throw new Error(`--limit takes NAME=N or NAME=off, not ${spec}`);
  return [match[1], match[2] === "off" ? null : Number(match[2])];
}

function options(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "account-sid": { type: "string" },
      "auth-token": { type: "string" },
      "control-token": { type: "string" },
      limit: { type: "string", multiple: true },
      "no-limits": { type: "boolean" },
      "exit-on-stdin-close": { type: "boolean" },
      "env-file": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new Error("--port takes a number");
  const envFile = values["env-file"];
  const saved = envFile ? readEnvFile(envFile) : {};
  const savedPort = /:(\d+)\/?$/.exec(saved.TWILIO_BASE_URL ?? "")?.[1];
  return {
    exitOnStdinClose: values["exit-on-stdin-close"] === true,
    envFile,
    sandbox: {
      port: Number(values.port ?? savedPort ?? 0),
      host: values.host,
      accountSid: values["account-sid"] ?? saved.TWILIO_ACCOUNT_SID,
      authToken: values["auth-token"] ?? saved.TWILIO_AUTH_TOKEN,
      controlToken: values["control-token"],
      noLimits: values["no-limits"] === true,
      limits: Object.fromEntries((values.limit ?? []).map(limit)),
    },
  };
}

/** The `NAME=value` lines of a dotenv file; none when it does not exist. */
function readEnvFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return {};
    throw error;
  }
  const values = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2].trim();
  }
  return values;
}

/** Writes `lines` into the dotenv file: its lines of those names replaced, its other lines kept. */
function writeEnvFile(file, lines) {
  const names = new Set(lines.map((line) => line.slice(0, line.indexOf("="))));
  let kept = [];
  try {
    kept = fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line !== "" && !names.has(line.split("=")[0].trim()));
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  fs.writeFileSync(file, [...kept, ...lines].join("\n") + "\n", {
    mode: 0o600,
  });
}

async function main() {
  let parsed;
  try {
    parsed = options(process.argv.slice(2));
  } catch (error) {
    console.error(`twilio-sandbox: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  if (!parsed) {
    console.error(USAGE);
    process.exit(2);
  }
  let sandbox;
  try {
    sandbox = await startSandbox(parsed.sandbox);
  } catch (error) {
    console.error(`twilio-sandbox: ${error.message}`);
    process.exit(1);
  }
  const lines = [
    `TWILIO_BASE_URL=${sandbox.url}`,
    `TWILIO_ACCOUNT_SID=${sandbox.accountSid}`,
    `TWILIO_AUTH_TOKEN=${sandbox.authToken}`,
    `TWILIO_CHAT_SERVICE_SID=${sandbox.chatServiceSid}`,
  ];
  if (sandbox.controlToken) lines.push(`TWILIO_SANDBOX_CONTROL_TOKEN=${sandbox.controlToken}`);
  lines.push(`TWILIO_TEMPLATE_SID=${sandbox.templateSid}`);

  // The sandbox serves from the addon's threads, which do not hold the event loop: this timer does, and looks
  // for the process that started it (npx, a shell, a test runner): when that ends, this one is adopted by another.
  const parent = process.ppid;
  const alive = setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000);
  const stop = async () => {
    clearInterval(alive);
    await sandbox.stop();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stop);
  if (parsed.exitOnStdinClose) {
    process.stdin.on("end", stop);
    process.stdin.resume();
  }
  // Last: whoever reads these lines may stop the sandbox at once, and finds the file written.
  if (parsed.envFile) writeEnvFile(parsed.envFile, lines);
  process.stdout.write(lines.join("\n") + "\n");
}

main();
