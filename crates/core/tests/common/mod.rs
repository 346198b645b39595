//! A sandbox started in-process, clients pointed at it, and what the tests read back from it.

#![allow(dead_code)]

use serde_json::Value;
use twilio_core::{Client, Config, Options, Secret};
use twilio_sandbox::{Sandbox, SandboxConfig};

pub const PHONE: &str = "+1234567890";

pub struct Setup {
  pub sandbox: Sandbox,
  pub http: reqwest::Client,
}

impl Setup {
  pub async fn new() -> Self {
    Self {
      sandbox: Sandbox::start(SandboxConfig::default()).await.unwrap(),
      http: reqwest::Client::new(),
    }
  }

  pub fn client(&self, tweak: impl FnOnce(&mut Options)) -> Client {
    let mut options = Options {
      account_sid: Some(self.sandbox.account_sid()),
      auth_token: Some(Secret::new(self.sandbox.auth_token())),
      base_url: Some(self.sandbox.url().to_string()),
      ..Default::default()
    };
    tweak(&mut options);
    Client::new(Config::resolve(options, |_| None).unwrap()).unwrap()
  }

  pub fn requests(&self) -> Vec<(String, String)> {
    self
      .sandbox
      .received_requests()
      .into_iter()
      .map(|r| (r.method, r.path))
      .collect()
  }

  pub fn clear(&self) {
    self.sandbox.state().log.clear();
  }

  pub async fn control(&self, path: &str, body: Value) -> Value {
    let response = self
      .http
      .post(format!("{}/__sandbox{path}", self.sandbox.url()))
      .json(&body)
      .send()
      .await
      .unwrap();
    response.json().await.unwrap()
  }

  pub async fn get_control(&self, path: &str) -> Value {
    let response = self
      .http
      .get(format!("{}/__sandbox{path}", self.sandbox.url()))
      .send()
      .await
      .unwrap();
    response.json().await.unwrap()
  }

  pub fn conversations(&self) -> usize {
    self.sandbox.state().conversations.len()
  }

  pub fn messages_in(&self, unique_name: &str) -> Vec<String> {
    let state = self.sandbox.state();
    let conversation = state.find_conversation(unique_name).expect("conversation exists");
    conversation
      .messages
      .iter()
      .map(|m| m.body.clone().unwrap_or_default())
      .collect()
  }
}
