//! The Content API's templates: their types, placeholders and sample values, their WhatsApp approval on the
//! sandbox's clock, and how a send renders them as Twilio does. A variable left out takes the template's sample
//! value; a null or empty one is refused (21656); what WhatsApp itself refuses is accepted by the API and fails
//! on the receipt: new lines, tabs or more than four spaces in a value (63013), a body over 1,024 characters
//! (63021), a variable the template does not have (63028), an unapproved template outside the 24-hour window
//! (63016). Sources: `../shared/TWILIO-TEMPLATES.md` §2–§5.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::{is_sid, new_sid};

/// The content template that exists from the start, so the demo has one to send.
pub const DEFAULT_TEMPLATE_SID: &str = "HX0123456789abcdef0123456789abcdef";
pub const DEFAULT_TEMPLATE_BODY: &str = "Your appointment is coming up on {{1}} at {{2}}";
/// Twilio's most variables a template may define (92002).
pub const MAX_VARIABLES: usize = 100;
/// How long WhatsApp's review takes on the sandbox's clock: Twilio expects an approval "in 1 hour".
pub const APPROVAL_REVIEW: Duration = Duration::hours(1);
/// WhatsApp's longest template body after substitution (63021).
pub const WHATSAPP_BODY_CHARS: usize = 1024;

/// The content types Twilio's description defines (`types` in `twilio_content_v1.json`), the ones WhatsApp takes
/// first before the simpler ones: Twilio sends the most complex type the channel supports.
pub const TYPES: &[&str] = &[
  "whatsapp/authentication",
  "whatsapp/card",
  "whatsapp/flows",
  "twilio/carousel",
  "twilio/catalog",
  "twilio/flows",
  "twilio/card",
  "twilio/call-to-action",
  "twilio/quick-reply",
  "twilio/list-picker",
  "twilio/schedule",
  "twilio/location",
  "twilio/media",
  "twilio/text",
];
/// Types that cannot start a conversation, and so cannot be submitted to WhatsApp (TWILIO-TEMPLATES.md §3).
const SESSION_ONLY: &[&str] = &["twilio/list-picker", "twilio/location"];
/// The approval statuses the control API may set (TWILIO-TEMPLATES.md §2).
pub const APPROVAL_STATUSES: &[&str] = &[
  "unsubmitted",
  "received",
  "pending",
  "approved",
  "rejected",
  "paused",
  "disabled",
];
/// The categories WhatsApp charges by.
const CATEGORIES: &[&str] = &["UTILITY", "MARKETING", "AUTHENTICATION"];
/// "The Content Variables parameter is invalid."
pub const INVALID_VARIABLES: u32 = 21656;

#[derive(Debug, Clone)]
pub struct Approval {
  pub name: String,
  pub category: String,
  pub status: String,
  pub rejection_reason: String,
  /// A `received` request is approved at this time, unless the control API said otherwise first.
  pub review_ends: Option<DateTime<Utc>>,
}

impl Approval {
  pub fn status_at(&self, now: DateTime<Utc>) -> &str {
    match self.review_ends {
      Some(ends) if self.status == "received" && now >= ends => "approved",
      _ => &self.status,
    }
  }
}

#[derive(Debug, Clone)]
pub struct Content {
  pub sid: String,
  pub friendly_name: String,
  pub language: String,
  /// The sample (and default) value of each variable.
  pub variables: BTreeMap<String, String>,
  pub types: Map<String, Value>,
  pub date_created: DateTime<Utc>,
  pub date_updated: DateTime<Utc>,
  pub approval: Option<Approval>,
}

#[derive(Debug, Clone, Default)]
pub struct ContentInput {
  pub sid: Option<String>,
  pub friendly_name: Option<String>,
  pub language: String,
  pub variables: BTreeMap<String, String>,
  pub types: Map<String, Value>,
}

/// A template send as a message: its text, and what WhatsApp would refuse it for (on the receipt).
#[derive(Debug, Clone)]
pub struct Rendered {
  pub body: String,
  pub approved: bool,
  pub refusal: Option<u32>,
}

/// The codes and texts of a bad content SID or bad variables, which differ between the two APIs.
pub struct ContentCodes {
  pub invalid_sid: (u32, &'static str),
  pub invalid_variables: (u32, &'static str),
}

/// The `{{key}}` placeholders in a text, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
  let mut found = Vec::new();
  let mut rest = text;
  while let Some(open) = rest.find("{{") {
    let after = &rest[open + 2..];
    match after.find("}}") {
      Some(close) if !after[..close].is_empty() && !after[..close].contains(['{', '}', ' ']) => {
        found.push(&after[..close]);
        rest = &after[close + 2..];
      }
      _ => rest = after,
    }
  }
  found
}

/// Every string in a value, depth first.
fn strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
  match value {
    Value::String(text) => out.push(text),
    Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
    Value::Object(map) => map.values().for_each(|v| strings(v, out)),
    _ => {}
  }
}

/// The text a value becomes in a message: a string as it is, anything else as JSON writes it.
fn as_text(value: &Value) -> String {
  match value {
    Value::String(text) => text.clone(),
    other => other.to_string(),
  }
}

/// What WhatsApp refuses in a variable's value (63013): new lines, tabs, more than four spaces in a row.
fn breaks_whatsapp_rules(value: &str) -> bool {
  value.contains(['\n', '\r', '\t']) || value.contains("     ")
}

impl Content {
  pub fn default_template(now: DateTime<Utc>) -> Self {
    let mut types = Map::new();
    types.insert(
      "twilio/text".to_string(),
      serde_json::json!({ "body": DEFAULT_TEMPLATE_BODY }),
    );
    Self {
      sid: DEFAULT_TEMPLATE_SID.to_string(),
      friendly_name: "appointment_reminder".to_string(),
      language: "en".to_string(),
      variables: BTreeMap::from([
        ("1".to_string(), "12/1".to_string()),
        ("2".to_string(), "3pm".to_string()),
      ]),
      types,
      date_created: now,
      date_updated: now,
      approval: Some(Approval {
        name: "appointment_reminder".to_string(),
        category: "UTILITY".to_string(),
        status: "approved".to_string(),
        rejection_reason: String::new(),
        review_ends: None,
      }),
    }
  }

  /// The type WhatsApp is sent: the most complex one the template has.
  pub fn sent_type(&self) -> Option<&str> {
    TYPES.iter().copied().find(|name| self.types.contains_key(*name))
  }

  /// The text a message of this template carries: the sent type's body, or WhatsApp's own text for an
  /// authentication template, which has none.
  fn body_template(&self) -> String {
    let sent = self.sent_type().and_then(|name| self.types.get(name));
    match (
      self.sent_type(),
      sent.and_then(|t| t.get("body")).and_then(Value::as_str),
    ) {
      (_, Some(body)) => body.to_string(),
      (Some("whatsapp/authentication"), None) => "{{1}} is your verification code.".to_string(),
      _ => String::new(),
    }
  }

  /// Every placeholder the template has: in any string of its types, and every variable it defines.
  pub fn placeholder_keys(&self) -> Vec<String> {
    let mut texts = Vec::new();
    self.types.values().for_each(|t| strings(t, &mut texts));
    let mut keys: Vec<String> = texts
      .into_iter()
      .flat_map(placeholders)
      .map(str::to_string)
      .chain(self.variables.keys().cloned())
      .collect();
    keys.sort();
    keys.dedup();
    keys
  }

  pub fn approval_status(&self, now: DateTime<Utc>) -> &str {
    self.approval.as_ref().map_or("unsubmitted", |a| a.status_at(now))
  }

  /// The message a send with `variables` becomes, as Twilio renders it.
  fn render(&self, variables: &Map<String, Value>, now: DateTime<Utc>) -> ApiResult<Rendered> {
    let invalid = || ApiError::bad_request(INVALID_VARIABLES, "The Content Variables parameter is invalid.");
    let mut refusal = None;
    for value in variables.values() {
      match value {
        Value::Null => return Err(invalid()),
        Value::String(text) if text.is_empty() => return Err(invalid()),
        Value::String(text) if breaks_whatsapp_rules(text) => refusal = refusal.or(Some(63013)),
        _ => {}
      }
    }
    let keys = self.placeholder_keys();
    if variables.keys().any(|key| !keys.contains(key)) {
      refusal = refusal.or(Some(63028));
    }
    let template = self.body_template();
    let mut body = String::with_capacity(template.len());
    let mut rest = template.as_str();
    while let Some(open) = rest.find("{{") {
      let after = &rest[open + 2..];
      let Some(close) = after.find("}}") else { break };
      let key = &after[..close];
      let value = variables
        .get(key)
        .map(as_text)
        .or_else(|| self.variables.get(key).cloned());
      body.push_str(&rest[..open]);
      match value {
        Some(value) => body.push_str(&value),
        None => body.push_str(&rest[open..open + 2 + close + 2]),
      }
      rest = &after[close + 2..];
    }
    body.push_str(rest);
    if body.chars().count() > WHATSAPP_BODY_CHARS {
      refusal = refusal.or(Some(63021));
    }
    Ok(Rendered {
      body,
      approved: self.approval_status(now) == "approved",
      refusal,
    })
  }
}

impl State {
  pub fn create_content(&mut self, input: ContentInput) -> ApiResult<&Content> {
    if input.types.is_empty() {
      return Err(ApiError::bad_request(
        20001,
        "Types must name at least one content type",
      ));
    }
    if let Some(unknown) = input.types.keys().find(|name| !TYPES.contains(&name.as_str())) {
      return Err(ApiError::bad_request(20001, format!("Unknown content type {unknown}")));
    }
    if input.variables.len() > MAX_VARIABLES {
      return Err(ApiError::bad_request(
        92002,
        format!("A template may define at most {MAX_VARIABLES} variables"),
      ));
    }
    let sid = input.sid.unwrap_or_else(|| new_sid("HX"));
    let now = self.now();
    let content = Content {
      sid: sid.clone(),
      friendly_name: input.friendly_name.unwrap_or_default(),
      language: input.language,
      variables: input.variables,
      types: input.types,
      date_created: now,
      date_updated: now,
      approval: None,
    };
    self.contents.insert(sid.clone(), content);
    Ok(&self.contents[&sid])
  }

  pub fn content(&self, sid: &str, path: &str) -> ApiResult<&Content> {
    self.contents.get(sid).ok_or_else(|| ApiError::not_found(path))
  }

  pub fn delete_content(&mut self, sid: &str, path: &str) -> ApiResult<()> {
    self
      .contents
      .remove(sid)
      .map(|_| ())
      .ok_or_else(|| ApiError::not_found(path))
  }

  /// Contents oldest first, as Twilio lists them.
  pub fn contents_in_order(&self) -> Vec<&Content> {
    let mut all: Vec<&Content> = self.contents.values().collect();
    all.sort_by(|a, b| a.date_created.cmp(&b.date_created).then(a.sid.cmp(&b.sid)));
    all
  }

  /// Submits a template to WhatsApp: `received` now, approved after the review on the sandbox's clock. Twilio's
  /// codes for a refused submission are not documented: 20001, our guess, for each.
  pub fn request_approval(&mut self, sid: &str, name: &str, category: &str, path: &str) -> ApiResult<&Content> {
    let now = self.now();
    let content = self.contents.get_mut(sid).ok_or_else(|| ApiError::not_found(path))?;
    if !CATEGORIES.contains(&category) {
      return Err(ApiError::bad_request(
        20001,
        format!("category must be one of {}", CATEGORIES.join(", ")),
      ));
    }
    if content.sent_type().is_none_or(|t| SESSION_ONLY.contains(&t)) {
      return Err(ApiError::bad_request(
        20001,
        "This content type cannot be submitted for WhatsApp approval",
      ));
    }
    if let Some(status) = content.approval.as_ref().map(|a| a.status_at(now)) {
      if !matches!(status, "unsubmitted" | "rejected") {
        return Err(ApiError::bad_request(
          20001,
          format!("This content is already {status} for WhatsApp"),
        ));
      }
    }
    content.approval = Some(Approval {
      name: name.to_string(),
      category: category.to_string(),
      status: "received".to_string(),
      rejection_reason: String::new(),
      review_ends: Some(now + APPROVAL_REVIEW),
    });
    content.date_updated = now;
    Ok(content)
  }

  /// The control API's say on WhatsApp's review: any status, at once.
  pub fn set_approval(&mut self, sid: &str, status: &str, reason: Option<String>) -> ApiResult<&Content> {
    let content = self.contents.get_mut(sid).ok_or_else(|| ApiError::not_found(sid))?;
    let approval = content.approval.get_or_insert_with(|| Approval {
      name: content.friendly_name.clone(),
      category: "UTILITY".to_string(),
      status: String::new(),
      rejection_reason: String::new(),
      review_ends: None,
    });
    approval.status = status.to_string();
    approval.rejection_reason = reason.unwrap_or_default();
    approval.review_ends = None;
    Ok(content)
  }

  /// A send's template rendered as Twilio renders it, or the API's refusal (`codes` differ by API).
  pub(super) fn render_template(
    &self,
    content_sid: &str,
    variables: Option<&str>,
    codes: &ContentCodes,
  ) -> ApiResult<Rendered> {
    let content = self
      .contents
      .get(content_sid)
      .filter(|_| is_sid(content_sid, "HX"))
      .ok_or_else(|| ApiError::bad_request(codes.invalid_sid.0, codes.invalid_sid.1))?;
    let variables = match variables {
      None => Map::new(),
      Some(text) => match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => {
          return Err(ApiError::bad_request(
            codes.invalid_variables.0,
            codes.invalid_variables.1,
          ))
        }
      },
    };
    content.render(&variables, self.now())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn text_template(body: &str, samples: &[(&str, &str)]) -> Content {
    let mut content = Content::default_template(Utc::now());
    content.types = Map::from_iter([("twilio/text".to_string(), serde_json::json!({ "body": body }))]);
    content.variables = samples.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    content
  }

  fn vars(json: Value) -> Map<String, Value> {
    json.as_object().cloned().unwrap_or_default()
  }

  #[test]
  fn placeholders_are_double_braced_keys_without_spaces() {
    assert_eq!(placeholders("Hi {{1}}, {{name}} {{id name}} {{}} {{x"), ["1", "name"]);
  }

  #[test]
  fn a_missing_variable_takes_the_sample_value() {
    let content = text_template("Hi {{1}}, see you at {{2}}.", &[("1", "Customer"), ("2", "noon")]);
    let rendered = content
      .render(&vars(serde_json::json!({ "2": "3pm" })), Utc::now())
      .unwrap();
    assert_eq!(rendered.body, "Hi Customer, see you at 3pm.");
    assert_eq!(rendered.refusal, None);
  }

  #[test]
  fn null_and_empty_values_are_refused_with_21656() {
    let content = text_template("Hi {{1}}", &[("1", "x")]);
    for bad in [serde_json::json!({ "1": null }), serde_json::json!({ "1": "" })] {
      assert_eq!(content.render(&vars(bad), Utc::now()).unwrap_err().code, 21656);
    }
  }

  #[test]
  fn whatsapps_refusals_come_on_the_receipt() {
    let content = text_template("Hi {{1}}", &[("1", "x")]);
    let refusal = |json| content.render(&vars(json), Utc::now()).unwrap().refusal;
    assert_eq!(refusal(serde_json::json!({ "1": "a\nb" })), Some(63013));
    assert_eq!(refusal(serde_json::json!({ "1": "a     b" })), Some(63013));
    assert_eq!(refusal(serde_json::json!({ "1": "a", "2": "b" })), Some(63028));
    assert_eq!(refusal(serde_json::json!({ "1": "x".repeat(1100) })), Some(63021));
    assert_eq!(refusal(serde_json::json!({ "1": "a    b" })), None);
  }

  #[test]
  fn a_review_ends_in_approval_on_the_clock() {
    let now = Utc::now();
    let approval = Approval {
      name: "n".into(),
      category: "UTILITY".into(),
      status: "received".into(),
      rejection_reason: String::new(),
      review_ends: Some(now + APPROVAL_REVIEW),
    };
    assert_eq!(approval.status_at(now), "received");
    assert_eq!(approval.status_at(now + APPROVAL_REVIEW), "approved");
  }
}
