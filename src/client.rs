//! `NativeClient`: each method converts its arguments, runs the core call, and settles with a typed result or
//! the error object `results::js_error` builds, through the [`Bridge`].

use std::collections::HashMap;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use twilio_core::{Client, Config, Draft, Error, WebhookSettings};

use crate::bridge::{Bridge, SettleFunction};
use crate::convert::{
  self, env_lookup, flag, number, object_text, optional_object_text, optional_string, phone, string, ClientOptions,
  JsArg,
};
use crate::results::{
  thrown, AgentResult, AssignmentResult, ConnectionResult, DeliveryResult, EventAdmission, HistoryResult,
  MetadataResult, NativeTotals, ParticipantsResult, PreflightResult, RemovalResult, SentMessage, StateResult,
  StatusResult, UnassignmentResult, UploadedMedia, WebhookConfigResult, WindowResult,
};
use crate::webhooks::webhook_valid;

#[napi]
pub struct NativeClient {
  inner: Arc<Client>,
  bridge: Bridge,
}

#[napi]
impl NativeClient {
  /// Throws the configuration error's message (e.g. the missing-credentials message of the old module).
  #[napi(constructor)]
  pub fn new(
    options: Option<ClientOptions>,
    env: Option<HashMap<String, String>>,
    settle: SettleFunction<'_>,
  ) -> Result<Self> {
    let build = || -> std::result::Result<Client, Error> {
      let options = options.unwrap_or_default().into_core()?;
      Client::new(Config::resolve(options, env_lookup(env.unwrap_or_default()))?)
    };
    let client = build().map_err(|e| napi::Error::from_reason(e.to_string()))?;
    let bridge = Bridge::new(settle, client.log().clone(), client.observer().clone())?;
    Ok(Self {
      inner: Arc::new(client),
      bridge,
    })
  }

  /// `whatsapp:+<digits>` for any accepted spelling of a number (national ones in `defaultCountry`); throws the
  /// error [`thrown`] builds otherwise.
  #[napi]
  pub fn format_whatsapp_number(&self, env: &Env, phone_number: JsArg) -> Result<String> {
    phone(&phone_number, "phoneNumber")
      .and_then(|phone| self.inner.config().numbers.read(phone))
      .map(|customer| customer.address())
      .map_err(|error| thrown(env, &error))
  }

  #[napi(getter)]
  pub fn account_sid(&self) -> String {
    self.inner.config().account_sid.clone()
  }

  #[napi(getter)]
  pub fn whatsapp_number(&self) -> String {
    self.inner.config().whatsapp_number.clone()
  }

  #[napi(getter)]
  pub fn system_identity(&self) -> String {
    self.inner.config().system_identity.clone()
  }

  /// `error`, `warn`, `info` or `debug`: from the option, `TWILIO_LOG_LEVEL`, or `error`.
  #[napi(getter)]
  pub fn log_level(&self) -> &'static str {
    self.inner.config().log_level.into()
  }

  /// Whether each Twilio request is recorded and handed over with the calls settled (a debug log, a channel
  /// subscriber).
  #[napi]
  pub fn watch_requests(&self, on: bool) {
    self.inner.observer().watch(on);
  }

  /// The call numbered `call`, started next, ends within `deadline_ms` (a send's `{ deadlineMs }`) instead of the
  /// client's `deadlineMs`.
  #[napi]
  pub fn limit_call(&self, env: &Env, call: u32, deadline_ms: JsArg) -> Result<()> {
    let refused = || {
      Error::invalid(
        "INVALID_ARGUMENT",
        "deadlineMs must be a whole number of milliseconds from 1 to 2147483647",
      )
    };
    match deadline_ms {
      JsArg::Number(ms) if ms.fract() == 0.0 && (1.0..=2_147_483_647.0).contains(&ms) => {
        self.bridge.limit(call, std::time::Duration::from_millis(ms as u64));
        Ok(())
      }
      _ => Err(thrown(env, &refused())),
    }
  }

  /// The call numbered `call`, started next, is a campaign's send (`sendBulk`, or a send's `{ bulk: true }`): in every
  /// pacing lane it waits behind interactive sends.
  #[napi]
  pub fn bulk_call(&self, call: u32) {
    self.bridge.bulk(call);
  }

  /// Ends the client's Redis connections; the JS entry calls it once the client's calls have settled.
  #[napi]
  pub fn close(&self) {
    self.inner.close();
  }

  #[napi]
  pub fn totals(&self) -> NativeTotals {
    self.inner.observer().totals().into()
  }

  #[napi]
  pub fn find_or_create_conversation(&self, call: u32, phone_number: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      client.find_or_create_conversation(phone).await
    })
  }

  #[napi]
  pub fn get_conversation(&self, call: u32, phone_number: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      client.get_conversation(phone).await
    })
  }

  #[napi]
  pub fn send_message(&self, call: u32, to: JsArg, text: JsArg, author: JsArg, idempotency_key: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let to = phone(&to, "to")?;
      let text = string(&text, "text", "INVALID_TEXT")?;
      let author = optional_string(&author, "author", "INVALID_AUTHOR")?;
      let key = convert::idempotency_key(&idempotency_key)?;
      client.send_message(to, text, author, key).await.map(SentMessage::from)
    })
  }

  /// `content_variables`: the variables as given, unless `variable_keys` and `variable_values` hold a plain
  /// object's entries (see [`convert::variables`]).
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn send_template_message(
    &self,
    call: u32,
    to: JsArg,
    content_sid: JsArg,
    content_variables: JsArg,
    variable_keys: Option<Vec<String>>,
    variable_values: Option<Vec<JsArg>>,
    idempotency_key: JsArg,
    allow_sample_values: JsArg,
  ) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let to = phone(&to, "phoneNumber")?;
      let content_sid = string(&content_sid, "contentSid", "INVALID_CONTENT_SID")?;
      let variables = convert::variables(&content_variables, variable_keys, variable_values)?;
      let key = convert::idempotency_key(&idempotency_key)?;
      let allow_samples = flag(&allow_sample_values, "allowSampleValues", "INVALID_ARGUMENT")?;
      client
        .send_template_message(to, content_sid, &variables, allow_samples, key)
        .await
        .map(SentMessage::from)
    })
  }

  /// A template send checked without being sent; `to` may be absent (the customer's window is then not read).
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn check_template(
    &self,
    call: u32,
    to: JsArg,
    content_sid: JsArg,
    content_variables: JsArg,
    variable_keys: Option<Vec<String>>,
    variable_values: Option<Vec<JsArg>>,
    idempotency_key: JsArg,
    allow_sample_values: JsArg,
  ) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let to = optional_string(&to, "to", "INVALID_PHONE_NUMBER")?;
      let content_sid = string(&content_sid, "contentSid", "INVALID_CONTENT_SID")?;
      let variables = convert::variables(&content_variables, variable_keys, variable_values)?;
      let key = convert::idempotency_key(&idempotency_key)?;
      let allow_samples = flag(&allow_sample_values, "allowSampleValues", "INVALID_ARGUMENT")?;
      let draft = Draft::Template {
        content_sid,
        variables: &variables,
        allow_samples,
      };
      client.preflight(to, draft, key).await.map(PreflightResult::from)
    })
  }

  /// A text send checked without being sent.
  #[napi]
  pub fn check_message(&self, call: u32, to: JsArg, text: JsArg, author: JsArg, idempotency_key: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let to = phone(&to, "to")?;
      let text = string(&text, "text", "INVALID_TEXT")?;
      let author = optional_string(&author, "author", "INVALID_AUTHOR")?;
      let key = convert::idempotency_key(&idempotency_key)?;
      let draft = Draft::Text { text, author };
      client.preflight(Some(to), draft, key).await.map(PreflightResult::from)
    })
  }

  /// An image-by-URL send checked without being sent (the image is not fetched).
  #[napi]
  pub fn check_image_message_by_url(
    &self,
    call: u32,
    to: JsArg,
    media_url: JsArg,
    caption: JsArg,
    idempotency_key: JsArg,
  ) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let to = phone(&to, "to")?;
      let url = string(&media_url, "mediaUrl", "INVALID_MEDIA_URL")?;
      let caption = convert::caption(&caption)?;
      let key = convert::idempotency_key(&idempotency_key)?;
      let draft = Draft::Image { url, caption };
      client.preflight(Some(to), draft, key).await.map(PreflightResult::from)
    })
  }

  #[napi]
  pub fn send_image_message(&self, call: u32, to: JsArg, image_path: JsArg, caption: JsArg, base_url: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let to = phone(&to, "to")?;
      let path = string(&image_path, "imagePath", "FILE_NOT_FOUND")?;
      let caption = convert::caption(&caption)?;
      let base_url = optional_string(&base_url, "baseUrl", "INVALID_MEDIA_URL")?;
      client
        .send_image_file(to, path, caption, base_url)
        .await
        .map(SentMessage::from)
    })
  }

  #[napi]
  pub fn send_image_message_by_url(
    &self,
    call: u32,
    to: JsArg,
    media_url: JsArg,
    caption: JsArg,
    idempotency_key: JsArg,
  ) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let to = phone(&to, "to")?;
      let url = string(&media_url, "mediaUrl", "INVALID_MEDIA_URL")?;
      let caption = convert::caption(&caption)?;
      let key = convert::idempotency_key(&idempotency_key)?;
      client
        .send_image_by_url(to, url, caption, key)
        .await
        .map(SentMessage::from)
    })
  }

  #[napi]
  pub fn upload_media(&self, call: u32, file_path: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let path = string(&file_path, "filePath", "FILE_NOT_FOUND")?;
      client.upload_media(path).await.map(UploadedMedia::from)
    })
  }

  #[napi]
  pub fn test_connection(&self, call: u32) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let (account_sid, account_name) = client.test_connection().await?;
      Ok(ConnectionResult::new(account_sid, account_name))
    })
  }

  #[napi]
  pub fn add_agent(&self, call: u32, phone_number: JsArg, identity: JsArg, attributes: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      let identity = convert::identity(&identity)?;
      let attributes = optional_object_text(&attributes, "attributes", "INVALID_ATTRIBUTES")?;
      client
        .add_agent(phone, identity, attributes)
        .await
        .map(AgentResult::from)
    })
  }

  #[napi]
  pub fn remove_agent(&self, call: u32, phone_number: JsArg, identity: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      let identity = convert::identity(&identity)?;
      client.remove_agent(phone, identity).await.map(RemovalResult::from)
    })
  }

  #[napi]
  pub fn list_participants(&self, call: u32, phone_number: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      client.list_participants(phone).await.map(ParticipantsResult::from)
    })
  }

  #[napi]
  pub fn assign_conversation(&self, call: u32, phone_number: JsArg, identity: JsArg, keep_previous: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      let identity = convert::identity(&identity)?;
      let keep_previous = flag(&keep_previous, "keepPrevious", "INVALID_ARGUMENT")?;
      client
        .assign_conversation(phone, identity, keep_previous)
        .await
        .map(AssignmentResult::from)
    })
  }

  #[napi]
  pub fn unassign_conversation(&self, call: u32, phone_number: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      client.unassign_conversation(phone).await.map(UnassignmentResult::from)
    })
  }

  #[napi]
  pub fn get_conversation_status(&self, call: u32, phone_number: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      client.conversation_status(phone).await.map(StatusResult::from)
    })
  }

  #[napi]
  pub fn set_conversation_state(&self, call: u32, phone_number: JsArg, state: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      let state = string(&state, "state", "INVALID_STATE")?;
      client.set_conversation_state(phone, state).await.map(StateResult::from)
    })
  }

  #[napi]
  pub fn get_conversation_metadata(&self, call: u32, phone_number: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      client.conversation_metadata(phone).await.map(MetadataResult::from)
    })
  }

  #[napi]
  pub fn set_conversation_metadata(&self, call: u32, phone_number: JsArg, patch: JsArg, replace: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      let patch = object_text(&patch, "metadata", "INVALID_METADATA")?;
      let replace = flag(&replace, "replace", "INVALID_ARGUMENT")?;
      client
        .set_conversation_metadata(phone, patch, replace)
        .await
        .map(MetadataResult::from)
    })
  }

  #[napi]
  pub fn get_messages(&self, call: u32, phone_number: JsArg, limit: JsArg, order: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      let limit = number(&limit, "limit", "INVALID_LIMIT")?;
      let order = string(&order, "order", "INVALID_ORDER")?;
      client.messages(phone, limit, order).await.map(HistoryResult::from)
    })
  }

  /// Whether a webhook request is Twilio's, signed with this account's auth token (`webhookAuthToken` for a client
  /// that authenticates with an API key). `pairs`: the form parameters as [name, value]; `body`: a JSON body.
  #[napi]
  pub fn validate_webhook(&self, signature: JsArg, url: JsArg, pairs: Vec<Vec<String>>, body: Option<Buffer>) -> bool {
    self
      .inner
      .config()
      .webhook_auth_token
      .as_ref()
      .is_some_and(|token| webhook_valid(token.expose(), &signature, &url, &pairs, body.as_deref()))
  }

  #[napi]
  pub fn get_delivery_status(&self, call: u32, phone_number: JsArg, message_sid: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      let message_sid = string(&message_sid, "messageSid", "INVALID_MESSAGE_SID")?;
      client
        .delivery_status(phone, message_sid)
        .await
        .map(DeliveryResult::from)
    })
  }

  #[napi]
  pub fn get_whats_app_window(&self, call: u32, phone_number: JsArg) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let phone = phone(&phone_number, "phoneNumber")?;
      client.whatsapp_window(phone).await.map(WindowResult::from)
    })
  }

  /// `filter_list`: `filters` when it is an array (its items checked here), else `None` and `filters` names
  /// what was given.
  #[napi]
  pub fn configure_webhooks(
    &self,
    call: u32,
    post_webhook_url: JsArg,
    pre_webhook_url: JsArg,
    filters: JsArg,
    filter_list: Option<Vec<JsArg>>,
    method: JsArg,
  ) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      let url =
        |value: &JsArg, name: &str| optional_string(value, name, "INVALID_WEBHOOK_URL").map(|u| u.map(str::to_string));
      let filters = match (filter_list, &filters) {
        (Some(items), _) => Some(
          items
            .iter()
            .map(|item| string(item, "filters[]", "INVALID_WEBHOOK_FILTER").map(str::to_string))
            .collect::<std::result::Result<Vec<_>, _>>()?,
        ),
        (None, JsArg::Absent(_)) => None,
        (None, other) => {
          return Err(Error::invalid(
            "INVALID_WEBHOOK_FILTER",
            format!("filters must be an array of event names, got {}", other.described()),
          ))
        }
      };
      let settings = WebhookSettings {
        post_webhook_url: url(&post_webhook_url, "postWebhookUrl")?,
        pre_webhook_url: url(&pre_webhook_url, "preWebhookUrl")?,
        filters,
        method: optional_string(&method, "method", "INVALID_WEBHOOK_METHOD")?.map(str::to_string),
      };
      client
        .configure_webhooks(&settings)
        .await
        .map(WebhookConfigResult::from)
    })
  }

  #[napi]
  pub fn get_webhook_configuration(&self, call: u32) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      client.webhook_configuration().await.map(WebhookConfigResult::from)
    })
  }

  /// Whether a webhook event goes to its handler: `{ admission: 'handle', ticket }`, `'duplicate'` or `'stale'`.
  #[napi]
  pub fn admit_event(&self, call: u32, pairs: Vec<Vec<String>>, token: Option<String>) {
    let client = self.inner.clone();
    let params = crate::webhooks::form_pairs(&pairs);
    self.bridge.run(call, async move {
      Ok(EventAdmission::from(
        client.admit_event(&params, token.as_deref()).await,
      ))
    })
  }

  /// The handler of admitted event `ticket` finished (`handled`) or threw.
  #[napi]
  pub fn settle_event(&self, call: u32, ticket: f64, handled: bool) {
    let client = self.inner.clone();
    self.bridge.run(call, async move {
      // Tickets are counted from 0 in a u64 and handed to JS as a double: exact below 2^53.
      client.settle_event(ticket as u64, handled).await;
      Ok(())
    })
  }

  /// The delivery events of the messages sent from `since` to `until` (ms since the epoch), read from Twilio's
  /// receipts: each a list of [name, value] pairs, as a webhook's form.
  #[napi]
  pub fn missed_receipts(&self, call: u32, since: f64, until: f64) {
    let client = self.inner.clone();
    let ms = |value: f64| {
      if value.is_finite() && value > 0.0 {
        value as u64
      } else {
        0
      }
    };
    self.bridge.run(call, async move {
      let events = client.missed_receipts(ms(since), ms(until)).await?;
      Ok(
        events
          .into_iter()
          .map(|event| {
            event
              .into_iter()
              .map(|(name, value)| vec![name, value])
              .collect::<Vec<_>>()
          })
          .collect::<Vec<_>>(),
      )
    })
  }

  /// How many conversations the cache holds now.
  #[napi]
  pub fn cached_conversations(&self, call: u32) {
    let client = self.inner.clone();
    self
      .bridge
      .run(call, async move { Ok(client.cached_conversations().await as f64) })
  }
}

/// The options `new TwilioApiClient(options)` takes besides the JS-only `logger`, each with its JavaScript type
/// (`string`, `number`, `boolean`, `object`), in the struct's order.
#[napi(ts_return_type = "Array<[string, 'string' | 'number' | 'boolean' | 'object']>")]
pub fn option_types() -> Vec<Vec<&'static str>> {
  crate::convert::OPTIONS
    .iter()
    .map(|(name, kind)| vec![*name, *kind])
    .collect()
}

/// The content type the old module gave a file name.
#[napi]
pub fn content_type(file_path: String) -> String {
  twilio_core::content_type_for(&file_path).to_string()
}

/// `…7890`: what logs may show of a number.
#[napi]
pub fn mask_number(phone_number: String) -> String {
  twilio_core::mask(&phone_number)
}
