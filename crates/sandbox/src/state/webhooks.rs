//! Webhooks as Twilio configures them: the account's (`/v1/Configuration/Webhooks`), the service's (which, once it
//! names a URL, replaces the account's for that service), and conversation-scoped ones (post-event only, at most
//! five per conversation, 50361), and where each event goes.

use super::records::{Conversation, ScopedWebhook};
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

#[derive(Debug, Default)]
pub struct ScopedWebhookInput {
  pub target: Option<String>,
  pub url: Option<String>,
  pub method: Option<String>,
  pub filters: Option<Vec<String>>,
  pub triggers: Option<Vec<String>>,
  pub flow_sid: Option<String>,
}

/// Where an event goes.
#[derive(Debug, Clone)]
pub struct Target {
  pub url: String,
  pub method: String,
  /// `account`, `service` or the conversation-scoped webhook's SID.
  pub scope: String,
}

#[derive(Debug)]
pub struct Webhooks {
  pub account: WebhookConfig,
  pub service: WebhookConfig,
}

impl Default for Webhooks {
  fn default() -> Self {
    Self {
      account: WebhookConfig::new(Some("webhook")),
      service: WebhookConfig::new(None),
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
