//! Webhook payloads as Twilio sends them: form parameters, PascalCase names, nested values flattened with dots,
//! `Attributes` and `Media` as JSON text, ISO-8601 dates; every request carries `AccountSid`, `EventType` and
//! `Source`. The fields are those of Twilio's tables for each event.

use serde_json::json;

use crate::render::iso;
use crate::state::records::Conversation;
use crate::state::{Account, Event, Message, Participant, Source};

/// Form parameters, in the order they were added; values that are absent are left out.
#[derive(Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
  fn put(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
    self.0.push((name.to_string(), value.into()));
    self
  }

  fn maybe(&mut self, name: &str, value: Option<impl Into<String>>) -> &mut Self {
    if let Some(value) = value {
      self.put(name, value);
    }
    self
  }
}

fn common(account: &Account, event_type: &str, source: Source) -> Form {
  let mut form = Form::default();
  form
    .put("AccountSid", account.account_sid.as_str())
    .put("EventType", event_type)
    .put("Source", source.as_str())
    .put("RetryCount", "0");
  form
}

fn conversation_fields(form: &mut Form, account: &Account, c: &Conversation) {
  form
    .put("ConversationSid", c.sid.as_str())
    .put("ChatServiceSid", account.chat_service_sid.as_str())
    .put("MessagingServiceSid", account.messaging_service_sid.as_str())
    .put("DateCreated", iso(c.date_created))
    .put("DateUpdated", iso(c.date_updated))
    .maybe("FriendlyName", c.friendly_name.as_deref())
    .maybe("UniqueName", c.unique_name.as_deref())
    .put("Attributes", c.attributes.as_str())
    .put("State", c.state.as_str());
}

fn participant_fields(form: &mut Form, conversation_sid: &str, p: &Participant) {
  form
    .put("ConversationSid", conversation_sid)
    .put("ParticipantSid", p.sid.as_str())
    .put("DateCreated", iso(p.date_created))
    .maybe("Identity", p.identity.as_deref())
    .maybe("RoleSid", p.role_sid.as_deref())
    .put("Attributes", p.attributes.as_str());
  if let Some(binding) = &p.binding {
    form
      .put("MessagingBinding.Address", binding.address.as_str())
      .put("MessagingBinding.ProxyAddress", binding.proxy_address.as_str())
      .put("MessagingBinding.Type", binding.channel().to_uppercase());
  } else {
    form.put("MessagingBinding.Type", "CHAT");
  }
}

fn message_fields(form: &mut Form, account: &Account, conversation_sid: &str, m: &Message) {
  form
    .put("ConversationSid", conversation_sid)
    .put("MessagingServiceSid", account.messaging_service_sid.as_str())
    .put("MessageSid", m.sid.as_str())
    .put("Index", m.index.to_string())
    .put("DateCreated", iso(m.date_created))
    .maybe("Body", m.body.as_deref())
    .put("Author", m.author.as_str())
    .maybe("ParticipantSid", m.participant_sid.as_deref())
    .put("Attributes", m.attributes.as_str());
  if let Some(media) = &m.media {
    let items: Vec<_> = media
      .iter()
      .map(|r| json!({ "Sid": r.sid, "Filename": r.filename, "ContentType": r.content_type, "Size": r.size }))
      .collect();
    form.put("Media", serde_json::Value::Array(items).to_string());
  }
}

/// The payload of a post-action event.
pub fn post_event(account: &Account, event: &Event, source: Source) -> Form {
  let mut form = common(account, event.event_type(), source);
  match event {
    Event::ConversationAdded(c) | Event::ConversationUpdated(c) | Event::ConversationRemoved(c) => {
      conversation_fields(&mut form, account, c);
      if matches!(event, Event::ConversationRemoved(_)) {
        form.put("DateRemoved", iso(c.date_updated));
      }
    }
    Event::ConversationStateUpdated {
      conversation,
      from,
      reason,
    } => {
      form
        .put("ConversationSid", conversation.sid.as_str())
        .put("ChatServiceSid", account.chat_service_sid.as_str())
        .put("MessagingServiceSid", account.messaging_service_sid.as_str())
        .put("StateUpdated", iso(conversation.date_updated))
        .put("StateFrom", from.as_str())
        .put("StateTo", conversation.state.as_str())
        .put("Reason", *reason);
    }
    Event::ParticipantAdded(sid, p) => participant_fields(&mut form, sid, p),
    Event::ParticipantRemoved(sid, p) => {
      participant_fields(&mut form, sid, p);
      form.put("DateRemoved", iso(p.date_created));
    }
    Event::MessageAdded(sid, m) => message_fields(&mut form, account, sid, m),
    Event::DeliveryUpdated(conversation_sid, message_sid, r) => {
      form
        .put("ConversationSid", conversation_sid.as_str())
        .put("ChatServiceSid", account.chat_service_sid.as_str())
        .put("MessageSid", message_sid.as_str())
        .put("DeliveryReceiptSid", r.sid.as_str())
        .put("ChannelMessageSid", r.channel_message_sid.as_str())
        .put("ParticipantSid", r.participant_sid.as_str())
        .maybe("Status", r.status.as_deref())
        .maybe("ErrorCode", r.error_code.map(|code| code.to_string()))
        .put("DateCreated", iso(r.date_created))
        .put("DateUpdated", iso(r.date_updated));
    }
  }
  form
}

/// What an `onMessageAdd` says of the message about to be added.
pub struct MessageAdd<'m> {
  pub source: Source,
  pub conversation_sid: &'m str,
  pub author: &'m str,
  pub participant_sid: Option<&'m str>,
  pub body: Option<&'m str>,
  pub attributes: &'m str,
}

/// The payload of `onMessageAdd`, the pre-action event of a message (a customer's, or a REST write that asked
/// for webhooks): no SID or index yet.
pub fn message_add(account: &Account, message: &MessageAdd<'_>) -> Form {
  let mut form = common(account, "onMessageAdd", message.source);
  form
    .put("ConversationSid", message.conversation_sid)
    .maybe("Body", message.body)
    .put("Author", message.author)
    .maybe("ParticipantSid", message.participant_sid)
    .put("Attributes", message.attributes);
  form
}
