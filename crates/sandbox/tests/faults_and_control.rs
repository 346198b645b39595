//! Fault injection and the control API, through real HTTP.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, CUSTOMER};
use serde_json::json;

#[tokio::test]
async fn an_injected_status_answers_instead_of_twilio_with_retry_after() {
  let h = Harness::start().await;
  h.control(
    "/faults",
    json!({"method": "POST", "path": "^/v1/Conversations$", "status": 429, "retry_after": 2}),
  )
  .await;
  let limited = h.post("/v1/Conversations", &[("UniqueName", "a")]).await;
  assert_eq!((limited.status, Harness::code(&limited)), (429, 20429));
  assert_eq!(limited.headers["retry-after"], "2");
  // Not processed, and the rule fired once.
  assert_eq!(h.get("/v1/Conversations/a").await.status, 404);
  assert_eq!(h.post("/v1/Conversations", &[("UniqueName", "a")]).await.status, 201);
}

#[tokio::test]
async fn an_injected_status_can_carry_a_non_json_body_and_no_retry_after() {
  let h = Harness::start().await;
  h.control(
    "/faults",
    json!({"path": "Configuration", "status": 502, "raw_body": "<html>Bad Gateway</html>", "times": 2}),
  )
  .await;
  for _ in 0..2 {
    let answer = h.get("/v1/Configuration").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.body, "<html>Bad Gateway</html>");
    assert!(answer.headers.get("retry-after").is_none());
  }
  assert_eq!(h.get("/v1/Configuration").await.status, 200);
}

#[tokio::test]
async fn injected_latency_delays_one_request() {
  let h = Harness::start().await;
  h.control("/faults", json!({"path": "Configuration", "latency_ms": 300}))
    .await;
  let started = Instant::now();
  assert_eq!(h.get("/v1/Configuration").await.status, 200);
  assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn global_latency_delays_every_twilio_request() {
  let h = Harness::start().await;
  h.control("/latency", json!({"ms": 150})).await;
  let started = Instant::now();
  h.get("/v1/Configuration").await;
  h.get("/v1/Configuration").await;
  assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_connection_dropped_before_processing_changes_nothing() {
  let h = Harness::start().await;
  h.control(
    "/faults",
    json!({"method": "POST", "path": "^/v1/Conversations$", "drop": "before"}),
  )
  .await;
  let sent = h.try_create("a").await;
  assert!(sent.is_err(), "the client hears nothing");
  assert_eq!(h.get("/v1/Conversations/a").await.status, 404);
  let log = h.sandbox.received_requests();
  assert_eq!(log[0].fault.as_deref(), Some("drop before"));
}

#[tokio::test]
async fn a_response_dropped_after_the_write_leaves_the_write_in_place() {
  let h = Harness::start().await;
  h.control(
    "/faults",
    json!({"method": "POST", "path": "^/v1/Conversations$", "drop": "after"}),
  )
  .await;
  let sent = h.try_create("a").await;
  assert!(sent.is_err(), "the client hears nothing");
  assert_eq!(
    h.get("/v1/Conversations/a").await.status,
    200,
    "but the conversation exists"
  );
}

#[tokio::test]
async fn a_probabilistic_fault_fires_on_about_that_share_of_requests() {
  let h = Harness::start().await;
  h.control(
    "/faults",
    json!({"path": "Configuration", "status": 503, "probability": 0.5}),
  )
  .await;
  let mut failed = 0;
  for _ in 0..200 {
    if h.get("/v1/Configuration").await.status == 503 {
      failed += 1;
    }
  }
  assert!((50..150).contains(&failed), "{failed} of 200");
}

#[tokio::test]
async fn the_request_log_records_method_path_parameters_and_status() {
  let h = Harness::start().await;
  h.post("/v1/Conversations", &[("UniqueName", "a"), ("FriendlyName", "A")])
    .await;
  h.get("/v1/Conversations/missing").await;
  let log = h.send(h.http.get(h.url("/__sandbox/requests"))).await.body;
  let entries = log["requests"].as_array().unwrap();
  assert_eq!(entries.len(), 2);
  assert_eq!(entries[0]["method"], "POST");
  assert_eq!(entries[0]["params"]["UniqueName"], "a");
  assert_eq!(entries[0]["status"], 201);
  assert_eq!(entries[1]["status"], 404);
  h.send(h.http.delete(h.url("/__sandbox/requests"))).await;
  assert!(h.sandbox.received_requests().is_empty());
}

#[tokio::test]
async fn seeds_reset_and_state_dump() {
  let h = Harness::start().await;
  let seeded = h
    .control(
      "/conversations",
      json!([
        {"unique_name": "old", "date_created": "2020-01-01T00:00:00Z",
         "participants": [{"address": CUSTOMER, "proxy_address": "whatsapp:+14155238886"}, {"identity": "system"}],
         "messages": [{"author": "system", "body": "hello"}]},
        {"unique_name": "gone", "state": "closed"}
      ]),
    )
    .await;
  assert_eq!(seeded.status, 201, "{}", seeded.body);
  assert_eq!(seeded.body["conversations"][0]["date_created"], "2020-01-01T00:00:00Z");
  assert_eq!(seeded.body["conversations"][1]["state"], "closed");
  let state = h.send(h.http.get(h.url("/__sandbox/state"))).await.body;
  assert_eq!(state["conversations"][0]["participants"].as_array().unwrap().len(), 2);
  assert_eq!(state["conversations"][0]["messages"][0]["body"], "hello");
  assert!(h.sandbox.received_requests().is_empty(), "control calls are not logged");
  let closed = h.control("/conversations/old", json!({"state": "closed"})).await;
  assert_eq!(closed.body["state"], "closed");
  h.control("/reset", json!({})).await;
  let state = h.send(h.http.get(h.url("/__sandbox/state"))).await.body;
  assert!(state["conversations"].as_array().unwrap().is_empty());
  assert_eq!(state["templates"][0]["sid"], twilio_sandbox::DEFAULT_TEMPLATE_SID);
}

#[tokio::test]
async fn the_control_api_serves_a_sample_image() {
  let h = Harness::start().await;
  let image = h.http.get(h.url("/__sandbox/image.png")).send().await.unwrap();
  assert_eq!(image.headers()["content-type"], "image/png");
  assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG"));
}

#[tokio::test]
async fn beyond_loopback_the_control_api_demands_its_token_and_the_twilio_api_its_credentials() {
  let sandbox = twilio_sandbox::Sandbox::start(twilio_sandbox::SandboxConfig {
    host: Some("0.0.0.0".parse().unwrap()),
    ..Default::default()
  })
  .await
  .unwrap();
  let token = sandbox.control_token().expect("a token is made up").to_string();
  let port = sandbox.url().rsplit(':').next().unwrap().to_string();
  let base = format!("http://127.0.0.1:{port}");
  let http = reqwest::Client::new();
  let state = |token: Option<&str>| {
    let mut request = http.get(format!("{base}/__sandbox/state"));
    if let Some(token) = token {
      request = request.header("x-sandbox-token", token);
    }
    request.send()
  };
  assert_eq!(state(None).await.unwrap().status(), 401);
  assert_eq!(state(Some("wrong")).await.unwrap().status(), 401);
  assert_eq!(state(Some(&token)).await.unwrap().status(), 200);
  let twilio = http.get(format!("{base}/v1/Configuration"));
  assert_eq!(
    twilio.send().await.unwrap().status(),
    401,
    "the Twilio API still demands credentials"
  );
}

#[tokio::test]
async fn on_loopback_the_control_api_stays_open() {
  let h = Harness::start().await;
  assert!(h.sandbox.control_token().is_none());
  assert_eq!(h.get("/__sandbox/limits").await.status, 200);
}

#[tokio::test]
async fn on_loopback_the_control_api_refuses_a_browser_led_there_by_another_host_or_origin() {
  let h = Harness::start().await;
  let http = reqwest::Client::new();
  let status = |request: reqwest::RequestBuilder| async move { request.send().await.unwrap().status().as_u16() };
  let reset = || http.post(h.url("/__sandbox/reset"));
  // DNS rebinding: the page's own name, now pointing here.
  assert_eq!(status(reset().header("host", "evil.example:80")).await, 401);
  // A cross-site form or fetch from a page.
  assert_eq!(status(reset().header("origin", "https://evil.example")).await, 401);
  assert_eq!(status(reset().header("origin", "null")).await, 401);
  assert_eq!(status(reset().header("origin", "http://localhost:3000")).await, 200);
  assert_eq!(status(reset().header("host", "localhost")).await, 200);
}
