"use strict";

// The legacy `twilio-api-client` class over the native client. Everything Twilio-facing (validation,
// conversation lookup, caching, HTTP, retries) happens in Rust; this file gives the class its exact shape:
// names, defaults, result objects, thrown errors, logging.

const { NativeClient, contentType, maskNumber, optionTypes, validateWebhookSignature } = require("./lib/native.js");
const {
  TwilioApiError,
  nativeFailure,
  failed,
  thrown,
  sent,
  templateSent,
  uploaded,
  checked,
  refused,
} = require("./lib/results.js");
const { webhookHandler, formPairs } = require("./lib/webhook-handler.js");
const { sendBulk } = require("./lib/bulk.js");
const { isPlainObject } = require("./lib/plain-object.js");
const { PendingCalls } = require("./lib/pending-calls.js");
const { Observer, adaptLogger } = require("./lib/observe.js");

// What a call made after close() gets.
const CLOSED = Object.freeze({
  message: "This client was closed (close()): make a new one to send again",
  code: "CLIENT_CLOSED",
  kind: "refused",
});

// The JavaScript type each option takes, from the native struct's list: checked here, so that a wrong one is
// refused by its name and the kind of value given, never with the value, which may be a token.
const OPTION_TYPES = new Map(optionTypes());
// The calls counted as sends in stats().
const SENDS = new Set(["sendMessage", "sendTemplateMessage", "sendImageMessage", "sendImageMessageByUrl"]);
// The checks: a refusal is their answer, not a failure of the client's (neither counted nor logged).
const CHECKS = new Set(["checkTemplate", "checkMessage", "checkImageMessageByUrl"]);
const TIMER_NAMES = ["inactiveAfter", "closedAfter"];

function kindOf(value) {
  if (Array.isArray(value)) return "an array";
  if (Buffer.isBuffer(value)) return "a Buffer";
  if (value instanceof String) return "a String object";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

function checkOptionType(name, value) {
  // conversationTimers has its own check (checkTimers).
  if (name === "conversationTimers") return;
  const wanted = OPTION_TYPES.get(name);
  if (typeof value !== wanted) throw new TypeError(`${name} must be a ${wanted}, not ${kindOf(value)}`);
}

// Only TWILIO_* variables cross into Rust, read once at construction.
function twilioEnvironment() {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("TWILIO_") && typeof value === "string") env[name] = value;
  }
  return env;
}

// The timers' values are checked in Rust; their shape here, so that a misspelt key is not silently ignored.
function checkTimers(timers) {
  if (!isPlainObject(timers))
    throw new TypeError("conversationTimers must be an object like { inactiveAfter: 'PT30M', closedAfter: 'P1D' }");
  for (const [name, value] of Object.entries(timers)) {
    if (!TIMER_NAMES.includes(name)) throw new TypeError(`Unknown conversationTimers option: ${name}`);
    if (value !== undefined && value !== null && typeof value !== "string")
      throw new TypeError(`conversationTimers.${name} must be an ISO-8601 duration string such as 'PT30M'`);
  }
}

// An object argument (content variables, attributes, a metadata patch) goes to Twilio as JSON text: a plain
// object is serialised here, as the old module did; anything else (and an object that cannot be serialised: a
// cycle, a throwing getter or toJSON) crosses as it is, for the core to check (a string) or refuse by its kind.
function objectArg(value) {
  if (!isPlainObject(value)) return value;
  try {
    return JSON.stringify(value) ?? value;
  } catch {
    return value;
  }
}

// Template variables cross as a plain object's keys and values, each value as it is: JSON would turn a Date (or
// any toJSON object) into text and NaN into null, which the core refuses for what they are. Anything else (the
// legacy JSON object string, a wrong kind of value) crosses as it is.
function variablesArgs(value) {
  if (isPlainObject(value)) {
    try {
      const entries = Object.entries(value);
      return [undefined, entries.map(([key]) => key), entries.map(([, v]) => v)];
    } catch {
      // A getter that throws: the object is refused by its kind.
    }
  }
  return [value, undefined, undefined];
}

// Options objects of the newer methods; anything but an object means the defaults. Read inside the call, so that
// an options object whose getters throw makes a failure, not a thrown error.
function optionsOf(options) {
  return options !== null && typeof options === "object" ? options : {};
}

// A webhook's parameters as the validator takes them: form parameters as [name, value] pairs (a repeated name
// once per value, as Express and Fastify parse them), or a JSON body (a string or a Buffer).
function webhookParams(params) {
  if (typeof params === "string" || Buffer.isBuffer(params)) return [[], Buffer.from(params)];
  return [isPlainObject(params) ? formPairs(params) : [], undefined];
}

function resolveLogger(logger) {
  if (logger === false) return null;
  if (logger === undefined || logger === null) return adaptLogger(console);
  if (typeof logger !== "object" || typeof logger.error !== "function") {
    throw new TypeError("logger must have an error() method (console, pino and winston do), or be false");
  }
  return adaptLogger(logger);
}

// `options.to` of checkTemplate, for the call's log context only: a getter that throws is met again inside the
// call, where it becomes the call's failure.
function recipientOf(options) {
  try {
    return optionsOf(options).to;
  } catch {
    return undefined;
  }
}

const returned = (value) => value;
const rejected = (failure) => {
  throw thrown(failure);
};

function masked(value) {
  return typeof value === "string" || typeof value === "number" ? maskNumber(String(value)) : undefined;
}

class TwilioApiClient {
  #native;
  #logger;
  #calls;
  #observer;
  #watchingRequests = false;
  #closed = null;
  // What the options gave of what validateConfig() reports, so that a client made from options is judged by them.
  #given;

  constructor(options = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("TwilioApiClient options must be an object");
    }
    const { logger, ...rest } = options;
    const native = {};
    for (const [name, value] of Object.entries(rest)) {
      if (!OPTION_TYPES.has(name)) throw new TypeError(`Unknown TwilioApiClient option: ${name}`);
      if (value === undefined || value === null) continue;
      checkOptionType(name, value);
      native[name] = value;
    }
    if (native.conversationTimers !== undefined) checkTimers(native.conversationTimers);
    this.#given = {
      accountSid: typeof native.accountSid === "string" && native.accountSid.trim() !== "",
      credentials: [native.authToken, native.apiSecret].some((v) => typeof v === "string" && v.trim() !== ""),
      whatsappNumber: native.whatsappNumber,
    };
    this.#logger = resolveLogger(logger);
    try {
      this.#observer = new Observer(this.#logger);
      this.#calls = new PendingCalls(this.#observer);
      this.#native = new NativeClient(native, twilioEnvironment(), this.#calls.settle);
    } catch (error) {
      throw new Error(error.message);
    }
    // The core read the level from the option or the environment.
    this.#observer.level = this.#native.logLevel;
    // The fields the old module exposed, for reading: assigning one would not change the client.
    for (const name of ["accountSid", "whatsappNumber", "systemIdentity"]) {
      Object.defineProperty(this, name, {
        value: this.#native[name],
        enumerable: true,
        writable: false,
      });
    }
  }

  // Runs a native call; the promise is of its public result: `succeeded(value)`, else `failedWith(failure)` (by
  // default `{ success: false, error, code }`; a method that rejects throws there). A failure is logged with context,
  // never with message text or full numbers. Traced, the channel sees the same result the caller gets.
  #run(operation, to, call, succeeded = returned, failedWith = failed) {
    if (this.#closed !== null) return Promise.resolve({ ...CLOSED }).then(failedWith);
    const watching = this.#observer.watchingRequests;
    if (watching !== this.#watchingRequests) {
      this.#watchingRequests = watching;
      this.#native.watchRequests(watching);
    }
    return this.#observer.call(
      operation,
      () => masked(to),
      (context) => this.#outcome(operation, to, call, succeeded, failedWith, context),
    );
  }

  // One promise a call, settled with its result by `#finish`: neither a suspended async function nor handlers on
  // the native call's promise, which are most of a send waiting in a deep queue.
  #outcome(operation, to, call, succeeded, failedWith, context) {
    const record = {
      resolve: undefined,
      reject: undefined,
      finish: this.#finish,
      context,
      operation,
      to,
      succeeded,
      failedWith,
    };
    return this.#calls.start(call, record);
  }

  // A call's result from its outcome: its success shape, or the failure's (a result, null, or a rejection).
  #finish = (record, outcome, failed) => {
    const { operation } = record;
    let error = outcome;
    if (!failed) {
      try {
        if (SENDS.has(operation)) this.#observer.sent(outcome.replayed === true);
        return record.succeeded(outcome);
      } catch (thrown) {
        error = thrown;
      }
    }
    const failure = nativeFailure(error);
    const answered = CHECKS.has(operation) && (failure.kind === "input" || failure.kind === "refused");
    // The number as the trace has it already: masked once a call.
    if (!answered) this.#observer.failed(operation, record.context?.to ?? masked(record.to), failure);
    return record.failedWith(failure);
  };

  // A call with what a send's options ask for: `{ deadlineMs }` in place of the client's (a request handler bounds
  // its own wait; a bad one fails the call as input), `{ bulk: true }` for a campaign's send.
  #limited(options, call) {
    const { deadlineMs, bulk } = optionsOf(options);
    if (deadlineMs === undefined && bulk !== true) return call;
    return (id) => {
      if (deadlineMs !== undefined) this.#native.limitCall(id, deadlineMs);
      // A campaign's send (sendBulk's, or one marked so): it waits behind interactive sends in every lane.
      if (bulk === true) this.#native.bulkCall(id);
      return call(id);
    };
  }

  /**
   * Lets the calls in flight finish, refuses new ones (`CLIENT_CLOSED`), then ends the client's Redis connections.
   * The same promise for every call of it.
   */
  close() {
    this.#closed ??= this.#calls.idle().then(() => this.#native.close());
    return this.#closed;
  }

  [Symbol.asyncDispose ?? Symbol.for("nodejs.asyncDispose")]() {
    return this.close();
  }

  formatWhatsAppNumber(phoneNumber) {
    try {
      return this.#native.formatWhatsappNumber(phoneNumber);
    } catch (error) {
      throw thrown(nativeFailure(error));
    }
  }

  findOrCreateConversation(phoneNumber) {
    return this.#run(
      "findOrCreateConversation",
      phoneNumber,
      (call) => this.#native.findOrCreateConversation(call, phoneNumber),
      returned,
      rejected,
    );
  }

  getConversation(phoneNumber) {
    return this.#run(
      "getConversation",
      phoneNumber,
      (call) => this.#native.getConversation(call, phoneNumber),
      returned,
      () => null,
    );
  }

  sendMessage(to, text, author = null, options = {}) {
    return this.#run(
      "sendMessage",
      to,
      this.#limited(options, (call) =>
        this.#native.sendMessage(call, to, text, author, optionsOf(options).idempotencyKey),
      ),
      sent,
    );
  }

  sendTemplateMessage(phoneNumber, contentSid, contentVariables = {}, options = {}) {
    return this.#run(
      "sendTemplateMessage",
      phoneNumber,
      this.#limited(options, (call) => {
        const { idempotencyKey, allowSampleValues } = optionsOf(options);
        return this.#native.sendTemplateMessage(
          call,
          phoneNumber,
          contentSid,
          ...variablesArgs(contentVariables),
          idempotencyKey,
          allowSampleValues,
        );
      }),
      templateSent,
    );
  }

  /**
   * Whether a template send would go, checked against the template's definition at Twilio exactly as
   * sendTemplateMessage checks it, with reads only. With `options.to`, an unapproved template is judged by that
   * customer's 24-hour window.
   */
  checkTemplate(contentSid, contentVariables = {}, options = {}) {
    return this.#check("checkTemplate", recipientOf(options), (call) => {
      const { to, idempotencyKey, allowSampleValues } = optionsOf(options);
      return this.#native.checkTemplate(
        call,
        to,
        contentSid,
        ...variablesArgs(contentVariables),
        idempotencyKey,
        allowSampleValues,
      );
    });
  }

  /** The same for a text: its input, and the customer's 24-hour window (`windowOpen`). */
  checkMessage(to, text, author = null, options = {}) {
    return this.#check("checkMessage", to, (call) =>
      this.#native.checkMessage(call, to, text, author, optionsOf(options).idempotencyKey),
    );
  }

  /** The same for an image by URL (the image itself is not fetched). */
  checkImageMessageByUrl(to, mediaUrl, caption = null, options = {}) {
    return this.#check("checkImageMessageByUrl", to, (call) =>
      this.#native.checkImageMessageByUrl(call, to, mediaUrl, caption, optionsOf(options).idempotencyKey),
    );
  }

  // A check resolves `{ success: true, wouldSend: true, … }` or the failure the send would have, with
  // `wouldSend: false`.
  #check(operation, to, call) {
    return this.#run(operation, to, call, checked, refused);
  }

  sendImageMessage(to, imagePath, caption = null, baseUrl = null) {
    return this.#run(
      "sendImageMessage",
      to,
      (call) => this.#native.sendImageMessage(call, to, imagePath, caption, baseUrl),
      sent,
    );
  }

  sendImageMessageByUrl(to, mediaUrl, caption = null, options = {}) {
    return this.#run(
      "sendImageMessageByUrl",
      to,
      this.#limited(options, (call) =>
        this.#native.sendImageMessageByUrl(call, to, mediaUrl, caption, optionsOf(options).idempotencyKey),
      ),
      sent,
    );
  }

  /**
   * A campaign: every message of `messages` (an array, iterable or async iterable, read only as fast as sends
   * finish), paced at Twilio's rate; resolves `{ total, delivered, failed, results }`, results in input order.
   * With `dryRun: true`, each message is checked as it would be sent and none is: `{ dryRun, total, sendable,
   * refused, outsideWindow, byCode, results }`.
   */
  sendBulk(messages, options = {}) {
    return sendBulk(this, messages, options, this.#logger);
  }

  uploadMedia(filePath) {
    return this.#run("uploadMedia", undefined, (call) => this.#native.uploadMedia(call, filePath), uploaded);
  }

  getContentType(filePath) {
    if (typeof filePath !== "string") {
      throw new TypeError(`The "filePath" argument must be of type string. Received ${typeof filePath}`);
    }
    return contentType(filePath);
  }

  // The old module's shape, judging this client: what its options gave, and for the rest the environment at call
  // time as the old module read it; an API key and its secret are credentials as much as the auth token.
  validateConfig() {
    const env = process.env;
    const given = {
      TWILIO_ACCOUNT_SID: this.#given.accountSid || Boolean(env.TWILIO_ACCOUNT_SID),
      TWILIO_AUTH_TOKEN:
        this.#given.credentials ||
        Boolean(env.TWILIO_AUTH_TOKEN) ||
        Boolean(env.TWILIO_API_KEY && env.TWILIO_API_SECRET),
    };
    const missing = Object.keys(given).filter((name) => !given[name]);
    if (missing.length > 0) {
      return {
        valid: false,
        missing,
        error: `Missing required environment variables: ${missing.join(", ")}`,
      };
    }
    return {
      valid: true,
      config: {
        hasAccountSid: true,
        hasAuthToken: true,
        whatsappNumber: this.#given.whatsappNumber ?? (process.env.TWILIO_WHATSAPP_NUMBER || "Not configured"),
      },
    };
  }

  addAgent(phoneNumber, identity, attributes = null) {
    return this.#run("addAgent", phoneNumber, (call) =>
      this.#native.addAgent(call, phoneNumber, identity, objectArg(attributes)),
    );
  }

  removeAgent(phoneNumber, identity) {
    return this.#run("removeAgent", phoneNumber, (call) => this.#native.removeAgent(call, phoneNumber, identity));
  }

  listParticipants(phoneNumber) {
    return this.#run("listParticipants", phoneNumber, (call) => this.#native.listParticipants(call, phoneNumber));
  }

  assignConversation(phoneNumber, identity, options = {}) {
    return this.#run("assignConversation", phoneNumber, (call) =>
      this.#native.assignConversation(call, phoneNumber, identity, optionsOf(options).keepPrevious),
    );
  }

  unassignConversation(phoneNumber) {
    return this.#run("unassignConversation", phoneNumber, (call) =>
      this.#native.unassignConversation(call, phoneNumber),
    );
  }

  getConversationStatus(phoneNumber) {
    return this.#run("getConversationStatus", phoneNumber, (call) =>
      this.#native.getConversationStatus(call, phoneNumber),
    );
  }

  setConversationState(phoneNumber, state) {
    return this.#run("setConversationState", phoneNumber, (call) =>
      this.#native.setConversationState(call, phoneNumber, state),
    );
  }

  closeConversation(phoneNumber) {
    return this.setConversationState(phoneNumber, "closed");
  }

  getConversationMetadata(phoneNumber) {
    return this.#run("getConversationMetadata", phoneNumber, (call) =>
      this.#native.getConversationMetadata(call, phoneNumber),
    );
  }

  setConversationMetadata(phoneNumber, patch, options = {}) {
    return this.#run("setConversationMetadata", phoneNumber, (call) =>
      this.#native.setConversationMetadata(call, phoneNumber, objectArg(patch), optionsOf(options).replace),
    );
  }

  getMessages(phoneNumber, options = {}) {
    return this.#run("getMessages", phoneNumber, (call) => {
      const { limit = 50, order = "desc" } = optionsOf(options);
      return this.#native.getMessages(call, phoneNumber, limit, order);
    });
  }

  getDeliveryStatus(phoneNumber, messageSid) {
    return this.#run("getDeliveryStatus", phoneNumber, (call) =>
      this.#native.getDeliveryStatus(call, phoneNumber, messageSid),
    );
  }

  getWhatsAppWindow(phoneNumber) {
    return this.#run("getWhatsAppWindow", phoneNumber, (call) => this.#native.getWhatsAppWindow(call, phoneNumber));
  }

  configureWebhooks(settings = {}) {
    return this.#run("configureWebhooks", undefined, (call) => {
      const { postWebhookUrl, preWebhookUrl, filters, method } = optionsOf(settings);
      return this.#native.configureWebhooks(
        call,
        postWebhookUrl,
        preWebhookUrl,
        filters,
        Array.isArray(filters) ? filters : undefined,
        method,
      );
    });
  }

  getWebhookConfiguration() {
    return this.#run("getWebhookConfiguration", undefined, (call) => this.#native.getWebhookConfiguration(call));
  }

  /**
   * A `(req, res, next?)` handler for Twilio's Conversations webhooks (node:http, Express, Fastify): it checks
   * the signature, types the event, and calls `handlers[eventType]` or `handlers.onEvent`.
   */
  webhookHandler(handlers, options = {}) {
    return webhookHandler(
      {
        // The handler has the form as [name, value] pairs already: they go to Rust as they are.
        validate: (signature, url, pairs, body) => this.#native.validateWebhook(signature, url, pairs, body),
        // Each event claimed before its handler runs (fleet-wide with redisUrl), and settled once it has.
        admit: (pairs, token) => this.#calls.start((call) => this.#native.admitEvent(call, pairs, token)),
        settle: (ticket, handled) => this.#calls.start((call) => this.#native.settleEvent(call, ticket, handled)),
        missed: (since, until) => this.#calls.start((call) => this.#native.missedReceipts(call, since, until)),
        logger: this.#logger,
      },
      handlers,
      options,
    );
  }

  /**
   * Whether a webhook request is Twilio's: `signature` is its X-Twilio-Signature header, `url` the public URL
   * Twilio called, `params` its form parameters (or its raw JSON body). Fails closed on anything malformed.
   */
  static validateWebhookSignature(authToken, signature, url, params = {}) {
    return validateWebhookSignature(authToken, signature, url, ...webhookParams(params));
  }

  /** The same, with this client's auth token (or `webhookAuthToken`). */
  validateWebhook(signature, url, params = {}) {
    return this.#native.validateWebhook(signature, url, ...webhookParams(params));
  }

  testConnection() {
    return this.#run("testConnection", undefined, (call) => this.#native.testConnection(call));
  }

  /**
   * Running totals since the client was made, for metrics: sends, failures by code, Twilio requests, retries,
   * 429s, cache hits and misses, writes queued for a pacing turn now, and the recent pacing waits' p50 and p99.
   */
  stats() {
    return this.#observer.stats(this.#native.totals());
  }

  /** How many conversations the cache holds (for monitoring). */
  cachedConversations() {
    return this.#calls.start((call) => this.#native.cachedConversations(call));
  }
}

/**
 * A template's SID, marked with its variables' keys for TypeScript (`defineTemplate<"1" | "2">("HX…")`): at run
 * time the SID itself, checked for its shape.
 */
TwilioApiClient.defineTemplate = function defineTemplate(contentSid) {
  if (typeof contentSid !== "string" || !/^HX[0-9a-fA-F]{32}$/.test(contentSid))
    throw new TypeError("defineTemplate takes a content SID: HX followed by 32 hexadecimal digits");
  return contentSid;
};

/** A campaign's template message, `{ to, contentSid, contentVariables, ...options }`, typed by its template. */
TwilioApiClient.templateMessage = function templateMessage(contentSid, to, contentVariables, options = {}) {
  return { ...optionsOf(options), to, contentSid, contentVariables };
};

module.exports = TwilioApiClient;
module.exports.TwilioApiClient = TwilioApiClient;
module.exports.default = TwilioApiClient;
module.exports.TwilioApiError = TwilioApiError;
