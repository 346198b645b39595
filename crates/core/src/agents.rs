//! Agents in the customer's conversation: chat identities that join and leave, the participants as a list, and
//! the assignment (the conversation's `assignee` attribute, with the agent in the conversation). Each agent is a
//! chat identity, subject to Twilio's limit of 1,000 active or inactive conversations per identity.

use std::sync::Arc;

use serde_json::Value;

use crate::conversation::{attributes_of, Conversations, ASSIGNEE};
use crate::endpoints::Api;
use crate::error::{Error, Result};
use crate::records::ParticipantRecord;

#[derive(Debug, Clone)]
pub struct AgentAdded {
  pub conversation_sid: String,
  pub participant_sid: String,
  pub identity: String,
  pub already_present: bool,
}

#[derive(Debug, Clone, Default)]
pub struct AgentRemoved {
  pub conversation_sid: Option<String>,
  pub removed: bool,
}

#[derive(Debug, Clone)]
pub struct ParticipantInfo {
  pub sid: String,
  pub identity: Option<String>,
  pub address: Option<String>,
  pub proxy_address: Option<String>,
  pub attributes: Value,
  pub date_created: Option<String>,
}

impl From<ParticipantRecord> for ParticipantInfo {
  fn from(record: ParticipantRecord) -> Self {
    let (address, proxy_address) = record
      .messaging_binding
      .map_or((None, None), |binding| (binding.address, binding.proxy_address));
    Self {
      sid: record.sid,
      identity: record.identity,
      address,
      proxy_address,
      attributes: Value::Object(attributes_of(&record.attributes)),
      date_created: record.date_created,
    }
  }
}

#[derive(Debug, Clone, Default)]
pub struct Participants {
  pub conversation_sid: Option<String>,
  pub participants: Vec<ParticipantInfo>,
}

#[derive(Debug, Clone)]
pub struct Assignment {
  pub conversation_sid: String,
  pub assignee: String,
  pub previous_assignee: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Unassignment {
  pub conversation_sid: Option<String>,
  pub previous_assignee: Option<String>,
}

pub struct Agents {
  api: Arc<Api>,
  conversations: Arc<Conversations>,
}

impl Agents {
  pub fn new(api: Arc<Api>, conversations: Arc<Conversations>) -> Self {
    Self { api, conversations }
  }

  /// The agent in the conversation: added, or found there already (Twilio refuses a second one with 50433).
  async fn join(&self, conversation_sid: &str, identity: &str, attributes: Option<&str>) -> Result<(String, bool)> {
    match self.api.add_participant(conversation_sid, identity, attributes).await {
      Ok(participant) => Ok((participant.sid, false)),
      Err(error) if error.has_code(50433) => {
        let present = self.api.participants(conversation_sid).await?;
        let found = present.into_iter().find(|p| p.identity.as_deref() == Some(identity));
        found.map(|p| (p.sid, true)).ok_or(error)
      }
      Err(error) => Err(error),
    }
  }

  /// Removes the participant with `identity`: found by identity (which Twilio takes in place of the SID only on a
  /// fetch), removed by its SID; `false` when it was not there, or went meanwhile.
  async fn leave(&self, conversation_sid: &str, identity: &str) -> Result<bool> {
    let participant = match self.api.participant_by_identity(conversation_sid, identity).await {
      Ok(participant) => participant,
      Err(error) if error.is_not_found() => return Ok(false),
      Err(error) => return Err(error),
    };
    match self.api.remove_participant(conversation_sid, &participant.sid).await {
      Ok(()) => Ok(true),
      Err(error) if error.is_not_found() => Ok(false),
      Err(error) => Err(error),
    }
  }

  pub async fn add(&self, phone: &str, identity: &str, attributes: Option<&str>) -> Result<AgentAdded> {
    let customer = self.conversations.customer(phone)?;
    let identity = crate::input::identity(identity)?;
    let attributes = attributes.map(crate::input::participant_attributes).transpose()?;
    self
      .conversations
      .on_open(&customer, |conversation| async move {
        let (participant_sid, already_present) = self.join(&conversation.sid, identity, attributes).await?;
        Ok(AgentAdded {
          conversation_sid: conversation.sid,
          participant_sid,
          identity: identity.to_string(),
          already_present,
        })
      })
      .await
      .map_err(explain_identity_limit)
  }

  pub async fn remove(&self, phone: &str, identity: &str) -> Result<AgentRemoved> {
    let identity = crate::input::identity(identity)?;
    let Some(conversation) = self.conversations.existing(phone).await? else {
      return Ok(AgentRemoved::default());
    };
    let removed = self.leave(&conversation.sid, identity).await?;
    Ok(AgentRemoved {
      conversation_sid: Some(conversation.sid),
      removed,
    })
  }

  pub async fn list(&self, phone: &str) -> Result<Participants> {
    let Some(conversation) = self.conversations.existing(phone).await? else {
      return Ok(Participants::default());
    };
    let participants = self.api.participants(&conversation.sid).await?;
    Ok(Participants {
      conversation_sid: Some(conversation.sid),
      participants: participants.into_iter().map(ParticipantInfo::from).collect(),
    })
  }

  /// The agent joins (if not in), becomes the conversation's `assignee`, and the previous assignee leaves unless
  /// `keep_previous`.
  pub async fn assign(&self, phone: &str, identity: &str, keep_previous: bool) -> Result<Assignment> {
    let customer = self.conversations.customer(phone)?;
    let identity = crate::input::identity(identity)?;
    self
      .conversations
      .on_open(&customer, |conversation| async move {
        self.join(&conversation.sid, identity, None).await?;
        let (before, _) = self
          .conversations
          .change_attributes(&conversation.sid, |attributes| {
            attributes.insert(ASSIGNEE.to_string(), Value::from(identity));
            Ok(())
          })
          .await?;
        let previous = before.get(ASSIGNEE).and_then(Value::as_str).map(str::to_string);
        if let Some(previous) = previous.as_deref().filter(|p| *p != identity && !keep_previous) {
          self.leave(&conversation.sid, previous).await?;
        }
        Ok(Assignment {
          conversation_sid: conversation.sid,
          assignee: identity.to_string(),
          previous_assignee: previous,
        })
      })
      .await
      .map_err(explain_identity_limit)
  }

  /// Clears the conversation's `assignee`; the agent stays in the conversation.
  pub async fn unassign(&self, phone: &str) -> Result<Unassignment> {
    let Some(conversation) = self.conversations.existing(phone).await? else {
      return Ok(Unassignment::default());
    };
    let (before, _) = self
      .conversations
      .change_attributes(&conversation.sid, |attributes| {
        attributes.remove(ASSIGNEE);
        Ok(())
      })
      .await?;
    Ok(Unassignment {
      conversation_sid: Some(conversation.sid),
      previous_assignee: before.get(ASSIGNEE).and_then(Value::as_str).map(str::to_string),
    })
  }
}

/// An agent at Twilio's identity limit: Twilio's code, with a message that says which limit and what frees it.
fn explain_identity_limit(error: Error) -> Error {
  match error {
    Error::Api {
      status,
      code: Some(code @ 50214),
      more_info,
      details,
      ..
    } => Error::Api {
      status,
      code: Some(code),
      message: "The agent is already in 1,000 active or inactive conversations, Twilio's limit for one identity: \
                close conversations (or remove the agent from some) before adding it to another"
        .to_string(),
      more_info,
      details,
    },
    other => other,
  }
}
