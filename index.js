"use strict";

// The legacy `twilio-api-client` class over the native client. Everything Twilio-facing (validation,
// conversation lookup, caching, HTTP, retries) happens in Rust; this file gives the class its exact shape:
// names, defaults, result objects, thrown errors, logging.

const {
  NativeClient,
  contentType,
  formatWhatsappNumber,
  maskNumber,
  optionNames,
} = require("./binding.js");

const OPTION_NAMES = optionNames();
const TIMER_NAMES = ["inactiveAfter", "closedAfter"];
const READY_MESSAGE = "Twilio API client is ready (Conversations API enabled)";
const LOG_PREFIX = "[twilio-api-client]";

// Only TWILIO_* variables cross into Rust, read once at construction.
function twilioEnvironment() {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("TWILIO_") && typeof value === "string")
      env[name] = value;
  }
  return env;
}

function isPlainObject(value) {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Content variables go to Twilio as a JSON string: a plain object is serialised as the old module did; anything
// else crosses as it is, for the core to check (a string) or refuse by its kind.
function variablesArg(value) {
  if (!isPlainObject(value)) return value;
  try {
    return JSON.stringify(value);
  } catch {
    // A cycle or a throwing toJSON: refused by the core as what it is.
    return value;
  }
}

// twilio-node's presentation: camelCase keys (done in Rust) and Date objects for date fields.
function present(resource) {
  if (!isPlainObject(resource)) return resource;
  const out = {};
  for (const [key, value] of Object.entries(resource)) {
    out[key] =
      key.startsWith("date") && typeof value === "string"
        ? new Date(value)
        : value;
  }
  return out;
}

function failure(error) {
  return {
    success: false,
    error: error.message,
    code: error.twilioCode ?? error.code,
  };
}

function sent(value) {
  return {
    success: true,
    messageSid: value.messageSid,
    conversationSid: value.conversationSid,
    status: "sent",
    data: present(value.data),
  };
}

// findOrCreateConversation rejects: a TypeError for bad input, else an error shaped like twilio-node's
// RestException (`status`, numeric `code`, `moreInfo`, `details`) or carrying a string `code`.
function rejection(error) {
  const thrown =
    error.kind === "input"
      ? new TypeError(error.message)
      : new Error(error.message);
  thrown.code = error.twilioCode ?? error.code;
  if (error.status !== undefined && error.status !== null)
    thrown.status = error.status;
  if (error.moreInfo) thrown.moreInfo = error.moreInfo;
  if (error.details !== undefined && error.details !== null)
    thrown.details = error.details;
  return thrown;
}

// The timers' values are checked in Rust; their shape here, so that a misspelt key is not silently ignored.
function checkTimers(timers) {
  if (!isPlainObject(timers))
    throw new TypeError(
      "conversationTimers must be an object like { inactiveAfter: 'PT30M', closedAfter: 'P1D' }",
    );
  for (const [name, value] of Object.entries(timers)) {
    if (!TIMER_NAMES.includes(name))
      throw new TypeError(`Unknown conversationTimers option: ${name}`);
    if (value !== undefined && value !== null && typeof value !== "string")
      throw new TypeError(
        `conversationTimers.${name} must be an ISO-8601 duration string such as 'PT30M'`,
      );
  }
}

function resolveLogger(logger) {
  if (logger === false) return null;
  if (logger === undefined || logger === null) return console;
  if (typeof logger !== "object" || typeof logger.error !== "function") {
    throw new TypeError(
      "logger must have an error() method (console, pino and winston do), or be false",
    );
  }
  return logger;
}

function masked(value) {
  return typeof value === "string" || typeof value === "number"
    ? maskNumber(String(value))
    : undefined;
}

class TwilioApiClient {
  #native;
  #logger;

  constructor(options = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("TwilioApiClient options must be an object");
    }
    const { logger, ...rest } = options;
    const native = {};
    for (const [name, value] of Object.entries(rest)) {
      if (!OPTION_NAMES.includes(name))
        throw new TypeError(`Unknown TwilioApiClient option: ${name}`);
      if (value !== undefined && value !== null) native[name] = value;
    }
    if (native.conversationTimers !== undefined)
      checkTimers(native.conversationTimers);
    this.#logger = resolveLogger(logger);
    try {
      this.#native = new NativeClient(native, twilioEnvironment());
    } catch (error) {
      throw new Error(error.message);
    }
    // The fields the old module exposed, for reading: assigning one would not change the client.
    for (const name of ["accountSid", "whatsappNumber", "systemIdentity"]) {
      Object.defineProperty(this, name, {
        value: this.#native[name],
        enumerable: true,
        writable: false,
      });
    }
  }

  // Runs a native call; an argument napi cannot convert becomes a failure. Failures are logged with context,
  // never with message text or full numbers.
  async #run(operation, to, call) {
    let outcome;
    try {
      const native = await call();
      if (native.warnings) this.#warn(operation, native.warnings);
      outcome = {
        ok: native.ok,
        value: native.ok ? JSON.parse(native.json) : undefined,
        error: native.error,
      };
    } catch (error) {
      outcome = {
        ok: false,
        error: {
          message: String(error?.message ?? error),
          code: "INVALID_ARGUMENT",
          kind: "input",
        },
      };
    }
    if (!outcome.ok && this.#logger) {
      const { error } = outcome;
      this.#logger.error(
        `${LOG_PREFIX} ${operation} failed: ${error.message}`,
        {
          operation,
          to: masked(to),
          code: error.twilioCode ?? error.code,
          status: error.status,
        },
      );
    }
    return outcome;
  }

  // Warnings the core raised once per event (never per message): to logger.warn, else logger.error.
  #warn(operation, warnings) {
    if (!this.#logger) return;
    const log =
      typeof this.#logger.warn === "function"
        ? this.#logger.warn
        : this.#logger.error;
    for (const warning of warnings)
      log.call(this.#logger, `${LOG_PREFIX} ${warning}`, { operation });
  }

  formatWhatsAppNumber(phoneNumber) {
    const outcome = formatWhatsappNumber(phoneNumber);
    if (!outcome.ok) throw new TypeError(outcome.error.message);
    return JSON.parse(outcome.json);
  }

  async findOrCreateConversation(phoneNumber) {
    const outcome = await this.#run(
      "findOrCreateConversation",
      phoneNumber,
      () => this.#native.findOrCreateConversation(phoneNumber),
    );
    if (!outcome.ok) throw rejection(outcome.error);
    return outcome.value;
  }

  async getConversation(phoneNumber) {
    const outcome = await this.#run("getConversation", phoneNumber, () =>
      this.#native.getConversation(phoneNumber),
    );
    return outcome.ok ? outcome.value : null;
  }

  async sendMessage(to, text, author = null) {
    const outcome = await this.#run("sendMessage", to, () =>
      this.#native.sendMessage(to, text, author),
    );
    return outcome.ok ? sent(outcome.value) : failure(outcome.error);
  }

  async sendTemplateMessage(phoneNumber, contentSid, contentVariables = {}) {
    const outcome = await this.#run("sendTemplateMessage", phoneNumber, () =>
      this.#native.sendTemplateMessage(
        phoneNumber,
        contentSid,
        variablesArg(contentVariables),
      ),
    );
    if (!outcome.ok) return failure(outcome.error);
    return { ...sent(outcome.value), body: outcome.value.body };
  }

  async sendImageMessage(to, imagePath, caption = null, baseUrl = null) {
    const outcome = await this.#run("sendImageMessage", to, () =>
      this.#native.sendImageMessage(to, imagePath, caption, baseUrl),
    );
    return outcome.ok ? sent(outcome.value) : failure(outcome.error);
  }

  async sendImageMessageByUrl(to, mediaUrl, caption = null) {
    const outcome = await this.#run("sendImageMessageByUrl", to, () =>
      this.#native.sendImageMessageByUrl(to, mediaUrl, caption),
    );
    return outcome.ok ? sent(outcome.value) : failure(outcome.error);
  }

  async uploadMedia(filePath) {
    const outcome = await this.#run("uploadMedia", undefined, () =>
      this.#native.uploadMedia(filePath),
    );
    if (!outcome.ok) return failure(outcome.error);
    const { data, ...media } = outcome.value;
    return { success: true, ...media, data: present(data) };
  }

  getContentType(filePath) {
    if (typeof filePath !== "string") {
      throw new TypeError(
        `The "filePath" argument must be of type string. Received ${typeof filePath}`,
      );
    }
    return contentType(filePath);
  }

  // The old module's contract, kept as it was: it judges the environment at call time, whatever the client was
  // built from. Constructor options, API-key auth and the default sender are not considered, so a client built
  // from options or with TWILIO_API_KEY can work while this reports TWILIO_AUTH_TOKEN missing.
  validateConfig() {
    const missing = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"].filter(
      (name) => !process.env[name],
    );
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
        whatsappNumber: process.env.TWILIO_WHATSAPP_NUMBER || "Not configured",
      },
    };
  }

  async testConnection() {
    const outcome = await this.#run("testConnection", undefined, () =>
      this.#native.testConnection(),
    );
    if (!outcome.ok) return failure(outcome.error);
    return {
      success: true,
      message: READY_MESSAGE,
      accountSid: outcome.value.accountSid,
      accountName: outcome.value.accountName,
    };
  }

  /** How many conversations the cache holds (for monitoring). */
  cachedConversations() {
    return this.#native.cachedConversations();
  }
}

module.exports = TwilioApiClient;
module.exports.TwilioApiClient = TwilioApiClient;
module.exports.default = TwilioApiClient;
