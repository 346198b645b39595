import type { Metric, Registry } from "prom-client";

/**
 * Registers a client's running totals as Prometheus metrics (prom-client): `twilio_sends_total`,
 * `twilio_replays_total`, `twilio_requests_total`, `twilio_retries_total`, `twilio_rate_limited_total`,
 * `twilio_cache_hits_total`, `twilio_cache_misses_total`, `twilio_failures_total{code}`, and the gauges
 * `twilio_queued` and `twilio_pacing_wait_seconds{quantile}`, read at each scrape. `registry` defaults to
 * prom-client's default one; `labels` are added to every series.
 */
export function registerMetrics(
  client: { stats(): unknown },
  options?: { registry?: Registry; prefix?: string; labels?: Record<string, string> },
): { metrics: Metric[]; unregister(): void };
