//! The customer's conversation: found or created, cached, one lookup in flight per number.
//!
//! On a cache miss the conversation is fetched by its unique name (one call). When there is none it is created
//! with both participants in one call (ConversationWithParticipants), which Twilio refuses as a whole rather
//! than leave an orphan behind. The unique name is the lock across processes: whoever loses the race gets
//! 50353 and fetches the winner's conversation. A customer whose binding another conversation holds (50416 /
//! 50425) is served in that conversation. A closed conversation is never reused: the customer gets the next
//! generation (`whatsapp_<digits>_2`, …), which the next lookup finds through ParticipantConversations.
//!
//! The system identity joins each new conversation while Twilio accepts it. Twilio lets one identity be in at
//! most 1,000 active or inactive conversations; when it refuses a creation that succeeds without the identity,
//! the customer's conversation is made without it, one warning is raised, and new conversations are made
//! without it for [`SYSTEM_PARTICIPANT_PAUSE`] (option `systemParticipant: 'auto'`). A conversation Twilio is
//! still initializing is waited for before anyone writes to it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::future::Cache;
use moka::policy::EvictionPolicy;
use serde_json::json;
use tokio::time::Instant;

use crate::config::{Config, ConversationTimers, SystemParticipant};
use crate::endpoints::Api;
use crate::error::{Error, Result};
use crate::fleet::Fleet;
use crate::log::Log;
use crate::pacing::PaceKey;
use crate::phone::{mask, Customer, Numbers};
use crate::records::{is_sid, sid_in, ConversationInfo, ParticipantConversation};
use crate::sync::Unpoisoned;

/// Creation attempts before giving up (each lost race, closed generation or refused system identity costs one).
const MAX_CREATE_ATTEMPTS: u32 = 5;
/// How long new conversations are made without the system identity after Twilio refused it: long enough not
/// to spend a doomed request on every new customer, short enough to take it back once conversations close.
pub const SYSTEM_PARTICIPANT_PAUSE: Duration = Duration::from_secs(600);
/// The fleet's switch that says Twilio refused the system identity lately.
const SYSTEM_FULL: &str = "system-full";
/// moka's bound on a time to live (it refuses more than 1,000 years); a longer one is as good as forever.
const MAX_CACHE_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// The first wait for an initializing conversation; it doubles up to [`INITIALIZING_POLL_CAP`].
const INITIALIZING_POLL: Duration = Duration::from_millis(100);
const INITIALIZING_POLL_CAP: Duration = Duration::from_secs(2);

/// A conversation SID in 16 bytes when it has Twilio's usual form (`CH` and 32 lowercase hex digits). Bytes
/// rather than a `u128`, whose 16-byte alignment would pad every cache entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sid {
  Hex([u8; 16]),
  Text(Arc<str>),
}

impl Sid {
  fn new(sid: &str) -> Self {
    // Only lowercase hex is packed, so that the SID given back is the very text Twilio sent.
    Some(sid)
      .filter(|sid| is_sid(sid, "CH") && !sid.bytes().skip(2).any(|b| b.is_ascii_uppercase()))
      .and_then(|sid| u128::from_str_radix(sid.get(2..)?, 16).ok())
      .map_or_else(|| Self::Text(sid.into()), |value| Self::Hex(value.to_be_bytes()))
  }

  fn text(&self) -> String {
    match self {
      Self::Hex(bytes) => format!("CH{:032x}", u128::from_be_bytes(*bytes)),
      Self::Text(text) => text.to_string(),
    }
  }
}

/// The open states a cached conversation can be in (closed ones are never cached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenState {
  Active,
  Inactive,
  Initializing,
}

impl OpenState {
  fn new(state: &str) -> Self {
    match state {
      "inactive" => Self::Inactive,
      "initializing" => Self::Initializing,
      _ => Self::Active,
    }
  }

  fn as_str(self) -> &'static str {
    match self {
      Self::Active => "active",
      Self::Inactive => "inactive",
      Self::Initializing => "initializing",
    }
  }
}

/// What the cache keeps of a conversation: what later calls need, compactly (100,000 entries are a target of
/// this client).
#[derive(Debug, Clone)]
struct Cached {
  sid: Sid,
  /// Shared by every conversation of the service.
  chat_service_sid: Arc<str>,
  state: OpenState,
  /// Whether it is the first conversation this client made for the customer (unique name `whatsapp_<digits>`):
  /// a keyed send then has no earlier one to look through.
  first: bool,
  /// On tokio's clock, the core's clock (paused in tests, as the pacer's is); moka's own time to live, on its own
  /// clock, reclaims the memory.
  expires: Instant,
}

/// The old module's cache key `conv_whatsapp:+<digits>`, kept as the number itself ([`Customer::number`]).
type Key = u64;

pub struct Resolver {
  api: Arc<Api>,
  /// Least recently used out first: the customers just written to are the likeliest to be written to again.
  cache: Cache<Key, Cached>,
  ttl: Duration,
  /// Chat service SIDs seen, so that cache entries share them.
  interned: Mutex<Vec<Arc<str>>>,
  sender: String,
  system_identity: String,
  system_participant: SystemParticipant,
  /// Until when new conversations are made without the system identity (`auto` only).
  system_paused_until: Mutex<Option<Instant>>,
  timers: ConversationTimers,
  numbers: Numbers,
  log: Arc<Log>,
  /// Shares the system identity's pause with every process of the fleet.
  fleet: Option<Arc<Fleet>>,
}

enum Lookup {
  Found(ConversationInfo),
  /// No usable conversation; the next one gets this generation's unique name.
  Missing {
    generation: u32,
  },
}

/// The conversation SID a 50416 message ends with.
fn holder_in_message(error: &Error) -> Option<String> {
  let Error::Api { message, .. } = error else { return None };
  sid_in(message, "CH")
}

/// A refusal that may be the system identity's fault: Twilio answered 4xx to the creation, and it is none of
/// the conflicts the resolver handles (a lost race, a binding held elsewhere), nor a rate limit or bad credentials.
fn may_be_the_system_identity(error: &Error) -> bool {
  matches!(error, Error::Api { status: 400..=499, .. })
    && !matches!(error.status(), Some(401 | 429))
    && ![50353, 50416, 50425].iter().any(|code| error.has_code(*code))
}

fn key(customer: &Customer) -> Key {
  customer.number()
}

impl Resolver {
  pub fn new(api: Arc<Api>, config: &Config, log: Arc<Log>, fleet: Option<Arc<Fleet>>) -> Self {
    Self {
      api,
      cache: Cache::builder()
        .max_capacity(config.cache_max_entries)
        .time_to_live(config.cache_ttl.min(MAX_CACHE_TTL))
        .eviction_policy(EvictionPolicy::lru())
        .build(),
      ttl: config.cache_ttl,
      interned: Mutex::new(Vec::new()),
      sender: config.sender_address(),
      system_identity: config.system_identity.clone(),
      system_participant: config.system_participant,
      system_paused_until: Mutex::new(None),
      timers: config.conversation_timers.clone(),
      numbers: config.numbers,
      log,
      fleet,
    }
  }

  /// The customer `phone` names, read as the client's options say.
  pub fn customer(&self, phone: &str) -> Result<Customer> {
    self.numbers.read(phone)
  }

  fn intern(&self, text: &str) -> Arc<str> {
    let mut interned = self.interned.locked();
    if let Some(found) = interned.iter().find(|known| known.as_ref() == text) {
      return found.clone();
    }
    let new: Arc<str> = text.into();
    // Services are few; the bound only guards against a misbehaving answer.
    if interned.len() < 64 {
      interned.push(new.clone());
    }
    new
  }

  fn compact(&self, customer: &Customer, conversation: &ConversationInfo) -> Cached {
    Cached {
      sid: Sid::new(&conversation.sid),
      chat_service_sid: self.intern(&conversation.chat_service_sid),
      state: OpenState::new(&conversation.state),
      first: conversation
        .unique_name
        .as_deref()
        .and_then(|n| customer.generation_of(n))
        == Some(1),
      expires: crate::call::after(self.ttl),
    }
  }

  /// The customer's cached conversation while its time to live lasts.
  async fn cached(&self, key: Key) -> Option<Cached> {
    let hit = self.cache.get(&key).await?;
    if hit.expires > Instant::now() {
      return Some(hit);
    }
    self.cache.invalidate(&key).await;
    None
  }

  /// The cache keeps the unique name only when it is the customer's first: what a keyed send needs of it.
  fn expand(customer: &Customer, cached: &Cached) -> ConversationInfo {
    ConversationInfo {
      sid: cached.sid.text(),
      chat_service_sid: cached.chat_service_sid.to_string(),
      unique_name: cached.first.then(|| customer.unique_name(1)),
      state: cached.state.as_str().to_string(),
    }
  }

  /// The customer's conversation, created when there is none. Concurrent calls for one customer share one
  /// lookup; a failure is not cached.
  pub async fn resolve(&self, customer: &Customer) -> Result<ConversationInfo> {
    // The lookup is boxed: a send holds a resolve's state while it waits for later steps (a queue of thousands of
    // sends at Twilio's rate), and only a cache miss needs the lookup's kilobytes.
    let miss = Box::pin(async {
      let conversation = match self.lookup(customer).await? {
        Lookup::Found(conversation) => conversation,
        Lookup::Missing { generation } => self.create(customer, generation).await?,
      };
      let conversation = self.ready(conversation).await?;
      Ok(self.compact(customer, &conversation))
    });
    let hit = self.cached(key(customer)).await;
    self.api.http().observer().cache(hit.is_some());
    if let Some(hit) = hit {
      return Ok(Self::expand(customer, &hit));
    }
    // One lookup in flight per customer: concurrent callers wait for it and share its outcome, an error too.
    let cached = self
      .cache
      .try_get_with(key(customer), miss)
      .await
      .map_err(|shared| Error::clone(&shared))?;
    Ok(Self::expand(customer, &cached))
  }

  /// The customer's conversation if one exists; never creates anything.
  pub async fn find(&self, customer: &Customer) -> Result<Option<ConversationInfo>> {
    let hit = self.cached(key(customer)).await;
    self.api.http().observer().cache(hit.is_some());
    if let Some(hit) = hit {
      return Ok(Some(Self::expand(customer, &hit)));
    }
    match self.lookup(customer).await? {
      Lookup::Found(conversation) => {
        self
          .cache
          .insert(key(customer), self.compact(customer, &conversation))
          .await;
        Ok(Some(conversation))
      }
      Lookup::Missing { .. } => Ok(None),
    }
  }

  /// The SID of the customer's cached conversation, if any: where a send to them will write.
  pub async fn cached_sid(&self, customer: &Customer) -> Option<String> {
    self.cached(key(customer)).await.map(|hit| hit.sid.text())
  }

  /// Forgets the customer's conversation, e.g. after Twilio reported it closed or gone.
  pub async fn evict(&self, customer: &Customer) {
    self.cache.invalidate(&key(customer)).await;
  }

  /// The conversations cached, once the evictions due have been made.
  pub async fn cached_entries(&self) -> u64 {
    self.cache.run_pending_tasks().await;
    self.cache.entry_count()
  }

  async fn lookup(&self, customer: &Customer) -> Result<Lookup> {
    match self.api.fetch_conversation(&customer.unique_name(1)).await {
      Ok(conversation) if !conversation.is_closed() => Ok(Lookup::Found(conversation)),
      Ok(_closed) => self.after_close(customer).await,
      Err(error) if error.is_not_found() => Ok(Lookup::Missing { generation: 1 }),
      Err(error) => Err(error),
    }
  }

  /// The first conversation was closed: find its open successor, or say which generation comes next.
  async fn after_close(&self, customer: &Customer) -> Result<Lookup> {
    let records = self.api.participant_conversations(&customer.address()).await?;
    if let Some(open) = self.open_with_our_sender(&records) {
      return Ok(Lookup::Found(open.clone()));
    }
    let latest = records
      .iter()
      .filter_map(|r| r.conversation.unique_name.as_deref())
      .filter_map(|name| customer.generation_of(name))
      .max()
      .unwrap_or(1);
    Ok(Lookup::Missing { generation: latest + 1 })
  }

  /// Waits, within the call's deadline, until Twilio has finished initializing the conversation.
  async fn ready(&self, mut conversation: ConversationInfo) -> Result<ConversationInfo> {
    let mut wait = INITIALIZING_POLL;
    while conversation.is_initializing() {
      tokio::time::sleep(wait).await;
      wait = (wait * 2).min(INITIALIZING_POLL_CAP);
      conversation = self.api.fetch_conversation(&conversation.sid).await?;
    }
    Ok(conversation)
  }

  fn participants(&self, customer: &Customer, with_system: bool) -> Vec<String> {
    let mut participants =
      vec![json!({ "messaging_binding": { "address": customer.address(), "proxy_address": self.sender } }).to_string()];
    if with_system {
      participants.push(json!({ "identity": self.system_identity }).to_string());
    }
    participants
  }

  /// Whether a new conversation gets the system identity now: not while this process, or any process of the
  /// fleet, saw Twilio refuse it lately.
  async fn offer_system(&self) -> bool {
    match self.system_participant {
      SystemParticipant::Always => true,
      SystemParticipant::Never => false,
      SystemParticipant::Auto => {
        let paused_here = self
          .system_paused_until
          .locked()
          .is_some_and(|until| Instant::now() < until);
        if paused_here {
          return false;
        }
        match &self.fleet {
          Some(fleet) => fleet.switch(SYSTEM_FULL, SYSTEM_PARTICIPANT_PAUSE).await != Some(true),
          None => true,
        }
      }
    }
  }

  /// Twilio refused the system identity: leave it out for a while, and say so once (concurrent creations that
  /// fell back at the same time do not repeat the warning).
  fn pause_system(&self, refusal: &Error) {
    let now = Instant::now();
    let mut paused = self.system_paused_until.locked();
    let already = paused.is_some_and(|until| now < until);
    *paused = Some(now + SYSTEM_PARTICIPANT_PAUSE);
    drop(paused);
    if let Some(fleet) = &self.fleet {
      fleet.in_background(|fleet| async move { fleet.set_switch(SYSTEM_FULL, SYSTEM_PARTICIPANT_PAUSE).await });
    }
    if !already {
      self.log.warn(format!(
        "Twilio refused a conversation with the system participant '{}' ({}, HTTP {}), most likely because that \
         identity is in 1,000 active or inactive conversations, Twilio's limit. Conversations are created without it \
         for the next {} minutes; messages are still delivered. Close idle conversations (option conversationTimers) \
         to stay under the limit.",
        self.system_identity,
        refusal.code(),
        refusal.status().unwrap_or(0),
        SYSTEM_PARTICIPANT_PAUSE.as_secs() / 60,
      ));
    }
  }

  /// Creates the customer's conversation. Each attempt waits for its turn at the service's creation rate first
  /// (a repeat keeps the call's place) and only then decides whether the system identity joins: creations queued
  /// behind the one Twilio refused it for go without it, instead of spending a slot each on the same refusal.
  async fn create(&self, customer: &Customer, mut generation: u32) -> Result<ConversationInfo> {
    let mut system_refused = None;
    let mut last_error = None;
    for attempt in 0..MAX_CREATE_ATTEMPTS {
      self.api.http().turn(&PaceKey::Service, attempt > 0).await?;
      let with_system = system_refused.is_none() && self.offer_system().await;
      let name = customer.unique_name(generation);
      let participants = self.participants(customer, with_system);
      let error = match self
        .api
        .create_conversation_with_participants(&name, &customer.friendly_name(), &self.timers, &participants)
        .await
      {
        Ok(conversation) => {
          if let Some(refusal) = &system_refused {
            self.pause_system(refusal);
          }
          self.log.info(|| {
            let without = if with_system {
              ""
            } else {
              ", without the system participant"
            };
            format!(
              "Created conversation {} for customer {}{without}.",
              conversation.sid,
              mask(&customer.e164())
            )
          });
          return Ok(conversation);
        }
        Err(error) => error,
      };
      if error.has_code(50353) {
        // Someone (another process, or our own repeated request) created it first.
        match self.api.fetch_conversation(&name).await {
          Ok(conversation) if !conversation.is_closed() => return Ok(conversation),
          Ok(_closed) => generation += 1,
          Err(e) if e.is_not_found() => {}
          Err(e) => return Err(e),
        }
      } else if error.has_code(50425) || error.has_code(50416) {
        if let Some(holder) = self.binding_holder(customer, &error).await? {
          return Ok(holder);
        }
      } else if with_system && self.system_participant == SystemParticipant::Auto && may_be_the_system_identity(&error)
      {
        // Tried again without it: if that goes through, the identity was the cause.
        system_refused = Some(error.clone());
      } else {
        return Err(error);
      }
      last_error = Some(error);
    }
    Err(last_error.unwrap_or_else(|| Error::Internal {
      message: "conversation creation made no attempt".to_string(),
    }))
  }

  /// The open conversation that holds the customer's binding with our sender.
  async fn binding_holder(&self, customer: &Customer, error: &Error) -> Result<Option<ConversationInfo>> {
    if let Some(sid) = holder_in_message(error) {
      if let Ok(conversation) = self.api.fetch_conversation(&sid).await {
        if !conversation.is_closed() {
          return Ok(Some(conversation));
        }
      }
    }
    let records = self.api.participant_conversations(&customer.address()).await?;
    Ok(self.open_with_our_sender(&records).cloned())
  }

  /// The customer's open conversation with our sender among ParticipantConversations records: Twilio lists
  /// closed ones and other proxy addresses too.
  fn open_with_our_sender<'r>(&self, records: &'r [ParticipantConversation]) -> Option<&'r ConversationInfo> {
    records
      .iter()
      .find(|r| !r.conversation.is_closed() && r.proxy_address.as_deref() == Some(self.sender.as_str()))
      .map(|r| &r.conversation)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn sids_are_kept_in_16_bytes_and_given_back_unchanged() {
    for sid in [
      "CH0123456789abcdef0123456789abcdef",
      "CH00000000000000000000000000000000",
      "CH0123456789ABCDEF0123456789abcdef",
      "odd",
    ] {
      assert_eq!(Sid::new(sid).text(), sid);
    }
    assert!(matches!(Sid::new("CH0123456789abcdef0123456789abcdef"), Sid::Hex(_)));
    assert_eq!(std::mem::size_of::<Cached>(), 64);
  }

  /// A resolver whose Twilio knows one conversation for every number, and counts the requests.
  fn resolver_over_twilio(ttl_ms: u64) -> (Resolver, Arc<std::sync::atomic::AtomicU32>) {
    resolver_with(ttl_ms, 10_000)
  }

  fn resolver_with(ttl_ms: u64, max_entries: u64) -> (Resolver, Arc<std::sync::atomic::AtomicU32>) {
    use std::sync::atomic::{AtomicU32, Ordering};

    use crate::http::{Http, RetryPolicy};
    use crate::transport::{FnTransport, Response};

    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let transport = FnTransport(move |_: &crate::transport::Request| {
      counter.fetch_add(1, Ordering::SeqCst);
      Ok(Response {
        date: None,
        status: 200,
        retry_after: None,
        body: bytes::Bytes::from_static(br#"{"sid":"CH0123456789abcdef0123456789abcdef","state":"active"}"#),
      })
    });
    let config = Config::resolve(
      crate::Options {
        account_sid: Some("AC1".into()),
        auth_token: Some(crate::Secret::new("token")),
        cache_ttl_ms: Some(ttl_ms),
        cache_max_entries: Some(max_entries),
        ..Default::default()
      },
      |_| None,
    )
    .unwrap();
    let policy = RetryPolicy {
      max_retries: 0,
      timeout: Duration::from_secs(5),
      deadline: Duration::from_secs(5),
    };
    let api = Api::new(
      Http::new(Arc::new(transport), policy, None),
      config.hosts.clone(),
      "AC1".into(),
      None,
    );
    (
      Resolver::new(Arc::new(api), &config, Arc::new(Log::new(config.log_level)), None),
      calls,
    )
  }

  #[tokio::test(start_paused = true)]
  async fn a_conversation_is_cached_for_its_time_to_live_then_looked_up_again() {
    use std::sync::atomic::Ordering;

    let (resolver, calls) = resolver_over_twilio(300);
    let customer = Customer::parse("+1234567890").unwrap();
    resolver.resolve(&customer).await.unwrap();
    tokio::time::advance(Duration::from_millis(299)).await;
    resolver.resolve(&customer).await.unwrap();
    assert!(resolver.find(&customer).await.unwrap().is_some());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "served from the cache");
    tokio::time::advance(Duration::from_millis(2)).await;
    resolver.resolve(&customer).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "expired: looked up again");
  }

  #[tokio::test]
  async fn a_full_cache_lets_the_least_recently_used_conversation_go() {
    use std::sync::atomic::Ordering;

    let (resolver, calls) = resolver_with(300_000, 3);
    let customers: Vec<Customer> = (0..4)
      .map(|i| Customer::parse(&format!("+155500000{i}")).unwrap())
      .collect();
    for customer in &customers[..3] {
      resolver.resolve(customer).await.unwrap();
    }
    // moka keeps its order of use in the background; `cached_entries` has it catch up.
    resolver.cached_entries().await;
    // The first is used again: the second is now the least recently used.
    resolver.resolve(&customers[0]).await.unwrap();
    resolver.cached_entries().await;
    resolver.resolve(&customers[3]).await.unwrap();
    assert_eq!(resolver.cached_entries().await, 3);
    let before = calls.load(Ordering::SeqCst);
    for customer in [&customers[0], &customers[2], &customers[3]] {
      resolver.resolve(customer).await.unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), before, "the recently used stay");
    resolver.resolve(&customers[1]).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), before + 1, "the least recently used went");
  }

  #[test]
  fn the_holder_is_read_from_a_50416_message() {
    let error = Error::Api {
      status: 409,
      code: Some(50416),
      message: "A binding for this participant and proxy address already exists in Conversation CHc31ceaf4b2d444a898530b3e44934ffe".into(),
      more_info: None,
      details: None,
    };
    assert_eq!(
      holder_in_message(&error).as_deref(),
      Some("CHc31ceaf4b2d444a898530b3e44934ffe")
    );
  }
}
