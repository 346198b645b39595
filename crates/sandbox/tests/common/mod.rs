//! A sandbox started in-process and a small HTTP client for it.

#![allow(dead_code)]

use serde_json::{json, Value};
use twilio_sandbox::{Sandbox, SandboxConfig};

pub const CUSTOMER: &str = "whatsapp:+1234567890";
pub const SENDER: &str = "whatsapp:+14155238886";

pub struct Harness {
  pub sandbox: Sandbox,
  pub http: reqwest::Client,
}

pub struct Answer {
  pub status: u16,
  pub body: Value,
  pub headers: reqwest::header::HeaderMap,
}

impl Harness {
  pub async fn start() -> Self {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.expect("sandbox starts");
    Self {
      sandbox,
      http: reqwest::Client::new(),
    }
  }

  pub fn url(&self, path: &str) -> String {
    format!("{}{}", self.sandbox.url(), path)
  }

  pub fn account(&self) -> String {
    self.sandbox.account_sid()
  }

  pub fn service(&self) -> String {
    self.sandbox.chat_service_sid()
  }

  pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Answer {
      status,
      body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
      headers,
    }
  }

  fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.basic_auth(self.sandbox.account_sid(), Some(self.sandbox.auth_token()))
  }

  pub async fn get(&self, path: &str) -> Answer {
    self.send(self.authed(self.http.get(self.url(path)))).await
  }

  pub async fn delete(&self, path: &str) -> Answer {
    self.send(self.authed(self.http.delete(self.url(path)))).await
  }

  pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
    self.send(self.authed(self.http.post(self.url(path))).form(form)).await
  }

  /// A form post with `X-Twilio-Webhook-Enabled: value`.
  pub async fn post_with_webhooks(&self, path: &str, form: &[(&str, &str)], value: &str) -> Answer {
    let request = self.authed(self.http.post(self.url(path))).form(form);
    self.send(request.header("X-Twilio-Webhook-Enabled", value)).await
  }

  /// A JSON body, as the Content API takes it.
  pub async fn post_json(&self, path: &str, body: Value) -> Answer {
    self.send(self.authed(self.http.post(self.url(path))).json(&body)).await
  }

  /// A conversation create whose answer may never come (for the connection-drop faults).
  pub async fn try_create(&self, unique_name: &str) -> reqwest::Result<reqwest::Response> {
    self
      .authed(self.http.post(self.url("/v1/Conversations")))
      .form(&[("UniqueName", unique_name)])
      .send()
      .await
  }

  pub async fn control(&self, path: &str, body: Value) -> Answer {
    self
      .send(self.http.post(self.url(&format!("/__sandbox{path}"))).json(&body))
      .await
  }

  /// A conversation with no participants, by its SID.
  pub async fn empty_conversation(&self) -> String {
    let answer = self.post("/v1/Conversations", &[]).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["sid"].as_str().unwrap().to_string()
  }

  /// A conversation for the customer with both participants, created in one call.
  pub async fn conversation(&self, unique_name: &str, address: &str) -> String {
    let customer = json!({"messaging_binding": {"address": address, "proxy_address": SENDER}}).to_string();
    let answer = self
      .post(
        "/v1/ConversationWithParticipants",
        &[
          ("UniqueName", unique_name),
          ("Participant", &customer),
          ("Participant", r#"{"identity":"system"}"#),
        ],
      )
      .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["sid"].as_str().unwrap().to_string()
  }

  pub fn code(answer: &Answer) -> u64 {
    answer.body["code"].as_u64().unwrap_or(0)
  }
}
