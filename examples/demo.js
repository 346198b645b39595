"use strict";

// The documented example: a template to +1234567890; the customer's reply (signed webhook), which opens their
// 24-hour WhatsApp window; then a text and an image, agents and metadata; each message's delivery state from its
// receipts; and the conversation as a transcript.
// Against the embedded sandbox by default; against real Twilio with TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
// TWILIO_WHATSAPP_NUMBER set and `-- --to +<number>` (optionally `--template HX…` and `--image https://…`).

const http = require("node:http");
const TwilioApiClient = require("..");
const { startSandbox } = require("../sandbox.js");

function option(name) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
}

// One line per step: what it did, in the transcript.
function describe(result) {
  if (result.messageSid) return `${result.messageSid} in ${result.conversationSid}`;
  if (result.participantSid)
    return `${result.identity} joined as ${result.participantSid}${result.alreadyPresent ? " (already in)" : ""}`;
  if ("previousAssignee" in result)
    return `assigned to ${result.assignee} (before: ${result.previousAssignee ?? "nobody"})`;
  if ("participantCount" in result)
    return `${result.state}, ${result.participantCount} participants, assigned to ${result.assignee ?? "nobody"}, updated ${result.dateUpdated.toISOString()}`;
  if ("metadata" in result) return `metadata ${JSON.stringify(result.metadata)}`;
  return JSON.stringify(result);
}

// The other half: a local webhook server, configured as the service's webhook; the customer's reply, simulated
// by the sandbox, arrives signed and is printed as the handler saw it, after its signature was checked.
async function customerReplies(client, sandbox, phone) {
  let delivered;
  const arrived = new Promise((resolve) => (delivered = resolve));
  const server = http.createServer(
    client.webhookHandler({ onMessageAdded: (event) => delivered(event) }, { protocol: "http" }),
  );
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/twilio/hooks`;
  const configured = await client.configureWebhooks({
    postWebhookUrl: url,
    filters: ["onMessageAdded", "onDeliveryUpdated"],
  });
  console.log(
    `\nconfigureWebhooks: ${configured.success ? `${configured.method} ${configured.postWebhookUrl} for ${configured.filters.join(", ")}` : `FAILED: ${configured.error}`}`,
  );
  const customer = client.formatWhatsAppNumber(phone);
  await sandbox.inbound({
    from: customer,
    to: `whatsapp:${client.whatsappNumber}`,
    body: "YES, see you then",
  });
  const event = await arrived;
  console.log("\nonMessageAdded (signature checked):");
  for (const name of [
    "eventType",
    "conversationSid",
    "messageSid",
    "index",
    "author",
    "body",
    "participantSid",
    "source",
    "dateCreated",
  ]) {
    const value = event[name] instanceof Date ? event[name].toISOString() : event[name];
    console.log(`  ${name}: ${value}`);
  }
  const window = await client.getWhatsAppWindow(phone);
  console.log(`\ngetWhatsAppWindow: ${window.open ? `open until ${window.closesAt.toISOString()}` : "closed"}`);
  server.close();
}

async function main() {
  const to = option("to");
  const live = Boolean(to);
  if (live && !(process.env.TWILIO_ACCOUNT_SID && process.env.TWILIO_AUTH_TOKEN)) {
    throw new Error("--to talks to real Twilio: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_NUMBER");
  }
  const sandbox = live ? null : await startSandbox();
  const client = live
    ? new TwilioApiClient()
    : new TwilioApiClient({
        accountSid: sandbox.accountSid,
        authToken: sandbox.authToken,
        baseUrl: sandbox.url,
        mediaAllowPrivateHosts: true,
      });
  const phone = to ?? "+1234567890";
  const templateSid = option("template") ?? sandbox?.templateSid;
  const imageUrl = option("image") ?? sandbox?.imageUrl;
  console.log(
    live ? `Talking to Twilio as ${client.accountSid}` : `Sandbox at ${sandbox.url} (no Twilio account needed)`,
  );

  const steps = [
    ["sendTemplateMessage", () => client.sendTemplateMessage(phone, templateSid, { 1: "12/1", 2: "3pm" })],
    // Free-form messages reach a WhatsApp customer only within 24 hours of their last message: these follow the
    // reply (simulated by the sandbox; live, the template's recipient has to answer first).
    ["customer replies", null],
    ["sendMessage", () => client.sendMessage(phone, "Thanks! See you on 12/1 at 3pm.")],
    ["sendImageMessageByUrl", () => client.sendImageMessageByUrl(phone, imageUrl, "Here is your booking")],
    ["addAgent", () => client.addAgent(phone, "agent_alice", { team: "bookings" })],
    ["assignConversation", () => client.assignConversation(phone, "agent_alice")],
    ["setConversationMetadata", () => client.setConversationMetadata(phone, { booking: "B-1042", vip: true })],
    ["getConversationStatus", () => client.getConversationStatus(phone)],
  ];
  let seen = 0;
  const sent = [];
  for (const [name, step] of steps) {
    if (name === "customer replies") {
      if (sandbox) await customerReplies(client, sandbox, phone);
      seen = sandbox ? (await sandbox.requests()).length : 0;
      continue;
    }
    const result = await step();
    if (result.messageSid) sent.push([name, result.messageSid]);
    const outcome = result.success ? describe(result) : `FAILED: ${result.error}`;
    console.log(`\n${name}: ${outcome}`);
    if (sandbox) {
      const calls = (await sandbox.requests()).slice(seen);
      seen += calls.length;
      console.log(`  Twilio API calls (${calls.length}):`);
      for (const call of calls) console.log(`    ${call.method} ${call.path} -> ${call.status}`);
    }
    if (!result.success) process.exitCode = 1;
  }

  // Twilio's receipts move on over time: the sandbox's clock moves a minute on instead of waiting.
  if (sandbox) await sandbox.advanceClock("PT1M");
  console.log("\nDelivery (getDeliveryStatus, from the receipts):");
  for (const [name, messageSid] of sent) {
    const status = await client.getDeliveryStatus(phone, messageSid);
    const states = status.success
      ? status.receipts.map((r) => `${r.status}${r.errorCode ? ` (${r.errorCode})` : ""}`).join(", ") ||
        "no receipt yet"
      : `FAILED: ${status.error}`;
    console.log(`  ${name} ${messageSid}: ${states}`);
  }

  if (sandbox) {
    const { conversations } = await sandbox.state();
    for (const conversation of conversations) {
      console.log(
        `\nConversation ${conversation.unique_name} "${conversation.friendly_name}" (${conversation.sid}, ${conversation.state})`,
      );
      console.log("  Participants:");
      for (const p of conversation.participants) {
        const who = p.messaging_binding
          ? `${p.messaging_binding.address} via ${p.messaging_binding.proxy_address}`
          : `identity ${p.identity}`;
        console.log(`    ${p.sid}  ${who}`);
      }
      console.log("  Messages:");
      for (const m of conversation.messages) {
        const extras = [
          m.content_sid ? `template ${m.content_sid}` : null,
          ...(m.media ?? []).map((media) => `media ${media.sid} ${media.content_type} ${media.size} bytes`),
        ].filter(Boolean);
        console.log(`    #${m.index} ${m.author}: ${m.body ?? ""}${extras.length ? `  [${extras.join(", ")}]` : ""}`);
      }
    }
    await sandbox.stop();
  } else {
    console.log(`\nConversation: ${await client.getConversation(phone)}`);
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
