//! What crosses back to JS: typed results, and the one place a core error becomes a JS error object (`code`,
//! `kind`, and Twilio's `status`, `moreInfo`, `details` when Twilio answered).

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{JsValue, Object};
use napi::{Env, Status};
use napi_derive::napi;
use twilio_core::{Admission, Code, Error, LogLine, Preflight, RequestRecord, Sent, TemplateReport, Totals, Uploaded};

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

/// A line for the caller's logger that the core raised: a warning, or at `logLevel: 'info'` what the client changed.
#[napi(object)]
pub struct LogEvent {
  /// `warn` or `info`.
  pub level: String,
  pub message: String,
}

impl From<LogLine> for LogEvent {
  fn from(line: LogLine) -> Self {
    let level: &str = line.level.into();
    Self {
      level: level.to_string(),
      message: line.message,
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
  /// An earlier send with the same idempotency key sent it: this call sent nothing.
  pub replayed: bool,
}

impl From<Sent> for SentMessage {
  fn from(sent: Sent) -> Self {
    Self {
      message_sid: sent.message_sid,
      conversation_sid: sent.conversation_sid,
      body: sent.body,
      data_json: sent.json,
      replayed: sent.replayed,
    }
  }
}

/// What becomes of a webhook event: `handle` (with the ticket to settle), `duplicate` or `stale`.
#[napi(object)]
pub struct EventAdmission {
  pub admission: String,
  pub ticket: Option<f64>,
}

impl From<Admission> for EventAdmission {
  fn from(admission: Admission) -> Self {
    let (admission, ticket) = match admission {
      Admission::Handle(ticket) => ("handle", Some(ticket as f64)),
      Admission::Duplicate => ("duplicate", None),
      Admission::Stale => ("stale", None),
    };
    Self {
      admission: admission.to_string(),
      ticket,
    }
  }
}

/// A send that would go, checked without being sent.
#[napi(object)]
pub struct PreflightResult {
  /// Whether the customer's 24-hour window is open, when it was read (free-form messages, unapproved templates).
  pub window_open: Option<bool>,
  pub template: Option<TemplateResult>,
}

/// The template a check read.
#[napi(object)]
pub struct TemplateResult {
  pub content_sid: String,
  /// Null when the Content API could not answer and `templateUnavailable: 'send'` lets it go unchecked.
  pub friendly_name: Option<String>,
  /// WhatsApp's approval status (`approved`, `unsubmitted`, `received`, `pending`, `rejected`, `paused`, `disabled`).
  pub approval_status: Option<String>,
}

impl From<TemplateReport> for TemplateResult {
  fn from(report: TemplateReport) -> Self {
    Self {
      content_sid: report.content_sid,
      friendly_name: report.friendly_name,
      approval_status: report.approval_status,
    }
  }
}

impl From<Preflight> for PreflightResult {
  fn from(preflight: Preflight) -> Self {
    Self {
      window_open: preflight.window_open,
      template: preflight.template.map(TemplateResult::from),
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

// The results of the calls below are the legacy class's answers as they are: `success` first, an absent value as
// `null`, a date as a `Date`, in the order the old module wrote the keys.

/// A Twilio date (ISO-8601 text) as JS gets it: a `Date`, or `null` when absent or not a date.
fn date(text: Option<String>) -> Option<DateTime<Utc>> {
  text
    .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
    .map(|date| date.with_timezone(&Utc))
}

/// What `testConnection` learns of the account.
#[napi(object, use_nullable = true)]
pub struct ConnectionResult {
  pub success: bool,
  pub message: String,
  pub account_sid: String,
  pub account_name: Option<String>,
}

impl ConnectionResult {
  pub fn new(account_sid: String, account_name: Option<String>) -> Self {
    Self {
      success: true,
      message: "Twilio API client is ready (Conversations API enabled)".to_string(),
      account_sid,
      account_name,
    }
  }
}

/// An agent in the conversation.
#[napi(object, use_nullable = true)]
pub struct AgentResult {
  pub success: bool,
  pub conversation_sid: String,
  pub participant_sid: String,
  pub identity: String,
  pub already_present: bool,
}

impl From<twilio_core::AgentAdded> for AgentResult {
  fn from(added: twilio_core::AgentAdded) -> Self {
    Self {
      success: true,
      conversation_sid: added.conversation_sid,
      participant_sid: added.participant_sid,
      identity: added.identity,
      already_present: added.already_present,
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct RemovalResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  pub removed: bool,
}

impl From<twilio_core::AgentRemoved> for RemovalResult {
  fn from(removed: twilio_core::AgentRemoved) -> Self {
    Self {
      success: true,
      conversation_sid: removed.conversation_sid,
      removed: removed.removed,
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct ParticipantItem {
  pub sid: String,
  pub identity: Option<String>,
  pub address: Option<String>,
  pub proxy_address: Option<String>,
  pub attributes: serde_json::Value,
  pub date_created: Option<DateTime<Utc>>,
}

#[napi(object, use_nullable = true)]
pub struct ParticipantsResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  pub participants: Vec<ParticipantItem>,
}

impl From<twilio_core::Participants> for ParticipantsResult {
  fn from(list: twilio_core::Participants) -> Self {
    Self {
      success: true,
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
          date_created: date(p.date_created),
        })
        .collect(),
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct AssignmentResult {
  pub success: bool,
  pub conversation_sid: String,
  pub assignee: String,
  pub previous_assignee: Option<String>,
}

impl From<twilio_core::Assignment> for AssignmentResult {
  fn from(assignment: twilio_core::Assignment) -> Self {
    Self {
      success: true,
      conversation_sid: assignment.conversation_sid,
      assignee: assignment.assignee,
      previous_assignee: assignment.previous_assignee,
    }
  }
}

/// `unassignConversation`'s answer: no assignee key at all.
#[napi(object, use_nullable = true)]
pub struct UnassignmentResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  pub previous_assignee: Option<String>,
}

impl From<twilio_core::Unassignment> for UnassignmentResult {
  fn from(unassignment: twilio_core::Unassignment) -> Self {
    Self {
      success: true,
      conversation_sid: unassignment.conversation_sid,
      previous_assignee: unassignment.previous_assignee,
    }
  }
}

/// When Twilio moves the conversation to `inactive` and to `closed`.
#[napi(object, use_nullable = true)]
pub struct Timers {
  pub date_inactive: Option<DateTime<Utc>>,
  pub date_closed: Option<DateTime<Utc>>,
}

#[napi(object, use_nullable = true)]
pub struct StatusResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  /// Twilio's `conversation_enum_state`.
  #[napi(ts_type = "'active' | 'inactive' | 'closed' | 'initializing'")]
  pub state: Option<String>,
  pub unique_name: Option<String>,
  pub friendly_name: Option<String>,
  pub assignee: Option<String>,
  pub participant_count: u32,
  pub date_created: Option<DateTime<Utc>>,
  pub date_updated: Option<DateTime<Utc>>,
  pub timers: Timers,
}

impl From<twilio_core::Status> for StatusResult {
  fn from(status: twilio_core::Status) -> Self {
    Self {
      success: true,
      conversation_sid: status.conversation_sid,
      state: status.state,
      unique_name: status.unique_name,
      friendly_name: status.friendly_name,
      assignee: status.assignee,
      participant_count: status.participant_count,
      date_created: date(status.date_created),
      date_updated: date(status.date_updated),
      timers: Timers {
        date_inactive: date(status.date_inactive),
        date_closed: date(status.date_closed),
      },
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct StateResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  /// Twilio's `conversation_enum_state`.
  #[napi(ts_type = "'active' | 'inactive' | 'closed'")]
  pub state: Option<String>,
}

impl From<twilio_core::StateChange> for StateResult {
  fn from(change: twilio_core::StateChange) -> Self {
    Self {
      success: true,
      conversation_sid: change.conversation_sid,
      state: change.state,
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct MetadataResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  pub metadata: serde_json::Value,
}

impl From<twilio_core::Metadata> for MetadataResult {
  fn from(metadata: twilio_core::Metadata) -> Self {
    Self {
      success: true,
      conversation_sid: metadata.conversation_sid,
      metadata: own_data(serde_json::Value::Object(metadata.metadata)),
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct MediaInfo {
  pub sid: String,
  pub size: f64,
  pub content_type: Option<String>,
  pub filename: Option<String>,
}

#[napi(object, use_nullable = true)]
pub struct HistoryItem {
  pub sid: String,
  pub index: f64,
  pub author: Option<String>,
  pub body: Option<String>,
  pub content_sid: Option<String>,
  pub media: Option<Vec<MediaInfo>>,
  pub attributes: serde_json::Value,
  pub participant_sid: Option<String>,
  pub date_created: Option<DateTime<Utc>>,
  pub delivery: Option<serde_json::Value>,
}

#[napi(object, use_nullable = true)]
pub struct HistoryResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  pub messages: Vec<HistoryItem>,
}

impl From<twilio_core::History> for HistoryResult {
  fn from(history: twilio_core::History) -> Self {
    Self {
      success: true,
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
          date_created: date(m.date_created),
          delivery: m.delivery.map(own_data),
        })
        .collect(),
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct ReceiptInfo {
  pub sid: String,
  /// Twilio's `conversation_message_receipt_enum_delivery_status`.
  #[napi(ts_type = "'read' | 'failed' | 'delivered' | 'undelivered' | 'sent'")]
  pub status: Option<String>,
  pub error_code: Option<u32>,
  pub participant_sid: Option<String>,
  pub date_updated: Option<DateTime<Utc>>,
}

#[napi(object, use_nullable = true)]
pub struct DeliveryResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  pub message_sid: String,
  pub delivery: Option<serde_json::Value>,
  pub receipts: Vec<ReceiptInfo>,
}

impl From<twilio_core::DeliveryStatus> for DeliveryResult {
  fn from(status: twilio_core::DeliveryStatus) -> Self {
    Self {
      success: true,
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
          date_updated: date(r.date_updated),
        })
        .collect(),
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct WindowResult {
  pub success: bool,
  pub conversation_sid: Option<String>,
  pub open: bool,
  pub last_inbound_at: Option<DateTime<Utc>>,
  pub closes_at: Option<DateTime<Utc>>,
}

impl From<twilio_core::Window> for WindowResult {
  fn from(window: twilio_core::Window) -> Self {
    Self {
      success: true,
      conversation_sid: window.conversation_sid,
      open: window.open,
      last_inbound_at: date(window.last_inbound_at),
      closes_at: date(window.closes_at),
    }
  }
}

#[napi(object, use_nullable = true)]
pub struct WebhookConfigResult {
  pub success: bool,
  pub post_webhook_url: Option<String>,
  pub pre_webhook_url: Option<String>,
  pub filters: Vec<String>,
  pub method: String,
}

impl From<twilio_core::WebhookConfiguration> for WebhookConfigResult {
  fn from(config: twilio_core::WebhookConfiguration) -> Self {
    Self {
      success: true,
      post_webhook_url: config.post_webhook_url,
      pre_webhook_url: config.pre_webhook_url,
      filters: config.filters,
      method: config.method,
    }
  }
}
