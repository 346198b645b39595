"use strict";

// The Twilio sandbox, served by the addon itself on its own threads (no second binary), with its URL, credentials,
// and helpers for its control API: in this process, or in a process of its own (`npx twilio-sandbox`).

const { spawn } = require("node:child_process");
const path = require("node:path");
const readline = require("node:readline");
const native = require("./lib/native.js");

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
    // `faults`, `/faults` and `/__sandbox/faults` alike: a route of the control API, never of Twilio's.
    route = `/${String(route)
      .replace(/^\/+/, "")
      .replace(/^__sandbox\//, "")}`;
    const headers = body === undefined ? {} : { "content-type": "application/json" };
    if (this.controlToken) headers["x-sandbox-token"] = this.controlToken;
    const response = await fetch(`${this.url}/__sandbox${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const value = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(`sandbox ${method} ${route}: ${response.status} ${text}`);
    return value;
  }

  /**
   * Environment variables that point a client at this sandbox, and the default template's SID (its body: "Your
   * appointment is coming up on {{1}} at {{2}}", variables `{ 1: date, 2: time }`).
   */
  env() {
    return {
      TWILIO_BASE_URL: this.url,
      TWILIO_ACCOUNT_SID: this.accountSid,
      TWILIO_AUTH_TOKEN: this.authToken,
      TWILIO_CHAT_SERVICE_SID: this.chatServiceSid,
      TWILIO_TEMPLATE_SID: this.templateSid,
    };
  }

  /** The options of a client of this sandbox: `new TwilioApiClient({ ...sandbox.clientOptions(), logger })`. */
  clientOptions() {
    return {
      baseUrl: this.url,
      accountSid: this.accountSid,
      authToken: this.authToken,
      chatServiceSid: this.chatServiceSid,
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
    return this.control("POST", `/conversations/${encodeURIComponent(idOrName)}`, change);
  }
  deleteConversation(idOrName) {
    return this.control("DELETE", `/conversations/${encodeURIComponent(idOrName)}`);
  }
  /**
   * A template in the sandbox's Content API (a `twilio/text` of `body`, or `types`), approved for WhatsApp unless
   * `approval` names another status.
   */
  template(template) {
    return this.control("POST", "/templates", template);
  }
  /** Sets a template's WhatsApp approval at once: `approved`, `rejected` (with `rejectionReason`), `paused`, … */
  setApproval(contentSid, status, rejectionReason) {
    return this.control("POST", `/templates/${encodeURIComponent(contentSid)}/approval`, {
      status,
      rejection_reason: rejectionReason,
    });
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
  releaseHeld() {
    return this.control("POST", "/faults/release", {});
  }
  /** The limits in force (and `refused_writes`), after applying `patch` when one is given. */
  limits(patch) {
    return patch === undefined ? this.control("GET", "/limits") : this.control("POST", "/limits", patch);
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
  /** The webhook attempts made; with `{ atLeast: n }`, once n are (the sandbox waits up to 10 s for them). */
  async webhooks({ atLeast } = {}) {
    const query = atLeast === undefined ? "" : `?at_least=${atLeast}`;
    return (await this.control("GET", `/webhooks${query}`)).webhooks;
  }
  clearWebhooks() {
    return this.control("DELETE", "/webhooks");
  }
  /** Holds post-action webhooks back, as a receiver that is down would see them: they wait until released. */
  holdWebhooks() {
    return this.control("POST", "/webhooks/hold", {});
  }
  /** Sends the webhooks held back, `order` `'as-happened'` (the default) or `'reversed'` (out of order). */
  releaseWebhooks(order = "as-happened") {
    return this.control("POST", "/webhooks/release", { order });
  }
  /**
   * Webhooks Twilio signs for URLs under `from` (the public address configured) are sent under `to` instead (the
   * test server behind it, e.g. `http://127.0.0.1:PORT`).
   */
  routeWebhooks(from, to) {
    return this.control("POST", "/webhooks/routes", { from, to });
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

/** A sandbox in a process of its own; `stop()` ends that process. */
class SandboxProcess extends SandboxHandle {
  constructor(child, started) {
    super(started);
    Object.defineProperty(this, "process", { value: child, enumerable: false });
  }

  stop() {
    return new Promise((resolve) => {
      if (this.process.exitCode !== null || this.process.signalCode !== null) return resolve();
      // Held until the sandbox has exited, so that code after `await stop()` runs.
      this.process.ref();
      this.process.once("exit", () => resolve());
      // It exits when its standard input closes.
      this.process.stdin.end();
    });
  }
}

function cliArgs(options) {
  const args = ["--port", String(options.port ?? 0), "--exit-on-stdin-close"];
  for (const [flag, name] of [
    ["--host", "host"],
    ["--account-sid", "accountSid"],
    ["--auth-token", "authToken"],
    ["--control-token", "controlToken"],
  ])
    if (options[name] !== undefined) args.push(flag, String(options[name]));
  if (options.noLimits) args.push("--no-limits");
  for (const [name, value] of Object.entries(options.limits ?? {}))
    args.push("--limit", `${name}=${value === null ? "off" : value}`);
  return args;
}

/**
 * `startSandbox` in a child process (`twilio-sandbox`, run by this Node): its CPU and memory stay apart from this
 * process's, which is what a measurement of the client needs. It ends with `stop()` or with this process.
 */
function startSandboxProcess(options = {}) {
  const bin = path.join(__dirname, "bin", "twilio-sandbox.js");
  const child = spawn(process.execPath, [bin, ...cliArgs(options)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const values = {};
    const lines = readline.createInterface({ input: child.stdout });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`twilio-sandbox exited with code ${code} before it was ready`)));
    lines.on("line", (line) => {
      const eq = line.indexOf("=");
      if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
      if (!values.TWILIO_TEMPLATE_SID) return;
      child.removeAllListeners("exit");
      child.removeListener("error", reject);
      lines.close();
      child.stdout.resume();
      // Like startSandbox, it does not keep this process alive.
      for (const handle of [child, child.stdin, child.stdout]) handle.unref?.();
      resolve(
        new SandboxProcess(child, {
          url: values.TWILIO_BASE_URL,
          accountSid: values.TWILIO_ACCOUNT_SID,
          authToken: values.TWILIO_AUTH_TOKEN,
          chatServiceSid: values.TWILIO_CHAT_SERVICE_SID,
          templateSid: values.TWILIO_TEMPLATE_SID,
          controlToken: values.TWILIO_SANDBOX_CONTROL_TOKEN,
        }),
      );
    });
  });
}

module.exports = { startSandbox, startSandboxProcess };
