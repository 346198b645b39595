"use strict";

// What the legacy class answers, built from the native client's typed results and its one kind of error:
// successes in twilio-node's presentation, `{ success: false, error, code }` failures, and the errors
// findOrCreateConversation rejects with.

const READY_MESSAGE = "Twilio API client is ready (Conversations API enabled)";

// twilio-node's presentation of a resource: camelCase keys (done in Rust) and Date objects for date fields.
function present(dataJson) {
  const resource = JSON.parse(dataJson);
  for (const [key, value] of Object.entries(resource)) {
    if (key.startsWith("date") && typeof value === "string")
      resource[key] = new Date(value);
  }
  return resource;
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
  if (
    error !== null &&
    typeof error === "object" &&
    typeof error.kind === "string"
  )
    return error;
  return {
    message: `Internal error: ${error?.message ?? error}`,
    code: "INTERNAL_ERROR",
    kind: "internal",
  };
}

/** `{ success: false, error, code }`: Twilio's numeric code when Twilio answered, else a stable string. */
function failed(failure) {
  return {
    success: false,
    error: failure.message,
    code: failure.code,
  };
}

/** What findOrCreateConversation and the synchronous methods throw: a TypeError for bad input, else a TwilioApiError. */
function thrown(failure) {
  if (failure.kind !== "input") return new TwilioApiError(failure);
  const error = new TypeError(failure.message);
  error.code = failure.code;
  return error;
}

function sent(message) {
  return {
    success: true,
    messageSid: message.messageSid,
    conversationSid: message.conversationSid ?? null,
    status: "sent",
    data: present(message.dataJson),
  };
}

function templateSent(message) {
  return { ...sent(message), body: message.body ?? null };
}

function uploaded(media) {
  return {
    success: true,
    mediaSid: media.mediaSid,
    serviceSid: media.serviceSid,
    contentType: media.contentType,
    filename: media.filename,
    size: media.size,
    data: present(media.dataJson),
  };
}

function connected(connection) {
  return {
    success: true,
    message: READY_MESSAGE,
    accountSid: connection.accountSid,
    accountName: connection.accountName ?? null,
  };
}

module.exports = {
  TwilioApiError,
  nativeFailure,
  failed,
  thrown,
  sent,
  templateSent,
  uploaded,
  connected,
};
