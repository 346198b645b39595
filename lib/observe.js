"use strict";

// Seeing what a client does, the ecosystem's way: a `TracingChannel` per client call and a channel per Twilio
// request on `node:diagnostics_channel` (what APM agents and OpenTelemetry subscribe to), a debug log line per
// request, and running totals for metrics. Nothing here names a customer, a token or a message text.

const dc = require("node:diagnostics_channel");

const LOG_PREFIX = "[twilio-api-client]";
const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * `start`, `end`, `asyncStart`, `asyncEnd`, `error` for every client call; the context is `{ operation, to }` (the
 * number's last four digits), and `result` its outline (see `outline`): an APM agent records what it is handed.
 */
const calls = typeof dc.tracingChannel === "function" ? dc.tracingChannel("twilio-api-client:call") : null;
/** One message per Twilio request: `{ method, host, route, status, durationMs, attempt, operation, call }`. */
const requests = dc.channel("twilio-api-client:request");

function callsWatched() {
  if (calls === null) return false;
  // TracingChannel#hasSubscribers is newer than some supported Nodes.
  return (
    calls.hasSubscribers ??
    ["start", "end", "asyncStart", "asyncEnd", "error"].some((name) => calls[name].hasSubscribers)
  );
}

// What a tracing subscriber sees of an outcome: whether it succeeded, its code, its (masked) error text and the
// SIDs it names; never a message's body, attributes, media or Twilio's resource, which carry what customers wrote.
const OUTLINED = ["success", "code", "error", "status", "messageSid", "conversationSid", "replayed", "wouldSend"];

function outline(outcome) {
  if (outcome === null || typeof outcome !== "object") return outcome;
  const kept = {};
  for (const name of OUTLINED) if (outcome[name] !== undefined) kept[name] = outcome[name];
  return kept;
}

/**
 * Writes `message`, after the client's prefix, to the (adapted) logger's `level`; `warn` falls back to `error`. A
 * logger that throws does not take the client's work down with it.
 */
function write(logger, level, message, context) {
  const log = logger?.[level] ?? (level === "warn" ? logger?.error : undefined);
  if (typeof log !== "function") return;
  try {
    log(`${LOG_PREFIX} ${message}`, context);
  } catch {}
}

// pino (and its children) take `(object, message)`: a context given second would be read as a format argument and
// dropped. console and winston take `(message, object)`.
const PINO = Symbol.for("pino.serializers");

/**
 * The caller's logger as the client calls it, `(message, context)`, whatever order its methods take: only the
 * levels it has, each calling it with itself as `this`.
 */
function adaptLogger(logger) {
  const objectFirst = PINO in logger;
  const adapted = {};
  for (const level of ["error", "warn", "info", "debug"]) {
    if (typeof logger[level] !== "function") continue;
    // Looked up at each call: a test may replace `console.error` after the client is made.
    adapted[level] = (message, context) => {
      if (context === undefined) logger[level](message);
      else if (objectFirst) logger[level](context, message);
      else logger[level](message, context);
    };
  }
  return adapted;
}

// What the settling of calls reaches: never the native client (napi's threadsafe function holds `settle`, and
// what it reaches is never collected).
class Observer {
  #logger;
  #level;
  #sends = 0;
  #replays = 0;
  #failures = new Map();

  constructor(logger) {
    this.#logger = logger;
    this.#level = LEVELS.error;
  }

  set level(level) {
    this.#level = LEVELS[level] ?? LEVELS.error;
  }

  get debugging() {
    return this.#logger !== null && this.#level >= LEVELS.debug;
  }

  /** Whether Twilio requests are to be recorded: for the debug log, or a subscriber. */
  get watchingRequests() {
    return this.debugging || requests.hasSubscribers;
  }

  /**
   * Runs `run(context)` (a promise) as the call `operation`, traced while anyone subscribes: the channel's
   * `result` is the outcome's outline, the caller gets the outcome itself. `to()`: the customer, masked, asked
   * only when traced. Not an async function: an untraced call, every send of a deep queue, gets no promise of its own.
   */
  call(operation, to, run) {
    if (!callsWatched()) return run(undefined);
    return this.#traced({ operation, to: to() }, run);
  }

  async #traced(context, run) {
    let outcome;
    await calls.tracePromise(async () => outline((outcome = await run(context))), context);
    return outcome;
  }

  /** Twilio requests the native side recorded, each with its call's context when it belongs to a pending one. */
  requests(events, contextOf) {
    for (const event of events) {
      const context = event.call === null ? undefined : contextOf(event.call);
      const message = {
        method: event.method,
        host: event.host,
        route: event.route,
        status: event.status ?? null,
        durationMs: event.durationMs,
        attempt: event.attempt,
        operation: context?.operation,
        call: context,
      };
      if (requests.hasSubscribers) requests.publish(message);
      if (this.debugging)
        write(
          this.#logger,
          "debug",
          `${event.method} ${event.host}${event.route} ${event.status ?? "no answer"} (attempt ${event.attempt + 1}, ${event.durationMs.toFixed(1)} ms)`,
          { ...message, call: undefined },
        );
    }
  }

  /** A failed call: refused input at `debug` (the caller has it in the result), anything else at `error`. */
  failed(operation, to, failure) {
    this.#failures.set(failure.code, (this.#failures.get(failure.code) ?? 0) + 1);
    const input = failure.kind === "input";
    if (input && !this.debugging) return;
    write(this.#logger, input ? "debug" : "error", `${operation} failed: ${failure.message}`, {
      operation,
      to,
      code: failure.code,
      status: failure.status,
    });
  }

  /** A send that went, or one an earlier send with its idempotency key had made (`replayed`). */
  sent(replayed) {
    if (replayed) this.#replays++;
    else this.#sends++;
  }

  /**
   * Lines the core raised: warnings (once per event, never per message) at every level, to logger.warn, else
   * logger.error; what the client changed (`info`, raised only at `logLevel` info or debug) to logger.info.
   */
  log(lines) {
    for (const { level, message } of lines) write(this.#logger, level === "info" ? "info" : "warn", message);
  }

  /** The client's totals, with the core's (`totals`). */
  stats(totals) {
    return {
      sends: this.#sends,
      replays: this.#replays,
      failures: Object.fromEntries(this.#failures),
      requests: totals.requests,
      retries: totals.retries,
      rateLimited: totals.rateLimited,
      cacheHits: totals.cacheHits,
      cacheMisses: totals.cacheMisses,
      queued: totals.queued,
      pacingWaitMs: {
        p50: totals.pacingWaitP50Ms,
        p99: totals.pacingWaitP99Ms,
      },
    };
  }
}

module.exports = { Observer, adaptLogger, write };
