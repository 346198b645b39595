//! What the caller's logger should see of the client's own doings: warnings (Twilio refusing the system
//! participant, Redis not answering), raised once per event and never per message, and, at `logLevel: 'info'`, what
//! the client changed at Twilio (a conversation created) or in the fleet (Redis answering). Lines are queued here
//! and taken by the binding when it next settles calls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::config::LogLevel;
use crate::sync::Unpoisoned;

/// More than this many untaken lines are dropped: a caller that never settles calls must not grow memory. Lines are
/// taken each time calls settle, so only a burst of more creations than this between two settlements loses any.
const MAX_PENDING: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
  /// `Warn` or `Info`.
  pub level: LogLevel,
  pub message: String,
}

pub struct Log {
  level: LogLevel,
  pending: Mutex<Vec<LogLine>>,
  /// Raised while lines wait: the common case (nothing to say) skips the lock.
  any: AtomicBool,
}

impl Log {
  /// Info lines are kept only when `level` lets them through; warnings always (the JS entry logs them at every level).
  pub fn new(level: LogLevel) -> Self {
    Self {
      level,
      pending: Mutex::new(Vec::new()),
      any: AtomicBool::new(false),
    }
  }

  pub fn warn(&self, message: String) {
    self.push(LogLevel::Warn, message);
  }

  /// `message` is built only when info lines are wanted.
  pub fn info(&self, message: impl FnOnce() -> String) {
    if self.level >= LogLevel::Info {
      self.push(LogLevel::Info, message());
    }
  }

  fn push(&self, level: LogLevel, message: String) {
    // One line each, whatever a caller put in it: no text from outside can forge a line of its own.
    let message = if message.contains(|c: char| crate::error::one_line(c) != c) {
      message.chars().map(crate::error::one_line).collect()
    } else {
      message
    };
    let mut pending = self.pending.locked();
    if pending.len() < MAX_PENDING {
      pending.push(LogLine { level, message });
    }
    self.any.store(true, Ordering::Release);
  }

  /// Every line raised since the last call, oldest first.
  pub fn take(&self) -> Vec<LogLine> {
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
  fn lines_are_taken_once_and_bounded() {
    let log = Log::new(LogLevel::Error);
    assert!(log.take().is_empty());
    for i in 0..MAX_PENDING + 100 {
      log.warn(format!("w{i}"));
    }
    let taken = log.take();
    assert_eq!(taken.len(), MAX_PENDING);
    assert_eq!(taken[0].message, "w0");
    assert!(log.take().is_empty());
  }

  #[test]
  fn info_lines_are_kept_only_at_info_or_debug() {
    let quiet = Log::new(LogLevel::Warn);
    quiet.info(|| "created".to_string());
    assert!(quiet.take().is_empty());
    let told = Log::new(LogLevel::Info);
    told.info(|| "created".to_string());
    assert_eq!(
      told.take(),
      [LogLine {
        level: LogLevel::Info,
        message: "created".to_string()
      }]
    );
  }
}
