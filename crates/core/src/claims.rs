//! Claims: one holder at a time for a name (a keyed send, a webhook event), and what was done under it.
//!
//! In a process, every client shares one table: a second claimant of a name waits for the first's turn to end.
//! With `redisUrl` the claim is also taken in Redis, for the whole fleet, as a lease of [`Claims::lease`] that its
//! holder renews while it works: a holder that dies frees the name when its lease runs out, and the next claimant
//! finds what the dead one may have done the way any claimant does (for a send: by reading the conversation). A
//! claim ends done (with a value, kept for [`MEMORY`] in Redis and in the process) or released (nothing was done;
//! the next claimant goes ahead). When Redis does not answer, the claim holds in the process only: the fleet module
//! warns once, and nothing fails because of it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use moka::future::Cache;

use crate::fleet::{Fleet, Lease};
use crate::sync::Unpoisoned;

/// How long what was done under a claim is remembered: a day, as payment APIs keep their idempotency keys.
pub const MEMORY: Duration = Duration::from_secs(24 * 3600);
/// The most names a process remembers as done; the oldest go first.
const LOCAL_MEMORY_ENTRIES: u64 = 200_000;
/// The first wait before asking Redis again about a name another process holds; it doubles up to the cap.
const POLL: Duration = Duration::from_millis(20);
const POLL_CAP: Duration = Duration::from_millis(500);

/// The process's claims, shared by every client in it.
struct Table {
  turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
  done: Cache<String, Arc<str>>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| Table {
  turns: Mutex::default(),
  done: Cache::builder()
    .max_capacity(LOCAL_MEMORY_ENTRIES)
    .time_to_live(MEMORY)
    .build(),
});

/// A name's turn in the process: held until dropped.
struct Turn {
  name: String,
  _held: tokio::sync::OwnedMutexGuard<()>,
}

impl Turn {
  async fn take(name: &str) -> Self {
    let lock = TABLE.turns.locked().entry(name.to_string()).or_default().clone();
    Self {
      name: name.to_string(),
      _held: lock.lock_owned().await,
    }
  }
}

impl Drop for Turn {
  fn drop(&mut self) {
    let mut turns = TABLE.turns.locked();
    // Only the table's handle and this turn's are left: nobody waits, the entry goes.
    if turns.get(&self.name).is_some_and(|lock| Arc::strong_count(lock) <= 2) {
      turns.remove(&self.name);
    }
  }
}

pub struct Claims {
  fleet: Option<Arc<Fleet>>,
  lease: Duration,
}

/// What a claim found.
pub enum Claimed {
  /// Done before, with this value.
  Done(Arc<str>),
  /// Held by this claimant now.
  Held(Held),
}

/// A claim being worked under. Dropped without [`Held::done`] or [`Held::release`] (a call given up), it is released.
pub struct Held {
  turn: Turn,
  remote: Option<Remote>,
}

struct Remote {
  fleet: Arc<Fleet>,
  lease: Lease,
  lost: Arc<AtomicBool>,
  renewal: tokio::task::JoinHandle<()>,
  settled: bool,
}

impl Claims {
  pub fn new(fleet: Option<Arc<Fleet>>, lease: Duration) -> Self {
    Self { fleet, lease }
  }

  /// The fleet's Redis, when there is one.
  pub fn fleet(&self) -> Option<&Arc<Fleet>> {
    self.fleet.as_ref()
  }

  /// Forgets that `name` was done with `value` (what it named is gone), so that it can be claimed again.
  pub async fn forget(&self, name: &str, value: &str) {
    if TABLE.done.get(name).await.as_deref() == Some(value) {
      TABLE.done.invalidate(name).await;
    }
    if let Some(fleet) = &self.fleet {
      fleet.forget(name, value).await;
    }
  }

  /// Claims `name`, waiting while another claimant holds it (in this process, or in the fleet within its lease).
  pub async fn claim(&self, name: &str) -> Claimed {
    let turn = Turn::take(name).await;
    if let Some(value) = TABLE.done.get(name).await {
      return Claimed::Done(value);
    }
    let Some(fleet) = &self.fleet else {
      return Claimed::Held(Held { turn, remote: None });
    };
    let mut poll = POLL;
    loop {
      match fleet.claim(name, self.lease, MEMORY).await {
        // Redis is down or answered nonsense: the claim holds in this process.
        None => return Claimed::Held(Held { turn, remote: None }),
        Some(crate::fleet::ClaimAnswer::Done(value)) => {
          let value: Arc<str> = value.into();
          TABLE.done.insert(name.to_string(), value.clone()).await;
          return Claimed::Done(value);
        }
        Some(crate::fleet::ClaimAnswer::Claimed(lease)) => {
          return Claimed::Held(Held {
            turn,
            remote: Some(Remote::renewed(fleet.clone(), lease, self.lease)),
          });
        }
        Some(crate::fleet::ClaimAnswer::Held { remaining }) => {
          tokio::time::sleep(poll.min(remaining.max(Duration::from_millis(1)))).await;
          poll = (poll * 2).min(POLL_CAP);
        }
      }
    }
  }
}

impl Remote {
  /// The lease, renewed at a third of its length while held: a holder that dies stops renewing it.
  fn renewed(fleet: Arc<Fleet>, lease: Lease, length: Duration) -> Self {
    let lost = Arc::new(AtomicBool::new(false));
    let renewal = {
      let (fleet, lease, lost) = (fleet.clone(), lease.clone(), lost.clone());
      tokio::spawn(async move {
        loop {
          tokio::time::sleep(length / 3).await;
          // A renewal Redis did not answer is tried again; only Redis saying the lease is another's ends it.
          if fleet.renew(&lease, length).await == Some(false) {
            lost.store(true, Ordering::Relaxed);
            return;
          }
        }
      })
    };
    Self {
      fleet,
      lease,
      lost,
      renewal,
      settled: false,
    }
  }
}

impl Held {
  /// Whether the fleet gave the claim to another after its lease ran out (this holder was too slow to renew it).
  pub fn lost(&self) -> bool {
    self.remote.as_ref().is_some_and(|r| r.lost.load(Ordering::Relaxed))
  }

  /// What was claimed is done, with `value`: the next claimant gets it instead of a turn.
  pub async fn done(mut self, value: &str) {
    TABLE.done.insert(self.turn.name.clone(), value.into()).await;
    if let Some(remote) = self.settle() {
      remote.fleet.complete(&remote.lease, value, MEMORY).await;
    }
  }

  /// Nothing was done: the next claimant goes ahead.
  pub async fn release(mut self) {
    if let Some(remote) = self.settle() {
      remote.fleet.release_claim(&remote.lease).await;
    }
  }

  /// The claim in Redis, its renewal stopped, for its holder to settle (not to be released when dropped).
  fn settle(&mut self) -> Option<&Remote> {
    let remote = self.remote.as_mut()?;
    remote.settled = true;
    remote.renewal.abort();
    Some(remote)
  }
}

impl Drop for Remote {
  fn drop(&mut self) {
    self.renewal.abort();
    if !self.settled {
      let lease = self.lease.clone();
      self
        .fleet
        .in_background(|fleet| async move { fleet.release_claim(&lease).await });
    }
  }
}
