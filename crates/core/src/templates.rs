//! Content templates as Twilio defines them, read from the Content API (the definition and its WhatsApp
//! approval), kept in a moka cache with one read in flight per SID however many sends ask, and every template
//! send checked against its definition before any write: each placeholder has a value (else Twilio sends the
//! template's sample), no key is one the template lacks, the body WhatsApp gets fits its 1,024 characters (63021),
//! and an unapproved template goes only where WhatsApp takes one (inside the customer's 24-hour window, and never
//! for a `whatsapp/` type). Sources: `../shared/TWILIO-TEMPLATES.md`, docs/CONTRACT.md "Templates".
//!
//! When the Content API cannot answer, `templateUnavailable` decides: `send` (the variables checked on their own,
//! one warning per template until it answers again) or `refuse`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::future::Cache;
use tokio::time::Instant;

use crate::config::{Config, Delivery, TemplateUnavailable};
use crate::endpoints::Api;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::phone::Customer;
use crate::records::{ApprovalRecord, ContentRecord};
use crate::sync::Unpoisoned;
use crate::variables::{self, Checked, Variables};
use crate::window::Windows;

/// WhatsApp's longest template body after substitution (63021).
pub const MAX_RENDERED_CHARS: usize = 1024;
/// How soon a template that could not be read, or that Twilio did not know, is asked of Twilio again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
/// The most templates kept: far more than a service sends.
const MAX_TEMPLATES: u64 = 10_000;
/// moka's bound on a time to live (it refuses more than 1,000 years).
const MAX_CACHE_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// The content types WhatsApp may be sent, the most complex first: Twilio sends the first one a template has.
const SENT_FIRST: &[&str] = &[
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
/// The longest text from Twilio (a name, a rejection reason) repeated in an error.
const MAX_QUOTED_CHARS: usize = 120;

pub const TEMPLATE_NOT_FOUND: &str = "TEMPLATE_NOT_FOUND";
pub const TEMPLATE_NOT_APPROVED: &str = "TEMPLATE_NOT_APPROVED";
pub const TEMPLATE_UNAVAILABLE: &str = "TEMPLATE_UNAVAILABLE";
pub const TEMPLATE_VARIABLE_MISSING: &str = "TEMPLATE_VARIABLE_MISSING";
pub const TEMPLATE_VARIABLE_UNKNOWN: &str = "TEMPLATE_VARIABLE_UNKNOWN";
pub const TEMPLATE_TOO_LONG: &str = "TEMPLATE_TOO_LONG";

/// A piece of the body WhatsApp is sent: literal text (its length in characters) or a placeholder.
#[derive(Debug, Clone)]
enum Piece {
  Text(usize),
  Placeholder(String),
}

/// A template as Twilio defines it, read for checking sends.
#[derive(Debug, Clone)]
pub struct Definition {
  pub friendly_name: String,
  /// How refusals name it: its SID and its name at Twilio.
  label: String,
  /// Every placeholder, in any field of any type, and every variable with a sample value; sorted.
  keys: Vec<String>,
  samples: Vec<(String, String)>,
  /// The type WhatsApp is sent, and its body in pieces.
  sent_type: Option<String>,
  body: Vec<Piece>,
  /// WhatsApp's approval status (`approved`, `rejected`, `unsubmitted`, …) and a rejection's reason.
  pub approval_status: String,
  rejection_reason: Option<String>,
}

/// `{{key}}` placeholders in a text, each with the text before it; the literal rest comes last. A malformed
/// one (`{{}}`, `{{id name}}`) is text, as it is to Twilio.
fn split(text: &str) -> (Vec<(&str, &str)>, &str) {
  let mut pieces = Vec::new();
  let (mut start, mut cursor) = (0, 0);
  while let Some(open) = text
    .get(cursor..)
    .and_then(|rest| rest.find("{{"))
    .map(|at| cursor + at)
  {
    let after = text.get(open + 2..).unwrap_or_default();
    let Some(close) = after.find("}}") else { break };
    let key = after.get(..close).unwrap_or_default();
    if key.is_empty() || key.contains(['{', '}', ' ']) {
      cursor = open + 2;
      continue;
    }
    pieces.push((text.get(start..open).unwrap_or_default(), key));
    start = open + 2 + close + 2;
    cursor = start;
  }
  (pieces, text.get(start..).unwrap_or_default())
}

fn strings<'v>(value: &'v serde_json::Value, out: &mut Vec<&'v str>) {
  match value {
    serde_json::Value::String(text) => out.push(text),
    serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
    serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
    _ => {}
  }
}

/// A text from Twilio as an error repeats it: one line, bounded.
fn quoted(text: &str) -> String {
  let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
  let mut bounded: String = line.chars().take(MAX_QUOTED_CHARS).collect();
  if line.chars().count() > MAX_QUOTED_CHARS {
    bounded.push('…');
  }
  bounded
}

fn listed(keys: &[String]) -> String {
  if keys.is_empty() {
    return "none".to_string();
  }
  keys
    .iter()
    .map(|k| format!("{{{{{k}}}}}"))
    .collect::<Vec<_>>()
    .join(", ")
}

impl Definition {
  pub fn new(sid: &str, content: ContentRecord, approval: ApprovalRecord) -> Self {
    let mut texts = Vec::new();
    content.types.values().for_each(|t| strings(t, &mut texts));
    let mut keys: Vec<String> = texts
      .iter()
      .flat_map(|text| split(text).0)
      .map(|(_, key)| key.to_string())
      .chain(content.variables.keys().cloned())
      .collect();
    keys.sort();
    keys.dedup();
    let samples = content
      .variables
      .iter()
      .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
      .collect();
    let sent_type = SENT_FIRST
      .iter()
      .find(|name| content.types.contains_key(**name))
      .map(|name| name.to_string());
    let body_text = sent_type
      .as_deref()
      .and_then(|name| content.types.get(name))
      .and_then(|t| t.get("body"))
      .and_then(serde_json::Value::as_str)
      .unwrap_or_default();
    let (placed, tail) = split(body_text);
    let mut body = Vec::new();
    for (before, key) in placed {
      body.push(Piece::Text(before.chars().count()));
      body.push(Piece::Placeholder(key.to_string()));
    }
    body.push(Piece::Text(tail.chars().count()));
    let approval = approval.fields();
    let friendly_name = quoted(&content.friendly_name);
    Self {
      label: if friendly_name.is_empty() {
        format!("template {sid}")
      } else {
        format!("template {sid} ({friendly_name})")
      },
      friendly_name,
      keys,
      samples,
      sent_type,
      body,
      approval_status: approval.status.unwrap_or_else(|| "unsubmitted".to_string()),
      rejection_reason: approval
        .rejection_reason
        .filter(|r| !r.trim().is_empty())
        .map(|r| quoted(&r)),
    }
  }

  pub fn label(&self) -> &str {
    &self.label
  }

  pub fn approved(&self) -> bool {
    self.approval_status == "approved"
  }

  /// WhatsApp takes a `whatsapp/` type only once approved, even inside the 24-hour window.
  fn needs_approval_always(&self) -> bool {
    self.sent_type.as_deref().is_some_and(|t| t.starts_with("whatsapp/"))
  }

  fn sample(&self, key: &str) -> Option<&str> {
    self.samples.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
  }

  /// The rules that need the definition, over variables already checked on their own: both key lists are sorted,
  /// so one walk finds a key the template lacks and a placeholder without a value.
  pub fn check(&self, given: &Checked, allow_samples: bool) -> Result<()> {
    let mut wanted = self.keys.iter().peekable();
    let mut missing = None;
    for key in given.keys() {
      while let Some(placeholder) = wanted.next_if(|k| k.as_str() < key) {
        missing = missing.or(Some(placeholder));
      }
      if wanted.next_if(|k| k.as_str() == key).is_none() {
        return Err(Error::invalid(
          TEMPLATE_VARIABLE_UNKNOWN,
          format!(
            "{} has no variable {{{{{key}}}}}; its variables are {}",
            self.label,
            listed(&self.keys)
          ),
        ));
      }
    }
    if let Some(missing) = missing.or(wanted.next()).filter(|_| !allow_samples) {
      return Err(Error::invalid(
        TEMPLATE_VARIABLE_MISSING,
        format!(
          "{} needs a value for {{{{{missing}}}}}: Twilio would send the template's sample value in its place \
           (pass allowSampleValues to let it)",
          self.label
        ),
      ));
    }
    let rendered: usize = self
      .body
      .iter()
      .map(|piece| match piece {
        Piece::Text(chars) => *chars,
        Piece::Placeholder(key) => given
          .get(key)
          .or_else(|| self.sample(key))
          .map_or(key.chars().count() + 4, |v| v.chars().count()),
      })
      .sum();
    if rendered > MAX_RENDERED_CHARS {
      return Err(Error::invalid(
        TEMPLATE_TOO_LONG,
        format!(
          "{} would be {rendered} characters long with these variables; WhatsApp takes at most \
           {MAX_RENDERED_CHARS} (63021)",
          self.label
        ),
      ));
    }
    Ok(())
  }

  fn not_approved(&self, why: &str) -> Error {
    let reason = self
      .rejection_reason
      .as_deref()
      .map(|r| format!(": {r}"))
      .unwrap_or_default();
    Error::Refused {
      code: TEMPLATE_NOT_APPROVED,
      message: format!(
        "{} is not approved for WhatsApp (status {}{reason}) and {why}: nothing was sent",
        self.label, self.approval_status
      ),
    }
  }
}

/// What a template send may go with.
#[derive(Debug, Clone)]
pub struct Admitted<'v> {
  /// The variables as Twilio is sent them.
  pub variables: Checked<'v>,
  /// The definition it was checked against; `None` when the Content API could not answer and the policy sends.
  pub definition: Option<Arc<Definition>>,
  /// Read when an unapproved template needed it.
  pub window_open: Option<bool>,
}

#[derive(Debug, Clone)]
enum Lookup {
  Found(Arc<Definition>),
  /// Twilio does not know the SID (21655).
  Missing,
  /// The Content API did not answer, or not with a definition: why, masked and bounded.
  Unavailable(String),
}

#[derive(Debug, Clone)]
struct Entry {
  lookup: Lookup,
  /// On tokio's clock, the core's clock (paused in tests); moka's own time to live reclaims the memory.
  expires: Instant,
}

/// Whom a send goes to, and where their 24-hour window is read.
pub struct Recipient<'a> {
  pub customer: &'a Customer,
  pub windows: &'a Windows,
}

pub struct Templates {
  api: Arc<Api>,
  cache: Cache<String, Entry>,
  ttl: Duration,
  unavailable: TemplateUnavailable,
  /// The longest value the delivery takes.
  max_value_chars: usize,
  log: Arc<Log>,
  /// Templates warned of as unreadable since they were last read: one warning each per outage.
  warned: Mutex<HashSet<String>>,
}

impl Templates {
  pub fn new(api: Arc<Api>, config: &Config, log: Arc<Log>) -> Self {
    Self {
      api,
      cache: Cache::builder()
        .max_capacity(MAX_TEMPLATES)
        .time_to_live(config.template_cache_ttl.max(RETRY_AFTER_FAILURE).min(MAX_CACHE_TTL))
        .build(),
      ttl: config.template_cache_ttl,
      unavailable: config.template_unavailable,
      max_value_chars: match config.delivery {
        Delivery::Conversations => variables::MAX_VALUE_CHARS,
        Delivery::Messaging => variables::MAX_MESSAGING_VALUE_CHARS,
      },
      log,
      warned: Mutex::new(HashSet::new()),
    }
  }

  /// The definition and approval, read together from the Content API.
  async fn read(&self, sid: &str) -> Entry {
    let (content, approval) = tokio::join!(self.api.content(sid), self.api.content_approval(sid));
    let lookup = match content {
      Err(error) if error.is_not_found() => Lookup::Missing,
      Err(error) => Lookup::Unavailable(error.public_message()),
      Ok(content) => match approval {
        Ok(approval) => Lookup::Found(Arc::new(Definition::new(sid, content, approval))),
        // A template never submitted may have no approval resource at all.
        Err(error) if error.is_not_found() => {
          Lookup::Found(Arc::new(Definition::new(sid, content, ApprovalRecord::default())))
        }
        Err(error) => Lookup::Unavailable(error.public_message()),
      },
    };
    let lasts = match lookup {
      Lookup::Found(_) => self.ttl,
      _ => self.ttl.min(RETRY_AFTER_FAILURE),
    };
    Entry {
      lookup,
      expires: crate::call::after(lasts),
    }
  }

  /// The template's definition: cached, or read once however many sends ask at once.
  async fn lookup(&self, sid: &str) -> Lookup {
    let entry = self
      .cache
      .entry_by_ref(sid)
      .or_insert_with_if(self.read(sid), |entry| entry.expires <= Instant::now())
      .await
      .into_value();
    match &entry.lookup {
      Lookup::Found(_) => {
        let mut warned = self.warned.locked();
        if !warned.is_empty() {
          warned.remove(sid);
        }
      }
      Lookup::Unavailable(why) if self.warned.locked().insert(sid.to_string()) => {
        let action = match self.unavailable {
          TemplateUnavailable::Send => "its sends go with their variables checked on their own",
          TemplateUnavailable::Refuse => "its sends are refused (templateUnavailable: 'refuse')",
        };
        self.log.warn(format!(
          "template {sid} could not be read from Twilio's Content API ({why}): {action} until it can"
        ));
      }
      _ => {}
    }
    entry.lookup
  }

  /// Checks a template send: its variables, against the definition when Twilio gives it, and its approval (with
  /// the customer's window when an unapproved template needs it; without a customer, that part is left out).
  pub async fn admit<'v>(
    &self,
    sid: &str,
    variables: &'v Variables,
    allow_samples: bool,
    recipient: Option<Recipient<'_>>,
  ) -> Result<Admitted<'v>> {
    let definition = match self.lookup(sid).await {
      Lookup::Found(definition) => definition,
      Lookup::Missing => {
        return Err(Error::invalid(
          TEMPLATE_NOT_FOUND,
          format!("template {sid} does not exist in this account's Content API (Twilio would refuse it: 21655)"),
        ))
      }
      Lookup::Unavailable(why) => {
        if self.unavailable == TemplateUnavailable::Refuse {
          return Err(Error::Refused {
            code: TEMPLATE_UNAVAILABLE,
            message: format!(
              "template {sid} could not be read from Twilio's Content API ({why}), and templateUnavailable is \
               'refuse': nothing was sent"
            ),
          });
        }
        return Ok(Admitted {
          variables: variables::check(variables, &format!("template {sid}"), self.max_value_chars)?,
          definition: None,
          window_open: None,
        });
      }
    };
    let checked = variables::check(variables, definition.label(), self.max_value_chars)?;
    definition.check(&checked, allow_samples)?;
    let mut window_open = None;
    if !definition.approved() {
      if definition.needs_approval_always() {
        return Err(definition.not_approved("WhatsApp takes this type only once approved"));
      }
      if let Some(Recipient { customer, windows }) = recipient {
        let open = windows.is_open(customer).await?;
        if !open {
          return Err(definition.not_approved(
            "the customer's 24-hour window is closed: outside it WhatsApp delivers only approved templates",
          ));
        }
        window_open = Some(open);
      }
    }
    Ok(Admitted {
      variables: checked,
      definition: Some(definition),
      window_open,
    })
  }
}

#[cfg(test)]
mod tests {
  use std::sync::atomic::{AtomicU32, Ordering};

  use super::*;
  use crate::config::{LogLevel, Options, Secret};
  use crate::http::{Http, RetryPolicy};
  use crate::records::ApprovalFields;
  use crate::transport::{FnTransport, Request, Response, TransportError};
  use crate::variables::Value;

  /// A registry over a fake Content API: `answer` gets the request's path and how many reads came before.
  fn registry(
    policy: &str,
    answer: impl Fn(&str, u32) -> (u16, String) + Send + Sync + 'static,
  ) -> (Templates, Arc<AtomicU32>, Arc<Log>) {
    let reads = Arc::new(AtomicU32::new(0));
    let counter = reads.clone();
    let transport = FnTransport(
      move |request: &Request| -> std::result::Result<Response, TransportError> {
        let (status, body) = answer(&request.url, counter.fetch_add(1, Ordering::SeqCst));
        Ok(Response {
          status,
          retry_after: None,
          date: None,
          body: body.into(),
        })
      },
    );
    let options = Options {
      account_sid: Some("AC1".into()),
      auth_token: Some(Secret::new("token")),
      template_unavailable: Some(policy.into()),
      ..Default::default()
    };
    let config = Config::resolve(options, |_| None).unwrap();
    let policy = RetryPolicy {
      max_retries: 0,
      timeout: Duration::from_secs(5),
      deadline: Duration::from_secs(30),
    };
    let http = Http::new(Arc::new(transport), policy, None);
    let api = Arc::new(Api::new(http, config.hosts.clone(), "AC1".into(), None));
    let log = Arc::new(Log::new(LogLevel::Warn));
    (Templates::new(api, &config, log.clone()), reads, log)
  }

  fn content(body: &str) -> (u16, String) {
    let types = serde_json::json!({ "twilio/text": { "body": body } });
    (
      200,
      serde_json::json!({ "friendly_name": "visit", "types": types }).to_string(),
    )
  }

  fn approved() -> (u16, String) {
    (200, r#"{"whatsapp":{"status":"approved"}}"#.to_string())
  }

  const SID: &str = "HX0123456789abcdef0123456789abcdef";

  fn one(key: &str) -> Variables {
    Variables(vec![(key.to_string(), Value::Text("Ann".into()))])
  }

  #[tokio::test(start_paused = true)]
  async fn a_definition_is_read_once_however_many_sends_ask_at_once() {
    let (templates, reads, _) = registry("send", |url, _| {
      if url.ends_with("ApprovalRequests") {
        approved()
      } else {
        content("Hi {{1}}")
      }
    });
    let variables = one("1");
    let sends = (0..100).map(|_| templates.admit(SID, &variables, false, None));
    for admitted in futures::future::join_all(sends).await {
      assert!(admitted.unwrap().definition.is_some());
    }
    assert_eq!(reads.load(Ordering::SeqCst), 2, "the definition and its approval, once");
  }

  #[tokio::test(start_paused = true)]
  async fn a_definition_changed_at_twilio_is_seen_once_its_ttl_has_passed() {
    let (templates, reads, _) = registry("send", |url, before| {
      if url.ends_with("ApprovalRequests") {
        approved()
      } else if before < 2 {
        content("Hi {{1}}")
      } else {
        content("Hi {{name}}")
      }
    });
    assert!(templates.admit(SID, &one("1"), false, None).await.is_ok());
    tokio::time::advance(crate::config::DEFAULT_TEMPLATE_CACHE_TTL - Duration::from_secs(1)).await;
    assert!(
      templates.admit(SID, &one("1"), false, None).await.is_ok(),
      "still cached"
    );
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    tokio::time::advance(Duration::from_secs(2)).await;
    let stale = templates.admit(SID, &one("1"), false, None).await.unwrap_err();
    assert_eq!(stale.code().to_string(), TEMPLATE_VARIABLE_UNKNOWN);
    assert!(templates.admit(SID, &one("name"), false, None).await.is_ok());
  }

  #[tokio::test(start_paused = true)]
  async fn an_unknown_sid_is_refused_and_asked_again_later() {
    let (templates, reads, _) = registry("send", |_, _| (404, r#"{"code":20404,"message":"not found"}"#.into()));
    let error = templates.admit(SID, &one("1"), false, None).await.unwrap_err();
    assert_eq!(error.code().to_string(), TEMPLATE_NOT_FOUND);
    assert!(error.to_string().contains("21655"));
    templates.admit(SID, &one("1"), false, None).await.unwrap_err();
    assert_eq!(reads.load(Ordering::SeqCst), 2, "cached for a while");
    tokio::time::advance(RETRY_AFTER_FAILURE).await;
    templates.admit(SID, &one("1"), false, None).await.unwrap_err();
    assert_eq!(reads.load(Ordering::SeqCst), 4);
  }

  #[tokio::test(start_paused = true)]
  async fn a_content_api_that_cannot_answer_lets_sends_go_checked_on_their_own_with_one_warning() {
    let (templates, _, log) = registry("send", |_, _| (503, "Service Unavailable".into()));
    for _ in 0..3 {
      let variables = one("1");
      let admitted = templates.admit(SID, &variables, false, None).await.unwrap();
      assert!(admitted.definition.is_none());
      tokio::time::advance(RETRY_AFTER_FAILURE).await;
    }
    let warnings = log.take();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("could not be read"), "{warnings:?}");
    let empty = Variables(vec![("1".into(), Value::Text(String::new()))]);
    let error = templates.admit(SID, &empty, false, None).await.unwrap_err();
    assert_eq!(
      error.code().to_string(),
      variables::INVALID_TEMPLATE_VARIABLE,
      "values are still checked"
    );
  }

  #[tokio::test(start_paused = true)]
  async fn a_content_api_that_cannot_answer_refuses_sends_when_told_to() {
    let (templates, _, _) = registry("refuse", |_, _| (503, "Service Unavailable".into()));
    let error = templates.admit(SID, &one("1"), false, None).await.unwrap_err();
    assert_eq!(error.code().to_string(), TEMPLATE_UNAVAILABLE);
  }

  fn definition(types: serde_json::Value, samples: serde_json::Value, status: &str) -> Definition {
    let content: ContentRecord = serde_json::from_value(serde_json::json!({
      "friendly_name": "visit",
      "variables": samples,
      "types": types,
    }))
    .unwrap();
    let approval = ApprovalRecord {
      whatsapp: Some(ApprovalFields {
        status: Some(status.to_string()),
        rejection_reason: None,
      }),
      ..Default::default()
    };
    Definition::new("HX1", content, approval)
  }

  fn text_template() -> Definition {
    definition(
      serde_json::json!({ "twilio/text": { "body": "Hi {{1}}, see you at {{2}}." } }),
      serde_json::json!({ "1": "Customer", "2": "noon" }),
      "approved",
    )
  }

  /// The definition's rules over these variables.
  fn fits(template: &Definition, pairs: &[(&str, &str)], allow_samples: bool) -> Result<()> {
    let variables = Variables(
      pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::Text(v.to_string())))
        .collect(),
    );
    template.check(&variables::check(&variables, "t", 256)?, allow_samples)
  }

  fn code(result: Result<()>) -> String {
    result.unwrap_err().code().to_string()
  }

  #[test]
  fn every_placeholder_needs_a_value_unless_samples_are_allowed() {
    let template = text_template();
    assert!(fits(&template, &[("1", "Ann"), ("2", "3pm")], false).is_ok());
    let missing = fits(&template, &[("1", "Ann")], false);
    assert_eq!(code(missing.clone()), TEMPLATE_VARIABLE_MISSING);
    assert!(missing.unwrap_err().to_string().contains("{{2}}"));
    assert!(fits(&template, &[("1", "Ann")], true).is_ok());
  }

  #[test]
  fn the_placeholder_without_a_value_is_named_wherever_it_falls() {
    let template = definition(
      serde_json::json!({ "twilio/text": { "body": "{{a}} {{b}} {{c}}" } }),
      serde_json::json!({}),
      "approved",
    );
    for (given, missing) in [
      (&[("a", "x"), ("c", "x")][..], "{{b}}"),
      (&[("b", "x"), ("c", "x")][..], "{{a}}"),
      (&[("b", "x"), ("a", "x")][..], "{{c}}"),
    ] {
      let error = fits(&template, given, false).unwrap_err();
      assert_eq!(error.code().to_string(), TEMPLATE_VARIABLE_MISSING);
      assert!(error.to_string().contains(missing), "{error}");
    }
    assert!(fits(&template, &[("c", "x"), ("a", "x"), ("b", "x")], false).is_ok());
  }

  #[test]
  fn a_key_the_template_lacks_is_named_with_the_ones_it_has() {
    let error = fits(&text_template(), &[("first", "Ann"), ("time", "3pm")], false).unwrap_err();
    assert_eq!(error.code().to_string(), TEMPLATE_VARIABLE_UNKNOWN);
    assert_eq!(
      error.to_string(),
      "template HX1 (visit) has no variable {{first}}; its variables are {{1}}, {{2}}"
    );
  }

  #[test]
  fn placeholders_in_any_field_of_any_type_count() {
    let template = definition(
      serde_json::json!({
        "twilio/call-to-action": {
          "body": "Order {{1}}",
          "actions": [{ "type": "URL", "title": "Track", "url": "https://example.com/{{2}}" }],
        },
      }),
      serde_json::json!({}),
      "approved",
    );
    assert_eq!(code(fits(&template, &[("1", "A1")], false)), TEMPLATE_VARIABLE_MISSING);
    assert!(fits(&template, &[("1", "A1"), ("2", "t")], false).is_ok());
  }

  #[test]
  fn the_body_whatsapp_gets_is_at_most_1024_characters_with_the_values() {
    let template = text_template();
    let long = "x".repeat(250);
    assert!(fits(&template, &[("1", &long), ("2", &long)], false).is_ok());
    let body = definition(
      serde_json::json!({ "twilio/text": { "body": format!("{} {{{{1}}}}", "y".repeat(900)) } }),
      serde_json::json!({}),
      "approved",
    );
    assert_eq!(code(fits(&body, &[("1", &long)], false)), TEMPLATE_TOO_LONG);
  }

  #[test]
  fn the_approval_is_read_under_whatsapp_or_directly() {
    let nested: ApprovalRecord =
      serde_json::from_value(serde_json::json!({ "whatsapp": { "status": "rejected", "rejection_reason": "spam" } }))
        .unwrap();
    let direct: ApprovalRecord = serde_json::from_value(serde_json::json!({ "status": "paused" })).unwrap();
    assert_eq!(nested.fields().status.as_deref(), Some("rejected"));
    assert_eq!(direct.fields().status.as_deref(), Some("paused"));
    let whatsapp_card = definition(
      serde_json::json!({ "whatsapp/card": { "body": "Hi" } }),
      serde_json::json!({}),
      "pending",
    );
    assert!(whatsapp_card.needs_approval_always());
    assert!(!whatsapp_card.approved());
    assert!(whatsapp_card
      .not_approved("x")
      .to_string()
      .contains("is not approved for WhatsApp (status pending)"));
  }

  #[test]
  fn placeholders_are_double_braced_keys_and_malformed_ones_are_text() {
    assert_eq!(
      split("Hi {{1}}, {{id name}} {{}} {{name}}!"),
      (vec![("Hi ", "1"), (", {{id name}} {{}} ", "name")], "!")
    );
    assert_eq!(split("no placeholders"), (vec![], "no placeholders"));
  }

  #[test]
  fn twilios_texts_in_errors_are_one_bounded_line() {
    assert_eq!(quoted("a\nb"), "a b");
    assert_eq!(quoted(&"z".repeat(500)).chars().count(), MAX_QUOTED_CHARS + 1);
  }
}
