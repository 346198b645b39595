//! The facade the binding wraps: one per JS instance, holding the config, one HTTP client, the resolver
//! (and its cache) and the sends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::agents::{AgentAdded, AgentRemoved, Agents, Assignment, Participants, Unassignment};
use crate::claims::Claims;
use crate::config::Config;
use crate::conversation::{Conversations, Metadata, StateChange, Status};
use crate::endpoints::Api;
use crate::error::Result;
use crate::events::{Admission, Events};
use crate::fleet::{Fleet, FleetOptions};
use crate::history::History;
use crate::http::{Http, RetryPolicy};
use crate::log::Log;
use crate::messages::{Checked, ImageSource, Messages, Sent, Uploaded};
use crate::observe::Observer;
use crate::pacing::Pacer;
use crate::preflight::{Draft, Preflight};
use crate::receipts::DeliveryStatus;
use crate::reconcile::Event;
use crate::resolver::Resolver;
use crate::templates::Templates;
use crate::transport::Transport;
use crate::variables::Variables;
use crate::webhooks::{WebhookConfiguration, WebhookSettings};
use crate::window::{Window, Windows};

pub struct Client {
  config: Arc<Config>,
  api: Arc<Api>,
  resolver: Arc<Resolver>,
  messages: Messages,
  conversations: Arc<Conversations>,
  agents: Agents,
  log: Arc<Log>,
  windows: Arc<Windows>,
  observer: Arc<Observer>,
  events: Events,
  fleet: Option<Arc<Fleet>>,
}

impl Client {
  pub fn new(config: Config) -> Result<Self> {
    let transport = crate::transport::transport(&config)?;
    Self::with_transport(config, transport)
  }

  pub fn with_transport(config: Config, transport: Arc<dyn Transport>) -> Result<Self> {
    let policy = RetryPolicy {
      max_retries: config.max_retries,
      timeout: config.timeout,
      deadline: config.deadline,
    };
    let config = Arc::new(config);
    let log = Arc::new(Log::new(config.log_level));
    let fleet = config
      .redis_url
      .as_ref()
      .map(|url| {
        let options = FleetOptions {
          url,
          ca: config.redis_ca.as_deref(),
          key_prefix: &config.redis_key_prefix,
          account_sid: &config.account_sid,
          service_sid: config.chat_service_sid.as_deref(),
          max_queue: config.max_queue,
        };
        Fleet::new(options, log.clone()).map(Arc::new)
      })
      .transpose()?;
    let pacer = Pacer::new(config.writes_per_second, config.max_queue, fleet.clone());
    let claims = Arc::new(Claims::new(fleet.clone(), config.claim_lease));
    let events = Events::new(claims.clone(), fleet.clone(), config.account_sid.clone());
    let observer = Arc::new(Observer::default());
    let api = Arc::new(Api::new(
      Http::new(transport, policy, pacer).observed(observer.clone()),
      config.hosts.clone(),
      config.account_sid.clone(),
      config.chat_service_sid.clone(),
    ));
    let resolver = Arc::new(Resolver::new(api.clone(), &config, log.clone(), fleet.clone()));
    let conversations = Arc::new(Conversations::new(api.clone(), resolver.clone()));
    let windows = Arc::new(Windows::new(api.clone(), conversations.clone()));
    let templates = Arc::new(Templates::new(api.clone(), &config, log.clone()));
    let messages = Messages::new(
      api.clone(),
      resolver.clone(),
      config.clone(),
      windows.clone(),
      templates,
      claims,
      log.clone(),
    )?;
    let agents = Agents::new(api.clone(), conversations.clone());
    Ok(Self {
      config,
      api,
      resolver,
      messages,
      conversations,
      agents,
      log,
      windows,
      observer,
      events,
      fleet,
    })
  }

  /// Ends the Redis connections; what still runs afterwards (a claim's renewal) paces and claims alone.
  pub fn close(&self) {
    if let Some(fleet) = &self.fleet {
      fleet.close();
    }
  }

  /// What the client does: request records while watched, and running totals.
  pub fn observer(&self) -> &Arc<Observer> {
    &self.observer
  }

  pub fn config(&self) -> &Config {
    &self.config
  }

  /// Lines for the caller's logger, raised since they were last taken.
  pub fn log(&self) -> &Arc<Log> {
    &self.log
  }

  /// Bounds a whole call, retries and waits included, by the configured deadline. The call arrives boxed:
  /// its state machine is kilobytes large, and the binding and the runtime move the outer future around.
  async fn within_deadline<T>(&self, call: Pin<Box<dyn Future<Output = Result<T>> + Send + '_>>) -> Result<T> {
    let limit = crate::call::requested_limit().unwrap_or(self.config.deadline);
    crate::call::within(limit, call).await
  }

  pub async fn find_or_create_conversation(&self, phone: &str) -> Result<String> {
    let customer = self.resolver.customer(phone)?;
    let call = async { Ok(self.resolver.resolve(&customer).await?.sid) };
    self.within_deadline(Box::pin(call)).await
  }

  pub async fn get_conversation(&self, phone: &str) -> Result<Option<String>> {
    let customer = self.resolver.customer(phone)?;
    let call = async { Ok(self.resolver.find(&customer).await?.map(|c| c.sid)) };
    self.within_deadline(Box::pin(call)).await
  }

  /// `key`: the caller's idempotency key, sent at most once per conversation whoever sends it.
  pub async fn send_message(&self, to: &str, text: &str, author: Option<&str>, key: Option<&str>) -> Result<Sent> {
    let checked = self.messages.check_text(to, text, author, key)?;
    self.send(checked).await
  }

  /// A checked send waits at its lane's gate before its call begins, holding only its input: its deadline has not
  /// started, and nothing it would make exists yet (see [`crate::pacing::Pacer::enter`]).
  /// Not an `async fn`, whose argument rustc holds twice, as it is and moved into a local (rust-lang/rust#62958).
  #[allow(clippy::manual_async_fn)]
  fn send<'s>(&'s self, checked: Checked<'s>) -> impl Future<Output = Result<Sent>> + Send + 's {
    async move {
      let _entered = Box::pin(self.messages.enter(&checked)).await?;
      Box::pin(self.within_deadline(Box::pin(self.messages.send(&checked)))).await
    }
  }

  /// `allow_samples`: a placeholder without a value goes, for Twilio to fill with the template's sample.
  pub async fn send_template_message(
    &self,
    to: &str,
    content_sid: &str,
    variables: &Variables,
    allow_samples: bool,
    key: Option<&str>,
  ) -> Result<Sent> {
    let checked = self
      .messages
      .check_template(to, content_sid, variables, allow_samples, key)?;
    self.send(checked).await
  }

  /// Every check a send makes before its first write, made alone, with reads only: whether it would be sent.
  pub async fn preflight(&self, to: Option<&str>, draft: Draft<'_>, key: Option<&str>) -> Result<Preflight> {
    let call = self.messages.preflight(to, draft, key);
    self.within_deadline(Box::pin(call)).await
  }

  pub async fn send_image_by_url(&self, to: &str, url: &str, caption: Option<&str>, key: Option<&str>) -> Result<Sent> {
    let checked = self.messages.check_image(to, ImageSource::Url(url), caption, key)?;
    self.send(checked).await
  }

  pub async fn send_image_file(
    &self,
    to: &str,
    path: &str,
    caption: Option<&str>,
    base_url: Option<&str>,
  ) -> Result<Sent> {
    let source = ImageSource::File { path, base_url };
    let checked = self.messages.check_image(to, source, caption, None)?;
    self.send(checked).await
  }

  pub async fn upload_media(&self, path: &str) -> Result<Uploaded> {
    self.within_deadline(Box::pin(self.messages.upload_file(path))).await
  }

  /// Fetches the account, then probes the Conversations API: the account's SID and name.
  pub async fn test_connection(&self) -> Result<(String, Option<String>)> {
    let call = async {
      let account = self.api.fetch_account().await?;
      self.api.configuration().await?;
      let text = |name: &str| account.get(name).and_then(serde_json::Value::as_str);
      let sid = text("sid").unwrap_or(&self.config.account_sid).to_string();
      Ok((sid, text("friendly_name").map(str::to_string)))
    };
    self.within_deadline(Box::pin(call)).await
  }

  pub async fn add_agent(&self, phone: &str, identity: &str, attributes: Option<&str>) -> Result<AgentAdded> {
    self
      .within_deadline(Box::pin(self.agents.add(phone, identity, attributes)))
      .await
  }

  pub async fn remove_agent(&self, phone: &str, identity: &str) -> Result<AgentRemoved> {
    self
      .within_deadline(Box::pin(self.agents.remove(phone, identity)))
      .await
  }

  pub async fn list_participants(&self, phone: &str) -> Result<Participants> {
    self.within_deadline(Box::pin(self.agents.list(phone))).await
  }

  pub async fn assign_conversation(&self, phone: &str, identity: &str, keep_previous: bool) -> Result<Assignment> {
    let call = self.agents.assign(phone, identity, keep_previous);
    self.within_deadline(Box::pin(call)).await
  }

  pub async fn unassign_conversation(&self, phone: &str) -> Result<Unassignment> {
    self.within_deadline(Box::pin(self.agents.unassign(phone))).await
  }

  pub async fn conversation_status(&self, phone: &str) -> Result<Status> {
    self.within_deadline(Box::pin(self.conversations.status(phone))).await
  }

  pub async fn set_conversation_state(&self, phone: &str, state: &str) -> Result<StateChange> {
    self
      .within_deadline(Box::pin(self.conversations.set_state(phone, state)))
      .await
  }

  pub async fn conversation_metadata(&self, phone: &str) -> Result<Metadata> {
    self.within_deadline(Box::pin(self.conversations.metadata(phone))).await
  }

  /// `patch`: a JSON object text; merged at the top level (`null` deletes a key) or, with `replace`, the whole.
  pub async fn set_conversation_metadata(&self, phone: &str, patch: &str, replace: bool) -> Result<Metadata> {
    let call = self.conversations.set_metadata(phone, patch, replace);
    self.within_deadline(Box::pin(call)).await
  }

  /// Up to `limit` messages (1 to 1,000), `order` `asc` or `desc`.
  pub async fn messages(&self, phone: &str, limit: f64, order: &str) -> Result<History> {
    let call = crate::history::messages(&self.api, &self.conversations, phone, limit, order);
    self.within_deadline(Box::pin(call)).await
  }

  pub async fn delivery_status(&self, phone: &str, message_sid: &str) -> Result<DeliveryStatus> {
    let call = crate::receipts::delivery_status(&self.api, &self.conversations, phone, message_sid);
    self.within_deadline(Box::pin(call)).await
  }

  pub async fn whatsapp_window(&self, phone: &str) -> Result<Window> {
    self.within_deadline(Box::pin(self.windows.get(phone))).await
  }

  pub async fn configure_webhooks(&self, settings: &WebhookSettings) -> Result<WebhookConfiguration> {
    let call = crate::webhooks::configure(&self.api, settings);
    self.within_deadline(Box::pin(call)).await
  }

  pub async fn webhook_configuration(&self) -> Result<WebhookConfiguration> {
    let call = crate::webhooks::configuration(&self.api);
    self.within_deadline(Box::pin(call)).await
  }

  /// Whether a webhook event (its form parameters, and Twilio's delivery token if any) goes to its handler: each
  /// event once, fleet-wide with Redis, and no delivery status older than one handed on.
  pub async fn admit_event(&self, params: &[(String, String)], token: Option<&str>) -> Admission {
    self.events.admit(params, token).await
  }

  /// The handler of an admitted event finished (`handled`) or failed (its event is handled again when it comes again).
  pub async fn settle_event(&self, ticket: u64, handled: bool) {
    self.events.settle(ticket, handled).await;
  }

  /// The `onDeliveryUpdated` events of every receipt of the messages this client (or, with Redis, its fleet) sent
  /// from `since_ms` to `until_ms`, read from Twilio, for the webhook handler to hand on what it missed.
  pub async fn missed_receipts(&self, since_ms: u64, until_ms: u64) -> Result<Vec<Event>> {
    self
      .messages
      .journal()
      .receipts(&self.api, &self.config.account_sid, since_ms, until_ms)
      .await
  }

  pub async fn cached_conversations(&self) -> u64 {
    self.resolver.cached_entries().await
  }
}
