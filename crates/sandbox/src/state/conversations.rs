//! Conversations: unique names, states (`initializing`, `active`, `inactive`, `closed`), timers, and
//! ConversationWithParticipants, which Twilio validates as a whole before it stores anything.

use chrono::{DateTime, Duration, Utc};

use super::limits::{check_attributes, INITIALIZING_CODE};
use super::participants::ParticipantInput;
use super::records::{ConvState, Conversation, Timers};
use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::{is_sid, new_sid};

#[derive(Debug, Clone, Default)]
pub struct ConversationInput {
  pub unique_name: Option<String>,
  pub friendly_name: Option<String>,
  pub attributes: Option<String>,
  pub state: Option<ConvState>,
  pub timer_inactive: Option<Duration>,
  pub timer_closed: Option<Duration>,
  pub date_created: Option<DateTime<Utc>>,
}

impl ConversationInput {
  fn has_timers(&self) -> bool {
    self.timer_inactive.is_some() || self.timer_closed.is_some()
  }
}

impl State {
  /// A conversation by SID or, as Twilio allows on the Conversation resource itself, by unique name.
  pub fn find_conversation(&self, sid_or_name: &str) -> Option<&Conversation> {
    self.conversations.get(sid_or_name).or_else(|| {
      self
        .unique_names
        .get(sid_or_name)
        .and_then(|sid| self.conversations.get(sid))
    })
  }

  fn conversation_sid(&self, sid_or_name: &str, path: &str) -> ApiResult<String> {
    self
      .find_conversation(sid_or_name)
      .map(|c| c.sid.clone())
      .ok_or_else(|| ApiError::not_found(path))
  }

  /// Sub-resources (participants, messages) are addressed by the conversation's SID only.
  pub fn conversation_by_sid(&self, sid: &str, path: &str) -> ApiResult<&Conversation> {
    self.conversations.get(sid).ok_or_else(|| ApiError::not_found(path))
  }

  pub(super) fn conversation_mut(&mut self, sid: &str, path: &str) -> ApiResult<&mut Conversation> {
    self.conversations.get_mut(sid).ok_or_else(|| ApiError::not_found(path))
  }

  /// A conversation that may be written to: not closed (50377), not still initializing.
  pub(super) fn writable(&self, sid: &str, path: &str) -> ApiResult<&Conversation> {
    let conversation = self.conversation_by_sid(sid, path)?;
    match conversation.state {
      ConvState::Closed => Err(ApiError::closed()),
      ConvState::Initializing => Err(ApiError::conflict(
        INITIALIZING_CODE,
        "Conversation is initializing and can't be edited yet",
      )),
      _ => Ok(conversation),
    }
  }

  fn check_unique_name(&self, name: &str, owner: Option<&str>) -> ApiResult<()> {
    if is_sid(name, "CH") {
      return Err(ApiError::bad_request(
        50390,
        "Unique name should not match conversation sid pattern",
      ));
    }
    match self.unique_names.get(name) {
      Some(holder) if Some(holder.as_str()) != owner => Err(ApiError::conflict(
        50353,
        "Conversation with provided unique name already exists",
      )),
      _ => Ok(()),
    }
  }

  fn validate_conversation(&self, input: &ConversationInput) -> ApiResult<()> {
    if input.state == Some(ConvState::Closed) {
      return Err(ApiError::bad_request(50384, "Initial state can't be 'closed'"));
    }
    if input.has_timers() && input.state.is_none() {
      return Err(ApiError::bad_request(50382, "Timer can't be set without state"));
    }
    if let Some(name) = input.unique_name.as_deref() {
      self.check_unique_name(name, None)?;
    }
    if input.friendly_name.as_ref().is_some_and(|n| n.chars().count() > 256) {
      return Err(ApiError::bad_request(
        20001,
        "FriendlyName is limited to 256 characters",
      ));
    }
    check_attributes(
      input.attributes.as_deref(),
      self.limits.conversation_attributes_bytes,
      "Conversation",
    )
  }

  fn insert_conversation(&mut self, input: ConversationInput, initializing: Option<Duration>) -> String {
    let now = self.now();
    let created = input.date_created.unwrap_or(now);
    let sid = new_sid("CH");
    if let Some(name) = input.unique_name.clone() {
      self.unique_names.insert(name, sid.clone());
    }
    self.order.push(sid.clone());
    let ready_at = initializing.map(|after| now + after);
    if let Some(when) = ready_at {
      self.clock.schedule(when, &sid);
    }
    self.conversations.insert(
      sid.clone(),
      Conversation {
        sid: sid.clone(),
        unique_name: input.unique_name,
        friendly_name: input.friendly_name,
        attributes: input.attributes.unwrap_or_else(|| "{}".to_string()),
        state: if ready_at.is_some() {
          ConvState::Initializing
        } else {
          input.state.unwrap_or(ConvState::Active)
        },
        timers: Timers {
          inactive: input.timer_inactive,
          closed: input.timer_closed,
          ..Timers::default()
        },
        ready_at,
        date_created: created,
        date_updated: created,
        participants: Vec::new(),
        messages: Vec::new(),
        webhooks: Vec::new(),
        next_index: 0,
      },
    );
    self.restart_timers(&sid, now);
    sid
  }

  /// Starts the conversation's timers afresh from `now`, the instant of what restarts them (a creation, a
  /// message, an update of the timers), so that they fall exactly their durations after it.
  pub(super) fn restart_timers(&mut self, sid: &str, now: DateTime<Utc>) {
    let Some(conversation) = self.conversations.get_mut(sid) else {
      return;
    };
    let timers = &mut conversation.timers;
    timers.date_inactive = timers.inactive.map(|after| now + after);
    timers.date_closed = timers.closed.map(|after| now + after);
    let due: Vec<_> = [timers.date_inactive, timers.date_closed]
      .into_iter()
      .flatten()
      .collect();
    for when in due {
      self.clock.schedule(when, sid);
    }
  }

  pub fn create_conversation(&mut self, input: ConversationInput) -> ApiResult<&Conversation> {
    self.validate_conversation(&input)?;
    let sid = self.insert_conversation(input, None);
    Ok(&self.conversations[&sid])
  }

  /// ConversationWithParticipants: every participant is validated against the rules and limits before anything
  /// is stored, so a refusal (50425 for a binding held elsewhere, 50214 for an identity at its limit, …) leaves
  /// no conversation behind. With `initializing_ms` set, the conversation starts `initializing`.
  pub fn create_conversation_with_participants(
    &mut self,
    input: ConversationInput,
    participants: Vec<ParticipantInput>,
  ) -> ApiResult<&Conversation> {
    self.validate_conversation(&input)?;
    if self
      .limits
      .participants_per_request
      .is_some_and(|max| participants.len() > max)
    {
      return Err(ApiError::bad_request(
        50426,
        "Participants limit exceeded: too many participants in one request",
      ));
    }
    self.validate_new_participants(&participants)?;
    let initializing = self
      .limits
      .initializing_ms
      .filter(|ms| *ms > 0)
      .map(|ms| Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX)));
    let sid = self.insert_conversation(input, initializing);
    for participant in participants {
      self.insert_participant(&sid, participant);
    }
    Ok(&self.conversations[&sid])
  }

  pub fn update_conversation(
    &mut self,
    sid_or_name: &str,
    input: ConversationInput,
    path: &str,
  ) -> ApiResult<&Conversation> {
    let sid = self.conversation_sid(sid_or_name, path)?;
    self.writable(&sid, path)?;
    if let Some(name) = input.unique_name.as_deref().filter(|n| !n.is_empty()) {
      self.check_unique_name(name, Some(&sid))?;
    }
    check_attributes(
      input.attributes.as_deref(),
      self.limits.conversation_attributes_bytes,
      "Conversation",
    )?;
    let now = self.now();
    let timers_changed = input.has_timers();
    let conversation = self.conversation_mut(&sid, path)?;
    let old_name = conversation.unique_name.clone();
    if let Some(name) = input.unique_name {
      conversation.unique_name = Some(name).filter(|n| !n.is_empty());
    }
    if let Some(friendly_name) = input.friendly_name {
      conversation.friendly_name = Some(friendly_name);
    }
    if let Some(attributes) = input.attributes {
      conversation.attributes = attributes;
    }
    if input.timer_inactive.is_some() {
      conversation.timers.inactive = input.timer_inactive;
    }
    if input.timer_closed.is_some() {
      conversation.timers.closed = input.timer_closed;
    }
    if let Some(state) = input.state.filter(|s| *s != ConvState::Closed) {
      conversation.state = state;
    }
    conversation.date_updated = now;
    let new_name = conversation.unique_name.clone();
    if old_name != new_name {
      if let Some(old) = old_name {
        self.unique_names.remove(&old);
      }
      if let Some(new) = new_name {
        self.unique_names.insert(new, sid.clone());
      }
    }
    if timers_changed {
      let now = self.now();
      self.restart_timers(&sid, now);
    }
    if input.state == Some(ConvState::Closed) {
      self.close(&sid);
    }
    Ok(&self.conversations[&sid])
  }

  /// Closes a conversation for good: its bindings and its participants' identity slots are released.
  pub(super) fn close(&mut self, sid: &str) {
    let Some(conversation) = self.conversations.get_mut(sid) else {
      return;
    };
    if conversation.state == ConvState::Closed {
      return;
    }
    conversation.state = ConvState::Closed;
    conversation.timers.date_inactive = None;
    conversation.timers.date_closed = None;
    self.bindings.retain(|_, holder| holder != sid);
    self.release_identities(sid);
  }

  pub fn delete_conversation(&mut self, sid_or_name: &str, path: &str) -> ApiResult<()> {
    let sid = self.conversation_sid(sid_or_name, path)?;
    self.close(&sid);
    if let Some(conversation) = self.conversations.remove(&sid) {
      if let Some(name) = conversation.unique_name {
        self.unique_names.remove(&name);
      }
    }
    self.order.retain(|s| s != &sid);
    Ok(())
  }

  /// Conversations newest first, as the old module relied on.
  pub fn conversations_newest_first(&self) -> impl Iterator<Item = &Conversation> {
    self.order.iter().rev().filter_map(|sid| self.conversations.get(sid))
  }
}
