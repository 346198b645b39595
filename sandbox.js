"use strict";

// Starts the Twilio sandbox (the `twilio-sandbox` binary built by `npm run build`) as a child process and
// gives its URL, credentials, and helpers for its control API.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");

const EXE =
  process.platform === "win32" ? "twilio-sandbox.exe" : "twilio-sandbox";
const CANDIDATES = ["release", "debug"].map((profile) =>
  path.join(__dirname, "target", profile, EXE),
);

function sandboxBinary() {
  const found = CANDIDATES.find((candidate) => fs.existsSync(candidate));
  if (!found)
    throw new Error(
      `The sandbox is not built: run \`npm run build\` (looked for ${CANDIDATES.join(", ")})`,
    );
  return found;
}

class SandboxHandle {
  constructor(child, values) {
    this.url = values.TWILIO_BASE_URL;
    this.accountSid = values.TWILIO_ACCOUNT_SID;
    this.authToken = values.TWILIO_AUTH_TOKEN;
    this.chatServiceSid = values.TWILIO_CHAT_SERVICE_SID;
    this.templateSid = values.TWILIO_TEMPLATE_SID;
    this.imageUrl = `${this.url}/__sandbox/image.png`;
    Object.defineProperty(this, "controlToken", {
      value: values.TWILIO_SANDBOX_CONTROL_TOKEN,
      enumerable: false,
    });
    Object.defineProperty(this, "process", { value: child, enumerable: false });
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

  stop() {
    return new Promise((resolve) => {
      if (this.process.exitCode !== null || this.process.signalCode !== null)
        return resolve();
      // Held until the sandbox has exited, so that code after `await stop()` runs.
      this.process.ref();
      this.process.once("exit", () => resolve());
      this.process.kill("SIGTERM");
    });
  }
}

/**
 * Starts a sandbox on `port` (0: a free one). It stops with `stop()`, and by itself when this process ends.
 */
function startSandbox(options = {}) {
  const args = ["--port", String(options.port ?? 0), "--exit-on-stdin-close"];
  if (options.accountSid) args.push("--account-sid", options.accountSid);
  if (options.authToken) args.push("--auth-token", options.authToken);
  if (options.host) args.push("--host", options.host);
  if (options.controlToken) args.push("--control-token", options.controlToken);
  for (const [name, value] of Object.entries(options.limits ?? {}))
    args.push("--limit", `${name}=${value === null ? "off" : value}`);
  const child = spawn(sandboxBinary(), args, {
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const values = {};
    const lines = readline.createInterface({ input: child.stdout });
    const fail = (error) => {
      lines.close();
      reject(error);
    };
    child.once("error", fail);
    child.once("exit", (code) =>
      fail(
        new Error(
          `twilio-sandbox exited with code ${code} before it was ready`,
        ),
      ),
    );
    lines.on("line", (line) => {
      const eq = line.indexOf("=");
      if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
      if (values.TWILIO_TEMPLATE_SID) {
        child.removeAllListeners("exit");
        child.removeListener("error", fail);
        lines.close();
        child.stdout.resume();
        // The sandbox must not keep this process alive.
        child.unref();
        child.stdin.unref?.();
        child.stdout.unref?.();
        resolve(new SandboxHandle(child, values));
      }
    });
  });
}

module.exports = { startSandbox, sandboxBinary };
