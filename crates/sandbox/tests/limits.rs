//! Twilio's documented limits as the sandbox enforces them by default, the sandbox clock and the timers that run
//! on it, each through real HTTP. Fixtures too large to build request by request are seeded through the control
//! API, which no limit applies to.

mod common;

use common::{Harness, CUSTOMER, SENDER};
use serde_json::{json, Value};

const SYSTEM: &str = r#"{"identity":"system"}"#;

fn customer(n: usize) -> String {
  format!("whatsapp:+1555{n:07}")
}

fn with_binding(address: &str) -> String {
  json!({"messaging_binding": {"address": address, "proxy_address": SENDER}}).to_string()
}

impl Harness {
  async fn seed(&self, conversations: Value) -> Value {
    let answer = self.control("/conversations", conversations).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body
  }

  async fn limits(&self, patch: Value) -> Value {
    let answer = self.control("/limits", patch).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
  }

  async fn advance(&self, by: &str) {
    let answer = self.control("/clock", json!({ "advance": by })).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
  }

  async fn conversation_count(&self) -> usize {
    self.get("/v1/Conversations?PageSize=100").await.body["conversations"]
      .as_array()
      .map_or(0, Vec::len)
  }

  /// ConversationWithParticipants for a customer and the system identity, with no unique name.
  async fn with_system(&self, address: &str) -> common::Answer {
    self
      .post(
        "/v1/ConversationWithParticipants",
        &[("Participant", &with_binding(address)), ("Participant", SYSTEM)],
      )
      .await
  }

  /// A seeded conversation's SID.
  async fn seeded_sid(&self, conversation: Value) -> String {
    self.seed(conversation).await["conversations"][0]["sid"]
      .as_str()
      .unwrap_or_default()
      .to_string()
  }

  async fn add_identity(&self, sid: &str, identity: &str) -> common::Answer {
    self
      .post(
        &format!("/v1/Conversations/{sid}/Participants"),
        &[("Identity", identity)],
      )
      .await
  }

  async fn message(&self, sid: &str) -> common::Answer {
    self
      .post(&format!("/v1/Conversations/{sid}/Messages"), &[("Body", "hi")])
      .await
  }
}

#[tokio::test]
async fn an_identity_in_1000_open_conversations_is_refused_one_more_with_50214_and_403() {
  let h = Harness::start().await;
  let seeds: Vec<Value> = (0..1000)
    .map(|_| json!({ "participants": [{ "identity": "agent" }] }))
    .collect();
  h.seed(Value::Array(seeds)).await;
  let sid = h.empty_conversation().await;
  let refused = h.add_identity(&sid, "agent").await;
  assert_eq!(
    (refused.status, Harness::code(&refused)),
    (403, 50214),
    "{}",
    refused.body
  );
  assert!(refused.body["message"].as_str().unwrap().contains("1000"));
  // Another identity is not affected.
  let other = h.add_identity(&sid, "other").await;
  assert_eq!(other.status, 201);
}

#[tokio::test]
async fn conversation_with_participants_over_the_identity_limit_is_refused_whole_and_stores_nothing() {
  let h = Harness::start().await;
  h.limits(json!({ "conversations_per_identity": 2 })).await;
  h.conversation("first", &customer(1)).await;
  h.conversation("second", &customer(2)).await;
  let before = h.conversation_count().await;
  let refused = h
    .post(
      "/v1/ConversationWithParticipants",
      &[
        ("UniqueName", "third"),
        ("Participant", &with_binding(&customer(3))),
        ("Participant", SYSTEM),
      ],
    )
    .await;
  assert_eq!((refused.status, Harness::code(&refused)), (403, 50214));
  assert_eq!(h.conversation_count().await, before);
  assert_eq!(h.get("/v1/Conversations/third").await.status, 404);
  // The customer's binding was not taken: the same conversation without the identity goes through.
  let alone = h
    .post(
      "/v1/ConversationWithParticipants",
      &[("UniqueName", "third"), ("Participant", &with_binding(&customer(3)))],
    )
    .await;
  assert_eq!(alone.status, 201, "{}", alone.body);
}

#[tokio::test]
async fn closing_a_conversation_frees_its_identity_slot_and_deleting_one_does_too() {
  let h = Harness::start().await;
  h.limits(json!({ "conversations_per_identity": 2 })).await;
  let first = h.conversation("first", &customer(1)).await;
  let second = h.conversation("second", &customer(2)).await;
  let create_third = || async { h.with_system(&customer(3)).await };
  assert_eq!(create_third().await.status, 403);
  // An inactive conversation still counts.
  h.post(&format!("/v1/Conversations/{first}"), &[("State", "inactive")])
    .await;
  assert_eq!(create_third().await.status, 403);
  h.post(&format!("/v1/Conversations/{first}"), &[("State", "closed")])
    .await;
  let third = create_third().await;
  assert_eq!(third.status, 201, "{}", third.body);
  h.delete(&format!("/v1/Conversations/{second}")).await;
  let fourth = h.with_system(&customer(4)).await;
  assert_eq!(fourth.status, 201, "{}", fourth.body);
}

#[tokio::test]
async fn a_conversation_holds_1000_participants_then_refuses_with_50417() {
  let h = Harness::start().await;
  let participants: Vec<Value> = (0..1000).map(|i| json!({ "identity": format!("user{i}") })).collect();
  let sid = h.seeded_sid(json!({ "participants": participants })).await;
  let refused = h.add_identity(&sid, "one-more").await;
  assert_eq!((refused.status, Harness::code(&refused)), (403, 50417));
}

#[tokio::test]
async fn a_conversation_holds_50_non_chat_participants_then_refuses_with_50422() {
  let h = Harness::start().await;
  let participants: Vec<Value> = (0..50)
    .map(|i| json!({ "address": customer(i), "proxy_address": SENDER }))
    .collect();
  let sid = h.seeded_sid(json!({ "participants": participants })).await;
  let path = format!("/v1/Conversations/{sid}/Participants");
  let refused = h
    .post(
      &path,
      &[
        ("MessagingBinding.Address", &customer(50)),
        ("MessagingBinding.ProxyAddress", SENDER),
      ],
    )
    .await;
  assert_eq!((refused.status, Harness::code(&refused)), (403, 50422));
  // Chat participants still fit.
  assert_eq!(h.post(&path, &[("Identity", "agent")]).await.status, 201);
}

#[tokio::test]
async fn conversation_with_participants_takes_at_most_10_participants_else_50426() {
  let h = Harness::start().await;
  let participants: Vec<String> = (0..11)
    .map(|i| json!({ "identity": format!("user{i}") }).to_string())
    .collect();
  let form: Vec<(&str, &str)> = participants.iter().map(|p| ("Participant", p.as_str())).collect();
  let refused = h.post("/v1/ConversationWithParticipants", &form).await;
  assert_eq!((refused.status, Harness::code(&refused)), (400, 50426));
  assert_eq!(h.conversation_count().await, 0);
  assert_eq!(
    h.post("/v1/ConversationWithParticipants", &form[..10]).await.status,
    201
  );
}

#[tokio::test]
async fn thirty_writes_per_second_per_conversation_then_429_with_20429_and_reads_are_not_limited() {
  let h = Harness::start().await;
  let sid = h.conversation("busy", CUSTOMER).await;
  let other = h.conversation("quiet", &customer(1)).await;
  for _ in 0..30 {
    assert_eq!(h.message(&sid).await.status, 201);
  }
  let refused = h.message(&sid).await;
  assert_eq!(
    (refused.status, Harness::code(&refused)),
    (429, 20429),
    "{}",
    refused.body
  );
  // Participants and updates of the same conversation count too; reads and other conversations do not.
  assert_eq!(h.add_identity(&sid, "agent").await.status, 429);
  assert_eq!(
    h.post(&format!("/v1/Conversations/{sid}"), &[("FriendlyName", "x")])
      .await
      .status,
    429
  );
  for _ in 0..50 {
    assert_eq!(h.get(&format!("/v1/Conversations/{sid}/Messages")).await.status, 200);
  }
  assert_eq!(h.message(&other).await.status, 201);
  // A second later on the sandbox's clock, the window has room again.
  h.advance("PT1S").await;
  assert_eq!(h.message(&sid).await.status, 201);
  let limits = h.get("/__sandbox/limits").await;
  assert_eq!(limits.body["refused_writes"], 3);
}

#[tokio::test]
async fn thirty_conversation_creations_per_second_per_service_then_429() {
  let h = Harness::start().await;
  for i in 0..30 {
    let created = h.post("/v1/Conversations", &[("UniqueName", &format!("c{i}"))]).await;
    assert_eq!(created.status, 201);
  }
  let refused = h
    .post(
      "/v1/ConversationWithParticipants",
      &[("Participant", &with_binding(CUSTOMER))],
    )
    .await;
  assert_eq!((refused.status, Harness::code(&refused)), (429, 20429));
  assert_eq!(h.delete("/v1/Conversations/c0").await.status, 429);
  // Nothing was stored by the refused creation.
  assert_eq!(h.conversation_count().await, 30);
}

#[tokio::test]
async fn the_rate_limit_can_be_switched_off_and_a_reset_restores_it() {
  let h = Harness::start().await;
  let limits = h.limits(json!({ "writes_per_second": null })).await;
  assert_eq!(limits["writes_per_second"], Value::Null);
  let sid = h.conversation("busy", CUSTOMER).await;
  for _ in 0..40 {
    assert_eq!(h.message(&sid).await.status, 201);
  }
  h.control("/reset", json!({})).await;
  assert_eq!(h.get("/__sandbox/limits").await.body["writes_per_second"], 30);
  let refused = h.control("/limits", json!({ "no_such_limit": 1 })).await;
  assert_eq!(refused.status, 400);
  assert!(refused.body["error"].as_str().unwrap().contains("no_such_limit"));
}

#[tokio::test]
async fn attributes_are_limited_to_16kb_on_a_conversation_and_4kb_on_a_message_or_participant() {
  let h = Harness::start().await;
  let json_of = |bytes: usize| format!("{{\"k\":\"{}\"}}", "x".repeat(bytes - 8));
  assert_eq!(json_of(100).len(), 100);
  let at_limit = h
    .post("/v1/Conversations", &[("Attributes", &json_of(16 * 1024))])
    .await;
  assert_eq!(at_limit.status, 201);
  let over = h
    .post("/v1/Conversations", &[("Attributes", &json_of(16 * 1024 + 1))])
    .await;
  assert_eq!((over.status, Harness::code(&over)), (400, 20001));
  let sid = at_limit.body["sid"].as_str().unwrap().to_string();
  let messages = format!("/v1/Conversations/{sid}/Messages");
  let ok = h
    .post(&messages, &[("Body", "hi"), ("Attributes", &json_of(4 * 1024))])
    .await;
  assert_eq!(ok.status, 201);
  let over = h
    .post(&messages, &[("Body", "hi"), ("Attributes", &json_of(4 * 1024 + 1))])
    .await;
  assert_eq!(over.status, 400);
  let participants = format!("/v1/Conversations/{sid}/Participants");
  let over = h
    .post(
      &participants,
      &[("Identity", "a"), ("Attributes", &json_of(4 * 1024 + 1))],
    )
    .await;
  assert_eq!(over.status, 400);
  let not_json = h.post(&participants, &[("Identity", "a"), ("Attributes", "{")]).await;
  assert_eq!(not_json.status, 400);
  assert_eq!(
    h.post(&participants, &[("Identity", "a"), ("Attributes", "{}")])
      .await
      .status,
    201
  );
}

#[tokio::test]
async fn conversation_with_participants_can_answer_202_initializing_and_refuses_writes_until_ready() {
  let h = Harness::start().await;
  h.limits(json!({ "initializing_ms": 60_000 })).await;
  let answer = h
    .post(
      "/v1/ConversationWithParticipants",
      &[("UniqueName", "slow"), ("Participant", &with_binding(CUSTOMER))],
    )
    .await;
  assert_eq!(answer.status, 202);
  assert_eq!(answer.body["state"], "initializing");
  let sid = answer.body["sid"].as_str().unwrap().to_string();
  let refused = h.message(&sid).await;
  assert_eq!((refused.status, Harness::code(&refused)), (409, 50399));
  assert_eq!(h.get("/v1/Conversations/slow").await.body["state"], "initializing");
  h.advance("PT1M").await;
  assert_eq!(h.get("/v1/Conversations/slow").await.body["state"], "active");
  assert_eq!(h.message(&sid).await.status, 201);
}

#[tokio::test]
async fn timers_need_a_state_and_their_minimums_on_create() {
  let h = Harness::start().await;
  let without_state = h.post("/v1/Conversations", &[("Timers.Inactive", "PT5M")]).await;
  assert_eq!(Harness::code(&without_state), 50382);
  let short = h
    .post(
      "/v1/Conversations",
      &[("State", "active"), ("Timers.Inactive", "PT30S")],
    )
    .await;
  assert_eq!(Harness::code(&short), 50375);
  let short = h
    .post("/v1/Conversations", &[("State", "active"), ("Timers.Closed", "PT9M")])
    .await;
  assert_eq!(Harness::code(&short), 50376);
  let garbled = h
    .post(
      "/v1/Conversations",
      &[("State", "active"), ("Timers.Closed", "ten minutes")],
    )
    .await;
  assert_eq!(garbled.status, 400);
  let fine = h
    .post(
      "/v1/Conversations",
      &[
        ("State", "active"),
        ("Timers.Inactive", "PT1M"),
        ("Timers.Closed", "PT10M"),
      ],
    )
    .await;
  assert_eq!(fine.status, 201, "{}", fine.body);
  let created = chrono::DateTime::parse_from_rfc3339(fine.body["date_created"].as_str().unwrap()).unwrap();
  let inactive = chrono::DateTime::parse_from_rfc3339(fine.body["timers"]["date_inactive"].as_str().unwrap()).unwrap();
  let closed = chrono::DateTime::parse_from_rfc3339(fine.body["timers"]["date_closed"].as_str().unwrap()).unwrap();
  assert!((inactive - created).num_seconds().abs_diff(60) <= 1);
  assert!((closed - created).num_seconds().abs_diff(600) <= 1);
}

#[tokio::test]
async fn timers_run_on_the_sandbox_clock_a_message_wakes_the_conversation_and_closing_releases_the_binding() {
  let h = Harness::start().await;
  let participant = with_binding(CUSTOMER);
  let created = h
    .post(
      "/v1/ConversationWithParticipants",
      &[
        ("UniqueName", "timed"),
        ("State", "active"),
        ("Timers.Inactive", "PT1M"),
        ("Timers.Closed", "PT10M"),
        ("Participant", &participant),
        ("Participant", SYSTEM),
      ],
    )
    .await;
  assert_eq!(created.status, 201, "{}", created.body);
  let sid = created.body["sid"].as_str().unwrap().to_string();
  h.advance("PT61S").await;
  assert_eq!(h.get("/v1/Conversations/timed").await.body["state"], "inactive");
  // A message makes it active again and starts both timers afresh.
  assert_eq!(h.message(&sid).await.status, 201);
  assert_eq!(h.get("/v1/Conversations/timed").await.body["state"], "active");
  h.advance("PT9M").await;
  assert_eq!(h.get("/v1/Conversations/timed").await.body["state"], "inactive");
  h.advance("PT2M").await;
  assert_eq!(h.get("/v1/Conversations/timed").await.body["state"], "closed");
  assert_eq!(Harness::code(&h.message(&sid).await), 50377);
  // The binding and the identity's slot are free for the customer's next conversation.
  let next = h.with_system(CUSTOMER).await;
  assert_eq!(next.status, 201, "{}", next.body);
}

#[tokio::test]
async fn timers_can_be_set_by_an_update() {
  let h = Harness::start().await;
  let sid = h.conversation("later", CUSTOMER).await;
  let updated = h
    .post(&format!("/v1/Conversations/{sid}"), &[("Timers.Closed", "PT10M")])
    .await;
  assert_eq!(updated.status, 200, "{}", updated.body);
  assert!(updated.body["timers"]["date_closed"].is_string());
  h.advance("PT10M").await;
  assert_eq!(h.get("/v1/Conversations/later").await.body["state"], "closed");
}
