//! HTTP: a transport seam, its one transport (a pooled reqwest client), and the retry policy.
//!
//! What is repeated and when: a 429 was never processed, so it is always repeated (after Retry-After when
//! Twilio sends it, else exponential backoff with full jitter); a connection that could not be opened carried
//! nothing, so it is repeated too. A gateway error (502/503/504), a timeout or a lost answer may have taken
//! effect: only idempotent requests are repeated here, the rest go back to the caller marked ambiguous.
//!
//! A write that Twilio limits per second waits for its turn in the [`Pacer`] before each attempt (a repeat at the
//! front of the queue), with the call's deadline standing still meanwhile. A 429 that comes all the same (from
//! writes of other processes) is repeated until the deadline rather than after `max_retries` quick attempts:
//! Twilio did not process it, and the limit frees up within a second.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use rand::Rng;
use reqwest::header::HeaderValue;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::config::{Config, Secret};
use crate::error::{Error, Result};
use crate::observe::{route, Observer, RequestRecord};
use crate::pacing::{PaceKey, Pacer};
use crate::records::Answer;

/// The first backoff step; it doubles per attempt up to `BACKOFF_CAP`, with full jitter.
pub const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// twilio-node's largest retry delay.
pub const BACKOFF_CAP: Duration = Duration::from_secs(3);
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
fn where_to(url: &str) -> (String, String) {
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

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
  pub max_retries: u32,
  pub timeout: Duration,
  pub deadline: Duration,
}

/// Runs one call of the client under one deadline, `limit` from now (see [`crate::call`]).
pub use crate::call::within as within_deadline;

/// Sends requests through a transport with retries and pacing, within the deadline of the call they belong to.
#[derive(Clone)]
pub struct Http {
  transport: Arc<dyn Transport>,
  policy: RetryPolicy,
  pacer: Option<Arc<Pacer>>,
  observer: Arc<Observer>,
}

/// Full jitter: a random wait between 0 and the capped exponential step.
pub fn backoff(attempt: u32) -> Duration {
  let step = BACKOFF_BASE
    .saturating_mul(2u32.saturating_pow(attempt))
    .min(BACKOFF_CAP);
  let millis = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
  Duration::from_millis(rand::rng().random_range(0..=millis))
}

impl Http {
  pub fn new(transport: Arc<dyn Transport>, policy: RetryPolicy, pacer: Option<Pacer>) -> Self {
    Self {
      transport,
      policy,
      pacer: pacer.map(Arc::new),
      observer: Arc::default(),
    }
  }

  /// Requests counted and, while watched, recorded there.
  pub fn observed(mut self, observer: Arc<Observer>) -> Self {
    self.observer = observer;
    self
  }

  pub fn observer(&self) -> &Observer {
    &self.observer
  }

  pub fn policy(&self) -> RetryPolicy {
    self.policy
  }

  /// Waits for a turn to write to `key` (see [`Pacer::turn`]); at once without pacing.
  pub async fn turn(&self, key: &PaceKey, again: bool) -> Result<()> {
    let Some(pacer) = &self.pacer else {
      return Ok(());
    };
    let _queued = self.observer.queue();
    // Boxed: only a write that waits its turn needs the wait's state.
    Box::pin(pacer.turn(key, again)).await
  }

  /// The response of a successful (2xx) request, after the retries the policy allows.
  pub async fn execute(&self, request: &Request) -> Result<Response> {
    // A request made outside any call (a unit test) gets a deadline of its own.
    let own_deadline = crate::call::after(self.policy.deadline);
    let deadline = || crate::call::deadline().unwrap_or(own_deadline);
    let paced = self.pacer.as_deref().zip(request.pace.as_ref());
    let first = Instant::now();
    let mut attempt = 0u32;
    loop {
      if let Some((_, key)) = paced {
        if attempt > 0 || !request.turn_taken {
          self.turn(key, attempt > 0).await?;
        }
      }
      let deadline = deadline();
      let remaining = deadline.saturating_duration_since(Instant::now());
      let wait_limit = remaining.min(self.policy.timeout);
      let started = Instant::now();
      // Boxed: a request that waits in the pacer does not hold the timer and the send meanwhile.
      let outcome = match Box::pin(tokio::time::timeout(wait_limit, self.transport.send(request))).await {
        Ok(outcome) => outcome,
        Err(_) => Err(TransportError::Timeout),
      };
      let status = outcome.as_ref().ok().map(|response| response.status);
      let record = |call| {
        let (host, route) = where_to(&request.url);
        RequestRecord {
          call,
          method: request.method.as_str(),
          host,
          route,
          status,
          duration: started.elapsed(),
          attempt,
        }
      };
      self.observer.request(record, status, attempt);
      if let (Some((pacer, key)), Ok(response)) = (paced, &outcome) {
        pacer.observe(key, response.status == 429);
      }
      let (error, repeat, hint) = match outcome {
        Ok(response) if (200..300).contains(&response.status) => return Ok(response),
        Ok(response) => {
          let error = Error::from_response(response.status, &response.body);
          let repeat = match response.status {
            429 => true,
            502..=504 => request.idempotent,
            _ => false,
          };
          (error, repeat, response.retry_after.filter(|_| response.status == 429))
        }
        Err(TransportError::NotSent(message)) => (Error::Transport { message, sent: false }, true, None),
        Err(TransportError::Lost(message)) => (Error::Transport { message, sent: true }, request.idempotent, None),
        Err(TransportError::Timeout) => (Error::Timeout { after: wait_limit }, request.idempotent, None),
        Err(TransportError::Oversized(status)) => (
          Error::Decode {
            status,
            reason: format!("the answer is larger than the {MAX_ANSWER_BYTES} bytes an API answer may be"),
            body: String::new(),
          },
          false,
          None,
        ),
      };
      let rate_limited = error.status() == Some(429) && self.policy.max_retries > 0;
      if !repeat || (attempt >= self.policy.max_retries && !rate_limited) {
        return Err(error.rate_limited_after(attempt + 1, first.elapsed()));
      }
      let wait = hint.unwrap_or_else(|| backoff(attempt));
      if crate::call::after(wait) >= deadline {
        return Err(error.rate_limited_after(attempt + 1, first.elapsed()));
      }
      tokio::time::sleep(wait).await;
      attempt += 1;
    }
  }

  /// The JSON text of a successful request (`null` for 204), with its status. It is checked as JSON when a
  /// record is read from it.
  pub async fn json(&self, request: &Request) -> Result<Answer> {
    let Response { status, body, .. } = self.execute(request).await?;
    let json = if body.is_empty() {
      "null".to_string()
    } else {
      // The body's own buffer becomes the text: it is not copied.
      String::from_utf8(Vec::from(body))
        .map_err(|e| Error::decode(status, &String::from_utf8_lossy(e.as_bytes()), e.utf8_error()))?
    };
    Ok(Answer { status, json })
  }

  /// The typed record of a successful request's body.
  pub async fn decode<T: DeserializeOwned>(&self, request: &Request) -> Result<T> {
    self.decode_dated(request).await.map(|(record, _)| record)
  }

  /// The typed record, and the answer's `Date` header: Twilio's clock.
  pub async fn decode_dated<T: DeserializeOwned>(&self, request: &Request) -> Result<(T, Option<String>)> {
    let response = self.execute(request).await?;
    let record = serde_json::from_slice(&response.body).map_err(|e| decode_error(&response, &e))?;
    Ok((record, response.date))
  }
}

fn decode_error(response: &Response, reason: &dyn std::fmt::Display) -> Error {
  Error::decode(response.status, &String::from_utf8_lossy(&response.body), reason)
}

#[cfg(test)]
mod tests {
  use std::sync::atomic::{AtomicU32, Ordering};

  use super::*;

  fn http(
    max_retries: u32,
    respond: impl Fn(u32) -> std::result::Result<Response, TransportError> + Send + Sync + 'static,
  ) -> (Http, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let transport = FnTransport(move |_: &Request| respond(counter.fetch_add(1, Ordering::SeqCst)));
    let policy = RetryPolicy {
      max_retries,
      timeout: Duration::from_secs(5),
      deadline: Duration::from_secs(30),
    };
    (Http::new(Arc::new(transport), policy, None), calls)
  }

  fn answer(status: u16, body: &str) -> std::result::Result<Response, TransportError> {
    Ok(Response {
      date: None,
      status,
      retry_after: None,
      body: Bytes::from(body.to_string()),
    })
  }

  fn post() -> Request {
    Request::post_form("http://x/Messages".into(), vec![], false)
  }

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

  #[tokio::test(start_paused = true)]
  async fn a_429_is_repeated_after_retry_after() {
    let (http, calls) = http(3, |n| {
      if n == 0 {
        Ok(Response {
          date: None,
          status: 429,
          retry_after: Some(Duration::from_secs(2)),
          body: Bytes::from_static(b"{}"),
        })
      } else {
        answer(201, r#"{"sid":"IM1"}"#)
      }
    });
    let started = Instant::now();
    assert_eq!(http.json(&post()).await.unwrap().json, r#"{"sid":"IM1"}"#);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() >= Duration::from_secs(2));
  }

  #[tokio::test(start_paused = true)]
  async fn a_503_is_repeated_for_reads_but_not_for_a_send() {
    let (reads, calls) = http(3, |n| if n == 0 { answer(503, "down") } else { answer(200, "{}") });
    assert!(reads.json(&Request::get("http://x".into())).await.is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let (sends, calls) = http(3, |_| answer(503, "down"));
    let error = sends.json(&post()).await.unwrap_err();
    assert!(error.is_ambiguous());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
  }

  #[tokio::test(start_paused = true)]
  async fn a_refused_connection_is_repeated_even_for_a_send() {
    let (http, calls) = http(3, |n| {
      if n < 2 {
        Err(TransportError::NotSent("refused".into()))
      } else {
        answer(201, "{}")
      }
    });
    assert!(http.json(&post()).await.is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
  }

  #[tokio::test(start_paused = true)]
  async fn retries_stop_at_max_retries() {
    let (http, calls) = http(2, |_| answer(503, "down"));
    assert!(http.json(&Request::get("http://x".into())).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
  }

  #[tokio::test(start_paused = true)]
  async fn a_429_is_repeated_past_max_retries_until_the_deadline() {
    let (patient, calls) = http(2, |n| {
      if n < 10 {
        answer(429, r#"{"code":20429,"message":"Too Many Requests","status":429}"#)
      } else {
        answer(201, "{}")
      }
    });
    assert!(patient.json(&post()).await.is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 11);
    let (refused, calls) = http(2, |_| answer(429, r#"{"code":20429,"status":429}"#));
    let started = Instant::now();
    let error = refused.json(&post()).await.unwrap_err();
    assert_eq!(error.twilio_code(), Some(20429));
    assert!(
      calls.load(Ordering::SeqCst) >= 5,
      "retried past max_retries, until the deadline"
    );
    assert!(started.elapsed() <= Duration::from_secs(30));
  }

  #[tokio::test(start_paused = true)]
  async fn with_max_retries_0_a_429_is_not_repeated() {
    let (http, calls) = http(0, |_| answer(429, r#"{"code":20429,"status":429}"#));
    assert!(http.json(&post()).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
  }

  #[tokio::test(start_paused = true)]
  async fn paced_writes_start_at_most_rate_per_window() {
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = calls.clone();
    let transport = FnTransport(move |_: &Request| {
      seen.lock().unwrap().push(Instant::now());
      answer(201, "{}")
    });
    let policy = RetryPolicy {
      max_retries: 3,
      timeout: Duration::from_secs(5),
      deadline: Duration::from_secs(30),
    };
    let http = Http::new(
      Arc::new(transport),
      policy,
      Pacer::new(3, Duration::from_secs(900), None),
    );
    let start = Instant::now();
    let request = post().paced(PaceKey::Conversation("CH1".into()));
    let sends = (0..7).map(|_| http.json(&request));
    for result in futures::future::join_all(sends).await {
      assert!(result.is_ok());
    }
    let (window, apart) = (crate::pacing::WINDOW, crate::pacing::spacing(3));
    let offsets: Vec<Duration> = calls.lock().unwrap().iter().map(|t| *t - start).collect();
    // The first window's burst at once; after it, sustained traffic's starts half a start apart.
    let expected = [
      Duration::ZERO,
      Duration::ZERO,
      Duration::ZERO,
      window,
      window + apart,
      window + apart * 2,
      window * 2,
    ];
    let close = |(at, want): (&Duration, &Duration)| at.abs_diff(*want) < Duration::from_millis(2);
    assert!(offsets.iter().zip(&expected).all(close), "{offsets:?}");
  }

  #[tokio::test(start_paused = true)]
  async fn a_retry_after_past_the_deadline_is_not_waited_for() {
    let (http, calls) = http(5, |_| {
      Ok(Response {
        date: None,
        status: 429,
        retry_after: Some(Duration::from_secs(3600)),
        body: Bytes::new(),
      })
    });
    assert!(http.json(&post()).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
  }

  #[tokio::test(start_paused = true)]
  async fn the_requests_of_one_call_share_its_deadline() {
    let (http, calls) = http(3, |_| {
      Ok(Response {
        date: None,
        status: 429,
        retry_after: Some(Duration::from_millis(1500)),
        body: Bytes::from_static(br#"{"code":20429,"status":429}"#),
      })
    });
    let call = async {
      // Earlier requests of the same call took a second of its two.
      tokio::time::sleep(Duration::from_secs(1)).await;
      http.json(&post()).await
    };
    let error = within_deadline(Duration::from_secs(2), call).await.unwrap_err();
    assert_eq!(
      error.twilio_code(),
      Some(20429),
      "the wait that no longer fits is not started: {error:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
  }

  #[tokio::test(start_paused = true)]
  async fn other_errors_are_not_repeated() {
    let (http, calls) = http(3, |_| {
      answer(
        400,
        r#"{"code":21602,"message":"Message body is required.","status":400}"#,
      )
    });
    assert_eq!(
      http.json(&post()).await.unwrap_err().to_string(),
      "Message body is required."
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
  }

  #[test]
  fn backoff_doubles_from_100_ms_to_a_3_s_cap_with_full_jitter() {
    for (attempt, step_ms) in [(0, 100), (1, 200), (2, 400), (3, 800), (4, 1600), (5, 3000), (9, 3000)] {
      let waits: Vec<Duration> = (0..400).map(|_| backoff(attempt)).collect();
      let longest = waits.iter().max().copied().unwrap_or_default();
      let shortest = waits.iter().min().copied().unwrap_or_default();
      assert!(
        longest <= Duration::from_millis(step_ms),
        "attempt {attempt}: {longest:?}"
      );
      assert!(
        longest >= Duration::from_millis(step_ms * 3 / 4),
        "attempt {attempt} reaches its step"
      );
      assert!(
        shortest <= Duration::from_millis(step_ms / 4),
        "attempt {attempt} is jittered down to near 0"
      );
    }
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

  #[tokio::test]
  async fn a_2xx_body_that_is_not_json_is_a_decode_error_when_its_record_is_read() {
    let (client, _) = http(0, |_| answer(200, "<html>"));
    let text = client.json(&Request::get("http://x".into())).await.unwrap();
    assert!(matches!(
      text.record::<serde_json::Value>(),
      Err(Error::Decode { status: 200, .. })
    ));
    assert!(matches!(
      client
        .decode::<serde_json::Value>(&Request::get("http://x".into()))
        .await,
      Err(Error::Decode { status: 200, .. })
    ));
  }
}
