//! Webhooks' free functions: signature checks with a token the caller gives, and a form's parameters as a typed
//! event.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::convert::JsArg;

/// Whether a webhook request is Twilio's, signed with `auth_token`. Anything that is not text fails closed.
#[napi]
pub fn validate_webhook_signature(
  auth_token: JsArg,
  signature: JsArg,
  url: JsArg,
  pairs: Vec<Vec<String>>,
  body: Option<Buffer>,
) -> bool {
  match auth_token {
    JsArg::Text(token) => webhook_valid(&token, &signature, &url, &pairs, body.as_deref()),
    _ => false,
  }
}

pub(crate) fn webhook_valid(
  token: &str,
  signature: &JsArg,
  url: &JsArg,
  pairs: &[Vec<String>],
  body: Option<&[u8]>,
) -> bool {
  let (JsArg::Text(signature), JsArg::Text(url)) = (signature, url) else {
    return false;
  };
  match body {
    Some(body) => twilio_core::signature::is_valid_with_body(token, signature, url, body),
    None => twilio_core::signature::is_valid(token, signature, url, &form_pairs(pairs)),
  }
}

/// A webhook's form parameters ([name, value] pairs) as a typed event; dates stay ISO text for the JS entry.
#[napi(ts_return_type = "Record<string, unknown>")]
pub fn parse_webhook_event(pairs: Vec<Vec<String>>) -> serde_json::Map<String, serde_json::Value> {
  crate::results::own_keys(twilio_core::webhooks::event(&form_pairs(&pairs)))
}

/// The post-action events, which a handler is told of.
#[napi]
pub fn webhook_post_events() -> Vec<&'static str> {
  twilio_core::webhooks::POST_EVENTS.to_vec()
}

/// The pre-action events, whose handler's answer can change or reject the action.
#[napi]
pub fn webhook_pre_events() -> Vec<&'static str> {
  twilio_core::webhooks::PRE_EVENTS.to_vec()
}

/// The attributes of the client's idempotency mark on a message.
#[napi]
pub fn idempotency_mark_attributes() -> Vec<&'static str> {
  twilio_core::MARK_ATTRIBUTES.to_vec()
}

/// The names of an event's date fields.
#[napi]
pub fn webhook_date_fields() -> Vec<&'static str> {
  twilio_core::webhooks::date_fields().collect()
}

pub(crate) fn form_pairs(pairs: &[Vec<String>]) -> Vec<(String, String)> {
  pairs
    .iter()
    .filter_map(|pair| match pair.as_slice() {
      [name, value] => Some((name.clone(), value.clone())),
      _ => None,
    })
    .collect()
}
