//! A fleet's shared budget: with `redisUrl`, every process and machine sending for one account and service
//! reserves its pacing slots in one Redis, so together they start no more writes a second than Twilio accepts,
//! in the order they asked. The system identity's "full" switch is shared there too.
//!
//! Each key is a list of the latest start times (Redis's clock, in ms) under `twilio-pacing:<account>:<service>:`,
//! and one Lua script reserves atomically the next starts: each now, or a window after the `rate`-th latest start.
//! Only the head of a process's lane reserves (see the `pacing` module), for itself and as many of the calls behind
//! it as a round trip to Redis is worth, so a process holds a few starts a key ahead of time, and those no call is
//! left to take are given back when nothing was reserved after them.
//!
//! Redis never fails a send: every command is bounded by [`REDIS_TIMEOUT`]; when Redis does not answer in time the
//! process paces alone (one warning), tries Redis again after [`REDIS_RETRY`], and says so when it answers again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::Secret;
use crate::error::Result;
use crate::log::Log;
use crate::sync::Unpoisoned;
use crate::topology::{Connection, Topology};

/// The longest a Redis command may take before the process paces alone.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// A reservation round trip that sends waited for longer than this is warned of: each lane reserves several
/// starts at once and keeps Twilio's rate, but every call that finds none in stock waits this long more.
pub const SLOW_REDIS: Duration = Duration::from_millis(100);
/// How long a process paces alone after Redis failed to answer, before it asks Redis again.
pub const REDIS_RETRY: Duration = Duration::from_secs(1);

/// What Redis holds is input: a shared Redis or a compromised fleet member can write these keys. Only the latest
/// `rate + 1` entries are read; one that is not a whole number, or starts beyond `maxQueueMs` from now (which no
/// client writes: a start beyond it is not reserved), is dropped and the list rewritten, and the answer says so.
const RESERVE: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local rate = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max_queue = tonumber(ARGV[3])
local spacing = tonumber(ARGV[5])
local repaired = 0
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'none' and kind ~= 'list' then
  redis.call('DEL', KEYS[1])
  repaired = 1
end
local starts = {}
if kind == 'list' then
  if redis.call('LLEN', KEYS[1]) > rate + 1 then repaired = 1 end
  for _, start in ipairs(redis.call('LRANGE', KEYS[1], -(rate + 1), -1)) do
    local at = tonumber(start)
    if at and at == math.floor(at) and at <= now + max_queue + window then
      table.insert(starts, at)
    else
      repaired = 1
    end
  end
  if repaired == 1 then
    redis.call('DEL', KEYS[1])
    for _, at in ipairs(starts) do redis.call('RPUSH', KEYS[1], string.format('%d', at)) end
  end
end
-- The next `count` starts, each a window after the `rate`-th latest, none beyond maxQueueMs: the first beyond is
-- answered as 0 - its wait, and not reserved.
local answer = {now, repaired}
for _ = 1, tonumber(ARGV[4]) do
  local at = now
  if #starts >= rate then
    local oldest = starts[#starts - rate + 1]
    if oldest + window > at then at = oldest + window end
    -- Sustained traffic: starts at least half a start apart (see the pacing module).
    if oldest + 2 * window > now and starts[#starts] + spacing > at then at = starts[#starts] + spacing end
  end
  if at - now > max_queue then
    table.insert(answer, now - at)
    break
  end
  table.insert(starts, at)
  table.insert(answer, at)
  redis.call('RPUSH', KEYS[1], string.format('%d', at))
end
-- One more than the rate: should the newest reservation be given back, the start before it still counts.
redis.call('LTRIM', KEYS[1], -(rate + 1), -1)
redis.call('PEXPIRE', KEYS[1], starts[#starts] and (starts[#starts] - now + 2 * window) or 2 * window)
return answer
";

/// A switch is on while its key lives; one that would outlive what any client sets (written without an expiry, or
/// with a longer one) is given that expiry, and the answer says so (2).
const SWITCH: &str = "
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
if ttl < 0 or ttl > tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return 2
end
return 1
";

/// Only the newest reservations can be taken back (any later one was placed counting them): the given starts,
/// oldest first, are taken from the end of the list for as long as they are what it ends with.
const RELEASE: &str = r"
local released = 0
for i = #ARGV, 1, -1 do
  if redis.call('LINDEX', KEYS[1], -1) ~= ARGV[i] then break end
  redis.call('RPOP', KEYS[1])
  released = released + 1
end
return released
";

/// A start made later than it was reserved (a busy process): its entry, among the latest `ARGV[3] + 1`, moves to
/// when the start was made, the list kept in order, so that the starts reserved a window after it count from
/// then. An entry no longer there, or a list longer than any client leaves it (the next reservation repairs it), is
/// left alone.
const MOVE: &str = r"
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or redis.call('LLEN', KEYS[1]) > tonumber(ARGV[3]) + 1 then return 0 end
local was, made = ARGV[1], tonumber(ARGV[2])
local starts = redis.call('LRANGE', KEYS[1], 0, -1)
local found = nil
for i = #starts, 1, -1 do
  if starts[i] == was then found = i break end
end
if not found then return 0 end
table.remove(starts, found)
local place = #starts + 1
for i, start in ipairs(starts) do
  local at = tonumber(start)
  if at and at > made then place = i break end
end
table.insert(starts, place, ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('RPUSH', KEYS[1], unpack(starts))
redis.call('PEXPIRE', KEYS[1], ttl + math.max(0, made - tonumber(was)))
return 1
";

/// Redis's clock in ms, for scripts that compare leases.
const NOW: &str = "local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
";

/// A claim is a hash: `done` (the value left by the holder that finished), or `owner` and `until`: a lease on
/// Redis's clock, held by whoever knows the owner token, which is new for each holder (the fencing token: renewal,
/// release and takeover go by it). Anything else found there is taken as free, and so is a lease longer than any
/// holder takes (written by no client: it would hold the key for good).
const CLAIM: &str = "
local held = redis.call('HMGET', KEYS[1], 'done', 'owner', 'until')
if held[1] then return {'done', held[1]} end
local left = (tonumber(held[3]) or 0) - now
if held[2] and left > 0 and left <= tonumber(ARGV[2]) then return {'held', tostring(left)} end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'until', now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'claimed', ARGV[1]}
";

const RENEW: &str = "
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'until', now + tonumber(ARGV[2]))
return 1
";

/// The first holder to finish records what it did, even one whose lease ran out: what it did exists.
const COMPLETE: &str = "
if redis.call('HEXISTS', KEYS[1], 'done') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'done', ARGV[2])
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('HDEL', KEYS[1], 'owner', 'until') end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
";

const GIVE_BACK: &str = "
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'owner', 'until')
return 1
";

const FORGET: &str = "
if redis.call('HGET', KEYS[1], 'done') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
";

/// A receipt's highest status handed on: the one before is answered (0 for none) when this one ranks above it, else
/// -1. A value that is not a number is taken as none.
const ADVANCE: &str = "
local seen = tonumber(redis.call('GET', KEYS[1])) or 0
local rank = tonumber(ARGV[1])
if rank <= seen then return -1 end
redis.call('SET', KEYS[1], rank, 'PX', ARGV[2])
return seen
";

/// Puts the status seen before back, when nothing has moved it since.
const RETREAT: &str = "
if tonumber(redis.call('GET', KEYS[1])) ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') end
return 1
";

/// The fleet's journal of sent messages: a sorted set by send time, trimmed to its span at each write.
const JOURNAL: &str = "
local at = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], at, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
";

/// The most journal entries one reconcile reads.
const JOURNAL_READ_LIMIT: u32 = 100_000;

/// What Redis said of a claim.
#[derive(Debug)]
pub enum ClaimAnswer {
  Done(String),
  Held { remaining: Duration },
  Claimed(Lease),
}

/// A claim held in Redis: its key, and the holder's token, which only it knows.
#[derive(Debug, Clone)]
pub struct Lease {
  key: String,
  owner: String,
}

/// A start reserved in Redis: how long from now (when Redis answered), and what to give back if it is not used.
#[derive(Debug, Clone)]
pub struct Slot {
  pub wait: Duration,
  at: i64,
}

/// What one reservation answered: the starts reserved, oldest first, and the wait of the first start beyond
/// `maxQueueMs` when the script came to one (it is not reserved).
#[derive(Debug)]
pub struct Reservation {
  pub slots: Vec<Slot>,
  pub beyond: Option<Duration>,
  /// How long Redis took to answer.
  pub round_trip: Duration,
}

/// Where a fleet's Redis is and what its keys are named after.
pub struct FleetOptions<'a> {
  /// `redis://`, `rediss://` (TLS), `redis+unix://`, `redis+sentinel://`, or a Cluster's comma-separated nodes.
  pub url: &'a Secret,
  /// The PEM of a private CA that signed the servers' certificates.
  pub ca: Option<&'a [u8]>,
  /// Put before every key (`redisKeyPrefix`), for a deployment that shares its Redis.
  pub key_prefix: &'a str,
  pub account_sid: &'a str,
  pub service_sid: Option<&'a str>,
  /// The longest a send waits for its pacing slot: no start further ahead is ever reserved.
  pub max_queue: Duration,
}

pub struct Fleet {
  topology: Topology,
  /// `host:port`, what a warning may say of the server (the URL may hold a password).
  address: String,
  prefix: String,
  max_queue: Duration,
  connection: Mutex<Option<Connection>>,
  /// One connection attempt at a time.
  connecting: tokio::sync::Mutex<()>,
  claims_prefix: String,
  reserve: redis::Script,
  release: redis::Script,
  moved: redis::Script,
  claim: redis::Script,
  renew: redis::Script,
  complete: redis::Script,
  give_back: redis::Script,
  forget: redis::Script,
  advance: redis::Script,
  retreat: redis::Script,
  journal: redis::Script,
  switch: redis::Script,
  /// Set by [`Fleet::close`]: no connection is made again.
  closed: std::sync::atomic::AtomicBool,
  /// Whether what Redis held that this client could not have written was warned of.
  warned_foreign: std::sync::atomic::AtomicBool,
  /// Since when Redis has not answered: the process paces alone meanwhile.
  down_since: Mutex<Option<Instant>>,
  /// How long a reservation takes, smoothed: how many starts a lane reserves at once.
  round_trip: Mutex<Duration>,
  /// Whether sends waiting on a reservation from Redis were warned of.
  warned_slow: std::sync::atomic::AtomicBool,
  log: Arc<Log>,
}

impl Fleet {
  /// The URL is never echoed: it may hold a password.
  pub fn new(options: FleetOptions<'_>, log: Arc<Log>) -> Result<Self> {
    let (topology, address) = Topology::parse(options.url.expose(), options.ca, REDIS_TIMEOUT)?;
    let (key_prefix, account_sid) = (options.key_prefix, options.account_sid);
    Ok(Self {
      topology,
      address,
      prefix: format!(
        "{key_prefix}twilio-pacing:{account_sid}:{}",
        options.service_sid.unwrap_or("default")
      ),
      max_queue: options.max_queue,
      connection: Mutex::new(None),
      connecting: tokio::sync::Mutex::new(()),
      claims_prefix: format!("{key_prefix}twilio-claims:{account_sid}"),
      reserve: redis::Script::new(RESERVE),
      release: redis::Script::new(RELEASE),
      moved: redis::Script::new(MOVE),
      claim: redis::Script::new(&format!("{NOW}{CLAIM}")),
      renew: redis::Script::new(&format!("{NOW}{RENEW}")),
      complete: redis::Script::new(COMPLETE),
      give_back: redis::Script::new(GIVE_BACK),
      forget: redis::Script::new(FORGET),
      advance: redis::Script::new(ADVANCE),
      retreat: redis::Script::new(RETREAT),
      journal: redis::Script::new(JOURNAL),
      switch: redis::Script::new(SWITCH),
      warned_foreign: std::sync::atomic::AtomicBool::new(false),
      closed: std::sync::atomic::AtomicBool::new(false),
      down_since: Mutex::new(None),
      round_trip: Mutex::new(Duration::ZERO),
      warned_slow: std::sync::atomic::AtomicBool::new(false),
      log,
    })
  }

  /// Drops the connection (a Cluster's and a Sentinel's with it) and makes no other.
  pub fn close(&self) {
    self.closed.store(true, std::sync::atomic::Ordering::Release);
    self.connection.locked().take();
  }

  /// A connection, or `None` while Redis is down and not due to be asked again, or after [`Fleet::close`].
  async fn connection(&self) -> Option<Connection> {
    if self.closed.load(std::sync::atomic::Ordering::Acquire) {
      return None;
    }
    if self
      .down_since
      .locked()
      .is_some_and(|since| since.elapsed() < REDIS_RETRY)
    {
      return None;
    }
    if let Some(connection) = self.connection.locked().clone() {
      return Some(connection);
    }
    let connect = async {
      let _one_at_a_time = self.connecting.lock().await;
      if let Some(connection) = self.connection.locked().clone() {
        return Ok(connection);
      }
      let connection = self.topology.connect(REDIS_TIMEOUT).await?;
      self.log.info(|| {
        format!(
          "Redis at {} answers: Twilio's rate is shared with every process that paces through it.",
          self.address
        )
      });
      if !self.closed.load(std::sync::atomic::Ordering::Acquire) {
        *self.connection.locked() = Some(connection.clone());
      }
      Ok::<_, redis::RedisError>(connection)
    };
    match tokio::time::timeout(REDIS_TIMEOUT, connect).await {
      Ok(Ok(connection)) => Some(connection),
      Ok(Err(error)) => self.failed(&error.to_string()),
      Err(_) => self.failed("no answer in time"),
    }
  }

  /// Redis did not answer: pace alone until it is asked again, warning once for the outage.
  fn failed<T>(&self, why: &str) -> Option<T> {
    if !self.topology.reconnects_itself() {
      // A Sentinel is asked for the master again: a failover may have moved it.
      self.connection.locked().take();
    }
    let mut down = self.down_since.locked();
    if down.is_none() {
      self.log.warn(format!(
        "Redis at {} did not answer within {} ms ({}): this process paces Twilio's rate alone until Redis answers \
         again; no send fails because of it.",
        self.address,
        REDIS_TIMEOUT.as_millis(),
        crate::error::outside(why),
      ));
    }
    *down = Some(Instant::now());
    None
  }

  fn answered(&self) {
    let mut down = self.down_since.locked();
    if down.take().is_some() {
      self.log.warn(format!(
        "Redis at {} answers again: Twilio's rate is shared with the fleet again.",
        self.address
      ));
    }
  }

  /// Runs one command on Redis within [`REDIS_TIMEOUT`]; `None` when Redis is down or too slow.
  async fn run<'a, T: redis::FromRedisValue>(
    &'a self,
    command: impl FnOnce(Connection) -> CommandFuture<'a, T>,
  ) -> Option<T> {
    let connection = self.connection().await?;
    match tokio::time::timeout(REDIS_TIMEOUT, command(connection)).await {
      Ok(Ok(value)) => {
        self.answered();
        Some(value)
      }
      Ok(Err(error)) => self.failed(&error.to_string()),
      Err(_) => self.failed("no answer in time"),
    }
  }

  /// Reserves the next `count` starts of the lane `lane` (`service`, `conversation:CH…`) shared by the fleet, at
  /// most `rate` a `window`, `spacing` apart under sustained traffic; `None`: pace locally (Redis is down or slow,
  /// or answered what the script never does).
  pub async fn reserve(
    &self,
    lane: &str,
    rate: u32,
    window: Duration,
    spacing: Duration,
    count: usize,
  ) -> Option<Reservation> {
    let key = self.pacing_key(lane);
    let args = [
      rate.to_string(),
      millis(window),
      millis(self.max_queue),
      count.to_string(),
      millis(spacing),
    ];
    let asked = Instant::now();
    let answer: Vec<i64> = self
      .eval(&self.reserve, &key, &[&args[0], &args[1], &args[2], &args[3], &args[4]])
      .await?;
    let round_trip = asked.elapsed();
    {
      let mut smoothed = self.round_trip.locked();
      *smoothed = if smoothed.is_zero() {
        round_trip
      } else {
        (*smoothed * 3 + round_trip) / 4
      };
    }
    let [now, repaired, starts @ ..] = answer.as_slice() else {
      self.failed::<()>("an answer no reservation script gives");
      return None;
    };
    if *repaired == 1 {
      self.foreign("pacing starts no client writes (beyond maxQueueMs, or not numbers)");
    }
    let wait = |at: i64| Duration::from_millis(u64::try_from(at.saturating_sub(*now)).unwrap_or(0));
    let mut reservation = Reservation {
      slots: Vec::with_capacity(starts.len()),
      beyond: None,
      round_trip,
    };
    // At most what was asked for, and the first refused: a Redis that answers more is not believed.
    for &at in starts.iter().take(count.saturating_add(1)) {
      if at < 0 {
        // The script answers the first start beyond maxQueueMs as its wait, negated.
        reservation.beyond = Some(Duration::from_millis(at.unsigned_abs()));
        break;
      } else if reservation.slots.len() < count {
        reservation.slots.push(Slot { wait: wait(at), at });
      }
    }
    Some(reservation)
  }

  /// How long Redis takes to answer a reservation, smoothed over the latest ones.
  pub fn round_trip(&self) -> Duration {
    *self.round_trip.locked()
  }

  /// Sends waited `delay` for Redis to answer a reservation, their start due meanwhile: said once, at warn.
  pub fn slowed_sends(&self, delay: Duration) {
    if !self.warned_slow.swap(true, std::sync::atomic::Ordering::Relaxed) {
      self.log.warn(format!(
        "Redis at {} took {} ms to answer a pacing reservation that sends waited for (about {} ms a reservation \
         lately): Redis slows this process's sends. Each lane reserves several starts at once and ahead of need to \
         keep Twilio's rate, but each send that finds none waits for Redis; bring Redis nearer, or find what loads \
         it.",
        self.address,
        delay.as_millis(),
        self.round_trip().as_millis()
      ));
    }
  }

  /// Runs `work` on the fleet in the background, from code that cannot wait for Redis (a drop, a warning being
  /// raised); outside a Tokio runtime there is nothing to run it on, and it is left undone.
  pub fn in_background<F>(self: &Arc<Self>, work: impl FnOnce(Arc<Self>) -> F)
  where
    F: std::future::Future<Output = ()> + Send + 'static,
  {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
      drop(runtime.spawn(work(self.clone())));
    }
  }

  /// Gives back reservations of the lane `lane` that will not be used (oldest first), as far as nothing was
  /// reserved after them.
  pub async fn release(&self, lane: &str, slots: &[Slot]) {
    if slots.is_empty() {
      return;
    }
    let ats: Vec<String> = slots.iter().map(|slot| slot.at.to_string()).collect();
    let ats: Vec<&str> = ats.iter().map(String::as_str).collect();
    let _: Option<i64> = self.eval(&self.release, &self.pacing_key(lane), &ats).await;
  }

  /// The start `slot` of the lane `lane` was made `late` after it was due: it counts from then.
  pub async fn started_late(&self, lane: &str, slot: &Slot, late: Duration, rate: u32) {
    let late = i64::try_from(late.as_millis()).unwrap_or(i64::MAX);
    let args = [
      slot.at.to_string(),
      slot.at.saturating_add(late).to_string(),
      rate.to_string(),
    ];
    let _: Option<i64> = self
      .eval(&self.moved, &self.pacing_key(lane), &[&args[0], &args[1], &args[2]])
      .await;
  }

  /// The key of a pacing lane, or of a switch, of this account and service.
  fn pacing_key(&self, name: &str) -> String {
    format!("{}:{name}", self.prefix)
  }

  /// Runs `script` on one key with these arguments.
  async fn eval<T: redis::FromRedisValue + Send>(&self, script: &redis::Script, key: &str, args: &[&str]) -> Option<T> {
    self
      .run(|mut connection| {
        let mut invocation = script.key(key);
        for arg in args {
          invocation.arg(*arg);
        }
        Box::pin(async move { invocation.invoke_async(&mut connection).await })
      })
      .await
  }

  fn claim_key(&self, name: &str) -> String {
    format!("{}:{name}", self.claims_prefix)
  }

  /// Claims `name` for the fleet for `lease`, what was done under it kept for `memory`; `None` when Redis is down
  /// or answered something no script of ours returns.
  pub async fn claim(&self, name: &str, lease: Duration, memory: Duration) -> Option<ClaimAnswer> {
    let key = self.claim_key(name);
    let owner = uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string();
    let (lease_ms, memory_ms) = (millis(lease), millis(memory.max(lease)));
    let answer: Vec<String> = self.eval(&self.claim, &key, &[&owner, &lease_ms, &memory_ms]).await?;
    let parsed = claim_answer(&answer, key, owner, lease);
    if parsed.is_none() {
      self.failed::<()>("an answer no claim script gives");
    }
    parsed
  }

  /// Extends a lease; `Some(false)` when Redis says it is no longer this holder's.
  pub async fn renew(&self, lease: &Lease, length: Duration) -> Option<bool> {
    let renewed: i64 = self
      .eval(&self.renew, &lease.key, &[&lease.owner, &millis(length)])
      .await?;
    Some(renewed == 1)
  }

  /// Records what was done under the lease, kept for `memory`.
  pub async fn complete(&self, lease: &Lease, value: &str, memory: Duration) {
    let _: Option<i64> = self
      .eval(&self.complete, &lease.key, &[&lease.owner, value, &millis(memory)])
      .await;
  }

  /// Gives the lease back: nothing was done under it.
  pub async fn release_claim(&self, lease: &Lease) {
    let _: Option<i64> = self.eval(&self.give_back, &lease.key, &[&lease.owner]).await;
  }

  /// Forgets that `name` was done with `value`.
  pub async fn forget(&self, name: &str, value: &str) {
    let _: Option<i64> = self.eval(&self.forget, &self.claim_key(name), &[value]).await;
  }

  /// Ranks `name` at `rank` if that is above what it holds: `Some(Some(previous))`, `Some(None)` when it is not,
  /// `None` when Redis does not answer.
  pub async fn advance(&self, name: &str, rank: u8, memory: Duration) -> Option<Option<u8>> {
    let previous: i64 = self
      .eval(
        &self.advance,
        &self.claim_key(name),
        &[&rank.to_string(), &millis(memory)],
      )
      .await?;
    Some(u8::try_from(previous).ok())
  }

  /// Puts `name` back from `rank` to `previous`, if nothing moved it since.
  pub async fn retreat(&self, name: &str, rank: u8, previous: u8) {
    let _: Option<i64> = self
      .eval(
        &self.retreat,
        &self.claim_key(name),
        &[&rank.to_string(), &previous.to_string()],
      )
      .await;
  }

  /// Notes a message sent at `at_ms` in the fleet's journal, which keeps `span`.
  pub async fn journal(&self, member: &str, at_ms: u64, span: Duration) {
    let key = self.claim_key("sent");
    let _: Option<i64> = self
      .eval(&self.journal, &key, &[member, &at_ms.to_string(), &millis(span)])
      .await;
  }

  /// The fleet's journal from `since_ms` to `until_ms`; `None` when Redis does not answer.
  pub async fn journaled(&self, since_ms: u64, until_ms: u64) -> Option<Vec<String>> {
    let key = self.claim_key("sent");
    self
      .run(|mut connection| {
        Box::pin(async move {
          redis::cmd("ZRANGEBYSCORE")
            .arg(key)
            .arg(since_ms)
            .arg(until_ms)
            .arg("LIMIT")
            .arg(0)
            .arg(JOURNAL_READ_LIMIT)
            .query_async(&mut connection)
            .await
        })
      })
      .await
  }

  /// Whether the fleet holds the switch `name`, which no process sets for longer than `ttl`; `None` when Redis is
  /// down.
  pub async fn switch(&self, name: &str, ttl: Duration) -> Option<bool> {
    let key = self.pacing_key(name);
    let state: u8 = self.eval(&self.switch, &key, &[&millis(ttl)]).await?;
    if state == 2 {
      self.foreign("a switch without the expiry every client gives it (now given it)");
    }
    Some(state != 0)
  }

  /// What Redis held could not have been written by any client: warned of once, and ignored or repaired.
  fn foreign(&self, what: &str) {
    if !self.warned_foreign.swap(true, std::sync::atomic::Ordering::Relaxed) {
      self.log.warn(format!(
        "Redis at {} held {what}: another tenant or a compromised process writes this client's keys. It was \
         ignored and repaired; give the client a Redis user of its own (docs/GUIDE.md, Campaigns) and a redisKeyPrefix.",
        self.address
      ));
    }
  }

  /// Sets the fleet's switch `name` for `ttl`.
  pub async fn set_switch(&self, name: &str, ttl: Duration) {
    let key = self.pacing_key(name);
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    let _: Option<()> = self
      .run(|mut connection| {
        Box::pin(async move {
          redis::cmd("SET")
            .arg(key)
            .arg(1)
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut connection)
            .await
        })
      })
      .await;
  }
}

/// What the claim script answered, read as input: `None` for anything no claim script of ours returns.
pub(crate) fn claim_answer(answer: &[String], key: String, owner: String, lease: Duration) -> Option<ClaimAnswer> {
  match answer {
    [state, value] if state == "done" => Some(ClaimAnswer::Done(value.clone())),
    [state, left] if state == "held" => left.parse().ok().map(|ms: u64| ClaimAnswer::Held {
      remaining: Duration::from_millis(ms).min(lease),
    }),
    [state, token] if state == "claimed" && *token == owner => Some(ClaimAnswer::Claimed(Lease { key, owner })),
    _ => None,
  }
}

fn millis(duration: Duration) -> String {
  duration.as_millis().to_string()
}

type CommandFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = redis::RedisResult<T>> + Send + 'a>>;
