//! What crosses back to JS: typed results, and the one place a core error becomes a JS error object (`code`,
//! `kind`, and Twilio's `status`, `moreInfo`, `details` when Twilio answered). A panic in a call
//! is napi's to catch: its future rejects instead of taking the process down.

use std::future::Future;

use napi::bindgen_prelude::{JsValue, PromiseRaw, ToNapiValue};
use napi::{Env, Status};
use napi_derive::napi;
use twilio_core::{Code, Error, Sent, Uploaded};

/// A message that was sent.
#[napi(object)]
pub struct SentMessage {
  pub message_sid: String,
  pub conversation_sid: Option<String>,
  pub body: Option<String>,
  /// The resource as twilio-node presents it, as JSON text: one string and V8's `JSON.parse` cost less than
  /// napi building the object key by key (measured by `npm run bench`).
  pub data_json: String,
}

impl From<Sent> for SentMessage {
  fn from(sent: Sent) -> Self {
    Self {
      message_sid: sent.message_sid,
      conversation_sid: sent.conversation_sid,
      body: sent.body,
      data_json: sent.data.to_string(),
    }
  }
}

/// A media file that was uploaded.
#[napi(object)]
pub struct UploadedMedia {
  pub media_sid: String,
  pub service_sid: String,
  pub content_type: String,
  pub filename: String,
  pub size: f64,
  pub data_json: String,
}

impl From<Uploaded> for UploadedMedia {
  fn from(uploaded: Uploaded) -> Self {
    Self {
      media_sid: uploaded.media_sid,
      service_sid: uploaded.service_sid,
      content_type: uploaded.content_type,
      filename: uploaded.filename,
      // Media sizes are far below 2^53: exact as a JS number.
      size: uploaded.size as f64,
      data_json: uploaded.data.to_string(),
    }
  }
}

/// What `testConnection` learns of the account.
#[napi(object)]
pub struct Connection {
  pub account_sid: String,
  pub account_name: Option<String>,
}

/// The JS error a core error becomes. Its `code` is Twilio's numeric code, or a stable name of this package
/// (`INVALID_PHONE_NUMBER`, `TIMEOUT`, …); `kind` is `api`, `transport`, `timeout`, `decode`, `input`, `config` or
/// `internal`.
pub fn js_error(env: &Env, error: &Error) -> napi::Error {
  let build = || -> napi::Result<napi::Error> {
    let mut object = env.create_error(napi::Error::new(Status::GenericFailure, error.to_string()))?;
    match error.code() {
      Code::Twilio(code) => object.set("code", code)?,
      Code::Named(name) => object.set("code", name)?,
    }
    object.set("kind", error.kind())?;
    if let Some(status) = error.status() {
      object.set("status", u32::from(status))?;
    }
    if let Error::Api { more_info, details, .. } = error {
      if let Some(more_info) = more_info {
        object.set("moreInfo", more_info.as_str())?;
      }
      if let Some(details) = details {
        object.set("details", details.clone())?;
      }
    }
    Ok(napi::Error::from(object.to_unknown()))
  };
  // Should the object not be built (the environment shutting down), a plain error still says what happened.
  build().unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, error.to_string()))
}

/// Runs a core call on the runtime and settles its promise on the JS thread: the value, or the error as
/// [`js_error`] builds it.
pub fn settle<'env, T, F>(env: &'env Env, call: F) -> napi::Result<PromiseRaw<'env, T>>
where
  T: ToNapiValue + Send + 'static,
  F: Future<Output = Result<T, Error>> + Send + 'static,
{
  env.spawn_future_with_callback(async move { Ok(call.await) }, |env, result| {
    result.map_err(|error| js_error(env, &error))
  })
}
