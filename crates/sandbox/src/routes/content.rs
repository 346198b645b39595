//! The Content API (content.twilio.com): templates and their WhatsApp approval requests. Its bodies are JSON, which
//! the contract check has compared with Twilio's description before a handler runs.

use serde_json::{Map, Value};

use super::{created, ok, Routed};
use crate::app::Reply;
use crate::error::{ApiError, ApiResult};
use crate::render::{approval, page};
use crate::state::ContentInput;

impl Routed<'_> {
  fn json_body(&self) -> ApiResult<Map<String, Value>> {
    match self.incoming.json() {
      Some(Value::Object(map)) => Ok(map),
      _ => Err(ApiError::bad_request(20001, "The body must be a JSON object")),
    }
  }

  pub fn create_content(&self) -> ApiResult<Reply> {
    let body = self.json_body()?;
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let variables = body
      .get("variables")
      .and_then(Value::as_object)
      .map(|map| {
        map
          .iter()
          .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
          .collect()
      })
      .unwrap_or_default();
    let input = ContentInput {
      sid: None,
      friendly_name: text("friendly_name"),
      language: text("language").unwrap_or_default(),
      variables,
      types: body
        .get("types")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default(),
    };
    let mut state = self.app.lock();
    let content = state.create_content(input)?.clone();
    Ok(created(self.rendering(&state).content(&content)))
  }

  pub fn list_contents(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let ctx = self.rendering(&state);
    let items = state.contents_in_order().into_iter().map(|c| ctx.content(c)).collect();
    Ok(ok(self.content_page(items)))
  }

  pub fn list_contents_and_approvals(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let ctx = self.rendering(&state);
    let now = state.now();
    let items = state
      .contents_in_order()
      .into_iter()
      .map(|c| ctx.content_and_approvals(c, now))
      .collect();
    Ok(ok(self.content_page(items)))
  }

  fn content_page(&self, items: Vec<Value>) -> Value {
    page(
      &self.app.base,
      &self.incoming.path,
      "contents",
      items,
      &self.incoming.query,
      &[],
      50,
    )
  }

  pub fn fetch_content(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let content = state.content(self.value(0), &self.incoming.path)?;
    Ok(ok(self.rendering(&state).content(content)))
  }

  pub fn delete_content(&self) -> ApiResult<Reply> {
    self.app.lock().delete_content(self.value(0), &self.incoming.path)?;
    Ok(Reply::NoContent)
  }

  pub fn fetch_approval(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let content = state.content(self.value(0), &self.incoming.path)?;
    Ok(ok(self.rendering(&state).approval_fetch(content, state.now())))
  }

  pub fn create_approval(&self) -> ApiResult<Reply> {
    let body = self.json_body()?;
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let mut state = self.app.lock();
    let path = self.incoming.path.clone();
    let content = state
      .request_approval(self.value(0), text("name"), text("category"), &path)?
      .clone();
    Ok(created(approval(&content, state.now())))
  }
}
