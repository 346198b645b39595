import type { Tracer } from "@opentelemetry/api";

/**
 * Turns the client's diagnostics channels into OpenTelemetry spans: `twilio <operation>` per client call, and a
 * client span per Twilio request under it (`POST /v1/Conversations/{ConversationSid}/Messages`). Returns a
 * function that stops it. `tracer` defaults to the globally registered provider's.
 */
export function instrument(options?: { tracer?: Tracer }): () => void;
