//! One call of the client: its deadline, and its place in line.
//!
//! Every request, retry and wait of the call plans against the same deadline, and the call ends with a timeout
//! when it passes. Its ticket, taken when the call starts, orders it among the calls waiting for a pacing turn:
//! a send asked earlier goes first, even when its lookup answered later than another's.
//!
//! Time spent queued for a pacing slot is not the call's own work (a campaign of thousands queues for minutes
//! behind Twilio's rate), so the deadline stands still while the call waits in the pacer: [`paused`] moves it
//! later by the time waited. That wait has its own bound, the pacer's `maxQueueMs`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::priority::Class;
use crate::sync::Unpoisoned;

struct State {
  at: Instant,
  /// Since when the deadline stands still, and how many waits hold it so.
  paused: Option<(Instant, u32)>,
}

struct Clock {
  state: Mutex<State>,
  ticket: u64,
}

/// Tickets in the order calls started, across every client of the process.
static TICKETS: AtomicU64 = AtomicU64::new(0);

fn next_ticket() -> u64 {
  TICKETS.fetch_add(1, Ordering::Relaxed)
}

impl Clock {
  /// The deadline as it stands now: while paused, as far ahead as it was when the pause began.
  fn at(&self) -> Instant {
    let state = self.state.locked();
    match state.paused {
      Some((since, _)) => after(state.at.saturating_duration_since(since)),
      None => state.at,
    }
  }

  fn pause(&self) {
    let mut state = self.state.locked();
    state.paused = Some(match state.paused {
      Some((since, holds)) => (since, holds + 1),
      None => (Instant::now(), 1),
    });
  }

  fn resume(&self) {
    let mut state = self.state.locked();
    match state.paused {
      Some((since, 1)) => {
        let waited = Instant::now().saturating_duration_since(since);
        state.at = state.at.checked_add(waited).unwrap_or(state.at);
        state.paused = None;
      }
      Some((since, holds)) => state.paused = Some((since, holds - 1)),
      None => {}
    }
  }
}

tokio::task_local! {
  static CALL: Arc<Clock>;
  /// The deadline one call asked for in place of the client's `deadlineMs`.
  static LIMIT: Option<Duration>;
  /// What the running call is to the pacer: interactive unless it was started as a campaign's.
  static CLASS: Class;
}

/// Runs `work` (a client call) as a send of `class`. Not an `async fn`, as neither are the other wrappers of a
/// whole call: one would hold `work` twice (as its argument and as the future it awaits), doubling every queued
/// send's size at each wrapper.
pub fn classed<F: Future>(class: Class, work: F) -> impl Future<Output = F::Output> {
  CLASS.scope(class, work)
}

/// The running call's class (interactive outside any).
/// Runs `work` (a step of no call's, in a test) as a send of `class`.
#[cfg(test)]
pub fn classed_now<R>(class: Class, work: impl FnOnce() -> R) -> R {
  CLASS.sync_scope(class, work)
}

pub fn class() -> Class {
  CLASS.try_with(|class| *class).unwrap_or_default()
}

/// Runs `work` (a client call) with its own deadline, `limit` long, instead of the client's.
pub fn limited<F: Future>(limit: Option<Duration>, work: F) -> impl Future<Output = F::Output> {
  LIMIT.scope(limit, work)
}

/// The deadline the running call asked for, if it did.
pub fn requested_limit() -> Option<Duration> {
  LIMIT.try_with(|limit| *limit).ok().flatten()
}

/// The instant `wait` from now; a wait too long for the clock (from outside: an option, a header) ends a century
/// from now, which no call reaches.
pub fn after(wait: Duration) -> Instant {
  let now = Instant::now();
  now
    .checked_add(wait)
    .or_else(|| now.checked_add(FAR_FUTURE))
    .unwrap_or(now)
}

const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Runs one call under one deadline, `limit` from now (pauses aside).
pub async fn within<T>(limit: Duration, call: impl Future<Output = Result<T>>) -> Result<T> {
  let clock = Arc::new(Clock {
    state: Mutex::new(State {
      at: after(limit),
      paused: None,
    }),
    ticket: next_ticket(),
  });
  let call = CALL.scope(clock.clone(), call);
  tokio::pin!(call);
  loop {
    let at = clock.at();
    tokio::select! {
      biased;
      outcome = &mut call => return outcome,
      () = tokio::time::sleep_until(at) => {
        // The deadline may have moved while this timer ran: only a deadline that still stands has passed.
        if clock.at() <= Instant::now() {
          return Err(Error::Timeout { after: limit });
        }
      }
    }
  }
}

/// The current call's deadline, if this runs inside a call.
pub fn deadline() -> Option<Instant> {
  CALL.try_with(|clock| clock.at()).ok()
}

/// The current call's ticket; outside a call, a ticket of its own.
pub fn ticket() -> u64 {
  CALL.try_with(|clock| clock.ticket).unwrap_or_else(|_| next_ticket())
}

/// The current call's deadline stands still until the guard drops. A guard rather than a wrapper around the wait:
/// a wrapper would hold the wait's future twice, in every send queued in the pacer.
pub fn pause() -> Paused {
  let clock = CALL.try_with(Arc::clone).ok();
  if let Some(clock) = &clock {
    clock.pause();
  }
  Paused(clock)
}

/// See [`pause`].
pub struct Paused(Option<Arc<Clock>>);

impl Drop for Paused {
  fn drop(&mut self) {
    if let Some(clock) = &self.0 {
      clock.resume();
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[tokio::test(start_paused = true)]
  async fn a_call_past_its_deadline_times_out() {
    let call = async {
      tokio::time::sleep(Duration::from_secs(5)).await;
      Ok(())
    };
    let error = within(Duration::from_secs(2), call).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { after } if after == Duration::from_secs(2)));
  }

  #[tokio::test(start_paused = true)]
  async fn time_spent_paused_does_not_count_against_the_deadline() {
    let call = async {
      tokio::time::sleep(Duration::from_secs(1)).await;
      let paused = pause();
      tokio::time::sleep(Duration::from_secs(60)).await;
      drop(paused);
      let left = deadline().unwrap() - Instant::now();
      tokio::time::sleep(Duration::from_millis(900)).await;
      Ok(left)
    };
    let left = within(Duration::from_secs(2), call).await.unwrap();
    assert_eq!(
      left,
      Duration::from_secs(1),
      "the second of the two that was not used yet"
    );
  }

  #[tokio::test(start_paused = true)]
  async fn a_pause_that_ends_resumes_the_countdown() {
    let call = async {
      let paused = pause();
      tokio::time::sleep(Duration::from_secs(10)).await;
      drop(paused);
      tokio::time::sleep(Duration::from_secs(3)).await;
      Ok(())
    };
    assert!(within(Duration::from_secs(2), call).await.is_err());
  }

  #[tokio::test]
  async fn calls_take_tickets_in_the_order_they_start() {
    let first = within(Duration::from_secs(1), async { Ok(ticket()) });
    let second = within(Duration::from_secs(1), async { Ok(ticket()) });
    let (second, first) = tokio::join!(second, first);
    assert!(
      second.unwrap() < first.unwrap(),
      "the one started first: tickets are taken at the start"
    );
  }

  #[tokio::test]
  async fn outside_a_call_there_is_no_deadline_even_paused() {
    assert!(deadline().is_none());
    let _paused = pause();
    assert!(deadline().is_none());
  }
}
