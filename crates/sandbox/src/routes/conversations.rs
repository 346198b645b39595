//! Conversations v1: conversations, participants, messages, ConversationWithParticipants,
//! ParticipantConversations and Configuration.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::app::{App, Incoming, Reply};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render::{page, Ctx};
use crate::state::clock::timer;
use crate::state::{
  Binding, ConvState, Conversation, ConversationInput, Happening, MessageInput, ParticipantInput, Source, State,
};

pub struct Request<'a> {
  pub app: &'a App,
  pub incoming: &'a Incoming,
  pub form: &'a Params,
  pub values: &'a [String],
  pub prefix: String,
}

fn ok(value: Value) -> Reply {
  Reply::Json(StatusCode::OK, value)
}

fn created(value: Value) -> Reply {
  Reply::Json(StatusCode::CREATED, value)
}

fn date(value: Option<&str>, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
  value
    .map(|text| {
      DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| ApiError::bad_request(20001, format!("{name} must be an ISO 8601 date-time")))
    })
    .transpose()
}

fn conversation_input(form: &Params) -> ApiResult<ConversationInput> {
  Ok(ConversationInput {
    unique_name: form.get("UniqueName").map(str::to_string),
    friendly_name: form.get("FriendlyName").map(str::to_string),
    attributes: form.get("Attributes").map(str::to_string),
    state: form.get("State").map(ConvState::parse).transpose()?,
    timer_inactive: timer(
      form.get("Timers.Inactive"),
      "Timers.Inactive",
      Duration::minutes(1),
      50375,
      "TimeToInactive should be >= 1 minute",
    )?,
    timer_closed: timer(
      form.get("Timers.Closed"),
      "Timers.Closed",
      Duration::minutes(10),
      50376,
      "TimeToClosed should be >= 10 minutes",
    )?,
    date_created: date(form.get("DateCreated"), "DateCreated")?,
  })
}

/// One `Participant` value of ConversationWithParticipants: a JSON object with the Participant resource's
/// parameters in snake_case.
fn participant_json(text: &str) -> ApiResult<ParticipantInput> {
  let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
    return Err(ApiError::bad_request(
      50424,
      format!("Invalid participant JSON: {text}"),
    ));
  };
  let mut input = ParticipantInput::default();
  for (key, value) in &map {
    match key.as_str() {
      "identity" => input.identity = value.as_str().map(str::to_string),
      "attributes" => input.attributes = value.as_str().map(str::to_string),
      "role_sid" => input.role_sid = value.as_str().map(str::to_string),
      "date_created" | "date_updated" => {}
      "messaging_binding" => {
        let Some(binding) = value.as_object() else {
          return Err(ApiError::bad_request(50424, "messaging_binding must be an object"));
        };
        if let Some(unknown) = binding
          .keys()
          .find(|k| !["address", "proxy_address", "projected_address"].contains(&k.as_str()))
        {
          return Err(ApiError::bad_request(
            20001,
            format!("Unknown participant attribute 'messaging_binding.{unknown}'"),
          ));
        }
        if let Some(address) = binding.get("address").and_then(Value::as_str) {
          input.binding = Some(Binding {
            address: address.to_string(),
            proxy_address: binding
              .get("proxy_address")
              .and_then(Value::as_str)
              .unwrap_or("")
              .to_string(),
          });
        }
      }
      other => {
        return Err(ApiError::bad_request(
          20001,
          format!("Unknown participant attribute '{other}'"),
        ))
      }
    }
  }
  Ok(input)
}

impl Request<'_> {
  pub(super) fn ctx<'s>(&self, state: &'s State) -> Ctx<'s>
  where
    Self: 's,
  {
    self.app.ctx(state, self.prefix.as_str())
  }

  pub(super) fn value(&self, i: usize) -> &str {
    self.values.get(i).map(String::as_str).unwrap_or("")
  }

  /// REST writes fire post-action webhooks only when they ask to, with `X-Twilio-Webhook-Enabled: true`.
  fn webhooks_asked(&self) -> bool {
    self
      .incoming
      .headers
      .get("x-twilio-webhook-enabled")
      .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
  }

  /// Records a REST write's happenings when it asked for webhooks (and some webhook listens).
  fn echo(&self, state: &mut State, conversation_sid: &str, happenings: impl FnOnce(&State) -> Vec<Happening>) {
    if self.webhooks_asked() {
      state.emit(conversation_sid, Source::Api, happenings);
    }
  }

  pub fn configuration(&self) -> Reply {
    let state = self.app.lock();
    let base = &self.app.base;
    ok(json!({
      "account_sid": state.account.account_sid,
      "default_chat_service_sid": state.account.chat_service_sid,
      "default_messaging_service_sid": state.account.messaging_service_sid,
      "default_inactive_timer": null,
      "default_closed_timer": null,
      "url": format!("{base}/v1/Configuration"),
      "links": {
        "service": format!("{base}/v1/Services/{}/Configuration", state.account.chat_service_sid),
        "webhooks": format!("{base}/v1/Configuration/Webhooks"),
      },
    }))
  }

  pub fn service_configuration(&self) -> Reply {
    let state = self.app.lock();
    let service = &state.account.chat_service_sid;
    let url = format!("{}/v1/Services/{service}/Configuration", self.app.base);
    ok(json!({
      "chat_service_sid": service,
      "default_conversation_creator_role_sid": null,
      "default_conversation_role_sid": null,
      "default_chat_service_role_sid": null,
      "url": url,
      "links": { "notifications": format!("{url}/Notifications"), "webhooks": format!("{url}/Webhooks") },
      "reachability_enabled": false,
    }))
  }

  pub fn create_conversation(&self) -> ApiResult<Reply> {
    let input = conversation_input(self.form)?;
    let mut state = self.app.lock();
    let sid = state.create_conversation(input)?.sid.clone();
    let body = self.ctx(&state).conversation(&state.conversations[&sid]);
    self.echo(&mut state, &sid, |state| {
      vec![Happening::ConversationAdded(state.conversations[&sid].summary())]
    });
    Ok(created(body))
  }

  pub fn list_conversations(&self) -> Reply {
    let state = self.app.lock();
    let ctx = self.ctx(&state);
    let wanted = self.incoming.query.get("State");
    let items = state
      .conversations_newest_first()
      .filter(|c| wanted.is_none_or(|s| s == c.state.as_str()))
      .map(|c| ctx.conversation(c))
      .collect();
    ok(page(
      &self.app.base,
      &self.incoming.path,
      "conversations",
      items,
      &self.incoming.query,
      &["State"],
      50,
    ))
  }

  pub fn fetch_conversation(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state
      .find_conversation(self.value(0))
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok(ok(self.ctx(&state).conversation(conversation)))
  }

  pub fn update_conversation(&self) -> ApiResult<Reply> {
    let input = conversation_input(self.form)?;
    let mut state = self.app.lock();
    let before = state.find_conversation(self.value(0)).map(|c| c.state);
    let sid = state
      .update_conversation(self.value(0), input, &self.incoming.path)?
      .sid
      .clone();
    let body = self.ctx(&state).conversation(&state.conversations[&sid]);
    self.echo(&mut state, &sid, |state| {
      let mut happenings = vec![Happening::ConversationUpdated(state.conversations[&sid].summary())];
      happenings.extend(before.and_then(|before| state.state_change(&sid, before, "API")));
      happenings
    });
    Ok(ok(body))
  }

  pub fn delete_conversation(&self) -> ApiResult<Reply> {
    let mut state = self.app.lock();
    // What the event carries must be copied before the conversation goes.
    let removed = self
      .webhooks_asked()
      .then(|| state.find_conversation(self.value(0)).map(Conversation::summary))
      .flatten();
    state.delete_conversation(self.value(0), &self.incoming.path)?;
    if let Some(conversation) = removed {
      let sid = conversation.sid.clone();
      self.echo(&mut state, &sid, |_| vec![Happening::ConversationRemoved(conversation)]);
    }
    Ok(Reply::NoContent)
  }

  pub fn create_with_participants(&self) -> ApiResult<Reply> {
    let input = conversation_input(self.form)?;
    let participants = self
      .form
      .all("Participant")
      .into_iter()
      .map(participant_json)
      .collect::<ApiResult<Vec<_>>>()?;
    let mut state = self.app.lock();
    let sid = state
      .create_conversation_with_participants(input, participants)?
      .sid
      .clone();
    let conversation = &state.conversations[&sid];
    let body = self.ctx(&state).conversation(conversation);
    let initializing = conversation.state == ConvState::Initializing;
    self.echo(&mut state, &sid, |state| {
      let conversation = &state.conversations[&sid];
      let mut happenings = vec![Happening::ConversationAdded(conversation.summary())];
      happenings.extend(
        conversation
          .participants
          .iter()
          .map(|p| Happening::ParticipantAdded(sid.clone(), p.clone())),
      );
      happenings
    });
    // Twilio answers 202 while it is still adding the participants.
    Ok(if initializing {
      Reply::Json(StatusCode::ACCEPTED, body)
    } else {
      created(body)
    })
  }

  pub fn create_participant(&self) -> ApiResult<Reply> {
    let form = self.form;
    let input = ParticipantInput {
      identity: form.get("Identity").map(str::to_string),
      binding: form.get("MessagingBinding.Address").map(|address| Binding {
        address: address.to_string(),
        proxy_address: form.get("MessagingBinding.ProxyAddress").unwrap_or("").to_string(),
      }),
      attributes: form.get("Attributes").map(str::to_string),
      role_sid: form.get("RoleSid").map(str::to_string),
    };
    let mut state = self.app.lock();
    let sid = self.value(0).to_string();
    let participant = state.add_participant(&sid, input, &self.incoming.path)?.clone();
    let conversation = state.conversation_by_sid(&sid, &self.incoming.path)?;
    let body = self.ctx(&state).participant(conversation, &participant);
    self.echo(&mut state, &sid, |_| {
      vec![Happening::ParticipantAdded(sid.clone(), participant)]
    });
    Ok(created(body))
  }

  pub fn list_participants(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let ctx = self.ctx(&state);
    let items = conversation
      .participants
      .iter()
      .map(|p| ctx.participant(conversation, p))
      .collect();
    Ok(ok(page(
      &self.app.base,
      &self.incoming.path,
      "participants",
      items,
      &self.incoming.query,
      &[],
      50,
    )))
  }

  pub fn fetch_participant(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let participant = state.find_participant(self.value(0), self.value(1), &self.incoming.path)?;
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    Ok(ok(self.ctx(&state).participant(conversation, participant)))
  }

  pub fn delete_participant(&self) -> ApiResult<Reply> {
    let mut state = self.app.lock();
    let (conversation_sid, participant_id) = (self.value(0), self.value(1));
    // What the event carries must be copied before the participant goes.
    let removed = self
      .webhooks_asked()
      .then(|| {
        state
          .find_participant(conversation_sid, participant_id, "")
          .ok()
          .cloned()
      })
      .flatten();
    state.remove_participant(conversation_sid, participant_id, &self.incoming.path)?;
    if let Some(participant) = removed {
      self.echo(&mut state, conversation_sid, |_| {
        vec![Happening::ParticipantRemoved(conversation_sid.to_string(), participant)]
      });
    }
    Ok(Reply::NoContent)
  }

  pub fn create_message(&self) -> ApiResult<Reply> {
    let form = self.form;
    let text = |name: &str| form.get(name).map(str::to_string);
    let input = MessageInput {
      author: text("Author"),
      body: text("Body"),
      attributes: text("Attributes"),
      media_sid: text("MediaSid"),
      content_sid: text("ContentSid"),
      content_variables: text("ContentVariables"),
      date_created: date(form.get("DateCreated"), "DateCreated")?,
      ..Default::default()
    };
    let mut state = self.app.lock();
    let sid = self.value(0).to_string();
    let before = state.conversation_by_sid(&sid, &self.incoming.path)?.state;
    let message = state.add_message(&sid, input, &self.incoming.path)?.clone();
    let conversation = state.conversation_by_sid(&sid, &self.incoming.path)?;
    let body = self.ctx(&state).message(conversation, &message);
    self.echo(&mut state, &sid, |state| {
      state.message_added(&sid, &message, before, "API")
    });
    Ok(created(body))
  }

  pub fn list_messages(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let ctx = self.ctx(&state);
    let mut items: Vec<Value> = conversation
      .messages
      .iter()
      .map(|m| ctx.message(conversation, m))
      .collect();
    if self.incoming.query.get("Order") == Some("desc") {
      items.reverse();
    }
    Ok(ok(page(
      &self.app.base,
      &self.incoming.path,
      "messages",
      items,
      &self.incoming.query,
      &["Order"],
      50,
    )))
  }

  pub fn fetch_message(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let message = conversation
      .messages
      .iter()
      .find(|m| m.sid == self.value(1) || m.index.to_string() == self.value(1))
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok(ok(self.ctx(&state).message(conversation, message)))
  }

  pub fn participant_conversations(&self) -> ApiResult<Reply> {
    let query = &self.incoming.query;
    let (address, identity) = (query.get("Address"), query.get("Identity"));
    if address.is_some() == identity.is_some() {
      return Err(ApiError::bad_request(
        20001,
        "Exactly one of Identity or Address must be given",
      ));
    }
    let state = self.app.lock();
    let ctx = self.ctx(&state);
    let items = state
      .participant_conversations(address, identity)
      .into_iter()
      .map(|(c, p)| ctx.participant_conversation(c, p))
      .collect();
    Ok(ok(page(
      &self.app.base,
      &self.incoming.path,
      "conversations",
      items,
      query,
      &["Address", "Identity"],
      50,
    )))
  }
}
