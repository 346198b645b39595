//! Property tests over every parser of what Twilio, a proxy and Redis send: headers, error bodies, pages and their
//! `next_page_url`, records, templates, webhook bodies, Retry-After, Redis's replies. Whatever arrives, no panic,
//! no hang, bounded output. `npm test` runs a few hundred cases of each; `npm run fuzz` runs them at length
//! (`PROPTEST_CASES`).

use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;

use crate::error::Error;
use crate::records::{
  ApprovalRecord, ContentRecord, ConversationRecord, ListedMessage, MessageResource, Page, ParticipantRecord,
  ReceiptRecord,
};

/// Names Twilio's answers use, and others: a generated object hits the fields the records read.
fn field() -> impl Strategy<Value = String> {
  prop_oneof![
    Just("meta".to_string()),
    Just("key".to_string()),
    Just("next_page_url".to_string()),
    Just("messages".to_string()),
    Just("conversations".to_string()),
    Just("participants".to_string()),
    Just("delivery_receipts".to_string()),
    Just("sid".to_string()),
    Just("body".to_string()),
    Just("author".to_string()),
    Just("attributes".to_string()),
    Just("index".to_string()),
    Just("date_created".to_string()),
    Just("code".to_string()),
    Just("message".to_string()),
    Just("details".to_string()),
    Just("status".to_string()),
    Just("types".to_string()),
    Just("variables".to_string()),
    Just("twilio/text".to_string()),
    Just("messaging_binding".to_string()),
    Just("error_code".to_string()),
    "[a-z_]{1,12}",
  ]
}

fn json() -> impl Strategy<Value = Value> {
  let leaf = prop_oneof![
    Just(Value::Null),
    any::<bool>().prop_map(Value::from),
    any::<i64>().prop_map(Value::from),
    any::<u64>().prop_map(Value::from),
    any::<f64>().prop_filter_map("a JSON number", |f| serde_json::Number::from_f64(f).map(Value::Number)),
    "\\PC{0,24}".prop_map(Value::from),
    "(CH|IM|MB|HX|DY|AC)[0-9a-f]{32}".prop_map(Value::from),
    "https?://[a-z.]{1,20}(:[0-9]{1,6})?/[ -~]{0,30}".prop_map(Value::from),
    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z".prop_map(Value::from),
  ];
  leaf.prop_recursive(4, 96, 8, |inner| {
    prop_oneof![
      prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
      prop::collection::btree_map(field(), inner, 0..10).prop_map(|map| Value::Object(map.into_iter().collect())),
    ]
  })
}

/// Bytes as an answer may come: JSON, JSON cut short, or anything.
fn body() -> impl Strategy<Value = Vec<u8>> {
  prop_oneof![
    json().prop_map(|v| v.to_string().into_bytes()),
    (json(), any::<prop::sample::Index>()).prop_map(|(v, at)| {
      let text = v.to_string().into_bytes();
      let cut = at.index(text.len() + 1);
      text[..cut].to_vec()
    }),
    prop::collection::vec(any::<u8>(), 0..256),
  ]
}

fn read_all(bytes: &[u8]) {
  let _ = serde_json::from_slice::<Page<ListedMessage>>(bytes).map(|mut page| page.take_records("messages"));
  let _ = serde_json::from_slice::<Page<ConversationRecord>>(bytes);
  let _ = serde_json::from_slice::<Page<ParticipantRecord>>(bytes);
  let _ = serde_json::from_slice::<Page<ReceiptRecord>>(bytes);
  let _ = serde_json::from_slice::<MessageResource>(bytes);
  if let (Ok(content), approval) = (
    serde_json::from_slice::<ContentRecord>(bytes),
    serde_json::from_slice::<ApprovalRecord>(bytes).unwrap_or_default(),
  ) {
    let template = crate::templates::Definition::new("HX00000000000000000000000000000000", content, approval);
    let _ = (template.label(), template.approved());
    let _ = template.check(&crate::variables::Checked::default(), false);
    let _ = template.check(&crate::variables::Checked::default(), true);
  }
}

proptest! {
  #[test]
  fn any_retry_after_is_a_bounded_wait(value in prop_oneof![
    "\\PC{0,30}",
    "[0-9]{1,400}",
    "-?[0-9]{0,5}(\\.[0-9]{0,5})?(e[+-]?[0-9]{1,4})?",
    Just("inf".to_string()), Just("NaN".to_string()), Just("1e300".to_string()),
  ]) {
    if let Some(wait) = crate::transport::retry_after_seconds(&value) {
      prop_assert!(wait <= crate::transport::MAX_RETRY_AFTER);
      let _ = crate::call::after(wait);
    }
  }

  #[test]
  fn any_duration_from_outside_makes_an_instant(ms in any::<u64>(), secs in any::<u64>()) {
    let _ = crate::call::after(Duration::from_millis(ms));
    let _ = crate::call::after(Duration::from_secs(secs));
    let _ = crate::call::after(Duration::MAX);
  }

  #[test]
  fn any_error_answer_is_read_bounded_and_masked(status in 100u16..600, bytes in body()) {
    let error = Error::from_response(status, &bytes);
    let shown = error.public_message();
    prop_assert!(shown.chars().count() <= 400, "{} characters", shown.chars().count());
    prop_assert!(!shown.contains('\n'));
    let _ = (error.code(), error.status(), error.twilio_code(), error.is_ambiguous());
  }

  #[test]
  fn any_page_record_or_template_answer_is_read_without_panic(bytes in body()) {
    read_all(&bytes);
  }

  #[test]
  fn any_next_page_url_stays_on_the_clients_origin(page_url in prop_oneof![
    "\\PC{0,60}",
    "(https?:)?//[a-z.@:]{1,30}/[ -~]{0,40}",
    "/v1/[ -~]{0,40}",
  ]) {
    for origin in ["https://conversations.twilio.com", "http://127.0.0.1:4010", "https://proxy.example/twilio/"] {
      if let Some(next) = crate::endpoints::on_origin(origin, &page_url) {
        prop_assert!(next.starts_with(origin.trim_end_matches('/')), "{next}");
        let rest = &next[origin.trim_end_matches('/').len()..];
        prop_assert!(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'), "{next}");
      }
    }
  }

  #[test]
  fn any_webhook_body_is_an_event_every_field_of_one_type(
    params in prop::collection::vec((prop_oneof![field(), "[A-Z][A-Za-z.]{0,20}",
      Just("Index".to_string()), Just("RetryCount".to_string()), Just("Attributes".to_string()),
      Just("Media".to_string()), Just("ErrorCode".to_string()), Just("MessagingBinding.Address".to_string())],
      prop_oneof!["\\PC{0,40}", json().prop_map(|v| v.to_string()), "-?[0-9]{1,30}"]), 0..20)
  ) {
    let event = crate::webhooks::event(&params);
    for name in ["index", "retryCount", "errorCode", "lastReadMessageIndex"] {
      if let Some(value) = event.get(name) {
        prop_assert!(value.is_null() || value.as_i64().is_some_and(|n| n.abs() < 1 << 53), "{name}: {value}");
      }
    }
    // Every number a JavaScript number: none a BigInt, which JSON.stringify refuses.
    fn safe(value: &Value) -> bool {
      match value {
        Value::Number(n) => n.as_i64().is_some_and(|i| i.abs() < 1 << 53) || (n.as_i64().is_none() && n.as_u64().is_none()),
        Value::Array(items) => items.iter().all(safe),
        Value::Object(map) => map.values().all(safe),
        _ => true,
      }
    }
    prop_assert!(event.values().all(safe));
    let _ = crate::signature::is_valid("token", "c2lnbmF0dXJl", "https://example.com/hooks", &params);
  }

  #[test]
  fn any_claim_reply_from_redis_is_read_or_refused(answer in prop::collection::vec(prop_oneof![
    Just("done".to_string()), Just("held".to_string()), Just("claimed".to_string()), "\\PC{0,30}", "[0-9]{1,30}",
  ], 0..4)) {
    let lease = Duration::from_secs(30);
    if let Some(crate::fleet::ClaimAnswer::Held { remaining }) =
      crate::fleet::claim_answer(&answer, "key".to_string(), "owner".to_string(), lease)
    {
      prop_assert!(remaining <= lease);
    }
  }

  #[test]
  fn any_text_from_outside_becomes_one_bounded_masked_line(text in "\\PC{0,2000}|[\\x00-\\x7f\\u{2028}]{0,500}") {
    let line = crate::error::outside(&text);
    prop_assert!(line.chars().count() <= crate::error::MAX_ERROR_TEXT + 1);
    prop_assert!(!line.chars().any(|c| c.is_control() || c == '\u{2028}'), "{}", line);
  }
}
