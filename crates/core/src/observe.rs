//! What the client does, for its caller to see: a record of every Twilio request while someone watches (a debug
//! log, a diagnostics channel), and running totals a service exports as metrics.
//!
//! Records name the request by its route (`/v1/Conversations/{ConversationSid}/Messages`): never a number, a
//! unique name or a query. They wait, bounded, for the binding to take them with the next calls it settles.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::sync::Unpoisoned;

/// Records beyond this many, not yet taken, are dropped: a caller that never takes them must not grow memory.
const MAX_RECORDS: usize = 4096;
/// Pacing waits kept for the percentiles: the most recent ones.
const WAIT_SAMPLES: usize = 1024;

tokio::task_local! {
  /// The caller's number for the call a request belongs to.
  static CALL: u32;
}

/// Runs `call` with requests recorded under `number`.
pub fn numbered<F: Future>(number: u32, call: F) -> impl Future<Output = F::Output> {
  CALL.scope(number, call)
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
  /// The caller's number for the call it belongs to, when it belongs to one.
  pub call: Option<u32>,
  pub method: &'static str,
  /// `host:port`.
  pub host: String,
  pub route: String,
  /// Twilio's answer; none when there was none (a network error, a timeout).
  pub status: Option<u16>,
  pub duration: Duration,
  /// 0 for the first attempt, then one more per repeat.
  pub attempt: u32,
}

/// Running totals since the client was made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
  pub requests: u64,
  pub retries: u64,
  pub rate_limited: u64,
  pub cache_hits: u64,
  pub cache_misses: u64,
  /// Writes waiting for a pacing turn now.
  pub queued: u64,
  pub pacing_wait_p50: Duration,
  pub pacing_wait_p99: Duration,
}

#[derive(Default)]
pub struct Observer {
  watching: AtomicBool,
  records: Mutex<Vec<RequestRecord>>,
  requests: AtomicU64,
  retries: AtomicU64,
  rate_limited: AtomicU64,
  cache_hits: AtomicU64,
  cache_misses: AtomicU64,
  queued: AtomicU64,
  /// The latest pacing waits, in microseconds, as a ring.
  waits: Mutex<(Vec<u64>, usize)>,
}

/// A path with every SID and every segment holding digits (a number, a unique name) as a placeholder.
pub fn route(path: &str) -> String {
  let mut collection = "";
  path
    .split('/')
    .map(|segment| {
      // `AC….json`: the variable, and the suffix Twilio's path keeps.
      let (value, suffix) = segment.split_once('.').unwrap_or((segment, ""));
      let is_sid = value
        .get(..2)
        .is_some_and(|prefix| crate::records::is_sid(value, prefix));
      let is_id = value.bytes().any(|b| b.is_ascii_digit()) && value != "v1" && value != "2010-04-01";
      let named = if is_sid || is_id {
        let name = name_in(collection).unwrap_or_else(|| sid_name(value.get(..2).unwrap_or("")));
        let dot = if suffix.is_empty() { "" } else { "." };
        format!("{{{name}}}{dot}{suffix}")
      } else {
        segment.to_string()
      };
      collection = value;
      named
    })
    .collect::<Vec<_>>()
    .join("/")
}

/// What Twilio's paths call the item of a collection (`/v1/Conversations/{ConversationSid}`), whether it is named
/// by its SID or by a unique name.
fn name_in(collection: &str) -> Option<&'static str> {
  Some(match collection {
    "Accounts" => "AccountSid",
    "Conversations" => "ConversationSid",
    "Messages" => "MessageSid",
    "Participants" => "ParticipantSid",
    "Receipts" => "ReceiptSid",
    "Services" => "ChatServiceSid",
    "Content" => "ContentSid",
    "Media" => "MediaSid",
    "Webhooks" => "WebhookSid",
    _ => return None,
  })
}

fn sid_name(prefix: &str) -> &'static str {
  match prefix {
    "AC" => "AccountSid",
    "CH" => "ConversationSid",
    "IM" | "SM" | "MM" => "MessageSid",
    "MB" => "ParticipantSid",
    "IS" => "ChatServiceSid",
    "DY" => "ReceiptSid",
    "ME" => "MediaSid",
    "HX" => "ContentSid",
    "MG" => "MessagingServiceSid",
    _ => "Sid",
  }
}

impl Observer {
  /// Whether request records are kept (someone will take them).
  pub fn watch(&self, on: bool) {
    self.watching.store(on, Ordering::Relaxed);
  }

  pub(crate) fn request(&self, record: impl FnOnce(Option<u32>) -> RequestRecord, status: Option<u16>, attempt: u32) {
    self.requests.fetch_add(1, Ordering::Relaxed);
    if attempt > 0 {
      self.retries.fetch_add(1, Ordering::Relaxed);
    }
    if status == Some(429) {
      self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }
    if self.watching.load(Ordering::Relaxed) {
      let record = record(CALL.try_with(|call| *call).ok());
      let mut records = self.records.locked();
      if records.len() < MAX_RECORDS {
        records.push(record);
      }
    }
  }

  /// A conversation lookup served from the cache (`true`) or not.
  pub(crate) fn cache(&self, hit: bool) {
    let counter = if hit { &self.cache_hits } else { &self.cache_misses };
    counter.fetch_add(1, Ordering::Relaxed);
  }

  /// A write starts waiting for its pacing turn; the guard's drop ends the wait.
  pub(crate) fn queue(&self) -> Queued<'_> {
    self.queued.fetch_add(1, Ordering::Relaxed);
    Queued {
      observer: self,
      since: tokio::time::Instant::now(),
    }
  }

  /// Every record kept since the last take, oldest first.
  pub fn take_records(&self) -> Vec<RequestRecord> {
    if !self.watching.load(Ordering::Relaxed) {
      return Vec::new();
    }
    std::mem::take(&mut *self.records.locked())
  }

  pub fn totals(&self) -> Totals {
    let mut waits = self.waits.locked().0.clone();
    waits.sort_unstable();
    let percentile = |p: usize| {
      let index = (waits.len() * p / 100).min(waits.len().saturating_sub(1));
      Duration::from_micros(waits.get(index).copied().unwrap_or(0))
    };
    Totals {
      requests: self.requests.load(Ordering::Relaxed),
      retries: self.retries.load(Ordering::Relaxed),
      rate_limited: self.rate_limited.load(Ordering::Relaxed),
      cache_hits: self.cache_hits.load(Ordering::Relaxed),
      cache_misses: self.cache_misses.load(Ordering::Relaxed),
      queued: self.queued.load(Ordering::Relaxed),
      pacing_wait_p50: percentile(50),
      pacing_wait_p99: percentile(99),
    }
  }
}

pub(crate) struct Queued<'a> {
  observer: &'a Observer,
  since: tokio::time::Instant,
}

impl Drop for Queued<'_> {
  fn drop(&mut self) {
    self.observer.queued.fetch_sub(1, Ordering::Relaxed);
    let waited = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
    let mut ring = self.observer.waits.locked();
    let (samples, next) = &mut *ring;
    if samples.len() < WAIT_SAMPLES {
      samples.push(waited);
    } else if let Some(slot) = samples.get_mut(*next) {
      *slot = waited;
    }
    *next = (*next + 1) % WAIT_SAMPLES;
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_route_names_sids_and_hides_numbers_and_unique_names() {
    assert_eq!(
      route("/v1/Conversations/CH0123456789abcdef0123456789abcdef/Messages"),
      "/v1/Conversations/{ConversationSid}/Messages"
    );
    assert_eq!(
      route("/v1/Conversations/whatsapp_1234567890"),
      "/v1/Conversations/{ConversationSid}"
    );
    assert_eq!(
      route("/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json"),
      "/2010-04-01/Accounts/{AccountSid}.json"
    );
    assert_eq!(
      route("/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"),
      "/2010-04-01/Accounts/{AccountSid}/Messages.json"
    );
  }

  #[tokio::test(start_paused = true)]
  async fn records_are_kept_only_while_watched_and_pacing_waits_give_percentiles() {
    let observer = Observer::default();
    let record = |call| RequestRecord {
      call,
      method: "GET",
      host: "api.twilio.com:443".into(),
      route: "/v1/x".into(),
      status: Some(200),
      duration: Duration::from_millis(3),
      attempt: 0,
    };
    observer.request(record, Some(200), 0);
    assert!(observer.take_records().is_empty());
    observer.watch(true);
    numbered(7, async { observer.request(record, Some(429), 1) }).await;
    assert_eq!(
      observer.take_records(),
      [RequestRecord {
        call: Some(7),
        ..record(Some(7))
      }]
    );
    for millis in 1..=100 {
      let queued = observer.queue();
      assert_eq!(observer.totals().queued, 1);
      tokio::time::advance(Duration::from_millis(millis)).await;
      drop(queued);
    }
    let totals = observer.totals();
    assert_eq!(
      (totals.requests, totals.retries, totals.rate_limited, totals.queued),
      (2, 1, 1, 0)
    );
    assert_eq!(totals.pacing_wait_p50, Duration::from_millis(51));
    assert_eq!(totals.pacing_wait_p99, Duration::from_millis(100));
  }
}
