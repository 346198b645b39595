//! The sends: text, template and image, each a message of the customer's conversation (or, with
//! `delivery: messaging`, a Messages.json send for templates and images, as the old module made them).
//!
//! A conversation message is marked with an idempotency key in its Attributes: the caller's (`idempotencyKey`) or
//! a random one. When its answer is lost (a timeout, a dropped connection, a gateway error) the conversation's
//! newest messages are read first: if the message landed it is the success; only if it did not is it sent again,
//! with the same key. A caller's key is also looked for before the first send, so that a message is sent at most
//! once per conversation whoever sends it (a campaign run again after a crash, another process); in this
//! process, sends with the same key take turns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::config::{Config, Delivery, OutsideWindow};
use crate::endpoints::Api;
use crate::error::{Error, Result};
use crate::http::backoff;
use crate::media::{self, Kind, MediaFetcher, MediaFile};
use crate::phone::Customer;
use crate::records::{Answer, ConversationInfo, MediaRecord, MessageRecord};
use crate::resolver::Resolver;
use crate::sync::Unpoisoned;
use crate::templates::{Recipient, Templates};
use crate::variables::Variables;
use crate::window::Windows;

/// How many pages of 100 of the newest messages are read to find one whose answer was lost: a busy
/// conversation may have received many messages since.
const LOOKBACK_PAGES: usize = 10;
pub const IDEMPOTENCY_ATTRIBUTE: &str = "idempotency_key";

/// A message that was sent.
#[derive(Debug, Clone)]
pub struct Sent {
  pub message_sid: String,
  pub conversation_sid: Option<String>,
  pub body: Option<String>,
  /// The resource as Twilio answered it: JSON text, presented as twilio-node does by the JS entry.
  pub json: String,
}

impl Sent {
  fn from_answer(answer: Answer, conversation: &ConversationInfo) -> Result<Self> {
    let record: MessageRecord = answer.record()?;
    Ok(Self {
      message_sid: record.sid,
      conversation_sid: Some(record.conversation_sid.unwrap_or_else(|| conversation.sid.clone())),
      body: record.body,
      json: answer.json,
    })
  }
}

/// An uploaded media file.
#[derive(Debug, Clone)]
pub struct Uploaded {
  pub media_sid: String,
  pub service_sid: String,
  pub content_type: String,
  pub filename: String,
  pub size: usize,
  /// The resource as Twilio answered it, as JSON text.
  pub json: String,
}

/// Where an image comes from.
pub enum ImageSource<'a> {
  Url(&'a str),
  File { path: &'a str, base_url: Option<&'a str> },
}

/// How an image leaves: uploaded and sent as a conversation message, or by URL through Messages.json.
enum Outbound {
  Upload(MediaFile),
  Url(String),
}

pub struct Messages {
  api: Arc<Api>,
  resolver: Arc<Resolver>,
  pub(crate) config: Arc<Config>,
  fetcher: MediaFetcher,
  pub(crate) windows: Arc<Windows>,
  pub(crate) templates: Arc<Templates>,
  keys: KeyTurns,
}

/// Sends with the same caller's key in one conversation take turns: the second looks for the message only after
/// the first has sent it.
#[derive(Default)]
struct KeyTurns(Mutex<HashMap<KeyId, Arc<tokio::sync::Mutex<()>>>>);

/// A conversation SID and a caller's key.
type KeyId = (String, String);

struct KeyTurn<'k> {
  turns: &'k KeyTurns,
  id: KeyId,
  _held: tokio::sync::OwnedMutexGuard<()>,
}

impl KeyTurns {
  async fn take(&self, conversation_sid: &str, key: &str) -> KeyTurn<'_> {
    let id = (conversation_sid.to_string(), key.to_string());
    let lock = self.0.locked().entry(id.clone()).or_default().clone();
    KeyTurn {
      turns: self,
      id,
      _held: lock.lock_owned().await,
    }
  }
}

impl Drop for KeyTurn<'_> {
  fn drop(&mut self) {
    let mut turns = self.turns.0.locked();
    // Only the map's handle and this turn's are left: nobody waits, the entry goes.
    if turns.get(&self.id).is_some_and(|lock| Arc::strong_count(lock) <= 2) {
      turns.remove(&self.id);
    }
  }
}

fn pair(key: &str, value: impl Into<String>) -> (String, String) {
  (key.to_string(), value.into())
}

impl Messages {
  pub fn new(
    api: Arc<Api>,
    resolver: Arc<Resolver>,
    config: Arc<Config>,
    windows: Arc<Windows>,
    templates: Arc<Templates>,
  ) -> Result<Self> {
    Ok(Self {
      fetcher: MediaFetcher::new(&config)?,
      api,
      resolver,
      config,
      windows,
      templates,
      keys: KeyTurns::default(),
    })
  }

  pub(crate) fn recipient<'c>(&'c self, customer: &'c Customer) -> Recipient<'c> {
    Recipient {
      customer,
      windows: &self.windows,
    }
  }

  /// With `freeformOutsideWindow: 'refuse'`, a free-form message goes only while the customer's window is open.
  async fn check_window(&self, customer: &Customer) -> Result<()> {
    match self.config.freeform_outside_window {
      OutsideWindow::Send => Ok(()),
      // Boxed: the window's read is kilobytes that a send waiting in the pacer would otherwise keep.
      OutsideWindow::Refuse => Box::pin(self.windows.require_open(customer)).await,
    }
  }

  pub async fn text(&self, to: &str, text: &str, author: Option<&str>, key: Option<&str>) -> Result<Sent> {
    let customer = Customer::parse(to)?;
    let body = crate::input::text(text)?;
    let author = author
      .map(crate::input::author)
      .transpose()?
      .unwrap_or(&self.config.system_identity);
    let key = key.map(crate::input::idempotency_key).transpose()?;
    self.check_window(&customer).await?;
    self
      .to_conversation(&customer, key, |_| async {
        Ok(vec![pair("Author", author), pair("Body", body)])
      })
      .await
  }

  /// A template, checked against its definition at Twilio before anything is written (see [`Templates`]);
  /// `allow_samples` lets a placeholder without a value go, for Twilio to fill with its sample.
  pub async fn template(
    &self,
    to: &str,
    content_sid: &str,
    variables: &Variables,
    allow_samples: bool,
    key: Option<&str>,
  ) -> Result<Sent> {
    let customer = Customer::parse(to)?;
    let content_sid = crate::input::content_sid(content_sid)?;
    let key = self.caller_key(key)?;
    // Boxed: the definition's read is kilobytes that a send waiting in the pacer would otherwise keep.
    let admitted = Box::pin(self.templates.admit(
      content_sid,
      variables,
      allow_samples,
      Some(self.recipient(&customer)),
    ))
    .await?;
    let mut params = vec![pair("ContentSid", content_sid)];
    params.extend(admitted.variables.json().map(|v| pair("ContentVariables", v)));
    match self.config.delivery {
      Delivery::Conversations => {
        params.push(pair("Author", self.config.system_identity.as_str()));
        self
          .to_conversation(&customer, key, |_| async { Ok(params.clone()) })
          .await
      }
      Delivery::Messaging => self.through_messaging(&customer, params).await,
    }
  }

  /// A caller's idempotency key, for a send that can honour it: Messages.json (`delivery: 'messaging'`) keeps
  /// no attributes to find an earlier send by.
  pub(crate) fn caller_key<'k>(&self, key: Option<&'k str>) -> Result<Option<&'k str>> {
    let key = key.map(crate::input::idempotency_key).transpose()?;
    if key.is_some() && self.config.delivery == Delivery::Messaging {
      return Err(Error::invalid(
        "INVALID_IDEMPOTENCY_KEY",
        "idempotencyKey needs delivery 'conversations': Messages.json keeps nothing to find an earlier send by",
      ));
    }
    Ok(key)
  }

  pub async fn image(
    &self,
    to: &str,
    source: ImageSource<'_>,
    caption: Option<&str>,
    key: Option<&str>,
  ) -> Result<Sent> {
    let customer = Customer::parse(to)?;
    let caption = caption
      .map(crate::input::caption)
      .transpose()?
      .filter(|c| !c.is_empty());
    let key = self.caller_key(key)?;
    self.check_window(&customer).await?;
    let outbound = match (source, self.config.delivery) {
      (ImageSource::Url(url), Delivery::Messaging) => {
        let url = crate::input::media_url(url)?;
        self.fetcher.check_public(&url).await?;
        Outbound::Url(url.to_string())
      }
      (ImageSource::Url(url), Delivery::Conversations) => {
        Outbound::Upload(self.fetcher.fetch(&crate::input::media_url(url)?, Kind::Image).await?)
      }
      // In a conversation the file itself is uploaded: no public URL needed.
      (ImageSource::File { path, .. }, Delivery::Conversations) => {
        Outbound::Upload(media::read_file(path, self.config.media_max_bytes, self.media_root(), Kind::Image).await?)
      }
      // Messages.json only takes URLs: the old module's public URL for the file, which must exist here.
      (ImageSource::File { path, base_url }, Delivery::Messaging) => {
        media::check_file(path, self.config.media_max_bytes, self.media_root()).await?;
        let base = base_url.ok_or_else(|| {
          Error::invalid(
            "BASE_URL_REQUIRED",
            "With delivery 'messaging', sendImageMessage needs a baseUrl: Messages.json only takes public media URLs",
          )
        })?;
        Outbound::Url(format!(
          "{}/images/{}",
          base.trim_end_matches('/'),
          media::encode_uri_component(media::basename(path))
        ))
      }
    };
    match outbound {
      Outbound::Upload(file) => {
        self
          .to_conversation(&customer, key, |conversation| {
            let file = file.clone();
            let service = conversation.chat_service_sid.clone();
            async move {
              let uploaded = self.upload_to(&service, file).await?;
              let mut params = vec![
                pair("Author", self.config.system_identity.as_str()),
                pair("MediaSid", uploaded.media_sid),
              ];
              params.extend(caption.map(|c| pair("Body", c)));
              Ok(params)
            }
          })
          .await
      }
      Outbound::Url(media_url) => {
        let mut params = vec![pair("MediaUrl", media_url)];
        params.extend(caption.map(|c| pair("Body", c)));
        self.through_messaging(&customer, params).await
      }
    }
  }

  fn media_root(&self) -> Option<&std::path::Path> {
    self.config.media_root.as_deref()
  }

  /// Uploads a local file to the account's default Conversations service.
  pub async fn upload_file(&self, path: &str) -> Result<Uploaded> {
    let file = media::read_file(path, self.config.media_max_bytes, self.media_root(), Kind::Upload).await?;
    let service = self.api.default_service().await?;
    self.upload_to(&service, file).await
  }

  async fn upload_to(&self, service_sid: &str, file: MediaFile) -> Result<Uploaded> {
    let size = file.bytes.len();
    let answer = self
      .api
      .upload_media(service_sid, &file.content_type, &file.filename, file.bytes)
      .await?;
    let record: MediaRecord = answer.record()?;
    Ok(Uploaded {
      media_sid: record.sid,
      service_sid: service_sid.to_string(),
      content_type: file.content_type,
      filename: file.filename,
      size,
      json: answer.json,
    })
  }

  /// A Messages.json send, as the old module made it: the customer's conversation is still found or created
  /// (so the binding exists and replies land in it) and its SID reported, though the message is not in it.
  async fn through_messaging(&self, customer: &Customer, mut params: Vec<(String, String)>) -> Result<Sent> {
    let conversation = self.resolver.resolve(customer).await?;
    params.insert(0, pair("To", customer.address()));
    params.insert(0, pair("From", self.config.sender_address()));
    Sent::from_answer(self.api.send_messaging(params).await?, &conversation)
  }

  /// Sends one message into the customer's conversation. `build` makes the parameters for a conversation (an
  /// image upload needs its chat service). A cached conversation that Twilio reports closed (50377) or gone
  /// (404) is evicted, resolved afresh, and the message sent once more: the refused write did not happen.
  async fn to_conversation<'s, F, Fut>(&'s self, customer: &Customer, key: Option<&str>, build: F) -> Result<Sent>
  where
    F: Fn(&ConversationInfo) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, String)>>> + 's,
  {
    let conversation = self.resolver.resolve(customer).await?;
    let params = build(&conversation).await?;
    match self.post(&conversation.sid, params, key).await {
      Err(error) if error.is_not_found() || error.has_code(50377) => {
        self.resolver.evict(customer).await;
        let fresh = self.resolver.resolve(customer).await?;
        let params = build(&fresh).await?;
        Sent::from_answer(self.post(&fresh.sid, params, key).await?, &fresh)
      }
      result => Sent::from_answer(result?, &conversation),
    }
  }

  /// Posts a conversation message at most once: a caller's key is looked for first, and a lost answer is checked
  /// before any repeat.
  async fn post(
    &self,
    conversation_sid: &str,
    mut params: Vec<(String, String)>,
    caller_key: Option<&str>,
  ) -> Result<Answer> {
    let (key, _turn) = match caller_key {
      Some(key) => {
        let turn = self.keys.take(conversation_sid, key).await;
        if let Some(earlier) = Box::pin(self.landed(conversation_sid, key)).await? {
          return Ok(found(earlier));
        }
        (key.to_string(), Some(turn))
      }
      // A version-4 UUID from the thread's user-space generator (seeded by the OS): no getrandom call per message.
      None => (
        uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string(),
        None,
      ),
    };
    let attributes = serde_json::json!({ IDEMPOTENCY_ATTRIBUTE: key }).to_string();
    params.push(pair("Attributes", attributes));
    let request = self.api.create_message(conversation_sid, params);
    let mut attempt = 0;
    loop {
      let error = match self.api.http().json(&request).await {
        Ok(resource) => return Ok(resource),
        Err(error) => error,
      };
      if !error.is_ambiguous() || attempt >= self.api.http().policy().max_retries {
        return Err(error);
      }
      attempt += 1;
      tokio::time::sleep(backoff(attempt)).await;
      match Box::pin(self.landed(conversation_sid, &key)).await {
        Ok(Some(value)) => return Ok(found(value)),
        Ok(None) => {}
        // Unable to tell whether it landed: report the failure rather than risk sending it twice.
        Err(_) => return Err(error),
      }
    }
  }

  /// The conversation's recent message that carries `key`, if there is one.
  async fn landed(&self, conversation_sid: &str, key: &str) -> Result<Option<Value>> {
    self
      .api
      .find_recent_message(conversation_sid, LOOKBACK_PAGES, |message| {
        message
          .get("attributes")
          .and_then(Value::as_str)
          .and_then(|a| serde_json::from_str::<Value>(a).ok())
          .is_some_and(|a| a.get(IDEMPOTENCY_ATTRIBUTE).and_then(Value::as_str) == Some(key))
      })
      .await
  }
}

/// A message found in a page of the list, which Twilio answered 200.
fn found(message: Value) -> Answer {
  Answer {
    status: 200,
    json: message.to_string(),
  }
}
