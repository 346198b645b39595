//! The sends: text, template and image, each a message of the customer's conversation (or, with
//! `delivery: messaging`, a Messages.json send for templates and images, as the old module made them).
//!
//! A conversation message carries the client's mark in its Attributes (see [`crate::idempotency`]): the caller's
//! key (`idempotencyKey`) or a random one. When its answer is lost (a timeout, a dropped connection, a gateway
//! error) the conversation's newest messages are read first: if the message landed it is the success; only if it
//! did not is it sent again, with the same key. A caller's key is claimed first (see [`crate::claims`]: the process,
//! and the fleet with Redis), then looked for in the customer's conversations, so that a message is sent at most
//! once to the customer whoever sends it (a campaign run again after a crash, another process); an earlier message
//! with it is a replay, or a refusal when it said something else.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::claims::{Claimed, Claims, Held};
use crate::config::{Config, Delivery, OutsideWindow};
use crate::conversation::object_of;
use crate::endpoints::encode_uri_component;
use crate::endpoints::Api;
use crate::error::{Error, Result};
use crate::fetch::MediaFetcher;
use crate::http::backoff;
use crate::idempotency::{ContentDigest, Found, Marks};
use crate::log::Log;
use crate::media::{self, Kind, MediaFile};
use crate::pacing::{Entered, PaceKey};
use crate::phone::Customer;
use crate::reconcile::Journal;
use crate::records::{is_sid, Answer, ConversationInfo, ListedMessage, MediaRecord, MessageRecord};
use crate::resolver::Resolver;
use crate::templates::{Recipient, Templates};
use crate::variables::Variables;
use crate::window::Windows;

/// How many pages of 100 of the newest messages are read to find one whose answer was lost: a busy
/// conversation may have received many messages since.
const LOOKBACK_PAGES: usize = 10;
/// How many of the customer's earlier conversations a keyed send looks through, newest first.
const EARLIER_CONVERSATIONS: usize = 5;

/// A message that was sent.
#[derive(Debug, Clone)]
pub struct Sent {
  pub message_sid: String,
  pub conversation_sid: Option<String>,
  pub body: Option<String>,
  /// The resource as Twilio answered it: JSON text, presented as twilio-node does by the JS entry.
  pub json: String,
  /// An earlier send with the same idempotency key sent this message; this call sent nothing.
  pub replayed: bool,
}

impl Sent {
  fn from_answer(answer: Answer, conversation_sid: &str) -> Result<Self> {
    let record: MessageRecord = answer.record()?;
    Ok(Self {
      message_sid: record.sid,
      conversation_sid: Some(record.conversation_sid.unwrap_or_else(|| conversation_sid.to_string())),
      body: record.body,
      json: answer.json,
      replayed: false,
    })
  }

  /// Sent by an earlier call with the same idempotency key: this one sent nothing.
  fn replayed(mut self) -> Self {
    self.replayed = true;
    self
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

/// A send's input once checked (the number read; the text, author, caption, media URL and key valid): what a
/// send holds while it waits at its lane's gate ([`Messages::enter`]), before its call begins.
pub struct Checked<'a> {
  customer: Customer,
  key: Option<&'a str>,
  what: What<'a>,
}

enum What<'a> {
  Text {
    body: &'a str,
    author: &'a str,
  },
  Template {
    content_sid: &'a str,
    variables: &'a Variables,
    allow_samples: bool,
  },
  Image {
    source: ImageSource<'a>,
    caption: Option<&'a str>,
  },
}

/// Where an image comes from.
#[derive(Clone, Copy)]
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
  claims: Arc<Claims>,
  marks: Marks,
  log: Arc<Log>,
  journal: Arc<Journal>,
}

/// Whether a post's first attempt already waited its pacing turn (`Taken`) or is yet to (`Due`).
#[derive(Clone, Copy)]
enum Turn {
  Taken,
  Due,
}

/// How a send marks its message: with the caller's key (claimed first, found wherever the customer's
/// conversations hold it) or a random one (to find the message whose answer was lost), and what it says.
struct Mark<'m> {
  key: Option<&'m str>,
  content: ContentDigest,
  author: &'m str,
}

impl<'m> Mark<'m> {
  fn new(key: Option<&'m str>, author: &'m str, parts: &[&str]) -> Self {
    Self {
      key,
      content: ContentDigest::of(parts),
      author,
    }
  }
}

/// What a keyed send left behind: where its message is, and what it said.
struct Landed {
  conversation_sid: String,
  message_sid: String,
  content: ContentDigest,
}

impl Landed {
  fn value(&self) -> String {
    format!(
      "{}/{}/{}",
      self.conversation_sid,
      self.message_sid,
      self.content.as_str()
    )
  }

  fn parse(value: &str) -> Option<Self> {
    let mut parts = value.split('/');
    let (conversation_sid, message_sid, content) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && is_sid(conversation_sid, "CH") && is_sid(message_sid, "IM")).then(|| Self {
      conversation_sid: conversation_sid.to_string(),
      message_sid: message_sid.to_string(),
      content: ContentDigest::from_stored(content),
    })
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
    claims: Arc<Claims>,
    log: Arc<Log>,
  ) -> Result<Self> {
    Ok(Self {
      fetcher: MediaFetcher::new(&config)?,
      marks: Marks::new(&config.idempotency_secret),
      api,
      resolver,
      config,
      windows,
      templates,
      journal: Arc::new(Journal::new(claims.fleet().cloned())),
      claims,
      log,
    })
  }

  /// The messages sent, for reconciling their receipts.
  pub(crate) fn journal(&self) -> &Arc<Journal> {
    &self.journal
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

  pub fn check_text<'a>(
    &'a self,
    to: &str,
    text: &'a str,
    author: Option<&'a str>,
    key: Option<&'a str>,
  ) -> Result<Checked<'a>> {
    let customer = self.customer(to)?;
    let body = crate::input::text(text)?;
    let author = author
      .map(crate::input::author)
      .transpose()?
      .unwrap_or(&self.config.system_identity);
    let key = key.map(crate::input::idempotency_key).transpose()?;
    Ok(Checked {
      customer,
      key,
      what: What::Text { body, author },
    })
  }

  pub fn check_template<'a>(
    &self,
    to: &str,
    content_sid: &'a str,
    variables: &'a Variables,
    allow_samples: bool,
    key: Option<&'a str>,
  ) -> Result<Checked<'a>> {
    let customer = self.customer(to)?;
    let content_sid = crate::input::content_sid(content_sid)?;
    let key = self.caller_key(key)?;
    Ok(Checked {
      customer,
      key,
      what: What::Template {
        content_sid,
        variables,
        allow_samples,
      },
    })
  }

  pub fn check_image<'a>(
    &self,
    to: &str,
    source: ImageSource<'a>,
    caption: Option<&'a str>,
    key: Option<&'a str>,
  ) -> Result<Checked<'a>> {
    let customer = self.customer(to)?;
    let caption = caption
      .map(crate::input::caption)
      .transpose()?
      .filter(|c| !c.is_empty());
    let key = self.caller_key(key)?;
    if let ImageSource::Url(url) = source {
      crate::input::media_url(url)?;
    }
    Ok(Checked {
      customer,
      key,
      what: What::Image { source, caption },
    })
  }

  /// Waits at the gate of the lane a checked send will write in (see [`crate::pacing::Pacer::enter`]): its
  /// customer's cached conversation's, or the service's creations for a customer without one yet. Messages.json
  /// sends are not paced by conversation.
  pub async fn enter(&self, checked: &Checked<'_>) -> Result<Option<Entered>> {
    if self.config.delivery == Delivery::Messaging || !self.api.http().paces() {
      return Ok(None);
    }
    // Boxed: the cache's lookup is the largest step of the wait, and over before it.
    let lane = match Box::pin(self.resolver.cached_sid(&checked.customer)).await {
      Some(sid) => PaceKey::Conversation(sid),
      None => PaceKey::Service,
    };
    self.api.http().enter(lane).await
  }

  /// Sends what was checked.
  pub async fn send(&self, checked: &Checked<'_>) -> Result<Sent> {
    let Checked { customer, key, what } = checked;
    match *what {
      What::Text { body, author } => self.text(customer, body, author, *key).await,
      What::Template {
        content_sid,
        variables,
        allow_samples,
      } => {
        self
          .template(customer, content_sid, variables, allow_samples, *key)
          .await
      }
      What::Image { source, caption } => self.image(customer, source, caption, *key).await,
    }
  }

  async fn text(&self, customer: &Customer, body: &str, author: &str, key: Option<&str>) -> Result<Sent> {
    self.check_window(customer).await?;
    let mark = Mark::new(key, author, &["text", author, body]);
    self
      .to_conversation(customer, &mark, |_| async {
        Ok(vec![pair("Author", author), pair("Body", body)])
      })
      .await
  }

  /// A template, checked against its definition at Twilio before anything is written (see [`Templates`]);
  /// `allow_samples` lets a placeholder without a value go, for Twilio to fill with its sample.
  async fn template(
    &self,
    customer: &Customer,
    content_sid: &str,
    variables: &Variables,
    allow_samples: bool,
    key: Option<&str>,
  ) -> Result<Sent> {
    // Boxed: the definition's read is kilobytes that a send waiting in the pacer would otherwise keep.
    let admitted = Box::pin(self.templates.admit(
      content_sid,
      variables,
      allow_samples,
      Some(self.recipient(customer)),
    ))
    .await?;
    let variables = admitted.variables.json();
    let mut params = vec![pair("ContentSid", content_sid)];
    params.extend(variables.clone().map(|v| pair("ContentVariables", v)));
    match self.config.delivery {
      Delivery::Conversations => {
        let author = self.config.system_identity.as_str();
        params.push(pair("Author", author));
        let mark = Mark::new(
          key,
          author,
          &["template", content_sid, variables.as_deref().unwrap_or("")],
        );
        self
          .to_conversation(customer, &mark, |_| async { Ok(params.clone()) })
          .await
      }
      Delivery::Messaging => self.through_messaging(customer, params).await,
    }
  }

  /// A caller's idempotency key, for a send that can honour it: Messages.json (`delivery: 'messaging'`) keeps
  /// no attributes to find an earlier send by.
  /// The customer `to` names, read as the client's options say.
  pub(crate) fn customer(&self, to: &str) -> Result<Customer> {
    self.resolver.customer(to)
  }

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

  async fn image(
    &self,
    customer: &Customer,
    source: ImageSource<'_>,
    caption: Option<&str>,
    key: Option<&str>,
  ) -> Result<Sent> {
    self.check_window(customer).await?;
    let author = self.config.system_identity.as_str();
    let mark = match source {
      ImageSource::Url(url) => Mark::new(key, author, &["image", url, caption.unwrap_or("")]),
      ImageSource::File { path, .. } => Mark::new(key, author, &["image-file", path, caption.unwrap_or("")]),
    };
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
          encode_uri_component(media::basename(path))
        ))
      }
    };
    match outbound {
      Outbound::Upload(file) => {
        self
          .to_conversation(customer, &mark, |conversation| {
            let file = file.clone();
            let service = conversation.chat_service_sid.clone();
            async move {
              let uploaded = self.upload_to(&service, file).await?;
              let mut params = vec![pair("Author", author), pair("MediaSid", uploaded.media_sid)];
              params.extend(caption.map(|c| pair("Body", c)));
              Ok(params)
            }
          })
          .await
      }
      Outbound::Url(media_url) => {
        let mut params = vec![pair("MediaUrl", media_url)];
        params.extend(caption.map(|c| pair("Body", c)));
        self.through_messaging(customer, params).await
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
    Sent::from_answer(self.api.send_messaging(params).await?, &conversation.sid)
  }

  /// Sends one message into the customer's conversation, at most once for a caller's key: the key is claimed
  /// (fleet-wide with Redis), what an earlier send did with it is looked for, and only then is the message sent.
  async fn to_conversation<'s, F, Fut>(&'s self, customer: &Customer, mark: &Mark<'_>, build: F) -> Result<Sent>
  where
    F: Fn(&ConversationInfo) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, String)>>> + 's,
  {
    match mark.key {
      None => self.deliver(customer, mark, &random_key(), build).await,
      // Boxed: the claim's state is not held by the unkeyed sends that wait in the pacer.
      Some(key) => Box::pin(self.claimed(customer, mark, key, build)).await,
    }
  }

  /// A keyed send, under the key's claim (fleet-wide with Redis).
  async fn claimed<'s, F, Fut>(&'s self, customer: &Customer, mark: &Mark<'_>, key: &str, build: F) -> Result<Sent>
  where
    F: Fn(&ConversationInfo) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, String)>>> + 's,
  {
    let name = self.claim_name(customer, key);
    // A remembered send whose message is gone (deleted, or a value Redis should not hold) is forgotten, once.
    for _ in 0..2 {
      let held = match Box::pin(self.claims.claim(&name)).await {
        Claimed::Held(held) => held,
        Claimed::Done(value) => {
          if let Some(landed) = Landed::parse(&value) {
            if let Some(sent) = Box::pin(self.replay(&landed, mark)).await? {
              return Ok(sent);
            }
          }
          Box::pin(self.claims.forget(&name, &value)).await;
          continue;
        }
      };
      return match Box::pin(self.keyed(customer, mark, key, &held, &build)).await {
        Ok((sent, landed)) => {
          Box::pin(held.done(&landed.value())).await;
          Ok(sent)
        }
        Err(error) => {
          Box::pin(held.release()).await;
          Err(error)
        }
      };
    }
    Err(Error::Internal {
      message: "an idempotency key's record named a message that is gone, twice".to_string(),
    })
  }

  /// The claim's name: the account, our sender, the customer and the key, digested, so that Redis holds no number.
  fn claim_name(&self, customer: &Customer, key: &str) -> String {
    let sender = self.config.sender_address();
    let address = customer.address();
    let name = ContentDigest::of(&["send", &self.config.account_sid, &sender, &address, key]);
    format!("send:{}", name.as_str())
  }

  /// A keyed send under its claim: an earlier message with the key (in the customer's conversation, or an earlier
  /// one of theirs, closed since) is the answer, or refused if it said something else; else the message is sent.
  async fn keyed<'s, F, Fut>(
    &'s self,
    customer: &Customer,
    mark: &Mark<'_>,
    key: &str,
    held: &Held,
    build: &F,
  ) -> Result<(Sent, Landed)>
  where
    F: Fn(&ConversationInfo) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, String)>>> + 's,
  {
    let conversation = Box::pin(self.resolver.resolve(customer)).await?;
    // The earlier conversations are asked for only when the customer's own does not hold the key.
    let mut earlier = None;
    let mut next = Some(conversation.sid.clone());
    while let Some(sid) = next {
      if let Some((message, content)) = Box::pin(self.landed(&sid, key, mark.author)).await? {
        let sent = Sent::from_answer(found(message), &sid)?.replayed();
        let landed = Landed {
          conversation_sid: sid,
          message_sid: sent.message_sid.clone(),
          content,
        };
        check_same(&landed, mark)?;
        return Ok((sent, landed));
      }
      if earlier.is_none() {
        earlier = Some(self.earlier_conversations(customer, &conversation).await?.into_iter());
      }
      next = earlier.as_mut().and_then(Iterator::next);
    }
    if held.lost() {
      return Err(Error::Refused {
        code: "IDEMPOTENCY_KEY_IN_USE",
        message: "Another sender took this idempotencyKey over after this call's claim on it ran out; that sender \
                  sends the message"
          .to_string(),
      });
    }
    let sent = self.deliver(customer, mark, key, |c| build(c)).await?;
    let landed = Landed {
      conversation_sid: sent.conversation_sid.clone().unwrap_or_default(),
      message_sid: sent.message_sid.clone(),
      content: mark.content.clone(),
    };
    Ok((sent, landed))
  }

  /// The customer's other conversations with our sender, where a key sent before a conversation closed is: none
  /// when the customer's conversation is the first this client made for them.
  async fn earlier_conversations(&self, customer: &Customer, current: &ConversationInfo) -> Result<Vec<String>> {
    if current.unique_name.as_deref().and_then(|n| customer.generation_of(n)) == Some(1) {
      return Ok(Vec::new());
    }
    let sender = self.config.sender_address();
    let records = self.api.participant_conversations(&customer.address()).await?;
    Ok(
      records
        .into_iter()
        .filter(|r| r.conversation.sid != current.sid && r.proxy_address.as_deref() == Some(sender.as_str()))
        .map(|r| r.conversation.sid)
        .take(EARLIER_CONVERSATIONS)
        .collect(),
    )
  }

  /// An earlier send's message, read again for its result; `None` when it is gone.
  async fn replay(&self, landed: &Landed, mark: &Mark<'_>) -> Result<Option<Sent>> {
    check_same(landed, mark)?;
    match self.api.message(&landed.conversation_sid, &landed.message_sid).await {
      Ok(message) => Ok(Some(
        Sent::from_answer(found(message.to_string()), &landed.conversation_sid)?.replayed(),
      )),
      Err(error) if error.is_not_found() => Ok(None),
      Err(error) => Err(error),
    }
  }

  /// Sends the message marked with `key` into the customer's conversation. `build` makes the parameters for a
  /// conversation (an image upload needs its chat service). A cached conversation that Twilio reports closed
  /// (50377) or gone (404) is evicted, resolved afresh, and the message sent once more: the refused write did not
  /// happen.
  async fn deliver<'s, F, Fut>(&'s self, customer: &Customer, mark: &Mark<'_>, key: &str, build: F) -> Result<Sent>
  where
    F: Fn(&ConversationInfo) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, String)>>> + 's,
  {
    // Boxed here and below: a send waiting its turn in the pacer holds only the steps on its way there, not the
    // largest of every step it could take (a lookup that creates, a claim, a replay).
    let conversation = Box::pin(self.resolver.resolve(customer)).await?;
    let params = Box::pin(build(&conversation)).await?;
    // The turn is waited for here, before the post's state exists: a send in a deep queue holds this little.
    let lane = PaceKey::Conversation(conversation.sid.clone());
    self.api.http().turn(&lane, false).await?;
    let sent = match Box::pin(self.post(&conversation.sid, params, mark, key, Turn::Taken)).await {
      Err(error) if error.is_not_found() || error.has_code(50377) => {
        Box::pin(self.resolver.evict(customer)).await;
        let fresh = Box::pin(self.resolver.resolve(customer)).await?;
        let params = Box::pin(build(&fresh)).await?;
        let posted = Box::pin(self.post(&fresh.sid, params, mark, key, Turn::Due)).await?;
        Sent::from_answer(posted, &fresh.sid)?
      }
      result => Sent::from_answer(result?, &conversation.sid)?,
    };
    if let Some(conversation_sid) = &sent.conversation_sid {
      self.journal.sent(conversation_sid, &sent.message_sid);
    }
    Ok(sent)
  }

  /// Posts a conversation message once, marked with `key`: a lost answer is checked before any repeat.
  async fn post(
    &self,
    conversation_sid: &str,
    mut params: Vec<(String, String)>,
    mark: &Mark<'_>,
    key: &str,
    turn: Turn,
  ) -> Result<Answer> {
    let attributes = self.marks.attributes(conversation_sid, key, &mark.content);
    params.push(pair("Attributes", Value::Object(attributes.clone()).to_string()));
    let request = self.api.create_message(conversation_sid, params);
    let request = match turn {
      Turn::Taken => request.with_turn_taken(),
      Turn::Due => request,
    };
    let mut attempt = 0;
    loop {
      let error = match self.api.http().json(&request).await {
        Ok(answer) => return Ok(Box::pin(self.kept(conversation_sid, answer, attributes)).await),
        Err(error) => error,
      };
      if !error.is_ambiguous() || attempt >= self.api.http().policy().max_retries {
        return Err(error);
      }
      attempt += 1;
      tokio::time::sleep(backoff(attempt)).await;
      match Box::pin(self.landed(conversation_sid, key, mark.author)).await {
        Ok(Some((message, _))) => return Ok(found(message)),
        Ok(None) => {}
        // Unable to tell whether it landed: report the failure rather than risk sending it twice.
        Err(_) => return Err(error),
      }
    }
  }

  /// The message as sent, its mark put back if a pre-action webhook replaced its attributes (Twilio takes a
  /// pre-action answer's attributes whole): without the mark, a rerun could not find it. What the webhook wrote
  /// is kept beside the mark; attributes that are not a JSON object cannot hold it, and are left as they are.
  async fn kept(&self, conversation_sid: &str, answer: Answer, mark: Map<String, Value>) -> Answer {
    // Only the fields the check needs: every send goes through here.
    let Ok(message) = serde_json::from_str::<ListedMessage>(&answer.json) else {
      return answer;
    };
    if Marks::kept(&message) {
      return answer;
    }
    let text = message.attributes.as_deref().unwrap_or("");
    let Some(mut attributes) = object_of(text).or_else(|| text.trim().is_empty().then(Map::new)) else {
      self.log.warn(format!(
        "A pre-action webhook replaced message {}'s attributes with JSON that is not an object: its idempotency mark \
         could not be put back, so a rerun with its key may send it again.",
        message.sid
      ));
      return answer;
    };
    attributes.extend(mark);
    let message_sid = message.sid.as_str();
    if message_sid.is_empty() {
      return answer;
    }
    let attributes = Value::Object(attributes).to_string();
    match self
      .api
      .update_message_attributes(conversation_sid, message_sid, &attributes)
      .await
    {
      Ok(updated) => updated,
      Err(error) => {
        self.log.warn(format!(
          "A pre-action webhook replaced message {message_sid}'s attributes, and putting its idempotency mark back \
           failed ({}): a rerun with its key may send it again.",
          error.code()
        ));
        answer
      }
    }
  }

  /// The message of the conversation marked by this client with `key`, and what it said. A message that carries
  /// the key without the client's mark (written by a participant) is ignored, with a warning.
  async fn landed(&self, conversation_sid: &str, key: &str, author: &str) -> Result<Option<(String, ContentDigest)>> {
    let found = self
      .api
      .find_recent_message(conversation_sid, LOOKBACK_PAGES, |message| {
        match self.marks.read(conversation_sid, key, author, message) {
          Found::Ours(_) => true,
          Found::Absent => false,
          Found::Forged => {
            self.log.warn(format!(
              "Ignored message {} in conversation {conversation_sid}: it carries an idempotency key this client did \
               not write (its author is not the client's or its MAC does not verify), so it does not stand for a \
               send.",
              message.sid,
            ));
            false
          }
        }
      })
      .await?;
    Ok(found.and_then(
      |(message, json)| match self.marks.read(conversation_sid, key, author, &message) {
        Found::Ours(content) => Some((json, content)),
        _ => None,
      },
    ))
  }
}

/// A key reused for other content is refused, as payment APIs refuse a key reused with other parameters.
fn check_same(landed: &Landed, mark: &Mark<'_>) -> Result<()> {
  if landed.content == mark.content {
    return Ok(());
  }
  Err(Error::Refused {
    code: "IDEMPOTENCY_KEY_REUSED",
    message: format!(
      "idempotencyKey was already used for another message ({} in conversation {}): a key names one message; give \
       other content a key of its own",
      landed.message_sid, landed.conversation_sid
    ),
  })
}

/// A version-4 UUID from the thread's user-space generator (seeded by the OS): no getrandom call per message.
fn random_key() -> String {
  uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string()
}

/// A message found (in a page of the list, or fetched), which Twilio answered 200.
fn found(json: String) -> Answer {
  Answer { status: 200, json }
}
