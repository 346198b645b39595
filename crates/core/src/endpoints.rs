//! Twilio's endpoints as typed calls: paths, parameters, and the fields read back.

use std::ops::ControlFlow;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::config::{ConversationTimers, Hosts};
use crate::error::Result;
use crate::http::Http;
use crate::pacing::PaceKey;
use crate::records::{
  Answer, ApprovalRecord, Configuration, ContentRecord, ConversationInfo, ConversationRecord, ListedMessage,
  MessageResource, Page, ParticipantConversation, ParticipantRecord, ReceiptRecord,
};
use crate::transport::{Body, Method, Request};
use chrono::{DateTime, Utc};

/// The most pages of ParticipantConversations followed for one address.
const MAX_PAGES: usize = 20;
/// Twilio's largest page for participants and messages.
const PAGE_SIZE: usize = 100;
/// A conversation has at most 1,000 participants: ten pages.
const PARTICIPANT_PAGES: usize = 10;

pub struct Api {
  http: Http,
  hosts: Hosts,
  account_sid: String,
  /// The account's default Conversations service: configured, or asked of Twilio once.
  service_sid: OnceCell<String>,
}

/// Characters a path segment may carry unencoded; SIDs and unique names are made of them.
fn is_plain(segment: &str) -> bool {
  // A segment of dots only ("." or "..") would change the path, so it takes the encoding route.
  !segment.bytes().all(|b| b == b'.')
    && segment
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is percent-encoded.
pub(crate) fn encode_uri_component(text: &str) -> String {
  let mut out = String::with_capacity(text.len());
  for byte in text.bytes() {
    if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
      out.push(byte as char);
    } else {
      out.push_str(&format!("%{byte:02X}"));
    }
  }
  out
}

fn url(origin: &str, segments: &[&str]) -> String {
  // The common case (SIDs, unique names) needs no encoding: joining is enough, and much cheaper than parsing.
  if segments.iter().all(|s| is_plain(s)) {
    let mut url = origin.trim_end_matches('/').to_string();
    for segment in segments {
      url.push('/');
      url.push_str(segment);
    }
    return url;
  }
  // Origins are validated by the config; should one not parse, the encoded segments are still joined.
  let Ok(mut url) = url::Url::parse(origin) else {
    let encoded: Vec<String> = segments.iter().map(|s| encode_uri_component(s)).collect();
    return format!("{}/{}", origin.trim_end_matches('/'), encoded.join("/"));
  };
  url
    .path_segments_mut()
    .map(|mut path| {
      path.pop_if_empty().extend(segments);
    })
    .ok();
  url.to_string()
}

/// `url` with the pairs as its (form-encoded) query.
fn with_query(url: String, pairs: &[(&str, &str)]) -> String {
  let query = url::form_urlencoded::Serializer::new(String::new())
    .extend_pairs(pairs)
    .finish();
  format!("{url}?{query}")
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
  pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A next page's URL on the origin this client talks to: Twilio's page URLs name its own host, and only their path
/// and query are taken (the credentials go nowhere else); a relative one is read against the origin. `None` for
/// what is no URL: the list ends there.
pub(crate) fn on_origin(origin: &str, page_url: &str) -> Option<String> {
  let parsed = url::Url::parse(origin).ok()?.join(page_url).ok()?;
  // `x:.evil.com/…` is a URL too, whose "path" would extend the origin's host: only an http(s) URL's path is taken.
  if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
    return None;
  }
  Some(format!(
    "{}{}",
    origin.trim_end_matches('/'),
    &parsed[url::Position::BeforePath..]
  ))
}

impl Api {
  pub fn new(http: Http, hosts: Hosts, account_sid: String, service_sid: Option<String>) -> Self {
    Self {
      http,
      hosts,
      account_sid,
      service_sid: OnceCell::new_with(service_sid),
    }
  }

  /// The Conversations service the client works in: `chatServiceSid`, else the account's default.
  pub async fn default_service(&self) -> Result<String> {
    self
      .service_sid
      .get_or_try_init(|| async { Ok(self.configuration().await?.default_chat_service_sid) })
      .await
      .cloned()
  }

  pub fn http(&self) -> &Http {
    &self.http
  }

  fn conversations(&self, segments: &[&str]) -> String {
    let mut all = vec!["v1"];
    all.extend_from_slice(segments);
    url(&self.hosts.conversations, &all)
  }

  /// GET /v1/Conversations/{SidOrUniqueName}
  pub async fn fetch_conversation(&self, sid_or_unique_name: &str) -> Result<ConversationInfo> {
    self
      .http
      .decode(&Request::get(
        self.conversations(&["Conversations", sid_or_unique_name]),
      ))
      .await
  }

  /// POST /v1/ConversationWithParticipants: the conversation, its timers and its participants in one call. A
  /// repeat is detected by Twilio (50353 for the unique name), so it is safe to retry.
  pub async fn create_conversation_with_participants(
    &self,
    unique_name: &str,
    friendly_name: &str,
    timers: &ConversationTimers,
    participants: &[String],
  ) -> Result<ConversationInfo> {
    let mut params = form(&[("UniqueName", unique_name), ("FriendlyName", friendly_name)]);
    if !timers.is_empty() {
      // Twilio refuses timers on a new conversation without its state (50382).
      params.push(("State".to_string(), "active".to_string()));
    }
    params.extend(
      timers
        .inactive_after
        .iter()
        .map(|t| ("Timers.Inactive".to_string(), t.clone())),
    );
    params.extend(
      timers
        .closed_after
        .iter()
        .map(|t| ("Timers.Closed".to_string(), t.clone())),
    );
    params.extend(participants.iter().map(|p| ("Participant".to_string(), p.clone())));
    // The caller took its turn at the service's creation rate: it decides the participants once its turn comes.
    let request = Request::post_form(self.conversations(&["ConversationWithParticipants"]), params, true);
    self
      .http
      .decode(&request.paced(PaceKey::Service).with_turn_taken())
      .await
  }

  /// GET /v1/ParticipantConversations?Address=…, every page.
  pub async fn participant_conversations(&self, address: &str) -> Result<Vec<ParticipantConversation>> {
    let first = with_query(
      self.conversations(&["ParticipantConversations"]),
      &[("Address", address), ("PageSize", "50")],
    );
    self.read_all_pages(first, "conversations", MAX_PAGES).await
  }

  /// Reads a list page by page, following `meta.next_page_url` through at most `max_pages` pages, and hands each
  /// page's records (found through `meta.key`, else `default_key`) and the answer's `Date` header to `visit` until
  /// it breaks with a value.
  async fn read_pages<R: DeserializeOwned, T>(
    &self,
    first: String,
    default_key: &str,
    max_pages: usize,
    mut visit: impl FnMut(Vec<R>, Option<&str>) -> ControlFlow<T>,
  ) -> Result<Option<T>> {
    let mut next = Some(first);
    for _ in 0..max_pages {
      let Some(page_url) = next.take() else { break };
      let (mut page, date): (Page<R>, _) = self.http.decode_dated(&Request::get(page_url)).await?;
      next = page
        .meta
        .next_page_url
        .as_deref()
        .and_then(|u| on_origin(&self.hosts.conversations, u));
      if let ControlFlow::Break(found) = visit(page.take_records(default_key), date.as_deref()) {
        return Ok(Some(found));
      }
    }
    Ok(None)
  }

  /// Every record of a list, through at most `max_pages` pages.
  async fn read_all_pages<R: DeserializeOwned>(
    &self,
    first: String,
    default_key: &str,
    max_pages: usize,
  ) -> Result<Vec<R>> {
    let mut found = Vec::new();
    self
      .read_pages(first, default_key, max_pages, |records: Vec<R>, _| {
        found.extend(records);
        ControlFlow::<()>::Continue(())
      })
      .await?;
    Ok(found)
  }

  /// POST /v1/Conversations/{Sid}/Messages. Not idempotent: the caller checks before repeating.
  /// A conversation message's creation, made once and sent as often as its sender decides (see
  /// `Messages::post`): Twilio does not recognise a repeat of it.
  pub fn create_message(&self, conversation_sid: &str, params: Vec<(String, String)>) -> Request {
    Request::post_form(
      self.conversations(&["Conversations", conversation_sid, "Messages"]),
      params,
      false,
    )
    .paced(PaceKey::Conversation(conversation_sid.to_string()))
  }

  /// The newest message of a conversation that `matches`, reading back page by page (newest first) through
  /// at most `max_pages` pages of 100: each message read for what [`ListedMessage`] holds, the one found kept as
  /// the JSON text Twilio sent.
  pub async fn find_recent_message(
    &self,
    conversation_sid: &str,
    max_pages: usize,
    matches: impl Fn(&ListedMessage) -> bool,
  ) -> Result<Option<(ListedMessage, String)>> {
    let first = with_query(
      self.conversations(&["Conversations", conversation_sid, "Messages"]),
      &[("Order", "desc"), ("PageSize", "100")],
    );
    self
      .read_pages(
        first,
        "messages",
        max_pages,
        |records: Vec<Box<serde_json::value::RawValue>>, _| {
          let found = records.iter().find_map(|raw| {
            // A message that is not an object of these fields matches nothing.
            let listed: ListedMessage = serde_json::from_str(raw.get()).ok()?;
            matches(&listed).then(|| (listed, raw.get().to_string()))
          });
          match found {
            Some(found) => ControlFlow::Break(found),
            None => ControlFlow::Continue(()),
          }
        },
      )
      .await
  }

  /// GET /v1/Conversations/{Sid}: the whole record (state, names, attributes, dates, timers).
  pub async fn conversation(&self, sid: &str) -> Result<ConversationRecord> {
    self
      .http
      .decode(&Request::get(self.conversations(&["Conversations", sid])))
      .await
  }

  /// POST /v1/Conversations/{Sid}: attributes, state or timers. Setting a value twice is harmless.
  pub async fn update_conversation(&self, sid: &str, params: &[(&str, &str)]) -> Result<ConversationRecord> {
    let request = Request::post_form(self.conversations(&["Conversations", sid]), form(params), true)
      .paced(PaceKey::Conversation(sid.to_string()));
    self.http.decode(&request).await
  }

  /// GET /v1/Conversations/{Sid}/Participants, every page (at most Twilio's 1,000 participants).
  pub async fn participants(&self, conversation_sid: &str) -> Result<Vec<ParticipantRecord>> {
    let first = with_query(
      self.conversations(&["Conversations", conversation_sid, "Participants"]),
      &[("PageSize", &PAGE_SIZE.to_string())],
    );
    self.read_all_pages(first, "participants", PARTICIPANT_PAGES).await
  }

  /// POST /v1/Conversations/{Sid}/Participants for a chat identity. A repeat is refused by Twilio (50433).
  pub async fn add_participant(
    &self,
    conversation_sid: &str,
    identity: &str,
    attributes: Option<&str>,
  ) -> Result<ParticipantRecord> {
    let mut params = vec![("Identity", identity)];
    params.extend(attributes.map(|a| ("Attributes", a)));
    let request = Request::post_form(
      self.conversations(&["Conversations", conversation_sid, "Participants"]),
      form(&params),
      true,
    )
    .paced(PaceKey::Conversation(conversation_sid.to_string()));
    self.http.decode(&request).await
  }

  /// DELETE /v1/Conversations/{Sid}/Participants/{ParticipantSid}
  /// GET /v1/Conversations/{Sid}/Participants/{identity}: Twilio takes an identity in place of the SID here, and
  /// only here (not on update or delete).
  pub async fn participant_by_identity(&self, conversation_sid: &str, identity: &str) -> Result<ParticipantRecord> {
    let request = Request::get(self.conversations(&["Conversations", conversation_sid, "Participants", identity]));
    self.http.decode(&request).await
  }

  /// DELETE /v1/Conversations/{Sid}/Participants/{MB…}, by SID.
  pub async fn remove_participant(&self, conversation_sid: &str, participant_sid: &str) -> Result<()> {
    let request =
      Request::delete(self.conversations(&["Conversations", conversation_sid, "Participants", participant_sid]))
        .paced(PaceKey::Conversation(conversation_sid.to_string()));
    self.http.execute(&request).await.map(|_| ())
  }

  /// GET /v1/Conversations/{Sid}/Messages in `order` (`asc` or `desc`), page after page until `limit`.
  pub async fn messages(&self, conversation_sid: &str, order: &str, limit: usize) -> Result<Vec<MessageResource>> {
    let page_size = limit.clamp(1, PAGE_SIZE).to_string();
    let first = with_query(
      self.conversations(&["Conversations", conversation_sid, "Messages"]),
      &[("Order", order), ("PageSize", &page_size)],
    );
    let mut found = Vec::new();
    self
      .read_pages(
        first,
        "messages",
        limit.div_ceil(PAGE_SIZE).max(1) + 1,
        |records: Vec<MessageResource>, _| {
          found.extend(records);
          if found.len() >= limit {
            ControlFlow::Break(())
          } else {
            ControlFlow::Continue(())
          }
        },
      )
      .await?;
    found.truncate(limit);
    Ok(found)
  }

  /// POST /v1/Conversations/{Sid}/Messages/{MessageSid} with new Attributes; setting them twice is harmless.
  pub async fn update_message_attributes(
    &self,
    conversation_sid: &str,
    message_sid: &str,
    attributes: &str,
  ) -> Result<Answer> {
    let url = self.conversations(&["Conversations", conversation_sid, "Messages", message_sid]);
    let request = Request::post_form(url, form(&[("Attributes", attributes)]), true)
      .paced(PaceKey::Conversation(conversation_sid.to_string()));
    self.http.json(&request).await
  }

  /// GET /v1/Conversations/{Sid}/Messages/{MessageSid}
  pub async fn message(&self, conversation_sid: &str, message_sid: &str) -> Result<Value> {
    let url = self.conversations(&["Conversations", conversation_sid, "Messages", message_sid]);
    self.http.decode(&Request::get(url)).await
  }

  /// GET …/Messages/{MessageSid}/Receipts, every page (one receipt per non-chat recipient).
  pub async fn receipts(&self, conversation_sid: &str, message_sid: &str) -> Result<Vec<ReceiptRecord>> {
    let first = with_query(
      self.conversations(&["Conversations", conversation_sid, "Messages", message_sid, "Receipts"]),
      &[("PageSize", "50")],
    );
    self
      .read_all_pages(first, "delivery_receipts", PARTICIPANT_PAGES * 2)
      .await
  }

  /// When `author` last wrote in the conversation, looking back (newest first) no further than `within` before
  /// Twilio's "now"; and that "now", from the first answer's `Date` header (this machine's clock without one).
  pub async fn newest_message_by(
    &self,
    conversation_sid: &str,
    author: &str,
    within: chrono::Duration,
  ) -> Result<(Option<DateTime<Utc>>, DateTime<Utc>)> {
    let first = with_query(
      self.conversations(&["Conversations", conversation_sid, "Messages"]),
      &[("Order", "desc"), ("PageSize", "100")],
    );
    let mut now = None;
    let found = self
      .read_pages(first, "messages", MAX_PAGES, |records: Vec<MessageResource>, date| {
        let now = *now.get_or_insert_with(|| {
          date
            .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
            .map_or_else(Utc::now, |d| d.with_timezone(&Utc))
        });
        for message in records {
          let created = message
            .date_created
            .as_deref()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc));
          if message.author.as_deref() == Some(author) {
            return ControlFlow::Break(created);
          }
          if created.is_some_and(|created| now - created > within) {
            return ControlFlow::Break(None);
          }
        }
        ControlFlow::Continue(())
      })
      .await?;
    Ok((found.flatten(), now.unwrap_or_else(Utc::now)))
  }

  fn webhooks_url(&self, service: &str) -> String {
    self.conversations(&["Services", service, "Configuration", "Webhooks"])
  }

  /// GET /v1/Services/{ChatServiceSid}/Configuration/Webhooks
  pub async fn webhook_configuration(&self) -> Result<Value> {
    let url = self.webhooks_url(&self.default_service().await?);
    self.http.decode(&Request::get(url)).await
  }

  /// POST /v1/Services/{ChatServiceSid}/Configuration/Webhooks. Setting the same values twice is harmless.
  pub async fn configure_webhooks(&self, params: Vec<(String, String)>) -> Result<Value> {
    let url = self.webhooks_url(&self.default_service().await?);
    self.http.decode(&Request::post_form(url, params, true)).await
  }

  /// POST /2010-04-01/Accounts/{AccountSid}/Messages.json
  pub async fn send_messaging(&self, params: Vec<(String, String)>) -> Result<Answer> {
    let url = url(
      &self.hosts.api,
      &["2010-04-01", "Accounts", &self.account_sid, "Messages.json"],
    );
    self.http.json(&Request::post_form(url, params, false)).await
  }

  /// GET /2010-04-01/Accounts/{AccountSid}.json
  pub async fn fetch_account(&self) -> Result<Value> {
    let url = url(
      &self.hosts.api,
      &["2010-04-01", "Accounts", &format!("{}.json", self.account_sid)],
    );
    self.http.decode(&Request::get(url)).await
  }

  /// GET /v1/Configuration
  pub async fn configuration(&self) -> Result<Configuration> {
    self
      .http
      .decode(&Request::get(self.conversations(&["Configuration"])))
      .await
  }

  /// GET /v1/Content/{Sid} on the Content API: a template's definition.
  pub async fn content(&self, content_sid: &str) -> Result<ContentRecord> {
    let url = url(&self.hosts.content, &["v1", "Content", content_sid]);
    self.http.decode(&Request::get(url)).await
  }

  /// GET /v1/Content/{Sid}/ApprovalRequests: the template's WhatsApp approval.
  pub async fn content_approval(&self, content_sid: &str) -> Result<ApprovalRecord> {
    let url = url(&self.hosts.content, &["v1", "Content", content_sid, "ApprovalRequests"]);
    self.http.decode(&Request::get(url)).await
  }

  /// POST /v1/Services/{ChatServiceSid}/Media on the Media Content Service: the raw bytes with their type.
  pub async fn upload_media(
    &self,
    service_sid: &str,
    content_type: &str,
    filename: &str,
    bytes: Bytes,
  ) -> Result<Answer> {
    let request = Request {
      method: Method::Post,
      url: with_query(
        url(&self.hosts.media, &["v1", "Services", service_sid, "Media"]),
        &[("Filename", filename)],
      ),
      body: Body::Bytes {
        content_type: content_type.to_string(),
        bytes,
      },
      // An upload repeated after a lost answer leaves an unattached copy, never a second message.
      idempotent: true,
      pace: None,
      turn_taken: false,
    };
    self.http.json(&request).await
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn queries_are_form_encoded() {
    assert_eq!(
      with_query(
        "http://x/v1/ParticipantConversations".into(),
        &[("Address", "whatsapp:+1 2")]
      ),
      "http://x/v1/ParticipantConversations?Address=whatsapp%3A%2B1+2"
    );
  }

  #[test]
  fn path_segments_are_encoded() {
    assert_eq!(
      url("http://127.0.0.1:1", &["v1", "Conversations", "a b/c"]),
      "http://127.0.0.1:1/v1/Conversations/a%20b%2Fc"
    );
    assert_eq!(
      url("https://api.twilio.com/", &["2010-04-01"]),
      "https://api.twilio.com/2010-04-01"
    );
  }

  #[test]
  fn a_next_page_on_any_host_spelling_is_asked_of_our_origin_without_a_panic() {
    for (page, expected) in [
      ("https://ä.com/x?Page=2", "http://127.0.0.1:1/x?Page=2"),
      (
        "https://conversations.twilio.com/v1/Conversations?PageSize=50&Page=1",
        "http://127.0.0.1:1/v1/Conversations?PageSize=50&Page=1",
      ),
      ("https://xn--4ca.com/é", "http://127.0.0.1:1/%C3%A9"),
      ("/v1/Conversations?Page=3", "http://127.0.0.1:1/v1/Conversations?Page=3"),
      ("//evil.example/v1/x", "http://127.0.0.1:1/v1/x"),
    ] {
      assert_eq!(
        on_origin("http://127.0.0.1:1", page).as_deref(),
        Some(expected),
        "{page}"
      );
    }
    // Once taken as an opaque path after the origin: `http://127.0.0.1:1.evil.com/x`, the credentials elsewhere.
    assert_eq!(on_origin("http://127.0.0.1:1", "x:.evil.com/x"), None);
  }

  #[test]
  fn segments_are_encoded_like_encode_uri_component() {
    assert_eq!(encode_uri_component("my photo (1).png"), "my%20photo%20(1).png");
    assert_eq!(encode_uri_component("é#?&.jpg"), "%C3%A9%23%3F%26.jpg");
  }
}
