"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const util = require("node:util");
const { PHONE, TwilioApiClient, useSandbox, recordingLogger } = require("./helpers.js");

const box = useSandbox();
const TOKEN = "tok_5f2b9c1d8e7a6b5c4d3e2f1a0b9c8d7e";

test("the auth token is not a field and never shows in util.inspect or JSON", () => {
  const client = new TwilioApiClient({
    accountSid: "AC1",
    authToken: TOKEN,
    logger: false,
  });
  assert.equal(client.authToken, undefined);
  for (const shown of [
    util.inspect(client, { showHidden: true, depth: 10, getters: true }),
    JSON.stringify(client),
    Object.getOwnPropertyNames(client).join(","),
    Reflect.ownKeys(client).map(String).join(","),
  ]) {
    assert.ok(!shown.includes(TOKEN), shown);
  }
  assert.deepEqual(Object.keys(client), ["accountSid", "whatsappNumber", "systemIdentity"]);
});

test("the auth token never appears in errors or logs", async () => {
  const logger = recordingLogger();
  const client = new TwilioApiClient({
    accountSid: box.sandbox.accountSid,
    authToken: TOKEN,
    baseUrl: box.sandbox.url,
    logger,
  });
  const result = await client.sendMessage(PHONE, "hello");
  assert.equal(result.success, false);
  const rejected = await client.findOrCreateConversation(PHONE).catch((error) => error);
  const everything = JSON.stringify([result, logger.entries, util.inspect(rejected), rejected.stack]);
  assert.ok(!everything.includes(TOKEN));
});

test("a constructor error does not show the token", () => {
  assert.throws(
    () =>
      new TwilioApiClient({
        accountSid: "AC1",
        authToken: TOKEN,
        baseUrl: "http://203.0.113.9",
      }),
    (error) => !error.message.includes(TOKEN) && !String(error.stack).includes(TOKEN),
  );
});

test("failures are logged with context, the number masked to its last four digits, never the text", async () => {
  const logger = recordingLogger();
  const client = box.client({ logger });
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    status: 400,
    code: 21617,
    message: "Too long",
  });
  const secretText = "Your one-time code is 918273";
  const result = await client.sendMessage(PHONE, secretText);
  assert.equal(result.success, false);
  assert.equal(logger.entries.length, 1);
  const [entry] = logger.entries;
  assert.equal(entry.level, "error");
  assert.equal(entry.context.operation, "sendMessage");
  assert.equal(entry.context.to, "…7890");
  assert.equal(entry.context.code, 21617);
  const logged = JSON.stringify(logger.entries);
  assert.ok(!logged.includes("918273"), logged);
  assert.ok(!logged.includes("1234567890"), logged);
});

test("successful sends log nothing, and logger: false silences failures", async () => {
  const logger = recordingLogger();
  await box.client({ logger }).sendMessage(PHONE, "hello");
  assert.deepEqual(logger.entries, []);
  const silent = box.client({ logger: false });
  assert.equal((await silent.sendMessage("", "x")).success, false);
});

test("by default failures go to console.error", async () => {
  const original = console.error;
  const lines = [];
  console.error = (...args) => lines.push(args);
  try {
    const client = new TwilioApiClient({
      accountSid: "AC1",
      authToken: "t",
      // Refused input is the caller's to see in the result (logged at debug); this is a failure to log.
      baseUrl: "http://127.0.0.1:9",
      maxRetries: 0,
    });
    await client.sendMessage(PHONE, "hi");
  } finally {
    console.error = original;
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0][0], /sendMessage failed/);
});

test("a secret option of the wrong type is refused by its name and kind, never with its value", () => {
  for (const name of ["authToken", "apiSecret", "webhookAuthToken", "redisUrl", "accountSid"]) {
    for (const value of [Buffer.from(TOKEN), new String(TOKEN), [TOKEN], { token: TOKEN }, Symbol(TOKEN)]) {
      assert.throws(
        () =>
          new TwilioApiClient({
            accountSid: "AC1",
            authToken: "t",
            [name]: value,
            logger: false,
          }),
        (error) =>
          error instanceof TypeError &&
          error.message.startsWith(`${name} must be a string, not `) &&
          !error.message.includes(TOKEN),
        `${name} as ${typeof value}`,
      );
    }
  }
});

test("a baseUrl that is refused is not echoed: it may hold a password", () => {
  for (const baseUrl of [`http://user:${TOKEN}@example.com`, `ftp://user:${TOKEN}@example.com`, `not a url ${TOKEN}`]) {
    assert.throws(
      () =>
        new TwilioApiClient({
          accountSid: "AC1",
          authToken: "t",
          baseUrl,
          logger: false,
        }),
      (error) => /baseUrl/.test(error.message) && !error.message.includes(TOKEN),
    );
  }
});
