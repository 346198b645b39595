//! Twilio's answers as typed records: one `Deserialize` record per resource, with Twilio's defaults in one
//! place, and the one pattern of a SID.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::{Error, Result};

/// Two uppercase letters naming the resource, then 32 hexadecimal digits: `CH0123…`, `HX0123…`.
pub fn is_sid(text: &str, prefix: &str) -> bool {
  text.len() == 34 && text.starts_with(prefix) && text.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
}

/// The first SID of that kind inside a text, as Twilio names a conversation in a 50416 message.
pub fn sid_in(text: &str, prefix: &str) -> Option<String> {
  text
    .match_indices(prefix)
    .filter_map(|(at, _)| text.get(at..at + 34))
    .find(|candidate| is_sid(candidate, prefix))
    .map(str::to_string)
}

/// A JSON answer of Twilio's, kept as the text Twilio sent, and the status it came with, so that a record read
/// from it names the real status when it does not fit. The text is what the caller's `data` is presented from, in
/// JS and only when read: no tree of it is built here.
#[derive(Debug, Clone)]
pub struct Answer {
  pub status: u16,
  pub json: String,
}

impl Answer {
  /// The typed record of this answer, or a decode error with serde's reason and the answer's status.
  pub fn record<'a, T: Deserialize<'a>>(&'a self) -> Result<T> {
    serde_json::from_str(&self.json).map_err(|e| Error::decode(self.status, &self.json, &e))
  }
}

fn active() -> String {
  "active".to_string()
}

/// Twilio sends `null` for some fields it also leaves out: both read as the default.
fn or_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
  deserializer: D,
) -> std::result::Result<T, D::Error> {
  Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A Content template as `GET /v1/Content/{Sid}` answers it: its name, sample values and types.
#[derive(Debug, Clone, Deserialize)]
pub struct ContentRecord {
  #[serde(default, deserialize_with = "or_default")]
  pub friendly_name: String,
  /// The sample (and default) value of each variable.
  #[serde(default, deserialize_with = "or_default")]
  pub variables: serde_json::Map<String, Value>,
  #[serde(default, deserialize_with = "or_default")]
  pub types: serde_json::Map<String, Value>,
}

/// A template's WhatsApp approval as `GET /v1/Content/{Sid}/ApprovalRequests` answers it: under `whatsapp`, or
/// (as the description's list example has it) directly.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApprovalRecord {
  #[serde(default)]
  pub whatsapp: Option<ApprovalFields>,
  #[serde(flatten)]
  pub direct: ApprovalFields,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApprovalFields {
  #[serde(default)]
  pub status: Option<String>,
  #[serde(default)]
  pub rejection_reason: Option<String>,
}

impl ApprovalRecord {
  /// The WhatsApp fields, wherever Twilio put them.
  pub fn fields(self) -> ApprovalFields {
    match self.whatsapp {
      Some(whatsapp) if whatsapp.status.is_some() => whatsapp,
      _ => self.direct,
    }
  }
}

/// The fields of a Conversation the client needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConversationInfo {
  pub sid: String,
  #[serde(default, deserialize_with = "or_default")]
  pub chat_service_sid: String,
  #[serde(default)]
  pub unique_name: Option<String>,
  #[serde(default = "active")]
  pub state: String,
}

impl ConversationInfo {
  pub fn is_closed(&self) -> bool {
    self.state == "closed"
  }

  /// Twilio is still adding the participants of a ConversationWithParticipants: it cannot be written yet.
  pub fn is_initializing(&self) -> bool {
    self.state == "initializing"
  }
}

/// One record of ParticipantConversations: a conversation seen through one of its participants.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ParticipantConversationRecord")]
pub struct ParticipantConversation {
  pub conversation: ConversationInfo,
  pub proxy_address: Option<String>,
}

#[derive(Deserialize)]
struct ParticipantConversationRecord {
  conversation_sid: String,
  #[serde(default, deserialize_with = "or_default")]
  chat_service_sid: String,
  #[serde(default)]
  conversation_unique_name: Option<String>,
  #[serde(default = "active")]
  conversation_state: String,
  #[serde(default)]
  participant_messaging_binding: Option<BindingRecord>,
}

#[derive(Deserialize)]
struct BindingRecord {
  #[serde(default)]
  proxy_address: Option<String>,
}

impl From<ParticipantConversationRecord> for ParticipantConversation {
  fn from(record: ParticipantConversationRecord) -> Self {
    Self {
      conversation: ConversationInfo {
        sid: record.conversation_sid,
        chat_service_sid: record.chat_service_sid,
        unique_name: record.conversation_unique_name,
        state: record.conversation_state,
      },
      proxy_address: record.participant_messaging_binding.and_then(|b| b.proxy_address),
    }
  }
}

/// A Conversation as the status and metadata calls read it.
#[derive(Debug, Clone, Deserialize)]
pub struct ConversationRecord {
  pub sid: String,
  #[serde(default)]
  pub unique_name: Option<String>,
  #[serde(default)]
  pub friendly_name: Option<String>,
  /// JSON text; `{}` when unset.
  #[serde(default = "empty_object", deserialize_with = "or_empty_object")]
  pub attributes: String,
  #[serde(default = "active")]
  pub state: String,
  #[serde(default)]
  pub date_created: Option<String>,
  #[serde(default)]
  pub date_updated: Option<String>,
  #[serde(default, deserialize_with = "or_default")]
  pub timers: TimersRecord,
}

/// `timers`: `{}` without timers.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TimersRecord {
  #[serde(default)]
  pub date_inactive: Option<String>,
  #[serde(default)]
  pub date_closed: Option<String>,
}

/// A Participant of a conversation.
#[derive(Debug, Clone, Deserialize)]
pub struct ParticipantRecord {
  pub sid: String,
  #[serde(default)]
  pub identity: Option<String>,
  #[serde(default)]
  pub messaging_binding: Option<MessagingBinding>,
  #[serde(default = "empty_object", deserialize_with = "or_empty_object")]
  pub attributes: String,
  #[serde(default)]
  pub date_created: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MessagingBinding {
  #[serde(default)]
  pub address: Option<String>,
  #[serde(default)]
  pub proxy_address: Option<String>,
}

/// A Message of a conversation, as the history reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageResource {
  pub sid: String,
  #[serde(default)]
  pub index: u64,
  #[serde(default)]
  pub author: Option<String>,
  #[serde(default)]
  pub body: Option<String>,
  #[serde(default)]
  pub content_sid: Option<String>,
  #[serde(default)]
  pub media: Option<Vec<MediaItem>>,
  #[serde(default = "empty_object", deserialize_with = "or_empty_object")]
  pub attributes: String,
  #[serde(default)]
  pub participant_sid: Option<String>,
  #[serde(default)]
  pub date_created: Option<String>,
  #[serde(default)]
  pub delivery: Option<Value>,
}

/// One media item of a message.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaItem {
  pub sid: String,
  #[serde(default)]
  pub size: u64,
  #[serde(default)]
  pub content_type: Option<String>,
  #[serde(default)]
  pub filename: Option<String>,
}

fn empty_object() -> String {
  "{}".to_string()
}

/// Attributes Twilio sent as `null`: `{}`, as Twilio returns them when unset.
fn or_empty_object<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<String, D::Error> {
  Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_else(empty_object))
}

/// A receipt's error code: 0 (Twilio's default) and null are no error.
fn error_code<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<u32>, D::Error> {
  Ok(Option::<u32>::deserialize(deserializer)?.filter(|code| *code != 0))
}

/// What a send reads of a Message (Conversations) or Message (Programmable Messaging) resource.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageRecord {
  pub sid: String,
  #[serde(default)]
  pub conversation_sid: Option<String>,
  #[serde(default)]
  pub body: Option<String>,
}

/// What an upload reads of a Media resource.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaRecord {
  pub sid: String,
}

/// What the client reads of the account's Conversations configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct Configuration {
  pub default_chat_service_sid: String,
}

/// What a keyed send reads of each message of a conversation's history.
#[derive(Debug, Clone, Deserialize)]
pub struct ListedMessage {
  #[serde(default)]
  pub sid: String,
  #[serde(default)]
  pub author: Option<String>,
  #[serde(default)]
  pub attributes: Option<String>,
}

/// One page of a list: its records under `meta.key`, and where the next page is.
#[derive(Debug)]
pub struct Page<R> {
  pub meta: PageMeta,
  pub lists: std::collections::HashMap<String, Vec<R>>,
}

/// Read field by field, not through `serde(flatten)`, which would buffer every record generically first: a keyed
/// send reads up to 1,000 messages of a conversation's history.
impl<'de, R: Deserialize<'de>> Deserialize<'de> for Page<R> {
  fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
    struct Fields<R>(std::marker::PhantomData<R>);
    impl<'de, R: Deserialize<'de>> serde::de::Visitor<'de> for Fields<R> {
      type Value = Page<R>;
      fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a page of a Twilio list")
      }
      fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Page<R>, A::Error> {
        let mut meta = None;
        let mut lists = std::collections::HashMap::new();
        while let Some(name) = map.next_key::<String>()? {
          if name == "meta" {
            meta = Some(map.next_value()?);
          } else {
            lists.insert(name, map.next_value()?);
          }
        }
        let meta = meta.ok_or_else(|| serde::de::Error::missing_field("meta"))?;
        Ok(Page { meta, lists })
      }
    }
    deserializer.deserialize_map(Fields(std::marker::PhantomData))
  }
}

#[derive(Debug, Deserialize)]
pub struct PageMeta {
  #[serde(default)]
  pub key: Option<String>,
  #[serde(default)]
  pub next_page_url: Option<String>,
}

impl<R> Page<R> {
  /// The page's records (under `meta.key`, else `default_key`).
  pub fn take_records(&mut self, default_key: &str) -> Vec<R> {
    let key = self.meta.key.as_deref().unwrap_or(default_key);
    self.lists.remove(key).unwrap_or_default()
  }
}

#[cfg(test)]
mod tests {
  use serde_json::json;

  use super::*;

  #[test]
  fn sids_have_one_pattern() {
    assert!(is_sid("CH0123456789abcdef0123456789ABCDEF", "CH"));
    assert!(!is_sid("CH0123456789abcdef0123456789abcde", "CH"));
    assert!(!is_sid("HX0123456789abcdef0123456789abcdef", "CH"));
    assert!(!is_sid("CH0123456789abcdef0123456789abcdeg", "CH"));
    assert!(!is_sid("CHé123456789abcdef0123456789abcdef", "CH"));
    assert_eq!(
      sid_in(
        "… already exists in Conversation CHc31ceaf4b2d444a898530b3e44934ffe",
        "CH"
      )
      .as_deref(),
      Some("CHc31ceaf4b2d444a898530b3e44934ffe")
    );
    assert_eq!(sid_in("in Conversation CHnot-a-sid", "CH"), None);
  }

  #[test]
  fn a_conversation_reads_twilios_defaults_for_missing_or_null_fields() {
    let answer = Answer {
      status: 201,
      json: json!({ "sid": "CH1", "chat_service_sid": null }).to_string(),
    };
    let conversation: ConversationInfo = answer.record().unwrap();
    assert_eq!(conversation.state, "active");
    assert_eq!(conversation.chat_service_sid, "");
    assert_eq!(conversation.unique_name, None);
  }

  #[test]
  fn a_record_that_does_not_fit_is_a_decode_error_with_the_real_status_and_serdes_reason() {
    let answer = Answer {
      status: 201,
      json: json!({ "account_sid": "AC1" }).to_string(),
    };
    let error = answer.record::<MessageRecord>().unwrap_err();
    let Error::Decode { status, reason, .. } = &error else {
      panic!("{error:?}")
    };
    assert_eq!(*status, 201);
    assert!(reason.contains("missing field `sid`"), "{reason}");
  }

  #[test]
  fn a_participant_conversation_record_reads_the_conversation_and_the_proxy() {
    let record: ParticipantConversation = serde_json::from_value(json!({
      "conversation_sid": "CH1",
      "conversation_unique_name": "whatsapp_1",
      "conversation_state": "closed",
      "participant_messaging_binding": { "address": "whatsapp:+1", "proxy_address": "whatsapp:+2" },
    }))
    .unwrap();
    assert!(record.conversation.is_closed());
    assert_eq!(record.proxy_address.as_deref(), Some("whatsapp:+2"));
  }
}

/// A delivery receipt: the latest status of a message for one non-chat recipient.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceiptRecord {
  pub sid: String,
  #[serde(default)]
  pub status: Option<String>,
  /// Twilio's spec has an integer, 0 when there is no error: none here.
  #[serde(default, deserialize_with = "error_code")]
  pub error_code: Option<u32>,
  #[serde(default)]
  pub participant_sid: Option<String>,
  #[serde(default)]
  pub channel_message_sid: Option<String>,
  #[serde(default)]
  pub date_created: Option<String>,
  #[serde(default)]
  pub date_updated: Option<String>,
}
