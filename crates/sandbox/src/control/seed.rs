//! Fixtures through the control API: conversations with their participants and messages, templates, and changes
//! made behind the client's back, none of them logged as requests.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{bad, parse, reply, ControlResult, Refusal};
use crate::app::{App, Incoming};
use crate::render::approval;
use crate::sid::new_sid;
use crate::state::content::APPROVAL_STATUSES;
use crate::state::{Binding, ContentInput, ConvState, ConversationInput, MessageInput, ParticipantInput, State};

#[derive(Deserialize)]
struct SeedParticipant {
  identity: Option<String>,
  address: Option<String>,
  proxy_address: Option<String>,
}

#[derive(Deserialize)]
struct SeedMessage {
  author: Option<String>,
  body: String,
}

#[derive(Deserialize)]
struct SeedConversation {
  unique_name: Option<String>,
  friendly_name: Option<String>,
  attributes: Option<String>,
  state: Option<String>,
  date_created: Option<DateTime<Utc>>,
  #[serde(default)]
  participants: Vec<SeedParticipant>,
  #[serde(default)]
  messages: Vec<SeedMessage>,
}

/// A template in the Content API: a `twilio/text` of `body`, or the `types` given; approved for WhatsApp unless
/// `approval` names another status.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedTemplate {
  sid: Option<String>,
  friendly_name: Option<String>,
  language: Option<String>,
  body: Option<String>,
  types: Option<serde_json::Map<String, Value>>,
  #[serde(default)]
  variables: std::collections::BTreeMap<String, String>,
  approval: Option<String>,
  rejection_reason: Option<String>,
}

/// WhatsApp's verdict on a template, set by the control API at once.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ApprovalChange {
  status: String,
  rejection_reason: Option<String>,
}

#[derive(Deserialize)]
struct ConversationChange {
  state: Option<String>,
}

fn seed_one(state: &mut State, seed: SeedConversation) -> Result<String, crate::error::ApiError> {
  let closed = seed.state.as_deref() == Some("closed");
  let initial = match seed.state.as_deref() {
    Some("closed") | None => None,
    Some(other) => Some(ConvState::parse(other)?),
  };
  let sid = state
    .create_conversation(ConversationInput {
      unique_name: seed.unique_name,
      friendly_name: seed.friendly_name,
      attributes: seed.attributes,
      state: initial,
      date_created: seed.date_created,
      ..Default::default()
    })?
    .sid
    .clone();
  for p in seed.participants {
    let binding = p.address.map(|address| Binding {
      address,
      proxy_address: p.proxy_address.unwrap_or_default(),
    });
    state.add_participant(
      &sid,
      ParticipantInput {
        identity: p.identity,
        binding,
        ..Default::default()
      },
      "",
    )?;
  }
  for m in seed.messages {
    state.add_message(
      &sid,
      MessageInput {
        author: m.author,
        body: Some(m.body),
        date_created: seed.date_created,
        ..Default::default()
      },
      "",
    )?;
  }
  if let Some(state_name) = initial.filter(|_| !closed) {
    state.update_conversation(
      &sid,
      ConversationInput {
        state: Some(state_name),
        ..Default::default()
      },
      "",
    )?;
  }
  if closed {
    state.update_conversation(
      &sid,
      ConversationInput {
        state: Some(ConvState::Closed),
        ..Default::default()
      },
      "",
    )?;
  }
  Ok(sid)
}

/// Seeds one conversation (a JSON object) or several (an array), with participants and messages.
pub(super) fn seed_conversations(app: &App, incoming: &Incoming) -> ControlResult {
  let body: Value = parse(incoming)?;
  let seeds: Vec<SeedConversation> = match body {
    Value::Array(_) => serde_json::from_value(body),
    other => serde_json::from_value(other).map(|one| vec![one]),
  }
  .map_err(|e| bad(format!("invalid seed: {e}")))?;
  let mut state = app.lock();
  let mut created = Vec::new();
  for seed in seeds {
    let sid = seed_one(&mut state, seed).map_err(Refusal::from)?;
    created.push(app.rendering(&state, "/v1").conversation(&state.conversations[&sid]));
  }
  Ok(reply(StatusCode::CREATED, json!({ "conversations": created })))
}

/// Changes a conversation behind the client's back (for example, closes it) without a logged request.
pub(super) fn change_conversation(app: &App, incoming: &Incoming, id: &str) -> ControlResult {
  let change: ConversationChange = parse(incoming)?;
  let state_value = change
    .state
    .as_deref()
    .map(ConvState::parse)
    .transpose()
    .map_err(Refusal::from)?;
  let mut state = app.lock();
  let path = incoming.path.clone();
  let conversation = state
    .update_conversation(
      id,
      ConversationInput {
        state: state_value,
        ..Default::default()
      },
      &path,
    )
    .map_err(Refusal::from)?
    .clone();
  Ok(reply(
    StatusCode::OK,
    app.rendering(&state, "/v1").conversation(&conversation),
  ))
}

pub(super) fn seed_template(app: &App, incoming: &Incoming) -> ControlResult {
  let seed: SeedTemplate = parse(incoming)?;
  let sid = seed.sid.unwrap_or_else(|| new_sid("HX"));
  if !crate::sid::is_sid(&sid, "HX") {
    return Err(bad("a template SID is HX followed by 32 hex digits"));
  }
  let types = match (seed.types, seed.body) {
    (Some(types), None) => types,
    (None, Some(body)) => serde_json::Map::from_iter([("twilio/text".to_string(), json!({ "body": body }))]),
    _ => return Err(bad("give one of body (a twilio/text template) or types")),
  };
  let status = seed.approval.unwrap_or_else(|| "approved".to_string());
  check_status(&status)?;
  let mut state = app.lock();
  state
    .create_content(ContentInput {
      sid: Some(sid.clone()),
      friendly_name: Some(seed.friendly_name.unwrap_or_else(|| "template".to_string())),
      language: seed.language.unwrap_or_else(|| "en".to_string()),
      variables: seed.variables,
      types,
    })
    .map_err(Refusal::from)?;
  if status != "unsubmitted" {
    state
      .set_approval(&sid, &status, seed.rejection_reason)
      .map_err(Refusal::from)?;
  }
  Ok(reply(StatusCode::CREATED, template_summary(app, &state, &sid)))
}

/// Sets a template's WhatsApp approval status (and a rejection's reason) at once.
pub(super) fn change_approval(app: &App, incoming: &Incoming, sid: &str) -> ControlResult {
  let change: ApprovalChange = parse(incoming)?;
  check_status(&change.status)?;
  let mut state = app.lock();
  state
    .set_approval(sid, &change.status, change.rejection_reason)
    .map_err(Refusal::from)?;
  Ok(reply(StatusCode::OK, template_summary(app, &state, sid)))
}

fn check_status(status: &str) -> Result<(), Refusal> {
  if APPROVAL_STATUSES.contains(&status) {
    return Ok(());
  }
  Err(bad(format!("approval must be one of {}", APPROVAL_STATUSES.join(", "))))
}

/// A template as the control API shows it: the Content resource, the text a send renders (before variables),
/// and its WhatsApp approval.
pub(super) fn template_summary(app: &App, state: &State, sid: &str) -> Value {
  let Some(content) = state.contents.get(sid) else {
    return Value::Null;
  };
  let mut value = app.rendering(state, "/v1").content(content);
  let body = content
    .sent_type()
    .and_then(|t| content.types.get(t))
    .and_then(|t| t.get("body"))
    .cloned()
    .unwrap_or(Value::Null);
  value["body"] = body;
  value["approval"] = approval(content, state.now());
  value
}
