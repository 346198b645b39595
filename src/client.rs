//! `NativeClient`: each method converts its arguments, awaits the core, and maps the result.

use std::collections::HashMap;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use twilio_core::{Client, Config, Customer, Error};

use crate::convert::{
  env_lookup, guarded, optional_string, sent, string, uploaded, variables, ClientOptions, JsArg, Outcome,
};

#[napi]
pub struct NativeClient {
  inner: Arc<Client>,
}

#[napi]
impl NativeClient {
  /// Throws the configuration error's message (e.g. the missing-credentials message of the old module).
  #[napi(constructor)]
  pub fn new(options: Option<ClientOptions>, env: Option<HashMap<String, String>>) -> Result<Self> {
    let build = || -> std::result::Result<Client, Error> {
      let options = options.unwrap_or_default().into_core()?;
      Client::new(Config::resolve(options, env_lookup(env.unwrap_or_default()))?)
    };
    build()
      .map(|client| Self {
        inner: Arc::new(client),
      })
      .map_err(|e| napi::Error::from_reason(e.to_string()))
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

  #[napi]
  pub async fn find_or_create_conversation(&self, phone_number: JsArg) -> Outcome {
    let client = self.inner.clone();
    guarded(client.notices().clone(), async move {
      let phone = string(&phone_number, "phoneNumber", "INVALID_PHONE_NUMBER")?;
      client.find_or_create_conversation(phone).await.map(Value::String)
    })
    .await
  }

  #[napi]
  pub async fn get_conversation(&self, phone_number: JsArg) -> Outcome {
    let client = self.inner.clone();
    guarded(client.notices().clone(), async move {
      let phone = string(&phone_number, "phoneNumber", "INVALID_PHONE_NUMBER")?;
      Ok(
        client
          .get_conversation(phone)
          .await?
          .map(Value::String)
          .unwrap_or(Value::Null),
      )
    })
    .await
  }

  #[napi]
  pub async fn send_message(&self, to: JsArg, text: JsArg, author: JsArg) -> Outcome {
    let client = self.inner.clone();
    guarded(client.notices().clone(), async move {
      let to = string(&to, "to", "INVALID_PHONE_NUMBER")?;
      let text = string(&text, "text", "INVALID_TEXT")?;
      let author = optional_string(&author, "author", "INVALID_AUTHOR")?;
      client.send_message(to, text, author).await.map(sent)
    })
    .await
  }

  /// `content_variables` arrives as a JSON text (the JS entry serialises plain objects) or null.
  #[napi]
  pub async fn send_template_message(&self, to: JsArg, content_sid: JsArg, content_variables: JsArg) -> Outcome {
    let client = self.inner.clone();
    guarded(client.notices().clone(), async move {
      let to = string(&to, "phoneNumber", "INVALID_PHONE_NUMBER")?;
      let content_sid = string(&content_sid, "contentSid", "INVALID_CONTENT_SID")?;
      let variables = variables(&content_variables)?;
      client.send_template_message(to, content_sid, variables).await.map(sent)
    })
    .await
  }

  #[napi]
  pub async fn send_image_message(&self, to: JsArg, image_path: JsArg, caption: JsArg, base_url: JsArg) -> Outcome {
    let client = self.inner.clone();
    guarded(client.notices().clone(), async move {
      let to = string(&to, "to", "INVALID_PHONE_NUMBER")?;
      let path = string(&image_path, "imagePath", "FILE_NOT_FOUND")?;
      let caption = optional_string(&caption, "caption", "INVALID_TEXT")?;
      let base_url = optional_string(&base_url, "baseUrl", "INVALID_MEDIA_URL")?;
      client.send_image_file(to, path, caption, base_url).await.map(sent)
    })
    .await
  }

  #[napi]
  pub async fn send_image_message_by_url(&self, to: JsArg, media_url: JsArg, caption: JsArg) -> Outcome {
    let client = self.inner.clone();
    guarded(client.notices().clone(), async move {
      let to = string(&to, "to", "INVALID_PHONE_NUMBER")?;
      let url = string(&media_url, "mediaUrl", "INVALID_MEDIA_URL")?;
      let caption = optional_string(&caption, "caption", "INVALID_TEXT")?;
      client.send_image_by_url(to, url, caption).await.map(sent)
    })
    .await
  }

  #[napi]
  pub async fn upload_media(&self, file_path: JsArg) -> Outcome {
    let client = self.inner.clone();
    guarded(client.notices().clone(), async move {
      let path = string(&file_path, "filePath", "FILE_NOT_FOUND")?;
      client.upload_media(path).await.map(uploaded)
    })
    .await
  }

  #[napi]
  pub async fn test_connection(&self) -> Outcome {
    let client = self.inner.clone();
    guarded(client.notices().clone(), async move { client.test_connection().await }).await
  }

  /// How many conversations the cache holds now.
  #[napi]
  pub async fn cached_conversations(&self) -> f64 {
    self.inner.cached_conversations().await as f64
  }
}

/// `whatsapp:+<digits>` for any accepted spelling of a number; a failure for anything else.
#[napi]
pub fn format_whatsapp_number(phone_number: JsArg) -> Outcome {
  Outcome::of(
    string(&phone_number, "phoneNumber", "INVALID_PHONE_NUMBER")
      .and_then(Customer::parse)
      .map(|customer| Value::String(customer.address())),
  )
}

/// The names `new TwilioApiClient(options)` takes, besides the JS-only `logger`.
#[napi]
pub fn option_names() -> Vec<&'static str> {
  crate::convert::OPTION_NAMES.to_vec()
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
