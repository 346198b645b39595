//! Address Configurations (`/v1/Configuration/Addresses`): which Twilio addresses start a conversation when a
//! customer writes to them first (`AutoCreation.Enabled`).

use serde_json::{json, Value};

use super::{created, ok, Routed};
use crate::app::Reply;
use crate::error::{ApiError, ApiResult};
use crate::render::page;
use crate::state::inbound::AddressConfiguration;

impl Routed<'_> {
  fn address_json(&self, configuration: &AddressConfiguration, account_sid: &str) -> Value {
    json!({
      "sid": configuration.sid,
      "account_sid": account_sid,
      "type": configuration.kind,
      "address": configuration.address,
      "friendly_name": configuration.friendly_name,
      "auto_creation": { "enabled": configuration.auto_creation, "type": "default" },
      "date_created": null,
      "date_updated": null,
      "url": format!("{}/v1/Configuration/Addresses/{}", self.app.base, configuration.sid),
      "address_country": null,
    })
  }

  pub fn list_addresses(&self) -> Reply {
    let state = self.app.lock();
    let account = &state.account.account_sid;
    let items = state
      .address_configurations
      .iter()
      .map(|configuration| self.address_json(configuration, account))
      .collect();
    ok(page(
      &self.app.base,
      &self.incoming.path,
      "address_configurations",
      items,
      &self.incoming.query,
      &[],
      50,
    ))
  }

  pub fn create_address(&self) -> ApiResult<Reply> {
    let required = |name: &str| {
      self
        .form
        .get(name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::bad_request(20001, format!("Missing required parameter {name} in the post body")))
    };
    let kind = required("Type")?;
    if !matches!(
      kind,
      "sms" | "whatsapp" | "messenger" | "gbm" | "email" | "rcs" | "apple" | "chat"
    ) {
      return Err(ApiError::bad_request(20001, format!("Invalid Type: {kind}")));
    }
    let address = required("Address")?;
    // Twilio keeps the number; the channel is the type.
    let channel_address = if kind == "whatsapp" && !address.starts_with("whatsapp:") {
      format!("whatsapp:{address}")
    } else {
      address.to_string()
    };
    let mut state = self.app.lock();
    if state
      .address_configurations
      .iter()
      .any(|c| c.address == channel_address)
    {
      // Twilio's code for a second configuration of one address is not documented: a guess.
      return Err(ApiError::conflict(
        50351,
        "An Address Configuration for this address already exists",
      ));
    }
    let configuration = AddressConfiguration {
      kind: kind.to_string(),
      friendly_name: self.form.get("FriendlyName").map(str::to_string),
      auto_creation: self.form.get("AutoCreation.Enabled") == Some("true"),
      ..AddressConfiguration::auto_creating(&channel_address)
    };
    let body = self.address_json(&configuration, &state.account.account_sid);
    state.address_configurations.push(configuration);
    Ok(created(body))
  }

  /// The configuration the path names, by SID or address.
  fn wanted(&self) -> &str {
    self.values.first().map(String::as_str).unwrap_or("")
  }

  pub fn fetch_address(&self) -> ApiResult<Reply> {
    let state = self.app.lock();
    let wanted = self.wanted();
    let configuration = state
      .address_configurations
      .iter()
      .find(|c| c.sid == wanted || c.address == wanted)
      .ok_or_else(|| ApiError::not_found(&self.incoming.path))?;
    Ok(ok(self.address_json(configuration, &state.account.account_sid)))
  }

  pub fn delete_address(&self) -> ApiResult<Reply> {
    let mut state = self.app.lock();
    let wanted = self.wanted();
    let before = state.address_configurations.len();
    state
      .address_configurations
      .retain(|c| c.sid != wanted && c.address != wanted);
    if state.address_configurations.len() == before {
      return Err(ApiError::not_found(&self.incoming.path));
    }
    Ok(Reply::NoContent)
  }
}
