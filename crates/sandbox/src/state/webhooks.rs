//! Webhooks as Twilio configures them: the account's (`/v1/Configuration/Webhooks`), the service's (which, once it
//! names a URL, replaces the account's for that service), and conversation-scoped ones (post-event only, at most
//! five per conversation, 50361). What happens in the state is recorded as a [`Happening`] while anybody
//! listens; the delivery task renders, signs and sends them in order, never under the lock.

use chrono::{DateTime, Utc};

use super::conversations::{ConvState, Conversation};
use super::messages::Message;
use super::participants::Participant;
use super::receipts::Receipt;
use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::new_sid;

/// The events a service (or the account) can filter on, pre- and post-action (Twilio's enumeration; the
/// account's also takes the `onUser*` events, which the sandbox never fires).
pub const EVENTS: &[&str] = &[
  "onMessageAdd",
  "onMessageAdded",
  "onMessageUpdate",
  "onMessageUpdated",
  "onMessageRemove",
  "onMessageRemoved",
  "onConversationAdd",
  "onConversationAdded",
  "onConversationUpdate",
  "onConversationUpdated",
  "onConversationRemove",
  "onConversationRemoved",
  "onConversationStateUpdated",
  "onParticipantAdd",
  "onParticipantAdded",
  "onParticipantUpdate",
  "onParticipantUpdated",
  "onParticipantRemove",
  "onParticipantRemoved",
  "onDeliveryUpdated",
];
const USER_EVENTS: &[&str] = &["onUserAdded", "onUserUpdate", "onUserUpdated"];

/// The most conversation-scoped webhooks one conversation may have.
pub const SCOPED_WEBHOOKS_MAX: usize = 5;

/// The account's or the service's webhook configuration.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
  pub pre_webhook_url: Option<String>,
  pub post_webhook_url: Option<String>,
  pub filters: Vec<String>,
  /// `GET` or `POST`.
  pub method: String,
  /// The account's only: `webhook` or `flex`.
  pub target: Option<String>,
}

impl WebhookConfig {
  fn new(target: Option<&str>) -> Self {
    Self {
      pre_webhook_url: None,
      post_webhook_url: None,
      filters: Vec::new(),
      method: "POST".to_string(),
      target: target.map(str::to_string),
    }
  }

  fn is_configured(&self) -> bool {
    self.pre_webhook_url.is_some() || self.post_webhook_url.is_some()
  }

  /// Only the events listed fire ("Events not configured here will not fire").
  fn fires(&self, event_type: &str) -> bool {
    self.filters.iter().any(|f| f == event_type)
  }
}

/// A change to a webhook configuration: each field present replaces the one stored.
#[derive(Debug, Default)]
pub struct WebhookConfigChange {
  pub pre_webhook_url: Option<String>,
  pub post_webhook_url: Option<String>,
  pub filters: Option<Vec<String>>,
  pub method: Option<String>,
  pub target: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ScopedWebhook {
  pub sid: String,
  /// `webhook`, `trigger` or `studio`.
  pub target: String,
  pub url: Option<String>,
  /// Lower case, as Twilio takes it here: `get` or `post`.
  pub method: String,
  pub filters: Vec<String>,
  pub triggers: Vec<String>,
  pub flow_sid: Option<String>,
  pub date_created: DateTime<Utc>,
  pub date_updated: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct ScopedWebhookInput {
  pub target: Option<String>,
  pub url: Option<String>,
  pub method: Option<String>,
  pub filters: Option<Vec<String>>,
  pub triggers: Option<Vec<String>>,
  pub flow_sid: Option<String>,
}

/// Who made a change, as Twilio's `Source` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
  /// A REST request bearing `X-Twilio-Webhook-Enabled: true`.
  Api,
  /// A customer on a messaging channel.
  Sms,
}

impl Source {
  pub fn as_str(self) -> &'static str {
    match self {
      Self::Api => "API",
      Self::Sms => "SMS",
    }
  }
}

/// What happened, with copies of what the payload needs (the resource may be gone when it is rendered).
#[derive(Debug, Clone)]
pub enum Happening {
  ConversationAdded(Conversation),
  ConversationUpdated(Conversation),
  ConversationRemoved(Conversation),
  ConversationStateUpdated {
    conversation: Conversation,
    from: ConvState,
    reason: &'static str,
  },
  ParticipantAdded(String, Participant),
  ParticipantRemoved(String, Participant),
  MessageAdded(String, Message),
  DeliveryUpdated(String, String, Receipt),
}

impl Happening {
  pub fn event_type(&self) -> &'static str {
    match self {
      Self::ConversationAdded(_) => "onConversationAdded",
      Self::ConversationUpdated(_) => "onConversationUpdated",
      Self::ConversationRemoved(_) => "onConversationRemoved",
      Self::ConversationStateUpdated { .. } => "onConversationStateUpdated",
      Self::ParticipantAdded(..) => "onParticipantAdded",
      Self::ParticipantRemoved(..) => "onParticipantRemoved",
      Self::MessageAdded(..) => "onMessageAdded",
      Self::DeliveryUpdated(..) => "onDeliveryUpdated",
    }
  }

  pub fn conversation_sid(&self) -> &str {
    match self {
      Self::ConversationAdded(c) | Self::ConversationUpdated(c) | Self::ConversationRemoved(c) => &c.sid,
      Self::ConversationStateUpdated { conversation, .. } => &conversation.sid,
      Self::ParticipantAdded(sid, _)
      | Self::ParticipantRemoved(sid, _)
      | Self::MessageAdded(sid, _)
      | Self::DeliveryUpdated(sid, ..) => sid,
    }
  }
}

/// A happening and who caused it, waiting for the delivery task.
#[derive(Debug, Clone)]
pub struct Pending {
  pub happening: Happening,
  pub source: Source,
}

/// Where an event goes.
#[derive(Debug, Clone)]
pub struct Target {
  pub url: String,
  pub method: String,
  /// `account`, `service` or the conversation-scoped webhook's SID.
  pub scope: String,
}

/// One attempt to call a webhook, for `GET /__sandbox/webhooks`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attempt {
  pub seq: u64,
  pub at: String,
  pub event_type: String,
  pub scope: String,
  pub url: String,
  pub method: String,
  pub params: serde_json::Value,
  pub signature: String,
  /// The HTTP status answered; `None` when the call failed or timed out.
  pub status: Option<u16>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub error: Option<String>,
  pub duration_ms: u64,
}

#[derive(Debug)]
pub struct Webhooks {
  pub account: WebhookConfig,
  pub service: WebhookConfig,
  pub pending: Vec<Pending>,
  pub attempts: Vec<Attempt>,
}

impl Default for Webhooks {
  fn default() -> Self {
    Self {
      account: WebhookConfig::new(Some("webhook")),
      service: WebhookConfig::new(None),
      pending: Vec::new(),
      attempts: Vec::new(),
    }
  }
}

impl Webhooks {
  /// The configuration in force: the service's when it names a URL, else the account's.
  pub fn effective(&self) -> (&WebhookConfig, &'static str) {
    if self.service.is_configured() {
      (&self.service, "service")
    } else {
      (&self.account, "account")
    }
  }
}

fn check_url(url: &str, name: &str) -> ApiResult<()> {
  if url.is_empty() || url.starts_with("http://") || url.starts_with("https://") {
    Ok(())
  } else {
    Err(ApiError::bad_request(
      20001,
      format!("{name} must be an http or https URL"),
    ))
  }
}

fn check_filters(filters: &[String], allowed: &[&[&str]]) -> ApiResult<()> {
  match filters
    .iter()
    .find(|f| !allowed.iter().any(|list| list.contains(&f.as_str())))
  {
    Some(unknown) => Err(ApiError::bad_request(20001, format!("Invalid filter: {unknown}"))),
    None => Ok(()),
  }
}

impl State {
  /// Whether anybody would hear of a change to this conversation: events are only recorded then.
  pub fn listening(&self, conversation_sid: &str) -> bool {
    let (config, _) = self.webhooks.effective();
    config.post_webhook_url.is_some()
      || self
        .conversations
        .get(conversation_sid)
        .is_some_and(|c| !c.webhooks.is_empty())
  }

  /// Records what happened to a conversation, for the webhooks that listen; the happenings (copies of what
  /// the payloads need) are only made when some webhook does.
  pub fn emit(&mut self, conversation_sid: &str, source: Source, happenings: impl FnOnce(&State) -> Vec<Happening>) {
    if self.listening(conversation_sid) {
      let happenings = happenings(self);
      self
        .webhooks
        .pending
        .extend(happenings.into_iter().map(|happening| Pending { happening, source }));
    }
  }

  /// A change of the conversation's state from `from` to the one it is in now.
  pub fn state_change(&self, conversation_sid: &str, from: ConvState, reason: &'static str) -> Option<Happening> {
    let conversation = self.conversations.get(conversation_sid)?;
    (conversation.state != from).then(|| Happening::ConversationStateUpdated {
      conversation: conversation.summary(),
      from,
      reason,
    })
  }

  /// A new message's events: `onMessageAdded`, and `onConversationStateUpdated` when it woke the conversation.
  pub fn message_added(
    &self,
    conversation_sid: &str,
    message: &Message,
    before: ConvState,
    reason: &'static str,
  ) -> Vec<Happening> {
    let mut happenings = vec![Happening::MessageAdded(conversation_sid.to_string(), message.clone())];
    happenings.extend(self.state_change(conversation_sid, before, reason));
    happenings
  }

  /// The post-event targets of an event on a conversation: the service's or the account's, and the
  /// conversation's own webhooks that filter on it.
  pub fn post_targets(&self, event_type: &str, conversation: Option<&Conversation>) -> Vec<Target> {
    let mut targets = Vec::new();
    let (config, scope) = self.webhooks.effective();
    if let Some(url) = config.post_webhook_url.as_ref().filter(|_| config.fires(event_type)) {
      targets.push(Target {
        url: url.clone(),
        method: config.method.clone(),
        scope: scope.to_string(),
      });
    }
    for webhook in conversation.map_or(&[][..], |c| c.webhooks.as_slice()) {
      if webhook.target != "webhook" || !webhook.filters.iter().any(|f| f == event_type) {
        continue;
      }
      if let Some(url) = &webhook.url {
        targets.push(Target {
          url: url.clone(),
          method: webhook.method.to_uppercase(),
          scope: webhook.sid.clone(),
        });
      }
    }
    targets
  }

  /// The pre-event target of an event: only the service's or the account's configuration has one.
  pub fn pre_target(&self, event_type: &str) -> Option<Target> {
    let (config, scope) = self.webhooks.effective();
    let url = config.pre_webhook_url.as_ref().filter(|_| config.fires(event_type))?;
    Some(Target {
      url: url.clone(),
      method: config.method.clone(),
      scope: scope.to_string(),
    })
  }

  /// Changes the account's (`service` false) or the service's webhook configuration.
  pub fn configure_webhooks(&mut self, service: bool, change: WebhookConfigChange) -> ApiResult<&WebhookConfig> {
    for (url, name) in [
      (&change.pre_webhook_url, "PreWebhookUrl"),
      (&change.post_webhook_url, "PostWebhookUrl"),
    ] {
      if let Some(url) = url {
        check_url(url, name)?;
      }
    }
    if let Some(filters) = &change.filters {
      let allowed: &[&[&str]] = if service { &[EVENTS] } else { &[EVENTS, USER_EVENTS] };
      check_filters(filters, allowed)?;
    }
    if let Some(method) = &change.method {
      if !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("POST") {
        return Err(ApiError::bad_request(20001, "Method must be GET or POST"));
      }
    }
    let config = if service {
      &mut self.webhooks.service
    } else {
      &mut self.webhooks.account
    };
    // An empty URL unsets it.
    if let Some(url) = change.pre_webhook_url {
      config.pre_webhook_url = Some(url).filter(|u| !u.is_empty());
    }
    if let Some(url) = change.post_webhook_url {
      config.post_webhook_url = Some(url).filter(|u| !u.is_empty());
    }
    if let Some(filters) = change.filters {
      config.filters = filters;
    }
    if let Some(method) = change.method {
      config.method = method.to_uppercase();
    }
    if let (Some(target), false) = (change.target, service) {
      config.target = Some(target);
    }
    Ok(config)
  }

  pub fn create_scoped_webhook(
    &mut self,
    conversation_sid: &str,
    input: ScopedWebhookInput,
    path: &str,
  ) -> ApiResult<&ScopedWebhook> {
    let target = input.target.clone().unwrap_or_default();
    if !["webhook", "trigger", "studio"].contains(&target.as_str()) {
      return Err(ApiError::bad_request(
        20001,
        "Target must be webhook, trigger or studio",
      ));
    }
    validate_scoped(&input)?;
    let now = self.now();
    let conversation = self.conversation_mut(conversation_sid, path)?;
    if conversation.webhooks.len() >= SCOPED_WEBHOOKS_MAX {
      return Err(ApiError::bad_request(50361, "Too many conversation webhooks"));
    }
    conversation.webhooks.push(ScopedWebhook {
      sid: new_sid("WH"),
      target,
      url: input.url,
      method: input.method.map_or_else(|| "post".to_string(), |m| m.to_lowercase()),
      filters: input.filters.unwrap_or_default(),
      triggers: input.triggers.unwrap_or_default(),
      flow_sid: input.flow_sid,
      date_created: now,
      date_updated: now,
    });
    Ok(conversation.webhooks.last().expect("just pushed"))
  }

  pub fn update_scoped_webhook(
    &mut self,
    conversation_sid: &str,
    sid: &str,
    input: ScopedWebhookInput,
    path: &str,
  ) -> ApiResult<&ScopedWebhook> {
    validate_scoped(&input)?;
    let now = self.now();
    let webhook = self
      .conversation_mut(conversation_sid, path)?
      .webhooks
      .iter_mut()
      .find(|w| w.sid == sid)
      .ok_or_else(|| ApiError::not_found(path))?;
    if input.url.is_some() {
      webhook.url = input.url;
    }
    if let Some(method) = input.method {
      webhook.method = method.to_lowercase();
    }
    if let Some(filters) = input.filters {
      webhook.filters = filters;
    }
    if let Some(triggers) = input.triggers {
      webhook.triggers = triggers;
    }
    if input.flow_sid.is_some() {
      webhook.flow_sid = input.flow_sid;
    }
    webhook.date_updated = now;
    Ok(webhook)
  }

  pub fn delete_scoped_webhook(&mut self, conversation_sid: &str, sid: &str, path: &str) -> ApiResult<()> {
    let webhooks = &mut self.conversation_mut(conversation_sid, path)?.webhooks;
    let before = webhooks.len();
    webhooks.retain(|w| w.sid != sid);
    if webhooks.len() == before {
      return Err(ApiError::not_found(path));
    }
    Ok(())
  }
}

fn validate_scoped(input: &ScopedWebhookInput) -> ApiResult<()> {
  if let Some(url) = &input.url {
    check_url(url, "Configuration.Url")?;
  }
  if let Some(method) = &input.method {
    if !method.eq_ignore_ascii_case("get") && !method.eq_ignore_ascii_case("post") {
      return Err(ApiError::bad_request(20001, "Configuration.Method must be get or post"));
    }
  }
  if let Some(filters) = &input.filters {
    // Only post-action events: conversation-scoped webhooks have no pre-events.
    let post: Vec<&str> = EVENTS.iter().copied().filter(|e| e.ends_with("ed")).collect();
    check_filters(filters, &[&post])?;
  }
  Ok(())
}
