"use strict";

// Runs inside a folder where the packed tarballs were installed, under the Node being tested: sends a template,
// a text and an image to one customer and checks all three are messages of its conversation. The sandbox is
// `startSandbox()` in this process, or the one at TWILIO_BASE_URL (started by `npx twilio-sandbox`). Prints one
// JSON line; exits 1 when anything failed.

const TwilioApiClient = require("twilio-api-client");
const { startSandbox } = require("twilio-api-client/sandbox");

async function main() {
  const external = process.env.TWILIO_BASE_URL;
  const sandbox = external
    ? {
        url: external,
        accountSid: process.env.TWILIO_ACCOUNT_SID,
        authToken: process.env.TWILIO_AUTH_TOKEN,
        templateSid: process.env.TWILIO_TEMPLATE_SID,
      }
    : await startSandbox();
  const client = new TwilioApiClient({
    accountSid: sandbox.accountSid,
    authToken: sandbox.authToken,
    baseUrl: sandbox.url,
    mediaAllowPrivateHosts: true,
    logger: false,
  });
  const phone = "+15550100200";
  const sends = {
    template: await client.sendTemplateMessage(phone, sandbox.templateSid, {
      1: "12/1",
      2: "3pm",
    }),
    text: await client.sendMessage(phone, "Reply YES to confirm."),
    image: await client.sendImageMessageByUrl(phone, `${sandbox.url}/__sandbox/image.png`, "Your booking"),
  };
  const history = await client.getMessages(phone, { order: "asc" });
  const conversation = await client.getConversation(phone);
  const ok =
    Object.values(sends).every((sent) => sent.success && sent.conversationSid === conversation) &&
    history.success &&
    history.messages.length === 3 &&
    history.messages[2].media?.length === 1;
  console.log(
    JSON.stringify({
      ok,
      node: process.version,
      arch: process.arch,
      sandbox: external ? "npx twilio-sandbox" : "startSandbox()",
      messages: history.messages?.length ?? 0,
      failures: Object.entries(sends)
        .filter(([, sent]) => !sent.success)
        .map(([kind, sent]) => `${kind}: ${sent.error}`),
    }),
  );
  if (!external) await sandbox.stop();
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error) }));
  process.exitCode = 1;
});
