//! The conversation cache: a bounded map with one time to live, and one computation in flight per key.
//!
//! A plain hash map per shard: an entry is its 64 bytes and a control byte, so 100,000 cached conversations take
//! some 9 MB of tables (a general-purpose cache, moka, grew the process by about 30 MB more for as many).
//! Expired entries are dropped when read, and swept from their shard every eighth of the time to live. A full
//! shard keeps what it holds and admits nothing new until entries expire: a burst of more customers than the
//! cache holds does not push out the conversations already in it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::Result;
use crate::sync::Unpoisoned;

/// Shards at most; fewer for a small capacity, so that the capacity divides among them exactly.
const MAX_SHARDS: usize = 16;
/// The fewest entries a shard is made for (below it, sharding buys nothing).
const MIN_SHARD_ENTRIES: u64 = 1024;

struct Entry<V> {
  value: V,
  /// Milliseconds since the cache's epoch, on tokio's clock.
  expires_ms: u64,
}

struct Shard<V> {
  entries: HashMap<u64, Entry<V>>,
  next_sweep_ms: u64,
}

/// What a computation in flight hands the callers waiting for it.
type Outcome<V> = Option<Result<V>>;

pub struct Cache<V> {
  shards: Box<[Mutex<Shard<V>>]>,
  per_shard: usize,
  ttl_ms: u64,
  sweep_every_ms: u64,
  epoch: Instant,
  flights: Mutex<HashMap<u64, watch::Receiver<Outcome<V>>>>,
}

/// Takes the key's flight off the list when its computation ends, or is dropped half-way: the callers waiting
/// for it then see the channel close and try again themselves.
struct Landing<'a, V> {
  flights: &'a Mutex<HashMap<u64, watch::Receiver<Outcome<V>>>>,
  key: u64,
}

impl<V> Drop for Landing<'_, V> {
  fn drop(&mut self) {
    self.flights.locked().remove(&self.key);
  }
}

enum Role<V> {
  Lead(watch::Sender<Outcome<V>>),
  Follow(watch::Receiver<Outcome<V>>),
}

impl<V: Clone + Send + Sync> Cache<V> {
  pub fn new(max_entries: u64, ttl: Duration) -> Self {
    let mut shards = MAX_SHARDS;
    while shards > 1 && max_entries / (shards as u64) < MIN_SHARD_ENTRIES {
      shards /= 2;
    }
    let per_shard = usize::try_from(max_entries / shards as u64).unwrap_or(usize::MAX);
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    Self {
      shards: (0..shards)
        .map(|_| {
          Mutex::new(Shard {
            entries: HashMap::new(),
            next_sweep_ms: 0,
          })
        })
        .collect(),
      per_shard,
      ttl_ms,
      sweep_every_ms: (ttl_ms / 8).max(1),
      epoch: Instant::now(),
      flights: Mutex::new(HashMap::new()),
    }
  }

  fn now_ms(&self) -> u64 {
    u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
  }

  fn shard(&self, key: u64) -> MutexGuard<'_, Shard<V>> {
    // Fibonacci hashing: the top bits of the product spread consecutive numbers over the shards.
    let bits = self.shards.len().trailing_zeros();
    let index = if bits == 0 {
      0
    } else {
      (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    };
    #[allow(clippy::indexing_slicing)] // The hash's top `bits` bits: below the shard count, a power of two.
    self.shards[index].locked()
  }

  /// The key's value while its time to live lasts; an expired one is dropped.
  pub fn get(&self, key: u64) -> Option<V> {
    let now = self.now_ms();
    let mut shard = self.shard(key);
    let entry = shard.entries.get(&key)?;
    if entry.expires_ms > now {
      return Some(entry.value.clone());
    }
    shard.entries.remove(&key);
    None
  }

  /// Keeps the value for the time to live, unless the key's shard is full of live entries.
  pub fn insert(&self, key: u64, value: V) {
    let now = self.now_ms();
    let mut shard = self.shard(key);
    if now >= shard.next_sweep_ms {
      shard.entries.retain(|_, entry| entry.expires_ms > now);
      shard.next_sweep_ms = now.saturating_add(self.sweep_every_ms);
    }
    if shard.entries.len() >= self.per_shard && !shard.entries.contains_key(&key) {
      return;
    }
    let expires_ms = now.saturating_add(self.ttl_ms);
    shard.entries.insert(key, Entry { value, expires_ms });
  }

  pub fn invalidate(&self, key: u64) {
    self.shard(key).entries.remove(&key);
  }

  /// The live entries.
  pub fn len(&self) -> u64 {
    let now = self.now_ms();
    self
      .shards
      .iter()
      .map(|shard| {
        shard
          .locked()
          .entries
          .values()
          .filter(|entry| entry.expires_ms > now)
          .count() as u64
      })
      .sum()
  }

  /// The key's value, computed by `init` and kept when there is none. Concurrent callers for one key share
  /// one computation and its outcome, an error included; an error is not kept.
  pub async fn get_or_try_insert_with(&self, key: u64, init: impl Future<Output = Result<V>>) -> Result<V> {
    let lead = loop {
      if let Some(value) = self.get(key) {
        return Ok(value);
      }
      match self.join(key) {
        Role::Lead(sender) => break sender,
        Role::Follow(mut receiver) => {
          if let Ok(outcome) = receiver.wait_for(Option::is_some).await {
            if let Some(result) = outcome.as_ref() {
              return result.clone();
            }
          }
          // The computation was dropped before it ended (its caller's deadline passed): try again.
        }
      }
    };
    let landing = Landing {
      flights: &self.flights,
      key,
    };
    let result = init.await;
    if let Ok(value) = &result {
      self.insert(key, value.clone());
    }
    drop(landing);
    // No one may be waiting: then there is no receiver, and nothing to hand over.
    let _ = lead.send(Some(result.clone()));
    result
  }

  /// The flight in progress for the key, or a new one this caller leads.
  fn join(&self, key: u64) -> Role<V> {
    let mut flights = self.flights.locked();
    if let Some(receiver) = flights.get(&key) {
      return Role::Follow(receiver.clone());
    }
    let (sender, receiver) = watch::channel(None);
    flights.insert(key, receiver);
    Role::Lead(sender)
  }
}

#[cfg(test)]
mod tests {
  use std::sync::atomic::{AtomicU32, Ordering};
  use std::sync::Arc;

  use super::*;
  use crate::error::Error;

  const TTL: Duration = Duration::from_secs(300);

  #[tokio::test(start_paused = true)]
  async fn an_entry_lives_for_the_time_to_live() {
    let cache = Cache::new(100, TTL);
    cache.insert(1, "a");
    tokio::time::advance(TTL - Duration::from_millis(1)).await;
    assert_eq!(cache.get(1), Some("a"));
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(cache.get(1), None);
    assert_eq!(cache.len(), 0);
  }

  #[tokio::test(start_paused = true)]
  async fn a_full_cache_keeps_what_it_holds_until_it_expires() {
    let cache = Cache::new(5, TTL);
    for key in 0..20 {
      cache.insert(key, key);
    }
    assert_eq!(cache.len(), 5);
    assert!((0..5).all(|key| cache.get(key) == Some(key)));
    assert!((5..20).all(|key| cache.get(key).is_none()));
    tokio::time::advance(TTL).await;
    cache.insert(7, 7);
    assert_eq!((cache.len(), cache.get(7)), (1, Some(7)), "expired entries make room");
  }

  #[tokio::test(start_paused = true)]
  async fn expired_entries_are_swept_from_a_shard_on_its_next_insert() {
    let cache = Cache::new(100_000, TTL);
    for key in 0..10_000 {
      cache.insert(key, key);
    }
    tokio::time::advance(TTL).await;
    for key in 10_000..11_000 {
      cache.insert(key, key);
    }
    let held: usize = cache.shards.iter().map(|shard| shard.locked().entries.len()).sum();
    assert_eq!(held, 1_000, "only the new entries are held");
  }

  #[test]
  fn the_capacity_divides_among_the_shards_exactly() {
    for (capacity, shards) in [(5, 1), (1024, 1), (2048, 2), (100_000, 16), (10_000_000, 16)] {
      let cache = Cache::<u8>::new(capacity, TTL);
      assert_eq!(cache.shards.len(), shards, "{capacity}");
      assert!(cache.per_shard * shards <= capacity as usize);
    }
  }

  #[tokio::test]
  async fn concurrent_callers_share_one_computation_and_its_error() {
    let cache = Arc::new(Cache::<u32>::new(100, TTL));
    let runs = Arc::new(AtomicU32::new(0));
    let call = |fail: bool| {
      let (cache, runs) = (cache.clone(), runs.clone());
      async move {
        cache
          .get_or_try_insert_with(9, async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            if fail {
              Err(Error::Timeout {
                after: Duration::from_secs(1),
              })
            } else {
              Ok(42)
            }
          })
          .await
      }
    };
    let failed = futures::future::join_all((0..8).map(|_| call(true))).await;
    assert!(failed.iter().all(|result| matches!(result, Err(Error::Timeout { .. }))));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(cache.get(9), None, "an error is not kept");
    let done = futures::future::join_all((0..8).map(|_| call(false))).await;
    assert!(done.iter().all(|result| matches!(result, Ok(42))));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
  }

  #[tokio::test]
  async fn a_waiting_caller_takes_over_when_the_computation_is_dropped() {
    let cache = Arc::new(Cache::<u32>::new(100, TTL));
    let lead = cache.clone();
    let leader = tokio::spawn(async move { lead.get_or_try_insert_with(3, std::future::pending()).await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let follow = cache.clone();
    let follower = tokio::spawn(async move { follow.get_or_try_insert_with(3, async { Ok(7) }).await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!follower.is_finished(), "it waits for the computation in flight");
    leader.abort();
    assert_eq!(follower.await.ok().and_then(|result| result.ok()), Some(7));
  }
}
