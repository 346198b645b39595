"use strict";

// Twilio's Conversations webhooks as one request handler for node:http, Express and Fastify. The signature is
// checked (in Rust) against the public URL Twilio called, before anything else; the event is typed (in Rust);
// this file only moves bytes between the framework and those two calls.

const {
  idempotencyMarkAttributes,
  parseWebhookEvent,
  webhookDateFields,
  webhookPostEvents,
  webhookPreEvents,
} = require("./native.js");
const { write } = require("./observe.js");

const DATE_FIELDS = webhookDateFields();
// Twilio's bodies are a few kilobytes: a message body of 1,600 characters and attributes of at most 4 KB, encoded.
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
// Twilio sends its few kilobytes at once: a body that takes longer than this is a client holding the connection.
const DEFAULT_BODY_TIMEOUT_MS = 5000;
const OPTION_NAMES = [
  "url",
  "protocol",
  "host",
  "allowedHosts",
  "trustProxy",
  "maxBodyBytes",
  "bodyTimeoutMs",
  "validate",
];
// The pre-action events: their handler may change (an object) or reject (false) the action.
const PRE_EVENTS = new Set(webhookPreEvents());
// The names a handler may have: an event's, or `onEvent` for every event without one of its own.
const HANDLER_NAMES = [...webhookPostEvents(), ...PRE_EVENTS, "onEvent"];

// Edits between two names, to suggest the handler name meant.
function distance(a, b) {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= b.length; j += 1)
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

// Words people use for Twilio's: a message received is one added.
const SYNONYMS = [
  [/Received|Created|Sent|New|Inbound|Incoming/g, "Added"],
  [/Deleted/g, "Removed"],
  [/Changed|Edited/g, "Updated"],
];

function unknownHandler(name) {
  const meant = SYNONYMS.reduce((text, [words, word]) => text.replace(words, word), name).toLowerCase();
  const far = (candidate) => distance(meant, candidate.toLowerCase());
  const [nearest] = [...HANDLER_NAMES].sort((x, y) => far(x) - far(y));
  return new TypeError(
    `webhookHandler: no Twilio event is called ${name} (did you mean ${nearest}?); handlers are named after ` +
      `Conversations events (${HANDLER_NAMES.slice(0, 3).join(", ")}, …) or onEvent`,
  );
}

class BodyTooLarge extends Error {}
class BodyTooSlow extends Error {}

function checkOptions(handlers, options) {
  if (handlers === null || typeof handlers !== "object")
    throw new TypeError("webhookHandler needs an object of handlers, such as { onMessageAdded(event) {} }");
  for (const [name, handler] of Object.entries(handlers)) {
    if (!HANDLER_NAMES.includes(name)) throw unknownHandler(name);
    if (typeof handler !== "function") throw new TypeError(`webhookHandler: ${name} must be a function`);
  }
  if (options === null || typeof options !== "object") throw new TypeError("webhookHandler options must be an object");
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) throw new TypeError(`Unknown webhookHandler option: ${name}`);
  }
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(max) || max <= 0) throw new TypeError("maxBodyBytes must be a positive whole number");
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  if (!Number.isSafeInteger(bodyTimeoutMs) || bodyTimeoutMs <= 0)
    throw new TypeError("bodyTimeoutMs must be a positive whole number");
  if (options.protocol !== undefined && !/^https?$/.test(options.protocol))
    throw new TypeError("protocol must be 'https' or 'http'");
  const url = options.url ?? (process.env.TWILIO_WEBHOOK_URL || undefined);
  if (url !== undefined && !/^https?:\/\/[^/?#]+/i.test(String(url)))
    throw new TypeError("url (or TWILIO_WEBHOOK_URL) must be the http(s) URL Twilio calls");
  const allowed = options.allowedHosts;
  if (
    allowed !== undefined &&
    (!Array.isArray(allowed) || allowed.length === 0 || !allowed.every((h) => typeof h === "string" && h !== ""))
  )
    throw new TypeError("allowedHosts must be a non-empty array of host names, such as ['hooks.example.com']");
  const trust = options.trustProxy ?? false;
  if (trust !== true && trust !== false && !(Array.isArray(trust) && trust.every((a) => typeof a === "string")))
    throw new TypeError("trustProxy must be true, false or the proxies' addresses, such as ['127.0.0.1']");
  return {
    ...options,
    url,
    trustProxy: Array.isArray(trust) ? new Set(trust) : trust,
    allowedHosts: allowed && new Set(allowed.map((host) => host.toLowerCase())),
    maxBodyBytes: max,
    bodyTimeoutMs,
    validate: options.validate ?? true,
  };
}

// Names of this machine: Twilio never calls them, so a request for one comes from here (a test, a tunnel's agent).
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/;

// Whether a request's Host may stand in the URL its signature is checked against: one of `allowedHosts` (with or
// without its port), or, with no list, a loopback name.
function hostAllowed(host, settings) {
  const name = host.toLowerCase();
  if (!settings.allowedHosts) return LOOPBACK.test(name);
  return settings.allowedHosts.has(name) || settings.allowedHosts.has(name.replace(/:\d+$/, ""));
}

// What a log line shows of a URL: never its query, which on a GET holds the customer's number and text.
function shown(url) {
  const at = url.indexOf("?");
  return at === -1 ? url : `${url.slice(0, at)}?…`;
}

// A header as a log line may quote it: bounded, on one line.
function quoted(text) {
  return JSON.stringify(String(text).slice(0, 100));
}

// The framework's request and response: Fastify hands its own objects, with the Node ones under `.raw`.
function adapt(req, res) {
  const fastify = typeof res?.code === "function" && res.raw !== undefined;
  const raw = fastify ? req.raw : req;
  return {
    raw,
    headers: req.headers ?? {},
    // Express strips a mount path from req.url; Twilio signed the whole path.
    path: req.originalUrl ?? raw.url ?? "/",
    method: (req.method ?? raw.method ?? "POST").toUpperCase(),
    parsed: req.body,
    reply(status, body = "", type = "text/plain; charset=utf-8", close = false) {
      if (fastify) {
        const answer = res.code(status).header("content-type", type);
        if (close) answer.header("connection", "close");
        answer.send(body);
      } else if (!res.headersSent) {
        res.statusCode = status;
        res.setHeader("content-type", type);
        if (close) res.setHeader("connection", "close");
        res.end(body, close ? () => raw.socket?.destroy() : undefined);
      }
    },
    // An answer after which the connection is closed: the rest of the body is not read.
    refuse(status, body) {
      this.reply(status, body, undefined, true);
    },
  };
}

function readBody(stream, max, timeoutMs) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const fail = (error) => {
      clearTimeout(timer);
      stream.pause();
      reject(error);
    };
    const timer = setTimeout(() => fail(new BodyTooSlow()), timeoutMs);
    stream.on("data", (chunk) => {
      size += chunk.length;
      if (size > max) return fail(new BodyTooLarge());
      chunks.push(chunk);
    });
    stream.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    stream.on("error", fail);
  });
}

// The request's content: form parameters as [name, value] pairs, or a JSON body's bytes (signed through the URL).
async function content(request, max, timeoutMs) {
  const type = String(request.headers["content-type"] ?? "");
  const json = type.startsWith("application/json");
  let raw = request.parsed;
  // A parser that did not take this body (a global `express.json()` meeting a form) leaves `{}` and the stream
  // unread (body-parser marks what it read with `_body`): the form is read from the stream.
  if (
    raw !== null &&
    typeof raw === "object" &&
    !Buffer.isBuffer(raw) &&
    Object.keys(raw).length === 0 &&
    request.raw._body !== true &&
    request.raw.readable &&
    !request.raw.readableEnded
  )
    raw = undefined;
  if (raw === undefined) {
    // A declared length over the bound is refused before a byte of the body is read.
    if (Number(request.headers["content-length"]) > max) throw new BodyTooLarge();
    raw = await readBody(request.raw, max, timeoutMs);
  }
  if (typeof raw === "string") raw = Buffer.from(raw);
  if (Buffer.isBuffer(raw)) {
    if (raw.length > max) throw new BodyTooLarge();
    if (json) return { body: raw, pairs: jsonPairs(raw) };
    return { pairs: [...new URLSearchParams(raw.toString("utf8"))] };
  }
  if (json) throw new TypeError("a parsed JSON body cannot be verified");
  // Already parsed (express.urlencoded, @fastify/formbody).
  return { pairs: formPairs(raw ?? {}) };
}

/** Parsed form parameters as [name, value] pairs: a repeated name (an array) once per value. */
function formPairs(params) {
  const pairs = [];
  for (const [name, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value])
      if (one !== undefined && one !== null) pairs.push([name, String(one)]);
  }
  return pairs;
}

function jsonPairs(bytes) {
  try {
    const value = JSON.parse(bytes.toString("utf8"));
    return Object.entries(value ?? {})
      .filter(([, v]) => v !== null && typeof v !== "object")
      .map(([name, v]) => [name, String(v)]);
  } catch {
    return [];
  }
}

// A header's first value: a chain of proxies appends theirs (`https, http`).
function first(value) {
  return String(Array.isArray(value) ? value[0] : value)
    .split(",")[0]
    .trim();
}

// What a trusted proxy says of the request Twilio made: X-Forwarded-Proto and X-Forwarded-Host, from a proxy
// `trustProxy` names (or any, with `true`); nothing from anyone else.
function forwarded(request, options) {
  const trust = options.trustProxy;
  const from = request.raw.socket?.remoteAddress ?? "";
  if (trust === false || (trust !== true && !trust.has(from) && !trust.has(from.replace(/^::ffff:/, "")))) return {};
  const proto = request.headers["x-forwarded-proto"];
  const host = request.headers["x-forwarded-host"];
  return {
    protocol: proto !== undefined && /^https?$/.test(first(proto)) ? first(proto) : undefined,
    host: host !== undefined && first(host) !== "" ? first(host) : undefined,
  };
}

function publicUrl(request, options) {
  if (options.url) {
    const query = request.path.includes("?") ? request.path.slice(request.path.indexOf("?")) : "";
    return options.url.includes("?") ? options.url : options.url + query;
  }
  const proxy = request.forwarded;
  const host = options.host ?? proxy.host ?? request.headers.host ?? "localhost";
  return `${proxy.protocol ?? options.protocol ?? "https"}://${host}${request.path}`;
}

function typedEvent(pairs) {
  const event = parseWebhookEvent(pairs);
  for (const name of DATE_FIELDS) {
    if (typeof event[name] === "string") event[name] = new Date(event[name]);
  }
  return event;
}

// The client's idempotency mark on a message (see docs/CONTRACT.md, Keyed sends), as the core writes it.
const MARK = idempotencyMarkAttributes();

// Twilio takes a pre-action answer's attributes whole: the mark the message came with is kept in them, so that a
// handler that sets attributes of its own does not erase the key a rerun looks for.
function withMark(attributes, original) {
  if (original === null || typeof original !== "object" || !MARK.every((name) => typeof original[name] === "string"))
    return attributes;
  let value = attributes;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return attributes;
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return attributes;
  const kept = { ...value };
  for (const name of MARK) kept[name] = original[name];
  return kept;
}

// What a pre-action handler's result asks Twilio to do: reject (false), change (an object), or go on.
function preAnswer(result, event) {
  if (result === false) return [422, "rejected by the handler"];
  if (result === null || typeof result !== "object") return [200, ""];
  const change = {};
  for (const name of ["body", "author", "friendlyName"]) {
    if (typeof result[name] === "string") change[name === "friendlyName" ? "friendly_name" : name] = result[name];
  }
  if (result.attributes !== undefined) {
    const attributes = withMark(result.attributes, event.attributes);
    change.attributes = typeof attributes === "string" ? attributes : JSON.stringify(attributes);
  }
  return [200, JSON.stringify(change), "application/json"];
}

const HOST_WARNING =
  "has neither `url` (TWILIO_WEBHOOK_URL), `host` nor `allowedHosts`: a signature would be checked against a URL " +
  "built from the request's own Host header, so that a request Twilio signed for another host would be accepted " +
  "here. Only requests for this machine's loopback names are taken; set `url` to the public address Twilio calls.";

function warn(client, text) {
  write(client.logger, "warn", `webhookHandler ${text}`);
}

function timeOf(value, name) {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0)
    throw new TypeError(`reconcile: ${name} must be a Date or a time in ms since the epoch`);
  return ms;
}

function webhookHandler(client, handlers, options = {}) {
  const settings = checkOptions(handlers, options);
  const pinned = settings.url !== undefined || settings.host !== undefined;
  if (settings.validate && !pinned && !settings.allowedHosts && settings.trustProxy === false)
    warn(client, HOST_WARNING);
  let warnedHost = false;
  // Own properties only: an EventType such as `constructor` or `__proto__` names no handler of the caller's.
  const own = (name) => (typeof name === "string" && Object.hasOwn(handlers, name) ? handlers[name] : undefined);
  const handlerOf = (event) => own(event.eventType) ?? own("onEvent");

  // A post-action event to its handler, once: claimed first (fleet-wide with redisUrl), settled before the answer,
  // so that Twilio's retry of an event whose handler threw finds it free. Resolves what became of it.
  async function handOn(event, pairs, token) {
    const handler = handlerOf(event);
    if (!handler) return "unhandled";
    const { admission, ticket } = await client.admit(pairs, token);
    // A copy of an event handled already (here or on another replica), or a status older than one handed on.
    if (admission !== "handle") return admission;
    let handled = false;
    try {
      await handler(event);
      handled = true;
      return "handled";
    } finally {
      await client.settle(ticket, handled);
    }
  }

  async function twilioWebhook(req, res) {
    const request = adapt(req, res);
    // Read once: the host check and every URL built for the request take it.
    request.forwarded = forwarded(request, settings);
    const proxied = request.forwarded.host;
    const host = String(proxied ?? request.headers.host ?? "");
    // A host a trusted proxy names is the proxy's to vouch for, unless allowedHosts says which.
    const vouched = proxied !== undefined && !settings.allowedHosts;
    if (settings.validate && !pinned && !vouched && !hostAllowed(host, settings)) {
      if (!warnedHost) {
        warnedHost = true;
        warn(
          client,
          `refused a request for host ${quoted(host)}, which is not allowed (403): set \`url\` or \`allowedHosts\`.`,
        );
      }
      return request.reply(403, "host not allowed");
    }
    let form;
    try {
      form =
        request.method === "GET"
          ? { pairs: [...new URL(request.path, "http://x").searchParams] }
          : await content(request, settings.maxBodyBytes, settings.bodyTimeoutMs);
    } catch (error) {
      if (error instanceof BodyTooLarge) return request.refuse(413, "request body too large");
      if (error instanceof BodyTooSlow) return request.refuse(408, "request body too slow");
      return request.reply(400, "unreadable request body");
    }
    const signature = request.headers["x-twilio-signature"];
    if (settings.validate) {
      if (typeof signature !== "string" || signature === "") {
        warn(client, `refused a request without X-Twilio-Signature (400) at ${shown(publicUrl(request, settings))}`);
        return request.reply(400, "missing X-Twilio-Signature");
      }
      // A GET is signed over its URL alone, its parameters included in it.
      const url = publicUrl(request, settings);
      const valid =
        request.method === "GET"
          ? client.validate(signature, url, [])
          : client.validate(signature, url, form.pairs, form.body);
      if (!valid) {
        warn(
          client,
          `refused a request whose X-Twilio-Signature is not Twilio's for ${shown(url)} (403). If Twilio sent it, it ` +
            "signed another URL: set the handler's `url` to the one configured at Twilio (behind a proxy that ends " +
            "TLS, Twilio signed https: keep `protocol: 'https'`, or let `trustProxy` read X-Forwarded-Proto and " +
            "X-Forwarded-Host), and check the auth token (webhookAuthToken with API keys).",
        );
        return request.reply(403, "invalid X-Twilio-Signature");
      }
    }
    const event = typedEvent(form.pairs);
    try {
      // A pre-action event's answer is Twilio's decision, given to every copy: it is not de-duplicated.
      if (PRE_EVENTS.has(event.eventType)) {
        const handler = handlerOf(event);
        return request.reply(...(handler ? preAnswer(await handler(event), event) : [200, ""]));
      }
      const token = request.headers["i-twilio-idempotency-token"];
      await handOn(event, form.pairs, typeof token === "string" ? token : null);
      return request.reply(200);
    } catch (error) {
      logFailure(client, event, error);
      return request.reply(500, "handler failed");
    }
  }

  /**
   * Hands the handlers the delivery statuses whose webhooks never arrived: every receipt of the messages this client
   * (with redisUrl, its fleet) sent from `since` to `until` (default now) is read from Twilio and goes through the
   * same claims as a live `onDeliveryUpdated`, so that what was handed on already is not handed on again.
   */
  twilioWebhook.reconcile = async function reconcile({ since, until = Date.now() } = {}) {
    const [from, to] = [timeOf(since, "since"), timeOf(until, "until")];
    const events = await client.missed(from, to);
    const outcome = { events: events.length, handled: 0, duplicate: 0, stale: 0, unhandled: 0, failed: 0 };
    for (const pairs of events) {
      const event = typedEvent(pairs);
      try {
        outcome[await handOn(event, pairs, null)] += 1;
      } catch (error) {
        outcome.failed += 1;
        logFailure(client, event, error);
      }
    }
    return outcome;
  };
  return twilioWebhook;
}

function logFailure(client, event, error) {
  write(client.logger, "error", `webhook handler for ${event.eventType} failed: ${error?.message ?? error}`, {
    eventType: event.eventType,
    conversationSid: event.conversationSid,
  });
}

module.exports = { webhookHandler, formPairs };
