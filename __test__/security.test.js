"use strict";

// The threat model's promises (SECURITY.md), each against the sandbox: local files judged by their bytes and
// confined to mediaRoot, no customer number in any error or log line, and every hostile argument refused in the
// user's language without a request.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const http = require("node:http");
const { PHONE, ADDRESS, SENDER, TwilioApiClient, useSandbox, withEnv, signedHooks } = require("./helpers.js");

const box = useSandbox();
const DIGITS = "1234567890";

const png = fs.readFileSync(path.join(__dirname, "..", "crates", "sandbox", "assets", "sample.png"));

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "twilio-security-"));
}

async function noTwilioRequest() {
  assert.deepEqual(await box.calls(), []);
}

test("a local file that is not an image WhatsApp accepts is refused by its bytes, whatever its name", async () => {
  const dir = tempDir();
  const disguised = path.join(dir, "photo.png");
  fs.writeFileSync(disguised, "DATABASE_PASSWORD=hunter2\n");
  const client = box.client();
  for (const file of ["/etc/passwd", disguised]) {
    const image = await client.sendImageMessage(PHONE, file);
    assert.equal(image.code, "UNSUPPORTED_MEDIA_TYPE", file);
    const upload = await client.uploadMedia(file);
    assert.equal(upload.code, "UNSUPPORTED_MEDIA_TYPE", file);
  }
  const pdf = path.join(dir, "menu.png");
  fs.writeFileSync(pdf, "%PDF-1.7\n");
  assert.equal((await client.sendImageMessage(PHONE, pdf)).code, "UNSUPPORTED_MEDIA_TYPE", "a PDF is not an image");
  await noTwilioRequest();
  assert.equal((await client.uploadMedia(pdf)).success, true, "but uploadMedia takes a PDF");
});

test("with mediaRoot, local files are read only from under it: no path outside, no .. escape, no symlink out", async () => {
  const root = tempDir();
  const outside = tempDir();
  fs.writeFileSync(path.join(root, "inside.png"), png);
  fs.writeFileSync(path.join(outside, "outside.png"), png);
  fs.symlinkSync(path.join(outside, "outside.png"), path.join(root, "link.png"));
  const client = box.client({ mediaRoot: root });
  for (const file of [
    path.join(outside, "outside.png"),
    path.join(root, "..", path.basename(outside), "outside.png"),
    path.join(root, "link.png"),
  ]) {
    const result = await client.sendImageMessage(PHONE, file);
    assert.equal(result.code, "MEDIA_PATH_NOT_ALLOWED", file);
    assert.equal((await client.uploadMedia(file)).code, "MEDIA_PATH_NOT_ALLOWED", file);
  }
  await noTwilioRequest();
  const inside = await client.sendImageMessage(PHONE, path.join(root, "inside.png"));
  assert.equal(inside.success, true, inside.error);
});

test("mediaRoot must be an existing directory", () => {
  assert.throws(() => box.client({ mediaRoot: "/nonexistent/media" }), /mediaRoot must be an existing directory/);
});

test("media fetched by URL is judged by its bytes before it is uploaded", async () => {
  const client = box.client({ mediaAllowPrivateHosts: true });
  const notAnImage = `${box.sandbox.url}/__sandbox/info`;
  const result = await client.sendImageMessageByUrl(PHONE, notAnImage, "look");
  assert.equal(result.code, "UNSUPPORTED_MEDIA_TYPE");
  await noTwilioRequest();
  const image = await client.sendImageMessageByUrl(PHONE, box.sandbox.imageUrl);
  assert.equal(image.success, true, image.error);
});

test("no error text, result or log line carries the customer's number or the message, on any failure", async () => {
  const failures = {
    "Twilio answered": async () => {
      await box.sandbox.fault({
        method: "GET",
        path: "whatsapp_",
        status: 400,
        code: 21211,
        message: `The 'To' number +${DIGITS} is not a valid phone number.`,
      });
      return box.client().sendMessage(PHONE, "secret words");
    },
    "Twilio unreachable": () =>
      box.client({ baseUrl: "http://127.0.0.1:9", maxRetries: 0 }).sendMessage(PHONE, "secret words"),
    timeout: async () => {
      await box.sandbox.fault({ path: ".", latency_ms: 2000, times: 10 });
      return box.client({ timeoutMs: 100, deadlineMs: 300 }).sendMessage(PHONE, "secret words");
    },
    "bad input": () => box.client({ logLevel: "debug" }).sendMessage(PHONE, "x".repeat(1601)),
    "rejected lookup": async () => {
      await box.sandbox.fault({
        path: "whatsapp_",
        status: 400,
        code: 21211,
        message: `Invalid number ${DIGITS}`,
      });
      return box
        .client()
        .findOrCreateConversation(PHONE)
        .catch((error) => ({ error: error.message, code: error.code }));
    },
  };
  for (const [kind, fail] of Object.entries(failures)) {
    await box.sandbox.reset();
    box.logger.entries.length = 0;
    const result = await fail();
    assert.ok(result.error, `${kind}: failed`);
    const seen = JSON.stringify({ result, log: box.logger.entries });
    assert.doesNotMatch(seen, new RegExp(DIGITS), `${kind}: ${seen}`);
    assert.doesNotMatch(seen, /secret words/, kind);
    assert.ok(box.logger.entries.length >= 1, `${kind}: logged`);
  }
});

test("media URLs to internal addresses are refused in every spelling, without a request", async () => {
  const client = box.client();
  for (const host of [
    "127.0.0.1",
    "127.1",
    "0x7f000001",
    "2130706433",
    "0177.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "169.254.169.254",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "0.0.0.0",
    "localhost",
  ]) {
    const result = await client.sendImageMessageByUrl(PHONE, `http://${host}/image.png`);
    assert.equal(result.code, "MEDIA_HOST_NOT_ALLOWED", `${host}: ${result.error}`);
  }
  await noTwilioRequest();
});

test("a media host that does not resolve is reported as such, not as an internal address", async () => {
  const client = box.client();
  const result = await client.sendImageMessageByUrl(PHONE, "https://no-such-host.invalid/image.png");
  assert.equal(result.success, false);
  assert.equal(result.code, "MEDIA_FETCH_FAILED", result.error);
  assert.match(result.error, /no-such-host\.invalid has no address \(.+\)/);
  assert.doesNotMatch(result.error, /private|mediaAllowPrivateHosts/);
  await noTwilioRequest();
});

test("media over mediaMaxBytes is refused, from a file or a URL, before anything is uploaded", async () => {
  const dir = tempDir();
  const file = path.join(dir, "image.png");
  fs.writeFileSync(file, png);
  const client = box.client({
    mediaMaxBytes: png.length - 1,
    mediaAllowPrivateHosts: true,
  });
  assert.equal((await client.sendImageMessage(PHONE, file)).code, "MEDIA_TOO_LARGE");
  assert.equal((await client.sendImageMessageByUrl(PHONE, box.sandbox.imageUrl)).code, "MEDIA_TOO_LARGE");
  await noTwilioRequest();
});

test("an answer larger than 8 MiB is not read to the end: the call fails with DECODE_ERROR", async () => {
  const client = box.client();
  await client.sendMessage(PHONE, "warm-up");
  await box.sandbox.fault({
    method: "POST",
    path: "/Messages$",
    status: 201,
    raw_body: "x".repeat(9 * 1024 * 1024),
  });
  const result = await client.sendMessage(PHONE, "hi");
  assert.equal(result.success, false);
  assert.equal(result.code, "DECODE_ERROR");
  assert.match(result.error, /larger than/);
});

// Every argument of every method, given every kind of JavaScript value that is not what it takes.
function hostileValues() {
  const throwing = {
    toString() {
      throw new Error("toString exploded");
    },
    get valueOf() {
      throw new Error("getter exploded");
    },
  };
  const proxy = new Proxy(
    {},
    {
      getPrototypeOf() {
        throw new Error("trap exploded");
      },
      get() {
        throw new Error("trap exploded");
      },
    },
  );
  return [
    ["NaN", NaN, "a number (NaN)"],
    ["Infinity", Infinity, "a number (Infinity)"],
    ["-Infinity", -Infinity, "a number (-Infinity)"],
    ["-0", -0, "a number (-0)"],
    ["a bigint", 10n, "a bigint"],
    ["a symbol", Symbol("s"), "a symbol"],
    ["a function", () => 1, "a function"],
    ["an object whose toString throws", throwing, "an object"],
    ["a proxy whose traps throw", proxy, "an object"],
    ["a Date", new Date(), "a Date"],
    ["a Map", new Map(), "an object"],
    ["an array", ["+1234567890"], "an array"],
  ];
}

const STRING_ARGUMENTS = [
  ["sendMessage", "to", "INVALID_PHONE_NUMBER", (c, v) => c.sendMessage(v, "hi")],
  ["sendMessage", "text", "INVALID_TEXT", (c, v) => c.sendMessage(PHONE, v)],
  ["sendMessage", "author", "INVALID_AUTHOR", (c, v) => c.sendMessage(PHONE, "hi", v)],
  [
    "sendTemplateMessage",
    "phoneNumber",
    "INVALID_PHONE_NUMBER",
    (c, v) => c.sendTemplateMessage(v, "HX0123456789abcdef0123456789abcdef"),
  ],
  ["sendTemplateMessage", "contentSid", "INVALID_CONTENT_SID", (c, v) => c.sendTemplateMessage(PHONE, v)],
  [
    "sendTemplateMessage",
    "contentVariables",
    "INVALID_CONTENT_VARIABLES",
    (c, v) => c.sendTemplateMessage(PHONE, "HX0123456789abcdef0123456789abcdef", v),
  ],
  ["sendImageMessage", "imagePath", "FILE_NOT_FOUND", (c, v) => c.sendImageMessage(PHONE, v)],
  ["sendImageMessageByUrl", "mediaUrl", "INVALID_MEDIA_URL", (c, v) => c.sendImageMessageByUrl(PHONE, v)],
  [
    "sendImageMessageByUrl",
    "caption",
    "INVALID_TEXT",
    (c, v) => c.sendImageMessageByUrl(PHONE, "https://example.com/a.png", v),
  ],
  ["uploadMedia", "filePath", "FILE_NOT_FOUND", (c, v) => c.uploadMedia(v)],
  ["addAgent", "identity", "INVALID_IDENTITY", (c, v) => c.addAgent(PHONE, v)],
  ["addAgent", "attributes", "INVALID_ATTRIBUTES", (c, v) => c.addAgent(PHONE, "alice", v)],
  ["removeAgent", "phoneNumber", "INVALID_PHONE_NUMBER", (c, v) => c.removeAgent(v, "alice")],
  ["setConversationState", "state", "INVALID_STATE", (c, v) => c.setConversationState(PHONE, v)],
  ["setConversationMetadata", "metadata", "INVALID_METADATA", (c, v) => c.setConversationMetadata(PHONE, v)],
  ["getMessages", "phoneNumber", "INVALID_PHONE_NUMBER", (c, v) => c.getMessages(v)],
  [
    "getDeliveryStatus",
    "phoneNumber",
    "INVALID_PHONE_NUMBER",
    (c, v) => c.getDeliveryStatus(v, "IM0123456789abcdef0123456789abcdef"),
  ],
  ["getDeliveryStatus", "messageSid", "INVALID_MESSAGE_SID", (c, v) => c.getDeliveryStatus(PHONE, v)],
  ["getWhatsAppWindow", "phoneNumber", "INVALID_PHONE_NUMBER", (c, v) => c.getWhatsAppWindow(v)],
];

test("every argument of every method refuses every hostile value with its own code, naming the argument and what it got", async () => {
  const client = box.client();
  for (const [method, argument, code, call] of STRING_ARGUMENTS) {
    for (const [name, value, got] of hostileValues()) {
      const result = await call(client, value);
      const where = `${method}(${argument}) with ${name}`;
      assert.equal(result.success, false, where);
      assert.equal(result.code, code, `${where}: ${result.error}`);
      assert.match(result.error, new RegExp(`^${argument} must be `), where);
      // Arrays and objects are refused as what they are, whatever the method takes in their place.
      if (!["metadata", "attributes", "contentVariables"].includes(argument) || typeof value !== "object")
        assert.ok(result.error.endsWith(`got ${got}`), `${where}: ${result.error}`);
      assert.doesNotMatch(result.error, /serde|napi|Rust|Value/, where);
    }
  }
  await noTwilioRequest();
});

test("getDeliveryStatus and getWhatsAppWindow refuse a bad message SID or number without a request", async () => {
  const client = box.client();
  for (const sid of ["SM0123456789abcdef0123456789abcdef", "IM123", ""]) {
    const result = await client.getDeliveryStatus(PHONE, sid);
    assert.equal(result.code, "INVALID_MESSAGE_SID", sid);
    assert.match(result.error, /^messageSid must be /);
  }
  for (const number of ["12", "not a number"]) {
    const sid = "IM0123456789abcdef0123456789abcdef";
    assert.equal((await client.getDeliveryStatus(number, sid)).code, "INVALID_PHONE_NUMBER");
    assert.equal((await client.getWhatsAppWindow(number)).code, "INVALID_PHONE_NUMBER");
  }
  await noTwilioRequest();
});

test("the synchronous methods throw a TypeError for hostile values", () => {
  const client = box.client();
  for (const [name, value, got] of hostileValues()) {
    assert.throws(
      () => client.formatWhatsAppNumber(value),
      (error) =>
        error instanceof TypeError &&
        error.code === "INVALID_PHONE_NUMBER" &&
        error.message === `phoneNumber must be a string, got ${got}`,
      name,
    );
    assert.throws(() => client.getContentType(value), TypeError, name);
  }
});

test("media is fetched through the environment's proxy, and internal hosts are refused before any request", async () => {
  const proxied = [];
  const proxy = http.createServer((req, res) => {
    proxied.push(req.url);
    res.end("proxied");
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  try {
    const address = `http://127.0.0.1:${proxy.address().port}`;
    // The sandbox (127.0.0.1) is reached directly; anything else goes through the proxy.
    const proxiedClient = (options) =>
      withEnv({ HTTP_PROXY: address, HTTPS_PROXY: address, NO_PROXY: "127.0.0.1" }, () => box.client(options));
    const client = proxiedClient();
    const local = await client.sendImageMessageByUrl(PHONE, "http://localhost:9/a.png");
    assert.equal(local.code, "MEDIA_HOST_NOT_ALLOWED");
    // A name that does not resolve here may resolve on the proxy's side, inside its network.
    const metadata = await client.sendImageMessageByUrl(PHONE, "http://metadata.google.internal/computeMetadata/v1/");
    assert.equal(metadata.code, "MEDIA_HOST_NOT_ALLOWED");
    assert.deepEqual(proxied, [], "the proxy was asked for nothing");
    const allowed = proxiedClient({ mediaAllowPrivateHosts: true });
    await allowed.sendImageMessageByUrl(PHONE, "http://localhost:9/a.png");
    assert.deepEqual(proxied, ["http://localhost:9/a.png"]);
  } finally {
    proxy.close();
  }
});

test("a __proto__ key in Twilio's data stays out of every returned object's prototype", async () => {
  const hostile = '{"__proto__":{"isAdmin":true},"plan":"gold"}';
  await box.sandbox.seed({
    unique_name: "whatsapp_1234567890",
    attributes: hostile,
    participants: [{ address: ADDRESS, proxy_address: SENDER }],
  });
  const client = box.client();
  const clean = (object, what) => {
    assert.equal(Object.getPrototypeOf(object), Object.prototype, what);
    assert.equal(object.isAdmin, undefined, what);
  };
  const { metadata } = await client.getConversationMetadata(PHONE);
  clean(metadata, "metadata");
  assert.equal(metadata.plan, "gold");
  assert.equal((await client.addAgent(PHONE, "agent", JSON.parse(hostile))).success, true);
  for (const participant of (await client.listParticipants(PHONE)).participants)
    if (participant.identity === "agent") clean(participant.attributes, "participant attributes");

  const events = [];
  const hooks = await signedHooks(box.sandbox, {
    onEvent: (event) => events.push(event),
  });
  try {
    const status = await hooks.post({
      EventType: "onMessageAdded",
      ConversationSid: "CH00000000000000000000000000000000",
      Attributes: hostile,
      Media: '[{"__proto__":{"isAdmin":true},"Sid":"ME1"}]',
    });
    assert.equal(status, 200);
  } finally {
    await hooks.close();
  }
  clean(events[0].attributes, "a webhook event's attributes");
  clean(events[0].media[0], "a webhook event's media");
});

test("error texts carry no media URL, no unbounded path, and Twilio's moreInfo and details masked", async () => {
  const client = box.client({ mediaAllowPrivateHosts: true });
  const fetched = await client.sendImageMessageByUrl(
    PHONE,
    "http://127.0.0.1:9/15551234567/X-Amz-Signature=s3cr3t.png",
  );
  assert.equal(fetched.code, "MEDIA_FETCH_FAILED");
  assert.ok(!/15551234567|s3cr3t/.test(fetched.error), fetched.error);
  const long = await client.sendImageMessage(PHONE, `/nonexistent/${"a".repeat(100_000)}.png`);
  assert.equal(long.code, "FILE_NOT_FOUND");
  assert.ok(long.error.length <= 400, `${long.error.length} characters`);

  await box.sandbox.fault({
    path: "^/v1/Conversations/",
    status: 400,
    raw_body: JSON.stringify({
      code: 21211,
      message: "The 'To' number +15551234567 is not valid",
      more_info: "https://www.twilio.com/docs/errors/21211?to=15551234567",
      details: { to: "+15551234567", nested: [{ phone: 15551234567 }] },
      status: 400,
    }),
  });
  const error = await client.findOrCreateConversation(PHONE).catch((e) => e);
  const shown = JSON.stringify({
    message: error.message,
    moreInfo: error.moreInfo,
    details: error.details,
  });
  assert.equal(error.code, 21211);
  assert.ok(!shown.includes("15551234567"), shown);
});

test("numbers in Twilio's answers are masked however they are spelled: error text, details, logs and spans", async () => {
  const client = box.client();
  const spellings = ["+1 415-555-0142", "+1 (415) 555-0142", "%2B14155550142", "415.555.0142", "whatsapp:+14155550142"];
  await box.sandbox.fault({
    path: "^/v1/Conversations/",
    status: 400,
    times: 2,
    raw_body: JSON.stringify({
      code: 21211,
      message: `The 'To' number ${spellings[0]} is not valid`,
      more_info: `https://www.twilio.com/docs/errors/21211?to=${spellings[2]}`,
      details: { to: spellings[1], tried: spellings, body: `sent to ${spellings[3]}` },
      status: 400,
    }),
  });
  const error = await client.findOrCreateConversation(PHONE).catch((e) => e);
  const result = await client.sendMessage(PHONE, "hello");
  assert.equal(error.code, 21211);
  assert.equal(result.code, 21211);
  const shown = JSON.stringify({
    message: error.message,
    moreInfo: error.moreInfo,
    details: error.details,
    result,
    logged: box.logger.entries,
  });
  assert.doesNotMatch(shown, /555-0142|555\.0142|4155550142|\(415\) 555/, shown);
  assert.match(JSON.stringify(error.details), /…0142/);
});

/** A fake Twilio: answers every request with `status` and `headers`, counting them. */
async function fakeTwilio(status, headers, body = '{"code":20429,"message":"Too Many Requests","status":429}') {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    req.resume();
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  test.after(() => server.close());
  return { url: `http://127.0.0.1:${server.address().port}`, requests: () => requests };
}

test("a Retry-After no clock can hold (1e20, 1e300, 2^64) ends the call as Twilio's 429, never a panic", async () => {
  for (const retryAfter of ["10000000000000000000", "1e20", "1e300", "18446744073709551616", "inf", "-5", "NaN"]) {
    const twilio = await fakeTwilio(429, { "retry-after": retryAfter });
    const client = new TwilioApiClient({
      accountSid: box.sandbox.accountSid,
      authToken: box.sandbox.authToken,
      baseUrl: twilio.url,
      deadlineMs: 2000,
      logger: false,
    });
    const result = await client.sendMessage(PHONE, "hello");
    assert.equal(result.success, false, retryAfter);
    assert.notEqual(result.code, "INTERNAL_ERROR", `${retryAfter}: ${result.error}`);
    assert.ok(twilio.requests() >= 1);
  }
});
