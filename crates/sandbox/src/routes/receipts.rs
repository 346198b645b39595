//! The delivery receipts of a message.

use super::{ok, Routed};
use crate::app::Reply;
use crate::error::{ApiError, ApiResult};
use crate::render::page;
use crate::state::{Conversation, Message, State};

impl Routed<'_> {
  /// The message the path names, in its conversation.
  fn message<'s>(&self, state: &'s State) -> ApiResult<(&'s Conversation, &'s Message)> {
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let message = conversation
      .messages
      .iter()
      .find(|m| m.sid == self.value(1))
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok((conversation, message))
  }

  pub fn list_receipts(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let (conversation, message) = self.message(&state)?;
    let ctx = self.rendering(&state);
    let items = message
      .receipts
      .iter()
      .map(|r| ctx.receipt(&conversation.sid, &message.sid, r))
      .collect();
    Ok(ok(page(
      &self.app.base,
      &self.incoming.path,
      "delivery_receipts",
      items,
      &self.incoming.query,
      &[],
      50,
    )))
  }

  pub fn fetch_receipt(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let (conversation, message) = self.message(&state)?;
    let receipt = message
      .receipts
      .iter()
      .find(|r| r.sid == self.value(2))
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok(ok(self.rendering(&state).receipt(
      &conversation.sid,
      &message.sid,
      receipt,
    )))
  }
}
