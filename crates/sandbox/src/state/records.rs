//! The records the state keeps, and nothing else: a conversation holds its participants, messages and scoped
//! webhooks, a message its receipts. The rules that change them live beside them, one module per resource.

use chrono::{DateTime, Duration, Utc};

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvState {
  /// Only briefly, after ConversationWithParticipants: it can be read but not written.
  Initializing,
  Active,
  Inactive,
  Closed,
}

impl ConvState {
  /// A state a request may set (`initializing` is Twilio's alone).
  pub fn parse(value: &str) -> ApiResult<Self> {
    match value {
      "active" => Ok(Self::Active),
      "inactive" => Ok(Self::Inactive),
      "closed" => Ok(Self::Closed),
      other => Err(ApiError::bad_request(20001, format!("Invalid State: {other}"))),
    }
  }

  pub fn as_str(self) -> &'static str {
    match self {
      Self::Initializing => "initializing",
      Self::Active => "active",
      Self::Inactive => "inactive",
      Self::Closed => "closed",
    }
  }
}

/// `Timers.Inactive` and `Timers.Closed`, and when each next fires. Both restart with every message.
#[derive(Debug, Clone, Default)]
pub struct Timers {
  pub inactive: Option<Duration>,
  pub closed: Option<Duration>,
  pub date_inactive: Option<DateTime<Utc>>,
  pub date_closed: Option<DateTime<Utc>>,
}

impl Timers {
  pub fn is_set(&self) -> bool {
    self.date_inactive.is_some() || self.date_closed.is_some()
  }
}

#[derive(Debug, Clone)]
pub struct Conversation {
  pub sid: String,
  pub unique_name: Option<String>,
  pub friendly_name: Option<String>,
  pub attributes: String,
  pub state: ConvState,
  pub timers: Timers,
  /// When an `initializing` conversation becomes `active`.
  pub ready_at: Option<DateTime<Utc>>,
  pub date_created: DateTime<Utc>,
  pub date_updated: DateTime<Utc>,
  pub participants: Vec<Participant>,
  pub messages: Vec<Message>,
  pub webhooks: Vec<ScopedWebhook>,
  pub(super) next_index: u64,
}

impl Conversation {
  pub fn is_open(&self) -> bool {
    self.state != ConvState::Closed
  }

  /// The conversation without its messages and webhooks, as an event carries it.
  pub fn summary(&self) -> Self {
    Self {
      sid: self.sid.clone(),
      unique_name: self.unique_name.clone(),
      friendly_name: self.friendly_name.clone(),
      attributes: self.attributes.clone(),
      state: self.state,
      timers: self.timers.clone(),
      ready_at: self.ready_at,
      date_created: self.date_created,
      date_updated: self.date_updated,
      participants: self.participants.clone(),
      messages: Vec::new(),
      webhooks: Vec::new(),
      next_index: self.next_index,
    }
  }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Binding {
  pub address: String,
  pub proxy_address: String,
}

impl Binding {
  pub fn channel(&self) -> &'static str {
    if self.address.starts_with("whatsapp:") {
      "whatsapp"
    } else {
      "sms"
    }
  }
}

#[derive(Debug, Clone)]
pub struct Participant {
  pub sid: String,
  pub identity: Option<String>,
  pub binding: Option<Binding>,
  pub attributes: String,
  pub role_sid: Option<String>,
  pub date_created: DateTime<Utc>,
  /// When the customer last wrote: their WhatsApp window runs 24 hours from it.
  pub last_inbound: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct MediaRef {
  pub sid: String,
  pub size: usize,
  pub content_type: String,
  pub filename: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Message {
  pub sid: String,
  pub index: u64,
  pub author: String,
  pub body: Option<String>,
  pub attributes: String,
  pub media: Option<Vec<MediaRef>>,
  pub participant_sid: Option<String>,
  pub content_sid: Option<String>,
  pub date_created: DateTime<Utc>,
  pub receipts: Vec<Receipt>,
}

#[derive(Debug, Clone)]
pub struct Receipt {
  pub sid: String,
  pub participant_sid: String,
  pub channel_message_sid: String,
  /// `None` while the message is still within Twilio.
  pub status: Option<String>,
  pub error_code: Option<u32>,
  pub date_created: DateTime<Utc>,
  pub date_updated: DateTime<Utc>,
  /// The statuses (and errors) it is still to take, and when.
  pub(super) steps: Vec<(DateTime<Utc>, &'static str, Option<u32>)>,
}

#[derive(Debug, Clone)]
pub struct ScopedWebhook {
  pub sid: String,
  /// `webhook`, `trigger` or `studio`.
  pub target: String,
  pub url: Option<String>,
  /// Lower case, as Twilio takes it here: `get` or `post`.
  pub method: String,
  pub filters: Vec<String>,
  pub triggers: Vec<String>,
  pub flow_sid: Option<String>,
  pub date_created: DateTime<Utc>,
  pub date_updated: DateTime<Utc>,
}
