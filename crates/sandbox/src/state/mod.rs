//! All of the sandbox's data in one struct, and the Twilio rules that guard it, split by what each part governs:
//! [`conversations`], [`participants`], [`messages`], [`content`] (the Content API's templates and their WhatsApp
//! approval), [`messaging`] (Messages.json), [`media`],
//! [`limits`] (Twilio's documented limits and the rate of writes), [`clock`] (the sandbox's time, timers),
//! [`webhooks`] (their configuration), [`outbox`] (the events waiting for them), [`inbound`] (customers' messages
//! and Address Configurations) and
//! [`receipts`] (delivery receipts and the WhatsApp window).
//! Handlers lock it, call one method, render, and unlock: no lock is ever held across an `.await`.

pub mod clock;
pub mod content;
pub mod conversations;
pub mod inbound;
pub mod limits;
pub mod media;
pub mod messages;
pub mod messaging;
pub mod outbox;
pub mod participants;
pub mod receipts;
pub mod records;
pub mod webhooks;

use std::collections::HashMap;

use serde_json::Value;

pub use content::{Content, ContentInput, DEFAULT_TEMPLATE_BODY, DEFAULT_TEMPLATE_SID};
pub use conversations::ConversationInput;
pub use limits::{Limits, RateKey};
pub use media::Media;
pub use messages::MessageInput;
pub use messaging::{SmsInput, SmsMessage};
pub use outbox::{Event, Outbox, Source};
pub use participants::ParticipantInput;
pub use records::{Binding, ConvState, Conversation, MediaRef, Message, Participant, Receipt, ScopedWebhook, Timers};
pub use webhooks::Webhooks;

use crate::error::ApiResult;
use crate::faults::Fault;
use crate::sid::new_sid;

#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
  pub seq: u64,
  /// When the sandbox answered, on its clock, to the millisecond.
  pub at: String,
  pub method: String,
  pub path: String,
  pub query: Value,
  pub params: Value,
  pub status: u16,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub fault: Option<String>,
}

/// Credentials and fixed SIDs of the emulated account.
#[derive(Debug, Clone)]
pub struct Account {
  pub account_sid: String,
  pub auth_token: String,
  pub chat_service_sid: String,
  pub messaging_service_sid: String,
}

pub struct State {
  pub account: Account,
  pub api_keys: HashMap<String, String>,
  pub conversations: HashMap<String, Conversation>,
  /// Conversation SIDs in creation order (lists are newest first).
  pub order: Vec<String>,
  unique_names: HashMap<String, String>,
  /// Which non-closed conversation holds each address + proxy-address pair.
  bindings: HashMap<Binding, String>,
  /// How many active or inactive conversations each chat identity is a participant of.
  identity_slots: HashMap<String, usize>,
  pub sms: Vec<SmsMessage>,
  pub media: HashMap<String, Media>,
  /// The Content API's templates, by SID.
  pub contents: HashMap<String, Content>,
  pub log: Vec<LogEntry>,
  pub faults: Vec<Fault>,
  pub latency_ms: u64,
  /// The limits every start and reset begins with (Twilio's, unless the command line changed them).
  pub initial_limits: Limits,
  pub limits: Limits,
  pub rates: limits::Rates,
  pub clock: clock::Clock,
  pub webhooks: Webhooks,
  pub outbox: Outbox,
  pub address_configurations: Vec<inbound::AddressConfiguration>,
  next_seq: u64,
}

impl State {
  pub fn new(account: Account, limits: Limits) -> Self {
    let mut state = Self {
      account,
      api_keys: HashMap::new(),
      conversations: HashMap::new(),
      order: Vec::new(),
      unique_names: HashMap::new(),
      bindings: HashMap::new(),
      identity_slots: HashMap::new(),
      sms: Vec::new(),
      media: HashMap::new(),
      contents: HashMap::new(),
      log: Vec::new(),
      faults: Vec::new(),
      latency_ms: 0,
      limits: limits.clone(),
      initial_limits: limits,
      rates: limits::Rates::default(),
      clock: clock::Clock::default(),
      webhooks: Webhooks::default(),
      outbox: Outbox::default(),
      address_configurations: Vec::new(),
      next_seq: 0,
    };
    state.reset();
    state
  }

  /// Back to a new account: no data, no faults, no latency, the initial limits, the clock at the wall clock,
  /// only the default template. Credentials stay.
  pub fn reset(&mut self) {
    self.conversations.clear();
    self.address_configurations = vec![inbound::AddressConfiguration::auto_creating(inbound::DEFAULT_SENDER)];
    self.order.clear();
    self.unique_names.clear();
    self.bindings.clear();
    self.identity_slots.clear();
    self.sms.clear();
    self.media.clear();
    self.contents.clear();
    self.log.clear();
    self.faults.clear();
    self.latency_ms = 0;
    self.limits = self.initial_limits.clone();
    self.rates.reset();
    self.clock.reset();
    self.webhooks = Webhooks::default();
    self.outbox = Outbox::default();
    self.next_seq = 0;
    let now = self.now();
    self
      .contents
      .insert(DEFAULT_TEMPLATE_SID.to_string(), Content::default_template(now));
  }

  pub fn next_seq(&mut self) -> u64 {
    self.next_seq += 1;
    self.next_seq
  }

  /// Basic auth: the account SID and auth token, or an API key SID and its secret.
  pub fn authenticate(&self, user: &str, password: &str) -> bool {
    (user == self.account.account_sid && password == self.account.auth_token)
      || self.api_keys.get(user).is_some_and(|secret| secret == password)
  }

  pub fn add_api_key(&mut self) -> (String, String) {
    let sid = new_sid("SK");
    let secret = new_sid("").chars().take(32).collect::<String>();
    self.api_keys.insert(sid.clone(), secret.clone());
    (sid, secret)
  }

  /// Counts one write against the service or a conversation (by SID or unique name); 429 / 20429 past the
  /// limit. A conversation that does not exist is not counted: the write will be answered 404.
  pub fn admit_write(&mut self, key: RateKey) -> ApiResult<()> {
    let key = match key {
      RateKey::Conversation(id) => match self.find_conversation(&id) {
        Some(conversation) => RateKey::Conversation(conversation.sid.clone()),
        None => return Ok(()),
      },
      service => service,
    };
    let now = self.now();
    self.rates.admit(key, now, self.limits.writes_per_second)
  }
}
