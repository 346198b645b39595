//! Conversations v1: conversations, ConversationWithParticipants, and the Configuration of the account and the
//! service.

use axum::http::StatusCode;
use chrono::{Duration, SubsecRound};
use serde_json::{json, Value};

use super::{created, date, ok, Routed};
use crate::app::Reply;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render::page;
use crate::state::clock::timer;
use crate::state::{Binding, ConvState, Conversation, ConversationInput, Event, ParticipantInput};

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

impl Routed<'_> {
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
    let body = self.rendering(&state).conversation(&state.conversations[&sid]);
    self.echo(&mut state, &sid, |state| {
      vec![Event::ConversationAdded(state.conversations[&sid].summary())]
    });
    Ok(created(body))
  }

  /// Newest first, as Twilio documents for the date filters (and the sandbox does without them too).
  pub fn list_conversations(&self) -> ApiResult<Reply> {
    let query = &self.incoming.query;
    let start = query
      .get("StartDate")
      .map(|d| list_date(d, "StartDate", false))
      .transpose()?;
    let end = query
      .get("EndDate")
      .map(|d| list_date(d, "EndDate", true))
      .transpose()?;
    let state = self.app.lock();
    let ctx = self.rendering(&state);
    let wanted = query.get("State");
    let items = state
      .conversations_newest_first()
      .filter(|c| wanted.is_none_or(|s| s == c.state.as_str()))
      // To the second, as the dates are rendered.
      .filter(|c| start.is_none_or(|start| c.date_created.trunc_subsecs(0) >= start))
      .filter(|c| end.is_none_or(|end| c.date_created.trunc_subsecs(0) <= end))
      .map(|c| ctx.conversation(c))
      .collect();
    Ok(ok(page(
      &self.app.base,
      &self.incoming.path,
      "conversations",
      items,
      query,
      &["State", "StartDate", "EndDate"],
      50,
    )))
  }

  pub fn fetch_conversation(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state
      .find_conversation(self.value(0))
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok(ok(self.rendering(&state).conversation(conversation)))
  }

  pub fn update_conversation(&self) -> ApiResult<Reply> {
    let input = conversation_input(self.form)?;
    let mut state = self.app.lock();
    let before = state.find_conversation(self.value(0)).map(|c| c.state);
    let sid = state
      .update_conversation(self.value(0), input, &self.incoming.path)?
      .sid
      .clone();
    let body = self.rendering(&state).conversation(&state.conversations[&sid]);
    self.echo(&mut state, &sid, |state| {
      let mut events = vec![Event::ConversationUpdated(state.conversations[&sid].summary())];
      events.extend(before.and_then(|before| state.state_change(&sid, before, "API")));
      events
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
      self.echo(&mut state, &sid, |_| vec![Event::ConversationRemoved(conversation)]);
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
    let body = self.rendering(&state).conversation(conversation);
    let initializing = conversation.state == ConvState::Initializing;
    self.echo(&mut state, &sid, |state| {
      let conversation = &state.conversations[&sid];
      let mut events = vec![Event::ConversationAdded(conversation.summary())];
      events.extend(
        conversation
          .participants
          .iter()
          .map(|p| Event::ParticipantAdded(sid.clone(), p.clone())),
      );
      events
    });
    // Twilio answers 202 while it is still adding the participants.
    Ok(if initializing {
      Reply::Json(StatusCode::ACCEPTED, body)
    } else {
      created(body)
    })
  }
}

/// A list filter's date: ISO 8601, a date-time or a whole day (its first second for a start, its last for an end).
fn list_date(value: &str, name: &str, end: bool) -> ApiResult<chrono::DateTime<chrono::Utc>> {
  if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
    return Ok(at.with_timezone(&chrono::Utc));
  }
  let day = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
    ApiError::bad_request(
      20001,
      format!("{name} must be an ISO 8601 date, as YYYY-MM-DDT00:00:00Z"),
    )
  })?;
  let time = if end {
    chrono::NaiveTime::from_hms_opt(23, 59, 59)
  } else {
    Some(chrono::NaiveTime::MIN)
  };
  Ok(day.and_time(time.unwrap_or(chrono::NaiveTime::MIN)).and_utc())
}
