export interface SandboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  accountSid?: string;
  authToken?: string;
  /** The address to listen on; loopback by default. Beyond loopback the control API demands a token. */
  host?: string;
  /** The control API's token (made up when the host is not loopback and none is given). */
  controlToken?: string;
  /** Limits to start with instead of Twilio's (`null` switches one off); a reset returns to these. */
  limits?: Partial<Limits>;
  /** Every limit off, before `limits` applies. */
  noLimits?: boolean;
}

export interface FaultSpec {
  method?: string;
  /** A regular expression matched against the request path. */
  path: string;
  after?: number;
  /** With `status`: the request takes effect first, then the status answers in place of its own. */
  after_write?: boolean;
  /** How many matching requests the rule answers: once when absent (unlimited with `probability`). */
  times?: number;
  /** Answer this fraction (0 to 1) of the matching requests, for as long as the rule stands. */
  probability?: number;
  status?: number;
  retry_after?: number;
  code?: number;
  message?: string;
  raw_body?: string;
  latency_ms?: number;
  drop?: "before" | "after";
  /** Hold the matching request, unprocessed, until `releaseHeld()` or `clearFaults()`. */
  hold?: boolean;
}

export interface LoggedRequest {
  seq: number;
  /** When the sandbox answered, on its clock (ISO-8601 with milliseconds). */
  at: string;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  params: Record<string, string | string[]>;
  status: number;
  fault?: string;
}

export interface Sandbox {
  url: string;
  accountSid: string;
  authToken: string;
  chatServiceSid: string;
  templateSid: string;
  /** A small PNG served by the sandbox, for media-by-URL tests. */
  imageUrl: string;
  /** Variables that point a client at the sandbox, and the default template's SID ({{1}} date, {{2}} time). */
  env(): {
    TWILIO_BASE_URL: string;
    TWILIO_ACCOUNT_SID: string;
    TWILIO_AUTH_TOKEN: string;
    TWILIO_CHAT_SERVICE_SID: string;
    TWILIO_TEMPLATE_SID: string;
  };
  /** The options of a client of this sandbox: `new TwilioApiClient({ ...sandbox.clientOptions(), logger })`. */
  clientOptions(): { baseUrl: string; accountSid: string; authToken: string; chatServiceSid: string };
  /**
   * A call of the control API, `/__sandbox/<route>` (`'faults'`, `'/faults'` and `'/__sandbox/faults'` alike),
   * with a JSON body; resolves the JSON answer and throws on a status that is not 2xx. The methods below are its
   * routes: `GET info`, `POST reset`, `GET state`, `GET|DELETE requests`, `POST conversations` (SeedConversation or
   * an array), `POST|DELETE conversations/<sid or unique name>`, `POST templates`, `POST templates/<HX…>/approval`,
   * `DELETE templates/<HX…>`, `POST latency { ms }`, `GET|POST|DELETE faults` (POST a FaultSpec), `POST
   * faults/release`, `GET|POST limits`, `POST inbound`, `GET|DELETE webhooks` (`GET webhooks?at_least=N` answers
   * once N are made), `POST webhooks/hold`, `POST webhooks/release { order }`, `POST webhooks/routes { from, to }`,
   * `POST receipts/<IM…>`, `GET|POST clock`, `POST api-keys`, `GET image.png`.
   */
  control(method: string, route: string, body?: unknown): Promise<unknown>;
  reset(): Promise<unknown>;
  state(): Promise<SandboxState>;
  requests(): Promise<LoggedRequest[]>;
  clearRequests(): Promise<unknown>;
  seed(conversations: SeedConversation | SeedConversation[]): Promise<SandboxConversation[]>;
  setConversation(idOrName: string, change: { state?: "active" | "inactive" | "closed" }): Promise<SandboxConversation>;
  deleteConversation(idOrName: string): Promise<unknown>;
  /**
   * A template in the sandbox's Content API: a `twilio/text` of `body`, or the `types` given (as `POST /v1/Content`
   * takes them), with `variables` as its sample values; approved for WhatsApp unless `approval` says otherwise.
   */
  template(template: SandboxTemplateSeed): Promise<SandboxTemplate>;
  /** Sets a template's WhatsApp approval status at once (WhatsApp's review, decided by the test). */
  setApproval(contentSid: string, status: ApprovalStatus, rejectionReason?: string): Promise<SandboxTemplate>;
  latency(ms: number): Promise<unknown>;
  fault(spec: FaultSpec): Promise<unknown>;
  clearFaults(): Promise<unknown>;
  /** Lets every request a `hold` fault is holding go on. */
  releaseHeld(): Promise<unknown>;
  limits(patch?: Partial<Limits>): Promise<Limits & { refused_writes: number }>;
  advanceClock(by: string): Promise<{ now: string }>;
  inbound(message: {
    from: string;
    to: string;
    body?: string;
    mediaUrl?: string;
  }): Promise<{ rejected: boolean; message: Record<string, unknown> | null }>;
  /** The webhook attempts made; with `{ atLeast: n }`, once n are (the sandbox waits up to 10 s for them). */
  webhooks(options?: { atLeast?: number }): Promise<WebhookAttempt[]>;
  clearWebhooks(): Promise<unknown>;
  /** Holds post-action webhooks back until released. */
  holdWebhooks(): Promise<{ held: true }>;
  /** Sends what was held, in the order it happened or `reversed`. */
  releaseWebhooks(order?: "as-happened" | "reversed"): Promise<{ held: false; released: number }>;
  /** Webhooks signed for URLs under `from` are sent under `to` instead. */
  routeWebhooks(from: string, to: string): Promise<{ from: string; to: string }>;
  setReceipt(
    sid: string,
    status: "sent" | "delivered" | "read" | "failed" | "undelivered",
    errorCode?: number,
  ): Promise<{ sid: string; status: string; error_code: number | null }>;
  stop(): Promise<void>;
}

/** A conversation as Twilio's API shows it (snake_case), with its participants and messages. */
export interface SandboxConversation {
  sid: string;
  unique_name: string | null;
  friendly_name: string | null;
  state: "active" | "inactive" | "closed" | "initializing";
  attributes: string;
  date_created: string;
  date_updated: string;
  participants?: Array<{
    sid: string;
    identity: string | null;
    messaging_binding: { address: string; proxy_address: string } | null;
    attributes: string;
  }>;
  messages?: Array<{
    sid: string;
    index: number;
    author: string;
    body: string | null;
    content_sid?: string | null;
    attributes: string;
    media: Array<{
      sid: string;
      content_type: string;
      size: number;
      filename: string;
    }> | null;
    date_created: string;
  }>;
  [field: string]: unknown;
}

export type ApprovalStatus = "unsubmitted" | "received" | "pending" | "approved" | "rejected" | "paused" | "disabled";

export type SandboxTemplateSeed = {
  sid?: string;
  friendly_name?: string;
  language?: string;
  /** Sample values, which Twilio also sends for a variable left out. */
  variables?: Record<string, string>;
  /** Default `approved`. */
  approval?: ApprovalStatus;
  rejection_reason?: string;
} & ({ body: string; types?: never } | { types: Record<string, unknown>; body?: never });

/** A Content resource as the Content API renders it, with the body a send renders and its WhatsApp approval. */
export interface SandboxTemplate {
  sid: string;
  friendly_name: string;
  language: string;
  variables: Record<string, string>;
  types: Record<string, unknown>;
  /** The body of the type WhatsApp is sent, before substitution; null for a type without one. */
  body: string | null;
  approval: {
    name: string;
    category: string;
    content_type: string;
    status: ApprovalStatus;
    rejection_reason: string;
    allow_category_change: boolean;
  };
  [field: string]: unknown;
}

/** What `state()` answers: everything the sandbox holds. */
export interface SandboxState {
  conversations: SandboxConversation[];
  /** Messages sent through Messages.json. */
  messages: Array<Record<string, unknown>>;
  media: Array<Record<string, unknown>>;
  templates: SandboxTemplate[];
  address_configurations: Array<{
    sid: string;
    address: string;
    auto_creation: boolean;
  }>;
}

/** A conversation to seed: Twilio's fields (snake_case), its participants and messages. */
export interface SeedConversation {
  unique_name?: string;
  friendly_name?: string;
  attributes?: string;
  state?: "active" | "inactive" | "closed";
  date_created?: string;
  participants?: Array<{
    identity?: string;
    address?: string;
    proxy_address?: string;
    attributes?: string;
  }>;
  messages?: Array<Record<string, unknown>>;
}

/** Twilio's documented limits, each on by default at Twilio's value; `null` switches one off. */
export interface Limits {
  conversations_per_identity: number | null;
  participants_per_conversation: number | null;
  non_chat_participants: number | null;
  participants_per_request: number | null;
  writes_per_second: number | null;
  conversation_attributes_bytes: number | null;
  message_attributes_bytes: number | null;
  participant_attributes_bytes: number | null;
  /** How long ConversationWithParticipants answers 202 `initializing`; off (`null`) by default. */
  initializing_ms: number | null;
}

export function startSandbox(options?: SandboxOptions): Promise<Sandbox>;
/** The same in a child process of its own (its CPU and memory apart from this process's); `stop()` ends it. */
export function startSandboxProcess(options?: SandboxOptions): Promise<Sandbox>;

/** One call the sandbox made to a webhook. */
export interface WebhookAttempt {
  seq: number;
  at: string;
  event_type: string;
  /** `account`, `service`, or the conversation-scoped webhook's SID. */
  scope: string;
  url: string;
  method: string;
  params: Record<string, string | string[]>;
  signature: string;
  /** Where the request went, when a route sent it elsewhere than `url` (which was signed). */
  delivered_to?: string;
  /** `I-Twilio-Idempotency-Token`: the same on each retry of one event to one target. */
  idempotency_token: string;
  /** 0, then 1 for the first retry, …: the payload's `RetryCount`. */
  retry: number;
  /** The status answered; null when the call failed or timed out (then `error` says why). */
  status: number | null;
  error?: string;
  duration_ms: number;
}
