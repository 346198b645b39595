"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { PHONE, ADDRESS, SENDER, useSandbox } = require("./helpers.js");

const box = useSandbox();
const PNG = path.join(__dirname, "..", "crates", "sandbox", "assets", "sample.png");

async function messagingSends() {
  return (await box.sandbox.requests()).filter((r) => r.path.endsWith("/Messages.json"));
}

test("delivery 'messaging' sends templates through Messages.json and passes the contract check", async () => {
  const client = box.client({ delivery: "messaging" });
  const result = await client.sendTemplateMessage(PHONE, box.sandbox.templateSid, { 1: "12/1", 2: "3pm" });
  assert.equal(result.success, true, result.error);
  assert.match(result.messageSid, /^SM/);
  assert.match(result.conversationSid, /^CH/);
  assert.equal(result.body, "Your appointment is coming up on 12/1 at 3pm");
  const [send] = await messagingSends();
  assert.equal(send.status, 201);
  assert.deepEqual(send.params, {
    From: SENDER,
    To: ADDRESS,
    ContentSid: box.sandbox.templateSid,
    ContentVariables: '{"1":"12/1","2":"3pm"}',
  });
});

test("delivery 'messaging' sends images by URL with the caption as Body", async () => {
  const client = box.client({ delivery: "messaging" });
  const result = await client.sendImageMessageByUrl(PHONE, "https://cdn.example.com/a.png", "Look");
  assert.equal(result.success, true, result.error);
  const [send] = await messagingSends();
  assert.deepEqual(send.params, {
    From: SENDER,
    To: ADDRESS,
    MediaUrl: "https://cdn.example.com/a.png",
    Body: "Look",
  });
});

test("delivery 'messaging' refuses a media URL on a private, loopback or link-local host before any request", async () => {
  const client = box.client({ delivery: "messaging" });
  for (const url of [
    "http://127.0.0.1/a.png",
    "http://localhost:9/a.png",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/a.png",
  ]) {
    const result = await client.sendImageMessageByUrl(PHONE, url, "Look");
    assert.equal(result.code, "MEDIA_HOST_NOT_ALLOWED", url);
  }
  assert.deepEqual(await box.calls(), []);
});

test("sendImageMessage with baseUrl sends <baseUrl>/images/<encodeURIComponent(basename)> by URL", async () => {
  const client = box.client({ delivery: "messaging" });
  const result = await client.sendImageMessage(PHONE, PNG, null, "https://shop.example.com/");
  assert.equal(result.success, true, result.error);
  const [send] = await messagingSends();
  assert.equal(send.params.MediaUrl, "https://shop.example.com/images/sample.png");
  assert.equal(send.params.Body, undefined);
});

test("text messages stay conversation messages with delivery 'messaging'", async () => {
  const client = box.client({ delivery: "messaging" });
  const result = await client.sendMessage(PHONE, "hi");
  assert.match(result.messageSid, /^IM/);
  assert.deepEqual(await messagingSends(), []);
});

test("TWILIO_DELIVERY=messaging selects the mode from the environment", async () => {
  process.env.TWILIO_DELIVERY = "messaging";
  try {
    const result = await box.client().sendTemplateMessage(PHONE, box.sandbox.templateSid, { 1: "12/1", 2: "3pm" });
    assert.match(result.messageSid, /^SM/);
  } finally {
    delete process.env.TWILIO_DELIVERY;
  }
});
