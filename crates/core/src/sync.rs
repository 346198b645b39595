//! Locks whose poisoning is not an error: every critical section in this crate leaves its data whole (a few
//! assignments, no call that can panic half-way), so a panic elsewhere must not take the lock down with it.

use std::sync::{Mutex, MutexGuard, PoisonError};

pub(crate) trait Unpoisoned<T> {
  fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T> Unpoisoned<T> for Mutex<T> {
  fn locked(&self) -> MutexGuard<'_, T> {
    self.lock().unwrap_or_else(PoisonError::into_inner)
  }
}
