#!/usr/bin/env node
"use strict";

// `npx twilio-sandbox`: serves the sandbox in the foreground, from the addon (no Rust toolchain needed).
// Prints TWILIO_BASE_URL first, then the credentials it accepts, and serves until Ctrl-C, SIGTERM, or (with
// --exit-on-stdin-close) the end of standard input.

const { parseArgs } = require("node:util");
const { startSandbox } = require("../sandbox.js");

const USAGE = `usage: twilio-sandbox [--port N] [--host IP] [--account-sid AC…] [--auth-token TOKEN]
                      [--limit NAME=N|off]… [--no-limits] [--control-token TOKEN] [--exit-on-stdin-close]
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
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  if (values.port !== undefined && !/^\d+$/.test(values.port))
    throw new Error("--port takes a number");
  return {
    exitOnStdinClose: values["exit-on-stdin-close"] === true,
    sandbox: {
      port: values.port === undefined ? 0 : Number(values.port),
      host: values.host,
      accountSid: values["account-sid"],
      authToken: values["auth-token"],
      controlToken: values["control-token"],
      noLimits: values["no-limits"] === true,
      limits: Object.fromEntries((values.limit ?? []).map(limit)),
    },
  };
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
  if (sandbox.controlToken)
    lines.push(`TWILIO_SANDBOX_CONTROL_TOKEN=${sandbox.controlToken}`);
  lines.push(`TWILIO_TEMPLATE_SID=${sandbox.templateSid}`);
  process.stdout.write(lines.join("\n") + "\n");

  // The sandbox serves from the addon's threads, which do not hold the event loop: this timer does.
  const alive = setInterval(() => {}, 1 << 30);
  const stop = async () => {
    clearInterval(alive);
    await sandbox.stop();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
    process.on(signal, stop);
  if (parsed.exitOnStdinClose) {
    process.stdin.on("end", stop);
    process.stdin.resume();
  }
}

main();
