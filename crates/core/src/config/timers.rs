//! The timers set on the conversations the client creates: ISO-8601 durations, at least Twilio's minimums.

use std::time::Duration;

use crate::error::{Error, Result};

/// Twilio's minimum for `Timers.Inactive`.
pub const MIN_INACTIVE_AFTER: Duration = Duration::from_secs(60);

/// Twilio's minimum for `Timers.Closed`.
pub const MIN_CLOSED_AFTER: Duration = Duration::from_secs(600);

/// The timers set on every conversation the client creates, as Twilio takes them (ISO-8601 durations).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationTimers {
  pub inactive_after: Option<String>,
  pub closed_after: Option<String>,
}

impl ConversationTimers {
  pub fn is_empty(&self) -> bool {
    self.inactive_after.is_none() && self.closed_after.is_none()
  }
}

/// Seconds in an ISO-8601 duration of days, hours, minutes and seconds (`P1DT2H`, `PT10M`, `PT90S`): the forms
/// Twilio's timers take. Years, months and weeks have no fixed length and are refused.
fn duration_seconds(text: &str) -> Option<u64> {
  let body = text.strip_prefix('P')?;
  let (days, time) = body.split_once('T').unwrap_or((body, ""));
  if body.is_empty() || body.ends_with('T') {
    return None;
  }
  let mut seconds = 0u64;
  for (part, units) in [
    (days, &[('D', 86_400u64)][..]),
    (time, &[('H', 3_600), ('M', 60), ('S', 1)][..]),
  ] {
    let mut rest = part;
    let mut allowed = units;
    while !rest.is_empty() {
      let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
      let (number, after) = rest.split_at_checked(digits)?;
      let unit = after.chars().next()?;
      let at = allowed.iter().position(|(u, _)| *u == unit)?;
      let value: u64 = number.parse().ok()?;
      seconds = seconds.checked_add(value.checked_mul(allowed.get(at)?.1)?)?;
      allowed = allowed.get(at + 1..)?;
      rest = after.get(unit.len_utf8()..)?;
    }
  }
  Some(seconds)
}

/// A timer option: a duration Twilio accepts, at least `minimum`.
pub(super) fn timer_option(value: Option<String>, name: &str, minimum: Duration) -> Result<Option<String>> {
  let Some(text) = value else { return Ok(None) };
  match duration_seconds(&text) {
    Some(seconds) if seconds >= minimum.as_secs() => Ok(Some(text)),
    Some(_) => Err(Error::Config {
      message: format!(
        "{name} must be at least {} minute(s), Twilio's minimum, not '{text}'",
        minimum.as_secs() / 60
      ),
    }),
    None => Err(Error::Config {
      message: format!("{name} must be an ISO-8601 duration such as 'PT30M' or 'P1D', not '{text}'"),
    }),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn iso_durations_are_read_in_seconds() {
    assert_eq!(duration_seconds("PT10M"), Some(600));
    assert_eq!(duration_seconds("P1DT1H1M1S"), Some(90_061));
    assert_eq!(duration_seconds("P2D"), Some(172_800));
    for bad in [
      "", "P", "PT", "PT10", "10M", "P1M", "P1W", "PT1S1M", "PTM", "PT-1M", "pt10m",
    ] {
      assert_eq!(duration_seconds(bad), None, "{bad}");
    }
  }
}
