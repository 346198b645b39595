declare class TwilioApiClient {
  constructor(options?: TwilioApiClient.TwilioApiClientOptions);
  /**
   * Whether a webhook request is Twilio's (HMAC-SHA1 of the URL and the sorted parameters, as Twilio signs):
   * `signature` is its X-Twilio-Signature header, `url` the public URL Twilio called, `params` the form
   * parameters (repeated names as arrays) or the raw JSON body. Fails closed on anything malformed.
   */
  static validateWebhookSignature(
    authToken: string,
    signature: string,
    url: string,
    params?: Record<string, string | string[]> | string | Uint8Array,
  ): boolean;
  /** `validateWebhookSignature` with this client's auth token, or its `webhookAuthToken`. */
  validateWebhook(
    signature: string,
    url: string,
    params?: Record<string, string | string[]> | string | Uint8Array,
  ): boolean;
  readonly accountSid: string;
  readonly whatsappNumber: string;
  readonly systemIdentity: string;
  formatWhatsAppNumber(phoneNumber: string): string;
  findOrCreateConversation(phoneNumber: string): Promise<string>;
  getConversation(phoneNumber: string): Promise<string | null>;
  sendMessage(
    to: string,
    text: string,
    author?: string | null,
    options?: TwilioApiClient.SendOptions,
  ): Promise<TwilioApiClient.SendSuccess | TwilioApiClient.Failure>;
  /**
   * Checked against the template's definition at Twilio before anything is written (docs/CONTRACT.md
   * "Templates"). With a SID from `defineTemplate<Keys>()`, every key is required and no other is allowed.
   */
  sendTemplateMessage<S extends string>(
    phoneNumber: string,
    contentSid: S,
    ...rest: TwilioApiClient.TemplateArguments<S, TwilioApiClient.TemplateSendOptions>
  ): Promise<TwilioApiClient.TemplateSuccess | TwilioApiClient.Failure>;
  /**
   * Whether a template send would go, checked exactly as `sendTemplateMessage` checks it, with reads only (the
   * template's definition; with `options.to` and an unapproved template, that customer's window).
   */
  checkTemplate<S extends string>(
    contentSid: S,
    ...rest: TwilioApiClient.TemplateArguments<S, TwilioApiClient.CheckTemplateOptions>
  ): Promise<TwilioApiClient.CheckResult>;
  /** Whether a text would go: its input, and the customer's 24-hour window (`windowOpen`), with reads only. */
  checkMessage(
    to: string,
    text: string,
    author?: string | null,
    options?: TwilioApiClient.SendOptions,
  ): Promise<TwilioApiClient.CheckResult>;
  /** The same for an image by URL; the image is not fetched. */
  checkImageMessageByUrl(
    to: string,
    mediaUrl: string,
    caption?: string | null,
    options?: TwilioApiClient.SendOptions,
  ): Promise<TwilioApiClient.CheckResult>;
  sendImageMessage(
    to: string,
    imagePath: string,
    caption?: string | null,
    baseUrl?: string | null,
  ): Promise<TwilioApiClient.SendSuccess | TwilioApiClient.Failure>;
  sendImageMessageByUrl(
    to: string,
    mediaUrl: string,
    caption?: string | null,
    options?: TwilioApiClient.SendOptions,
  ): Promise<TwilioApiClient.SendSuccess | TwilioApiClient.Failure>;
  /**
   * A campaign: each message sent as its single-send method would send it, at most `concurrency` at once, read
   * from `messages` only as sends finish, paced at Twilio's rate in input order. Rejects (TypeError) only for
   * arguments that are not a list of messages or options it cannot use.
   */
  sendBulk(
    messages: Iterable<TwilioApiClient.BulkMessage> | AsyncIterable<TwilioApiClient.BulkMessage>,
    options: TwilioApiClient.BulkOptions<TwilioApiClient.CheckResult, TwilioApiClient.BulkDryRunProgress> & {
      dryRun: true;
    },
  ): Promise<TwilioApiClient.BulkDryRun>;
  sendBulk(
    messages: Iterable<TwilioApiClient.BulkMessage> | AsyncIterable<TwilioApiClient.BulkMessage>,
    options?: TwilioApiClient.BulkOptions & { dryRun?: false },
  ): Promise<TwilioApiClient.BulkOutcome>;
  /**
   * A template's SID, its variables' keys stated once for TypeScript: `defineTemplate<"1" | "2">("HX…")`. Sends
   * of it then need every key and refuse any other at compile time. At run time, the SID itself.
   */
  static defineTemplate<K extends string>(contentSid: string): TwilioApiClient.TemplateSid<K>;
  /** A campaign's template message, typed by its template: `{ ...options, to, contentSid, contentVariables }`. */
  static templateMessage<K extends string>(
    contentSid: TwilioApiClient.TemplateSid<K>,
    to: string,
    contentVariables: TwilioApiClient.VariablesOf<K>,
    options?: TwilioApiClient.TemplateSendOptions,
  ): TwilioApiClient.BulkMessage;
  uploadMedia(filePath: string): Promise<TwilioApiClient.UploadSuccess | TwilioApiClient.Failure>;
  getContentType(filePath: string): string;
  validateConfig(): TwilioApiClient.ValidateConfigResult;
  testConnection(): Promise<TwilioApiClient.TestConnectionResult>;
  /** How many conversations the cache holds now. */
  cachedConversations(): Promise<number>;
  /** Running totals since the client was made, for metrics (e.g. Prometheus counters and gauges). */
  stats(): TwilioApiClient.Stats;
  /**
   * Lets the calls in flight finish, answers new ones with `CLIENT_CLOSED` (a failure result, a rejection for
   * `findOrCreateConversation`), then ends the client's Redis connections. Also `Symbol.asyncDispose`
   * (`await using client = new TwilioApiClient()`). A process exits once no call is pending whether or not its
   * clients are closed: only pending calls hold the event loop.
   */
  close(): Promise<void>;

  // Beyond sending. Every method resolves (never rejects); reads never create a conversation.
  /** Adds a chat identity to the customer's conversation (found or created); `attributes` a plain object or its JSON. */
  addAgent(
    phoneNumber: string,
    identity: string,
    attributes?: Record<string, unknown> | string | null,
  ): Promise<TwilioApiClient.AgentAdded | TwilioApiClient.Failure>;
  removeAgent(phoneNumber: string, identity: string): Promise<TwilioApiClient.AgentRemoved | TwilioApiClient.Failure>;
  listParticipants(phoneNumber: string): Promise<TwilioApiClient.ParticipantList | TwilioApiClient.Failure>;
  /** The agent joins if not in, becomes the `assignee` attribute; the previous assignee leaves unless kept. */
  assignConversation(
    phoneNumber: string,
    identity: string,
    options?: { keepPrevious?: boolean },
  ): Promise<TwilioApiClient.Assigned | TwilioApiClient.Failure>;
  unassignConversation(phoneNumber: string): Promise<TwilioApiClient.Unassigned | TwilioApiClient.Failure>;
  getConversationStatus(phoneNumber: string): Promise<TwilioApiClient.ConversationStatus | TwilioApiClient.Failure>;
  setConversationState(
    phoneNumber: string,
    state: TwilioApiClient.ConversationState,
  ): Promise<TwilioApiClient.StateChanged | TwilioApiClient.Failure>;
  /** Closes the conversation; the customer's next message opens the next one. */
  closeConversation(phoneNumber: string): Promise<TwilioApiClient.StateChanged | TwilioApiClient.Failure>;
  getConversationMetadata(phoneNumber: string): Promise<TwilioApiClient.ConversationMetadata | TwilioApiClient.Failure>;
  /** Top-level merge (`null` deletes a key) or, with `replace`, the whole; a plain object or its JSON, at most 16 KB. */
  setConversationMetadata(
    phoneNumber: string,
    patch: Record<string, unknown> | string,
    options?: { replace?: boolean },
  ): Promise<TwilioApiClient.ConversationMetadata | TwilioApiClient.Failure>;
  /** Up to `limit` (1 to 1,000, default 50) messages, newest first (`desc`, the default) or oldest first. */
  getMessages(
    phoneNumber: string,
    options?: { limit?: number; order?: "asc" | "desc" },
  ): Promise<TwilioApiClient.MessageHistory | TwilioApiClient.Failure>;

  // Inbound: webhooks, receipts and the WhatsApp window.
  /**
   * Where the conversation service posts its events. Without `filters`: every post-action event (with a post URL)
   * and `onMessageAdd` (with a pre URL). Replaces the whole configuration.
   */
  configureWebhooks(
    settings: TwilioApiClient.WebhookSettings,
  ): Promise<TwilioApiClient.WebhookConfiguration | TwilioApiClient.Failure>;
  getWebhookConfiguration(): Promise<TwilioApiClient.WebhookConfiguration | TwilioApiClient.Failure>;
  /**
   * A `(req, res)` handler for node:http, Express and Fastify: 400 without a signature, 403 with a wrong one
   * (handlers not called), 413 over `maxBodyBytes`; else the typed event goes to `handlers[eventType]` or
   * `handlers.onEvent`, and the answer is 200 (500 when the handler threw). Each post-action event reaches its
   * handler once (fleet-wide with `redisUrl`, else in the process); a delivery status older than one handed on is
   * dropped. A pre-event handler may return `{ body, author, attributes }` to change the action or `false` to
   * reject it (answered 422).
   */
  webhookHandler(
    handlers: TwilioApiClient.WebhookHandlers,
    options?: TwilioApiClient.WebhookHandlerOptions,
  ): TwilioApiClient.WebhookHandler;
  /** The message's delivery summary and its receipts (one per WhatsApp or SMS recipient). */
  getDeliveryStatus(
    phoneNumber: string,
    messageSid: string,
  ): Promise<TwilioApiClient.DeliveryStatus | TwilioApiClient.Failure>;
  /** Whether free-form messages reach the customer now: open until 24 hours after their newest message. */
  getWhatsAppWindow(phoneNumber: string): Promise<TwilioApiClient.WhatsAppWindow | TwilioApiClient.Failure>;
}

declare namespace TwilioApiClient {
  /**
   * Anything with the methods of `console`, winston or pino. The client calls `(message, context)`; a pino logger
   * (or child), which takes `(context, message)`, is recognised and called so: the context arrives as fields.
   */
  export interface Logger {
    error(message: string, context?: Record<string, unknown>): void;
    warn?(message: string, context?: Record<string, unknown>): void;
    info?(message: string, context?: Record<string, unknown>): void;
    debug?(message: string, context?: Record<string, unknown>): void;
  }

  /**
   * Every option is optional and has an environment variable; an option wins over its variable, the variable
   * over the default.
   */
  export interface TwilioApiClientOptions {
    /** `TWILIO_ACCOUNT_SID` (required, here or in the environment). */
    accountSid?: string;
    /** `TWILIO_AUTH_TOKEN` (required unless apiKey/apiSecret are given). Kept in native memory only. */
    authToken?: string;
    /** `TWILIO_API_KEY`: an `SK…` API key, used with apiSecret instead of the auth token. */
    apiKey?: string;
    /** `TWILIO_API_SECRET` */
    apiSecret?: string;
    /** `TWILIO_WHATSAPP_NUMBER`: the sender, default `+14155238886` (Twilio's WhatsApp sandbox). */
    whatsappNumber?: string;
    /** `TWILIO_SYSTEM_IDENTITY`: the system participant and default author, default `system`. */
    systemIdentity?: string;
    /** `TWILIO_BASE_URL`: one origin serving every Twilio host by path (the sandbox); plain http only to loopback. */
    baseUrl?: string;
    /** `TWILIO_REGION`, e.g. `ie1`. */
    region?: string;
    /** `TWILIO_EDGE`, e.g. `dublin`. */
    edge?: string;
    /** `TWILIO_TIMEOUT_MS`: per request, default 30000. */
    timeoutMs?: number;
    /** `TWILIO_MAX_RETRIES`: default 3. */
    maxRetries?: number;
    /** `TWILIO_DEADLINE_MS`: per call, retries and waits included, default 90000. */
    deadlineMs?: number;
    /** `TWILIO_CACHE_TTL_MS`: how long a conversation stays cached, default 300000 (5 minutes). */
    cacheTtlMs?: number;
    /** `TWILIO_CACHE_MAX_ENTRIES`: default 100000. */
    cacheMaxEntries?: number;
    /** `TWILIO_DELIVERY`: `conversations` (default) or `messaging` (templates and images via Messages.json). */
    delivery?: "conversations" | "messaging";
    /** `TWILIO_MEDIA_ALLOW_PRIVATE=1`: let media URLs point at private, loopback and link-local hosts. */
    mediaAllowPrivateHosts?: boolean;
    /** `TWILIO_MEDIA_MAX_BYTES`: largest media fetched or uploaded, default 16 MiB. */
    mediaMaxBytes?: number;
    /** `TWILIO_CHAT_SERVICE_SID`: the Conversations service for uploadMedia; asked of Twilio when unset. */
    chatServiceSid?: string;
    /**
     * `TWILIO_SYSTEM_PARTICIPANT`: whether the system identity joins the conversations the client creates.
     * `auto` (default): it joins while Twilio accepts it; when Twilio refuses it (its limit of 1,000 active or
     * inactive conversations per identity) conversations are created without it for 10 minutes, one warning is
     * logged, and messages are still delivered. `always`: it joins or the conversation is not created. `never`.
     */
    systemParticipant?: "auto" | "always" | "never";
    /** Timers set on every conversation the client creates (ISO-8601 durations, checked at construction). */
    conversationTimers?: {
      /** `TWILIO_CONVERSATION_INACTIVE_AFTER`: idle time before `inactive`, at least `PT1M`. */
      inactiveAfter?: string;
      /** `TWILIO_CONVERSATION_CLOSED_AFTER`: idle time before `closed`, at least `PT10M`. */
      closedAfter?: string;
    };
    /**
     * `TWILIO_WRITES_PER_SECOND`: most writes per second this process sends to one conversation, and most
     * conversation creations per second; default 30 (Twilio's limit); 0 turns pacing off.
     */
    writesPerSecond?: number;
    /**
     * `TWILIO_MEDIA_ROOT`: the only directory local files are read from (`sendImageMessage`, `uploadMedia`); its
     * real path, symlinks followed. Unset: any path. Set it when paths can come from requests.
     */
    mediaRoot?: string;
    /**
     * `TWILIO_WEBHOOK_AUTH_TOKEN`: the auth token webhooks are signed with, for `validateWebhook` when the client
     * authenticates with an API key (Twilio never signs webhooks with one). Default: `authToken`.
     */
    webhookAuthToken?: string;
    /**
     * `TWILIO_WEBHOOK_ENABLED=1`: the client's own writes carry `X-Twilio-Webhook-Enabled: true`, so that they fire
     * the service's post-event webhooks too. Default false, as at Twilio.
     */
    webhookEnabled?: boolean;
    /**
     * `TWILIO_FREEFORM_OUTSIDE_WINDOW`: `'send'` (default: Twilio accepts it and its receipt fails with 63016) or
     * `'refuse'`: a free-form text or image to a customer whose 24-hour window is closed fails with
     * `OUTSIDE_WHATSAPP_WINDOW` and sends nothing. Templates always go.
     */
    freeformOutsideWindow?: "send" | "refuse";
    /**
     * `TWILIO_TEMPLATE_CACHE_TTL_MS`: how long a template's definition and WhatsApp approval, read from Twilio's
     * Content API, are trusted before they are read again; default 300000 (5 minutes).
     */
    templateCacheTtlMs?: number;
    /**
     * `TWILIO_TEMPLATE_UNAVAILABLE`: what a template send does when the Content API cannot answer (an outage, or
     * credentials that may not read it): `'send'` (default) with its variables checked on their own and one warning
     * per template, or `'refuse'` with `TEMPLATE_UNAVAILABLE`.
     */
    templateUnavailable?: "send" | "refuse";
    /**
     * `TWILIO_IDEMPOTENCY_SECRET`: what the MAC in a keyed message's mark is made with (default: the auth token, or
     * the API secret). A key found in a conversation counts only when its MAC verifies, so participants cannot
     * forge one. Set it to keep earlier keys valid when the auth token rotates.
     */
    idempotencySecret?: string;
    /**
     * `TWILIO_CLAIM_LEASE_MS`: with `redisUrl`, how long a keyed send's claim outlives a holder that stopped
     * renewing it (a process that crashed), default 30000. The holder renews it every third of that while it works.
     */
    claimLeaseMs?: number;
    /**
     * `TWILIO_DEFAULT_COUNTRY`: an ISO 3166 country code (`'US'`, `'GB'`) whose national numbers customers' numbers
     * written without `+` may be (`'(415) 555-0142'`, `'07911 123456'`). Without it, a number without `+` must be
     * valid as an international one (`'14155550142'`); one valid for no country is refused with
     * `INVALID_PHONE_NUMBER`, never sent to the country its first digits name. A number with `+` names its country.
     */
    defaultCountry?: string;
    /**
     * `TWILIO_MAX_QUEUE_MS`: the longest a send may wait for its pacing slot, default 900000 (15 minutes: a
     * campaign of 20,000 new customers queues within it). Not part of `deadlineMs`. A send whose slot would start
     * later is refused at once with `QUEUE_FULL` and `retryAfterMs`, and writes nothing.
     */
    maxQueueMs?: number;
    /**
     * `TWILIO_REDIS_URL`: `redis://`, `rediss://` or `redis+unix://`; a Redis Cluster as its nodes' URLs,
     * comma-separated; `redis+sentinel://[:password@]host:port[,host:port]/<master>` (`rediss+sentinel://` for TLS).
     * Every process and machine given the same Redis shares Twilio's rate for the account and service, keyed sends'
     * claims and webhook events' claims. When Redis does not answer within 250 ms, the process paces and claims
     * alone (one warning) and shares again once Redis answers; no send fails because of Redis.
     */
    redisUrl?: string;
    /**
     * `TWILIO_REDIS_CA_FILE`: the PEM file of a private CA that signed the Redis servers' TLS certificates
     * (`rediss://`); the web's roots when unset. Read at construction.
     */
    redisCaFile?: string;
    /**
     * `TWILIO_REDIS_KEY_PREFIX`: put before every key the client writes in Redis (`'billing:'`), for a deployment
     * that shares its Redis; at most 64 printable characters. Every process of a fleet needs the same one.
     */
    redisKeyPrefix?: string;
    /**
     * `TWILIO_LOG_LEVEL`: `'error'` (default: failures Twilio or the network caused, and the once-per-event
     * warnings), `'warn'`, `'info'` (also each conversation the client creates, with the number's last four digits,
     * and Redis answering), or `'debug'`: also one line per Twilio request (method, host, route, status, attempt,
     * duration; no number) and refused input.
     */
    logLevel?: "error" | "warn" | "info" | "debug";
    /** Where failures are logged (default `console`); `false` for nowhere. */
    logger?: Logger | false;
  }

  export interface Stats {
    /** Messages sent (text, template, image). */
    sends: number;
    /** Keyed sends answered with the message an earlier send made (`replayed: true`): not in `sends`. */
    replays: number;
    /** Failed calls by code (`INVALID_PHONE_NUMBER`, `NETWORK_ERROR`, Twilio's numbers as text, …). */
    failures: Record<string, number>;
    /** Twilio requests made, attempts included. */
    requests: number;
    /** Attempts after the first. */
    retries: number;
    /** Answers with status 429. */
    rateLimited: number;
    cacheHits: number;
    cacheMisses: number;
    /** Writes waiting for a pacing turn now. */
    queued: number;
    /** The recent pacing waits (the latest 1,024), in ms. */
    pacingWaitMs: { p50: number; p99: number };
  }

  /** A Twilio resource as twilio-node presents it: camelCase keys, `Date` objects for dates. */
  export interface TwilioResource {
    sid: string;
    accountSid: string;
    dateCreated: Date;
    dateUpdated: Date;
    body?: string | null;
    [key: string]: unknown;
  }

  export interface SendSuccess {
    success: true;
    messageSid: string;
    conversationSid: string;
    status: "sent";
    /**
     * Only on a replay: an earlier send with the same `idempotencyKey` made this message, and this call sent
     * nothing. Absent when the message was sent by this call.
     */
    replayed?: true;
    data: TwilioResource;
  }

  export interface TemplateSuccess extends SendSuccess {
    /** The rendered template text. */
    body: string | null;
  }

  /** This package's codes for failures Twilio did not number; `HTTP_<status>` when Twilio answered without a code. */
  export type NamedErrorCode =
    | "INVALID_PHONE_NUMBER"
    | "INVALID_TEXT"
    | "TEXT_TOO_LONG"
    | "INVALID_AUTHOR"
    | "INVALID_CONTENT_SID"
    | "INVALID_CONTENT_VARIABLES"
    | "INVALID_TEMPLATE_VARIABLE"
    | "TEMPLATE_VARIABLE_MISSING"
    | "TEMPLATE_VARIABLE_UNKNOWN"
    | "TEMPLATE_TOO_LONG"
    | "TEMPLATE_NOT_FOUND"
    | "TEMPLATE_NOT_APPROVED"
    | "TEMPLATE_UNAVAILABLE"
    | "INVALID_MEDIA_URL"
    | "MEDIA_HOST_NOT_ALLOWED"
    | "MEDIA_TOO_LARGE"
    | "MEDIA_FETCH_FAILED"
    | "UNSUPPORTED_MEDIA_TYPE"
    | "MEDIA_PATH_NOT_ALLOWED"
    | "EMPTY_FILE"
    | "FILE_UNREADABLE"
    | "ATTRIBUTES_TOO_LARGE"
    | "METADATA_TOO_LARGE"
    | "CONVERSATION_NOT_FOUND"
    | "BASE_URL_REQUIRED"
    | "INTERNAL_ERROR"
    | "FILE_NOT_FOUND"
    | "INVALID_IDENTITY"
    | "INVALID_ATTRIBUTES"
    | "INVALID_METADATA"
    | "INVALID_STATE"
    | "INVALID_LIMIT"
    | "INVALID_ORDER"
    | "INVALID_MESSAGE_SID"
    | "INVALID_ARGUMENT"
    | "INVALID_IDEMPOTENCY_KEY"
    | "IDEMPOTENCY_KEY_REUSED"
    | "IDEMPOTENCY_KEY_IN_USE"
    | "INVALID_WEBHOOK_URL"
    | "INVALID_WEBHOOK_FILTER"
    | "INVALID_WEBHOOK_METHOD"
    | "INVALID_BULK_ITEM"
    | "OUTSIDE_WHATSAPP_WINDOW"
    | "QUEUE_FULL"
    | "TIMEOUT"
    | "NETWORK_ERROR"
    | "DECODE_ERROR"
    | "CONFIG_ERROR"
    | "ABORTED"
    | "CLIENT_CLOSED"
    | `HTTP_${number}`;
  /** Twilio's numeric code when it answered with one (e.g. 20003, 50353, 63016), else a named code. */
  export type ErrorCode = NamedErrorCode | number;

  export interface Failure {
    success: false;
    /** A readable reason. */
    error: string;
    /** Twilio's numeric error code when Twilio answered, else one of this package's codes. */
    code: ErrorCode;
    /** With `QUEUE_FULL`: when the pacing queue will have room for this send. */
    retryAfterMs?: number;
  }

  export interface SendOptions {
    /**
     * The message is sent at most once to the customer with this key: an earlier message with it, in the
     * customer's conversation or an earlier one of theirs that has closed, is the result (`replayed: true`), and
     * the key with other content is refused (`IDEMPOTENCY_KEY_REUSED`). Two sends with one key wait for each
     * other: across every client of the process, and with `redisUrl` across every process sharing the Redis.
     * Without Redis, processes sending one key at the same moment can both send it; one sending it after another
     * finished finds the first's message. 1 to 256 characters of well-formed Unicode. Needs
     * `delivery: 'conversations'`.
     */
    idempotencyKey?: string;
    /**
     * This send's deadline in ms (1 to 2147483647), retries and 429s included, in place of the client's
     * `deadlineMs`: a request handler bounds its own wait. Waiting for a pacing turn is not part of it.
     */
    deadlineMs?: number;
    /**
     * A campaign's send (`sendBulk` marks its own): in every pacing lane, the service's creations included, it
     * waits behind the interactive sends of the process, which keep a code or a reply from waiting for a campaign.
     * The campaign keeps one start in five of a lane interactive sends contend for.
     */
    bulk?: boolean;
  }

  /** What a template variable may be: Twilio is sent a number as its decimal text. */
  export type TemplateValue = string | number;
  export type TemplateVariables = Record<string, TemplateValue>;
  const templateKeys: unique symbol;
  /** A content SID marked with its template's variable keys (see `defineTemplate`). */
  export type TemplateSid<K extends string> = string & { readonly [templateKeys]: K };
  /** Every key of the template, each with a value. */
  export type VariablesOf<K extends string> = { [P in K]: TemplateValue };
  /** A template send's arguments after the SID: typed by the template when the SID says its keys. */
  export type TemplateArguments<S extends string, O> =
    S extends TemplateSid<infer K>
      ? [contentVariables: VariablesOf<K>, options?: O]
      : [contentVariables?: TemplateVariables | string, options?: O];

  export interface TemplateSendOptions extends SendOptions {
    /**
     * Let a placeholder without a value go: Twilio then sends the template's sample value in its place. Without
     * it, such a send fails with `TEMPLATE_VARIABLE_MISSING`.
     */
    allowSampleValues?: boolean;
  }

  export interface CheckTemplateOptions extends TemplateSendOptions {
    /** The customer: an unapproved template is then judged by their 24-hour window. */
    to?: string;
  }

  /** A check's answer: the send would go, or the failure it would have (`wouldSend: false`). */
  export type CheckResult = CheckPassed | (Failure & { wouldSend: false });

  export interface CheckPassed {
    success: true;
    wouldSend: true;
    /** The customer's 24-hour window, when it was read (free-form messages, unapproved templates), else null. */
    windowOpen: boolean | null;
    template: {
      contentSid: string;
      /** Null when the Content API could not answer and `templateUnavailable: 'send'` lets the send go. */
      friendlyName: string | null;
      approvalStatus: ApprovalStatus | null;
    } | null;
  }

  /** WhatsApp's approval of a template, as Twilio's Content API reports it. */
  export type ApprovalStatus =
    "unsubmitted" | "received" | "pending" | "approved" | "rejected" | "paused" | "disabled" | (string & {});

  /** One message of a campaign: a template, a text or an image by URL. */
  export type BulkMessage =
    | {
        to: string;
        contentSid: string;
        contentVariables?: TemplateVariables | string;
        idempotencyKey?: string;
        allowSampleValues?: boolean;
      }
    | {
        to: string;
        text: string;
        author?: string | null;
        idempotencyKey?: string;
      }
    | {
        to: string;
        mediaUrl: string;
        caption?: string | null;
        idempotencyKey?: string;
      };

  export interface BulkProgress {
    done: number;
    delivered: number;
    failed: number;
    /** Known for an array, and for an iterable once it has ended; else null. */
    total: number | null;
    perSecond: number;
    etaMs: number | null;
  }

  /** A dry run's progress: the messages checked so far. */
  export interface BulkDryRunProgress {
    done: number;
    sendable: number;
    refused: number;
    outsideWindow: number;
    total: number | null;
    perSecond: number;
    etaMs: number | null;
  }

  export interface BulkOptions<R = SendSuccess | TemplateSuccess | Failure, P = BulkProgress> {
    /** Called at most twice a second, and once at the end. */
    onProgress?: (progress: P) => void;
    /**
     * Called as each message ends, with its index in the input. What it throws, or the promise it returns rejects
     * with, is logged; the campaign goes on.
     */
    onResult?: (result: R, index: number) => void | Promise<void>;
    /** Aborting stops the campaign: messages not yet started end as `{ success: false, code: 'ABORTED' }`. */
    signal?: AbortSignal;
    /** Sends in flight at once, 1 to 10,000; default 100. */
    concurrency?: number;
    /** Keep every result for `results` (default true); false for a campaign too large to hold its results. */
    keepResults?: boolean;
    /**
     * Check every message as it would be sent (template definitions and, for free-form messages, each customer's
     * 24-hour window read) and send none: zero writes to Twilio. Resolves a `BulkDryRun`.
     */
    dryRun?: boolean;
  }

  /** A dry run's outcome: every message checked, none sent. */
  export interface BulkDryRun {
    dryRun: true;
    total: number;
    /** Messages that would be sent. */
    sendable: number;
    /** Messages that would fail, with why (by code in `byCode`). */
    refused: number;
    /** Free-form messages that would be sent to a customer whose 24-hour window is closed (63016 on the receipt). */
    outsideWindow: number;
    byCode: Record<string, number>;
    /** In input order; empty with `keepResults: false`. */
    results: CheckResult[];
    aborted: boolean;
    sourceError?: unknown;
  }

  export interface BulkOutcome {
    total: number;
    delivered: number;
    /** Of `delivered`, the messages an earlier run with the same idempotency keys had sent. */
    replayed: number;
    failed: number;
    /** In input order; empty with `keepResults: false`. */
    results: Array<SendSuccess | TemplateSuccess | Failure>;
    /** The signal aborted the campaign. */
    aborted: boolean;
    /** What the source threw (or rejected with) when asked for its next message: the campaign ended there. */
    sourceError?: unknown;
  }

  export interface UploadSuccess {
    success: true;
    mediaSid: string;
    serviceSid: string;
    contentType: string;
    filename: string;
    size: number;
    data: TwilioResource;
  }

  export type ConversationState = "active" | "inactive" | "closed";

  export interface AgentAdded {
    success: true;
    conversationSid: string;
    participantSid: string;
    identity: string;
    alreadyPresent: boolean;
  }

  export interface AgentRemoved {
    success: true;
    /** `null` when the customer has no conversation. */
    conversationSid: string | null;
    removed: boolean;
  }

  export interface Participant {
    sid: string;
    identity: string | null;
    address: string | null;
    proxyAddress: string | null;
    attributes: Record<string, unknown>;
    dateCreated: Date | null;
  }

  export interface ParticipantList {
    success: true;
    conversationSid: string | null;
    participants: Participant[];
  }

  export interface Assigned {
    success: true;
    conversationSid: string;
    assignee: string;
    previousAssignee: string | null;
  }

  export interface Unassigned {
    success: true;
    conversationSid: string | null;
    previousAssignee: string | null;
  }

  export interface ConversationStatus {
    success: true;
    conversationSid: string | null;
    /** `null` when the customer has no conversation. */
    state: ConversationState | "initializing" | null;
    uniqueName: string | null;
    friendlyName: string | null;
    assignee: string | null;
    participantCount: number;
    dateCreated: Date | null;
    dateUpdated: Date | null;
    timers: { dateInactive: Date | null; dateClosed: Date | null };
  }

  export interface StateChanged {
    success: true;
    conversationSid: string | null;
    state: ConversationState | null;
  }

  export interface ConversationMetadata {
    success: true;
    conversationSid: string | null;
    metadata: Record<string, unknown>;
  }

  export interface HistoryMessage {
    sid: string;
    index: number;
    author: string | null;
    body: string | null;
    contentSid: string | null;
    media:
      | {
          sid: string;
          size: number;
          contentType: string | null;
          filename: string | null;
        }[]
      | null;
    attributes: Record<string, unknown>;
    participantSid: string | null;
    dateCreated: Date | null;
    delivery: Record<string, unknown> | null;
  }

  export interface MessageHistory {
    success: true;
    conversationSid: string | null;
    messages: HistoryMessage[];
  }

  export type ValidateConfigResult =
    | { valid: false; missing: string[]; error: string }
    | {
        valid: true;
        config: {
          hasAccountSid: boolean;
          hasAuthToken: boolean;
          whatsappNumber: string;
        };
      };

  export type TestConnectionResult =
    | {
        success: true;
        message: string;
        accountSid: string;
        accountName: string | null;
      }
    | Failure;

  /** What `findOrCreateConversation` rejects with (a TypeError with a string `code` for bad input). */
  export type WebhookEventType =
    | "onMessageAdded"
    | "onMessageUpdated"
    | "onMessageRemoved"
    | "onConversationAdded"
    | "onConversationUpdated"
    | "onConversationRemoved"
    | "onConversationStateUpdated"
    | "onParticipantAdded"
    | "onParticipantUpdated"
    | "onParticipantRemoved"
    | "onDeliveryUpdated"
    | "onMessageAdd"
    | "onMessageUpdate"
    | "onMessageRemove"
    | "onConversationAdd"
    | "onConversationUpdate"
    | "onConversationRemove"
    | "onParticipantAdd"
    | "onParticipantUpdate"
    | "onParticipantRemove";

  export interface WebhookSettings {
    postWebhookUrl?: string;
    preWebhookUrl?: string;
    filters?: WebhookEventType[];
    /** Default `POST`. */
    method?: "POST" | "GET";
  }

  export interface WebhookConfiguration {
    success: true;
    postWebhookUrl: string | null;
    preWebhookUrl: string | null;
    filters: string[];
    method: string;
  }

  /** A Conversations webhook, typed: fields present when Twilio sent them; `params` holds every one as sent. */
  export interface WebhookEvent<E extends WebhookEventType = WebhookEventType> {
    eventType: E;
    accountSid?: string;
    source?: string;
    clientIdentity?: string;
    /** Integers are numbers, or `null` when Twilio's text is not a whole number a number holds exactly. */
    retryCount?: number | null;
    conversationSid?: string;
    chatServiceSid?: string;
    messagingServiceSid?: string;
    messageSid?: string;
    index?: number | null;
    body?: string;
    author?: string;
    participantSid?: string;
    identity?: string;
    roleSid?: string;
    /** JSON as `JSON.parse` reads it (no BigInt), or `null` when it does not parse; `params` has the text. */
    attributes?: Record<string, unknown> | null;
    media?: Array<Record<string, unknown>> | null;
    friendlyName?: string;
    uniqueName?: string;
    state?: string;
    stateFrom?: "active" | "inactive" | "closed";
    stateTo?: "active" | "inactive" | "closed";
    reason?: string;
    status?: "sent" | "delivered" | "read" | "failed" | "undelivered";
    errorCode?: number | null;
    deliveryReceiptSid?: string;
    channelMessageSid?: string;
    lastReadMessageIndex?: number | null;
    messagingBinding?: {
      address?: string;
      proxyAddress?: string;
      type?: string;
      projectedAddress?: string;
      authorAddress?: string;
    };
    dateCreated?: Date;
    dateUpdated?: Date;
    dateRemoved?: Date;
    stateUpdated?: Date;
    /** Every parameter as sent; a name sent more than once holds its values in the order Twilio signs them. */
    params: Record<string, string | string[]>;
  }

  /** What a pre-event handler may return: changes to the action, or `false` to reject it. */
  export type PreEventAnswer =
    | {
        body?: string;
        author?: string;
        attributes?: Record<string, unknown> | string;
      }
    | false
    | void;

  /** Each handler receives its own event type (`event.eventType` narrowed); `onEvent` takes any other. */
  export type WebhookHandlers = {
    [K in WebhookEventType]?: (event: WebhookEvent<K>) => PreEventAnswer | Promise<PreEventAnswer>;
  } & {
    onEvent?: (event: WebhookEvent) => PreEventAnswer | Promise<PreEventAnswer>;
  };

  export interface WebhookHandler {
    (
      req: TwilioApiClient.WebhookRequest,
      res: TwilioApiClient.WebhookResponse,
      next?: (error?: unknown) => void,
    ): Promise<void>;
    /**
     * Hands on the delivery statuses whose webhooks never arrived: every receipt of the messages this client (with
     * `redisUrl`, its fleet) sent from `since` to `until` (default now; kept 24 hours) is read from Twilio and goes
     * to `onDeliveryUpdated` (or `onEvent`) through the same claims as a live event.
     */
    reconcile(period: { since: Date | number; until?: Date | number }): Promise<ReconcileOutcome>;
  }

  /** What reconcile found: the events read, and what became of each. */
  export interface ReconcileOutcome {
    events: number;
    handled: number;
    /** Handed on already (live, or by an earlier reconcile). */
    duplicate: number;
    /** Older than a status handed on for the same receipt. */
    stale: number;
    /** No handler for the event type. */
    unhandled: number;
    /** The handler threw (logged): the next reconcile hands it on again. */
    failed: number;
  }

  /** What the handler reads of a request: node:http's IncomingMessage, Express's and Fastify's raw request fit. */
  export interface WebhookRequest {
    method?: string;
    url?: string;
    headers: Record<string, string | string[] | undefined>;
    body?: unknown;
    on(event: string, listener: (...args: any[]) => void): unknown;
  }

  /** What the handler writes of a response: node:http's ServerResponse fits. */
  export interface WebhookResponse {
    statusCode: number;
    setHeader(name: string, value: string | number | readonly string[]): unknown;
    end(body?: string): unknown;
  }

  export interface WebhookHandlerOptions {
    /**
     * The public URL Twilio calls (what it signs); default `TWILIO_WEBHOOK_URL`. Without it, `host` or
     * `allowedHosts`, only requests for this machine's loopback names are taken (said once at start).
     */
    url?: string;
    /** Default `https` (behind a proxy that ends TLS, the request itself is http). */
    protocol?: "https" | "http";
    /** The public host Twilio calls; the URL is then `protocol`, this host and the request's path. */
    host?: string;
    /**
     * Hosts a request's Host header may name (with or without a port); the URL checked is then built from it. A
     * request for any other host is answered 403 before its signature is checked.
     */
    allowedHosts?: string[];
    /**
     * Read X-Forwarded-Proto and X-Forwarded-Host (their first values) for the URL, from a proxy at one of these
     * addresses (`['127.0.0.1']`), or from any with `true`; default false. A host a trusted proxy names is taken
     * unless `allowedHosts` lists which.
     */
    trustProxy?: boolean | string[];
    /** Default 65536; a larger declared or read body is answered 413 and the connection closed. */
    maxBodyBytes?: number;
    /** Default 5000: a body not read whole in this time is answered 408 and the connection closed. */
    bodyTimeoutMs?: number;
    /** Default true; false only for local experiments. */
    validate?: boolean;
  }

  export interface Receipt {
    sid: string;
    status: "sent" | "delivered" | "read" | "failed" | "undelivered" | null;
    errorCode: number | null;
    participantSid: string | null;
    dateUpdated: Date | null;
  }

  export interface DeliveryStatus {
    success: true;
    conversationSid: string | null;
    messageSid: string;
    /** Twilio's summary: how many receipts, and whether all, some or none reached each status. */
    delivery: {
      total: number;
      sent: "all" | "some" | "none";
      delivered: "all" | "some" | "none";
      read: "all" | "some" | "none";
      failed: "all" | "some" | "none";
      undelivered: "all" | "some" | "none";
    } | null;
    receipts: Receipt[];
  }

  export interface WhatsAppWindow {
    success: true;
    conversationSid: string | null;
    open: boolean;
    lastInboundAt: Date | null;
    closesAt: Date | null;
  }

  export interface TwilioError extends Error {
    code: ErrorCode;
    status?: number;
    moreInfo?: string;
    details?: unknown;
  }

  /** The class of the errors `findOrCreateConversation` rejects with when Twilio or the network failed. */
  export class TwilioApiError extends Error implements TwilioError {
    name: "TwilioApiError";
    code: ErrorCode;
    status?: number;
    moreInfo?: string;
    details?: unknown;
  }

  // The class under its own name and as `default`, a value and a type alike (`const c: TwilioApiClient`), for
  // `import { TwilioApiClient }` in ESM and `require('twilio-api-client').TwilioApiClient` in CJS.
  const _TwilioApiClient: typeof TwilioApiClient;
  type _TwilioApiClient = TwilioApiClient;
  export { _TwilioApiClient as TwilioApiClient, _TwilioApiClient as default };
}

export = TwilioApiClient;
