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
  times?: number;
  probability?: number;
  status?: number;
  retry_after?: number;
  code?: number;
  message?: string;
  raw_body?: string;
  latency_ms?: number;
  drop?: "before" | "after";
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
  env(): {
    TWILIO_BASE_URL: string;
    TWILIO_ACCOUNT_SID: string;
    TWILIO_AUTH_TOKEN: string;
  };
  control(method: string, route: string, body?: unknown): Promise<any>;
  reset(): Promise<unknown>;
  state(): Promise<any>;
  requests(): Promise<LoggedRequest[]>;
  clearRequests(): Promise<unknown>;
  seed(conversations: object | object[]): Promise<any>;
  setConversation(idOrName: string, change: { state?: string }): Promise<any>;
  deleteConversation(idOrName: string): Promise<unknown>;
  template(template: {
    sid?: string;
    friendly_name?: string;
    body: string;
  }): Promise<any>;
  latency(ms: number): Promise<unknown>;
  fault(spec: FaultSpec): Promise<unknown>;
  clearFaults(): Promise<unknown>;
  limits(patch?: Partial<Limits>): Promise<Limits & { refused_writes: number }>;
  advanceClock(by: string): Promise<{ now: string }>;
  inbound(message: {
    from: string;
    to: string;
    body?: string;
    mediaUrl?: string;
  }): Promise<{ rejected: boolean; message: Record<string, unknown> | null }>;
  webhooks(): Promise<WebhookAttempt[]>;
  clearWebhooks(): Promise<unknown>;
  setReceipt(
    sid: string,
    status: "sent" | "delivered" | "read" | "failed" | "undelivered",
    errorCode?: number,
  ): Promise<{ sid: string; status: string; error_code: number | null }>;
  stop(): Promise<void>;
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
  /** The status answered; null when the call failed or timed out (then `error` says why). */
  status: number | null;
  error?: string;
  duration_ms: number;
}
