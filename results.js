"use strict";

// What the legacy class answers, built from the native client's typed results and its one kind of error:
// successes in twilio-node's presentation, `{ success: false, error, code }` failures, and the errors
// findOrCreateConversation rejects with.

const { inspect } = require("node:util");

const READY_MESSAGE = "Twilio API client is ready (Conversations API enabled)";

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
// its own, and V8 turned them into slow dictionaries (2–4 µs of CPU a message in the steady bench).
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
  return withData(
    {
      success: true,
      messageSid: message.messageSid,
      conversationSid: message.conversationSid ?? null,
      status: "sent",
    },
    message.dataJson,
  );
}

// `body` comes after `data`, as it did in the old module.
function templateSent(message) {
  const result = sent(message);
  result.body = message.body ?? null;
  return result;
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

function connected(connection) {
  return {
    success: true,
    message: READY_MESSAGE,
    accountSid: connection.accountSid,
    accountName: connection.accountName ?? null,
  };
}

// Dates cross as ISO-8601 text and become Date objects, as twilio-node presents them; absent is null.
const date = (text) => (text ? new Date(text) : null);

function agentAdded(agent) {
  return {
    success: true,
    conversationSid: agent.conversationSid,
    participantSid: agent.participantSid,
    identity: agent.identity,
    alreadyPresent: agent.alreadyPresent,
  };
}

function agentRemoved(removal) {
  return {
    success: true,
    conversationSid: removal.conversationSid ?? null,
    removed: removal.removed,
  };
}

function participantList(list) {
  return {
    success: true,
    conversationSid: list.conversationSid ?? null,
    participants: list.participants.map((p) => ({
      sid: p.sid,
      identity: p.identity ?? null,
      address: p.address ?? null,
      proxyAddress: p.proxyAddress ?? null,
      attributes: p.attributes,
      dateCreated: date(p.dateCreated),
    })),
  };
}

function assigned(assignment) {
  return {
    success: true,
    conversationSid: assignment.conversationSid ?? null,
    assignee: assignment.assignee ?? null,
    previousAssignee: assignment.previousAssignee ?? null,
  };
}

function unassigned(assignment) {
  return {
    success: true,
    conversationSid: assignment.conversationSid ?? null,
    previousAssignee: assignment.previousAssignee ?? null,
  };
}

function conversationStatus(status) {
  return {
    success: true,
    conversationSid: status.conversationSid ?? null,
    state: status.state ?? null,
    uniqueName: status.uniqueName ?? null,
    friendlyName: status.friendlyName ?? null,
    assignee: status.assignee ?? null,
    participantCount: status.participantCount,
    dateCreated: date(status.dateCreated),
    dateUpdated: date(status.dateUpdated),
    timers: {
      dateInactive: date(status.dateInactive),
      dateClosed: date(status.dateClosed),
    },
  };
}

function stateChanged(change) {
  return {
    success: true,
    conversationSid: change.conversationSid ?? null,
    state: change.state ?? null,
  };
}

function conversationMetadata(result) {
  return {
    success: true,
    conversationSid: result.conversationSid ?? null,
    metadata: result.metadata,
  };
}

function messageHistory(history) {
  return {
    success: true,
    conversationSid: history.conversationSid ?? null,
    messages: history.messages.map((m) => ({
      sid: m.sid,
      index: m.index,
      author: m.author ?? null,
      body: m.body ?? null,
      contentSid: m.contentSid ?? null,
      media:
        m.media?.map((item) => ({
          sid: item.sid,
          size: item.size,
          contentType: item.contentType ?? null,
          filename: item.filename ?? null,
        })) ?? null,
      attributes: m.attributes,
      participantSid: m.participantSid ?? null,
      dateCreated: date(m.dateCreated),
      delivery: m.delivery ?? null,
    })),
  };
}

function deliveryStatus(status) {
  return {
    success: true,
    conversationSid: status.conversationSid ?? null,
    messageSid: status.messageSid,
    delivery: status.delivery ?? null,
    receipts: status.receipts.map((r) => ({
      sid: r.sid,
      status: r.status ?? null,
      errorCode: r.errorCode ?? null,
      participantSid: r.participantSid ?? null,
      dateUpdated: date(r.dateUpdated),
    })),
  };
}

function whatsAppWindow(window) {
  return {
    success: true,
    conversationSid: window.conversationSid ?? null,
    open: window.open,
    lastInboundAt: date(window.lastInboundAt),
    closesAt: date(window.closesAt),
  };
}

function webhookConfiguration(config) {
  return {
    success: true,
    postWebhookUrl: config.postWebhookUrl ?? null,
    preWebhookUrl: config.preWebhookUrl ?? null,
    filters: config.filters,
    method: config.method,
  };
}

module.exports = {
  TwilioApiError,
  deliveryStatus,
  whatsAppWindow,
  webhookConfiguration,
  agentAdded,
  agentRemoved,
  participantList,
  assigned,
  unassigned,
  conversationStatus,
  stateChanged,
  conversationMetadata,
  messageHistory,
  nativeFailure,
  failed,
  thrown,
  sent,
  templateSent,
  uploaded,
  connected,
};
