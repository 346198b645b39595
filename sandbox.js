"use strict";

// The Twilio sandbox, served by the addon itself on its own threads (no second binary, no child process), with
// its URL, credentials, and helpers for its control API.

const native = require("./native.js");

class SandboxHandle {
  constructor(started) {
    this.url = started.url;
    this.accountSid = started.accountSid;
    this.authToken = started.authToken;
    this.chatServiceSid = started.chatServiceSid;
    this.templateSid = started.templateSid;
    this.imageUrl = `${this.url}/__sandbox/image.png`;
    Object.defineProperty(this, "controlToken", {
      value: started.controlToken ?? undefined,
      enumerable: false,
    });
  }

  async control(method, route, body) {
    const headers =
      body === undefined ? {} : { "content-type": "application/json" };
    if (this.controlToken) headers["x-sandbox-token"] = this.controlToken;
    const response = await fetch(`${this.url}/__sandbox${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const value = text ? JSON.parse(text) : null;
    if (!response.ok)
      throw new Error(`sandbox ${method} ${route}: ${response.status} ${text}`);
    return value;
  }

  /** Environment variables that point a client at this sandbox. */
  env() {
    return {
      TWILIO_BASE_URL: this.url,
      TWILIO_ACCOUNT_SID: this.accountSid,
      TWILIO_AUTH_TOKEN: this.authToken,
    };
  }

  reset() {
    return this.control("POST", "/reset", {});
  }
  state() {
    return this.control("GET", "/state");
  }
  async requests() {
    return (await this.control("GET", "/requests")).requests;
  }
  clearRequests() {
    return this.control("DELETE", "/requests");
  }
  seed(conversations) {
    return this.control("POST", "/conversations", conversations);
  }
  setConversation(idOrName, change) {
    return this.control(
      "POST",
      `/conversations/${encodeURIComponent(idOrName)}`,
      change,
    );
  }
  deleteConversation(idOrName) {
    return this.control(
      "DELETE",
      `/conversations/${encodeURIComponent(idOrName)}`,
    );
  }
  template(template) {
    return this.control("POST", "/templates", template);
  }
  latency(ms) {
    return this.control("POST", "/latency", { ms });
  }
  fault(spec) {
    return this.control("POST", "/faults", spec);
  }
  clearFaults() {
    return this.control("DELETE", "/faults");
  }
  /** The limits in force (and `refused_writes`), after applying `patch` when one is given. */
  limits(patch) {
    return patch === undefined
      ? this.control("GET", "/limits")
      : this.control("POST", "/limits", patch);
  }
  /** Moves the sandbox's clock forward by an ISO-8601 duration (`PT10M`); due timers fire. */
  advanceClock(by) {
    return this.control("POST", "/clock", { advance: by });
  }
  /**
   * A customer's message arrives: `{ from: 'whatsapp:+1234567890', to: 'whatsapp:+14155238886', body, mediaUrl }`.
   * Lands in the open conversation binding that pair (else a 404), after the service's `onMessageAdd` webhook may
   * change or reject it; answers `{ rejected, message }`.
   */
  inbound(message) {
    return this.control("POST", "/inbound", message);
  }
  /** Every webhook call the sandbox made: event type, URL, parameters, signature, status. */
  async webhooks() {
    return (await this.control("GET", "/webhooks")).webhooks;
  }
  clearWebhooks() {
    return this.control("DELETE", "/webhooks");
  }
  /** Sets a delivery receipt's status (`sent`, `delivered`, `read`, `failed`, `undelivered`), as the channel would. */
  setReceipt(sid, status, errorCode) {
    return this.control("POST", `/receipts/${encodeURIComponent(sid)}`, {
      status,
      error_code: errorCode,
    });
  }

  /** Stops serving and closes its connections; the port is free once this resolves. */
  async stop() {
    await native.stopSandbox(this.url);
  }
}

/**
 * Starts a sandbox on `port` (0: a free one). It serves until `stop()` or until this process ends, and does not
 * keep the process alive by itself.
 */
async function startSandbox(options = {}) {
  return new SandboxHandle(await native.startSandbox(options));
}

module.exports = { startSandbox };
