//! The sandbox's clock, and what runs on it: conversation timers, the end of `initializing`, and receipts.
//!
//! The clock is the wall clock plus an offset that tests move forward through the control API, so a test
//! sees a conversation close after ten minutes without waiting ten minutes. Due events sit in a queue
//! ordered by time and are applied whenever the state is locked; an event whose conversation has since
//! changed its timers is stale and skipped.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::outbox::Source;
use super::records::ConvState;
use super::State;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Default)]
pub struct Clock {
  offset: Duration,
  /// (when, conversation SID): a timer or the end of `initializing` may be due then.
  due: BTreeSet<(DateTime<Utc>, String)>,
  /// (when, conversation SID, message SID): the message's receipts reach their outcome then.
  receipts_due: BTreeSet<(DateTime<Utc>, String, String)>,
}

impl Clock {
  pub fn now(&self) -> DateTime<Utc> {
    Utc::now() + self.offset
  }

  pub fn advance(&mut self, by: Duration) {
    self.offset += by;
  }

  pub fn reset(&mut self) {
    self.offset = Duration::zero();
    self.due.clear();
    self.receipts_due.clear();
  }

  pub fn schedule(&mut self, when: DateTime<Utc>, conversation_sid: &str) {
    self.due.insert((when, conversation_sid.to_string()));
  }

  pub fn schedule_receipts(&mut self, when: DateTime<Utc>, conversation_sid: &str, message_sid: &str) {
    self
      .receipts_due
      .insert((when, conversation_sid.to_string(), message_sid.to_string()));
  }

  fn pop_due(&mut self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, String)> {
    if self.due.first().is_some_and(|(when, _)| *when <= now) {
      self.due.pop_first()
    } else {
      None
    }
  }

  fn pop_due_receipts(&mut self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, String, String)> {
    if self.receipts_due.first().is_some_and(|(when, ..)| *when <= now) {
      self.receipts_due.pop_first()
    } else {
      None
    }
  }
}

impl State {
  pub fn now(&self) -> DateTime<Utc> {
    self.clock.now()
  }

  /// Applies every event that is due: initializing conversations become active, timers move conversations to
  /// `inactive` or `closed`, receipts reach their outcome. Cheap when nothing is due (a look at each queue's head).
  pub fn tick(&mut self) {
    let now = self.now();
    while let Some((when, sid)) = self.clock.pop_due(now) {
      let Some(conversation) = self.conversations.get_mut(&sid) else {
        continue;
      };
      let before = conversation.state;
      if conversation.state == ConvState::Initializing && conversation.ready_at == Some(when) {
        conversation.state = ConvState::Active;
        conversation.ready_at = None;
        conversation.date_updated = when;
      } else if conversation.timers.date_closed == Some(when) && conversation.state != ConvState::Closed {
        conversation.date_updated = when;
        self.close(&sid);
        self.emit(&sid, Source::Api, |state| {
          state.state_change(&sid, before, "TIMER").into_iter().collect()
        });
      } else if conversation.timers.date_inactive == Some(when) && conversation.state == ConvState::Active {
        conversation.state = ConvState::Inactive;
        conversation.date_updated = when;
        self.emit(&sid, Source::Api, |state| {
          state.state_change(&sid, before, "TIMER").into_iter().collect()
        });
      }
    }
    while let Some((when, conversation_sid, message_sid)) = self.clock.pop_due_receipts(now) {
      self.settle_receipts(&conversation_sid, &message_sid, when);
    }
  }
}

/// An ISO-8601 duration as Twilio's timers take it (`PT10M`, `P1DT2H`, `PT90S`): days, hours, minutes and
/// seconds; years, months and weeks are refused because their length is not fixed.
pub fn parse_duration(text: &str) -> Option<Duration> {
  let rest = text.strip_prefix('P')?;
  let (date, time) = match rest.split_once('T') {
    Some((date, time)) if !time.is_empty() => (date, Some(time)),
    Some(_) => return None,
    None => (rest, None),
  };
  if date.is_empty() && time.is_none() {
    return None;
  }
  let mut total = Duration::zero();
  let mut add = |part: &str, units: &[(char, i64)]| -> Option<()> {
    let mut number = String::new();
    let mut unit_index = 0;
    for c in part.chars() {
      if c.is_ascii_digit() {
        number.push(c);
        continue;
      }
      let position = units[unit_index..].iter().position(|(u, _)| *u == c)? + unit_index;
      let value: i64 = number.parse().ok()?;
      total += Duration::try_seconds(value.checked_mul(units[position].1)?)?;
      number.clear();
      unit_index = position + 1;
    }
    number.is_empty().then_some(())
  };
  add(date, &[('D', 86_400)])?;
  if let Some(time) = time {
    add(time, &[('H', 3_600), ('M', 60), ('S', 1)])?;
  }
  Some(total)
}

/// A timer parameter: a valid duration of at least `minimum`, else Twilio's code for that timer.
pub fn timer(text: Option<&str>, name: &str, minimum: Duration, code: u32, rule: &str) -> ApiResult<Option<Duration>> {
  let Some(text) = text else { return Ok(None) };
  let duration =
    parse_duration(text).ok_or_else(|| ApiError::bad_request(20001, format!("{name} must be an ISO 8601 duration")))?;
  if duration < minimum {
    return Err(ApiError::bad_request(code, rule));
  }
  Ok(Some(duration))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn durations_read_days_hours_minutes_and_seconds() {
    assert_eq!(parse_duration("PT10M"), Some(Duration::minutes(10)));
    assert_eq!(parse_duration("PT1M"), Some(Duration::minutes(1)));
    assert_eq!(
      parse_duration("P1DT2H30S"),
      Some(Duration::seconds(86_400 + 7_200 + 30))
    );
    assert_eq!(parse_duration("P2D"), Some(Duration::days(2)));
    for bad in ["", "P", "PT", "10M", "PT10", "PT1S1M", "P1M", "P1Y", "PTM", "PT-1M"] {
      assert_eq!(parse_duration(bad), None, "{bad}");
    }
  }
}
