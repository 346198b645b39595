// Compiled by `tsc` in `npm test`: the hand-written types describe the legacy surface and the new options.
import TwilioApiClient = require("..");
import type { SendSuccess, Failure, TwilioApiClientOptions } from "..";
import { startSandbox } from "../sandbox";

const options: TwilioApiClientOptions = {
  timeoutMs: 5000,
  delivery: "messaging",
  logger: false,
};
const client = new TwilioApiClient(options);
// @ts-expect-error: the instance fields are declared readonly, as they are at run time.
client.accountSid = "AC0";
const sameClass: typeof TwilioApiClient = TwilioApiClient.default;
const alsoSame: typeof TwilioApiClient = TwilioApiClient.TwilioApiClient;
// The named export is a type too, as the class's instances.
const named: TwilioApiClient.TwilioApiClient = new TwilioApiClient.TwilioApiClient();
void named;
const closing: Promise<void> = client.close();
void closing;
const apiError: TwilioApiClient.TwilioError = new TwilioApiClient.TwilioApiError();
void apiError;

async function campaign(): Promise<void> {
  async function* rows(): AsyncGenerator<TwilioApiClient.BulkMessage> {
    yield {
      to: "+1234567890",
      contentSid: "HX0",
      contentVariables: { 1: "a" },
      idempotencyKey: "k1",
    };
    yield { to: "+1234567891", text: "hi" };
    yield {
      to: "+1234567892",
      mediaUrl: "https://example.com/a.png",
      caption: null,
    };
  }
  const outcome: TwilioApiClient.BulkOutcome = await client.sendBulk(rows(), {
    onProgress: ({ done, total, etaMs }) => void [done, total, etaMs],
    onResult: (result, index) => void (result.success ? index : result.retryAfterMs),
    signal: new AbortController().signal,
    concurrency: 10,
    keepResults: false,
  });
  void outcome.delivered;
  await client.sendMessage("+1234567890", "hi", null, { idempotencyKey: "k2" });
  const fleet = new TwilioApiClient({
    redisUrl: "redis://127.0.0.1:6379",
    maxQueueMs: 60_000,
  });
  void fleet;
}
void campaign;

async function use(): Promise<void> {
  const result: SendSuccess | Failure = await client.sendMessage("+1234567890", "hi");
  if (result.success) {
    const sid: string = result.messageSid;
    const created: Date = result.data.dateCreated;
    void sid;
    void created;
  } else {
    const code: number | string = result.code;
    void code;
  }
  const template = await client.sendTemplateMessage("+1234567890", "HX0123456789abcdef0123456789abcdef", { 1: "a" });
  if (template.success) {
    const body: string | null = template.body;
    void body;
  }
  const sid: string = await client.findOrCreateConversation("+1234567890");
  const found: string | null = await client.getConversation("+1234567890");
  const config = client.validateConfig();
  if (!config.valid) {
    const missing: string[] = config.missing;
    void missing;
  }
  const sandbox = await startSandbox({ port: 0 });
  await sandbox.fault({ path: "Messages$", status: 429, retry_after: 1 });
  await sandbox.stop();
  void sid;
  void found;
  void sameClass;
  void alsoSame;
}
void use;

async function beyondSending(): Promise<void> {
  const status = await client.getConversationStatus("+1234567890");
  if (status.success) {
    const when: Date | null = status.timers.dateClosed;
    const count: number = status.participantCount;
    void when;
    void count;
  }
  const assigned = await client.assignConversation("+1234567890", "alice", {
    keepPrevious: true,
  });
  if (assigned.success) {
    const previous: string | null = assigned.previousAssignee;
    void previous;
  }
  const history = await client.getMessages("+1234567890", {
    limit: 10,
    order: "asc",
  });
  if (history.success) {
    const first: Date | null = history.messages[0].dateCreated;
    void first;
  }
  await client.setConversationMetadata("+1234567890", { vip: true }, { replace: true });
  // @ts-expect-error: a state must be one of the three.
  await client.setConversationState("+1234567890", "open");
}
void beyondSending;

const fromTwilio: boolean = TwilioApiClient.validateWebhookSignature("token", "signature", "https://example.com/hook", {
  Body: "hi",
  "MessagingBinding.Address": ["a", "b"],
});
const withOwnToken: boolean = client.validateWebhook("signature", "https://example.com/hook", "{}");
void fromTwilio;
void withOwnToken;

async function inbound(client: TwilioApiClient): Promise<void> {
  const config = await client.configureWebhooks({
    postWebhookUrl: "https://example.com/hooks",
    filters: ["onMessageAdded", "onDeliveryUpdated"],
  });
  if (config.success) config.filters.join();
  const handler = client.webhookHandler(
    {
      onMessageAdded: (event) => {
        const kind: "onMessageAdded" = event.eventType;
        void kind;
        event.index?.toFixed();
        event.dateCreated?.getTime();
      },
      onMessageAdd: (event) => (event.body === "spam" ? false : { body: "ok" }),
    },
    { protocol: "http", maxBodyBytes: 1024 },
  );
  void handler;
  const reconciled = await handler.reconcile({ since: new Date(Date.now() - 3_600_000) });
  reconciled.handled.toFixed();
  // @ts-expect-error: reconcile needs a period
  void handler.reconcile({});
  const sent = await client.sendMessage("+15551234567", "hi", null, { idempotencyKey: "k" });
  if (sent.success && sent.replayed) {
    const replayed: true = sent.replayed;
    void replayed;
  }
  client.stats().replays.toFixed();
  client.webhookHandler({
    // @ts-expect-error: a misspelt event name is no handler
    onMessageAded: () => {},
  });
  const server = (await import("node:http")).createServer(client.webhookHandler({ onEvent: () => {} }));
  void server;
  const failed = await client.sendMessage("bad", "hi");
  if (!failed.success) {
    const code: TwilioApiClient.ErrorCode = failed.code;
    // @ts-expect-error: a code that does not exist
    const wrong: TwilioApiClient.ErrorCode = "INVALID_PHONE";
    (void code, wrong);
  }
  const stats: TwilioApiClient.Stats = client.stats();
  void stats.pacingWaitMs.p99;
  const status = await client.getDeliveryStatus("+1234567890", "IM123");
  if (status.success) status.receipts[0]?.errorCode;
  const window = await client.getWhatsAppWindow("+1234567890");
  if (window.success && window.open) window.closesAt?.toISOString();
}
void inbound;

// A template's keys, stated once: a misnamed, missing or extra key is a compile-time error.
async function templates(): Promise<void> {
  const reminder = TwilioApiClient.defineTemplate<"1" | "2">("HX0123456789abcdef0123456789abcdef");
  await client.sendTemplateMessage("+1234567890", reminder, { 1: "12/1", 2: 3 });
  // @ts-expect-error: {{2}} is missing.
  await client.sendTemplateMessage("+1234567890", reminder, { 1: "12/1" });
  // @ts-expect-error: the template has no {{first}}.
  await client.sendTemplateMessage("+1234567890", reminder, { 1: "12/1", 2: "3pm", first: "Ann" });
  // @ts-expect-error: a Date is not a value Twilio takes.
  await client.sendTemplateMessage("+1234567890", reminder, { 1: new Date(), 2: "3pm" });
  // @ts-expect-error: a typed template needs its variables.
  await client.sendTemplateMessage("+1234567890", reminder);
  // An untyped SID takes any string or number values, or the legacy JSON text.
  await client.sendTemplateMessage("+1234567890", "HX0", { name: "Ann" }, { allowSampleValues: true });
  await client.sendTemplateMessage("+1234567890", "HX0", '{"1":"a"}');
  // @ts-expect-error: values are strings or numbers.
  await client.sendTemplateMessage("+1234567890", "HX0", { 1: true });
  const check: TwilioApiClient.CheckResult = await client.checkTemplate(reminder, { 1: "a", 2: "b" }, { to: "+1" });
  if (check.wouldSend) void check.template?.approvalStatus;
  else void check.code;
  const item: TwilioApiClient.BulkMessage = TwilioApiClient.templateMessage(reminder, "+1234567890", {
    1: "a",
    2: "b",
  });
  // @ts-expect-error: {{2}} is missing.
  TwilioApiClient.templateMessage(reminder, "+1234567890", { 1: "a" });
  const dry: TwilioApiClient.BulkDryRun = await client.sendBulk([item], {
    dryRun: true,
    onProgress: ({ sendable, refused }) => void [sendable, refused],
    onResult: (result) => void result.wouldSend,
  });
  void dry.byCode;
}
void templates;
