//! Participants: chat identities and messaging bindings, one open conversation per address + proxy pair
//! (50416 / 50425), one identity per conversation (50433), and the counter limits: participants per conversation
//! (50417), non-chat participants (50422), conversations per identity (50214, closed ones not counted).

use super::limits::{check_attributes, IDENTITY_LIMIT_CODE};
use super::records::{Binding, Conversation, Participant};
use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::new_sid;

#[derive(Debug, Clone, Default)]
pub struct ParticipantInput {
  pub identity: Option<String>,
  pub binding: Option<Binding>,
  pub attributes: Option<String>,
  pub role_sid: Option<String>,
}

impl State {
  fn validate_participant(&self, input: &ParticipantInput) -> ApiResult<()> {
    match (&input.identity, &input.binding) {
      (None, None) => {
        return Err(ApiError::bad_request(
          20001,
          "Either Identity or MessagingBinding.Address must be specified",
        ))
      }
      (Some(identity), _) if identity.is_empty() => {
        return Err(ApiError::bad_request(20001, "Identity must not be empty"))
      }
      (_, Some(binding)) => validate_binding(binding)?,
      _ => {}
    }
    check_attributes(
      input.attributes.as_deref(),
      self.limits.participant_attributes_bytes,
      "Participant",
    )
  }

  /// 50214 when the identity is already in as many active or inactive conversations as it may be.
  fn check_identity_slot(&self, identity: &str) -> ApiResult<()> {
    let taken = self.identity_slots.get(identity).copied().unwrap_or(0);
    match self.limits.conversations_per_identity {
      Some(max) if taken >= max => Err(ApiError::new(
        403,
        IDENTITY_LIMIT_CODE,
        format!("User conversation limit exceeded: the identity is already a participant of {max} active or inactive conversations"),
      )),
      _ => Ok(()),
    }
  }

  /// 50417 / 50422 when `adding` more participants (of which `non_chat` have a binding) would pass a limit.
  fn check_room(&self, conversation: Option<&Conversation>, adding: usize, non_chat: usize) -> ApiResult<()> {
    let participants = conversation.map_or(&[][..], |c| c.participants.as_slice());
    if let Some(max) = self.limits.participants_per_conversation {
      if participants.len() + adding > max {
        return Err(ApiError::new(
          403,
          50417,
          format!("Participants limit exceeded: a conversation has at most {max} participants"),
        ));
      }
    }
    if let Some(max) = self.limits.non_chat_participants {
      let present = participants.iter().filter(|p| p.binding.is_some()).count();
      if non_chat > 0 && present + non_chat > max {
        return Err(ApiError::new(
          403,
          50422,
          format!("Non-chat participants limit exceeded: a conversation has at most {max} non-chat participants"),
        ));
      }
    }
    Ok(())
  }

  /// Everything ConversationWithParticipants checks before it stores anything.
  pub(super) fn validate_new_participants(&self, participants: &[ParticipantInput]) -> ApiResult<()> {
    let mut identities = Vec::new();
    let mut bindings = Vec::new();
    for participant in participants {
      self.validate_participant(participant)?;
      if let Some(identity) = &participant.identity {
        if identities.contains(&identity) {
          return Err(ApiError::conflict(50437, "Group Participant already exists"));
        }
        self.check_identity_slot(identity)?;
        identities.push(identity);
      }
      if let Some(binding) = &participant.binding {
        if bindings.contains(&binding) || self.bindings.contains_key(binding) {
          return Err(ApiError::conflict(
            50425,
            "Participant and proxy address pairs for one or more participants already in use.",
          ));
        }
        bindings.push(binding);
      }
    }
    self.check_room(None, participants.len(), bindings.len())
  }

  pub fn add_participant(
    &mut self,
    conversation_sid: &str,
    input: ParticipantInput,
    path: &str,
  ) -> ApiResult<&Participant> {
    self.validate_participant(&input)?;
    let conversation = self.writable(conversation_sid, path)?;
    if let Some(identity) = &input.identity {
      if conversation
        .participants
        .iter()
        .any(|p| p.identity.as_ref() == Some(identity))
      {
        return Err(ApiError::conflict(50433, "Participant already exists"));
      }
    }
    self.check_room(Some(conversation), 1, usize::from(input.binding.is_some()))?;
    if let Some(identity) = &input.identity {
      self.check_identity_slot(identity)?;
    }
    if let Some(binding) = &input.binding {
      if let Some(holder) = self.bindings.get(binding) {
        return Err(ApiError::conflict(
          50416,
          format!("A binding for this participant and proxy address already exists in Conversation {holder}"),
        ));
      }
    }
    Ok(self.insert_participant(conversation_sid, input))
  }

  /// Stores a validated participant: it takes its binding and an identity slot.
  pub(super) fn insert_participant(&mut self, conversation_sid: &str, input: ParticipantInput) -> &Participant {
    if let Some(binding) = &input.binding {
      self.bindings.insert(binding.clone(), conversation_sid.to_string());
    }
    if let Some(identity) = &input.identity {
      *self.identity_slots.entry(identity.clone()).or_default() += 1;
    }
    let now = self.now();
    let conversation = self
      .conversations
      .get_mut(conversation_sid)
      .expect("validated before insertion");
    conversation.participants.push(Participant {
      sid: new_sid("MB"),
      identity: input.identity,
      binding: input.binding,
      attributes: input.attributes.unwrap_or_else(|| "{}".to_string()),
      role_sid: input.role_sid,
      date_created: now,
      last_inbound: None,
    });
    conversation.participants.last().expect("just pushed")
  }

  /// A participant by SID or, as Twilio allows, by identity.
  pub fn find_participant(&self, conversation_sid: &str, sid_or_identity: &str, path: &str) -> ApiResult<&Participant> {
    self
      .conversation_by_sid(conversation_sid, path)?
      .participants
      .iter()
      .find(|p| p.sid == sid_or_identity || p.identity.as_deref() == Some(sid_or_identity))
      .ok_or_else(|| ApiError::not_found(path))
  }

  /// A participant by SID only: what Twilio's update and delete take (an identity there is not found).
  pub fn participant_by_sid(&self, conversation_sid: &str, sid: &str, path: &str) -> ApiResult<&Participant> {
    self
      .conversation_by_sid(conversation_sid, path)?
      .participants
      .iter()
      .find(|p| p.sid == sid)
      .ok_or_else(|| ApiError::not_found(path))
  }

  /// Removes a participant by its SID.
  pub fn remove_participant(&mut self, conversation_sid: &str, sid: &str, path: &str) -> ApiResult<()> {
    self.participant_by_sid(conversation_sid, sid, path)?;
    self.writable(conversation_sid, path)?;
    let conversation = self.conversation_mut(conversation_sid, path)?;
    let Some(position) = conversation.participants.iter().position(|p| p.sid == sid) else {
      return Ok(());
    };
    let removed = conversation.participants.remove(position);
    if let Some(identity) = &removed.identity {
      self.release_identity(identity);
    }
    if let Some(binding) = removed.binding {
      if self.bindings.get(&binding).map(String::as_str) == Some(conversation_sid) {
        self.bindings.remove(&binding);
      }
    }
    Ok(())
  }

  fn release_identity(&mut self, identity: &str) {
    if let Some(count) = self.identity_slots.get_mut(identity) {
      *count = count.saturating_sub(1);
      if *count == 0 {
        self.identity_slots.remove(identity);
      }
    }
  }

  /// A conversation closed or went away: its identities no longer count it.
  pub(super) fn release_identities(&mut self, conversation_sid: &str) {
    let identities: Vec<String> = self
      .conversations
      .get(conversation_sid)
      .map(|c| c.participants.iter().filter_map(|p| p.identity.clone()).collect())
      .unwrap_or_default();
    for identity in identities {
      self.release_identity(&identity);
    }
  }

  /// ParticipantConversations: every conversation (closed ones too) with a participant of that address or
  /// identity, sorted by conversation SID.
  pub fn participant_conversations<'a>(
    &'a self,
    address: Option<&'a str>,
    identity: Option<&'a str>,
  ) -> Vec<(&'a Conversation, &'a Participant)> {
    let mut found: Vec<_> = self
      .conversations
      .values()
      .flat_map(|c| c.participants.iter().map(move |p| (c, p)))
      .filter(|(_, p)| match (address, identity) {
        (Some(address), _) => p.binding.as_ref().is_some_and(|b| b.address == address),
        (None, Some(identity)) => p.identity.as_deref() == Some(identity),
        (None, None) => false,
      })
      .collect();
    found.sort_by(|a, b| a.0.sid.cmp(&b.0.sid));
    found
  }
}

/// An address and its proxy: E.164 numbers of one channel (`whatsapp:` on both or neither), not equal.
fn validate_binding(binding: &Binding) -> ApiResult<()> {
  if binding.proxy_address.is_empty() {
    return Err(ApiError::bad_request(50412, "Participant proxy address is empty"));
  }
  if !is_channel_address(&binding.address)
    || binding.address.starts_with("whatsapp:") != binding.proxy_address.starts_with("whatsapp:")
  {
    return Err(ApiError::bad_request(50407, "Invalid messaging binding address"));
  }
  if !is_channel_address(&binding.proxy_address) {
    return Err(ApiError::bad_request(50408, "Invalid messaging binding proxy address"));
  }
  if binding.address == binding.proxy_address {
    return Err(ApiError::bad_request(50409, "Participant address equals proxy address"));
  }
  Ok(())
}

/// `+` and 8 to 15 digits, optionally behind `whatsapp:`.
fn is_channel_address(address: &str) -> bool {
  let number = address.strip_prefix("whatsapp:").unwrap_or(address);
  number
    .strip_prefix('+')
    .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}
