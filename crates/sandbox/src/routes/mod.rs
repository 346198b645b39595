//! Twilio's routes, found by the OpenAPI template the contract check matched. Service-scoped paths
//! (`/v1/Services/{IS}/…`) are the same operations on the default service.

pub mod conversations;
pub mod media;
pub mod messaging;

use crate::app::{App, Incoming, Reply};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::state::RateKey;

const SERVICE_PREFIX: &str = "/v1/Services/{ChatServiceSid}";

/// The values of a template's `{…}` segments, in order.
pub fn path_values(template: &str, path: &str) -> Vec<String> {
  template
    .trim_start_matches('/')
    .split('/')
    .zip(path.trim_start_matches('/').split('/'))
    .filter_map(|(seg, part)| {
      let open = seg.find('{')?;
      let close = seg.find('}')?;
      let suffix = &seg[close + 1..];
      Some(part[open..part.len() - suffix.len()].to_string())
    })
    .collect()
}

/// What a write counts against in Twilio's actions-per-second limits: conversation creation and deletion
/// against the service; a conversation's updates, participants and messages against that conversation.
fn write_key(method: &str, template: &str, values: &[String]) -> Option<RateKey> {
  let conversation = || values.first().map(|sid| RateKey::Conversation(sid.clone()));
  match (method, template) {
    ("GET", _) => None,
    ("POST", "/v1/Conversations" | "/v1/ConversationWithParticipants") | ("DELETE", "/v1/Conversations/{Sid}") => {
      Some(RateKey::Service)
    }
    (_, "/v1/Conversations/{Sid}") => conversation(),
    (_, t) if t.starts_with("/v1/Conversations/{ConversationSid}/") => conversation(),
    _ => None,
  }
}

/// Routes one request; `None` when Twilio defines the operation but the sandbox does not emulate it.
pub fn twilio(app: &App, incoming: &Incoming, template: &str, form: &Params) -> ApiResult<Option<Reply>> {
  let mut values = path_values(template, &incoming.path);
  let (template, prefix) = match template.strip_prefix(SERVICE_PREFIX) {
    Some(rest) if rest != "/Configuration" && !values.is_empty() => {
      let service = values.remove(0);
      if service != app.lock().account.chat_service_sid {
        return Err(ApiError::not_found(&incoming.path));
      }
      (format!("/v1{rest}"), format!("/v1/Services/{service}"))
    }
    _ => (template.to_string(), "/v1".to_string()),
  };
  if let Some(key) = write_key(incoming.method.as_str(), &template, &values) {
    app.lock().admit_write(key)?;
  }
  let request = conversations::Request {
    app,
    incoming,
    form,
    values: &values,
    prefix,
  };
  let method = incoming.method.as_str();
  Ok(Some(match (method, template.as_str()) {
    ("GET", "/v1/Configuration") => request.configuration(),
    ("GET", "/v1/Services/{ChatServiceSid}/Configuration") => request.service_configuration()?,
    ("POST", "/v1/Conversations") => request.create_conversation()?,
    ("GET", "/v1/Conversations") => request.list_conversations(),
    ("GET", "/v1/Conversations/{Sid}") => request.fetch_conversation()?,
    ("POST", "/v1/Conversations/{Sid}") => request.update_conversation()?,
    ("DELETE", "/v1/Conversations/{Sid}") => request.delete_conversation()?,
    ("POST", "/v1/ConversationWithParticipants") => request.create_with_participants()?,
    ("POST", "/v1/Conversations/{ConversationSid}/Participants") => request.create_participant()?,
    ("GET", "/v1/Conversations/{ConversationSid}/Participants") => request.list_participants()?,
    ("GET", "/v1/Conversations/{ConversationSid}/Participants/{Sid}") => request.fetch_participant()?,
    ("DELETE", "/v1/Conversations/{ConversationSid}/Participants/{Sid}") => request.delete_participant()?,
    ("POST", "/v1/Conversations/{ConversationSid}/Messages") => request.create_message()?,
    ("GET", "/v1/Conversations/{ConversationSid}/Messages") => request.list_messages()?,
    ("GET", "/v1/Conversations/{ConversationSid}/Messages/{Sid}") => request.fetch_message()?,
    ("GET", "/v1/ParticipantConversations") => request.participant_conversations()?,
    ("POST", "/2010-04-01/Accounts/{AccountSid}/Messages.json") => {
      messaging::create_message(app, incoming, &values, form)?
    }
    ("GET", "/2010-04-01/Accounts/{Sid}.json") => messaging::fetch_account(app, incoming, &values)?,
    _ => return Ok(None),
  }))
}
