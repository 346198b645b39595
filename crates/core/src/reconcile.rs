//! Nothing lost inbound: the messages this client sent are kept in a journal (in the process, and with `redisUrl`
//! in Redis, for every process of the fleet) for [`JOURNAL_SPAN`], so that the delivery statuses whose webhooks
//! never arrived (a deploy, an outage) can be read back from Twilio's receipts and handed to the same handlers, as
//! the `onDeliveryUpdated` events Twilio would have sent. They go through the same claims as live events (see
//! [`crate::events`]): a status handed on already is not handed on again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};

use crate::endpoints::Api;
use crate::error::Result;
use crate::fleet::Fleet;
use crate::sync::Unpoisoned;

/// How far back the journal goes: a day, as long as handled events are remembered.
pub const JOURNAL_SPAN: Duration = crate::claims::MEMORY;
/// The most messages a process keeps in its journal; the oldest go first.
const LOCAL_ENTRIES: usize = 100_000;
/// Receipts read at once while reconciling: reads are not limited by Twilio, but a fleet's reconcile should not
/// crowd out its sends' reads.
const READS_AT_ONCE: usize = 8;

/// When a message was sent (ms since the epoch) and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
  at_ms: u64,
  conversation_sid: String,
  message_sid: String,
}

pub struct Journal {
  local: Mutex<VecDeque<Entry>>,
  fleet: Option<Arc<Fleet>>,
}

fn now_ms() -> u64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Journal {
  pub fn new(fleet: Option<Arc<Fleet>>) -> Self {
    Self {
      local: Mutex::default(),
      fleet,
    }
  }

  /// Notes a message this client sent; the fleet's copy is written in the background, off the send's path.
  pub fn sent(&self, conversation_sid: &str, message_sid: &str) {
    let at_ms = now_ms();
    {
      let mut local = self.local.locked();
      if local.len() >= LOCAL_ENTRIES {
        local.pop_front();
      }
      local.push_back(Entry {
        at_ms,
        conversation_sid: conversation_sid.to_string(),
        message_sid: message_sid.to_string(),
      });
    }
    if let Some(fleet) = &self.fleet {
      let member = format!("{conversation_sid}/{message_sid}");
      fleet.in_background(move |fleet| async move { fleet.journal(&member, at_ms, JOURNAL_SPAN).await });
    }
  }

  /// The messages sent from `since_ms` to `until_ms`: the fleet's when Redis answers, else this process's.
  async fn between(&self, since_ms: u64, until_ms: u64) -> Vec<(String, String)> {
    if let Some(fleet) = &self.fleet {
      if let Some(members) = fleet.journaled(since_ms, until_ms).await {
        return members
          .iter()
          .filter_map(|m| m.split_once('/'))
          .filter(|(c, m)| crate::records::is_sid(c, "CH") && crate::records::is_sid(m, "IM"))
          .map(|(c, m)| (c.to_string(), m.to_string()))
          .collect();
      }
    }
    self
      .local
      .locked()
      .iter()
      .filter(|e| (since_ms..=until_ms).contains(&e.at_ms))
      .map(|e| (e.conversation_sid.clone(), e.message_sid.clone()))
      .collect()
  }

  /// The `onDeliveryUpdated` events, as form parameters, of every receipt of the messages sent in the period.
  pub async fn receipts(&self, api: &Api, account_sid: &str, since_ms: u64, until_ms: u64) -> Result<Vec<Event>> {
    let messages = self.between(since_ms, until_ms).await;
    let reads = stream::iter(messages)
      .map(|(conversation_sid, message_sid)| async move {
        let receipts = api.receipts(&conversation_sid, &message_sid).await?;
        Ok::<_, crate::error::Error>((conversation_sid, message_sid, receipts))
      })
      .buffer_unordered(READS_AT_ONCE)
      .collect::<Vec<_>>()
      .await;
    let mut events = Vec::new();
    for read in reads {
      let (conversation_sid, message_sid, receipts) = read?;
      for receipt in receipts {
        let Some(status) = receipt.status else { continue };
        let mut event = vec![
          pair("EventType", "onDeliveryUpdated"),
          pair("AccountSid", account_sid),
          pair("ConversationSid", &conversation_sid),
          pair("MessageSid", &message_sid),
          pair("DeliveryReceiptSid", &receipt.sid),
          pair("Status", &status),
        ];
        let optional = [
          ("ParticipantSid", receipt.participant_sid),
          ("ChannelMessageSid", receipt.channel_message_sid),
          ("ErrorCode", receipt.error_code.map(|code| code.to_string())),
          ("DateCreated", receipt.date_created),
          ("DateUpdated", receipt.date_updated),
        ];
        event.extend(
          optional
            .into_iter()
            .filter_map(|(name, value)| Some(pair(name, &value?))),
        );
        events.push(event);
      }
    }
    Ok(events)
  }
}

/// An event's form parameters.
pub type Event = Vec<(String, String)>;

fn pair(name: &str, value: &str) -> (String, String) {
  (name.to_string(), value.to_string())
}
