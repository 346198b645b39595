"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { TwilioApiClient, withEnv, NO_TWILIO_ENV } = require("./helpers.js");

const client = new TwilioApiClient({
  accountSid: "AC1",
  authToken: "t",
  logger: false,
});

test("formatWhatsAppNumber drops a whatsapp: prefix in any case and ensures a leading +", () => {
  for (const input of ["+1234567890", "whatsapp:+1234567890", "WhatsApp:+1234567890", "+1 (234) 567-890"]) {
    assert.equal(client.formatWhatsAppNumber(input), "whatsapp:+1234567890", input);
  }
  for (const input of ["14155550142", "WhatsApp:14155550142"]) {
    assert.equal(client.formatWhatsAppNumber(input), "whatsapp:+14155550142", input);
  }
});

test("a number without + that is valid for no country is refused with a hint, not sent to another country", () => {
  for (const input of ["5551234567", "1234567890", "WhatsApp:1234567890"]) {
    assert.throws(
      () => client.formatWhatsAppNumber(input),
      (error) =>
        error instanceof TypeError &&
        error.code === "INVALID_PHONE_NUMBER" &&
        /valid for no country/.test(error.message) &&
        /defaultCountry/.test(error.message) &&
        !error.message.includes("1234567"),
      input,
    );
  }
  assert.match(
    (() => {
      try {
        client.formatWhatsAppNumber("5551234567");
      } catch (error) {
        return error.message;
      }
    })(),
    /did you mean \+1 555…\?/,
  );
});

test("defaultCountry (or TWILIO_DEFAULT_COUNTRY) reads national numbers; international ones keep working", () => {
  const us = new TwilioApiClient({ accountSid: "AC1", authToken: "t", logger: false, defaultCountry: "US" });
  assert.equal(us.formatWhatsAppNumber("(415) 555-0142"), "whatsapp:+14155550142");
  assert.equal(us.formatWhatsAppNumber("447911123456"), "whatsapp:+447911123456");
  assert.equal(us.formatWhatsAppNumber("+447911123456"), "whatsapp:+447911123456");
  const gb = withEnv(
    { TWILIO_DEFAULT_COUNTRY: "GB" },
    () => new TwilioApiClient({ accountSid: "AC1", authToken: "t", logger: false }),
  );
  assert.equal(gb.formatWhatsAppNumber("07911 123456"), "whatsapp:+447911123456");
  assert.throws(
    () => new TwilioApiClient({ accountSid: "AC1", authToken: "t", logger: false, defaultCountry: "USA" }),
    /defaultCountry must be a two-letter ISO 3166 country code/,
  );
});

test("formatWhatsAppNumber throws a TypeError for what is not a phone number", () => {
  for (const input of ["", "abc", null, undefined, 42, "+12"]) {
    assert.throws(() => client.formatWhatsAppNumber(input), TypeError, String(input));
  }
});

test("getContentType maps the extension, in any case, as the old module did", () => {
  const cases = {
    "a.jpg": "image/jpeg",
    "b.JPEG": "image/jpeg",
    "c.png": "image/png",
    "d.GIF": "image/gif",
    "e.pdf": "application/pdf",
    "f.webp": "application/octet-stream",
    noext: "application/octet-stream",
  };
  for (const [file, type] of Object.entries(cases)) assert.equal(client.getContentType(file), type, file);
  assert.throws(() => client.getContentType(undefined), TypeError);
});

test("validateConfig names the missing variables, reading the environment at call time", () => {
  const client = withEnv(
    { ...NO_TWILIO_ENV, TWILIO_ACCOUNT_SID: "AC1", TWILIO_AUTH_TOKEN: "t" },
    () => new TwilioApiClient({ logger: false }),
  );
  withEnv(NO_TWILIO_ENV, () => {
    assert.deepEqual(client.validateConfig(), {
      valid: false,
      missing: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"],
      error: "Missing required environment variables: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN",
    });
  });
  withEnv({ ...NO_TWILIO_ENV, TWILIO_ACCOUNT_SID: "AC1" }, () => {
    assert.deepEqual(client.validateConfig().missing, ["TWILIO_AUTH_TOKEN"]);
  });
});

test("validateConfig reports a valid configuration and the sender, or 'Not configured'", () => {
  withEnv({ ...NO_TWILIO_ENV, TWILIO_ACCOUNT_SID: "AC1", TWILIO_AUTH_TOKEN: "t" }, () => {
    assert.deepEqual(client.validateConfig(), {
      valid: true,
      config: {
        hasAccountSid: true,
        hasAuthToken: true,
        whatsappNumber: "Not configured",
      },
    });
  });
  withEnv(
    {
      ...NO_TWILIO_ENV,
      TWILIO_ACCOUNT_SID: "AC1",
      TWILIO_AUTH_TOKEN: "t",
      TWILIO_WHATSAPP_NUMBER: "+15550001111",
    },
    () => assert.equal(client.validateConfig().config.whatsappNumber, "+15550001111"),
  );
});

test("validateConfig judges this client: its options, and an API key and secret, count as much as the environment", () => {
  withEnv(
    {
      ...NO_TWILIO_ENV,
      TWILIO_ACCOUNT_SID: "AC1",
      TWILIO_API_KEY: "SK1",
      TWILIO_API_SECRET: "s",
    },
    () => {
      const fromKey = new TwilioApiClient({ logger: false });
      assert.equal(fromKey.accountSid, "AC1", "the client itself is configured");
      assert.equal(fromKey.validateConfig().valid, true);
    },
  );
  withEnv(NO_TWILIO_ENV, () => {
    const fromOptions = new TwilioApiClient({
      accountSid: "AC1",
      authToken: "t",
      logger: false,
    });
    assert.equal(fromOptions.validateConfig().valid, true);
  });
});
