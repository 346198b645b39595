//! Delivery receipts: what became of a message on the customer's channel. Twilio keeps one receipt per message
//! per non-chat recipient, holding its latest status, and a `delivery` summary on the message.

use serde_json::Value;

use crate::conversation::Conversations;
use crate::endpoints::Api;
use crate::error::{Error, Result};
use crate::records::{is_sid, ReceiptRecord};

#[derive(Debug, Clone, Default)]
pub struct DeliveryStatus {
  pub conversation_sid: Option<String>,
  pub message_sid: String,
  /// Twilio's summary: `{total, sent, delivered, read, failed, undelivered}`, or `None` without non-chat
  /// recipients.
  pub delivery: Option<Value>,
  pub receipts: Vec<ReceiptRecord>,
}

/// The message's delivery summary and receipts, read from the customer's conversation (never created).
pub async fn delivery_status(
  api: &Api,
  conversations: &Conversations,
  phone: &str,
  message_sid: &str,
) -> Result<DeliveryStatus> {
  conversations.customer(phone)?;
  if !is_sid(message_sid, "IM") {
    return Err(Error::invalid(
      "INVALID_MESSAGE_SID",
      "messageSid must be a conversation message SID: IM followed by 32 hex digits",
    ));
  }
  let Some(conversation) = conversations.existing(phone).await? else {
    return Err(Error::invalid(
      "CONVERSATION_NOT_FOUND",
      "The customer has no conversation: there is no message to report on",
    ));
  };
  let (message, receipts) = futures::try_join!(
    api.message(&conversation.sid, message_sid),
    api.receipts(&conversation.sid, message_sid)
  )?;
  Ok(DeliveryStatus {
    conversation_sid: Some(conversation.sid),
    message_sid: message_sid.to_string(),
    delivery: message.get("delivery").cloned().filter(|d| !d.is_null()),
    receipts,
  })
}
