//! A conversation's messages.

use serde_json::Value;

use super::{created, date, ok, Routed};
use crate::app::Reply;
use crate::error::{ApiError, ApiResult};
use crate::render::page;
use crate::state::inbound::Changes;
use crate::state::MessageInput;
use crate::state::Source;

impl Routed<'_> {
  /// A message written through the API. With `X-Twilio-Webhook-Enabled: true`, the service's `onMessageAdd`
  /// webhook is asked first, as for a customer's message: its JSON answer replaces the body, author or attributes it
  /// names (attributes whole), a 4xx or 5xx rejects the write.
  pub async fn create_message(&self) -> ApiResult<Reply> {
    let form = self.form;
    let text = |name: &str| form.get(name).map(str::to_string);
    let mut input = MessageInput {
      author: text("Author"),
      body: text("Body"),
      attributes: text("Attributes"),
      media_sid: text("MediaSid"),
      content_sid: text("ContentSid"),
      content_variables: text("ContentVariables"),
      date_created: date(form.get("DateCreated"), "DateCreated")?,
      ..Default::default()
    };
    let sid = self.value(0).to_string();
    if self.webhooks_asked() {
      self.pre_action(&sid, &mut input).await?;
    }
    let mut state = self.app.lock();
    let before = state.conversation_by_sid(&sid, &self.incoming.path)?.state;
    let message = state.add_message(&sid, input, &self.incoming.path)?.clone();
    let conversation = state.conversation_by_sid(&sid, &self.incoming.path)?;
    let body = self.rendering(&state).message(conversation, &message);
    self.echo(&mut state, &sid, |state| {
      state.message_added(&sid, &message, before, "API")
    });
    Ok(created(body))
  }

  async fn pre_action(&self, conversation_sid: &str, input: &mut MessageInput) -> ApiResult<()> {
    let call = {
      let state = self.app.lock();
      let target = state.pre_target("onMessageAdd");
      target.map(|target| {
        let form = crate::events::message_add(
          &state.account,
          &crate::events::MessageAdd {
            source: Source::Api,
            conversation_sid,
            author: input.author.as_deref().unwrap_or("system"),
            participant_sid: None,
            body: input.body.as_deref(),
            attributes: input.attributes.as_deref().unwrap_or("{}"),
          },
        );
        (target, form)
      })
    };
    let Some((target, form)) = call else {
      return Ok(());
    };
    let answer = crate::delivery::call(self.app, &target, "onMessageAdd", form).await;
    match answer.status {
      // Which error Twilio answers the REST write with is not documented; this one says what happened.
      Some(status) if status >= 400 => Err(ApiError::new(
        400,
        20001,
        format!("The message was rejected by the pre-action webhook (it answered {status})"),
      )),
      Some(200..=299) if !answer.body.trim().is_empty() => {
        let changes: Changes = serde_json::from_str(&answer.body).unwrap_or_default();
        input.body = changes.body.or(input.body.take());
        input.author = changes.author.or(input.author.take());
        input.attributes = changes.attributes.or(input.attributes.take());
        Ok(())
      }
      // No answer in time, or nothing to change: written as it is.
      _ => Ok(()),
    }
  }

  /// A message's new attributes or body.
  pub fn update_message(&self) -> ApiResult<Reply> {
    let mut state = self.app.lock();
    let (conversation_sid, message_sid) = (self.value(0).to_string(), self.value(1).to_string());
    let message = state.update_message(
      &conversation_sid,
      &message_sid,
      self.form.get("Attributes"),
      self.form.get("Body"),
      &self.incoming.path,
    )?;
    let conversation = state.conversation_by_sid(&conversation_sid, &self.incoming.path)?;
    Ok(ok(self.rendering(&state).message(conversation, &message)))
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
      // By SID only: Twilio's spec takes no index here.
      .find(|m| m.sid == self.value(1))
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok(ok(self.rendering(&state).message(conversation, message)))
  }
}
