//! The core against the sandbox over real HTTP: the resolver's call counts and races, the sends, faults.

use std::sync::Arc;

use serde_json::{json, Value};
use twilio_core::{Client, Variables};
use twilio_sandbox::DEFAULT_TEMPLATE_SID;

mod common;

use common::{Setup, PHONE};

fn variables(json: &str) -> Variables {
  Variables::parse(json).unwrap()
}

#[tokio::test]
async fn a_first_message_takes_three_calls_a_cold_one_two_and_a_warm_one_one() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  client.send_message(PHONE, "first", None, None).await.unwrap();
  assert_eq!(s.requests().len(), 3, "{:?}", s.requests());
  s.clear();
  client.send_message(PHONE, "warm", None, None).await.unwrap();
  assert_eq!(s.requests().len(), 1);
  s.clear();
  let cold = s.client(|_| {});
  cold.send_message(PHONE, "cold", None, None).await.unwrap();
  assert_eq!(s.requests().len(), 2, "{:?}", s.requests());
  assert_eq!(s.messages_in("whatsapp_1234567890"), ["first", "warm", "cold"]);
}

#[tokio::test]
async fn a_customer_whose_conversation_is_older_than_120_others_is_found() {
  let s = Setup::new().await;
  let mut seeds = vec![
    json!({"unique_name": "whatsapp_1234567890", "date_created": "2020-01-01T00:00:00Z",
    "participants": [{"address": "whatsapp:+1234567890", "proxy_address": "whatsapp:+14155238886"}, {"identity": "system"}]}),
  ];
  seeds.extend((0..120).map(|i| json!({"unique_name": format!("other_{i}")})));
  s.control("/conversations", Value::Array(seeds)).await;
  let client = s.client(|_| {});
  client.send_message(PHONE, "hello", None, None).await.unwrap();
  assert_eq!(s.messages_in("whatsapp_1234567890"), ["hello"]);
  assert_eq!(s.conversations(), 121);
}

#[tokio::test]
async fn fifty_concurrent_first_messages_make_one_conversation_and_fifty_messages() {
  let s = Setup::new().await;
  let client = Arc::new(s.client(|_| {}));
  let sends = (0..50).map(|i| {
    let client = client.clone();
    tokio::spawn(async move { client.send_message(PHONE, &format!("m{i}"), None, None).await })
  });
  for result in futures::future::join_all(sends).await {
    result.unwrap().unwrap();
  }
  assert_eq!(s.conversations(), 1);
  assert_eq!(s.messages_in("whatsapp_1234567890").len(), 50);
  let creates = s
    .requests()
    .iter()
    .filter(|(_, p)| p.ends_with("ConversationWithParticipants"))
    .count();
  assert_eq!(creates, 1, "single flight");
}

#[tokio::test]
async fn clients_racing_like_separate_processes_end_in_one_conversation() {
  let s = Setup::new().await;
  s.control("/latency", json!({"ms": 30})).await;
  let clients: Vec<Arc<Client>> = (0..4).map(|_| Arc::new(s.client(|_| {}))).collect();
  let sends = clients.iter().flat_map(|client| {
    (0..5).map(move |i| {
      let client = client.clone();
      tokio::spawn(async move { client.send_message(PHONE, &format!("m{i}"), None, None).await })
    })
  });
  for result in futures::future::join_all(sends).await {
    result.unwrap().unwrap();
  }
  assert_eq!(s.conversations(), 1);
  assert_eq!(s.messages_in("whatsapp_1234567890").len(), 20);
  let lost_races = s
    .sandbox
    .received_requests()
    .iter()
    .filter(|r| r.path == "/v1/ConversationWithParticipants" && r.status == 409)
    .count();
  assert!(
    (1..=3).contains(&lost_races),
    "the race happened and was lost with 50353: {lost_races}"
  );
}

#[tokio::test]
async fn a_binding_held_by_another_conversation_is_used_and_no_orphan_is_left() {
  let s = Setup::new().await;
  s.control(
    "/conversations",
    json!({"unique_name": "legacy-support-thread",
    "participants": [{"address": "whatsapp:+1234567890", "proxy_address": "whatsapp:+14155238886"}]}),
  )
  .await;
  let client = s.client(|_| {});
  let sent = client.send_message(PHONE, "hello", None, None).await.unwrap();
  assert_eq!(s.conversations(), 1, "no orphan");
  assert_eq!(s.messages_in("legacy-support-thread"), ["hello"]);
  assert_eq!(
    sent.conversation_sid,
    Some(
      s.sandbox
        .state()
        .find_conversation("legacy-support-thread")
        .unwrap()
        .sid
        .clone()
    )
  );
}

#[tokio::test]
async fn a_closed_conversation_is_never_reused_and_its_successor_is_found_next_time() {
  let s = Setup::new().await;
  s.control(
    "/conversations",
    json!({"unique_name": "whatsapp_1234567890", "state": "closed",
    "participants": [{"address": "whatsapp:+1234567890", "proxy_address": "whatsapp:+14155238886"}]}),
  )
  .await;
  let client = s.client(|_| {});
  client.send_message(PHONE, "one", None, None).await.unwrap();
  assert_eq!(s.messages_in("whatsapp_1234567890_2"), ["one"]);
  let later = s.client(|_| {});
  assert_eq!(
    later.get_conversation(PHONE).await.unwrap(),
    Some(
      s.sandbox
        .state()
        .find_conversation("whatsapp_1234567890_2")
        .unwrap()
        .sid
        .clone()
    )
  );
  later.send_message(PHONE, "two", None, None).await.unwrap();
  assert_eq!(s.messages_in("whatsapp_1234567890_2"), ["one", "two"]);
  assert_eq!(s.conversations(), 2);
}

#[tokio::test]
async fn a_conversation_closed_behind_the_cache_is_noticed_on_the_next_send() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  let first = client.send_message(PHONE, "one", None, None).await.unwrap();
  s.control("/conversations/whatsapp_1234567890", json!({"state": "closed"}))
    .await;
  let second = client.send_message(PHONE, "two", None, None).await.unwrap();
  assert_ne!(first.conversation_sid, second.conversation_sid);
  assert_eq!(s.messages_in("whatsapp_1234567890_2"), ["two"]);
}

#[tokio::test]
async fn a_conversation_deleted_behind_the_cache_is_recreated() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  client.send_message(PHONE, "one", None, None).await.unwrap();
  s.http
    .delete(format!(
      "{}/__sandbox/conversations/whatsapp_1234567890",
      s.sandbox.url()
    ))
    .send()
    .await
    .unwrap();
  client.send_message(PHONE, "two", None, None).await.unwrap();
  assert_eq!(s.messages_in("whatsapp_1234567890"), ["two"]);
}

#[tokio::test]
async fn get_conversation_never_creates() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  assert_eq!(client.get_conversation(PHONE).await.unwrap(), None);
  assert_eq!(s.conversations(), 0);
}

#[tokio::test]
async fn a_template_is_a_message_of_the_conversation() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  let sent = client
    .send_template_message(
      PHONE,
      DEFAULT_TEMPLATE_SID,
      &variables(r#"{"1":"12/1","2":"3pm"}"#),
      false,
      None,
    )
    .await
    .unwrap();
  assert_eq!(
    sent.body.as_deref(),
    Some("Your appointment is coming up on 12/1 at 3pm")
  );
  assert_eq!(
    s.messages_in("whatsapp_1234567890"),
    ["Your appointment is coming up on 12/1 at 3pm"]
  );
}

#[tokio::test]
async fn an_image_by_url_is_uploaded_and_sent_with_its_caption() {
  let s = Setup::new().await;
  let client = s.client(|o| o.media_allow_private_hosts = Some(true));
  let url = format!("{}/__sandbox/image.png", s.sandbox.url());
  let sent = client.send_image_by_url(PHONE, &url, Some("look"), None).await.unwrap();
  let resource: Value = serde_json::from_str(&sent.json).unwrap();
  assert_eq!(resource["media"][0]["content_type"], "image/png");
  assert_eq!(sent.body.as_deref(), Some("look"));
  let refused = s
    .client(|_| {})
    .send_image_by_url(PHONE, &url, None, None)
    .await
    .unwrap_err();
  assert_eq!(refused.code(), "MEDIA_HOST_NOT_ALLOWED");
}

#[tokio::test]
async fn a_429_without_retry_after_is_repeated_and_the_message_lands_once() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  s.control(
    "/faults",
    json!({"method": "POST", "path": "/Messages$", "status": 429, "times": 2}),
  )
  .await;
  client.send_message(PHONE, "once", None, None).await.unwrap();
  assert_eq!(s.messages_in("whatsapp_1234567890"), ["once"]);
}

#[tokio::test]
async fn a_lost_answer_is_checked_and_the_message_is_not_sent_twice() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  client.send_message(PHONE, "warm-up", None, None).await.unwrap();
  s.control(
    "/faults",
    json!({"method": "POST", "path": "/Messages$", "drop": "after"}),
  )
  .await;
  let sent = client.send_message(PHONE, "exactly once", None, None).await.unwrap();
  assert_eq!(s.messages_in("whatsapp_1234567890"), ["warm-up", "exactly once"]);
  assert_eq!(sent.body.as_deref(), Some("exactly once"));
}

#[tokio::test]
async fn a_dropped_request_is_sent_again() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  client.send_message(PHONE, "warm-up", None, None).await.unwrap();
  s.control(
    "/faults",
    json!({"method": "POST", "path": "/Messages$", "drop": "before"}),
  )
  .await;
  client.send_message(PHONE, "delivered", None, None).await.unwrap();
  assert_eq!(s.messages_in("whatsapp_1234567890"), ["warm-up", "delivered"]);
}

#[tokio::test]
async fn a_503_on_each_step_of_the_resolver_is_survived() {
  for (method, path) in [
    ("GET", "/Conversations/whatsapp_"),
    ("POST", "ConversationWithParticipants"),
  ] {
    let s = Setup::new().await;
    s.control("/faults", json!({"method": method, "path": path, "status": 503}))
      .await;
    s.client(|_| {}).send_message(PHONE, "hi", None, None).await.unwrap();
    assert_eq!(s.messages_in("whatsapp_1234567890"), ["hi"], "{method} {path}");
  }
}

#[tokio::test]
async fn a_slow_twilio_does_not_hold_the_caller_past_the_deadline() {
  let s = Setup::new().await;
  s.control("/faults", json!({"path": ".", "latency_ms": 5000, "times": 100}))
    .await;
  let client = s.client(|o| {
    o.timeout_ms = Some(200);
    o.deadline_ms = Some(600);
  });
  // How soon is proven on tokio's paused clock (http.rs); here, that the real transport ends in TIMEOUT.
  let error = client.send_message(PHONE, "hi", None, None).await.unwrap_err();
  assert_eq!(error.code(), "TIMEOUT");
}

#[tokio::test]
async fn bad_input_makes_no_request() {
  let s = Setup::new().await;
  let client = s.client(|_| {});
  assert_eq!(
    client.send_message("", "x", None, None).await.unwrap_err().code(),
    "INVALID_PHONE_NUMBER"
  );
  assert_eq!(
    client.send_message(PHONE, "", None, None).await.unwrap_err().code(),
    "INVALID_TEXT"
  );
  assert_eq!(
    client
      .send_template_message(PHONE, "HX1", &Variables::default(), false, None)
      .await
      .unwrap_err()
      .code(),
    "INVALID_CONTENT_SID"
  );
  assert_eq!(
    client
      .send_image_by_url(PHONE, "ftp://x/y", None, None)
      .await
      .unwrap_err()
      .code(),
    "INVALID_MEDIA_URL"
  );
  assert!(s.requests().is_empty());
}

#[tokio::test]
async fn messaging_delivery_sends_what_the_old_module_sent_and_passes_the_contract_check() {
  let s = Setup::new().await;
  let client = s.client(|o| o.delivery = Some("messaging".into()));
  let sent = client
    .send_template_message(
      PHONE,
      DEFAULT_TEMPLATE_SID,
      &variables(r#"{"1":"a","2":"b"}"#),
      false,
      None,
    )
    .await
    .unwrap();
  assert!(sent.message_sid.starts_with("SM"));
  let image = client
    .send_image_by_url(PHONE, "https://example.com/a.png", Some("cap"), None)
    .await
    .unwrap();
  let resource: Value = serde_json::from_str(&image.json).unwrap();
  assert_eq!(resource["num_media"], "1");
  assert!(sent.conversation_sid.is_some());
  let sends: Vec<_> = s
    .sandbox
    .received_requests()
    .into_iter()
    .filter(|r| r.path.ends_with("Messages.json"))
    .collect();
  assert_eq!(sends.len(), 2);
  assert!(sends.iter().all(|r| r.status == 201), "{sends:?}");
  assert_eq!(sends[0].params["From"], "whatsapp:+14155238886");
  assert_eq!(sends[0].params["To"], "whatsapp:+1234567890");
  assert_eq!(sends[1].params["MediaUrl"], "https://example.com/a.png");
}

#[tokio::test]
async fn a_lost_answer_is_found_even_under_many_newer_messages() {
  let s = Setup::new().await;
  // The burst must land within the held-back check: no rate limit here, and no pacing for the other sender.
  s.control("/limits", json!({"writes_per_second": null})).await;
  let sender = Arc::new(s.client(|_| {}));
  let others = Arc::new(s.client(|o| o.writes_per_second = Some(0)));
  sender.send_message(PHONE, "warm-up", None, None).await.unwrap();
  others.send_message(PHONE, "warm-up 2", None, None).await.unwrap();
  s.control(
    "/faults",
    json!({"method": "POST", "path": "/Messages$", "drop": "after"}),
  )
  .await;
  // The check that follows the lost answer is held while 150 newer messages land on top of it.
  s.control("/faults", json!({"method": "GET", "path": "/Messages$", "hold": true}))
    .await;
  let needle = tokio::spawn({
    let sender = sender.clone();
    async move { sender.send_message(PHONE, "needle", None, None).await }
  });
  // The needle's answer was lost and its check is held once the hold has fired.
  let held = |faults: &Value| {
    faults["faults"]
      .as_array()
      .unwrap()
      .iter()
      .any(|f| f["hold"] == true && f["fired"] == 1)
  };
  while !held(&s.get_control("/faults").await) {
    tokio::task::yield_now().await;
  }
  let burst = (0..150).map(|i| {
    let others = others.clone();
    tokio::spawn(async move { others.send_message(PHONE, &format!("newer {i}"), None, None).await })
  });
  for sent in futures::future::join_all(burst).await {
    sent.unwrap().unwrap();
  }
  s.control("/faults/release", json!({})).await;
  needle.await.unwrap().unwrap();
  let bodies = s.messages_in("whatsapp_1234567890");
  assert_eq!(bodies.iter().filter(|b| *b == "needle").count(), 1, "sent exactly once");
  assert_eq!(bodies.len(), 153);
  let second_page = s
    .sandbox
    .received_requests()
    .iter()
    .any(|r| r.method == "GET" && r.path.ends_with("/Messages") && r.query["Page"] == "1");
  assert!(second_page, "the check read past its first page");
}
