//! Items handed from one thread to another in batches: the first item since the last take asks the receiving side
//! to take them, the ones after it ride along. The I/O thread's inbox and the settler's finished calls are both one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

pub struct Batch<T> {
  items: Mutex<Vec<T>>,
  /// A take has been asked for and has not yet happened.
  asked: AtomicBool,
}

impl<T> Batch<T> {
  pub const fn new() -> Self {
    Self {
      items: Mutex::new(Vec::new()),
      asked: AtomicBool::new(false),
    }
  }

  /// Adds an item; true when it is the first since the last take, and the caller is to have the batch taken.
  pub fn push(&self, item: T) -> bool {
    self.items().push(item);
    !self.asked.swap(true, Ordering::AcqRel)
  }

  /// Takes every item. The flag is lowered before the take, so an item added after it asks for another take
  /// rather than waiting for one.
  pub fn take(&self) -> Vec<T> {
    self.asked.store(false, Ordering::Release);
    std::mem::take(&mut *self.items())
  }

  /// Drops every item, leaving the flag as it is: no take is asked for again.
  pub fn clear(&self) {
    self.items().clear();
  }

  /// A panic while the items were held (none can: a push, a take or a clear) leaves them whole.
  fn items(&self) -> MutexGuard<'_, Vec<T>> {
    self.items.lock().unwrap_or_else(PoisonError::into_inner)
  }
}
