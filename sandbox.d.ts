export interface SandboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  accountSid?: string;
  authToken?: string;
}

export interface FaultSpec {
  method?: string;
  /** A regular expression matched against the request path. */
  path: string;
  after?: number;
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
  stop(): Promise<void>;
}

export function startSandbox(options?: SandboxOptions): Promise<Sandbox>;
export function sandboxBinary(): string;
