//! The transport seam and its one transport: a request as the client makes it, sent by a pooled reqwest client
//! (rustls, the environment's proxies), its answer read whole up to a bound, and its failures told apart by whether
//! anything may have reached Twilio. What is repeated, and when, is [`crate::http`]'s.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::HeaderValue;

use crate::config::{Config, Secret};
use crate::error::{Error, Result};
use crate::observe::route;
use crate::pacing::PaceKey;

/// The largest answer read from Twilio: its pages are far smaller, and an endpoint that sends more is not Twilio.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
pub const USER_AGENT: &str = concat!("twilio-api-client-rs/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
  Get,
  Post,
  Delete,
}

impl Method {
  pub fn as_str(self) -> &'static str {
    match self {
      Self::Get => "GET",
      Self::Post => "POST",
      Self::Delete => "DELETE",
    }
  }
}

#[derive(Debug, Clone)]
pub enum Body {
  Empty,
  Form(Vec<(String, String)>),
  Bytes { content_type: String, bytes: Bytes },
}

#[derive(Debug, Clone)]
pub struct Request {
  pub method: Method,
  pub url: String,
  pub body: Body,
  /// Repeating it cannot do harm (a read, or a creation Twilio detects as a repeat).
  pub idempotent: bool,
  /// What Twilio counts this write against, when it limits it per second.
  pub pace: Option<PaceKey>,
  /// The caller took the first attempt's turn itself (to decide the body once its turn came).
  pub turn_taken: bool,
}

impl Request {
  pub fn get(url: String) -> Self {
    Self {
      method: Method::Get,
      url,
      body: Body::Empty,
      idempotent: true,
      pace: None,
      turn_taken: false,
    }
  }

  pub fn post_form(url: String, form: Vec<(String, String)>, idempotent: bool) -> Self {
    Self {
      method: Method::Post,
      url,
      body: Body::Form(form),
      idempotent,
      pace: None,
      turn_taken: false,
    }
  }

  /// A DELETE: repeating it is harmless (the second one finds nothing).
  pub fn delete(url: String) -> Self {
    Self {
      method: Method::Delete,
      url,
      body: Body::Empty,
      idempotent: true,
      pace: None,
      turn_taken: false,
    }
  }

  /// This request, counted against `key` by Twilio's writes-per-second limits.
  pub fn paced(mut self, key: PaceKey) -> Self {
    self.pace = Some(key);
    self
  }

  /// Its first attempt's turn was taken by the caller ([`Http::turn`]).
  pub fn with_turn_taken(mut self) -> Self {
    self.turn_taken = true;
    self
  }
}

#[derive(Debug, Clone)]
pub struct Response {
  pub status: u16,
  pub retry_after: Option<Duration>,
  /// The `Date` header: Twilio's clock.
  pub date: Option<String>,
  pub body: Bytes,
}

#[derive(Debug, Clone)]
pub enum TransportError {
  /// The request never left: it is safe to repeat.
  NotSent(String),
  /// The request may have arrived; no answer came back.
  Lost(String),
  Timeout,
  /// The answer (with this status) was larger than [`MAX_ANSWER_BYTES`]; it was not read to the end.
  Oversized(u16),
}

/// Sends one request and answers the response, whatever its status.
pub trait Transport: Send + Sync {
  fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, std::result::Result<Response, TransportError>>;
}

/// A transport from a closure, for unit tests of decoding, error mapping and retry timing.
#[cfg(test)]
pub(crate) struct FnTransport<F>(pub F);

#[cfg(test)]
impl<F> Transport for FnTransport<F>
where
  F: Fn(&Request) -> std::result::Result<Response, TransportError> + Send + Sync,
{
  fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, std::result::Result<Response, TransportError>> {
    let result = (self.0)(request);
    Box::pin(async move { result })
  }
}

/// The environment variables reqwest takes a proxy from.
const PROXY_VARIABLES: [&str; 6] = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/// Whether the environment names a proxy, which reqwest then goes through (`NO_PROXY` honoured).
pub fn proxied() -> bool {
  PROXY_VARIABLES
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// What every HTTP client of the core shares: rustls, the user agent, the connection timeout, the pool, the
/// proxies of the environment, and no redirects (API calls never follow one: it would carry the credentials
/// elsewhere; media fetches follow theirs one checked hop at a time).
pub fn client_builder(config: &Config) -> reqwest::ClientBuilder {
  reqwest::Client::builder()
    .use_rustls_tls()
    .user_agent(USER_AGENT)
    .connect_timeout(config.timeout.min(Duration::from_secs(10)))
    .pool_idle_timeout(Duration::from_secs(60))
    .tcp_nodelay(true)
    .redirect(reqwest::redirect::Policy::none())
}

/// The transport for a client: HTTPS (or HTTP, for a sandbox) to Twilio through reqwest.
pub fn transport(config: &Config) -> Result<Arc<dyn Transport>> {
  Ok(Arc::new(ReqwestTransport::new(config)?))
}

/// The real transport: one pooled reqwest client, Basic auth on every request.
pub struct ReqwestTransport {
  client: reqwest::Client,
  /// `Basic …`, encoded once and marked sensitive, so that no debug output of a request shows it.
  authorization: HeaderValue,
  /// Writes carry `X-Twilio-Webhook-Enabled: true`.
  webhook_enabled: bool,
}

impl ReqwestTransport {
  pub fn new(config: &Config) -> Result<Self> {
    // No whole-request timeout here: `Http::execute` bounds every send by the timeout and the call's deadline.
    let client = client_builder(config)
      // `Http::execute` owns every repeat: reqwest's own policy would repeat a write Twilio may have taken.
      .retry(reqwest::retry::never().max_retries_per_request(0))
      .build()
      .map_err(|e| Error::Config {
        message: format!("cannot build the HTTP client: {e}"),
      })?;
    Ok(Self {
      client,
      authorization: basic_authorization(&config.username, &config.password)?,
      webhook_enabled: config.webhook_enabled,
    })
  }
}

pub(crate) fn basic_authorization(username: &str, password: &Secret) -> Result<HeaderValue> {
  use base64::Engine;
  let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password.expose()));
  let mut value = HeaderValue::try_from(format!("Basic {credentials}")).map_err(|_| Error::Config {
    message: "cannot build the Authorization header".to_string(),
  })?;
  value.set_sensitive(true);
  Ok(value)
}

fn classify(error: reqwest::Error, url: &str) -> TransportError {
  if error.is_timeout() {
    TransportError::Timeout
  } else if error.is_connect() || error.is_builder() {
    // Not connected, or not even built (a URL reqwest cannot parse): nothing left.
    TransportError::NotSent(describe(error, url))
  } else {
    TransportError::Lost(describe(error, url))
  }
}

/// What went wrong and with which host, with its causes (refused, reset, DNS) but without the rest of the URL: its
/// path names the customer.
fn describe(error: reqwest::Error, url: &str) -> String {
  format!("{}: {}", where_to(url).0, explain(&error.without_url()))
}

/// A URL's `host:port`, and its path as a route (see [`route`]).
pub(crate) fn where_to(url: &str) -> (String, String) {
  match url::Url::parse(url) {
    Ok(url) => (
      format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
      ),
      route(url.path()),
    ),
    Err(_) => ("an unparsable URL".to_string(), String::new()),
  }
}

/// An error with its causes, each once, and any number in them masked.
pub(crate) fn explain(error: &(dyn std::error::Error + 'static)) -> String {
  let mut text = error.to_string();
  let mut cause = error.source();
  while let Some(inner) = cause {
    let more = inner.to_string();
    if !text.contains(&more) {
      text.push_str(": ");
      text.push_str(&more);
    }
    cause = inner.source();
  }
  crate::error::redact_numbers(&text)
}

/// The longest Retry-After taken as it is: any longer one (`1e300`, a proxy's mistake) is waited for no longer,
/// which is past every call's deadline anyway.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Retry-After in seconds; an HTTP date is not used (Twilio sends seconds where it sends the header at all).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
  retry_after_seconds(headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?)
}

/// A Retry-After value, saturated at [`MAX_RETRY_AFTER`]; `None` for what is not a number of seconds.
pub fn retry_after_seconds(value: &str) -> Option<Duration> {
  let seconds = value.trim().parse::<f64>().ok().filter(|s| !s.is_nan() && *s >= 0.0)?;
  Some(Duration::try_from_secs_f64(seconds).map_or(MAX_RETRY_AFTER, |wait| wait.min(MAX_RETRY_AFTER)))
}

/// Whether Twilio's description defines `X-Twilio-Webhook-Enabled` for a write to `url`: the writes of
/// conversations, their messages and participants, and users (in the default service or a named one), not the
/// webhook configuration, media uploads or the 2010 Messages API.
fn defines_webhook_header(url: &reqwest::Url) -> bool {
  let Some(segments) = url.path_segments() else {
    return false;
  };
  let segments: Vec<&str> = segments.collect();
  let resource = match segments.as_slice() {
    ["v1", "Services", _, rest @ ..] | ["v1", rest @ ..] => rest,
    _ => return false,
  };
  matches!(
    resource,
    ["Conversations"]
      | ["Conversations", _]
      | ["Conversations", _, "Messages" | "Participants"]
      | ["Conversations", _, "Messages" | "Participants", _]
      | ["ConversationWithParticipants"]
      | ["Users"]
      | ["Users", _]
  )
}

impl Transport for ReqwestTransport {
  fn send<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, std::result::Result<Response, TransportError>> {
    Box::pin(async move {
      let method = match request.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Delete => reqwest::Method::DELETE,
      };
      let write = method != reqwest::Method::GET;
      let builder = self
        .client
        .request(method, &request.url)
        .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
        .header(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"));
      let builder = match &request.body {
        Body::Empty => builder,
        Body::Form(form) => builder.form(form),
        Body::Bytes { content_type, bytes } => builder
          .header(reqwest::header::CONTENT_TYPE, content_type)
          .body(bytes.clone()),
      };
      // Built first, so that the header's place is read from the URL reqwest parsed, not parsed again.
      let mut outgoing = builder.build().map_err(|e| classify(e, &request.url))?;
      if write && self.webhook_enabled && defines_webhook_header(outgoing.url()) {
        let enabled = HeaderValue::from_static("true");
        outgoing.headers_mut().insert("x-twilio-webhook-enabled", enabled);
      }
      let mut response = self
        .client
        .execute(outgoing)
        .await
        .map_err(|e| classify(e, &request.url))?;
      let status = response.status().as_u16();
      let retry_after = retry_after(response.headers());
      let date = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
      if response.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
        return Err(TransportError::Oversized(status));
      }
      let mut body = bytes::BytesMut::new();
      while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, &request.url))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
          return Err(TransportError::Oversized(status));
        }
        body.extend_from_slice(&chunk);
      }
      let body = body.freeze();
      Ok(Response {
        date,
        status,
        retry_after,
        body,
      })
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_webhook_header_goes_only_where_twilio_defines_it() {
    let defines_webhook_header = |url: &str| super::defines_webhook_header(&reqwest::Url::parse(url).unwrap());
    let base = "https://conversations.twilio.com/v1";
    for defined in [
      "/Conversations",
      "/ConversationWithParticipants",
      "/Conversations/CH1/Messages",
      "/Conversations/CH1/Messages/IM1",
      "/Conversations/CH1/Participants/MB1",
      "/Services/IS1/Conversations/CH1",
    ] {
      assert!(defines_webhook_header(&format!("{base}{defined}")), "{defined}");
    }
    for undefined in [
      "/Services/IS1/Configuration/Webhooks",
      "/Conversations/CH1/Webhooks",
      "/Services/IS1/Media",
    ] {
      assert!(!defines_webhook_header(&format!("{base}{undefined}")), "{undefined}");
    }
    assert!(!defines_webhook_header(
      "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    ));
  }

  #[tokio::test]
  async fn a_refused_connection_is_not_sent_and_names_the_host_and_its_cause_without_the_path() {
    let url = "http://127.0.0.1:9/v1/Conversations/whatsapp_15551234567";
    let error = reqwest::Client::new().get(url).send().await.unwrap_err();
    let TransportError::NotSent(text) = classify(error, url) else {
      panic!("a refused connection carried nothing")
    };
    assert!(text.starts_with("127.0.0.1:9: "), "{text}");
    assert!(text.to_lowercase().contains("connect"), "{text}");
    assert!(
      !text.contains("15551234567") && !text.contains("Conversations"),
      "{text}"
    );
  }

  #[tokio::test]
  async fn a_connection_closed_without_an_answer_is_a_lost_answer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
      let (mut socket, _) = listener.accept().await.unwrap();
      let mut request = [0u8; 1024];
      let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
      drop(socket);
    });
    let error = reqwest::Client::new()
      .post(format!("http://{address}/v1/Conversations/CH1/Messages"))
      .body("Body=hi")
      .send()
      .await
      .unwrap_err();
    assert!(matches!(classify(error, "http://127.0.0.1/"), TransportError::Lost(_)));
  }

  #[tokio::test]
  async fn a_request_reqwest_cannot_build_is_not_sent() {
    let error = reqwest::Client::new().get("not a url").send().await.unwrap_err();
    assert!(matches!(classify(error, "not a url"), TransportError::NotSent(_)));
  }
}
