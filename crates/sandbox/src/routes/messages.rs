//! A conversation's messages.

use serde_json::Value;

use super::{created, date, ok, Routed};
use crate::app::Reply;
use crate::error::{ApiError, ApiResult};
use crate::render::page;
use crate::state::MessageInput;

impl Routed<'_> {
  pub fn create_message(&self) -> ApiResult<Reply> {
    let form = self.form;
    let text = |name: &str| form.get(name).map(str::to_string);
    let input = MessageInput {
      author: text("Author"),
      body: text("Body"),
      attributes: text("Attributes"),
      media_sid: text("MediaSid"),
      content_sid: text("ContentSid"),
      content_variables: text("ContentVariables"),
      date_created: date(form.get("DateCreated"), "DateCreated")?,
      ..Default::default()
    };
    let mut state = self.app.lock();
    let sid = self.value(0).to_string();
    let before = state.conversation_by_sid(&sid, &self.incoming.path)?.state;
    let message = state.add_message(&sid, input, &self.incoming.path)?.clone();
    let conversation = state.conversation_by_sid(&sid, &self.incoming.path)?;
    let body = self.rendering(&state).message(conversation, &message);
    self.echo(&mut state, &sid, |state| {
      state.message_added(&sid, &message, before, "API")
    });
    Ok(created(body))
  }

  pub fn list_messages(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let ctx = self.rendering(&state);
    let mut items: Vec<Value> = conversation
      .messages
      .iter()
      .map(|m| ctx.message(conversation, m))
      .collect();
    if self.incoming.query.get("Order") == Some("desc") {
      items.reverse();
    }
    Ok(ok(page(
      &self.app.base,
      &self.incoming.path,
      "messages",
      items,
      &self.incoming.query,
      &["Order"],
      50,
    )))
  }

  pub fn fetch_message(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let message = conversation
      .messages
      .iter()
      .find(|m| m.sid == self.value(1) || m.index.to_string() == self.value(1))
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok(ok(self.rendering(&state).message(conversation, message)))
  }
}
