//! Conversions into the core: JS options into core options, JS arguments into checked strings. Nothing here
//! throws for bad input: it becomes an input error the caller sees as a failure.

use std::collections::HashMap;

use napi::bindgen_prelude::{FromNapiValue, JsValue, TypeName, Unknown, ValidateNapiValue, ValueType};
use napi::sys;
use napi_derive::napi;
use twilio_core::{Error, Options, Secret, VariableValue, Variables};

/// The constructor's options as JS spells them, each with the JavaScript type it takes: the fields of
/// [`ClientOptions`], in order. The JS entry refuses any other name, and a value of another type by its name and
/// kind (napi's own refusal would show the value, which may be a token); `__test__/options.test.js` fails when
/// this list, the struct (through the generated `binding.d.ts`), `index.d.ts` or the README's table disagree.
pub const OPTIONS: &[(&str, &str)] = &[
  ("accountSid", "string"),
  ("authToken", "string"),
  ("apiKey", "string"),
  ("apiSecret", "string"),
  ("whatsappNumber", "string"),
  ("systemIdentity", "string"),
  ("baseUrl", "string"),
  ("region", "string"),
  ("edge", "string"),
  ("timeoutMs", "number"),
  ("maxRetries", "number"),
  ("deadlineMs", "number"),
  ("cacheTtlMs", "number"),
  ("cacheMaxEntries", "number"),
  ("delivery", "string"),
  ("mediaAllowPrivateHosts", "boolean"),
  ("mediaMaxBytes", "number"),
  ("chatServiceSid", "string"),
  ("systemParticipant", "string"),
  ("conversationTimers", "object"),
  ("writesPerSecond", "number"),
  ("mediaRoot", "string"),
  ("webhookAuthToken", "string"),
  ("webhookEnabled", "boolean"),
  ("freeformOutsideWindow", "string"),
  ("templateCacheTtlMs", "number"),
  ("templateUnavailable", "string"),
  ("idempotencySecret", "string"),
  ("claimLeaseMs", "number"),
  ("defaultCountry", "string"),
  ("maxQueueMs", "number"),
  ("redisUrl", "string"),
  ("redisCaFile", "string"),
  ("redisKeyPrefix", "string"),
  ("logLevel", "string"),
];

/// Constructor options as JS passes them; see `index.d.ts` for units, defaults and environment variables.
#[napi(object)]
#[derive(Default)]
pub struct ClientOptions {
  pub account_sid: Option<String>,
  pub auth_token: Option<String>,
  pub api_key: Option<String>,
  pub api_secret: Option<String>,
  pub whatsapp_number: Option<String>,
  pub system_identity: Option<String>,
  pub base_url: Option<String>,
  pub region: Option<String>,
  pub edge: Option<String>,
  pub timeout_ms: Option<f64>,
  pub max_retries: Option<f64>,
  pub deadline_ms: Option<f64>,
  pub cache_ttl_ms: Option<f64>,
  pub cache_max_entries: Option<f64>,
  pub delivery: Option<String>,
  pub media_allow_private_hosts: Option<bool>,
  pub media_max_bytes: Option<f64>,
  pub chat_service_sid: Option<String>,
  pub system_participant: Option<String>,
  pub conversation_timers: Option<ConversationTimerOptions>,
  pub writes_per_second: Option<f64>,
  pub media_root: Option<String>,
  pub webhook_auth_token: Option<String>,
  pub webhook_enabled: Option<bool>,
  pub freeform_outside_window: Option<String>,
  pub template_cache_ttl_ms: Option<f64>,
  pub template_unavailable: Option<String>,
  pub idempotency_secret: Option<String>,
  pub claim_lease_ms: Option<f64>,
  pub default_country: Option<String>,
  pub max_queue_ms: Option<f64>,
  pub redis_url: Option<String>,
  pub redis_ca_file: Option<String>,
  pub redis_key_prefix: Option<String>,
  pub log_level: Option<String>,
}

/// `conversationTimers`: ISO-8601 durations set on every conversation the client creates.
#[napi(object)]
#[derive(Default)]
pub struct ConversationTimerOptions {
  pub inactive_after: Option<String>,
  pub closed_after: Option<String>,
}

fn whole(value: Option<f64>, name: &str) -> Result<Option<u64>, Error> {
  match value {
    None => Ok(None),
    Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(Some(n as u64)),
    Some(n) => Err(Error::Config {
      message: format!("{name} must be a non-negative whole number, not {n}"),
    }),
  }
}

impl ClientOptions {
  pub fn into_core(self) -> Result<Options, Error> {
    Ok(Options {
      account_sid: self.account_sid,
      auth_token: self.auth_token.map(Secret::new),
      api_key: self.api_key,
      api_secret: self.api_secret.map(Secret::new),
      whatsapp_number: self.whatsapp_number,
      system_identity: self.system_identity,
      base_url: self.base_url,
      region: self.region,
      edge: self.edge,
      timeout_ms: whole(self.timeout_ms, "timeoutMs")?,
      max_retries: whole(self.max_retries, "maxRetries")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
      deadline_ms: whole(self.deadline_ms, "deadlineMs")?,
      cache_ttl_ms: whole(self.cache_ttl_ms, "cacheTtlMs")?,
      cache_max_entries: whole(self.cache_max_entries, "cacheMaxEntries")?,
      delivery: self.delivery,
      media_allow_private_hosts: self.media_allow_private_hosts,
      media_max_bytes: whole(self.media_max_bytes, "mediaMaxBytes")?,
      chat_service_sid: self.chat_service_sid,
      system_participant: self.system_participant,
      inactive_after: self.conversation_timers.as_ref().and_then(|t| t.inactive_after.clone()),
      closed_after: self.conversation_timers.and_then(|t| t.closed_after),
      writes_per_second: whole(self.writes_per_second, "writesPerSecond")?
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
      media_root: self.media_root,
      webhook_auth_token: self.webhook_auth_token.map(Secret::new),
      webhook_enabled: self.webhook_enabled,
      freeform_outside_window: self.freeform_outside_window,
      template_cache_ttl_ms: whole(self.template_cache_ttl_ms, "templateCacheTtlMs")?,
      template_unavailable: self.template_unavailable,
      idempotency_secret: self.idempotency_secret.map(Secret::new),
      claim_lease_ms: whole(self.claim_lease_ms, "claimLeaseMs")?,
      default_country: self.default_country,
      max_queue_ms: whole(self.max_queue_ms, "maxQueueMs")?,
      log_level: self.log_level,
      redis_url: self.redis_url.map(Secret::new),
      redis_ca_file: self.redis_ca_file,
      redis_key_prefix: self.redis_key_prefix,
    })
  }
}

/// The environment as JS passes it (only `TWILIO_*` names), looked up by the core's config.
pub fn env_lookup(env: HashMap<String, String>) -> impl Fn(&str) -> Option<String> {
  move |name| env.get(name).cloned()
}

/// A JavaScript argument as it came, read by its JS type so that a refusal can name what it got (a function
/// is a function, NaN is NaN), instead of passing through JSON, which has neither.
#[derive(Debug, Clone, PartialEq)]
pub enum JsArg {
  /// `undefined` or `null`, by name.
  Absent(&'static str),
  Text(String),
  Number(f64),
  Boolean(bool),
  /// Any other value, by kind: `symbol`, `function`, `bigint`, `array`, `Date`, `object`.
  Other(&'static str),
}

impl TypeName for JsArg {
  fn type_name() -> &'static str {
    "unknown"
  }

  fn value_type() -> ValueType {
    ValueType::Unknown
  }
}

impl ValidateNapiValue for JsArg {}

impl FromNapiValue for JsArg {
  // napi's trait for an argument type of one's own is unsafe to implement; the work is done on `Unknown`'s safe API.
  unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
    // SAFETY: napi calls this with the `env` and `value` of the call being converted, valid for its duration.
    let value = unsafe { Unknown::from_napi_value(env, value)? };
    Self::from_unknown(value)
  }

  fn from_unknown(value: Unknown) -> napi::Result<Self> {
    Ok(match value.get_type()? {
      ValueType::Undefined => Self::Absent("undefined"),
      ValueType::Null => Self::Absent("null"),
      ValueType::String => Self::Text(String::from_unknown(value)?),
      ValueType::Number => Self::Number(f64::from_unknown(value)?),
      ValueType::Boolean => Self::Boolean(bool::from_unknown(value)?),
      ValueType::Symbol => Self::Other("symbol"),
      ValueType::Function => Self::Other("function"),
      ValueType::BigInt => Self::Other("bigint"),
      ValueType::Object if value.is_array()? => Self::Other("array"),
      ValueType::Object if value.is_date()? => Self::Other("Date"),
      ValueType::Object => Self::Other("object"),
      _ => Self::Other("value of an unknown kind"),
    })
  }
}

impl JsArg {
  /// What the value was, for a message: `a number (NaN)`, `a function`, `null`.
  pub fn described(&self) -> String {
    match self {
      Self::Absent(name) => (*name).to_string(),
      Self::Text(_) => "a string".to_string(),
      // JavaScript's spelling of the infinities; Rust's Display already writes NaN and -0 as JS does.
      Self::Number(n) if n.is_infinite() => format!("a number ({}Infinity)", if *n < 0.0 { "-" } else { "" }),
      Self::Number(n) => format!("a number ({n})"),
      Self::Boolean(b) => format!("a boolean ({b})"),
      Self::Other(kind @ ("array" | "object")) => format!("an {kind}"),
      Self::Other(kind) => format!("a {kind}"),
    }
  }
}

/// A required string argument.
pub fn string<'a>(value: &'a JsArg, name: &str, code: &'static str) -> Result<&'a str, Error> {
  match value {
    JsArg::Text(text) => Ok(text),
    other => Err(Error::invalid(
      code,
      format!("{name} must be a string, got {}", other.described()),
    )),
  }
}

/// An optional string argument: `null`/`undefined` is absent.
pub fn optional_string<'a>(value: &'a JsArg, name: &str, code: &'static str) -> Result<Option<&'a str>, Error> {
  match value {
    JsArg::Absent(_) => Ok(None),
    other => string(other, name, code).map(Some),
  }
}

/// A customer's phone number, named as the method names it (`to`, `phoneNumber`); the core checks its form.
pub fn phone<'a>(value: &'a JsArg, name: &str) -> Result<&'a str, Error> {
  string(value, name, "INVALID_PHONE_NUMBER")
}

/// An agent's identity.
pub fn identity(value: &JsArg) -> Result<&str, Error> {
  string(value, "identity", "INVALID_IDENTITY")
}

/// `options.idempotencyKey`: absent means a key of the client's own.
pub fn idempotency_key(value: &JsArg) -> Result<Option<&str>, Error> {
  optional_string(value, "idempotencyKey", "INVALID_IDEMPOTENCY_KEY")
}

/// An image's caption.
pub fn caption(value: &JsArg) -> Result<Option<&str>, Error> {
  optional_string(value, "caption", "INVALID_TEXT")
}

/// An object argument (content variables, attributes, a metadata patch): the JS entry sends a plain object as its
/// JSON text, and anything else as it is; text is the JSON the core checks, as Twilio takes these fields.
pub fn object_text<'a>(value: &'a JsArg, name: &str, code: &'static str) -> Result<&'a str, Error> {
  match value {
    JsArg::Text(text) => Ok(text),
    other => Err(Error::invalid(
      code,
      format!(
        "{name} must be a plain object or a JSON object string, got {}",
        other.described()
      ),
    )),
  }
}

/// An optional object argument: `null`/`undefined` is absent.
pub fn optional_object_text<'a>(value: &'a JsArg, name: &str, code: &'static str) -> Result<Option<&'a str>, Error> {
  match value {
    JsArg::Absent(_) => Ok(None),
    other => object_text(other, name, code).map(Some),
  }
}

/// `contentVariables`: a plain object arrives as its keys and values (read by the JS entry, each value by its JS
/// type, so that a Date, NaN or a boolean is refused for what it is instead of being turned into text by JSON);
/// anything else as it is, where text is the legacy JSON object string.
pub fn variables(value: &JsArg, keys: Option<Vec<String>>, values: Option<Vec<JsArg>>) -> Result<Variables, Error> {
  if let (Some(keys), Some(values)) = (keys, values) {
    let pairs = keys
      .into_iter()
      .zip(values)
      .filter_map(|(key, value)| {
        let value = match value {
          JsArg::Text(text) => VariableValue::Text(text),
          JsArg::Number(n) => VariableValue::number(n),
          // As JSON drops it: the variable is not given.
          JsArg::Absent("undefined") => return None,
          JsArg::Absent(_) => VariableValue::Null,
          other => VariableValue::Other(other.described()),
        };
        Some((key, value))
      })
      .collect();
    return Ok(Variables(pairs));
  }
  match optional_object_text(value, "contentVariables", "INVALID_CONTENT_VARIABLES")? {
    Some(text) => Variables::parse(text),
    None => Ok(Variables::default()),
  }
}

/// A boolean option; absent is `false`.
pub fn flag(value: &JsArg, name: &str, code: &'static str) -> Result<bool, Error> {
  match value {
    JsArg::Absent(_) => Ok(false),
    JsArg::Boolean(b) => Ok(*b),
    other => Err(Error::invalid(
      code,
      format!("{name} must be a boolean, got {}", other.described()),
    )),
  }
}

/// A number argument, checked further by the core.
pub fn number(value: &JsArg, name: &str, code: &'static str) -> Result<f64, Error> {
  match value {
    JsArg::Number(n) => Ok(*n),
    other => Err(Error::invalid(
      code,
      format!("{name} must be a number, got {}", other.described()),
    )),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn wrong_argument_types_are_input_failures_naming_the_argument_and_what_it_got() {
    let error = string(&JsArg::Number(f64::NAN), "to", "INVALID_PHONE_NUMBER").unwrap_err();
    assert_eq!(error.to_string(), "to must be a string, got a number (NaN)");
    assert_eq!(error.code(), "INVALID_PHONE_NUMBER");
    let error = string(&JsArg::Other("function"), "to", "INVALID_PHONE_NUMBER").unwrap_err();
    assert_eq!(error.to_string(), "to must be a string, got a function");
    assert_eq!(
      optional_string(&JsArg::Absent("undefined"), "author", "INVALID_AUTHOR").unwrap(),
      None
    );
    let error =
      optional_object_text(&JsArg::Other("array"), "contentVariables", "INVALID_CONTENT_VARIABLES").unwrap_err();
    assert_eq!(error.code(), "INVALID_CONTENT_VARIABLES");
    assert!(error.to_string().ends_with("got an array"));
    let error = string(&JsArg::Number(f64::NEG_INFINITY), "to", "INVALID_PHONE_NUMBER").unwrap_err();
    assert_eq!(error.to_string(), "to must be a string, got a number (-Infinity)");
  }

  #[test]
  fn variables_keep_each_values_js_kind() {
    let keys = vec!["1".to_string(), "2".to_string(), "3".to_string(), "4".to_string()];
    let values = vec![
      JsArg::Text("Ann".into()),
      JsArg::Number(42.0),
      JsArg::Other("Date"),
      JsArg::Absent("undefined"),
    ];
    let parsed = variables(&JsArg::Absent("undefined"), Some(keys), Some(values)).unwrap();
    assert_eq!(
      parsed.0,
      vec![
        ("1".to_string(), VariableValue::Text("Ann".into())),
        ("2".to_string(), VariableValue::Number("42".into())),
        ("3".to_string(), VariableValue::Other("a Date".into())),
      ]
    );
    let text = variables(&JsArg::Text(r#"{"1":"a"}"#.into()), None, None).unwrap();
    assert_eq!(text.0, vec![("1".to_string(), VariableValue::Text("a".into()))]);
    assert!(variables(&JsArg::Absent("null"), None, None).unwrap().0.is_empty());
    let error = variables(&JsArg::Other("array"), None, None).unwrap_err();
    assert_eq!(error.code(), "INVALID_CONTENT_VARIABLES");
  }

  #[test]
  fn option_names_are_unique_camel_case_and_what_js_is_given() {
    let names: Vec<&str> = OPTIONS.iter().map(|(name, _)| *name).collect();
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    assert!(names
      .iter()
      .all(|n| n.starts_with(|c: char| c.is_ascii_lowercase()) && n.chars().all(|c| c.is_ascii_alphanumeric())));
  }

  #[test]
  fn option_numbers_must_be_whole_and_non_negative() {
    assert_eq!(whole(Some(0.0), "maxRetries").unwrap(), Some(0));
    for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY] {
      assert!(whole(Some(bad), "timeoutMs").is_err(), "{bad}");
    }
  }
}
