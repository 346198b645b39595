"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const util = require("node:util");
const { execFile } = require("node:child_process");
const { promisify } = require("node:util");
const { PHONE, TwilioApiClient, useSandbox } = require("./helpers.js");

const box = useSandbox();
const PNG = path.join(__dirname, "..", "crates", "sandbox", "assets", "sample.png");

test("sendMessage resolves { success, messageSid, conversationSid, status: 'sent', data }", async () => {
  const result = await box.client().sendMessage(PHONE, "Hello!");
  assert.equal(result.success, true);
  assert.match(result.messageSid, /^IM[0-9a-f]{32}$/);
  assert.match(result.conversationSid, /^CH[0-9a-f]{32}$/);
  assert.equal(result.status, "sent");
  assert.equal(result.data.sid, result.messageSid);
  assert.equal(result.data.body, "Hello!");
});

test("data is presented as twilio-node does: camelCase keys and Date objects", async () => {
  const { data } = await box.client().sendMessage(PHONE, "Hello!");
  assert.equal(data.conversationSid.slice(0, 2), "CH");
  assert.equal(data.accountSid, box.sandbox.accountSid);
  assert.ok(data.dateCreated instanceof Date && !Number.isNaN(data.dateCreated.getTime()));
  assert.ok(data.dateUpdated instanceof Date);
  assert.equal(data.index, 0);
  assert.equal(data.date_created, undefined);
});

test("the author defaults to the system identity and can be given", async () => {
  const client = box.client({ systemIdentity: "support-bot" });
  assert.equal((await client.sendMessage(PHONE, "a")).data.author, "support-bot");
  assert.equal((await client.sendMessage(PHONE, "b", "agent-7")).data.author, "agent-7");
});

test("sendTemplateMessage sends ContentSid and ContentVariables as a JSON string, and returns the body", async () => {
  const result = await box.client().sendTemplateMessage(PHONE, box.sandbox.templateSid, {
    1: "12/1",
    2: "3pm",
  });
  assert.equal(result.success, true);
  assert.equal(result.body, "Your appointment is coming up on 12/1 at 3pm");
  const send = (await box.sandbox.requests()).at(-1);
  assert.equal(send.params.ContentSid, box.sandbox.templateSid);
  assert.equal(send.params.ContentVariables, '{"1":"12/1","2":"3pm"}');
});

test("sendTemplateMessage sends no ContentVariables when they are empty", async () => {
  const template = await box.sandbox.template({
    body: "Thanks for your order",
  });
  const result = await box.client().sendTemplateMessage(PHONE, template.sid);
  assert.equal(result.body, "Thanks for your order");
  const send = (await box.sandbox.requests()).at(-1);
  assert.equal(send.params.ContentVariables, undefined);
});

test("sendTemplateMessage accepts the variables as a JSON object string", async () => {
  const result = await box.client().sendTemplateMessage(PHONE, box.sandbox.templateSid, '{"1":"Mon","2":"9am"}');
  assert.equal(result.body, "Your appointment is coming up on Mon at 9am");
});

test("a Twilio refusal resolves to { success: false, error, code } with Twilio's numeric code", async () => {
  // The client read the template, then it was deleted at Twilio: its cached definition lets the send go, and
  // Conversations refuses it.
  const template = await box.sandbox.template({ body: "Thanks for your order" });
  const client = box.client();
  assert.equal((await client.sendTemplateMessage(PHONE, template.sid)).success, true);
  await box.sandbox.control("DELETE", `/templates/${template.sid}`);
  const result = await client.sendTemplateMessage(PHONE, template.sid);
  assert.deepEqual(result, {
    success: false,
    error: "Invalid content SID",
    code: 50526,
  });
});

test("sendImageMessageByUrl uploads the media and makes the caption the message body", async () => {
  const result = await box
    .client({ mediaAllowPrivateHosts: true })
    .sendImageMessageByUrl(PHONE, box.sandbox.imageUrl, "Look");
  assert.equal(result.success, true, result.error);
  assert.equal(result.data.body, "Look");
  assert.equal(result.data.media[0].content_type, "image/png");
  assert.match(result.data.media[0].sid, /^ME/);
});

test("sendImageMessage without baseUrl uploads the local file into the conversation", async () => {
  const result = await box.client().sendImageMessage(PHONE, PNG, "From disk");
  assert.equal(result.success, true, result.error);
  assert.equal(result.data.body, "From disk");
  assert.equal(result.data.media[0].filename, "sample.png");
  const upload = (await box.sandbox.requests()).find((r) => r.path.endsWith("/Media"));
  assert.equal(upload.params.content_type, "image/png");
});

test("sendImageMessage with a missing file fails with 'Image file not found: <path>'", async () => {
  const result = await box.client().sendImageMessage(PHONE, "/no/such/image.png");
  assert.deepEqual(result, {
    success: false,
    error: "Image file not found: /no/such/image.png",
    code: "FILE_NOT_FOUND",
  });
  assert.deepEqual(await box.calls(), []);
});

test("uploadMedia uploads a local file and answers its media SID", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "upload-"));
  const file = path.join(dir, "invoice.pdf");
  fs.writeFileSync(file, "%PDF-1.4 test");
  const result = await box.client().uploadMedia(file);
  assert.equal(result.success, true, result.error);
  assert.match(result.mediaSid, /^ME[0-9a-f]{32}$/);
  assert.equal(result.contentType, "application/pdf");
  assert.equal(result.size, 13);
  assert.equal(result.filename, "invoice.pdf");
  assert.equal(result.serviceSid, box.sandbox.chatServiceSid);
  assert.ok(result.data.dateCreated instanceof Date);
});

test("data reads as a plain object everywhere, though it is presented only when first read", async () => {
  const client = box.client();
  const send = () => client.sendTemplateMessage(PHONE, box.sandbox.templateSid, { 1: "a", 2: "b" });
  // The same keys and values, in the same order, as plain data properties.
  const plain = (result) => Object.fromEntries(Object.keys(result).map((key) => [key, result[key]]));
  const first = await send();
  assert.deepEqual(Object.keys(first), ["success", "messageSid", "conversationSid", "status", "data", "body"]);
  assert.deepEqual(
    util.inspect({ outer: [first] }, { depth: 4 }),
    util.inspect({ outer: [plain(first)] }, { depth: 4 }),
  );
  const second = await send();
  const text = JSON.stringify(second);
  assert.equal(text, JSON.stringify(plain(second)));
  assert.equal(JSON.parse(text).data.sid, second.messageSid);
  assert.equal(JSON.parse(text).data.contentSid, box.sandbox.templateSid);
  const third = await send();
  const spread = { ...third };
  assert.deepStrictEqual(spread, third);
  assert.ok(spread.data.dateCreated instanceof Date);
  assert.equal(spread.data.accountSid, box.sandbox.accountSid);
  const fourth = await send();
  fourth.data = "replaced";
  assert.equal(fourth.data, "replaced");
});

test("results with a lazy data stay fast objects, one hidden class per kind (V8's own check)", async () => {
  // Each result once had a getter and setter of its own, and V8 made every one a slow dictionary: 2–3 µs of
  // the event loop per message in \`npm run bench\`. %HasFastProperties and %HaveSameMap are V8's own.
  const script = `
    const { sent, templateSent, uploaded } = require(${JSON.stringify(require.resolve("../lib/results.js"))});
    const message = (i) => ({ messageSid: "IM" + i, conversationSid: "CH1", body: "b", dataJson: "{}" });
    const media = (i) => ({ mediaSid: "ME" + i, serviceSid: "IS1", contentType: "image/png", filename: "a.png", size: 1, dataJson: "{}" });
    const pairs = [[sent(message(1)), sent(message(2))], [templateSent(message(3)), templateSent(message(4))],
      [uploaded(media(5)), uploaded(media(6))]];
    console.log(JSON.stringify(pairs.map(([a, b]) => [%HasFastProperties(a), %HaveSameMap(a, b)])));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--allow-natives-syntax", "-e", script]);
  assert.deepEqual(JSON.parse(stdout), [
    [true, true],
    [true, true],
    [true, true],
  ]);
});

test("getConversation answers null without creating anything, then the SID once one exists", async () => {
  const client = box.client();
  assert.equal(await client.getConversation(PHONE), null);
  assert.equal((await box.sandbox.state()).conversations.length, 0);
  const sid = await client.findOrCreateConversation(PHONE);
  assert.equal(await box.client().getConversation(PHONE), sid);
});

test("getConversation answers null on error, for a customer who has a conversation, and logs the failure", async () => {
  // The conversation exists: null can only mean the lookup failed.
  await box.client().findOrCreateConversation(PHONE);
  const client = box.client({ authToken: "wrong" });
  assert.equal(await client.getConversation(PHONE), null);
  assert.deepEqual(
    box.logger.entries.map((e) => [e.level, e.context.code]),
    [["error", 20003]],
  );
});

test("testConnection fetches the account, then probes the Conversations API", async () => {
  const result = await box.client().testConnection();
  assert.deepEqual(result, {
    success: true,
    message: "Twilio API client is ready (Conversations API enabled)",
    accountSid: box.sandbox.accountSid,
    accountName: "Twilio Sandbox Account",
  });
  const calls = await box.calls();
  assert.deepEqual(calls, [`GET /2010-04-01/Accounts/${box.sandbox.accountSid}.json`, "GET /v1/Configuration"]);
});

test("testConnection reports a failure as { success: false, error }", async () => {
  const result = await box.client({ authToken: "wrong" }).testConnection();
  assert.equal(result.success, false);
  assert.match(result.error, /^Authenticate \(20003\): Twilio refused the credentials\..*Twilio Console/);
  assert.equal(result.code, 20003);
});

test("findOrCreateConversation rejects with an error shaped like twilio-node's RestException", async () => {
  await assert.rejects(box.client({ authToken: "wrong" }).findOrCreateConversation(PHONE), (error) => {
    assert.ok(error instanceof TwilioApiClient.TwilioApiError);
    assert.equal(error.name, "TwilioApiError");
    assert.match(error.message, /^Authenticate \(20003\): Twilio refused the credentials/);
    assert.equal(error.code, 20003);
    assert.equal(error.status, 401);
    assert.equal(error.moreInfo, "https://www.twilio.com/docs/errors/20003");
    return true;
  });
});
