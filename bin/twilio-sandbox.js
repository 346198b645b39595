#!/usr/bin/env node
"use strict";

// `npx --no-install twilio-sandbox`: serves the sandbox in the foreground, from the addon (no Rust toolchain
// needed). Prints TWILIO_BASE_URL first, then the credentials it accepts (and with --dotenv writes them there,
// taking the credentials and port it wrote there before, so that an app's `.env` stays valid across restarts), and
// serves until Ctrl-C, SIGTERM, the process that started it ending, or (with --exit-on-stdin-close) the end of
// standard input.

const fs = require("node:fs");
const { parseArgs } = require("node:util");
const { startSandbox } = require("../sandbox.js");

const USAGE = `usage: twilio-sandbox [--port N] [--host IP] [--account-sid AC…] [--auth-token TOKEN] [--dotenv PATH]
                      [--limit NAME=N|off]… [--no-limits] [--control-token TOKEN] [--exit-on-stdin-close]
--dotenv PATH: writes the variables printed there (mode 0600), keeping the file's other lines, and on the next
start reuses the credentials and port it wrote. A file holding credentials it did not write (an app's real ones)
is refused and left as it is: give the sandbox a file of its own (--dotenv .env.sandbox). Also spelt
--env-file, which Node 20 and later take for their own flag wherever it stands: use --dotenv there.
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
      dotenv: { type: "string" },
      // Node 20 and later read `--env-file` themselves, even after the script, and exit when the file does not exist.
      "env-file": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new Error("--port takes a number");
  const envFile = values.dotenv ?? values["env-file"];
  const saved = envFile ? ownEnvFile(envFile) : {};
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

// The line that says the credentials in a file are the sandbox's own, written by it.
const MARK = "# Written by twilio-sandbox: the credentials below are the sandbox's, not a Twilio account's.";
const CREDENTIALS = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"];

/** The `NAME=value` lines of a dotenv file (none when it does not exist), and whether the sandbox wrote them. */
function readEnvFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return { values: {}, ours: false };
    throw error;
  }
  const values = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2].trim();
  }
  const local = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/?$/.test(values.TWILIO_BASE_URL ?? "");
  return { values, ours: text.split("\n").includes(MARK) && local };
}

/**
 * What the sandbox wrote in `file` before; a file with credentials it did not write is refused: adopting them
 * would print a real token and point the app's real account at the sandbox.
 */
function ownEnvFile(file) {
  const { values, ours } = readEnvFile(file);
  if (ours) return values;
  const held = CREDENTIALS.filter((name) => values[name] !== undefined && values[name] !== "");
  if (held.length > 0)
    throw new Error(
      `${file} holds ${held.join(", ")} that twilio-sandbox did not write (an app's real credentials?): it ` +
        "neither uses nor overwrites them. Give the sandbox a file of its own, such as --dotenv .env.sandbox.",
    );
  return {};
}

/** Writes `lines` into the dotenv file, readable by its owner only: its lines of those names replaced, its other lines kept. */
function writeEnvFile(file, lines) {
  const names = new Set(lines.map((line) => line.slice(0, line.indexOf("="))));
  let kept = [];
  try {
    kept = fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line !== "" && line !== MARK && !names.has(line.split("=")[0].trim()));
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  fs.writeFileSync(file, [...kept, MARK, ...lines].join("\n") + "\n", { mode: 0o600 });
  // The mode above applies to a new file only.
  fs.chmodSync(file, 0o600);
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
