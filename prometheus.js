"use strict";

// Prometheus metrics from a client's running totals (`stats()`), through prom-client (an optional peer
// dependency): counters that only go up, named `_total`, and gauges for what is waiting now, all read at each
// scrape. Nothing here names a customer: the one label is an error code.
//
//   const { registerMetrics } = require("twilio-api-client/prometheus");
//   registerMetrics(client); // on prom-client's default registry

const COUNTERS = [
  ["sends_total", "Messages sent (text, template, image); replays are counted apart", (s) => s.sends],
  [
    "replays_total",
    "Sends answered by the message an earlier send with the same idempotency key made",
    (s) => s.replays,
  ],
  ["requests_total", "Requests made to Twilio, retries included", (s) => s.requests],
  ["retries_total", "Requests that repeated an earlier one", (s) => s.retries],
  ["rate_limited_total", "Answers of 429 from Twilio", (s) => s.rateLimited],
  ["cache_hits_total", "Conversation lookups answered by the cache", (s) => s.cacheHits],
  ["cache_misses_total", "Conversation lookups that asked Twilio", (s) => s.cacheMisses],
];

/**
 * Registers the client's metrics on `registry` (prom-client's default one unless given), each name after
 * `prefix` (`twilio_`); `labels` are added to every series (`{ client: 'billing' }`, for several clients).
 * Returns the metrics, and `unregister()`.
 */
function registerMetrics(client, { registry, prefix = "twilio_", labels = {} } = {}) {
  const prom = require("prom-client");
  const registers = [registry ?? prom.register];
  const constant = Object.keys(labels);
  const counter = (name, help, read) =>
    new prom.Counter({
      name: prefix + name,
      help,
      labelNames: constant,
      registers,
      collect() {
        this.reset();
        this.inc(labels, read(client.stats()));
      },
    });
  const metrics = COUNTERS.map(([name, help, read]) => counter(name, help, read));
  metrics.push(
    new prom.Counter({
      name: `${prefix}failures_total`,
      help: "Failed calls, by code (Twilio's number, or the client's name for it)",
      labelNames: [...constant, "code"],
      registers,
      collect() {
        this.reset();
        for (const [code, count] of Object.entries(client.stats().failures)) this.inc({ ...labels, code }, count);
      },
    }),
    new prom.Gauge({
      name: `${prefix}queued`,
      help: "Sends waiting now for their pacing turn",
      labelNames: constant,
      registers,
      collect() {
        this.set(labels, client.stats().queued);
      },
    }),
    new prom.Gauge({
      name: `${prefix}pacing_wait_seconds`,
      help: "How long sends waited for their pacing turn lately, by quantile",
      labelNames: [...constant, "quantile"],
      registers,
      collect() {
        const { p50, p99 } = client.stats().pacingWaitMs;
        this.set({ ...labels, quantile: "0.5" }, p50 / 1000);
        this.set({ ...labels, quantile: "0.99" }, p99 / 1000);
      },
    }),
  );
  return {
    metrics,
    unregister() {
      for (const registry of registers) for (const metric of metrics) registry.removeSingleMetric(metric.name);
    },
  };
}

module.exports = { registerMetrics };
