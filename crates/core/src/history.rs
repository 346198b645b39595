//! What was said: the messages of the customer's conversation, newest or oldest first, following Twilio's pages
//! up to a limit. A read: it never creates a conversation.

use serde_json::Value;

use crate::conversation::{attributes_of, Conversations};
use crate::endpoints::Api;
use crate::error::Result;
use crate::records::{MediaItem, MessageResource};

#[derive(Debug, Clone)]
pub struct HistoryMessage {
  pub sid: String,
  pub index: u64,
  pub author: Option<String>,
  pub body: Option<String>,
  pub content_sid: Option<String>,
  pub media: Option<Vec<MediaItem>>,
  pub attributes: Value,
  pub participant_sid: Option<String>,
  pub date_created: Option<String>,
  pub delivery: Option<Value>,
}

impl From<MessageResource> for HistoryMessage {
  fn from(message: MessageResource) -> Self {
    Self {
      sid: message.sid,
      index: message.index,
      author: message.author,
      body: message.body,
      content_sid: message.content_sid,
      media: message.media,
      attributes: Value::Object(attributes_of(&message.attributes)),
      participant_sid: message.participant_sid,
      date_created: message.date_created,
      delivery: message.delivery,
    }
  }
}

#[derive(Debug, Clone, Default)]
pub struct History {
  pub conversation_sid: Option<String>,
  pub messages: Vec<HistoryMessage>,
}

/// Up to `limit` (1 to 1,000) messages in `order` (`asc` or `desc`).
pub async fn messages(
  api: &Api,
  conversations: &Conversations,
  phone: &str,
  limit: f64,
  order: &str,
) -> Result<History> {
  conversations.customer(phone)?;
  let limit = crate::input::limit(limit)?;
  let order = crate::input::order(order)?;
  let Some(conversation) = conversations.existing(phone).await? else {
    return Ok(History::default());
  };
  let messages = api.messages(&conversation.sid, order, limit).await?;
  Ok(History {
    conversation_sid: Some(conversation.sid),
    messages: messages.into_iter().map(HistoryMessage::from).collect(),
  })
}
