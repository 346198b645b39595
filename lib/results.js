"use strict";

// What the legacy class answers, built from the native client's typed results and its one kind of error:
// successes in twilio-node's presentation, `{ success: false, error, code }` failures, and the errors
// findOrCreateConversation rejects with.

const { inspect } = require("node:util");

// twilio-node's presentation of a resource Twilio answered: camelCase top-level keys (nested objects stay as
// Twilio sent them, as twilio-node leaves them) and Date objects for the date fields.
function present(json) {
  const resource = JSON.parse(json);
  const presented = {};
  for (const key of Object.keys(resource)) {
    // An assignment to `__proto__` would set the prototype: such a key from outside is dropped.
    if (key === "__proto__") continue;
    const name = key.replace(SNAKE, (_, letter) => letter.toUpperCase());
    const value = resource[key];
    presented[name] = name.startsWith("date") && typeof value === "string" ? new Date(value) : value;
  }
  return presented;
}
const SNAKE = /_+(.?)/g;

// `data` is presented when it is first read: most callers look only at `success` and the SIDs, and presenting
// the resource costs more than the rest of the result. Until then it is an accessor, which becomes a plain
// property on first read or write; spreading, Object.keys, JSON.stringify and deepStrictEqual read through it,
// and util.inspect is shown the plain object. Every result shares one getter and one setter, the text they
// present kept under a symbol of ours: with a pair of closures of its own, each result got a hidden class of
// its own, and V8 turned them into slow dictionaries.
const DATA_JSON = Symbol("twilio-api-client.dataJson");
const LAZY_DATA = {
  data: {
    enumerable: true,
    configurable: true,
    get() {
      return settleData(this, present(this[DATA_JSON]));
    },
    set(value) {
      settleData(this, value);
    },
  },
  [inspect.custom]: { value: inspectPlain },
};

function withData(result, json) {
  Object.defineProperty(result, DATA_JSON, { value: json });
  return Object.defineProperties(result, LAZY_DATA);
}

function settleData(result, value) {
  Object.defineProperty(result, "data", {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  return value;
}

function inspectPlain(depth, options, inspectValue) {
  return inspectValue({ ...this }, { ...options, depth });
}

/** The error findOrCreateConversation rejects with when Twilio or the network failed: twilio-node's shape. */
class TwilioApiError extends Error {
  constructor(failure) {
    super(failure.message);
    this.name = "TwilioApiError";
    this.code = failure.code;
    if (failure.status !== undefined) this.status = failure.status;
    if (failure.moreInfo !== undefined) this.moreInfo = failure.moreInfo;
    if (failure.details !== undefined) this.details = failure.details;
  }
}

// A rejection of the native client is its error object (`message`, `code`: Twilio's number or a name of ours,
// `kind`, and Twilio's `status`, `moreInfo`, `details`); anything else (a panic napi caught) is internal.
function nativeFailure(error) {
  if (error !== null && typeof error === "object" && typeof error.kind === "string") return error;
  return {
    message: `Internal error: ${error?.message ?? error}`,
    code: "INTERNAL_ERROR",
    kind: "internal",
  };
}

/** `{ success: false, error, code }`: Twilio's numeric code when Twilio answered, else a stable string. */
function failed(failure) {
  const result = {
    success: false,
    error: failure.message,
    code: failure.code,
  };
  if (failure.retryAfterMs !== undefined) result.retryAfterMs = failure.retryAfterMs;
  return result;
}

/** What findOrCreateConversation and the synchronous methods throw: a TypeError for bad input, else a TwilioApiError. */
function thrown(failure) {
  if (failure.kind !== "input") return new TwilioApiError(failure);
  const error = new TypeError(failure.message);
  error.code = failure.code;
  return error;
}

function sent(message) {
  const result = {
    success: true,
    messageSid: message.messageSid,
    conversationSid: message.conversationSid ?? null,
    status: "sent",
  };
  // Only on a replay: a send that went has the old module's shape exactly.
  if (message.replayed) result.replayed = true;
  return withData(result, message.dataJson);
}

// `body` comes after `data`, as it did in the old module.
function templateSent(message) {
  const result = sent(message);
  result.body = message.body ?? null;
  return result;
}

/** A check that found nothing the send would be refused for. */
function checked(value) {
  return {
    success: true,
    wouldSend: true,
    windowOpen: value.windowOpen ?? null,
    template: value.template ?? null,
  };
}

/** A check's failure: what the send would have failed with. */
function refused(failure) {
  return { ...failed(failure), wouldSend: false };
}

function uploaded(media) {
  return withData(
    {
      success: true,
      mediaSid: media.mediaSid,
      serviceSid: media.serviceSid,
      contentType: media.contentType,
      filename: media.filename,
      size: media.size,
    },
    media.dataJson,
  );
}

module.exports = {
  TwilioApiError,
  nativeFailure,
  failed,
  thrown,
  sent,
  templateSent,
  uploaded,
  checked,
  refused,
};
