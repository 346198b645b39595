//! Twilio's documented limits, on by default at Twilio's values, each tunable or switched off (`null`) through
//! the control API and `twilio-sandbox` flags: participants, identities, attribute sizes, writes per second,
//! and how long a conversation made by ConversationWithParticipants stays `initializing`.
//!
//! Codes Twilio does not document for a limit are the sandbox's best guess, named here once:
//! 50214 (HTTP 403) for an identity in too many conversations (Programmable Chat's "User conversation limit
//! exceeded"), 20001 for attributes over their size, 50399 (HTTP 409) for a write to an initializing
//! conversation.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// The conversations one chat identity may be in, counting active and inactive ones (closed ones free it).
pub const CONVERSATIONS_PER_IDENTITY: usize = 1000;
pub const PARTICIPANTS_PER_CONVERSATION: usize = 1000;
pub const NON_CHAT_PARTICIPANTS: usize = 50;
/// ConversationWithParticipants' most participants in one request.
pub const PARTICIPANTS_PER_REQUEST: usize = 10;
/// Actions per second, per conversation (its updates, participants, messages) and per service (conversation
/// creation and deletion). Reads are never limited.
pub const WRITES_PER_SECOND: usize = 30;
pub const CONVERSATION_ATTRIBUTES_BYTES: usize = 16 * 1024;
pub const MESSAGE_ATTRIBUTES_BYTES: usize = 4 * 1024;
pub const PARTICIPANT_ATTRIBUTES_BYTES: usize = 4 * 1024;
pub const IDENTITY_LIMIT_CODE: u32 = 50214;
pub const INITIALIZING_CODE: u32 = 50399;

/// The limits in force. `None` switches one off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
  pub conversations_per_identity: Option<usize>,
  pub participants_per_conversation: Option<usize>,
  pub non_chat_participants: Option<usize>,
  pub participants_per_request: Option<usize>,
  pub writes_per_second: Option<usize>,
  pub conversation_attributes_bytes: Option<usize>,
  pub message_attributes_bytes: Option<usize>,
  pub participant_attributes_bytes: Option<usize>,
  /// How long a conversation made by ConversationWithParticipants is `initializing` (answered 202); off by
  /// default, since Twilio does it only sometimes.
  pub initializing_ms: Option<u64>,
}

impl Default for Limits {
  fn default() -> Self {
    Self {
      conversations_per_identity: Some(CONVERSATIONS_PER_IDENTITY),
      participants_per_conversation: Some(PARTICIPANTS_PER_CONVERSATION),
      non_chat_participants: Some(NON_CHAT_PARTICIPANTS),
      participants_per_request: Some(PARTICIPANTS_PER_REQUEST),
      writes_per_second: Some(WRITES_PER_SECOND),
      conversation_attributes_bytes: Some(CONVERSATION_ATTRIBUTES_BYTES),
      message_attributes_bytes: Some(MESSAGE_ATTRIBUTES_BYTES),
      participant_attributes_bytes: Some(PARTICIPANT_ATTRIBUTES_BYTES),
      initializing_ms: None,
    }
  }
}

impl Limits {
  /// Every limit switched off (for measuring the sandbox's own ceiling).
  pub fn none() -> Self {
    Self {
      conversations_per_identity: None,
      participants_per_conversation: None,
      non_chat_participants: None,
      participants_per_request: None,
      writes_per_second: None,
      conversation_attributes_bytes: None,
      message_attributes_bytes: None,
      participant_attributes_bytes: None,
      initializing_ms: None,
    }
  }

  /// These limits with the keys of `patch` changed (a number sets one, `null` switches it off).
  pub fn patched(&self, patch: &Value) -> Result<Self, String> {
    let Value::Object(changes) = patch else {
      return Err("limits are a JSON object".to_string());
    };
    let mut merged = serde_json::to_value(self).map_err(|e| e.to_string())?;
    for (key, value) in changes {
      merged[key] = value.clone();
    }
    serde_json::from_value(merged).map_err(|e| format!("invalid limits: {e}"))
  }

  pub fn to_json(&self) -> Value {
    serde_json::to_value(self).unwrap_or(Value::Null)
  }
}

/// Attributes: valid JSON, and no larger than the limit for that resource.
pub fn check_attributes(attributes: Option<&str>, limit: Option<usize>, resource: &str) -> ApiResult<()> {
  let Some(text) = attributes else { return Ok(()) };
  if serde_json::from_str::<Value>(text).is_err() {
    return Err(ApiError::bad_request(
      20001,
      "Attributes must contain structurally valid JSON",
    ));
  }
  match limit {
    Some(max) if text.len() > max => Err(ApiError::bad_request(
      20001,
      format!("{resource} Attributes are limited to {}KB", max / 1024),
    )),
    _ => Ok(()),
  }
}

/// What one write is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
  Service,
  Conversation(String),
}

/// Sliding one-second windows of admitted writes, one per key, kept only while they hold a recent write.
#[derive(Debug, Default)]
pub struct Rates {
  windows: HashMap<RateKey, VecDeque<DateTime<Utc>>>,
  refused: u64,
  swept_at: usize,
}

const WINDOW: Duration = Duration::seconds(1);

impl Rates {
  /// Admits one write at `now`, or refuses it with 429 / 20429 when `limit` writes were admitted in the last
  /// second. A refused write is not counted: Twilio does not process it.
  pub fn admit(&mut self, key: RateKey, now: DateTime<Utc>, limit: Option<usize>) -> ApiResult<()> {
    let Some(limit) = limit else { return Ok(()) };
    self.sweep(now);
    let window = self.windows.entry(key).or_default();
    while window.front().is_some_and(|t| *t <= now - WINDOW) {
      window.pop_front();
    }
    if window.len() >= limit {
      self.refused += 1;
      return Err(ApiError::new(429, 20429, "Too Many Requests"));
    }
    window.push_back(now);
    Ok(())
  }

  /// How many writes were refused since the last reset.
  pub fn refused(&self) -> u64 {
    self.refused
  }

  pub fn reset(&mut self) {
    self.windows.clear();
    self.refused = 0;
    self.swept_at = 0;
  }

  /// Drops windows with no write in the last second, once the map has doubled since the last sweep.
  fn sweep(&mut self, now: DateTime<Utc>) {
    if self.windows.len() < 1024.max(self.swept_at * 2) {
      return;
    }
    self
      .windows
      .retain(|_, window| window.back().is_some_and(|t| *t > now - WINDOW));
    self.swept_at = self.windows.len();
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_window_admits_the_limit_per_second_then_refuses_until_a_second_has_passed() {
    let mut rates = Rates::default();
    let start = Utc::now();
    let key = || RateKey::Conversation("CH1".into());
    for i in 0..30 {
      rates.admit(key(), start + Duration::milliseconds(i), Some(30)).unwrap();
    }
    let refused = rates
      .admit(key(), start + Duration::milliseconds(999), Some(30))
      .unwrap_err();
    assert_eq!((refused.status.as_u16(), refused.code), (429, 20429));
    assert!(
      rates.admit(RateKey::Service, start, Some(30)).is_ok(),
      "keys are separate"
    );
    assert!(rates
      .admit(key(), start + Duration::milliseconds(1000), Some(30))
      .is_ok());
    assert_eq!(rates.refused(), 1);
  }

  #[test]
  fn limits_are_patched_key_by_key_and_null_switches_one_off() {
    let limits = Limits::default()
      .patched(&serde_json::json!({ "writes_per_second": null, "conversations_per_identity": 5 }))
      .unwrap();
    assert_eq!(limits.writes_per_second, None);
    assert_eq!(limits.conversations_per_identity, Some(5));
    assert_eq!(limits.non_chat_participants, Some(NON_CHAT_PARTICIPANTS));
    assert!(Limits::default().patched(&serde_json::json!({ "nope": 1 })).is_err());
  }
}
