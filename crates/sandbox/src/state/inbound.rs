//! What customers send: a message from a channel address to a Twilio address lands in the one open conversation
//! that binds that pair, authored by the customer's address and participant. It wakes an inactive conversation,
//! opens the customer's 24-hour WhatsApp window, and fires webhooks as a customer's action does.
//!
//! A customer who writes first (no conversation binds the pair yet) gets a new conversation when the Twilio address
//! has an Address Configuration with auto-creation on, as Twilio does; the sandbox's WhatsApp sender has one from
//! the start, as a console set-up of Conversations makes it. Without one Twilio hands the message to Programmable
//! Messaging, which the sandbox does not emulate: it answers 404.

use super::conversations::ConversationInput;
use super::messages::MessageInput;
use super::outbox::Source;
use super::participants::ParticipantInput;
use super::records::Binding;
use super::records::{MediaRef, Message};
use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::new_sid;

/// A customer's message, as the control API takes it.
#[derive(Debug, Clone)]
pub struct Inbound {
  pub from: String,
  pub to: String,
  pub body: Option<String>,
  pub media_url: Option<String>,
}

/// What a pre-action webhook changed: each field present replaces the message's.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Changes {
  pub body: Option<String>,
  pub author: Option<String>,
  /// JSON text, as Twilio takes it.
  pub attributes: Option<String>,
}

/// Twilio's sender in its WhatsApp sandbox, and this client's default `whatsappNumber`.
pub const DEFAULT_SENDER: &str = "whatsapp:+14155238886";

/// An Address Configuration (`/v1/Configuration/Addresses`): a Twilio address whose inbound messages start
/// conversations.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AddressConfiguration {
  pub sid: String,
  /// `whatsapp`, `sms`, …
  #[serde(rename = "type")]
  pub kind: String,
  /// As the channel writes it (`whatsapp:+14155238886`).
  pub address: String,
  pub friendly_name: Option<String>,
  pub auto_creation: bool,
}

impl AddressConfiguration {
  pub fn auto_creating(address: &str) -> Self {
    Self {
      sid: new_sid("IG"),
      kind: address
        .split_once(':')
        .map_or("sms", |(channel, _)| channel)
        .to_string(),
      address: address.to_string(),
      friendly_name: None,
      auto_creation: true,
    }
  }
}

impl State {
  /// The conversation a customer's message lands in: the one binding the pair, or one auto-created for it.
  pub fn inbound_conversation(&mut self, from: &str, to: &str) -> ApiResult<(String, String)> {
    match self.binding_holder(from, to) {
      Err(missing) if missing.code == 20404 => {
        let auto = self
          .address_configurations
          .iter()
          .any(|configuration| configuration.auto_creation && configuration.address == to);
        if !auto {
          return Err(missing);
        }
        let customer = ParticipantInput {
          identity: None,
          binding: Some(Binding {
            address: from.to_string(),
            proxy_address: to.to_string(),
          }),
          attributes: None,
          role_sid: None,
        };
        self.create_conversation_with_participants(ConversationInput::default(), vec![customer])?;
        self.binding_holder(from, to)
      }
      found => found,
    }
  }

  /// The open conversation binding this address pair, and the customer's participant in it.
  pub fn binding_holder(&self, from: &str, to: &str) -> ApiResult<(String, String)> {
    let binding = Binding {
      address: from.to_string(),
      proxy_address: to.to_string(),
    };
    let conversation = self
      .bindings
      .get(&binding)
      .and_then(|sid| self.conversations.get(sid))
      .ok_or_else(|| {
        ApiError::new(
          404,
          20404,
          "No open conversation has a participant with this address and proxy address",
        )
      })?;
    let participant = conversation
      .participants
      .iter()
      .find(|p| p.binding.as_ref() == Some(&binding))
      .ok_or_else(|| ApiError::new(404, 20404, "The binding's participant is gone"))?;
    Ok((conversation.sid.clone(), participant.sid.clone()))
  }

  /// Adds the customer's message (its body, author and attributes possibly changed by a pre-event webhook).
  /// Answers the conversation's SID and the message.
  pub fn add_inbound(&mut self, inbound: Inbound, changes: Changes) -> ApiResult<(String, Message)> {
    let (conversation_sid, participant_sid) = self.binding_holder(&inbound.from, &inbound.to)?;
    let path = format!("/v1/Conversations/{conversation_sid}/Messages");
    let media = inbound.media_url.as_deref().map(|url| MediaRef {
      sid: new_sid("ME"),
      size: 0,
      content_type: content_type_of(url).to_string(),
      filename: url.rsplit('/').next().map(str::to_string).filter(|n| !n.is_empty()),
    });
    let before = self.conversation_by_sid(&conversation_sid, &path)?.state;
    let now = self.now();
    if let Some(participant) = self
      .conversations
      .get_mut(&conversation_sid)
      .and_then(|c| c.participants.iter_mut().find(|p| p.sid == participant_sid))
    {
      participant.last_inbound = Some(now);
    }
    let message = self
      .add_message(
        &conversation_sid,
        MessageInput {
          author: Some(changes.author.unwrap_or(inbound.from)),
          body: changes.body.or(inbound.body),
          attributes: changes.attributes,
          author_participant: Some(participant_sid),
          inbound_media: media,
          ..Default::default()
        },
        &path,
      )?
      .clone();
    self.emit(&conversation_sid, Source::Sms, |state| {
      state.message_added(&conversation_sid, &message, before, "EVENT")
    });
    Ok((conversation_sid, message))
  }
}

/// What a media URL most likely holds, by its extension (the sandbox does not download it).
fn content_type_of(url: &str) -> &'static str {
  let lower = url.to_ascii_lowercase();
  let path = lower.split(['?', '#']).next().unwrap_or("");
  match path.rsplit('.').next() {
    Some("png") => "image/png",
    Some("webp") => "image/webp",
    Some("gif") => "image/gif",
    Some("pdf") => "application/pdf",
    Some("mp4") => "video/mp4",
    Some("ogg") | Some("oga") => "audio/ogg",
    _ => "image/jpeg",
  }
}
