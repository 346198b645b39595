"use strict";

// The promises of a native client's calls, each under its number. The native side settles them in batches
// (src/bridge.rs) through a threadsafe function that never holds the event loop open by itself: one timer, shared
// by every client, holds it open while any call is pending, as a pending socket would.

let pendingEverywhere = 0;
let keepAlive = null;

function hold() {
  if (pendingEverywhere++ > 0) return;
  if (keepAlive === null) keepAlive = setInterval(() => {}, 2 ** 31 - 1);
  else keepAlive.ref();
}

function release(count) {
  pendingEverywhere -= count;
  if (pendingEverywhere === 0) keepAlive.unref();
}

function settleCall(record, outcome, failed) {
  if (record.finish === undefined) return failed ? record.reject(outcome) : record.resolve(outcome);
  let result;
  try {
    result = record.finish(record, outcome, failed);
  } catch (error) {
    return record.reject(error);
  }
  return record.resolve(result);
}

class PendingCalls {
  #promises = new Map();
  #next = 0;
  // Resolved when the last pending call settles (see `idle`).
  #drained = [];
  // Not the client: napi's threadsafe function holds `settle` strongly, and what it reaches is never collected.
  #observer;

  /** `observer` (observe.js): where the log lines and request records handed over with the calls go. */
  constructor(observer) {
    this.#observer = observer;
  }

  /**
   * A promise of what `start(call)` settles under `call`. `record`, kept until then: `context`, the call's tracing
   * context, if traced; `finish(record, outcome, failed)`, if any, makes the promise's result from the outcome (or
   * throws its rejection), so that a call has one promise and no handlers; without it the promise takes the outcome
   * as it is.
   */
  start(start, record = { resolve: undefined, reject: undefined, finish: undefined, context: undefined }) {
    const call = this.#next;
    this.#next = (this.#next + 1) >>> 0;
    return new Promise((resolve, reject) => {
      record.resolve = resolve;
      record.reject = reject;
      this.#promises.set(call, record);
      hold();
      try {
        start(call);
      } catch (error) {
        this.#promises.delete(call);
        release(1);
        settleCall(record, error, true);
      }
    });
  }

  /** What the native side calls: `outcomes[i]` settles `calls[i]`, rejecting it when `failed[i]`. */
  settle = (calls, outcomes, failed, lines, requests) => {
    // Before the calls they belong to settle, while their contexts are at hand.
    if (requests) this.#observer.requests(requests, (call) => this.#promises.get(call)?.context);
    for (let i = 0; i < calls.length; i++) {
      const record = this.#promises.get(calls[i]);
      if (record === undefined) continue;
      this.#promises.delete(calls[i]);
      settleCall(record, outcomes[i], failed[i]);
    }
    release(calls.length);
    if (lines) this.#observer.log(lines);
    if (this.#promises.size === 0) for (const resolve of this.#drained.splice(0)) resolve();
  };

  /** Resolves once no call of this client's is pending. */
  idle() {
    if (this.#promises.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }
}

module.exports = { PendingCalls };
