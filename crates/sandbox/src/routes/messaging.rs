//! Programmable Messaging (api.twilio.com 2010-04-01): Messages.json create and the Account fetch.

use serde_json::json;

use super::{created, ok};
use crate::app::{App, Incoming, Reply};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render::rfc2822;
use crate::state::SmsInput;

fn own_account(app: &App, incoming: &Incoming, sid: Option<&String>) -> ApiResult<()> {
  if sid.map(String::as_str) == Some(app.lock().account.account_sid.as_str()) {
    Ok(())
  } else {
    Err(ApiError::not_found(&incoming.path))
  }
}

pub fn create_message(app: &App, incoming: &Incoming, values: &[String], form: &Params) -> ApiResult<Reply> {
  own_account(app, incoming, values.first())?;
  let text = |name: &str| form.get(name).map(str::to_string);
  let input = SmsInput {
    to: text("To").unwrap_or_default(),
    from: text("From"),
    messaging_service_sid: text("MessagingServiceSid"),
    body: text("Body"),
    media_urls: form.all("MediaUrl").into_iter().map(str::to_string).collect(),
    content_sid: text("ContentSid"),
    content_variables: text("ContentVariables"),
  };
  let mut state = app.lock();
  let message = state.send_sms(input)?.clone();
  let ctx = app.rendering(&state, "");
  Ok(created(ctx.sms(&message)))
}

pub fn fetch_account(app: &App, incoming: &Incoming, values: &[String]) -> ApiResult<Reply> {
  own_account(app, incoming, values.first())?;
  let state = app.lock();
  let sid = &state.account.account_sid;
  let uri = format!("/2010-04-01/Accounts/{sid}.json");
  let created = rfc2822(chrono::DateTime::UNIX_EPOCH);
  Ok(ok(json!({
    "auth_token": state.account.auth_token,
    "date_created": created,
    "date_updated": created,
    "friendly_name": "Twilio Sandbox Account",
    "owner_account_sid": sid,
    "sid": sid,
    "status": "active",
    "subresource_uris": {
      "messages": format!("/2010-04-01/Accounts/{sid}/Messages.json"),
    },
    "type": "Full",
    "uri": uri,
  })))
}
