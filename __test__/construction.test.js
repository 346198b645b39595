"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { TwilioApiClient, useSandbox, withEnv, NO_TWILIO_ENV } = require("./helpers.js");

const MISSING = "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required in environment variables";
const box = useSandbox();

test("the module's export is the class, also as .TwilioApiClient and .default", () => {
  const exported = require("..");
  assert.equal(typeof exported, "function");
  assert.equal(exported.TwilioApiClient, exported);
  assert.equal(exported.default, exported);
});

test("the class is importable from ESM, with every value the CommonJS module exports", async () => {
  const esm = await import("../index.mjs");
  assert.equal(esm.default, TwilioApiClient);
  assert.equal(esm.TwilioApiClient, TwilioApiClient);
  assert.equal(esm.TwilioApiError, TwilioApiClient.TwilioApiError);
  for (const name of Object.keys(TwilioApiClient)) assert.equal(esm[name], TwilioApiClient[name], name);
});

test("new TwilioApiClient() reads the environment at construction, with the old defaults", () => {
  const client = withEnv(
    { ...NO_TWILIO_ENV, TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tok" },
    () => new TwilioApiClient({ logger: false }),
  );
  assert.equal(client.accountSid, "AC123");
  assert.equal(client.whatsappNumber, "+14155238886");
  assert.equal(client.systemIdentity, "system");
});

test("accountSid, whatsappNumber and systemIdentity are for reading: assigning one throws and changes nothing", () => {
  const client = new TwilioApiClient({
    accountSid: "AC1",
    authToken: "t",
    logger: false,
  });
  for (const name of ["accountSid", "whatsappNumber", "systemIdentity"]) {
    const before = client[name];
    assert.throws(() => {
      client[name] = "changed";
    }, TypeError);
    assert.equal(client[name], before);
  }
  assert.deepEqual(Object.keys(client), ["accountSid", "whatsappNumber", "systemIdentity"]);
});

test("TWILIO_WHATSAPP_NUMBER and TWILIO_SYSTEM_IDENTITY set the sender and the system identity", () => {
  const client = withEnv(
    {
      ...NO_TWILIO_ENV,
      TWILIO_ACCOUNT_SID: "AC123",
      TWILIO_AUTH_TOKEN: "tok",
      TWILIO_WHATSAPP_NUMBER: "+15550001111",
      TWILIO_SYSTEM_IDENTITY: "bot",
    },
    () => new TwilioApiClient({ logger: false }),
  );
  assert.equal(client.whatsappNumber, "+15550001111");
  assert.equal(client.systemIdentity, "bot");
});

test("a missing SID or token throws the old module's Error, saying which value is missing and where it was looked for", () => {
  for (const [env, missing] of [
    [
      { TWILIO_ACCOUNT_SID: "AC123" },
      /the auth token is missing \(looked for in the authToken option and TWILIO_AUTH_TOKEN/,
    ],
    [
      { TWILIO_AUTH_TOKEN: "tok" },
      /the account SID is missing \(looked for in the accountSid option and TWILIO_ACCOUNT_SID\)/,
    ],
    [{}, /the account SID is missing/],
    [
      { TWILIO_ACCOUNT_SID: "AC123", TWILIO_API_KEY: "SK1" },
      /apiKey \(or TWILIO_API_KEY\) is given without its apiSecret/,
    ],
  ]) {
    withEnv({ ...NO_TWILIO_ENV, ...env }, () => {
      assert.throws(
        () => new TwilioApiClient(),
        (error) => error instanceof Error && error.message.startsWith(`${MISSING}: `) && missing.test(error.message),
      );
    });
  }
});

test("an account SID that is not one is refused, and an API key SID in its place is named", () => {
  withEnv(NO_TWILIO_ENV, () => {
    assert.throws(
      () => new TwilioApiClient({ accountSid: "SK123", authToken: "t" }),
      /an API key SID \(SK…\): give it as apiKey/,
    );
    assert.throws(() => new TwilioApiClient({ accountSid: "12345", authToken: "t" }), /those start with AC/);
  });
});

test("validateConfig() judges this client's configuration: options count as much as the environment", () => {
  withEnv(NO_TWILIO_ENV, () => {
    const client = new TwilioApiClient({
      accountSid: "AC1",
      authToken: "t",
      whatsappNumber: "+14155550100",
      logger: false,
    });
    assert.deepEqual(client.validateConfig(), {
      valid: true,
      config: { hasAccountSid: true, hasAuthToken: true, whatsappNumber: "+14155550100" },
    });
  });
});

test("an option wins over its environment variable", () => {
  const client = withEnv(
    {
      ...NO_TWILIO_ENV,
      TWILIO_ACCOUNT_SID: "ACenv",
      TWILIO_AUTH_TOKEN: "tok",
      TWILIO_SYSTEM_IDENTITY: "env",
    },
    () =>
      new TwilioApiClient({
        accountSid: "ACoption",
        systemIdentity: "option",
        logger: false,
      }),
  );
  assert.equal(client.accountSid, "ACoption");
  assert.equal(client.systemIdentity, "option");
});

test("an unknown option is refused so that typos do not pass silently", () => {
  assert.throws(() => new TwilioApiClient({ accountSid: "AC1", authToken: "t", timeout: 5 }), TypeError);
});

test("credentials are refused over plain http to a host that is not loopback", () => {
  assert.throws(
    () =>
      new TwilioApiClient({
        accountSid: "AC1",
        authToken: "t",
        baseUrl: "http://10.1.2.3:8080",
      }),
    /must use https/,
  );
});

test("TWILIO_BASE_URL points a client built from the environment at the sandbox", async () => {
  const client = withEnv({ ...NO_TWILIO_ENV, ...box.sandbox.env() }, () => new TwilioApiClient({ logger: false }));
  const result = await client.sendMessage("+1234567890", "hi");
  assert.equal(result.success, true);
});

test("an API key and secret authenticate in place of the auth token", async () => {
  const key = await box.sandbox.control("POST", "/api-keys", {});
  const client = new TwilioApiClient({
    accountSid: box.sandbox.accountSid,
    apiKey: key.sid,
    apiSecret: key.secret,
    baseUrl: box.sandbox.url,
    logger: false,
  });
  assert.equal((await client.sendMessage("+1234567890", "hi")).success, true);
});
