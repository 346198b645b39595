//! What every part of the sandbox shares: the app (its state, origin and webhook client), a request as the
//! routes see it, and what they answer.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::{watch, Notify};

use crate::params::Params;
use crate::render::Rendering;
use crate::state::State;

/// Largest request body accepted: the Media Content Service's 150 MB.
pub const MAX_BODY_BYTES: usize = 150 * 1024 * 1024;
pub const CONTROL_PREFIX: &str = "/__sandbox";

pub struct AppState {
  pub state: Mutex<State>,
  pub base: String,
  /// What the control API demands in `X-Sandbox-Token`, when anything.
  pub control_token: Option<String>,
  /// Calls webhooks.
  pub webhook_http: reqwest::Client,
  /// Wakes the delivery task when events are pending.
  pub webhooks_wake: Notify,
  /// How many times held requests were released; a held request waits for the next.
  pub releases: watch::Sender<u64>,
  /// Bumped at each webhook attempt logged: what `GET /__sandbox/webhooks?at_least=N` waits on.
  pub attempted: watch::Sender<u64>,
}

impl AppState {
  /// The state, with every timer that came due on the sandbox's clock applied.
  pub fn lock(&self) -> MutexGuard<'_, State> {
    // A panic while holding the lock must not take the whole sandbox down with it.
    let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    state.tick();
    state
  }
}

impl AppState {
  /// What renderings need: this origin, the account, and the path prefix of the request (`/v1`, a service's, or
  /// none for hosts that are not Conversations).
  pub fn rendering<'a>(&'a self, state: &'a State, prefix: impl Into<String>) -> Rendering<'a> {
    Rendering {
      base: &self.base,
      account: &state.account,
      prefix: prefix.into(),
    }
  }
}

pub type App = Arc<AppState>;

/// Closes the connection a request arrived on, without an answer.
#[derive(Clone)]
pub struct ConnectionKill(pub Arc<Notify>);

/// A request as the routes see it.
pub struct Incoming {
  pub method: Method,
  pub path: String,
  pub query: Params,
  pub headers: HeaderMap,
  pub body: bytes::Bytes,
}

impl Incoming {
  pub fn content_type(&self) -> Option<&str> {
    self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
  }

  /// The body as JSON (the Content API's requests), when it is JSON.
  pub fn json(&self) -> Option<Value> {
    let json = self.content_type().is_some_and(|ct| ct.starts_with("application/json"));
    json.then(|| serde_json::from_slice(&self.body).ok()).flatten()
  }

  pub fn form(&self) -> Params {
    if self
      .content_type()
      .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
    {
      Params::parse(&self.body)
    } else {
      Params::default()
    }
  }
}

/// What a route answers.
pub enum Reply {
  Json(StatusCode, Value),
  Bytes(String, bytes::Bytes),
  NoContent,
}

impl Reply {
  pub fn status(&self) -> u16 {
    match self {
      Self::Json(status, _) => status.as_u16(),
      Self::Bytes(..) => 200,
      Self::NoContent => 204,
    }
  }
}

impl IntoResponse for Reply {
  fn into_response(self) -> Response {
    match self {
      Self::Json(status, body) => (status, axum::Json(body)).into_response(),
      Self::Bytes(content_type, bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
      Self::NoContent => StatusCode::NO_CONTENT.into_response(),
    }
  }
}
