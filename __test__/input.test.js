"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { PHONE, useSandbox } = require("./helpers.js");

const box = useSandbox();
const HX = "HX0123456789abcdef0123456789abcdef";

test("nine bad calls make no request and each fails with a clear reason and a stable code", async () => {
  const client = box.client();
  const results = await Promise.all([
    client.sendMessage("", "hi"),
    client.sendMessage("not-a-number", "hi"),
    client.sendMessage(null, "hi"),
    client.sendMessage(PHONE, ""),
    client.sendMessage(PHONE, "x".repeat(1601)),
    client.sendTemplateMessage(PHONE, "HX123"),
    client.sendTemplateMessage(PHONE, HX, ["not", "an", "object"]),
    client.sendImageMessageByUrl(PHONE, "ftp://example.com/a.png"),
    client.sendImageMessageByUrl(PHONE, "http://127.0.0.1/secret.png"),
  ]);
  assert.deepEqual(
    results.map((r) => [r.success, r.code]),
    [
      [false, "INVALID_PHONE_NUMBER"],
      [false, "INVALID_PHONE_NUMBER"],
      [false, "INVALID_PHONE_NUMBER"],
      [false, "INVALID_TEXT"],
      [false, "TEXT_TOO_LONG"],
      [false, "INVALID_CONTENT_SID"],
      [false, "INVALID_CONTENT_VARIABLES"],
      [false, "INVALID_MEDIA_URL"],
      [false, "MEDIA_HOST_NOT_ALLOWED"],
    ],
  );
  for (const result of results) assert.ok(result.error.length > 10, result.error);
  assert.deepEqual(await box.calls(), []);
});

test("a message of exactly 1600 characters is accepted", async () => {
  const result = await box.client().sendMessage(PHONE, "é".repeat(1600));
  assert.equal(result.success, true, result.error);
});

test("findOrCreateConversation rejects bad input with a TypeError and makes no request", async () => {
  await assert.rejects(box.client().findOrCreateConversation("12"), (error) => {
    assert.ok(error instanceof TypeError);
    assert.equal(error.code, "INVALID_PHONE_NUMBER");
    return true;
  });
  assert.deepEqual(await box.calls(), []);
});

// Wrong types and values, each at every argument it could reach.
const HOSTILE = [
  ["null", null],
  ["undefined", undefined],
  ["a number", 1234567890],
  ["NaN", NaN],
  ["an object", { number: PHONE }],
  ["an array", [PHONE]],
  ["a function", () => PHONE],
  ["a symbol", Symbol("phone")],
  ["a bigint", 1234567890n],
  ["a huge string", "9".repeat(1_000_000)],
  ["a NUL byte", "+1234567890\0"],
  ["a newline", "+1234\n567890"],
  ["Arabic-Indic digits", "+١٢٣٤٥٦٧٨٩٠"],
  ["full-width digits", "+１２３４５６７８９０"],
  ["an odd-case prefix without digits", "WhAtSaPp:"],
  ["a prefix twice", "whatsapp:whatsapp:+1234567890"],
  ["a Date", new Date()],
];

// What each wrong type is called in the message; values of the right type are refused for their content.
const GOT = new Map([
  [null, "got null"],
  [undefined, "got undefined"],
  // A phone number given as a number is named, masked as every number in an error text is.
  [1234567890, "got a number (…7890)"],
  [NaN, "got a number (NaN)"],
]);
function expectedText(value) {
  if (GOT.has(value)) return GOT.get(value);
  if (typeof value === "string") return "Invalid phone number";
  if (typeof value === "function") return "got a function";
  if (typeof value === "symbol") return "got a symbol";
  if (typeof value === "bigint") return "got a bigint";
  if (Array.isArray(value)) return "got an array";
  if (value instanceof Date) return "got a Date";
  return "got an object";
}

test("hostile phone numbers fail with INVALID_PHONE_NUMBER and a message naming what was given, without a request", async () => {
  const client = box.client({ logLevel: "debug" });
  for (const [name, value] of HOSTILE) {
    const expected = expectedText(value);
    for (const [method, call] of [
      ["sendMessage", () => client.sendMessage(value, "hi")],
      ["sendTemplateMessage", () => client.sendTemplateMessage(value, HX)],
      ["sendImageMessageByUrl", () => client.sendImageMessageByUrl(value, "https://example.com/a.png")],
    ]) {
      const result = await call();
      assert.equal(result.success, false, `${method}: ${name}`);
      assert.equal(result.code, "INVALID_PHONE_NUMBER", `${method}: ${name}`);
      assert.ok(result.error.includes(expected), `${method}: ${name}: ${result.error}`);
    }
    // getConversation answers null for any failure; its log line (refused input: at debug) carries the code.
    box.logger.entries.length = 0;
    assert.equal(await client.getConversation(value), null, name);
    assert.deepEqual(
      box.logger.entries.map((e) => e.context.code),
      ["INVALID_PHONE_NUMBER"],
      name,
    );
    await assert.rejects(
      client.findOrCreateConversation(value),
      (error) =>
        error instanceof TypeError && error.code === "INVALID_PHONE_NUMBER" && error.message.includes(expected),
      name,
    );
  }
  assert.deepEqual(await box.calls(), []);
});

test("hostile texts, SIDs, variables and URLs fail clearly without a request", async () => {
  const client = box.client();
  const texts = HOSTILE.filter(
    ([name]) =>
      ![
        "a newline",
        "Arabic-Indic digits",
        "full-width digits",
        "an odd-case prefix without digits",
        "a prefix twice",
      ].includes(name),
  );
  for (const [name, value] of texts) {
    const result = await client.sendMessage(PHONE, value);
    assert.equal(result.success, false, `text: ${name}`);
    const sid = await client.sendTemplateMessage(PHONE, value);
    assert.equal(sid.success, false, `contentSid: ${name}`);
    const url = await client.sendImageMessageByUrl(PHONE, value);
    assert.equal(url.success, false, `mediaUrl: ${name}`);
  }
  for (const variables of [42, "not json", "[1]", new Map([["1", "a"]]), [1, 2], () => 1]) {
    const result = await client.sendTemplateMessage(PHONE, HX, variables);
    assert.equal(result.code, "INVALID_CONTENT_VARIABLES", String(variables));
  }
  for (const author of [42, {}, "", "x".repeat(300), "a\0b"]) {
    const result = await client.sendMessage(PHONE, "hi", author);
    assert.equal(result.code, "INVALID_AUTHOR", String(author));
  }
  assert.deepEqual(await box.calls(), []);
});

test("odd-case whatsapp: prefixes and separators are accepted as the same customer", async () => {
  const client = box.client();
  const sids = new Set();
  for (const input of ["WHATSAPP:+1234567890", "whatsapp: +1 234 567 890", "+1.234.567.890"]) {
    sids.add(await client.findOrCreateConversation(input));
  }
  assert.equal(sids.size, 1);
});
