//! Each webhook event handed to the caller's handler once, and delivery statuses never backwards.
//!
//! An event is claimed (see [`crate::claims`]: fleet-wide with Redis, in the process without) before its handler
//! runs, under Twilio's per-delivery token (`I-Twilio-Idempotency-Token`) when the request has one, else under the
//! event's own identity: its type and the SIDs, status and state it is about. A copy that arrives while the first
//! is handled waits for it; one after it is a duplicate. A handler that throws releases the claim, so that Twilio's
//! retry is handled.
//!
//! A delivery status (`onDeliveryUpdated`'s `Status`, a Messaging callback's `MessageStatus`) is ranked in Twilio's
//! order: queued < sending < sent < delivered < read, and failed, undelivered and canceled final. A status that does
//! not rank above the highest one handed on for that receipt is stale: it is dropped, not handed on as news.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use moka::future::Cache;
use moka::ops::compute::Op;

use crate::claims::{Claimed, Claims, Held, MEMORY};
use crate::fleet::Fleet;
use crate::idempotency::ContentDigest;
use crate::sync::Unpoisoned;

/// The most receipts whose highest status a process remembers; the oldest go first.
const LOCAL_RANKS: u64 = 200_000;
/// What identifies an event without a delivery token, beside its type and account.
const IDENTITY: [&str; 11] = [
  "ConversationSid",
  "MessageSid",
  "ParticipantSid",
  "DeliveryReceiptSid",
  "Status",
  "MessageStatus",
  "StateTo",
  "DateUpdated",
  "Index",
  "WebhookSid",
  "SmsSid",
];

/// The highest status handed on per receipt, in this process (used without Redis, or while it does not answer).
static RANKS: LazyLock<Cache<String, u8>> =
  LazyLock::new(|| Cache::builder().max_capacity(LOCAL_RANKS).time_to_live(MEMORY).build());

/// A status's place in Twilio's order; `None` for one this module does not know (handed on as it is).
fn rank(status: &str) -> Option<u8> {
  Some(match status {
    "accepted" | "scheduled" | "queued" => 1,
    "sending" => 2,
    "sent" => 3,
    "delivered" => 4,
    "read" => 5,
    "failed" | "undelivered" | "canceled" => 6,
    _ => return None,
  })
}

/// What becomes of an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
  /// Hand it to the handler, then settle this ticket.
  Handle(u64),
  /// Handled before (or by another replica).
  Duplicate,
  /// A delivery status older than one already handed on for the same receipt.
  Stale,
}

/// A status ranked above what was seen, and what was seen before, to be put back if its handler fails.
struct Advanced {
  name: String,
  rank: u8,
  previous: u8,
  /// Advanced in Redis (else in this process's ranks).
  fleet: bool,
}

struct Hold {
  claim: Held,
  advanced: Option<Advanced>,
}

pub struct Events {
  claims: Arc<Claims>,
  fleet: Option<Arc<Fleet>>,
  account_sid: String,
  held: Mutex<HashMap<u64, Hold>>,
  next: AtomicU64,
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> &'p str {
  params
    .iter()
    .find(|(n, _)| n == name)
    .map_or("", |(_, value)| value.as_str())
}

impl Events {
  pub fn new(claims: Arc<Claims>, fleet: Option<Arc<Fleet>>, account_sid: String) -> Self {
    Self {
      claims,
      fleet,
      account_sid,
      held: Mutex::default(),
      next: AtomicU64::new(0),
    }
  }

  /// Whether the event `params` (delivered with `token`, if Twilio sent one) goes to its handler.
  pub async fn admit(&self, params: &[(String, String)], token: Option<&str>) -> Admission {
    let name = match token.filter(|t| !t.is_empty()) {
      Some(token) => ContentDigest::of(&["token", &self.account_sid, token]),
      None => {
        let mut parts = vec!["event", &self.account_sid, param(params, "EventType")];
        parts.extend(IDENTITY.iter().map(|field| param(params, field)));
        ContentDigest::of(&parts)
      }
    };
    let claim = match self.claims.claim(&format!("event:{}", name.as_str())).await {
      Claimed::Done(_) => return Admission::Duplicate,
      Claimed::Held(held) => held,
    };
    let advanced = match self.advance(params).await {
      Ok(advanced) => advanced,
      Err(Stale) => {
        // Handed on as dropped: its copies are dropped too.
        claim.done("stale").await;
        return Admission::Stale;
      }
    };
    let ticket = self.next.fetch_add(1, Ordering::Relaxed);
    self.held.locked().insert(ticket, Hold { claim, advanced });
    Admission::Handle(ticket)
  }

  /// The handler of `ticket` finished: `handled` (its copies are duplicates now), or failed (the claim and the
  /// status it moved are given back, for Twilio's retry).
  pub async fn settle(&self, ticket: u64, handled: bool) {
    let Some(hold) = self.held.locked().remove(&ticket) else {
      return;
    };
    if handled {
      hold.claim.done("handled").await;
      return;
    }
    if let Some(advanced) = hold.advanced {
      self.retreat(&advanced).await;
    }
    hold.claim.release().await;
  }

  /// Moves the receipt's highest status up to this event's, or says it is stale.
  async fn advance(&self, params: &[(String, String)]) -> Result<Option<Advanced>, Stale> {
    let (status, receipt) = match param(params, "Status") {
      "" => (
        param(params, "MessageStatus"),
        ["message", param(params, "MessageSid"), ""],
      ),
      status => match param(params, "DeliveryReceiptSid") {
        "" => (
          status,
          [
            "participant",
            param(params, "MessageSid"),
            param(params, "ParticipantSid"),
          ],
        ),
        receipt => (status, ["receipt", receipt, ""]),
      },
    };
    let Some(rank) = rank(status) else {
      return Ok(None);
    };
    if receipt[1].is_empty() {
      return Ok(None);
    }
    let mut parts = vec!["rank", self.account_sid.as_str()];
    parts.extend(receipt);
    let name = format!("rank:{}", ContentDigest::of(&parts).as_str());
    let in_fleet = match &self.fleet {
      Some(fleet) => fleet.advance(&name, rank, MEMORY).await,
      None => None,
    };
    let (previous, fleet) = match in_fleet {
      Some(previous) => (previous, true),
      // No Redis, or none answering: this process's ranks.
      None => (advance_here(&name, rank).await, false),
    };
    previous
      .map(|previous| {
        Some(Advanced {
          name,
          rank,
          previous,
          fleet,
        })
      })
      .ok_or(Stale)
  }

  /// Puts the rank back where it was advanced: in Redis, or in this process.
  async fn retreat(&self, advanced: &Advanced) {
    if advanced.fleet {
      if let Some(fleet) = &self.fleet {
        fleet.retreat(&advanced.name, advanced.rank, advanced.previous).await;
      }
      return;
    }
    let (rank, previous) = (advanced.rank, advanced.previous);
    RANKS
      .entry(advanced.name.clone())
      .and_compute_with(|seen| async move {
        match seen {
          Some(seen) if *seen.value() == rank && previous == 0 => Op::Remove,
          Some(seen) if *seen.value() == rank => Op::Put(previous),
          _ => Op::Nop,
        }
      })
      .await;
  }
}

/// A status no newer than one already handed on.
struct Stale;

/// In the process: the status seen before `rank` (0 for none) when `rank` is above it, else `None`.
async fn advance_here(name: &str, rank: u8) -> Option<u8> {
  let mut previous = None;
  RANKS
    .entry(name.to_string())
    .and_compute_with(|seen| {
      let seen = seen.map_or(0, |entry| entry.into_value());
      if rank > seen {
        previous = Some(seen);
      }
      async move {
        if rank > seen {
          Op::Put(rank)
        } else {
          Op::Nop
        }
      }
    })
    .await;
  previous
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::time::Duration;

  fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
  }

  fn events() -> Events {
    let claims = Arc::new(Claims::new(None, Duration::from_secs(30)));
    Events::new(claims, None, format!("AC{}", uuid::Uuid::new_v4().simple()))
  }

  fn receipt(status: &str) -> Vec<(String, String)> {
    params(&[
      ("EventType", "onDeliveryUpdated"),
      ("DeliveryReceiptSid", "DY1"),
      ("MessageSid", "IM1"),
      ("Status", status),
    ])
  }

  #[tokio::test]
  async fn an_event_is_handed_on_once_and_again_after_its_handler_failed() {
    let events = events();
    let added = params(&[("EventType", "onMessageAdded"), ("MessageSid", "IM1")]);
    let Admission::Handle(first) = events.admit(&added, None).await else {
      panic!("the first copy is handled");
    };
    events.settle(first, false).await;
    let Admission::Handle(retry) = events.admit(&added, None).await else {
      panic!("a failed handler's event is handled again");
    };
    events.settle(retry, true).await;
    assert_eq!(events.admit(&added, None).await, Admission::Duplicate);
  }

  #[tokio::test]
  async fn a_status_older_than_one_handed_on_is_stale_unless_that_handler_failed() {
    let events = events();
    let Admission::Handle(read) = events.admit(&receipt("read"), None).await else {
      panic!("read is news");
    };
    assert_eq!(events.admit(&receipt("delivered"), None).await, Admission::Stale);
    events.settle(read, false).await;
    let Admission::Handle(sent) = events.admit(&receipt("sent"), None).await else {
      panic!("with read given back, sent is news");
    };
    events.settle(sent, true).await;
    assert!(matches!(
      events.admit(&receipt("failed"), None).await,
      Admission::Handle(_)
    ));
    assert_eq!(events.admit(&receipt("read"), None).await, Admission::Stale);
  }

  #[tokio::test]
  async fn a_delivery_token_identifies_the_event_whatever_its_parameters() {
    let events = events();
    let Admission::Handle(first) = events.admit(&receipt("sent"), Some("token-1")).await else {
      panic!("the first delivery is handled");
    };
    events.settle(first, true).await;
    let other = params(&[("EventType", "onMessageAdded"), ("MessageSid", "IM9")]);
    assert_eq!(events.admit(&other, Some("token-1")).await, Admission::Duplicate);
  }
}
