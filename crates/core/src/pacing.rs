//! Pacing: this process never sends Twilio more writes per second to one conversation (messages, participants,
//! updates), or more conversation creations per second, than Twilio accepts.
//!
//! Each write reserves a start time before it is sent: at most `rate` starts in any window of
//! [`WINDOW`], in the order the writes asked. The window is a little longer than Twilio's second, so that the
//! jitter between our clock and Twilio's does not turn a paced burst into 429s. Reservations are kept per key
//! only while they are recent, so memory follows the number of conversations written to in the last second,
//! whatever the number of conversations overall.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::sync::Unpoisoned;

/// One second of Twilio's, plus a margin for clock and network jitter.
pub const WINDOW: Duration = Duration::from_millis(1100);

/// What a write counts against at Twilio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PaceKey {
  /// Conversation creation and deletion, limited per service.
  Service,
  /// A conversation's messages, participants and updates, by SID.
  Conversation(String),
}

pub struct Pacer {
  rate: usize,
  windows: Mutex<Windows>,
}

#[derive(Default)]
struct Windows {
  /// The latest `rate` reserved start times of each key, oldest first.
  by_key: HashMap<PaceKey, VecDeque<Instant>>,
  /// The map's size after the last sweep; the next sweep waits until it has doubled.
  swept_at: usize,
}

impl Pacer {
  /// `None` for a rate of 0: no pacing.
  pub fn new(rate: u32) -> Option<Self> {
    (rate > 0).then(|| Self {
      rate: usize::try_from(rate).unwrap_or(usize::MAX),
      windows: Mutex::new(Windows::default()),
    })
  }

  /// When a write to `key` may start: now, or once the window holds fewer than `rate` earlier starts.
  pub fn reserve(&self, key: &PaceKey) -> Instant {
    let now = Instant::now();
    let mut windows = self.windows.locked();
    windows.sweep(now);
    let starts = windows.by_key.entry(key.clone()).or_default();
    let at = if starts.len() >= self.rate {
      starts[starts.len() - self.rate]
        .checked_add(WINDOW)
        .map_or(now, |free| free.max(now))
    } else {
      now
    };
    starts.push_back(at);
    while starts.len() > self.rate {
      starts.pop_front();
    }
    at
  }

  /// How many keys hold recent reservations (for tests of the memory bound).
  #[cfg(test)]
  fn keys(&self) -> usize {
    self.windows.locked().by_key.len()
  }
}

impl Windows {
  /// Forgets keys whose newest start is more than a window old: they hold nothing that limits a new write.
  fn sweep(&mut self, now: Instant) {
    if self.by_key.len() < 1024.max(self.swept_at * 2) {
      return;
    }
    self.by_key.retain(|_, starts| {
      starts
        .back()
        .is_some_and(|last| now.saturating_duration_since(*last) < WINDOW)
    });
    self.swept_at = self.by_key.len();
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[tokio::test(start_paused = true)]
  async fn a_burst_is_spread_at_most_rate_starts_per_window_in_order() {
    let pacer = Pacer::new(30).unwrap();
    let key = PaceKey::Conversation("CH1".into());
    let start = Instant::now();
    let slots: Vec<Instant> = (0..150).map(|_| pacer.reserve(&key)).collect();
    assert!(slots.windows(2).all(|pair| pair[0] <= pair[1]), "in the order asked");
    for (i, slot) in slots.iter().enumerate() {
      assert_eq!(*slot, start + WINDOW * u32::try_from(i / 30).unwrap(), "slot {i}");
    }
    // Any window of WINDOW holds at most 30 starts.
    for (i, slot) in slots.iter().enumerate() {
      let within = slots[i..].iter().take_while(|s| **s < *slot + WINDOW).count();
      assert!(within <= 30);
    }
  }

  #[tokio::test(start_paused = true)]
  async fn keys_are_paced_separately_and_a_quiet_key_starts_at_once() {
    let pacer = Pacer::new(2).unwrap();
    let busy = PaceKey::Conversation("CH1".into());
    let start = Instant::now();
    pacer.reserve(&busy);
    pacer.reserve(&busy);
    assert_eq!(pacer.reserve(&busy), start + WINDOW);
    assert_eq!(pacer.reserve(&PaceKey::Service), start);
    tokio::time::advance(WINDOW * 3).await;
    assert_eq!(pacer.reserve(&busy), Instant::now());
  }

  #[tokio::test(start_paused = true)]
  async fn memory_follows_the_keys_written_to_in_the_last_window() {
    let pacer = Pacer::new(30).unwrap();
    for i in 0..5000 {
      pacer.reserve(&PaceKey::Conversation(format!("CH{i}")));
      if i % 1000 == 999 {
        tokio::time::advance(WINDOW * 2).await;
      }
    }
    assert!(pacer.keys() <= 2048, "{} keys kept", pacer.keys());
  }

  #[test]
  fn a_rate_of_zero_means_no_pacing() {
    assert!(Pacer::new(0).is_none());
  }
}
