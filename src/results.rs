//! What crosses back to JS: typed results, and the one place a core error becomes a JS error object (`code`,
//! `kind`, and Twilio's `status`, `moreInfo`, `details` when Twilio answered).

use napi::bindgen_prelude::{JsValue, Object};
use napi::{Env, Status};
use napi_derive::napi;
use twilio_core::{Code, Error, RequestRecord, Sent, Totals, Uploaded};

/// One Twilio request, as the debug log and the `twilio-api-client:request` channel show it.
#[napi(object)]
pub struct RequestEvent {
  /// The number of the client call it belongs to.
  pub call: Option<u32>,
  pub method: String,
  /// `host:port`.
  pub host: String,
  /// The path with SIDs named and numbers hidden: `/v1/Conversations/{ConversationSid}/Messages`.
  pub route: String,
  /// Twilio's HTTP status; none for a network error or a timeout.
  pub status: Option<u32>,
  pub duration_ms: f64,
  /// 0 for the first attempt.
  pub attempt: u32,
}

impl From<RequestRecord> for RequestEvent {
  fn from(record: RequestRecord) -> Self {
    Self {
      call: record.call,
      method: record.method.to_string(),
      host: record.host,
      route: record.route,
      status: record.status.map(u32::from),
      duration_ms: record.duration.as_secs_f64() * 1000.0,
      attempt: record.attempt,
    }
  }
}

/// The core's running totals (the JS entry adds sends and failures by code).
#[napi(object)]
pub struct NativeTotals {
  pub requests: f64,
  pub retries: f64,
  pub rate_limited: f64,
  pub cache_hits: f64,
  pub cache_misses: f64,
  pub queued: f64,
  pub pacing_wait_p50_ms: f64,
  pub pacing_wait_p99_ms: f64,
}

impl From<Totals> for NativeTotals {
  fn from(totals: Totals) -> Self {
    Self {
      requests: totals.requests as f64,
      retries: totals.retries as f64,
      rate_limited: totals.rate_limited as f64,
      cache_hits: totals.cache_hits as f64,
      cache_misses: totals.cache_misses as f64,
      queued: totals.queued as f64,
      pacing_wait_p50_ms: totals.pacing_wait_p50.as_secs_f64() * 1000.0,
      pacing_wait_p99_ms: totals.pacing_wait_p99.as_secs_f64() * 1000.0,
    }
  }
}

/// A message that was sent.
#[napi(object)]
pub struct SentMessage {
  pub message_sid: String,
  pub conversation_sid: Option<String>,
  pub body: Option<String>,
  /// The resource as Twilio answered it, as JSON text: the JS entry presents it as twilio-node does only when
  /// the caller reads `data` (measured by `npm run bench`).
  pub data_json: String,
}

impl From<Sent> for SentMessage {
  fn from(sent: Sent) -> Self {
    Self {
      message_sid: sent.message_sid,
      conversation_sid: sent.conversation_sid,
      body: sent.body,
      data_json: sent.json,
    }
  }
}

/// A media file that was uploaded.
#[napi(object)]
pub struct UploadedMedia {
  pub media_sid: String,
  pub service_sid: String,
  pub content_type: String,
  pub filename: String,
  pub size: f64,
  pub data_json: String,
}

impl From<Uploaded> for UploadedMedia {
  fn from(uploaded: Uploaded) -> Self {
    Self {
      media_sid: uploaded.media_sid,
      service_sid: uploaded.service_sid,
      content_type: uploaded.content_type,
      filename: uploaded.filename,
      // Media sizes are far below 2^53: exact as a JS number.
      size: uploaded.size as f64,
      data_json: uploaded.json,
    }
  }
}

/// What `testConnection` learns of the account.
#[napi(object)]
pub struct Connection {
  pub account_sid: String,
  pub account_name: Option<String>,
}

/// The JS error a core error becomes. Its `code` is Twilio's numeric code, or a stable name of this package
/// (`INVALID_PHONE_NUMBER`, `TIMEOUT`, …); `kind` is `api`, `transport`, `timeout`, `decode`, `input`, `config` or
/// `internal`.
pub fn js_error<'env>(env: &'env Env, error: &Error) -> napi::Result<Object<'env>> {
  let mut object = env.create_error(napi::Error::new(Status::GenericFailure, error.public_message()))?;
  match error.code() {
    Code::Twilio(code) => object.set("code", code)?,
    Code::Named(name) => object.set("code", name)?,
  }
  object.set("kind", error.kind())?;
  if let Some(status) = error.status() {
    object.set("status", u32::from(status))?;
  }
  if let Some(after) = error.retry_after() {
    object.set("retryAfterMs", u32::try_from(after.as_millis()).unwrap_or(u32::MAX))?;
  }
  if let Error::Api { more_info, details, .. } = error {
    if let Some(more_info) = more_info {
      object.set("moreInfo", more_info.as_str())?;
    }
    if let Some(details) = details {
      object.set("details", details.clone())?;
    }
  }
  Ok(object)
}

/// [`js_error`] to throw from a synchronous call; should the object not be built (the environment shutting down),
/// a plain error still says what happened.
pub fn thrown(env: &Env, error: &Error) -> napi::Error {
  js_error(env, error)
    .map(|object| napi::Error::from(object.to_unknown()))
    .unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, error.public_message()))
}

/// JSON from outside (attributes anyone with the Conversations SDK can write, a webhook's fields) without any
/// `__proto__` key: napi sets each key as an assignment would, and that one would become the object's prototype
/// (`{"__proto__":{"isAdmin":true}}` making `metadata.isAdmin` true) instead of a key of its own.
pub fn own_data(value: serde_json::Value) -> serde_json::Value {
  match value {
    serde_json::Value::Object(map) => serde_json::Value::Object(own_keys(map)),
    serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(own_data).collect()),
    other => other,
  }
}

pub fn own_keys(map: serde_json::Map<String, serde_json::Value>) -> serde_json::Map<String, serde_json::Value> {
  map
    .into_iter()
    .filter(|(key, _)| key != "__proto__")
    .map(|(key, value)| (key, own_data(value)))
    .collect()
}

/// An agent in the conversation.
#[napi(object)]
pub struct AgentResult {
  pub conversation_sid: String,
  pub participant_sid: String,
  pub identity: String,
  pub already_present: bool,
}

impl From<twilio_core::AgentAdded> for AgentResult {
  fn from(added: twilio_core::AgentAdded) -> Self {
    Self {
      conversation_sid: added.conversation_sid,
      participant_sid: added.participant_sid,
      identity: added.identity,
      already_present: added.already_present,
    }
  }
}

#[napi(object)]
pub struct RemovalResult {
  pub conversation_sid: Option<String>,
  pub removed: bool,
}

impl From<twilio_core::AgentRemoved> for RemovalResult {
  fn from(removed: twilio_core::AgentRemoved) -> Self {
    Self {
      conversation_sid: removed.conversation_sid,
      removed: removed.removed,
    }
  }
}

#[napi(object)]
pub struct ParticipantItem {
  pub sid: String,
  pub identity: Option<String>,
  pub address: Option<String>,
  pub proxy_address: Option<String>,
  pub attributes: serde_json::Value,
  pub date_created: Option<String>,
}

#[napi(object)]
pub struct ParticipantsResult {
  pub conversation_sid: Option<String>,
  pub participants: Vec<ParticipantItem>,
}

impl From<twilio_core::Participants> for ParticipantsResult {
  fn from(list: twilio_core::Participants) -> Self {
    Self {
      conversation_sid: list.conversation_sid,
      participants: list
        .participants
        .into_iter()
        .map(|p| ParticipantItem {
          sid: p.sid,
          identity: p.identity,
          address: p.address,
          proxy_address: p.proxy_address,
          attributes: own_data(p.attributes),
          date_created: p.date_created,
        })
        .collect(),
    }
  }
}

#[napi(object)]
pub struct AssignmentResult {
  pub conversation_sid: Option<String>,
  pub assignee: Option<String>,
  pub previous_assignee: Option<String>,
}

impl From<twilio_core::Assignment> for AssignmentResult {
  fn from(assignment: twilio_core::Assignment) -> Self {
    Self {
      conversation_sid: Some(assignment.conversation_sid),
      assignee: Some(assignment.assignee),
      previous_assignee: assignment.previous_assignee,
    }
  }
}

impl From<twilio_core::Unassignment> for AssignmentResult {
  fn from(unassignment: twilio_core::Unassignment) -> Self {
    Self {
      conversation_sid: unassignment.conversation_sid,
      assignee: None,
      previous_assignee: unassignment.previous_assignee,
    }
  }
}

#[napi(object)]
pub struct StatusResult {
  pub conversation_sid: Option<String>,
  pub state: Option<String>,
  pub unique_name: Option<String>,
  pub friendly_name: Option<String>,
  pub assignee: Option<String>,
  pub participant_count: u32,
  pub date_created: Option<String>,
  pub date_updated: Option<String>,
  pub date_inactive: Option<String>,
  pub date_closed: Option<String>,
}

impl From<twilio_core::Status> for StatusResult {
  fn from(status: twilio_core::Status) -> Self {
    Self {
      conversation_sid: status.conversation_sid,
      state: status.state,
      unique_name: status.unique_name,
      friendly_name: status.friendly_name,
      assignee: status.assignee,
      participant_count: status.participant_count,
      date_created: status.date_created,
      date_updated: status.date_updated,
      date_inactive: status.date_inactive,
      date_closed: status.date_closed,
    }
  }
}

#[napi(object)]
pub struct StateResult {
  pub conversation_sid: Option<String>,
  pub state: Option<String>,
}

impl From<twilio_core::StateChange> for StateResult {
  fn from(change: twilio_core::StateChange) -> Self {
    Self {
      conversation_sid: change.conversation_sid,
      state: change.state,
    }
  }
}

#[napi(object)]
pub struct MetadataResult {
  pub conversation_sid: Option<String>,
  pub metadata: serde_json::Value,
}

impl From<twilio_core::Metadata> for MetadataResult {
  fn from(metadata: twilio_core::Metadata) -> Self {
    Self {
      conversation_sid: metadata.conversation_sid,
      metadata: own_data(serde_json::Value::Object(metadata.metadata)),
    }
  }
}

#[napi(object)]
pub struct MediaInfo {
  pub sid: String,
  pub size: f64,
  pub content_type: Option<String>,
  pub filename: Option<String>,
}

#[napi(object)]
pub struct HistoryItem {
  pub sid: String,
  pub index: f64,
  pub author: Option<String>,
  pub body: Option<String>,
  pub content_sid: Option<String>,
  pub media: Option<Vec<MediaInfo>>,
  pub attributes: serde_json::Value,
  pub participant_sid: Option<String>,
  pub date_created: Option<String>,
  pub delivery: Option<serde_json::Value>,
}

#[napi(object)]
pub struct HistoryResult {
  pub conversation_sid: Option<String>,
  pub messages: Vec<HistoryItem>,
}

impl From<twilio_core::History> for HistoryResult {
  fn from(history: twilio_core::History) -> Self {
    Self {
      conversation_sid: history.conversation_sid,
      messages: history
        .messages
        .into_iter()
        .map(|m| HistoryItem {
          sid: m.sid,
          // Indices and sizes are far below 2^53: exact as JS numbers.
          index: m.index as f64,
          author: m.author,
          body: m.body,
          content_sid: m.content_sid,
          media: m.media.map(|items| {
            items
              .into_iter()
              .map(|item| MediaInfo {
                sid: item.sid,
                size: item.size as f64,
                content_type: item.content_type,
                filename: item.filename,
              })
              .collect()
          }),
          attributes: own_data(m.attributes),
          participant_sid: m.participant_sid,
          date_created: m.date_created,
          delivery: m.delivery.map(own_data),
        })
        .collect(),
    }
  }
}

#[napi(object)]
pub struct ReceiptInfo {
  pub sid: String,
  pub status: Option<String>,
  pub error_code: Option<u32>,
  pub participant_sid: Option<String>,
  pub date_updated: Option<String>,
}

#[napi(object)]
pub struct DeliveryResult {
  pub conversation_sid: Option<String>,
  pub message_sid: String,
  pub delivery: Option<serde_json::Value>,
  pub receipts: Vec<ReceiptInfo>,
}

impl From<twilio_core::DeliveryStatus> for DeliveryResult {
  fn from(status: twilio_core::DeliveryStatus) -> Self {
    Self {
      conversation_sid: status.conversation_sid,
      message_sid: status.message_sid,
      delivery: status.delivery.map(own_data),
      receipts: status
        .receipts
        .into_iter()
        .map(|r| ReceiptInfo {
          sid: r.sid,
          status: r.status,
          error_code: r.error_code,
          participant_sid: r.participant_sid,
          date_updated: r.date_updated,
        })
        .collect(),
    }
  }
}

#[napi(object)]
pub struct WindowResult {
  pub conversation_sid: Option<String>,
  pub open: bool,
  pub last_inbound_at: Option<String>,
  pub closes_at: Option<String>,
}

impl From<twilio_core::Window> for WindowResult {
  fn from(window: twilio_core::Window) -> Self {
    Self {
      conversation_sid: window.conversation_sid,
      open: window.open,
      last_inbound_at: window.last_inbound_at,
      closes_at: window.closes_at,
    }
  }
}

#[napi(object)]
pub struct WebhookConfigResult {
  pub post_webhook_url: Option<String>,
  pub pre_webhook_url: Option<String>,
  pub filters: Vec<String>,
  pub method: String,
}

impl From<twilio_core::WebhookConfiguration> for WebhookConfigResult {
  fn from(config: twilio_core::WebhookConfiguration) -> Self {
    Self {
      post_webhook_url: config.post_webhook_url,
      pre_webhook_url: config.pre_webhook_url,
      filters: config.filters,
      method: config.method,
    }
  }
}
