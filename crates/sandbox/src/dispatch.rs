//! The one entry point every request goes through: control API, latency, faults, authentication, the route
//! (matched once, in `routes`), the contract check, and the request log.

use std::time::Duration;

use axum::extract::{Request, State as AxumState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::app::{App, ConnectionKill, Incoming, Reply, CONTROL_PREFIX, MAX_BODY_BYTES};
use crate::contract::contract;
use crate::error::{ApiError, ApiResult};
use crate::faults::{DropWhen, FaultAction, Injected};
use crate::params::Params;
use crate::state::LogEntry;
use crate::{control, routes};

pub async fn dispatch(AxumState(app): AxumState<App>, request: Request) -> Response {
  let (parts, body) = request.into_parts();
  let kill = parts.extensions.get::<ConnectionKill>().cloned();
  let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
    Ok(bytes) => bytes,
    Err(_) => return ApiError::new(413, 50512, "Message media size is too large").into_response(),
  };
  let incoming = Incoming {
    method: parts.method,
    path: parts.uri.path().to_string(),
    query: Params::parse(parts.uri.query().unwrap_or("").as_bytes()),
    headers: parts.headers,
    body,
  };
  if incoming.path == CONTROL_PREFIX || incoming.path.starts_with(&format!("{CONTROL_PREFIX}/")) {
    if !control_allowed(&app, &incoming.headers) {
      return (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({
          "error": "the control API answers this machine's programs, or a request with the sandbox's token in X-Sandbox-Token"
        })),
      )
        .into_response();
    }
    return control::handle(&app, incoming).await;
  }

  // Taken before the fault fires, so that a release right after it still lets the request through.
  let releases = *app.releases.borrow();
  let (latency, fault) = {
    let mut state = app.lock();
    let method = incoming.method.as_str();
    let fault = state.faults.iter_mut().find_map(|f| f.fire(method, &incoming.path));
    (state.latency_ms, fault)
  };
  if latency > 0 {
    tokio::time::sleep(Duration::from_millis(latency)).await;
  }
  let label = fault.as_ref().map(FaultAction::label);
  match fault {
    Some(FaultAction::Respond {
      answer,
      after_write: false,
    }) => {
      log(&app, &incoming, answer.status, label);
      return injected(answer);
    }
    Some(FaultAction::Drop(DropWhen::Before)) => {
      log(&app, &incoming, 0, label);
      return drop_connection(kill).await;
    }
    Some(FaultAction::Delay(ms)) => tokio::time::sleep(Duration::from_millis(ms)).await,
    Some(FaultAction::Hold) => {
      // The sender lives as long as the app: an error here cannot happen while a request is served.
      let _ = app.releases.subscribe().wait_for(|count| *count > releases).await;
    }
    _ => {}
  }

  let reply = answer(&app, &incoming).await;
  let status = match &reply {
    Ok(reply) => reply.status(),
    Err(error) => error.status.as_u16(),
  };
  let now = log(&app, &incoming, status, label);
  let mut response = match fault {
    Some(FaultAction::Drop(DropWhen::After)) => drop_connection(kill).await,
    Some(FaultAction::Respond { answer, .. }) => injected(answer),
    _ => match reply {
      Ok(reply) => reply.into_response(),
      Err(error) => error.into_response(),
    },
  };
  // The sandbox's time, which tests move: clients that take "now" from Twilio's answers see the same clock.
  if let Ok(date) = header::HeaderValue::from_str(&crate::render::http_date(now)) {
    response.headers_mut().insert(header::DATE, date);
  }
  response
}

/// The answer a `status` fault gives: Twilio's error body, or the raw body given, and Retry-After when set.
fn injected(answer: Injected) -> Response {
  let mut response = match answer.raw_body {
    Some(text) => (
      StatusCode::from_u16(answer.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
      text,
    )
      .into_response(),
    None => ApiError::new(answer.status, answer.code, answer.message).into_response(),
  };
  if let Some(seconds) = answer.retry_after {
    response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
  }
  response
}

async fn drop_connection(kill: Option<ConnectionKill>) -> Response {
  match kill {
    Some(ConnectionKill(notify)) => {
      notify.notify_one();
      // The connection task drops this future when it closes the socket.
      std::future::pending::<()>().await;
      StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
    None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
  }
}

/// Logs a request; answers the time, on the sandbox's clock, it was logged at.
fn log(app: &App, incoming: &Incoming, status: u16, fault: Option<String>) -> DateTime<Utc> {
  let params = if incoming
    .content_type()
    .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
  {
    Params::parse(&incoming.body).to_json()
  } else if incoming.body.is_empty() {
    Value::Object(Default::default())
  } else {
    serde_json::json!({
      "content_type": incoming.content_type(),
      "size": incoming.body.len(),
    })
  };
  let mut state = app.lock();
  if !state.outbox.pending.is_empty() {
    app.webhooks_wake.notify_one();
  }
  let seq = state.next_seq();
  let now = state.now();
  let at = crate::render::iso_millis(now);
  state.log.push(LogEntry {
    seq,
    at,
    method: incoming.method.to_string(),
    path: incoming.path.clone(),
    query: incoming.query.to_json(),
    params,
    status,
    fault,
  });
  now
}

/// The control API is open on loopback to this machine's programs: a request that names a host of its own
/// (`Host`, a web page's `Origin`) comes from a browser, led there by DNS rebinding or a cross-site form. Elsewhere
/// it demands the token, compared in constant time.
fn control_allowed(app: &App, headers: &HeaderMap) -> bool {
  let Some(expected) = app.control_token.as_deref() else {
    let header = |name: header::HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    let host_is_local = header(header::HOST).is_none_or(|host| names_loopback(&format!("http://{host}")));
    let origin_is_local = header(header::ORIGIN).is_none_or(names_loopback);
    return host_is_local && origin_is_local;
  };
  let given = headers
    .get("x-sandbox-token")
    .and_then(|v| v.to_str().ok())
    .unwrap_or("");
  given.len() == expected.len()
    && given
      .bytes()
      .zip(expected.bytes())
      .fold(0u8, |diff, (a, b)| diff | (a ^ b))
      == 0
}

/// Whether a URL's host is this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
fn names_loopback(url: &str) -> bool {
  match url::Url::parse(url)
    .ok()
    .and_then(|url| url.host().map(|host| host.to_owned()))
  {
    Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
    None => false,
  }
}

fn authenticate(app: &App, headers: &HeaderMap) -> ApiResult<()> {
  use base64_decode::decode;
  let credentials = headers
    .get(header::AUTHORIZATION)
    .and_then(|v| v.to_str().ok())
    .and_then(|v| v.strip_prefix("Basic "))
    .and_then(|b64| decode(b64.trim()))
    .and_then(|raw| String::from_utf8(raw).ok())
    .ok_or_else(ApiError::authenticate)?;
  let (user, password) = credentials.split_once(':').ok_or_else(ApiError::authenticate)?;
  if app.lock().authenticate(user, password) {
    Ok(())
  } else {
    Err(ApiError::authenticate())
  }
}

/// Authenticates, finds the route (one match), checks the request against Twilio's description of the
/// operation, and runs its handler.
async fn answer(app: &App, incoming: &Incoming) -> ApiResult<Reply> {
  let method = incoming.method.as_str();
  let matched = routes::find(method, &incoming.path);
  let elsewhere = routes::serves_path(&incoming.path) || contract().knows_path(&incoming.path);
  // A path Twilio has no resource at is 404 whoever asks, as at Twilio (a test serves a missing image so).
  if matched.is_none() && !elsewhere {
    return Err(ApiError::not_found(&incoming.path));
  }
  authenticate(app, &incoming.headers)?;
  let Some(matched) = matched else {
    if contract().find(method, &incoming.path).is_none() {
      return Err(ApiError::new(
        405,
        20004,
        format!("Method not allowed: {method} {}", incoming.path),
      ));
    }
    return Err(not_emulated(incoming));
  };
  let form = incoming.form();
  if matched.entry.described {
    let template = matched.entry.template.text();
    let operation = contract()
      .operation(method, template)
      .ok_or_else(|| ApiError::new(500, 20500, format!("Twilio's description has no {method} {template}")))?;
    operation
      .check_request(&incoming.query, &form)
      .and_then(|()| operation.check_headers(|name| incoming.headers.get(name).and_then(|v| v.to_str().ok())))
      .and_then(|()| operation.check_json_body(incoming.json().as_ref()))
      .map_err(|why| ApiError::bad_request(20001, why))?;
  }
  routes::answer(app, incoming, matched, &form).await
}

/// An operation Twilio's description defines and the sandbox does not emulate: 501, with a code of the sandbox's
/// own (not one of Twilio's five-digit codes), so that no caller mistakes it for Twilio's "not found".
fn not_emulated(incoming: &Incoming) -> ApiError {
  ApiError::new(
    501,
    NOT_EMULATED,
    format!(
      "The sandbox does not emulate {} {} (Twilio's description defines it; see docs/GUIDE.md, The sandbox)",
      incoming.method, incoming.path
    ),
  )
}

/// The code of [`not_emulated`]'s answer.
pub const NOT_EMULATED: u32 = 501;

/// Standard base64 (RFC 4648) decoding for the Authorization header.
mod base64_decode {
  pub fn decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in input.bytes().filter(|b| *b != b'=') {
      let value = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
      };
      buffer = (buffer << 6) | u32::from(value);
      bits += 6;
      if bits >= 8 {
        bits -= 8;
        out.push((buffer >> bits) as u8);
      }
    }
    Some(out)
  }

  #[cfg(test)]
  #[test]
  fn decodes_basic_credentials() {
    assert_eq!(decode("QUMxOnNlY3JldA==").unwrap(), b"AC1:secret");
  }
}
