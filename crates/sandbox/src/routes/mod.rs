//! Every operation the sandbox emulates, in one typed table: its method, its template as Twilio's OpenAPI files
//! write it, and its handler. A request is matched once; the values of the template's `{…}` segments come out of
//! that match. Service-scoped paths (`/v1/Services/{IS}/…`) are the same operations on the default service. The
//! Content API's paths (`/v1/Content…`) share the origin: no Conversations path begins so.

pub mod content;
pub mod conversations;
pub mod inbound;
pub mod media;
pub mod messages;
pub mod messaging;
pub mod participants;
pub mod receipts;
pub mod webhooks;

use std::sync::OnceLock;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::app::{App, Incoming, Reply};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render::Rendering;
use crate::state::RateKey;
use crate::state::{Event, Source, State};
use crate::template::Template;

const SERVICE_PREFIX: &str = "/v1/Services/{ChatServiceSid}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
  Configuration,
  ListAddresses,
  CreateAddress,
  FetchAddress,
  DeleteAddress,
  ServiceConfiguration,
  FetchAccountWebhooks,
  UpdateAccountWebhooks,
  FetchServiceWebhooks,
  UpdateServiceWebhooks,
  CreateWebhook,
  ListWebhooks,
  FetchWebhook,
  UpdateWebhook,
  DeleteWebhook,
  ListReceipts,
  FetchReceipt,
  CreateConversation,
  ListConversations,
  FetchConversation,
  UpdateConversation,
  DeleteConversation,
  CreateWithParticipants,
  CreateParticipant,
  ListParticipants,
  FetchParticipant,
  DeleteParticipant,
  CreateMessage,
  ListMessages,
  FetchMessage,
  UpdateMessage,
  ParticipantConversations,
  SendSms,
  FetchAccount,
  UploadMedia,
  FetchMedia,
  MediaContent,
  CreateContent,
  ListContents,
  FetchContent,
  DeleteContent,
  ListContentsAndApprovals,
  FetchApproval,
  CreateApproval,
}

/// Where a route is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
  /// At its template only.
  Exact,
  /// At its template and under `/v1/Services/{ChatServiceSid}` (a Conversations resource).
  AlsoService,
  /// At its template, which Twilio's OpenAPI files do not describe (the Media Content Service): no contract check.
  Undescribed,
}

use Route::*;
use Scope::*;

const TABLE: &[(&str, &str, Route, Scope)] = &[
  ("GET", "/v1/Configuration", Configuration, Exact),
  ("GET", "/v1/Configuration/Addresses", ListAddresses, Exact),
  ("POST", "/v1/Configuration/Addresses", CreateAddress, Exact),
  ("GET", "/v1/Configuration/Addresses/{Sid}", FetchAddress, Exact),
  ("DELETE", "/v1/Configuration/Addresses/{Sid}", DeleteAddress, Exact),
  (
    "GET",
    "/v1/Services/{ChatServiceSid}/Configuration",
    ServiceConfiguration,
    Exact,
  ),
  ("GET", "/v1/Configuration/Webhooks", FetchAccountWebhooks, Exact),
  ("POST", "/v1/Configuration/Webhooks", UpdateAccountWebhooks, Exact),
  (
    "GET",
    "/v1/Services/{ChatServiceSid}/Configuration/Webhooks",
    FetchServiceWebhooks,
    Exact,
  ),
  (
    "POST",
    "/v1/Services/{ChatServiceSid}/Configuration/Webhooks",
    UpdateServiceWebhooks,
    Exact,
  ),
  (
    "POST",
    "/v1/Conversations/{ConversationSid}/Webhooks",
    CreateWebhook,
    AlsoService,
  ),
  (
    "GET",
    "/v1/Conversations/{ConversationSid}/Webhooks",
    ListWebhooks,
    AlsoService,
  ),
  (
    "GET",
    "/v1/Conversations/{ConversationSid}/Webhooks/{Sid}",
    FetchWebhook,
    AlsoService,
  ),
  (
    "POST",
    "/v1/Conversations/{ConversationSid}/Webhooks/{Sid}",
    UpdateWebhook,
    AlsoService,
  ),
  (
    "DELETE",
    "/v1/Conversations/{ConversationSid}/Webhooks/{Sid}",
    DeleteWebhook,
    AlsoService,
  ),
  (
    "GET",
    "/v1/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts",
    ListReceipts,
    AlsoService,
  ),
  (
    "GET",
    "/v1/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts/{Sid}",
    FetchReceipt,
    AlsoService,
  ),
  ("POST", "/v1/Conversations", CreateConversation, AlsoService),
  ("GET", "/v1/Conversations", ListConversations, AlsoService),
  ("GET", "/v1/Conversations/{Sid}", FetchConversation, AlsoService),
  ("POST", "/v1/Conversations/{Sid}", UpdateConversation, AlsoService),
  ("DELETE", "/v1/Conversations/{Sid}", DeleteConversation, AlsoService),
  (
    "POST",
    "/v1/ConversationWithParticipants",
    CreateWithParticipants,
    AlsoService,
  ),
  (
    "POST",
    "/v1/Conversations/{ConversationSid}/Participants",
    CreateParticipant,
    AlsoService,
  ),
  (
    "GET",
    "/v1/Conversations/{ConversationSid}/Participants",
    ListParticipants,
    AlsoService,
  ),
  (
    "GET",
    "/v1/Conversations/{ConversationSid}/Participants/{Sid}",
    FetchParticipant,
    AlsoService,
  ),
  (
    "DELETE",
    "/v1/Conversations/{ConversationSid}/Participants/{Sid}",
    DeleteParticipant,
    AlsoService,
  ),
  (
    "POST",
    "/v1/Conversations/{ConversationSid}/Messages",
    CreateMessage,
    AlsoService,
  ),
  (
    "GET",
    "/v1/Conversations/{ConversationSid}/Messages",
    ListMessages,
    AlsoService,
  ),
  (
    "GET",
    "/v1/Conversations/{ConversationSid}/Messages/{Sid}",
    FetchMessage,
    AlsoService,
  ),
  (
    "POST",
    "/v1/Conversations/{ConversationSid}/Messages/{Sid}",
    UpdateMessage,
    AlsoService,
  ),
  (
    "GET",
    "/v1/ParticipantConversations",
    ParticipantConversations,
    AlsoService,
  ),
  (
    "POST",
    "/2010-04-01/Accounts/{AccountSid}/Messages.json",
    SendSms,
    Exact,
  ),
  ("GET", "/2010-04-01/Accounts/{Sid}.json", FetchAccount, Exact),
  ("POST", "/v1/Services/{ChatServiceSid}/Media", UploadMedia, Undescribed),
  (
    "GET",
    "/v1/Services/{ChatServiceSid}/Media/{Sid}",
    FetchMedia,
    Undescribed,
  ),
  (
    "GET",
    "/v1/Services/{ChatServiceSid}/Media/{Sid}/Content",
    MediaContent,
    Undescribed,
  ),
  ("POST", "/v1/Content", CreateContent, Exact),
  ("GET", "/v1/Content", ListContents, Exact),
  ("GET", "/v1/Content/{Sid}", FetchContent, Exact),
  ("DELETE", "/v1/Content/{Sid}", DeleteContent, Exact),
  ("GET", "/v1/ContentAndApprovals", ListContentsAndApprovals, Exact),
  ("GET", "/v1/Content/{Sid}/ApprovalRequests", FetchApproval, Exact),
  (
    "POST",
    "/v1/Content/{ContentSid}/ApprovalRequests/whatsapp",
    CreateApproval,
    Exact,
  ),
];

/// One row of the table, its template parsed.
pub struct Entry {
  pub method: &'static str,
  pub template: Template,
  pub route: Route,
  /// Served under a service: the first value is the service's SID.
  service_scoped: bool,
  /// Checked against Twilio's OpenAPI description.
  pub described: bool,
}

/// The table with every template parsed, built once per process; service-scoped forms are rows of their own.
pub fn table() -> &'static [Entry] {
  static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
  ENTRIES.get_or_init(|| {
    let mut entries = Vec::new();
    for &(method, template, route, scope) in TABLE {
      let described = scope != Undescribed;
      entries.push(Entry {
        method,
        template: Template::parse(template),
        route,
        service_scoped: template.starts_with(SERVICE_PREFIX),
        described,
      });
      if scope == AlsoService {
        let scoped = format!("{SERVICE_PREFIX}{}", template.trim_start_matches("/v1"));
        entries.push(Entry {
          method,
          template: Template::parse(&scoped),
          route,
          service_scoped: true,
          described,
        });
      }
    }
    entries
  })
}

/// A request matched to its row.
pub struct Matched {
  pub entry: &'static Entry,
  /// The template's values, the service's SID taken out.
  pub values: Vec<String>,
  /// The service a service-scoped request names.
  service: Option<String>,
}

/// The row for a request: the most specific template that fits, of its method. `None` when no row fits; the
/// caller tells a path served with other methods (405) from one not emulated (404).
pub fn find(method: &str, path: &str) -> Option<Matched> {
  let (entry, mut values) = table()
    .iter()
    .filter(|entry| entry.method == method)
    .filter_map(|entry| entry.template.capture(path).map(|values| (entry, values)))
    .max_by_key(|(entry, _)| entry.template.literals())?;
  let service = (entry.service_scoped && !values.is_empty()).then(|| values.remove(0));
  Some(Matched { entry, values, service })
}

/// Every operation served that Twilio's OpenAPI files describe, as (method, template).
pub fn described_operations() -> Vec<(&'static str, &'static str)> {
  table()
    .iter()
    .filter(|entry| entry.described)
    .map(|entry| (entry.method, entry.template.text()))
    .collect()
}

/// Whether some row serves this path, with any method.
pub fn serves_path(path: &str) -> bool {
  table().iter().any(|entry| entry.template.capture(path).is_some())
}

/// What a write counts against in Twilio's actions-per-second limits: conversation creation and deletion
/// against the service; a conversation's updates, participants and messages against that conversation.
fn write_key(route: Route, values: &[String]) -> Option<RateKey> {
  let conversation = || values.first().map(|sid| RateKey::Conversation(sid.clone()));
  match route {
    CreateConversation | CreateWithParticipants | DeleteConversation => Some(RateKey::Service),
    UpdateConversation | CreateParticipant | DeleteParticipant | CreateMessage | UpdateMessage | CreateWebhook
    | UpdateWebhook | DeleteWebhook => conversation(),
    _ => None,
  }
}

/// Answers a matched request.
pub async fn answer(app: &App, incoming: &Incoming, matched: Matched, form: &Params) -> ApiResult<Reply> {
  let Matched { entry, values, service } = matched;
  // Only the default service is emulated.
  if let Some(service) = &service {
    if *service != app.lock().account.chat_service_sid {
      return Err(ApiError::not_found(&incoming.path));
    }
  }
  // URLs in the answer keep the scope the request used.
  let prefix = match &service {
    Some(service) => format!("/v1/Services/{service}"),
    None => "/v1".to_string(),
  };
  let value = |i: usize| values.get(i).map_or("", String::as_str);
  if let Some(key) = write_key(entry.route, &values) {
    app.lock().admit_write(key)?;
  }
  let request = Routed {
    app,
    incoming,
    form,
    values: &values,
    prefix,
  };
  Ok(match entry.route {
    Configuration => request.configuration(),
    ListAddresses => request.list_addresses(),
    CreateAddress => request.create_address()?,
    FetchAddress => request.fetch_address()?,
    DeleteAddress => request.delete_address()?,
    ServiceConfiguration => request.service_configuration(),
    FetchAccountWebhooks => request.webhook_configuration(false),
    UpdateAccountWebhooks => request.configure_webhooks(false)?,
    FetchServiceWebhooks => request.webhook_configuration(true),
    UpdateServiceWebhooks => request.configure_webhooks(true)?,
    CreateWebhook => request.create_webhook()?,
    ListWebhooks => request.list_webhooks()?,
    FetchWebhook => request.fetch_webhook()?,
    UpdateWebhook => request.update_webhook()?,
    DeleteWebhook => request.delete_webhook()?,
    ListReceipts => request.list_receipts()?,
    FetchReceipt => request.fetch_receipt()?,
    CreateConversation => request.create_conversation()?,
    ListConversations => request.list_conversations()?,
    FetchConversation => request.fetch_conversation()?,
    UpdateConversation => request.update_conversation()?,
    DeleteConversation => request.delete_conversation()?,
    CreateWithParticipants => request.create_with_participants()?,
    CreateParticipant => request.create_participant()?,
    ListParticipants => request.list_participants()?,
    FetchParticipant => request.fetch_participant()?,
    DeleteParticipant => request.delete_participant()?,
    CreateMessage => request.create_message().await?,
    ListMessages => request.list_messages()?,
    FetchMessage => request.fetch_message()?,
    UpdateMessage => request.update_message()?,
    ParticipantConversations => request.participant_conversations()?,
    SendSms => messaging::create_message(app, incoming, &values, form)?,
    FetchAccount => messaging::fetch_account(app, incoming, &values)?,
    UploadMedia => media::upload(app, incoming).await?,
    FetchMedia => media::fetch(app, incoming, value(0), false)?,
    MediaContent => media::fetch(app, incoming, value(0), true)?,
    CreateContent => request.create_content()?,
    ListContents => request.list_contents()?,
    FetchContent => request.fetch_content()?,
    DeleteContent => request.delete_content()?,
    ListContentsAndApprovals => request.list_contents_and_approvals()?,
    FetchApproval => request.fetch_approval()?,
    CreateApproval => request.create_approval()?,
  })
}

/// A request matched to its route, as its handler sees it: the handlers are `Routed`'s methods, one module per
/// resource.
pub struct Routed<'a> {
  pub app: &'a App,
  pub incoming: &'a Incoming,
  pub form: &'a Params,
  pub values: &'a [String],
  pub prefix: String,
}

fn ok(value: Value) -> Reply {
  Reply::Json(StatusCode::OK, value)
}

fn created(value: Value) -> Reply {
  Reply::Json(StatusCode::CREATED, value)
}

fn date(value: Option<&str>, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
  value
    .map(|text| {
      DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| ApiError::bad_request(20001, format!("{name} must be an ISO 8601 date-time")))
    })
    .transpose()
}

impl Routed<'_> {
  fn rendering<'s>(&self, state: &'s State) -> Rendering<'s>
  where
    Self: 's,
  {
    self.app.rendering(state, self.prefix.as_str())
  }

  fn value(&self, i: usize) -> &str {
    self.values.get(i).map(String::as_str).unwrap_or("")
  }

  /// REST writes fire post-action webhooks only when they ask to, with `X-Twilio-Webhook-Enabled: true`.
  fn webhooks_asked(&self) -> bool {
    self
      .incoming
      .headers
      .get("x-twilio-webhook-enabled")
      .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
  }

  /// Records a REST write's events when it asked for webhooks (and some webhook listens).
  fn echo(&self, state: &mut State, conversation_sid: &str, events: impl FnOnce(&State) -> Vec<Event>) {
    if self.webhooks_asked() {
      state.emit(conversation_sid, Source::Api, events);
    }
  }
}
