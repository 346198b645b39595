//! Calling webhooks as Twilio does: form-encoded (or in the query string for `GET`), signed with the auth token
//! in `X-Twilio-Signature`, with a 5-second timeout. Post-action events go out from one task, in the order they
//! happened, never holding the state's lock and never delaying an API answer. Every attempt is recorded.

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

/// Calls one target with one event's parameters, records the attempt, and gives back the answer.
pub async fn call(app: &App, target: &Target, event_type: &str, form: Form) -> Answer {
  let auth_token = app.lock().account.auth_token.clone();
  let get = target.method.eq_ignore_ascii_case("GET");
  let (url, signed_params) = if get {
    let separator = if target.url.contains('?') { '&' } else { '?' };
    (format!("{}{separator}{}", target.url, encode(&form.0)), Vec::new())
  } else {
    (target.url.clone(), form.0.clone())
  };
  let signature = signature(&auth_token, &url, &signed_params);
  let request = if get {
    app.webhook_http.get(&url)
  } else {
    app
      .webhook_http
      .post(&url)
      .header("content-type", "application/x-www-form-urlencoded")
      .body(encode(&form.0))
  };
  let started = Instant::now();
  let outcome = request
    .header("x-twilio-signature", &signature)
    .header("user-agent", "TwilioProxy/1.1")
    .timeout(WEBHOOK_TIMEOUT)
    .send()
    .await;
  let answer = match outcome {
    Ok(response) => {
      let status = response.status().as_u16();
      Answer {
        status: Some(status),
        body: response.text().await.unwrap_or_default(),
      }
    }
    Err(error) => Answer {
      status: None,
      body: if error.is_timeout() {
        "timed out after 5 s".to_string()
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
    status: answer.status,
    error: answer.status.is_none().then(|| answer.body.clone()),
    duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
  });
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
    let batch = std::mem::take(&mut app.lock().outbox.pending);
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
  use super::signature;

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
