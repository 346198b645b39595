//! Programmable Messaging's `Messages.json`: sends outside any conversation, as the old module made them.

use chrono::{DateTime, Utc};

use super::content::ContentCodes;
use super::messages::check_body_length;
use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::new_sid;

/// A message sent through Programmable Messaging (`Messages.json`).
#[derive(Debug, Clone)]
pub struct SmsMessage {
  pub sid: String,
  pub to: String,
  pub from: Option<String>,
  pub messaging_service_sid: Option<String>,
  pub body: String,
  pub media_urls: Vec<String>,
  pub content_sid: Option<String>,
  pub content_variables: Option<String>,
  pub date_created: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct SmsInput {
  pub to: String,
  pub from: Option<String>,
  pub messaging_service_sid: Option<String>,
  pub body: Option<String>,
  pub media_urls: Vec<String>,
  pub content_sid: Option<String>,
  pub content_variables: Option<String>,
}

const MESSAGING_CONTENT: ContentCodes = ContentCodes {
  invalid_sid: (21655, "The ContentSid is Invalid"),
  invalid_variables: (21656, "The Content Variables parameter is invalid."),
};

impl State {
  pub fn send_sms(&mut self, input: SmsInput) -> ApiResult<&SmsMessage> {
    if input.from.is_none() && input.messaging_service_sid.is_none() {
      return Err(ApiError::bad_request(21603, "A 'From' phone number is required."));
    }
    if input.content_variables.is_some() && input.content_sid.is_none() {
      return Err(ApiError::bad_request(21654, "ContentSid Required"));
    }
    let body = match input.content_sid.as_deref() {
      Some(content_sid) => {
        self
          .render_template(content_sid, input.content_variables.as_deref(), &MESSAGING_CONTENT)?
          .body
      }
      None => input.body.unwrap_or_default(),
    };
    if body.is_empty() && input.media_urls.is_empty() {
      return Err(ApiError::bad_request(21602, "Message body is required."));
    }
    check_body_length(Some(&body))?;
    if let Some(bad) = input
      .media_urls
      .iter()
      .find(|u| !(u.starts_with("https://") || u.starts_with("http://")))
    {
      return Err(ApiError::bad_request(21620, format!("Invalid media URL(s): {bad}")));
    }
    let whatsapp_to = input.to.starts_with("whatsapp:");
    if let Some(from) = &input.from {
      if whatsapp_to != from.starts_with("whatsapp:") {
        return Err(ApiError::bad_request(
          63007,
          "Twilio could not find a Channel with the specified From address",
        ));
      }
    }
    let now = self.now();
    self.sms.push(SmsMessage {
      sid: new_sid("SM"),
      to: input.to,
      from: input.from,
      messaging_service_sid: input.messaging_service_sid,
      body,
      media_urls: input.media_urls,
      content_sid: input.content_sid,
      content_variables: input.content_variables,
      date_created: now,
    });
    Ok(self.sms.last().expect("just pushed"))
  }
}
