//! The customer's conversation, read and steered: its status, its state and its metadata (the conversation's
//! attributes). A read never creates a conversation; a write that needs one finds or creates it. Changes to the
//! attributes are serialised per conversation in this process, so concurrent patches keep each other's keys.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};

use serde_json::{Map, Value};

use crate::endpoints::Api;
use crate::error::Result;
use crate::phone::Customer;
use crate::records::{ConversationInfo, ConversationRecord};
use crate::resolver::Resolver;
use crate::sync::Unpoisoned;

/// The attribute under which the assigned agent's identity is kept.
pub const ASSIGNEE: &str = "assignee";

/// A conversation's status; every field `None` when the customer has no conversation.
#[derive(Debug, Clone, Default)]
pub struct Status {
  pub conversation_sid: Option<String>,
  pub state: Option<String>,
  pub unique_name: Option<String>,
  pub friendly_name: Option<String>,
  pub assignee: Option<String>,
  pub participant_count: u32,
  pub date_created: Option<String>,
  pub date_updated: Option<String>,
  pub date_inactive: Option<String>,
  pub date_closed: Option<String>,
}

/// The state after a change; `None` for both when the customer has no conversation.
#[derive(Debug, Clone, Default)]
pub struct StateChange {
  pub conversation_sid: Option<String>,
  pub state: Option<String>,
}

/// A conversation's metadata; empty when it has none, or when the customer has no conversation.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
  pub conversation_sid: Option<String>,
  pub metadata: Map<String, Value>,
}

/// One async lock per conversation whose attributes are being changed; entries go when nobody holds them.
#[derive(Default)]
struct AttributeLocks {
  by_sid: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl AttributeLocks {
  async fn lock(&self, sid: &str) -> tokio::sync::OwnedMutexGuard<()> {
    let lock = {
      let mut by_sid = self.by_sid.locked();
      if let Some(live) = by_sid.get(sid).and_then(Weak::upgrade) {
        live
      } else {
        // Forget the locks nobody holds before adding one: the map stays as small as the changes in flight.
        by_sid.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        by_sid.insert(sid.to_string(), Arc::downgrade(&lock));
        lock
      }
    };
    lock.lock_owned().await
  }
}

/// Attributes as an object; anything else Twilio might hold reads as empty.
pub(crate) fn attributes_of(text: &str) -> Map<String, Value> {
  object_of(text).unwrap_or_default()
}

/// Attributes as an object, if they are one.
pub(crate) fn object_of(text: &str) -> Option<Map<String, Value>> {
  match serde_json::from_str(text) {
    Ok(Value::Object(map)) => Some(map),
    _ => None,
  }
}

pub struct Conversations {
  api: Arc<Api>,
  resolver: Arc<Resolver>,
  locks: AttributeLocks,
}

impl Conversations {
  pub fn new(api: Arc<Api>, resolver: Arc<Resolver>) -> Self {
    Self {
      api,
      resolver,
      locks: AttributeLocks::default(),
    }
  }

  /// The customer's conversation if there is one (from the cache when it is there); never creates one.
  /// The customer `phone` names, read as the client's options say.
  pub fn customer(&self, phone: &str) -> Result<Customer> {
    self.resolver.customer(phone)
  }

  pub(crate) async fn existing(&self, phone: &str) -> Result<Option<ConversationInfo>> {
    self.resolver.find(&self.resolver.customer(phone)?).await
  }

  /// Runs a write on the customer's open conversation, found or created. When Twilio reports it closed or gone
  /// (the cache was behind), the customer's current conversation is found afresh and the write made there once.
  pub(crate) async fn on_open<T, F, Fut>(&self, customer: &Customer, write: F) -> Result<T>
  where
    F: Fn(ConversationInfo) -> Fut,
    Fut: Future<Output = Result<T>>,
  {
    let conversation = self.resolver.resolve(customer).await?;
    match write(conversation).await {
      Err(error) if error.is_not_found() || error.has_code(50377) => {
        self.resolver.evict(customer).await;
        write(self.resolver.resolve(customer).await?).await
      }
      result => result,
    }
  }

  /// Reads the conversation's attributes, lets `change` edit them, and writes them back when they changed, all
  /// under this conversation's lock. Answers the attributes before and after.
  pub(crate) async fn change_attributes(
    &self,
    sid: &str,
    change: impl FnOnce(&mut Map<String, Value>) -> Result<()>,
  ) -> Result<(Map<String, Value>, Map<String, Value>)> {
    let _held = self.locks.lock(sid).await;
    let before = attributes_of(&self.api.conversation(sid).await?.attributes);
    let mut after = before.clone();
    change(&mut after)?;
    if after != before {
      let text = Value::Object(after.clone()).to_string();
      crate::input::metadata_size(&text)?;
      let updated = self.api.update_conversation(sid, &[("Attributes", &text)]).await?;
      after = attributes_of(&updated.attributes);
    }
    Ok((before, after))
  }

  pub async fn status(&self, phone: &str) -> Result<Status> {
    let Some(conversation) = self.existing(phone).await? else {
      return Ok(Status::default());
    };
    // Twilio's Conversation has no participant count: the list is read beside it.
    let (record, participants) = tokio::try_join!(
      self.api.conversation(&conversation.sid),
      self.api.participants(&conversation.sid)
    )?;
    let ConversationRecord {
      sid,
      unique_name,
      friendly_name,
      attributes,
      state,
      date_created,
      date_updated,
      timers,
    } = record;
    Ok(Status {
      conversation_sid: Some(sid),
      state: Some(state),
      unique_name,
      friendly_name,
      assignee: attributes_of(&attributes)
        .get(ASSIGNEE)
        .and_then(Value::as_str)
        .map(str::to_string),
      participant_count: u32::try_from(participants.len()).unwrap_or(u32::MAX),
      date_created,
      date_updated,
      date_inactive: timers.date_inactive,
      date_closed: timers.date_closed,
    })
  }

  /// Moves the conversation to `active`, `inactive` or `closed`. Closing forgets it in the cache: the customer's
  /// next message opens the next conversation.
  pub async fn set_state(&self, phone: &str, state: &str) -> Result<StateChange> {
    let customer = self.resolver.customer(phone)?;
    let state = crate::input::state(state)?;
    let Some(conversation) = self.resolver.find(&customer).await? else {
      return Ok(StateChange::default());
    };
    let now = match self
      .api
      .update_conversation(&conversation.sid, &[("State", state)])
      .await
    {
      Ok(record) => record.state,
      // Closed already: by a repeat of this request after a lost answer, or behind the client's back.
      Err(error) if error.has_code(50377) && state == "closed" => "closed".to_string(),
      Err(error) => return Err(error),
    };
    if now == "closed" {
      self.resolver.evict(&customer).await;
    }
    Ok(StateChange {
      conversation_sid: Some(conversation.sid),
      state: Some(now),
    })
  }

  pub async fn metadata(&self, phone: &str) -> Result<Metadata> {
    let Some(conversation) = self.existing(phone).await? else {
      return Ok(Metadata::default());
    };
    let record = self.api.conversation(&conversation.sid).await?;
    Ok(Metadata {
      conversation_sid: Some(record.sid),
      metadata: attributes_of(&record.attributes),
    })
  }

  /// Merges `patch` into the metadata at the top level (`null` deletes a key), or replaces it. The customer's
  /// conversation is found or created.
  pub async fn set_metadata(&self, phone: &str, patch: &str, replace: bool) -> Result<Metadata> {
    let customer = self.resolver.customer(phone)?;
    let patch = crate::input::metadata(patch)?;
    self
      .on_open(&customer, |conversation| {
        let patch = patch.clone();
        async move {
          let (_, metadata) = self
            .change_attributes(&conversation.sid, |attributes| {
              if replace {
                attributes.clear();
              }
              for (key, value) in patch {
                if value.is_null() {
                  attributes.remove(&key);
                } else {
                  attributes.insert(key, value);
                }
              }
              Ok(())
            })
            .await?;
          Ok(Metadata {
            conversation_sid: Some(conversation.sid),
            metadata,
          })
        }
      })
      .await
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[tokio::test]
  async fn attribute_locks_are_kept_only_while_someone_holds_them() {
    let locks = AttributeLocks::default();
    for i in 0..1000 {
      let _held = locks.lock(&format!("CH{i}")).await;
    }
    let _held = locks.lock("CHlast").await;
    let kept = locks.by_sid.lock().map(|by_sid| by_sid.len()).unwrap_or(usize::MAX);
    assert_eq!(kept, 1);
  }
}
