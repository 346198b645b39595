//! Conversations webhooks: the service's configuration (where Twilio posts events, which ones, how), and the
//! events themselves, read from Twilio's form parameters into typed, camelCase values.

use serde_json::{Map, Value};

use crate::endpoints::Api;
use crate::error::{Error, Result};

/// The post-action events a service can send.
pub const POST_EVENTS: &[&str] = &[
  "onMessageAdded",
  "onMessageUpdated",
  "onMessageRemoved",
  "onConversationAdded",
  "onConversationUpdated",
  "onConversationRemoved",
  "onConversationStateUpdated",
  "onParticipantAdded",
  "onParticipantUpdated",
  "onParticipantRemoved",
  "onDeliveryUpdated",
];
/// The pre-action events, whose answer can change or reject the action.
pub const PRE_EVENTS: &[&str] = &[
  "onMessageAdd",
  "onMessageUpdate",
  "onMessageRemove",
  "onConversationAdd",
  "onConversationUpdate",
  "onConversationRemove",
  "onParticipantAdd",
  "onParticipantUpdate",
  "onParticipantRemove",
];

/// What `configureWebhooks` takes; absent filters mean every post-action event (when there is a post URL) and
/// `onMessageAdd` (when there is a pre URL).
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
  pub post_webhook_url: Option<String>,
  pub pre_webhook_url: Option<String>,
  pub filters: Option<Vec<String>>,
  pub method: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookConfiguration {
  pub post_webhook_url: Option<String>,
  pub pre_webhook_url: Option<String>,
  pub filters: Vec<String>,
  pub method: String,
}

impl WebhookConfiguration {
  fn from_answer(value: &Value) -> Self {
    let text = |name: &str| value[name].as_str().filter(|s| !s.is_empty()).map(str::to_string);
    Self {
      post_webhook_url: text("post_webhook_url"),
      pre_webhook_url: text("pre_webhook_url"),
      filters: value["filters"]
        .as_array()
        .map(|items| items.iter().filter_map(|f| f.as_str().map(str::to_string)).collect())
        .unwrap_or_default(),
      method: text("method").unwrap_or_else(|| "POST".to_string()),
    }
  }
}

fn webhook_url(url: &str, name: &str) -> Result<String> {
  let parsed = url::Url::parse(url)
    .ok()
    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
  match parsed {
    Some(_) => Ok(url.to_string()),
    None => Err(Error::invalid(
      "INVALID_WEBHOOK_URL",
      format!("{name} must be an absolute http(s) URL"),
    )),
  }
}

/// The form parameters of a configuration change, checked before anything is sent.
fn settings_form(settings: &WebhookSettings) -> Result<Vec<(String, String)>> {
  let post = settings
    .post_webhook_url
    .as_deref()
    .map(|u| webhook_url(u, "postWebhookUrl"))
    .transpose()?;
  let pre = settings
    .pre_webhook_url
    .as_deref()
    .map(|u| webhook_url(u, "preWebhookUrl"))
    .transpose()?;
  if post.is_none() && pre.is_none() {
    return Err(Error::invalid(
      "INVALID_WEBHOOK_URL",
      "configureWebhooks needs postWebhookUrl, preWebhookUrl or both",
    ));
  }
  let method = settings.method.as_deref().unwrap_or("POST").to_ascii_uppercase();
  if method != "POST" && method != "GET" {
    return Err(Error::invalid(
      "INVALID_WEBHOOK_METHOD",
      "method must be 'POST' or 'GET'",
    ));
  }
  let filters: Vec<String> = match &settings.filters {
    Some(filters) => {
      if let Some(unknown) = filters
        .iter()
        .find(|f| !POST_EVENTS.contains(&f.as_str()) && !PRE_EVENTS.contains(&f.as_str()))
      {
        return Err(Error::invalid(
          "INVALID_WEBHOOK_FILTER",
          format!("'{unknown}' is not a Conversations webhook event (such as onMessageAdded)"),
        ));
      }
      filters.clone()
    }
    None => {
      let mut all: Vec<String> = Vec::new();
      if post.is_some() {
        all.extend(POST_EVENTS.iter().map(|e| e.to_string()));
      }
      if pre.is_some() {
        all.push("onMessageAdd".to_string());
      }
      all
    }
  };
  let mut form = vec![("Method".to_string(), method)];
  // An absent URL is sent empty: the configuration is replaced as a whole.
  form.push(("PostWebhookUrl".to_string(), post.unwrap_or_default()));
  form.push(("PreWebhookUrl".to_string(), pre.unwrap_or_default()));
  form.extend(filters.into_iter().map(|f| ("Filters".to_string(), f)));
  Ok(form)
}

pub async fn configure(api: &Api, settings: &WebhookSettings) -> Result<WebhookConfiguration> {
  let form = settings_form(settings)?;
  Ok(WebhookConfiguration::from_answer(&api.configure_webhooks(form).await?))
}

pub async fn configuration(api: &Api) -> Result<WebhookConfiguration> {
  Ok(WebhookConfiguration::from_answer(&api.webhook_configuration().await?))
}

/// How a field's text becomes its value.
#[derive(Clone, Copy)]
enum Kind {
  Text,
  Integer,
  /// JSON text (attributes, media), parsed; kept as text when it does not parse.
  Json,
  /// ISO-8601, kept as text: the binding makes it a `Date`.
  Date,
}

/// Twilio's parameter, its camelCase name, and its kind.
const FIELDS: &[(&str, &str, Kind)] = &[
  ("EventType", "eventType", Kind::Text),
  ("AccountSid", "accountSid", Kind::Text),
  ("Source", "source", Kind::Text),
  ("ClientIdentity", "clientIdentity", Kind::Text),
  ("RetryCount", "retryCount", Kind::Integer),
  ("ConversationSid", "conversationSid", Kind::Text),
  ("ChatServiceSid", "chatServiceSid", Kind::Text),
  ("MessagingServiceSid", "messagingServiceSid", Kind::Text),
  ("MessageSid", "messageSid", Kind::Text),
  ("Index", "index", Kind::Integer),
  ("Body", "body", Kind::Text),
  ("Author", "author", Kind::Text),
  ("ParticipantSid", "participantSid", Kind::Text),
  ("Identity", "identity", Kind::Text),
  ("RoleSid", "roleSid", Kind::Text),
  ("Attributes", "attributes", Kind::Json),
  ("Media", "media", Kind::Json),
  ("FriendlyName", "friendlyName", Kind::Text),
  ("UniqueName", "uniqueName", Kind::Text),
  ("State", "state", Kind::Text),
  ("StateFrom", "stateFrom", Kind::Text),
  ("StateTo", "stateTo", Kind::Text),
  ("Reason", "reason", Kind::Text),
  ("Status", "status", Kind::Text),
  ("ErrorCode", "errorCode", Kind::Integer),
  ("DeliveryReceiptSid", "deliveryReceiptSid", Kind::Text),
  ("ChannelMessageSid", "channelMessageSid", Kind::Text),
  ("LastReadMessageIndex", "lastReadMessageIndex", Kind::Integer),
  ("MessageBody", "messageBody", Kind::Text),
  ("WebhookSid", "webhookSid", Kind::Text),
  ("WebhookType", "webhookType", Kind::Text),
  ("DateCreated", "dateCreated", Kind::Date),
  ("DateUpdated", "dateUpdated", Kind::Date),
  ("DateRemoved", "dateRemoved", Kind::Date),
  ("StateUpdated", "stateUpdated", Kind::Date),
];

/// The date fields of an event, by their camelCase names.
pub fn date_fields() -> impl Iterator<Item = &'static str> {
  FIELDS
    .iter()
    .filter(|(_, _, kind)| matches!(kind, Kind::Date))
    .map(|(_, name, _)| *name)
}

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Each kind has one type in JavaScript: text a string, an integer a number (`null` when Twilio's text is not a
/// whole number a number holds exactly), JSON what `JSON.parse` makes of it (`null` when it does not parse). What
/// Twilio sent is under `params` either way.
fn value_of(text: &str, kind: Kind) -> Value {
  match kind {
    Kind::Text | Kind::Date => Value::String(text.to_string()),
    Kind::Integer => text
      .trim()
      .parse::<i64>()
      .ok()
      .filter(|n| n.abs() <= MAX_SAFE_INTEGER)
      .map_or(Value::Null, Value::from),
    Kind::Json => serde_json::from_str(text).map_or(Value::Null, as_javascript_numbers),
  }
}

/// Every number a JavaScript number cannot hold exactly as the nearest one, as `JSON.parse` reads it (never a
/// BigInt, which `JSON.stringify` refuses).
fn as_javascript_numbers(value: Value) -> Value {
  match value {
    Value::Number(n) if n.as_i64().is_none_or(|i| i.abs() > MAX_SAFE_INTEGER) => n
      .as_f64()
      .and_then(serde_json::Number::from_f64)
      .map_or(Value::Null, Value::Number),
    Value::Array(items) => Value::Array(items.into_iter().map(as_javascript_numbers).collect()),
    Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, as_javascript_numbers(v))).collect()),
    other => other,
  }
}

/// A webhook's form parameters as an event: the known fields typed and camelCased, `MessagingBinding.*` as
/// `messagingBinding`, and every parameter as Twilio sent it under `params`.
pub fn event(params: &[(String, String)]) -> Map<String, Value> {
  let mut event = Map::new();
  let mut binding = Map::new();
  let mut raw = Map::new();
  // A name sent more than once is taken in the order Twilio signs the parameters (sorted by name, then value):
  // the typed field holds its first value and `params` all of them, so that reordering the repeats of a signed
  // request changes nothing.
  let mut sorted: Vec<&(String, String)> = params.iter().collect();
  sorted.sort_unstable();
  for (name, text) in sorted {
    match raw.get_mut(name) {
      Some(Value::Array(values)) => {
        values.push(Value::String(text.clone()));
        continue;
      }
      Some(first) => {
        *first = Value::Array(vec![first.take(), Value::String(text.clone())]);
        continue;
      }
      None => {
        raw.insert(name.clone(), Value::String(text.clone()));
      }
    }
    if let Some(field) = name.strip_prefix("MessagingBinding.") {
      let mut chars = field.chars();
      let camel: String = chars
        .next()
        .map(|c| c.to_ascii_lowercase())
        .into_iter()
        .chain(chars)
        .collect();
      binding.insert(camel, Value::String(text.clone()));
    } else if let Some((_, camel, kind)) = FIELDS.iter().find(|(twilio, ..)| twilio == name) {
      event.insert(camel.to_string(), value_of(text, *kind));
    }
  }
  if !binding.is_empty() {
    event.insert("messagingBinding".to_string(), Value::Object(binding));
  }
  event.insert("params".to_string(), Value::Object(raw));
  event
}

#[cfg(test)]
mod tests {
  use super::*;

  fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
  }

  #[test]
  fn a_repeated_name_reads_the_same_in_any_order() {
    let one = event(&pairs(&[("Body", "b"), ("EventType", "onMessageAdded"), ("Body", "a")]));
    let other = event(&pairs(&[("Body", "a"), ("Body", "b"), ("EventType", "onMessageAdded")]));
    assert_eq!(one, other);
    assert_eq!(one["body"], "a", "the first in the order Twilio signs them");
    assert_eq!(one["params"]["Body"], serde_json::json!(["a", "b"]));
  }

  #[test]
  fn events_are_typed_and_camel_cased() {
    let event = event(&pairs(&[
      ("EventType", "onMessageAdded"),
      ("Index", "7"),
      ("Attributes", r#"{"a":1}"#),
      ("Media", r#"[{"Sid":"ME1"}]"#),
      ("ErrorCode", "63016"),
      ("MessagingBinding.Address", "whatsapp:+15550001111"),
      ("MessagingBinding.ProxyAddress", "whatsapp:+14155238886"),
      ("Unknown", "kept"),
    ]));
    assert_eq!(event["eventType"], "onMessageAdded");
    assert_eq!(event["index"], 7);
    assert_eq!(event["attributes"]["a"], 1);
    assert_eq!(event["media"][0]["Sid"], "ME1");
    assert_eq!(event["errorCode"], 63016);
    assert_eq!(event["messagingBinding"]["address"], "whatsapp:+15550001111");
    assert_eq!(event["messagingBinding"]["proxyAddress"], "whatsapp:+14155238886");
    assert_eq!(event["params"]["Unknown"], "kept");
    assert!(!event.contains_key("Unknown"));
  }

  #[test]
  fn every_field_has_one_type_whatever_twilio_sends() {
    let event = event(&pairs(&[
      ("Index", "99999999999999999999"),
      ("RetryCount", "x"),
      ("ErrorCode", "9007199254740993"),
      ("LastReadMessageIndex", "-1"),
      (
        "Attributes",
        r#"{"big":123456789012345678901234567890,"id":18446744073709551615,"small":3}"#,
      ),
      ("Media", "not json"),
    ]));
    assert_eq!(event["index"], Value::Null);
    assert_eq!(event["retryCount"], Value::Null);
    assert_eq!(event["errorCode"], Value::Null);
    assert_eq!(event["lastReadMessageIndex"], -1);
    assert!(event["attributes"]["big"].is_f64());
    assert!(event["attributes"]["id"].is_f64());
    assert_eq!(event["attributes"]["small"], 3);
    assert_eq!(event["media"], Value::Null);
    assert_eq!(event["params"]["Index"], "99999999999999999999");
  }

  #[test]
  fn configuration_changes_are_checked_before_sending() {
    let bad = |settings: WebhookSettings| settings_form(&settings).unwrap_err().code().to_string();
    assert_eq!(bad(WebhookSettings::default()), "INVALID_WEBHOOK_URL");
    let post = Some("https://example.com/hook".to_string());
    assert_eq!(
      bad(WebhookSettings {
        post_webhook_url: Some("ftp://example.com".into()),
        ..Default::default()
      }),
      "INVALID_WEBHOOK_URL"
    );
    assert_eq!(
      bad(WebhookSettings {
        post_webhook_url: post.clone(),
        filters: Some(vec!["onNothing".into()]),
        ..Default::default()
      }),
      "INVALID_WEBHOOK_FILTER"
    );
    assert_eq!(
      bad(WebhookSettings {
        post_webhook_url: post.clone(),
        method: Some("PUT".into()),
        ..Default::default()
      }),
      "INVALID_WEBHOOK_METHOD"
    );
    let form = settings_form(&WebhookSettings {
      post_webhook_url: post,
      ..Default::default()
    })
    .unwrap();
    let filters = form.iter().filter(|(n, _)| n == "Filters").count();
    assert_eq!(filters, POST_EVENTS.len());
  }
}
