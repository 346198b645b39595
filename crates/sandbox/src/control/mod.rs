//! The control API, under `/__sandbox/` and never under a Twilio path: reset, state dump, request log, seeds,
//! latency, faults, limits, the clock, API keys, customers' messages, receipts, templates' WhatsApp approval, the
//! webhooks called, and a sample
//! image for media-by-URL tests. It needs no credentials and its requests are not logged.

mod seed;

use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::{App, Incoming, CONTROL_PREFIX};
use crate::faults::{Fault, FaultSpec};
use crate::state::inbound::{Changes, Inbound};
use seed::{change_approval, change_conversation, seed_conversations, seed_template, template_summary};

pub const SAMPLE_PNG: &[u8] = include_bytes!("../../assets/sample.png");

#[derive(Deserialize)]
struct Latency {
  ms: u64,
}

/// Moves the sandbox's clock forward: an ISO-8601 duration (`PT24H`) or milliseconds.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
  advance: Option<String>,
  advance_ms: Option<u64>,
}

/// A customer's message: `from` their channel address, `to` the Twilio address.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InboundMessage {
  from: String,
  to: String,
  body: Option<String>,
  media_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Release {
  /// `as-happened` (the default) or `reversed`.
  order: Option<String>,
}

/// Webhooks signed for URLs under `from` are sent under `to` instead.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Route {
  from: String,
  to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptChange {
  status: String,
  error_code: Option<u32>,
}

/// Why a control call was refused: its own input, or a Twilio rule (rendered as Twilio's error body).
enum Refusal {
  Invalid(String),
  Twilio(crate::error::ApiError),
}

impl From<crate::error::ApiError> for Refusal {
  fn from(error: crate::error::ApiError) -> Self {
    Self::Twilio(error)
  }
}

impl IntoResponse for Refusal {
  fn into_response(self) -> Response {
    match self {
      Self::Invalid(message) => reply(StatusCode::BAD_REQUEST, json!({ "error": message })),
      Self::Twilio(error) => error.into_response(),
    }
  }
}

type ControlResult = Result<Response, Refusal>;

/// How long `GET webhooks?at_least=N` waits for the Nth attempt before answering what there is.
const ATTEMPTS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The webhook attempts made; with `at_least=N`, once N are logged (or after [`ATTEMPTS_WAIT`]), so that a test waits
/// for a delivery rather than polling for it.
async fn attempts(app: &App, incoming: &Incoming) -> Result<Response, Refusal> {
  if let Some(wanted) = incoming.query.get("at_least") {
    let wanted: usize = wanted.parse().map_err(|_| bad("at_least is a count"))?;
    let mut attempted = app.attempted.subscribe();
    let enough = async {
      while app.lock().outbox.attempts.len() < wanted {
        if attempted.changed().await.is_err() {
          break;
        }
      }
    };
    let _ = tokio::time::timeout(ATTEMPTS_WAIT, enough).await;
  }
  Ok(reply(StatusCode::OK, json!({ "webhooks": app.lock().outbox.attempts })))
}

fn reply(status: StatusCode, body: Value) -> Response {
  (status, axum::Json(body)).into_response()
}

fn bad(message: impl Into<String>) -> Refusal {
  Refusal::Invalid(message.into())
}

fn parse<T: for<'de> Deserialize<'de>>(incoming: &Incoming) -> Result<T, Refusal> {
  serde_json::from_slice(&incoming.body).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

pub async fn handle(app: &App, incoming: Incoming) -> Response {
  let route = incoming.path[CONTROL_PREFIX.len()..].trim_matches('/').to_string();
  let parts: Vec<&str> = route.split('/').collect();
  let result = match (&incoming.method, parts.as_slice()) {
    (&Method::GET, [""]) | (&Method::GET, ["info"]) => Ok(info(app)),
    (&Method::POST, ["reset"]) => {
      app.lock().reset();
      app.releases.send_modify(|count| *count += 1);
      Ok(reply(StatusCode::OK, json!({ "reset": true })))
    }
    (&Method::GET, ["state"]) => Ok(dump(app)),
    (&Method::GET, ["requests"]) => Ok(reply(StatusCode::OK, json!({ "requests": app.lock().log }))),
    (&Method::DELETE, ["requests"]) => {
      app.lock().log.clear();
      Ok(reply(StatusCode::OK, json!({ "requests": [] })))
    }
    (&Method::POST, ["conversations"]) => seed_conversations(app, &incoming),
    (&Method::POST, ["conversations", id]) => change_conversation(app, &incoming, id),
    (&Method::DELETE, ["conversations", id]) => {
      let path = incoming.path.clone();
      let deleted = app.lock().delete_conversation(id, &path);
      deleted
        .map(|()| StatusCode::NO_CONTENT.into_response())
        .map_err(Refusal::from)
    }
    (&Method::POST, ["templates"]) => seed_template(app, &incoming),
    (&Method::POST, ["templates", sid, "approval"]) => change_approval(app, &incoming, sid),
    (&Method::DELETE, ["templates", sid]) => {
      let path = incoming.path.clone();
      let deleted = app.lock().delete_content(sid, &path);
      deleted
        .map(|()| StatusCode::NO_CONTENT.into_response())
        .map_err(Refusal::from)
    }
    (&Method::POST, ["latency"]) => parse::<Latency>(&incoming).map(|l| {
      app.lock().latency_ms = l.ms;
      reply(StatusCode::OK, json!({ "ms": l.ms }))
    }),
    (&Method::POST, ["faults"]) => parse::<FaultSpec>(&incoming).and_then(|spec| {
      let fault = Fault::new(spec).map_err(bad)?;
      let body = fault.to_json();
      app.lock().faults.push(fault);
      Ok(reply(StatusCode::CREATED, body))
    }),
    (&Method::GET, ["faults"]) => Ok(reply(
      StatusCode::OK,
      json!({ "faults": app.lock().faults.iter().map(Fault::to_json).collect::<Vec<_>>() }),
    )),
    (&Method::DELETE, ["faults"]) => {
      app.lock().faults.clear();
      app.releases.send_modify(|count| *count += 1);
      Ok(reply(StatusCode::OK, json!({ "faults": [] })))
    }
    (&Method::POST, ["faults", "release"]) => {
      app.releases.send_modify(|count| *count += 1);
      Ok(reply(StatusCode::OK, json!({ "released": true })))
    }
    (&Method::GET, ["limits"]) => Ok(limits(app)),
    (&Method::POST, ["limits"]) => parse::<Value>(&incoming).and_then(|patch| {
      let mut state = app.lock();
      state.limits = state.limits.patched(&patch).map_err(bad)?;
      drop(state);
      Ok(limits(app))
    }),
    (&Method::POST, ["inbound"]) => inbound(app, &incoming).await,
    (&Method::GET, ["webhooks"]) => attempts(app, &incoming).await,
    (&Method::DELETE, ["webhooks"]) => {
      app.lock().outbox.attempts.clear();
      Ok(reply(StatusCode::OK, json!({ "webhooks": [] })))
    }
    (&Method::POST, ["webhooks", "hold"]) => {
      app.lock().outbox.held = true;
      Ok(reply(StatusCode::OK, json!({ "held": true })))
    }
    (&Method::POST, ["webhooks", "release"]) => parse::<Release>(&incoming).and_then(|release| {
      let mut state = app.lock();
      match release.order.as_deref() {
        None | Some("as-happened") => {}
        Some("reversed") => state.outbox.pending.reverse(),
        Some(_) => return Err(bad("order is 'as-happened' or 'reversed'")),
      }
      state.outbox.held = false;
      let released = state.outbox.pending.len();
      drop(state);
      app.webhooks_wake.notify_one();
      Ok(reply(StatusCode::OK, json!({ "held": false, "released": released })))
    }),
    (&Method::POST, ["webhooks", "routes"]) => parse::<Route>(&incoming).map(|route| {
      let mut state = app.lock();
      state.outbox.routes.push((route.from.clone(), route.to.clone()));
      reply(StatusCode::CREATED, json!({ "from": route.from, "to": route.to }))
    }),
    (&Method::POST, ["receipts", sid]) => parse::<ReceiptChange>(&incoming).and_then(|change| {
      let mut state = app.lock();
      let receipt = state.set_receipt(sid, &change.status, change.error_code)?;
      let body = json!({ "sid": receipt.sid, "status": receipt.status, "error_code": receipt.error_code });
      drop(state);
      app.webhooks_wake.notify_one();
      Ok(reply(StatusCode::OK, body))
    }),
    (&Method::GET, ["clock"]) => Ok(clock(app)),
    (&Method::POST, ["clock"]) => advance_clock(app, &incoming),
    (&Method::POST, ["api-keys"]) => {
      let (sid, secret) = app.lock().add_api_key();
      Ok(reply(StatusCode::CREATED, json!({ "sid": sid, "secret": secret })))
    }
    (&Method::GET, ["image.png"]) => Ok(([(header::CONTENT_TYPE, "image/png")], SAMPLE_PNG).into_response()),
    _ => Ok(reply(
      StatusCode::NOT_FOUND,
      json!({ "error": format!("the control API has no {} {}", incoming.method, incoming.path) }),
    )),
  };
  result.unwrap_or_else(IntoResponse::into_response)
}

/// The limits in force, and how many writes the rate limit has refused since the last reset.
fn limits(app: &App) -> Response {
  let state = app.lock();
  let mut body = state.limits.to_json();
  body["refused_writes"] = json!(state.rates.refused());
  reply(StatusCode::OK, body)
}

fn clock(app: &App) -> Response {
  reply(StatusCode::OK, json!({ "now": crate::render::iso(app.lock().now()) }))
}

/// Advances the clock; the timers that come due fire on the next lock, before anything reads the state.
fn advance_clock(app: &App, incoming: &Incoming) -> ControlResult {
  let change: ClockChange = parse(incoming)?;
  let by = match (change.advance.as_deref(), change.advance_ms) {
    (Some(text), None) => crate::state::clock::parse_duration(text)
      .ok_or_else(|| bad("advance is an ISO 8601 duration such as PT10M or P1D"))?,
    (None, Some(ms)) => chrono::Duration::milliseconds(i64::try_from(ms).map_err(|_| bad("advance_ms is too large"))?),
    _ => return Err(bad("give one of advance (ISO 8601 duration) or advance_ms")),
  };
  app.lock().clock.advance(by);
  Ok(clock(app))
}

/// A customer's message arrives: the service's `onMessageAdd` webhook, when there is one, may change or reject
/// it (Twilio waits 5 seconds for it, then goes on unchanged); then it is added and `onMessageAdded` fires.
async fn inbound(app: &App, incoming: &Incoming) -> ControlResult {
  let message: InboundMessage = parse(incoming)?;
  if message.body.as_deref().unwrap_or("").is_empty() && message.media_url.is_none() {
    return Err(bad("give body or mediaUrl"));
  }
  let inbound = Inbound {
    from: message.from,
    to: message.to,
    body: message.body,
    media_url: message.media_url,
  };
  let (target, form) = {
    let mut state = app.lock();
    let (conversation_sid, participant_sid) = state.inbound_conversation(&inbound.from, &inbound.to)?;
    let form = crate::events::message_add(
      &state.account,
      &crate::events::MessageAdd {
        source: crate::state::Source::Sms,
        conversation_sid: &conversation_sid,
        author: &inbound.from,
        participant_sid: Some(&participant_sid),
        body: inbound.body.as_deref(),
        attributes: "{}",
      },
    );
    (state.pre_target("onMessageAdd"), form)
  };
  let mut changes = Changes::default();
  if let Some(target) = target {
    let answer = crate::delivery::call(app, &target, "onMessageAdd", form).await;
    match answer.status {
      // A 4xx or 5xx answer rejects the message: nothing is published.
      Some(status) if status >= 400 => {
        return Ok(reply(
          StatusCode::OK,
          json!({ "rejected": true, "webhook_status": status, "message": null }),
        ))
      }
      Some(200..=299) if !answer.body.trim().is_empty() => {
        changes = serde_json::from_str(&answer.body).unwrap_or_default();
      }
      // No answer in time, or nothing to change: published as it is.
      _ => {}
    }
  }
  let mut state = app.lock();
  let (conversation_sid, added) = state.add_inbound(inbound, changes)?;
  let conversation = state.conversation_by_sid(&conversation_sid, "")?;
  let body = app.rendering(&state, "/v1").message(conversation, &added);
  drop(state);
  app.webhooks_wake.notify_one();
  Ok(reply(
    StatusCode::CREATED,
    json!({ "rejected": false, "message": body }),
  ))
}

fn info(app: &App) -> Response {
  let state = app.lock();
  reply(
    StatusCode::OK,
    json!({
      "url": app.base,
      "account_sid": state.account.account_sid,
      "chat_service_sid": state.account.chat_service_sid,
      "messaging_service_sid": state.account.messaging_service_sid,
      "default_template_sid": crate::state::DEFAULT_TEMPLATE_SID,
      "sample_image_url": format!("{}{CONTROL_PREFIX}/image.png", app.base),
    }),
  )
}

fn dump(app: &App) -> Response {
  let state = app.lock();
  let ctx = app.rendering(&state, "/v1");
  let conversations: Vec<Value> = state
    .order
    .iter()
    .filter_map(|sid| state.conversations.get(sid))
    .map(|c| {
      let mut value = ctx.conversation(c);
      value["participants"] = c.participants.iter().map(|p| ctx.participant(c, p)).collect();
      value["messages"] = c.messages.iter().map(|m| ctx.message(c, m)).collect();
      value
    })
    .collect();
  let mut media: Vec<Value> = state.media.values().map(|m| ctx.media(m)).collect();
  media.sort_by(|a, b| a["date_created"].as_str().cmp(&b["date_created"].as_str()));
  reply(
    StatusCode::OK,
    json!({
      "conversations": conversations,
      "messages": state.sms.iter().map(|m| ctx.sms(m)).collect::<Vec<_>>(),
      "media": media,
      "templates": state.contents_in_order().iter().map(|c| template_summary(app, &state, &c.sid)).collect::<Vec<_>>(),
      "address_configurations": state.address_configurations,
    }),
  )
}
