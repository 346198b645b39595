//! Calling webhooks as Twilio does: form-encoded (or in the query string for `GET`), signed with the auth token
//! in `X-Twilio-Signature`, with a 5-second timeout, and an `I-Twilio-Idempotency-Token` that stays the same on each
//! retry. A failed connection is retried as Twilio's connection overrides say (the URL's `#rc=…&ct=…&rt=…&rp=…`
//! fragment; by default once, `rp=5xx` or `rp=all` also retrying 5xx answers), the payload's `RetryCount` counting
//! up. Post-action events go out from one task, in the order they happened (unless held, then released in another
//! order), never holding the state's lock and never delaying an API answer. Every attempt is recorded.

use std::time::{Duration, Instant};

use base64::Engine;
use ring::hmac;

use crate::app::App;
use crate::events::{post_event, Form};
use crate::render::iso_millis;
use crate::state::outbox::Attempt;
use crate::state::webhooks::Target;

/// "Conversations webhooks have a maximum timeout of 5 seconds."
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the task looks for receipts and timers that came due with no request to notice them.
const TICK: Duration = Duration::from_millis(100);

/// Twilio's `X-Twilio-Signature`: HMAC-SHA1 over the URL and the parameters sorted by name (then value), Base64.
/// Written apart from the client's validator on purpose: the tests check each against the other and against the
/// official `twilio` package, which one shared function could not.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
  let mut sorted: Vec<&(String, String)> = params.iter().collect();
  sorted.sort();
  sorted.dedup();
  let mut data = url.to_string();
  for (name, value) in sorted {
    data.push_str(name);
    data.push_str(value);
  }
  let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
  base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, data.as_bytes()).as_ref())
}

/// Twilio's connection overrides, from the fragment of a webhook URL.
struct Overrides {
  /// Retries after a failed connection (`rc`, 0 to 5, default 1).
  retries: u32,
  /// Also retry 5xx answers (`rp=5xx` or `rp=all`).
  retry_5xx: bool,
  connect_timeout: Duration,
  read_timeout: Duration,
}

impl Overrides {
  fn of(url: &str) -> Self {
    let mut overrides = Self {
      retries: 1,
      retry_5xx: false,
      connect_timeout: WEBHOOK_TIMEOUT,
      read_timeout: WEBHOOK_TIMEOUT,
    };
    let fragment = url.split_once('#').map_or("", |(_, fragment)| fragment);
    let ms = |value: &str, min: u64, max: u64| {
      value
        .parse::<u64>()
        .ok()
        .map(|ms| Duration::from_millis(ms.clamp(min, max)))
    };
    for (name, value) in form_urlencoded::parse(fragment.as_bytes()) {
      match name.as_ref() {
        "rc" => overrides.retries = value.parse::<u32>().map_or(1, |n| n.min(5)),
        "rp" => overrides.retry_5xx = matches!(value.as_ref(), "5xx" | "all"),
        "ct" => overrides.connect_timeout = ms(&value, 100, 10_000).unwrap_or(WEBHOOK_TIMEOUT),
        // Conversations waits 5 seconds at most, whatever the override asks.
        "rt" => overrides.read_timeout = ms(&value, 100, 15_000).unwrap_or(WEBHOOK_TIMEOUT).min(WEBHOOK_TIMEOUT),
        _ => {}
      }
    }
    overrides
  }
}

/// What a webhook answered: its status and body, or why there was no answer.
pub struct Answer {
  pub status: Option<u16>,
  pub body: String,
}

fn encode(params: &[(String, String)]) -> String {
  form_urlencoded::Serializer::new(String::new())
    .extend_pairs(params)
    .finish()
}

/// Calls one target with one event's parameters, retrying as its connection overrides say, and gives back the last
/// answer.
pub async fn call(app: &App, target: &Target, event_type: &str, form: Form) -> Answer {
  let overrides = Overrides::of(&target.url);
  let token = uuid::Uuid::new_v4().to_string();
  let mut retry = 0;
  loop {
    let mut form = Form(form.0.clone());
    for (name, value) in &mut form.0 {
      if name == "RetryCount" {
        *value = retry.to_string();
      }
    }
    let answer = attempt(app, target, event_type, form, &token, retry, &overrides).await;
    let failed = match answer.status {
      None => true,
      Some(status) => overrides.retry_5xx && status >= 500,
    };
    if !failed || retry >= overrides.retries {
      return answer;
    }
    retry += 1;
  }
}

/// One attempt: signed for the URL configured (its fragment included), sent where a route says, recorded.
async fn attempt(
  app: &App,
  target: &Target,
  event_type: &str,
  form: Form,
  token: &str,
  retry: u32,
  overrides: &Overrides,
) -> Answer {
  let (auth_token, routed) = {
    let state = app.lock();
    (state.account.auth_token.clone(), state.outbox.route(&target.url))
  };
  let get = target.method.eq_ignore_ascii_case("GET");
  let with_query = |base: &str| {
    let (base, fragment) = base.split_once('#').map_or((base, None), |(b, f)| (b, Some(f)));
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}{}", encode(&form.0));
    fragment.map_or(url.clone(), |fragment| format!("{url}#{fragment}"))
  };
  let (url, signed_params) = if get {
    (with_query(&target.url), Vec::new())
  } else {
    (target.url.clone(), form.0.clone())
  };
  let signature = signature(&auth_token, &url, &signed_params);
  let sent_to = match &routed {
    Some(routed) if get => with_query(routed),
    Some(routed) => routed.clone(),
    None => url.clone(),
  };
  // The fragment is the overrides', not the server's: it is not sent.
  let wire = sent_to.split_once('#').map_or(sent_to.as_str(), |(url, _)| url);
  let request = if get {
    app.webhook_http.get(wire)
  } else {
    app
      .webhook_http
      .post(wire)
      .header("content-type", "application/x-www-form-urlencoded")
      .body(encode(&form.0))
  };
  let started = Instant::now();
  let outcome = tokio::time::timeout(
    overrides.connect_timeout + overrides.read_timeout,
    request
      .header("x-twilio-signature", &signature)
      .header("i-twilio-idempotency-token", token)
      .header("user-agent", "TwilioProxy/1.1")
      .timeout(overrides.read_timeout)
      .send(),
  )
  .await;
  let answer = match outcome {
    Err(_elapsed) => Answer {
      status: None,
      body: "timed out".to_string(),
    },
    Ok(Ok(response)) => {
      let status = response.status().as_u16();
      Answer {
        status: Some(status),
        body: response.text().await.unwrap_or_default(),
      }
    }
    Ok(Err(error)) => Answer {
      status: None,
      body: if error.is_timeout() {
        format!("timed out after {} ms", overrides.read_timeout.as_millis())
      } else {
        format!("could not connect: {}", error.without_url())
      },
    },
  };
  let mut state = app.lock();
  let seq = state.next_seq();
  let at = iso_millis(state.now());
  state.outbox.attempts.push(Attempt {
    seq,
    at,
    event_type: event_type.to_string(),
    scope: target.scope.clone(),
    url: target.url.clone(),
    method: target.method.to_uppercase(),
    params: crate::params::Params(form.0).to_json(),
    signature,
    delivered_to: routed.map(|_| wire.to_string()),
    idempotency_token: token.to_string(),
    retry,
    status: answer.status,
    error: answer.status.is_none().then(|| answer.body.clone()),
    duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
  });
  drop(state);
  app.attempted.send_modify(|count| *count += 1);
  answer
}

/// The delivery task: wakes when a request may have recorded events, and every 100 ms for what comes due on the
/// clock; sends what is pending, in order.
pub async fn run(app: App) {
  loop {
    tokio::select! {
      _ = app.webhooks_wake.notified() => {}
      _ = tokio::time::sleep(TICK) => {}
    }
    let batch = {
      let mut state = app.lock();
      if state.outbox.held {
        continue;
      }
      std::mem::take(&mut state.outbox.pending)
    };
    for pending in batch {
      let event_type = pending.event.event_type();
      let (targets, form) = {
        let state = app.lock();
        let conversation = state.conversations.get(pending.event.conversation_sid());
        let targets = state.post_targets(event_type, conversation);
        (targets, post_event(&state.account, &pending.event, pending.source))
      };
      for target in targets {
        call(&app, &target, event_type, Form(form.0.clone())).await;
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::{signature, Overrides, WEBHOOK_TIMEOUT};
  use std::time::Duration;

  #[test]
  fn connection_overrides_come_from_the_fragment_within_twilios_ranges() {
    let default = Overrides::of("https://example.com/hooks");
    assert_eq!((default.retries, default.retry_5xx), (1, false));
    let set = Overrides::of("https://example.com/hooks?x=1#rc=9&rp=5xx&ct=50&rt=20000");
    assert_eq!((set.retries, set.retry_5xx), (5, true));
    assert_eq!(set.connect_timeout, Duration::from_millis(100));
    assert_eq!(set.read_timeout, WEBHOOK_TIMEOUT, "Conversations waits 5 s at most");
    assert_eq!(Overrides::of("https://example.com/hooks#rc=0&rt=250").retries, 0);
  }

  fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
  }

  #[test]
  fn signs_as_twilios_own_test_vectors_expect() {
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let call = params(&[
      ("CallSid", "CA1234567890ABCDE"),
      ("Caller", "+14158675309"),
      ("Digits", "1234"),
      ("From", "+14158675309"),
      ("To", "+18005551212"),
    ]);
    assert_eq!(signature("12345", url, &call), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    let repeated = params(&[
      ("Sid", "CA123"),
      ("SidAccount", "AC123"),
      ("Digits", "5678"),
      ("Digits", "1234"),
      ("Digits", "1234"),
    ]);
    assert_eq!(signature("12345", url, &repeated), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
  }
}
