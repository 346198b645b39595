//! Webhook configuration: the account's, the service's, and conversation-scoped webhooks.

use super::{created, ok, Routed};
use crate::app::Reply;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render::page;
use crate::state::webhooks::{ScopedWebhookInput, WebhookConfigChange};

fn list(form: &Params, name: &str) -> Option<Vec<String>> {
  let values = form.all(name);
  (!values.is_empty()).then(|| values.into_iter().map(str::to_string).collect())
}

fn scoped_input(form: &Params) -> ScopedWebhookInput {
  let text = |name: &str| form.get(name).map(str::to_string);
  ScopedWebhookInput {
    target: text("Target"),
    url: text("Configuration.Url"),
    method: text("Configuration.Method"),
    filters: list(form, "Configuration.Filters"),
    triggers: list(form, "Configuration.Triggers"),
    flow_sid: text("Configuration.FlowSid"),
  }
}

impl Routed<'_> {
  pub fn webhook_configuration(&self, service: bool) -> Reply {
    let state = self.app.lock();
    let ctx = self.app.rendering(&state, "/v1");
    let service_sid = service.then_some(state.account.chat_service_sid.as_str());
    let config = if service {
      &state.webhooks.service
    } else {
      &state.webhooks.account
    };
    ok(ctx.webhook_config(config, service_sid))
  }

  pub fn configure_webhooks(&self, service: bool) -> ApiResult<Reply> {
    let text = |name: &str| self.form.get(name).map(str::to_string);
    let change = WebhookConfigChange {
      pre_webhook_url: text("PreWebhookUrl"),
      post_webhook_url: text("PostWebhookUrl"),
      filters: list(self.form, "Filters"),
      method: text("Method"),
      target: text("Target"),
    };
    self.app.lock().configure_webhooks(service, change)?;
    Ok(self.webhook_configuration(service))
  }

  pub fn create_webhook(&self) -> ApiResult<Reply> {
    let mut state = self.app.lock();
    let sid = self.value(0).to_string();
    let webhook = state
      .create_scoped_webhook(&sid, scoped_input(self.form), &self.incoming.path)?
      .clone();
    Ok(created(self.rendering(&state).scoped_webhook(&sid, &webhook)))
  }

  pub fn list_webhooks(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let ctx = self.rendering(&state);
    let items = conversation
      .webhooks
      .iter()
      .map(|w| ctx.scoped_webhook(&conversation.sid, w))
      .collect();
    Ok(ok(page(
      &self.app.base,
      &self.incoming.path,
      "webhooks",
      items,
      &self.incoming.query,
      &[],
      5,
    )))
  }

  pub fn fetch_webhook(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let conversation = state.conversation_by_sid(self.value(0), &self.incoming.path)?;
    let webhook = conversation
      .webhooks
      .iter()
      .find(|w| w.sid == self.value(1))
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok(ok(self.rendering(&state).scoped_webhook(&conversation.sid, webhook)))
  }

  pub fn update_webhook(&self) -> ApiResult<Reply> {
    let mut state = self.app.lock();
    let sid = self.value(0).to_string();
    let webhook = state
      .update_scoped_webhook(&sid, self.value(1), scoped_input(self.form), &self.incoming.path)?
      .clone();
    Ok(ok(self.rendering(&state).scoped_webhook(&sid, &webhook)))
  }

  pub fn delete_webhook(&self) -> ApiResult<Reply> {
    self
      .app
      .lock()
      .delete_scoped_webhook(self.value(0), self.value(1), &self.incoming.path)?;
    Ok(Reply::NoContent)
  }
}
