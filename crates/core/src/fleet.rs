//! A fleet's shared budget: with `redisUrl`, every process and machine sending for one account and service
//! reserves its pacing slots in one Redis, so together they start no more writes a second than Twilio accepts,
//! in the order they asked. The system identity's "full" switch is shared there too.
//!
//! Each key is a list of the latest start times (Redis's clock, in ms) under `twilio-pacing:<account>:<service>:`,
//! and one Lua script reserves atomically: the start is now, or a window after the `rate`-th latest start. Only
//! the head of a process's lane reserves (see the `pacing` module), so a process holds at most one reservation a key
//! ahead of time, and one whose call ends before it starts is given back when nothing was reserved after it.
//!
//! Redis never fails a send: every command is bounded by [`REDIS_TIMEOUT`]; when Redis does not answer in time the
//! process paces alone (one warning), tries Redis again after [`REDIS_RETRY`], and says so when it answers again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::config::Secret;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::sync::Unpoisoned;

/// The longest a Redis command may take before the process paces alone.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// How long a process paces alone after Redis failed to answer, before it asks Redis again.
pub const REDIS_RETRY: Duration = Duration::from_secs(1);

const RESERVE: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local rate = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local at = now
local count = redis.call('LLEN', KEYS[1])
if count >= rate then
  local free = tonumber(redis.call('LINDEX', KEYS[1], count - rate)) + window
  if free > at then at = free end
end
redis.call('RPUSH', KEYS[1], at)
-- One more than the rate: should this reservation be given back, the start before it still counts.
redis.call('LTRIM', KEYS[1], -(rate + 1), -1)
redis.call('PEXPIRE', KEYS[1], at - now + 2 * window)
return {at - now, at}
";

/// Only the newest reservation can be taken back: any later one was placed counting it.
const RELEASE: &str = r"
if redis.call('LINDEX', KEYS[1], -1) == ARGV[1] then
  redis.call('RPOP', KEYS[1])
  return 1
end
return 0
";

/// A start reserved in Redis: how long from now, and what to give back if it is not used.
#[derive(Debug, Clone)]
pub struct Slot {
  pub wait: Duration,
  key: String,
  at: i64,
}

pub struct Fleet {
  client: redis::Client,
  /// `host:port`, what a warning may say of the server (the URL may hold a password).
  address: String,
  prefix: String,
  connection: OnceCell<ConnectionManager>,
  reserve: redis::Script,
  release: redis::Script,
  /// Since when Redis has not answered: the process paces alone meanwhile.
  down_since: Mutex<Option<Instant>>,
  log: Arc<Log>,
}

impl Fleet {
  /// `url`: `redis://`, `rediss://` (TLS) or `redis+unix://`. The URL is never echoed: it may hold a password.
  pub fn new(url: &Secret, account_sid: &str, service_sid: Option<&str>, log: Arc<Log>) -> Result<Self> {
    let client = redis::Client::open(url.expose()).map_err(|_| Error::Config {
      message: "redisUrl must be a redis://, rediss:// or redis+unix:// URL".to_string(),
    })?;
    let address = match &client.get_connection_info().addr() {
      redis::ConnectionAddr::Tcp(host, port) | redis::ConnectionAddr::TcpTls { host, port, .. } => {
        format!("{host}:{port}")
      }
      redis::ConnectionAddr::Unix(path) => path.display().to_string(),
      _ => "redis".to_string(),
    };
    Ok(Self {
      client,
      address,
      prefix: format!("twilio-pacing:{account_sid}:{}", service_sid.unwrap_or("default")),
      connection: OnceCell::new(),
      reserve: redis::Script::new(RESERVE),
      release: redis::Script::new(RELEASE),
      down_since: Mutex::new(None),
      log,
    })
  }

  /// A connection, or `None` while Redis is down and not due to be asked again.
  async fn connection(&self) -> Option<ConnectionManager> {
    if self
      .down_since
      .locked()
      .is_some_and(|since| since.elapsed() < REDIS_RETRY)
    {
      return None;
    }
    let connect = || async {
      let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(REDIS_TIMEOUT))
        .set_number_of_retries(1);
      let connection = ConnectionManager::new_with_config(self.client.clone(), config).await?;
      self.log.info(|| {
        format!(
          "Redis at {} answers: Twilio's rate is shared with every process that paces through it.",
          self.address
        )
      });
      Ok::<_, redis::RedisError>(connection)
    };
    match tokio::time::timeout(REDIS_TIMEOUT, self.connection.get_or_try_init(connect)).await {
      Ok(Ok(connection)) => Some(connection.clone()),
      Ok(Err(error)) => self.failed(&error.to_string()),
      Err(_) => self.failed("no answer in time"),
    }
  }

  /// Redis did not answer: pace alone until it is asked again, warning once for the outage.
  fn failed<T>(&self, why: &str) -> Option<T> {
    let mut down = self.down_since.locked();
    if down.is_none() {
      self.log.warn(format!(
        "Redis at {} did not answer within {} ms ({}): this process paces Twilio's rate alone until Redis answers \
         again; no send fails because of it.",
        self.address,
        REDIS_TIMEOUT.as_millis(),
        crate::error::redact_numbers(why),
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
    command: impl FnOnce(ConnectionManager) -> CommandFuture<'a, T>,
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

  /// Reserves the next start of the lane `lane` (`service`, `conversation:CH…`) shared by the fleet; `None`: pace
  /// locally (Redis is down or slow).
  pub async fn reserve(&self, lane: &str, rate: u32, window: Duration) -> Option<Slot> {
    let key = format!("{}:{lane}", self.prefix);
    let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    let script = &self.reserve;
    let (wait, at): (u64, i64) = self
      .run(|mut connection| {
        let mut invocation = script.key(&key);
        invocation.arg(rate).arg(window_ms);
        Box::pin(async move { invocation.invoke_async(&mut connection).await })
      })
      .await?;
    Some(Slot {
      wait: Duration::from_millis(wait),
      key,
      at,
    })
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

  /// Gives back a reservation that will not be used, if nothing was reserved after it.
  pub async fn release(&self, slot: Slot) {
    let script = &self.release;
    let _: Option<i64> = self
      .run(|mut connection| {
        let mut invocation = script.key(&slot.key);
        invocation.arg(slot.at);
        Box::pin(async move { invocation.invoke_async(&mut connection).await })
      })
      .await;
  }

  /// Whether the fleet holds the switch `name` (set by any process, for `ttl`); `None` when Redis is down.
  pub async fn switch(&self, name: &str) -> Option<bool> {
    let key = format!("{}:{name}", self.prefix);
    self
      .run(|mut connection| Box::pin(async move { redis::cmd("EXISTS").arg(key).query_async(&mut connection).await }))
      .await
  }

  /// Sets the fleet's switch `name` for `ttl`.
  pub async fn set_switch(&self, name: &str, ttl: Duration) {
    let key = format!("{}:{name}", self.prefix);
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

type CommandFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = redis::RedisResult<T>> + Send + 'a>>;
