//! A conversation's participants, and ParticipantConversations (the conversations an address or identity is in).

use super::{created, ok, Routed};
use crate::app::Reply;
use crate::error::{ApiError, ApiResult};
use crate::render::page;
use crate::state::{Binding, Event, ParticipantInput};

impl Routed<'_> {
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
    let body = self.rendering(&state).participant(conversation, &participant);
    self.echo(&mut state, &sid, |_| {
      vec![Event::ParticipantAdded(sid.clone(), participant)]
    });
    Ok(created(body))
  }

  pub fn list_participants(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let ctx = self.rendering(&state);
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
    Ok(ok(self.rendering(&state).participant(conversation, participant)))
  }

  pub fn delete_participant(&self) -> ApiResult<Reply> {
    let mut state = self.app.lock();
    let (conversation_sid, participant_id) = (self.value(0), self.value(1));
    // What the event carries must be copied before the participant goes.
    let removed = self
      .webhooks_asked()
      .then(|| {
        state
          .participant_by_sid(conversation_sid, participant_id, "")
          .ok()
          .cloned()
      })
      .flatten();
    state.remove_participant(conversation_sid, participant_id, &self.incoming.path)?;
    if let Some(participant) = removed {
      self.echo(&mut state, conversation_sid, |_| {
        vec![Event::ParticipantRemoved(conversation_sid.to_string(), participant)]
      });
    }
    Ok(Reply::NoContent)
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
    let ctx = self.rendering(&state);
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
