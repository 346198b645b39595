//! The client keeps delivering through Twilio's documented limits, against a sandbox that enforces them at
//! Twilio's values (1,000 conversations per identity, lowered where the promise holds at any value), 30 writes per
//! second, `initializing` conversations, timers on the sandbox's clock.

mod common;

use std::sync::Arc;

use common::{Setup, PHONE};
use futures::StreamExt;
use serde_json::json;
use twilio_core::{Client, Error};

fn number(i: usize) -> String {
  format!("+1555{i:07}")
}

/// Sends a first message to each number, `concurrency` at a time; every send must succeed.
async fn first_messages(client: &Arc<Client>, numbers: impl Iterator<Item = usize>, concurrency: usize) {
  let results: Vec<Result<_, Error>> = futures::stream::iter(numbers)
    .map(|i| {
      let client = client.clone();
      async move { client.send_message(&number(i), &format!("hello {i}"), None, None).await }
    })
    .buffer_unordered(concurrency)
    .collect()
    .await;
  for result in results {
    result.expect("delivered");
  }
}

impl Setup {
  /// How many answers of each status the sandbox gave to ConversationWithParticipants.
  fn creations_answered(&self, status: u16) -> usize {
    self
      .sandbox
      .received_requests()
      .iter()
      .filter(|r| r.path == "/v1/ConversationWithParticipants" && r.status == status)
      .count()
  }

  fn with_identity(&self, identity: &str) -> usize {
    let state = self.sandbox.state();
    state
      .conversations
      .values()
      .filter(|c| c.participants.iter().any(|p| p.identity.as_deref() == Some(identity)))
      .count()
  }

  /// Every conversation holds its customer's binding and exactly the one message sent to it.
  fn assert_each_customer_has_their_message(&self, customers: usize) {
    let state = self.sandbox.state();
    assert_eq!(state.conversations.len(), customers);
    for conversation in state.conversations.values() {
      let customer = conversation
        .participants
        .iter()
        .find_map(|p| p.binding.as_ref())
        .expect("the customer is a participant");
      let digits = customer.address.trim_start_matches("whatsapp:+1555");
      assert_eq!(conversation.messages.len(), 1, "{}", conversation.sid);
      let body = conversation.messages[0].body.as_deref().unwrap_or_default();
      assert_eq!(
        body,
        format!("hello {}", digits.trim_start_matches('0').parse::<usize>().unwrap_or(0))
      );
    }
  }
}

#[tokio::test]
async fn past_the_identity_limit_the_system_identity_is_left_out_once_refused_and_every_customer_is_delivered() {
  let s = Setup::new().await;
  // Twilio's 1,000 conversations an identity (the sandbox's default, crates/sandbox/tests/limits.rs) at 30 creations a
  // second would take 37 s; the promise is the same at 50.
  s.control("/limits", json!({ "conversations_per_identity": 50 })).await;
  let client = Arc::new(s.client(|_| {}));
  first_messages(&client, 0..50, 50).await;
  assert_eq!(s.with_identity("system"), 50);
  assert!(client.log().take().is_empty());
  first_messages(&client, 50..60, 1).await;
  s.assert_each_customer_has_their_message(60);
  assert_eq!(s.with_identity("system"), 50, "the identity limit held");
  assert_eq!(
    s.creations_answered(403),
    1,
    "only the first customer past the limit paid for the refusal"
  );
  let warnings = client.log().take();
  assert_eq!(warnings.len(), 1, "{warnings:?}");
  assert!(warnings[0].message.contains("50214"), "{}", warnings[0].message);
  assert!(
    !warnings[0].message.contains("555"),
    "no customer number in the warning"
  );
}

#[tokio::test]
async fn with_never_the_system_identity_joins_no_conversation_and_still_authors_the_messages() {
  let s = Setup::new().await;
  let client = Arc::new(s.client(|o| o.system_participant = Some("never".into())));
  first_messages(&client, 0..3, 3).await;
  s.assert_each_customer_has_their_message(3);
  assert_eq!(s.with_identity("system"), 0);
  let state = s.sandbox.state();
  assert!(state
    .conversations
    .values()
    .all(|c| c.participants.len() == 1 && c.messages[0].author == "system"));
}

#[tokio::test]
async fn with_always_a_refused_system_identity_fails_the_send_and_creates_nothing() {
  let s = Setup::new().await;
  s.control("/limits", json!({ "conversations_per_identity": 1 })).await;
  let client = Arc::new(s.client(|o| o.system_participant = Some("always".into())));
  first_messages(&client, 0..1, 1).await;
  let refused = client.send_message(&number(1), "hello", None, None).await.unwrap_err();
  assert_eq!(refused.twilio_code(), Some(50214));
  assert_eq!(s.conversations(), 1);
}

#[tokio::test]
async fn with_auto_concurrent_refusals_raise_one_warning() {
  let s = Setup::new().await;
  s.control("/limits", json!({ "conversations_per_identity": 0 })).await;
  let client = Arc::new(s.client(|_| {}));
  first_messages(&client, 0..20, 20).await;
  s.assert_each_customer_has_their_message(20);
  assert_eq!(client.log().take().len(), 1);
}

#[tokio::test]
async fn a_burst_of_150_messages_to_one_customer_lands_completely_each_once() {
  let s = Setup::new().await;
  let client = Arc::new(s.client(|_| {}));
  client.send_message(PHONE, "first", None, None).await.unwrap();
  let sends = (0..150).map(|i| {
    let client = client.clone();
    async move { client.send_message(PHONE, &format!("burst {i}"), None, None).await }
  });
  for result in futures::future::join_all(sends).await {
    result.expect("delivered");
  }
  let mut bodies = s.messages_in("whatsapp_1234567890");
  assert_eq!(bodies.remove(0), "first");
  bodies.sort();
  let mut expected: Vec<String> = (0..150).map(|i| format!("burst {i}")).collect();
  expected.sort();
  assert_eq!(bodies, expected, "each of the 150 exactly once");
}

#[tokio::test]
async fn messages_sent_one_after_another_keep_their_order_through_the_pacing() {
  let s = Setup::new().await;
  let client = s.client(|o| o.writes_per_second = Some(10));
  let sent: Vec<String> = (0..25).map(|i| format!("in order {i}")).collect();
  for body in &sent {
    client.send_message(PHONE, body, None, None).await.unwrap();
  }
  assert_eq!(s.messages_in("whatsapp_1234567890"), sent);
}

#[tokio::test]
async fn first_messages_to_conversations_still_initializing_are_delivered_once() {
  let s = Setup::new().await;
  s.control("/limits", json!({ "initializing_ms": 400 })).await;
  let client = Arc::new(s.client(|_| {}));
  // Five customers, three first messages each, all at once.
  let sends = (0..15).map(|i| {
    let client = client.clone();
    async move {
      client
        .send_message(&number(i % 5), &format!("hello {i}"), None, None)
        .await
    }
  });
  for result in futures::future::join_all(sends).await {
    result.expect("delivered");
  }
  assert_eq!(s.creations_answered(202), 5, "Twilio answered initializing");
  let state = s.sandbox.state();
  assert_eq!(state.conversations.len(), 5);
  assert!(state.conversations.values().all(|c| c.messages.len() == 3));
  let refused = state.log.iter().filter(|r| r.status == 409).count();
  assert_eq!(refused, 0, "no write reached a conversation before it was ready");
}

#[tokio::test]
async fn conversations_get_the_configured_timers_and_after_the_closed_timer_the_next_message_opens_the_next_one() {
  let s = Setup::new().await;
  let client = s.client(|o| {
    o.inactive_after = Some("PT5M".into());
    o.closed_after = Some("PT10M".into());
  });
  client.send_message(PHONE, "before", None, None).await.unwrap();
  {
    let state = s.sandbox.state();
    let first = state.find_conversation("whatsapp_1234567890").unwrap();
    assert!(first.timers.date_inactive.is_some() && first.timers.date_closed.is_some());
  }
  s.control("/clock", json!({ "advance": "PT6M" })).await;
  assert_eq!(
    s.sandbox
      .state()
      .find_conversation("whatsapp_1234567890")
      .unwrap()
      .state
      .as_str(),
    "inactive"
  );
  s.control("/clock", json!({ "advance": "PT10M" })).await;
  client.send_message(PHONE, "after", None, None).await.unwrap();
  assert_eq!(s.messages_in("whatsapp_1234567890"), ["before"]);
  assert_eq!(s.messages_in("whatsapp_1234567890_2"), ["after"]);
  let state = s.sandbox.state();
  assert_eq!(
    state.find_conversation("whatsapp_1234567890").unwrap().state.as_str(),
    "closed"
  );
}
