//! Warnings the caller's logger should see, such as Twilio refusing the system participant. Each is raised once
//! per event (not once per message), queued here, and taken by the binding after the call that raised it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::sync::Unpoisoned;

/// More than this many unread warnings are dropped: a caller that never reads them must not grow memory.
const MAX_PENDING: usize = 16;

#[derive(Default)]
pub struct Notices {
  pending: Mutex<Vec<String>>,
  /// Raised while warnings wait: lets the common case (nothing to say) skip the lock, and the binding skip the call.
  any: Arc<AtomicBool>,
}

impl Notices {
  pub fn warn(&self, message: String) {
    let mut pending = self.pending.locked();
    if pending.len() < MAX_PENDING {
      pending.push(message);
    }
    self.any.store(true, Ordering::Release);
  }

  /// The flag raised while warnings wait (a byte, 1 or 0), for a caller that can read it more cheaply than it can
  /// call [`Notices::take`]: the binding shares it with the JS entry.
  pub fn waiting(&self) -> Arc<AtomicBool> {
    self.any.clone()
  }

  /// Every warning raised since the last call, oldest first.
  pub fn take(&self) -> Vec<String> {
    if !self.any.swap(false, Ordering::AcqRel) {
      return Vec::new();
    }
    std::mem::take(&mut *self.pending.locked())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_waiting_flag_is_raised_by_a_warning_and_lowered_by_the_take() {
    let notices = Notices::default();
    let waiting = notices.waiting();
    assert!(!waiting.load(Ordering::Acquire));
    notices.warn("w".into());
    assert!(waiting.load(Ordering::Acquire));
    assert_eq!(notices.take(), ["w"]);
    assert!(!waiting.load(Ordering::Acquire));
  }

  #[test]
  fn warnings_are_taken_once_and_bounded() {
    let notices = Notices::default();
    assert!(notices.take().is_empty());
    for i in 0..100 {
      notices.warn(format!("w{i}"));
    }
    let taken = notices.take();
    assert_eq!(taken.len(), MAX_PENDING);
    assert_eq!(taken[0], "w0");
    assert!(notices.take().is_empty());
  }
}
