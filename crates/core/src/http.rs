//! Retries within a deadline: requests sent through a [`Transport`], repeated by Twilio's rules and paced.
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

use rand::Rng;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::observe::{Observer, RequestRecord};
use crate::pacing::{Entered, PaceKey, Pacer};
use crate::records::Answer;
use crate::transport::{where_to, Request, Response, Transport, TransportError, MAX_ANSWER_BYTES};

/// The first backoff step; it doubles per attempt up to `BACKOFF_CAP`, with full jitter.
pub const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// twilio-node's largest retry delay.
pub const BACKOFF_CAP: Duration = Duration::from_secs(3);
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
  pub max_retries: u32,
  pub timeout: Duration,
  pub deadline: Duration,
}

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

  /// Whether writes are paced (`writesPerSecond` above 0).
  pub fn paces(&self) -> bool {
    self.pacer.is_some()
  }

  /// A send's entry to `key`'s lane, once let in (see [`Pacer::enter`]), counted among the writes queued while it
  /// waits at the gate; none without pacing.
  pub async fn enter(&self, key: PaceKey) -> Result<Option<Entered>> {
    let Some(pacer) = &self.pacer else {
      return Ok(None);
    };
    let mut entered = pacer.enter(key)?;
    if entered.waits() {
      let _queued = self.observer.queue();
      entered.wait().await;
    }
    Ok(Some(entered))
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

  use bytes::Bytes;

  use super::*;
  use crate::transport::FnTransport;

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
    let error = crate::call::within(Duration::from_secs(2), call).await.unwrap_err();
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
