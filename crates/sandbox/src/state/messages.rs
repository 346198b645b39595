//! Conversation messages and the content templates they may be rendered from: body length, content SIDs and
//! variables, media SIDs, message attributes. A message wakes an inactive conversation and restarts its timers.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::limits::check_attributes;
use super::receipts::receipts_for;
use super::records::{ConvState, MediaRef, Message};
use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::{is_sid, new_sid};

/// The content template that exists from the start, so the demo has one to send.
pub const DEFAULT_TEMPLATE_SID: &str = "HX0123456789abcdef0123456789abcdef";
pub const DEFAULT_TEMPLATE_BODY: &str = "Your appointment is coming up on {{1}} at {{2}}";
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

#[derive(Debug, Clone)]
pub struct Template {
  pub sid: String,
  pub friendly_name: String,
  pub body: String,
}

impl Template {
  pub fn default_template() -> Self {
    Self {
      sid: DEFAULT_TEMPLATE_SID.to_string(),
      friendly_name: "appointment_reminder".to_string(),
      body: DEFAULT_TEMPLATE_BODY.to_string(),
    }
  }
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

/// The codes and texts of a bad content SID or bad variables, which differ between the two APIs.
pub(super) struct ContentCodes {
  pub invalid_sid: (u32, &'static str),
  pub invalid_variables: (u32, &'static str),
}

const CONVERSATIONS_CONTENT: ContentCodes = ContentCodes {
  invalid_sid: (50526, "Invalid content SID"),
  invalid_variables: (50527, "Invalid content variables format"),
};

impl State {
  pub(super) fn render_template(
    &self,
    content_sid: &str,
    variables: Option<&str>,
    codes: &ContentCodes,
  ) -> ApiResult<String> {
    let template = self
      .templates
      .get(content_sid)
      .filter(|_| is_sid(content_sid, "HX"))
      .ok_or_else(|| ApiError::bad_request(codes.invalid_sid.0, codes.invalid_sid.1))?;
    let variables = match variables {
      None => serde_json::Map::new(),
      Some(text) => match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => {
          return Err(ApiError::bad_request(
            codes.invalid_variables.0,
            codes.invalid_variables.1,
          ))
        }
      },
    };
    let mut body = template.body.clone();
    for (key, value) in variables {
      let text = match value {
        Value::String(s) => s,
        other => other.to_string(),
      };
      body = body.replace(&format!("{{{{{key}}}}}"), &text);
    }
    Ok(body)
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
    let (body, media_sid) = match input.content_sid.as_deref() {
      Some(content_sid) => (
        Some(self.render_template(content_sid, input.content_variables.as_deref(), &CONVERSATIONS_CONTENT)?),
        None,
      ),
      None => (input.body, input.media_sid),
    };
    let template = input.content_sid.is_some();
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
