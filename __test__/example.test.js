"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { PHONE, ADDRESS, SENDER, useSandbox } = require("./helpers.js");

const box = useSandbox();

test("the documented example threads template, text and image into one conversation", async () => {
  const client = box.client({ mediaAllowPrivateHosts: true });
  const template = await client.sendTemplateMessage(PHONE, box.sandbox.templateSid, { 1: "12/1", 2: "3pm" });
  const text = await client.sendMessage(PHONE, "Reply YES to confirm.");
  const image = await client.sendImageMessageByUrl(PHONE, box.sandbox.imageUrl, "Your booking");
  for (const result of [template, text, image]) assert.equal(result.success, true, result.error);

  const state = await box.sandbox.state();
  assert.equal(state.conversations.length, 1);
  const [conversation] = state.conversations;
  assert.equal(conversation.unique_name, "whatsapp_1234567890");
  assert.equal(conversation.friendly_name, "Chat with +1234567890");
  assert.deepEqual(
    conversation.participants.map((p) =>
      p.messaging_binding ? [p.messaging_binding.address, p.messaging_binding.proxy_address] : p.identity,
    ),
    [[ADDRESS, SENDER], "system"],
  );
  assert.deepEqual(
    conversation.messages.map((m) => [m.author, m.body, m.content_sid, m.media?.length ?? 0]),
    [
      ["system", "Your appointment is coming up on 12/1 at 3pm", box.sandbox.templateSid, 0],
      ["system", "Reply YES to confirm.", null, 0],
      ["system", "Your booking", null, 1],
    ],
  );
  assert.deepEqual(state.messages, [], "nothing went around the conversation through Messages.json");
});
