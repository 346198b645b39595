"use strict";

// sendBulk: a campaign of messages, each sent by the client's own single-send method (so each is paced, retried,
// validated and shaped exactly as it would be alone). At most `concurrency` sends are in flight, and the next
// message is read from the iterable only when one of them ends: a cursor over a million rows is never read into
// memory, and sends start in the order given, which the pacer keeps. A dry run checks each message by the client's
// check method of its kind instead (the same checks, reads only) and sends nothing.

const { isPlainObject } = require("./plain-object.js");
const { write } = require("./observe.js");

const PROGRESS_INTERVAL_MS = 500;
const DEFAULT_CONCURRENCY = 100;
const MAX_CONCURRENCY = 10_000;

const ABORTED = Object.freeze({
  success: false,
  error: "Not sent: the campaign was aborted before this message started",
  code: "ABORTED",
});

function invalidItem(why) {
  return {
    success: false,
    error: `Invalid sendBulk message: ${why}`,
    code: "INVALID_BULK_ITEM",
  };
}

// The properties each kind of message takes; any other is refused, so that a misspelt one (`variables`) is not
// silently left out of the send.
const FIELDS = {
  contentSid: ["to", "contentSid", "contentVariables", "idempotencyKey", "allowSampleValues"],
  text: ["to", "text", "author", "idempotencyKey"],
  mediaUrl: ["to", "mediaUrl", "caption", "idempotencyKey"],
};
const LIKELY = {
  variables: "contentVariables",
  templateVariables: "contentVariables",
  contentSID: "contentSid",
  templateSid: "contentSid",
  body: "text",
  message: "text",
  phone: "to",
  phoneNumber: "to",
  imageUrl: "mediaUrl",
  key: "idempotencyKey",
};

// How a message is handled: sent by its single-send method, or checked by its check method.
const SEND = {
  contentSid: (client, item, options) =>
    client.sendTemplateMessage(item.to, item.contentSid, item.contentVariables ?? {}, options),
  text: (client, item, options) => client.sendMessage(item.to, item.text, item.author ?? null, options),
  mediaUrl: (client, item, options) =>
    client.sendImageMessageByUrl(item.to, item.mediaUrl, item.caption ?? null, options),
};
const CHECK = {
  contentSid: (client, item, options) =>
    client.checkTemplate(item.contentSid, item.contentVariables ?? {}, { ...options, to: item.to }),
  text: (client, item, options) => client.checkMessage(item.to, item.text, item.author ?? null, options),
  mediaUrl: (client, item, options) =>
    client.checkImageMessageByUrl(item.to, item.mediaUrl, item.caption ?? null, options),
};

/** Sends (or checks) one campaign item by the method its shape names; an item whose properties throw is invalid. */
function handleOne(client, item, methods) {
  try {
    return handleItem(client, item, methods);
  } catch {
    return invalidItem("its properties could not be read");
  }
}

function handleItem(client, item, methods) {
  if (!isPlainObject(item))
    return invalidItem("each must be an object like { to, contentSid }, { to, text } or { to, mediaUrl }");
  const kinds = ["contentSid", "text", "mediaUrl"].filter((name) => item[name] !== undefined);
  if (kinds.length !== 1) return invalidItem("each must have exactly one of contentSid, text and mediaUrl");
  const kind = kinds[0];
  const stray = Object.keys(item).find((name) => !FIELDS[kind].includes(name));
  if (stray !== undefined) {
    const hint = FIELDS[kind].includes(LIKELY[stray]) ? ` (did you mean '${LIKELY[stray]}'?)` : "";
    return invalidItem(`a ${kind} message has no property '${stray}'${hint}; it takes ${FIELDS[kind].join(", ")}`);
  }
  // A campaign's send: every interactive send of the process goes ahead of it.
  const options = { idempotencyKey: item.idempotencyKey, bulk: true };
  if (kind === "contentSid") options.allowSampleValues = item.allowSampleValues;
  return methods[kind](client, item, options);
}

function checkOptions(options) {
  if (options === null || typeof options !== "object") throw new TypeError("sendBulk options must be an object");
  const {
    onProgress,
    onResult,
    signal,
    concurrency = DEFAULT_CONCURRENCY,
    keepResults = true,
    dryRun = false,
  } = options;
  for (const [name, value] of [
    ["onProgress", onProgress],
    ["onResult", onResult],
  ]) {
    if (value !== undefined && typeof value !== "function")
      throw new TypeError(`sendBulk option ${name} must be a function`);
  }
  if (signal !== undefined && (signal === null || typeof signal !== "object" || typeof signal.aborted !== "boolean"))
    throw new TypeError("sendBulk option signal must be an AbortSignal");
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
    throw new TypeError(`sendBulk option concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  if (typeof keepResults !== "boolean") throw new TypeError("sendBulk option keepResults must be a boolean");
  if (typeof dryRun !== "boolean") throw new TypeError("sendBulk option dryRun must be a boolean");
  return { onProgress, onResult, signal, concurrency, keepResults, dryRun };
}

function iteratorOf(messages) {
  if (messages !== null && messages !== undefined) {
    if (typeof messages[Symbol.asyncIterator] === "function") return messages[Symbol.asyncIterator]();
    if (typeof messages[Symbol.iterator] === "function") return messages[Symbol.iterator]();
  }
  throw new TypeError("sendBulk messages must be an array, an iterable or an async iterable");
}

// A caller's callback must not take the campaign down: what it throws, or the promise it returns rejects with,
// goes to the logger and the campaign goes on.
function callBack(callback, logger, ...args) {
  const failed = (error) => write(logger, "error", `sendBulk callback threw: ${error?.message ?? error}`);
  try {
    const value = callback?.(...args);
    if (typeof value?.then === "function") Promise.resolve(value).catch(failed);
  } catch (error) {
    failed(error);
  }
}

// What a send that rejected (it never should: every send resolves) is reported as, so that its item still counts.
function internalFailure(error) {
  return { success: false, error: `Not sent: ${error?.message ?? error}`, code: "INTERNAL_ERROR" };
}

// Resolves when the signal aborts (never without one), so that a source waiting for its next item is not waited for;
// `stop()` takes the listener off a signal that outlives the campaign.
function abortedBy(signal) {
  if (!signal) return { aborted: new Promise(() => {}), stop() {} };
  if (signal.aborted) return { aborted: Promise.resolve(), stop() {} };
  let listener;
  const aborted = new Promise((resolve) => {
    listener = resolve;
    signal.addEventListener?.("abort", listener, { once: true });
  });
  return { aborted, stop: () => signal.removeEventListener?.("abort", listener) };
}

async function sendBulk(client, messages, options = {}, logger = null) {
  const { onProgress, onResult, signal, concurrency, keepResults, dryRun } = checkOptions(options);
  const iterator = iteratorOf(messages);
  const known = Array.isArray(messages) ? messages.length : null;
  const results = [];
  const counts = dryRun
    ? { done: 0, sendable: 0, refused: 0, outsideWindow: 0 }
    : { done: 0, delivered: 0, replayed: 0, failed: 0 };
  const byCode = {};
  let pulled = 0;
  let exhausted = false;
  let pullError = null;
  const started = performance.now();
  let reportedAt = -Infinity;

  const stopped = () => exhausted || pullError !== null || signal?.aborted;

  const report = (force) => {
    if (!onProgress) return;
    const now = performance.now();
    if (!force && now - reportedAt < PROGRESS_INTERVAL_MS) return;
    reportedAt = now;
    const seconds = (now - started) / 1000;
    const perSecond = seconds > 0 ? counts.done / seconds : 0;
    const total = exhausted ? pulled : known;
    const etaMs = total !== null && perSecond > 0 ? Math.round(((total - counts.done) / perSecond) * 1000) : null;
    callBack(onProgress, logger, { ...counts, total, perSecond, etaMs });
  };

  const tally = dryRun
    ? (result) => {
        if (result.success) {
          counts.sendable += 1;
          if (result.windowOpen === false) counts.outsideWindow += 1;
          return result;
        }
        counts.refused += 1;
        byCode[result.code] = (byCode[result.code] ?? 0) + 1;
        return result.wouldSend === false ? result : { ...result, wouldSend: false };
      }
    : (result) => {
        if (result.success) counts.delivered += 1;
        else counts.failed += 1;
        // Delivered by an earlier run with the same idempotency key: counted in `delivered` too.
        if (result.replayed === true) counts.replayed += 1;
        return result;
      };

  const settle = (index, outcome) => {
    counts.done += 1;
    const result = tally(outcome);
    if (keepResults) results[index] = result;
    callBack(onResult, logger, result, index);
    report(false);
  };

  // Iterators are not safe to advance from several places at once: pulls take turns. A pull that an abort
  // overtakes leaves the source's pending step behind: nothing waits for a source that never answers.
  const abort = abortedBy(signal);
  let overtaken = false;
  let pulling = Promise.resolve();
  const pull = () => {
    const next = pulling.then(async () => {
      if (stopped()) return null;
      try {
        const step = await Promise.race([iterator.next(), abort.aborted.then(() => null)]);
        // Overtaken by the abort: the source's step is still pending.
        if (step === null) {
          overtaken = true;
          return null;
        }
        if (step.done) {
          exhausted = true;
          return null;
        }
        return { item: step.value, index: pulled++ };
      } catch (error) {
        pullError = error;
        return null;
      }
    });
    pulling = next;
    return next;
  };

  const worker = async () => {
    for (;;) {
      const next = await pull();
      if (next === null) return;
      const outcome = await Promise.resolve()
        .then(() => handleOne(client, next.item, dryRun ? CHECK : SEND))
        .catch(internalFailure);
      settle(next.index, outcome);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  abort.stop();

  if (!exhausted) {
    // Aborted: an array's messages not yet started end as ABORTED; an iterator is closed, read no further (not
    // waited for while its step is pending: a generator answers return() only once that step ends).
    if (known !== null && pullError === null) while (pulled < known) settle(pulled++, { ...ABORTED });
    else if (pullError === null) {
      const closing = Promise.resolve()
        .then(() => iterator.return?.())
        .catch(() => {});
      if (!overtaken) await closing;
    }
  }
  report(true);
  // The source's own failure ends the campaign as an abort does: what was sent is reported, with the error.
  const ended = { aborted: signal?.aborted === true, ...(pullError !== null && { sourceError: pullError }) };
  if (dryRun) {
    const { sendable, refused, outsideWindow } = counts;
    return { dryRun: true, total: pulled, sendable, refused, outsideWindow, byCode, results, ...ended };
  }
  return {
    total: pulled,
    delivered: counts.delivered,
    replayed: counts.replayed,
    failed: counts.failed,
    results,
    ...ended,
  };
}

module.exports = { sendBulk };
