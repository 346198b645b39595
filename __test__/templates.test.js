"use strict";

// Templates are checked against their definition at Twilio before they reach a customer (docs/CONTRACT.md
// "Templates"): each rule refused with no write, the right variables delivered, one definition read for a
// campaign, both Content API outage behaviours, and dry runs that write nothing.

const test = require("node:test");
const assert = require("node:assert/strict");
const util = require("node:util");
const twilio = require("twilio");
const { useSandbox, PHONE } = require("./helpers.js");

const box = useSandbox();

const VISIT = "Hi {{1}}, see you at {{2}}.";
const customer = (i) => `+1555100${String(i).padStart(4, "0")}`;

/** A template of the sandbox's Content API, with sample values, approved unless said otherwise. */
async function template(fields = {}) {
  return box.sandbox.template({ body: VISIT, variables: { 1: "Customer", 2: "noon" }, ...fields });
}

/** Twilio requests other than reads of the Content API: what a refused send must not have made. */
async function beyondTheContentApi() {
  return (await box.calls()).filter((call) => !/^GET \/v1\/Content\//.test(call));
}

async function writes() {
  return (await box.calls()).filter((call) => !call.startsWith("GET "));
}

test("each variable that does not fit the template is refused by name, with a code of its own and no write", async () => {
  const visit = await template();
  const client = box.client();
  const cases = [
    [{ first: "Ann", time: "3pm" }, "TEMPLATE_VARIABLE_UNKNOWN", "{{first}}; its variables are {{1}}, {{2}}"],
    [{ 1: "Ann" }, "TEMPLATE_VARIABLE_MISSING", "{{2}}"],
    [{ 1: "Ann", 2: "3pm", 3: "x" }, "TEMPLATE_VARIABLE_UNKNOWN", "{{3}}"],
    [{ 1: "", 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "{{1}} is empty"],
    [{ 1: "   ", 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "{{1}} is empty"],
    [{ 1: null, 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "{{1}} is null"],
    [{ 1: "Ann\nBob", 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "{{1}} contains a line break"],
    [{ 1: "Ann\tBob", 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "{{1}} contains a tab"],
    [{ 1: "Ann     Bob", 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "more than 4 spaces in a row"],
    [{ 1: "x".repeat(257), 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "257 characters long; Twilio takes at most 256"],
    [{ 1: new Date(0), 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "not a Date"],
    [{ 1: { name: "Ann" }, 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "not an object"],
    [{ 1: true, 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "not a boolean (true)"],
    [{ 1: NaN, 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "not a number (NaN)"],
    [{ 1: 10n, 2: "3pm" }, "INVALID_TEMPLATE_VARIABLE", "not a bigint"],
    [{ a_key_of_17_chars: "x" }, "INVALID_TEMPLATE_VARIABLE", "1 to 16 characters"],
    [Object.fromEntries(Array.from({ length: 101 }, (_, i) => [i, "x"])), "INVALID_TEMPLATE_VARIABLE", "101 variables"],
  ];
  for (const [variables, code, named] of cases) {
    const result = await client.sendTemplateMessage(PHONE, visit.sid, variables);
    assert.equal(result.code, code, `${util.inspect(variables)}: ${result.error}`);
    assert.ok(result.error.includes(named), result.error);
    assert.ok(result.error.includes(visit.sid), "the error names the template");
    assert.ok(!/Ann|Bob/.test(result.error), "never the value");
  }
  assert.deepEqual(await beyondTheContentApi(), [], "no request to Conversations");
});

test("a body longer than WhatsApp's 1,024 characters once filled in is refused (63021)", async () => {
  const long = await template({ body: `${"Dear customer, ".repeat(60)}{{1}}`, variables: { 1: "x" } });
  const result = await box.client().sendTemplateMessage(PHONE, long.sid, { 1: "y".repeat(200) });
  assert.equal(result.code, "TEMPLATE_TOO_LONG");
  assert.match(result.error, /1100 characters long with these variables; WhatsApp takes at most 1024 \(63021\)/);
  assert.deepEqual(await beyondTheContentApi(), []);
});

test("an unknown template is refused before any write (Twilio's 21655)", async () => {
  const result = await box.client().sendTemplateMessage(PHONE, "HXffffffffffffffffffffffffffffffff", { 1: "a" });
  assert.equal(result.code, "TEMPLATE_NOT_FOUND");
  assert.match(result.error, /21655/);
  assert.deepEqual(await beyondTheContentApi(), []);
});

test("the variables go as Twilio takes them, numbers as their text, and the message is rendered from them", async () => {
  const visit = await template();
  const result = await box.client().sendTemplateMessage(PHONE, visit.sid, { 1: "Ann", 2: 3 });
  assert.equal(result.success, true, result.error);
  assert.equal(result.body, "Hi Ann, see you at 3.");
  const send = (await box.sandbox.requests()).find((r) => r.path.endsWith("/Messages"));
  assert.equal(send.params.ContentVariables, '{"1":"Ann","2":"3"}');
});

test("allowSampleValues lets a variable left out go, and Twilio fills in the template's sample", async () => {
  const visit = await template();
  const client = box.client();
  const result = await client.sendTemplateMessage(PHONE, visit.sid, { 2: "3pm" }, { allowSampleValues: true });
  assert.equal(result.success, true, result.error);
  assert.equal(result.body, "Hi Customer, see you at 3pm.");
  const bulk = await client.sendBulk([
    { to: customer(1), contentSid: visit.sid, contentVariables: { 2: "4pm" }, allowSampleValues: true },
  ]);
  assert.equal(bulk.delivered, 1, bulk.results[0].error);
});

test("an unapproved template is refused where WhatsApp would not deliver it, and goes inside the window", async () => {
  const client = box.client();
  for (const approval of ["rejected", "paused", "disabled", "pending", "unsubmitted"]) {
    const unapproved = await template({ approval, rejection_reason: "Variables at the end of the body" });
    const result = await client.sendTemplateMessage(customer(2), unapproved.sid, { 1: "Ann", 2: "3pm" });
    assert.equal(result.code, "TEMPLATE_NOT_APPROVED", approval);
    assert.ok(result.error.includes(`status ${approval}`), result.error);
    assert.ok(result.error.includes("24-hour window is closed"), result.error);
  }
  assert.deepEqual(await writes(), [], "reads only: the template and whether the customer has a conversation");
  // Once the customer has written, their window is open: an unapproved text template may go.
  const approved = await template();
  assert.equal((await client.sendTemplateMessage(customer(2), approved.sid, { 1: "Ann", 2: "3pm" })).success, true);
  await box.sandbox.inbound({ from: `whatsapp:${customer(2)}`, to: "whatsapp:+14155238886", body: "hi" });
  const unsubmitted = await template({ approval: "unsubmitted" });
  const inside = await client.sendTemplateMessage(customer(2), unsubmitted.sid, { 1: "Ann", 2: "3pm" });
  assert.equal(inside.success, true, inside.error);
});

test("a whatsapp/ template that is not approved is refused even inside the window", async () => {
  const card = await box.sandbox.template({
    types: { "whatsapp/card": { body: "Your order {{1}} shipped" } },
    variables: { 1: "A1" },
    approval: "received",
  });
  const result = await box.client().sendTemplateMessage(PHONE, card.sid, { 1: "B2" });
  assert.equal(result.code, "TEMPLATE_NOT_APPROVED");
  assert.match(result.error, /WhatsApp takes this type only once approved/);
  assert.deepEqual(await beyondTheContentApi(), []);
});

test("an approval request is approved on the sandbox's clock, and the client sees it once its cache expires", async () => {
  const visit = await template({ approval: "unsubmitted" });
  const client = box.client({ templateCacheTtlMs: 0 });
  assert.equal(
    (await client.sendTemplateMessage(customer(3), visit.sid, { 1: "a", 2: "b" })).code,
    "TEMPLATE_NOT_APPROVED",
  );
  const response = await fetch(`${box.sandbox.url}/v1/Content/${visit.sid}/ApprovalRequests/whatsapp`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${box.sandbox.accountSid}:${box.sandbox.authToken}`).toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ name: "visit", category: "UTILITY" }),
  });
  assert.equal(response.status, 201);
  assert.equal(
    (await client.sendTemplateMessage(customer(3), visit.sid, { 1: "a", 2: "b" })).code,
    "TEMPLATE_NOT_APPROVED",
  );
  await box.sandbox.advanceClock("PT1H");
  const approved = await client.sendTemplateMessage(customer(3), visit.sid, { 1: "a", 2: "b" });
  assert.equal(approved.success, true, approved.error);
});

test("a campaign of 1,000 sends of one template reads its definition once", async () => {
  const visit = await template();
  await box.sandbox.seed(
    Array.from({ length: 1000 }, (_, i) => ({
      unique_name: `whatsapp_${customer(i).slice(1)}`,
      participants: [{ address: `whatsapp:${customer(i)}`, proxy_address: "whatsapp:+14155238886" }],
    })),
  );
  const client = box.client();
  const outcome = await client.sendBulk(
    Array.from({ length: 1000 }, (_, i) => ({
      to: customer(i),
      contentSid: visit.sid,
      contentVariables: { 1: i, 2: "3pm" },
    })),
    { concurrency: 200, keepResults: false },
  );
  assert.equal(outcome.delivered, 1000);
  // The definition and its approval are read at once: the log has them in the order they were answered.
  const reads = (await box.calls()).filter((call) => call.startsWith("GET /v1/Content/")).sort();
  assert.deepEqual(reads, [`GET /v1/Content/${visit.sid}`, `GET /v1/Content/${visit.sid}/ApprovalRequests`]);
});

test("when the Content API cannot answer, sends go with their values checked and one warning per template", async () => {
  const visit = await template();
  await box.sandbox.fault({ method: "GET", path: "^/v1/Content/", status: 500, times: 1000 });
  const client = box.client();
  for (let i = 0; i < 3; i++) {
    const result = await client.sendTemplateMessage(customer(10 + i), visit.sid, { 1: "Ann", 2: "3pm" });
    assert.equal(result.success, true, result.error);
  }
  const empty = await client.sendTemplateMessage(customer(13), visit.sid, { 1: "", 2: "3pm" });
  assert.equal(empty.code, "INVALID_TEMPLATE_VARIABLE", "values are still checked");
  const warnings = box.logger.entries.filter((e) => e.level === "warn").map((e) => e.message);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], new RegExp(`template ${visit.sid} could not be read from Twilio's Content API`));
});

test("with templateUnavailable: 'refuse', a template the Content API cannot give is refused and nothing is written", async () => {
  const visit = await template();
  await box.sandbox.fault({ method: "GET", path: "^/v1/Content/", status: 503, times: 1000 });
  const client = box.client({ templateUnavailable: "refuse", maxRetries: 0 });
  const result = await client.sendTemplateMessage(PHONE, visit.sid, { 1: "Ann", 2: "3pm" });
  assert.equal(result.code, "TEMPLATE_UNAVAILABLE");
  assert.deepEqual(await beyondTheContentApi(), []);
});

test("a dry run of 10,000 messages checks each and writes nothing", async () => {
  const visit = await template();
  const client = box.client();
  const messages = function* () {
    for (let i = 0; i < 9_996; i++)
      yield { to: customer(i), contentSid: visit.sid, contentVariables: { 1: `n${i}`, 2: "3pm" } };
    yield { to: customer(20_000), contentSid: visit.sid, contentVariables: { 1: "Ann" } };
    yield { to: customer(20_001), contentSid: visit.sid, variables: { 1: "Ann", 2: "3pm" } };
    yield { to: customer(20_002), text: "Your order shipped" };
    yield { to: "not a number", text: "x" };
  };
  const progress = [];
  const outcome = await client.sendBulk(messages(), {
    dryRun: true,
    concurrency: 500,
    onProgress: (p) => progress.push(p),
  });
  assert.equal(outcome.dryRun, true);
  assert.equal(outcome.total, 10_000);
  assert.equal(outcome.sendable, 9_997);
  assert.equal(outcome.refused, 3);
  assert.equal(outcome.outsideWindow, 1, "the free-form text to a customer who never wrote");
  assert.deepEqual(outcome.byCode, {
    TEMPLATE_VARIABLE_MISSING: 1,
    INVALID_BULK_ITEM: 1,
    INVALID_PHONE_NUMBER: 1,
  });
  assert.deepEqual(outcome.results[0], {
    success: true,
    wouldSend: true,
    windowOpen: null,
    template: { contentSid: visit.sid, friendlyName: "template", approvalStatus: "approved" },
  });
  assert.equal(outcome.results[9_997].wouldSend, false);
  assert.match(outcome.results[9_997].error, /did you mean 'contentVariables'/);
  assert.equal(outcome.results[9_998].windowOpen, false);
  assert.equal(progress.at(-1).sendable, 9_997);
  assert.deepEqual(await writes(), [], "zero writes");
  const reads = await box.calls();
  assert.equal(reads.filter((call) => call.startsWith("GET /v1/Content/")).length, 2);
  assert.equal(reads.length, 3, "and one read of the text's customer: " + reads.join(", "));
  assert.equal((await box.sandbox.state()).conversations.length, 0);
});

test("checkTemplate reports the template and its approval, or what a send would fail with", async () => {
  const visit = await template();
  const client = box.client();
  assert.deepEqual(await client.checkTemplate(visit.sid, { 1: "Ann", 2: "3pm" }), {
    success: true,
    wouldSend: true,
    windowOpen: null,
    template: { contentSid: visit.sid, friendlyName: "template", approvalStatus: "approved" },
  });
  const missing = await client.checkTemplate(visit.sid, { 1: "Ann" });
  assert.equal(missing.wouldSend, false);
  assert.equal(missing.code, "TEMPLATE_VARIABLE_MISSING");
  const rejected = await template({ approval: "rejected" });
  const outside = await client.checkTemplate(rejected.sid, { 1: "a", 2: "b" }, { to: customer(30) });
  assert.equal(outside.code, "TEMPLATE_NOT_APPROVED");
  assert.deepEqual(client.stats().failures, {}, "a check's refusal is its answer, not a failure");
  const throwing = {
    get to() {
      throw new Error("a getter that throws");
    },
  };
  const unreadable = await client.checkTemplate(visit.sid, { 1: "Ann", 2: "3pm" }, throwing);
  assert.equal(unreadable.wouldSend, false, "options whose getters throw make a failure, not a thrown error");
  assert.deepEqual(await writes(), []);
});

test("a template created through Twilio's own SDK is the one the client checks against", async () => {
  class SandboxRequestClient extends twilio.RequestClient {
    request(opts) {
      return super.request({ ...opts, uri: opts.uri.replace(/^https:\/\/[^/]+/, box.sandbox.url) });
    }
  }
  const sdk = twilio(box.sandbox.accountSid, box.sandbox.authToken, {
    httpClient: new SandboxRequestClient({ keepAlive: false }),
  });
  const created = await sdk.content.v1.contents.create({
    friendlyName: "order_shipped",
    language: "en",
    variables: { 1: "A1" },
    types: { "twilio/text": { body: "Order {{1}} shipped" } },
  });
  assert.match(created.sid, /^HX/);
  await sdk.content.v1.contents(created.sid).approvalCreate.create({ name: "order_shipped", category: "UTILITY" });
  const fetched = await sdk.content.v1.contents(created.sid).approvalFetch().fetch();
  assert.equal(fetched.whatsapp.status, "received");
  await box.sandbox.advanceClock("PT1H");
  const result = await box.client().sendTemplateMessage(PHONE, created.sid, { 1: "B2" });
  assert.equal(result.success, true, result.error);
  assert.equal(result.body, "Order B2 shipped");
  assert.equal(
    (await box.client().sendTemplateMessage(PHONE, created.sid, { 2: "x" })).code,
    "TEMPLATE_VARIABLE_UNKNOWN",
  );
});
