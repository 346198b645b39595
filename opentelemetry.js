"use strict";

// Spans for OpenTelemetry from the client's diagnostics channels (lib/observe.js): one span per client call
// (`twilio sendMessage`), and under it one client span per Twilio request, named by its route. Needs
// `@opentelemetry/api` (an optional peer dependency); a tracer provider registered by the application's SDK, or
// the `tracer` given, receives the spans.
//
//   const { instrument } = require("twilio-api-client/opentelemetry");
//   const stop = instrument(); // after the SDK is started

const dc = require("node:diagnostics_channel");

const CALL_CHANNEL = "twilio-api-client:call";
const REQUEST_CHANNEL = "twilio-api-client:request";

/** Subscribes; returns a function that unsubscribes. `tracer`: defaults to the global provider's. */
function instrument({ tracer } = {}) {
  const otel = require("@opentelemetry/api");
  const { SpanKind, SpanStatusCode } = otel;
  const spans = tracer ?? otel.trace.getTracer("twilio-api-client", require("./package.json").version);
  const calls = dc.tracingChannel(CALL_CHANNEL);

  const handlers = {
    start(context) {
      context.span = spans.startSpan(`twilio ${context.operation}`, {
        kind: SpanKind.INTERNAL,
        attributes: { "twilio.operation": context.operation },
      });
    },
    end() {},
    asyncStart() {},
    asyncEnd(context) {
      const { span, result } = context;
      if (!span) return;
      // The legacy methods resolve `{ success: false, error, code }` rather than reject (a rejection is `error`).
      if (result?.success === false) {
        span.setAttribute("twilio.error.code", String(result.code));
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.error });
      }
      span.end();
    },
    error(context) {
      const { span, error } = context;
      if (!span) return;
      span.recordException(error);
      if (error?.code !== undefined) span.setAttribute("twilio.error.code", String(error.code));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message });
    },
  };
  calls.subscribe(handlers);

  const onRequest = (request) => {
    const parent = request.call?.span;
    const context = parent ? otel.trace.setSpan(otel.context.active(), parent) : otel.context.active();
    const [address, port] = splitHost(request.host);
    const end = Date.now();
    const span = spans.startSpan(
      `${request.method} ${request.route}`,
      {
        kind: SpanKind.CLIENT,
        startTime: end - request.durationMs,
        attributes: {
          "http.request.method": request.method,
          "server.address": address,
          "server.port": port,
          "url.template": request.route,
          ...(request.status === null ? {} : { "http.response.status_code": request.status }),
          ...(request.attempt > 0 ? { "http.request.resend_count": request.attempt } : {}),
        },
      },
      context,
    );
    if (request.status === null || request.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
  };
  dc.subscribe(REQUEST_CHANNEL, onRequest);

  return () => {
    calls.unsubscribe(handlers);
    dc.unsubscribe(REQUEST_CHANNEL, onRequest);
  };
}

function splitHost(host) {
  const colon = host.lastIndexOf(":");
  return [host.slice(0, colon), Number(host.slice(colon + 1))];
}

module.exports = { instrument };
