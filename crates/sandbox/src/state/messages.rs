//! Conversation messages: body length, content SIDs and variables (rendered by [`super::content`]), media SIDs,
//! message attributes. A message wakes an inactive conversation and restarts its timers.

use super::content::ContentCodes;
use super::limits::check_attributes;
use super::receipts::{receipts_for, TemplateOutcome};
use super::records::{ConvState, MediaRef, Message};
use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::new_sid;
use chrono::{DateTime, Utc};

pub const MAX_BODY_CHARS: usize = 1600;

#[derive(Debug, Clone, Default)]
pub struct MessageInput {
  pub author: Option<String>,
  pub body: Option<String>,
  pub attributes: Option<String>,
  pub media_sid: Option<String>,
  pub content_sid: Option<String>,
  pub content_variables: Option<String>,
  pub date_created: Option<DateTime<Utc>>,
  /// A customer's message: their participant, whatever the author says.
  pub author_participant: Option<String>,
  /// A customer's media, which comes by URL rather than through the Media Content Service.
  pub inbound_media: Option<MediaRef>,
}

/// Twilio's refusal of a body over 1,600 characters, on either API.
pub(super) fn check_body_length(body: Option<&str>) -> ApiResult<()> {
  if body.is_some_and(|b| b.chars().count() > MAX_BODY_CHARS) {
    return Err(ApiError::bad_request(
      21617,
      "The concatenated message body exceeds the 1600 character limit",
    ));
  }
  Ok(())
}

const CONVERSATIONS_CONTENT: ContentCodes = ContentCodes {
  invalid_sid: (50526, "Invalid content SID"),
  invalid_variables: (50527, "Invalid content variables format"),
};

impl State {
  /// Changes a message's attributes or body, as `POST …/Messages/{Sid}` does.
  pub fn update_message(
    &mut self,
    conversation_sid: &str,
    message_sid: &str,
    attributes: Option<&str>,
    body: Option<&str>,
    path: &str,
  ) -> ApiResult<Message> {
    self.writable(conversation_sid, path)?;
    check_attributes(attributes, self.limits.message_attributes_bytes, "Message")?;
    check_body_length(body)?;
    let conversation = self
      .conversations
      .get_mut(conversation_sid)
      .ok_or_else(|| ApiError::not_found(path))?;
    let message = conversation
      .messages
      .iter_mut()
      .find(|m| m.sid == message_sid)
      .ok_or_else(|| ApiError::not_found(path))?;
    if let Some(attributes) = attributes {
      message.attributes = attributes.to_string();
    }
    if let Some(body) = body {
      message.body = Some(body.to_string());
    }
    Ok(message.clone())
  }

  pub fn add_message(&mut self, conversation_sid: &str, input: MessageInput, path: &str) -> ApiResult<&Message> {
    let conversation = self.writable(conversation_sid, path)?;
    check_attributes(
      input.attributes.as_deref(),
      self.limits.message_attributes_bytes,
      "Message",
    )?;
    if input.content_variables.is_some() && input.content_sid.is_none() {
      return Err(ApiError::bad_request(50528, "Content SID is missing"));
    }
    // With a ContentSid, Body and MediaSid are ignored and the body is the rendered template.
    let (body, media_sid, template) = match input.content_sid.as_deref() {
      Some(content_sid) => {
        let rendered = self.render_template(content_sid, input.content_variables.as_deref(), &CONVERSATIONS_CONTENT)?;
        let outcome = TemplateOutcome {
          approved: rendered.approved,
          refusal: rendered.refusal,
        };
        (Some(rendered.body), None, Some(outcome))
      }
      None => (input.body, input.media_sid, None),
    };
    check_body_length(body.as_deref())?;
    let media = match media_sid.as_deref() {
      None => input.inbound_media.map(|media| vec![media]),
      Some(sid) => {
        let media = self
          .media
          .get(sid)
          .filter(|m| m.service_sid == self.account.chat_service_sid && m.message_sid.is_none())
          .ok_or_else(|| {
            ApiError::bad_request(
              50510,
              format!("Media {sid} does not exist or is already attached to a message"),
            )
          })?;
        Some(vec![MediaRef {
          sid: media.sid.clone(),
          size: media.bytes.len(),
          content_type: media.content_type.clone(),
          filename: media.filename.clone(),
        }])
      }
    };
    if body.as_deref().unwrap_or("").is_empty() && media.is_none() {
      return Err(ApiError::bad_request(
        21602,
        "Message body, media or content is required",
      ));
    }
    let author = input.author.unwrap_or_else(|| "system".to_string());
    let participant_sid = input.author_participant.or_else(|| {
      conversation
        .participants
        .iter()
        .find(|p| p.identity.as_deref() == Some(author.as_str()))
        .map(|p| p.sid.clone())
    });
    let clock = self.now();
    let now = input.date_created.unwrap_or(clock);
    let receipts = receipts_for(&conversation.participants, participant_sid.as_deref(), template, now);
    let sid = new_sid("IM");
    if let Some(media_sid) = &media_sid {
      if let Some(stored) = self.media.get_mut(media_sid) {
        stored.message_sid = Some(sid.clone());
      }
    }
    self.restart_timers(conversation_sid, clock);
    let conversation = self.conversation_mut(conversation_sid, path)?;
    // Writing to an inactive conversation makes it active again.
    conversation.state = ConvState::Active;
    conversation.date_updated = now;
    let index = conversation.next_index;
    conversation.next_index += 1;
    conversation.messages.push(Message {
      sid,
      index,
      author,
      body,
      attributes: input.attributes.unwrap_or_else(|| "{}".to_string()),
      media,
      participant_sid,
      content_sid: input.content_sid,
      date_created: now,
      receipts,
    });
    let message = conversation.messages.last().expect("just pushed").clone();
    self.start_receipts(conversation_sid, &message);
    Ok(
      self.conversations[conversation_sid]
        .messages
        .last()
        .expect("just pushed"),
    )
  }
}
