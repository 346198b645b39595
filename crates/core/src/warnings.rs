//! Warnings the caller's logger should see, such as Twilio refusing the system participant. Each is raised once
//! per event (not once per message), queued here, and taken by the binding when it next settles calls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::sync::Unpoisoned;

/// More than this many unread warnings are dropped: a caller that never reads them must not grow memory.
const MAX_PENDING: usize = 16;

#[derive(Default)]
pub struct Warnings {
  pending: Mutex<Vec<String>>,
  /// Raised while warnings wait: the common case (nothing to say) skips the lock.
  any: AtomicBool,
}

impl Warnings {
  pub fn warn(&self, message: String) {
    let mut pending = self.pending.locked();
    if pending.len() < MAX_PENDING {
      pending.push(message);
    }
    self.any.store(true, Ordering::Release);
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
  fn warnings_are_taken_once_and_bounded() {
    let warnings = Warnings::default();
    assert!(warnings.take().is_empty());
    for i in 0..100 {
      warnings.warn(format!("w{i}"));
    }
    let taken = warnings.take();
    assert_eq!(taken.len(), MAX_PENDING);
    assert_eq!(taken[0], "w0");
    assert!(warnings.take().is_empty());
  }
}
