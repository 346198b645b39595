"use strict";

// Shared by the suites: one sandbox per test file, clients pointed at it, a logger that records.

const { before, after, beforeEach } = require("node:test");
const { startSandbox } = require("../sandbox.js");
const TwilioApiClient = require("..");

const PHONE = "+1234567890";
const ADDRESS = "whatsapp:+1234567890";
const SENDER = "whatsapp:+14155238886";

function recordingLogger() {
  const entries = [];
  const record = (level) => (message, context) => entries.push({ level, message, context });
  return {
    entries,
    error: record("error"),
    warn: record("warn"),
    info: record("info"),
    debug: record("debug"),
  };
}

/** Starts one sandbox for the file, resets it before each test, and stops it at the end. */
function useSandbox() {
  const box = { sandbox: null, logger: null };
  before(async () => {
    box.sandbox = await startSandbox();
  });
  after(async () => {
    await box.sandbox.stop();
  });
  beforeEach(async () => {
    await box.sandbox.reset();
    box.logger = recordingLogger();
  });
  box.client = (options = {}) =>
    new TwilioApiClient({
      accountSid: box.sandbox.accountSid,
      authToken: box.sandbox.authToken,
      baseUrl: box.sandbox.url,
      logger: box.logger,
      ...options,
    });
  /** The Twilio requests the sandbox has seen, as `METHOD path` lines. */
  box.calls = async () => (await box.sandbox.requests()).map((r) => `${r.method} ${r.path}`);
  box.conversation = async (uniqueName) => {
    const state = await box.sandbox.state();
    return state.conversations.find((c) => c.unique_name === uniqueName);
  };
  return box;
}

const WEBHOOK_TOKEN = "0123456789abcdef0123456789abcdef";

/** Posts `params` to `url` signed with WEBHOOK_TOKEN as Twilio signs, with `headers` beside; resolves the response. */
async function signedPost(url, params, headers = {}) {
  const twilio = require("twilio");
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(WEBHOOK_TOKEN, url, params),
      ...headers,
    },
    body: new URLSearchParams(params).toString(),
  });
}

/**
 * A handler of a client whose auth token is WEBHOOK_TOKEN, on a node:http server of its own: `post(params)` sends
 * it a form signed as Twilio signs, and answers the status. `close()` stops the server.
 */
async function signedHooks(sandbox, handlers, options = {}) {
  const http = require("node:http");
  const client = new TwilioApiClient({
    accountSid: "AC00000000000000000000000000000000",
    authToken: WEBHOOK_TOKEN,
    baseUrl: sandbox.url,
    logger: false,
  });
  const server = http.createServer(client.webhookHandler(handlers, { protocol: "http", ...options }));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/twilio/hooks`;
  return {
    url,
    post: async (params) => (await signedPost(url, params)).status,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Runs `fn` with these environment variables set (undefined deletes one), then restores the environment. */
function withEnv(vars, fn) {
  const saved = {};
  for (const [name, value] of Object.entries(vars)) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return fn();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const NO_TWILIO_ENV = Object.fromEntries(
  Object.keys(process.env)
    .filter((name) => name.startsWith("TWILIO_"))
    .map((name) => [name, undefined]),
);

module.exports = {
  PHONE,
  ADDRESS,
  SENDER,
  TwilioApiClient,
  useSandbox,
  recordingLogger,
  withEnv,
  signedHooks,
  signedPost,
  WEBHOOK_TOKEN,
  NO_TWILIO_ENV,
};
