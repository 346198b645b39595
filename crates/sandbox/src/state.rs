//! All of the sandbox's data in one struct, and the Twilio rules that guard it. Handlers lock it, call one
//! method, render, and unlock: no lock is ever held across an `.await`.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::faults::Fault;
use crate::sid::{is_sid, new_sid};

/// The content template that exists from the start, so the demo has one to send.
pub const DEFAULT_TEMPLATE_SID: &str = "HX0123456789abcdef0123456789abcdef";
pub const DEFAULT_TEMPLATE_BODY: &str = "Your appointment is coming up on {{1}} at {{2}}";
pub const MAX_BODY_CHARS: usize = 1600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvState {
  Active,
  Inactive,
  Closed,
}

impl ConvState {
  pub fn parse(value: &str) -> ApiResult<Self> {
    match value {
      "active" => Ok(Self::Active),
      "inactive" => Ok(Self::Inactive),
      "closed" => Ok(Self::Closed),
      other => Err(ApiError::bad_request(20001, format!("Invalid State: {other}"))),
    }
  }

  pub fn as_str(self) -> &'static str {
    match self {
      Self::Active => "active",
      Self::Inactive => "inactive",
      Self::Closed => "closed",
    }
  }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Binding {
  pub address: String,
  pub proxy_address: String,
}

impl Binding {
  pub fn channel(&self) -> &'static str {
    if self.address.starts_with("whatsapp:") {
      "whatsapp"
    } else {
      "sms"
    }
  }
}

#[derive(Debug, Clone)]
pub struct Participant {
  pub sid: String,
  pub identity: Option<String>,
  pub binding: Option<Binding>,
  pub attributes: String,
  pub role_sid: Option<String>,
  pub date_created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct MediaRef {
  pub sid: String,
  pub size: usize,
  pub content_type: String,
  pub filename: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Message {
  pub sid: String,
  pub index: u64,
  pub author: String,
  pub body: Option<String>,
  pub attributes: String,
  pub media: Option<Vec<MediaRef>>,
  pub participant_sid: Option<String>,
  pub content_sid: Option<String>,
  pub date_created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Conversation {
  pub sid: String,
  pub unique_name: Option<String>,
  pub friendly_name: Option<String>,
  pub attributes: String,
  pub state: ConvState,
  pub date_created: DateTime<Utc>,
  pub date_updated: DateTime<Utc>,
  pub participants: Vec<Participant>,
  pub messages: Vec<Message>,
  next_index: u64,
}

/// A message sent through Programmable Messaging (`Messages.json`).
#[derive(Debug, Clone)]
pub struct SmsMessage {
  pub sid: String,
  pub to: String,
  pub from: Option<String>,
  pub messaging_service_sid: Option<String>,
  pub body: String,
  pub media_urls: Vec<String>,
  pub content_sid: Option<String>,
  pub content_variables: Option<String>,
  pub date_created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Media {
  pub sid: String,
  pub service_sid: String,
  pub content_type: String,
  pub filename: Option<String>,
  pub category: String,
  pub bytes: Bytes,
  pub message_sid: Option<String>,
  pub date_created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Template {
  pub sid: String,
  pub friendly_name: String,
  pub body: String,
}

#[derive(Debug, Clone, Default)]
pub struct ConversationInput {
  pub unique_name: Option<String>,
  pub friendly_name: Option<String>,
  pub attributes: Option<String>,
  pub state: Option<ConvState>,
  pub date_created: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ParticipantInput {
  pub identity: Option<String>,
  pub binding: Option<Binding>,
  pub attributes: Option<String>,
  pub role_sid: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MessageInput {
  pub author: Option<String>,
  pub body: Option<String>,
  pub attributes: Option<String>,
  pub media_sid: Option<String>,
  pub content_sid: Option<String>,
  pub content_variables: Option<String>,
  pub date_created: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct SmsInput {
  pub to: String,
  pub from: Option<String>,
  pub messaging_service_sid: Option<String>,
  pub body: Option<String>,
  pub media_urls: Vec<String>,
  pub content_sid: Option<String>,
  pub content_variables: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
  pub seq: u64,
  pub method: String,
  pub path: String,
  pub query: Value,
  pub params: Value,
  pub status: u16,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub fault: Option<String>,
}

/// Credentials and fixed SIDs of the emulated account.
#[derive(Debug, Clone)]
pub struct Account {
  pub account_sid: String,
  pub auth_token: String,
  pub chat_service_sid: String,
  pub messaging_service_sid: String,
}

pub struct State {
  pub account: Account,
  pub api_keys: HashMap<String, String>,
  pub conversations: HashMap<String, Conversation>,
  /// Conversation SIDs in creation order (lists are newest first).
  pub order: Vec<String>,
  unique_names: HashMap<String, String>,
  /// Which non-closed conversation holds each address + proxy-address pair.
  bindings: HashMap<Binding, String>,
  pub sms: Vec<SmsMessage>,
  pub media: HashMap<String, Media>,
  pub templates: HashMap<String, Template>,
  pub log: Vec<LogEntry>,
  pub faults: Vec<Fault>,
  pub latency_ms: u64,
  next_seq: u64,
}

impl State {
  pub fn new(account: Account) -> Self {
    let mut state = Self {
      account,
      api_keys: HashMap::new(),
      conversations: HashMap::new(),
      order: Vec::new(),
      unique_names: HashMap::new(),
      bindings: HashMap::new(),
      sms: Vec::new(),
      media: HashMap::new(),
      templates: HashMap::new(),
      log: Vec::new(),
      faults: Vec::new(),
      latency_ms: 0,
      next_seq: 0,
    };
    state.reset();
    state
  }

  /// Back to a new account: no data, no faults, no latency, only the default template. Credentials stay.
  pub fn reset(&mut self) {
    self.conversations.clear();
    self.order.clear();
    self.unique_names.clear();
    self.bindings.clear();
    self.sms.clear();
    self.media.clear();
    self.templates.clear();
    self.log.clear();
    self.faults.clear();
    self.latency_ms = 0;
    self.next_seq = 0;
    self.templates.insert(
      DEFAULT_TEMPLATE_SID.to_string(),
      Template {
        sid: DEFAULT_TEMPLATE_SID.to_string(),
        friendly_name: "appointment_reminder".to_string(),
        body: DEFAULT_TEMPLATE_BODY.to_string(),
      },
    );
  }

  pub fn next_seq(&mut self) -> u64 {
    self.next_seq += 1;
    self.next_seq
  }

  /// Basic auth: the account SID and auth token, or an API key SID and its secret.
  pub fn authenticate(&self, user: &str, password: &str) -> bool {
    (user == self.account.account_sid && password == self.account.auth_token)
      || self.api_keys.get(user).is_some_and(|secret| secret == password)
  }

  pub fn add_api_key(&mut self) -> (String, String) {
    let sid = new_sid("SK");
    let secret = new_sid("").chars().take(32).collect::<String>();
    self.api_keys.insert(sid.clone(), secret.clone());
    (sid, secret)
  }

  // ---- conversations ----

  /// A conversation by SID or, as Twilio allows on the Conversation resource itself, by unique name.
  pub fn find_conversation(&self, sid_or_name: &str) -> Option<&Conversation> {
    self.conversations.get(sid_or_name).or_else(|| {
      self
        .unique_names
        .get(sid_or_name)
        .and_then(|sid| self.conversations.get(sid))
    })
  }

  fn conversation_sid(&self, sid_or_name: &str, path: &str) -> ApiResult<String> {
    self
      .find_conversation(sid_or_name)
      .map(|c| c.sid.clone())
      .ok_or_else(|| ApiError::not_found(path))
  }

  /// Sub-resources (participants, messages) are addressed by the conversation's SID only.
  pub fn conversation_by_sid(&self, sid: &str, path: &str) -> ApiResult<&Conversation> {
    self.conversations.get(sid).ok_or_else(|| ApiError::not_found(path))
  }

  fn conversation_mut(&mut self, sid: &str, path: &str) -> ApiResult<&mut Conversation> {
    self.conversations.get_mut(sid).ok_or_else(|| ApiError::not_found(path))
  }

  fn check_unique_name(&self, name: &str, owner: Option<&str>) -> ApiResult<()> {
    if is_sid(name, "CH") {
      return Err(ApiError::bad_request(
        50390,
        "Unique name should not match conversation sid pattern",
      ));
    }
    match self.unique_names.get(name) {
      Some(holder) if Some(holder.as_str()) != owner => Err(ApiError::conflict(
        50353,
        "Conversation with provided unique name already exists",
      )),
      _ => Ok(()),
    }
  }

  fn check_attributes(attributes: Option<&str>) -> ApiResult<()> {
    match attributes {
      Some(text) if serde_json::from_str::<Value>(text).is_err() => Err(ApiError::bad_request(
        20001,
        "Attributes must contain structurally valid JSON",
      )),
      _ => Ok(()),
    }
  }

  fn validate_conversation(&self, input: &ConversationInput) -> ApiResult<()> {
    if input.state == Some(ConvState::Closed) {
      return Err(ApiError::bad_request(50384, "Initial state can't be 'closed'"));
    }
    if let Some(name) = input.unique_name.as_deref() {
      self.check_unique_name(name, None)?;
    }
    if input.friendly_name.as_ref().is_some_and(|n| n.chars().count() > 256) {
      return Err(ApiError::bad_request(
        20001,
        "FriendlyName is limited to 256 characters",
      ));
    }
    Self::check_attributes(input.attributes.as_deref())
  }

  fn insert_conversation(&mut self, input: ConversationInput) -> String {
    let now = input.date_created.unwrap_or_else(Utc::now);
    let sid = new_sid("CH");
    if let Some(name) = input.unique_name.clone() {
      self.unique_names.insert(name, sid.clone());
    }
    self.order.push(sid.clone());
    self.conversations.insert(
      sid.clone(),
      Conversation {
        sid: sid.clone(),
        unique_name: input.unique_name,
        friendly_name: input.friendly_name,
        attributes: input.attributes.unwrap_or_else(|| "{}".to_string()),
        state: input.state.unwrap_or(ConvState::Active),
        date_created: now,
        date_updated: now,
        participants: Vec::new(),
        messages: Vec::new(),
        next_index: 0,
      },
    );
    sid
  }

  pub fn create_conversation(&mut self, input: ConversationInput) -> ApiResult<&Conversation> {
    self.validate_conversation(&input)?;
    let sid = self.insert_conversation(input);
    Ok(&self.conversations[&sid])
  }

  /// ConversationWithParticipants: every participant is validated before anything is stored, so a refusal
  /// (50425 for a binding held elsewhere) leaves no conversation behind.
  pub fn create_conversation_with_participants(
    &mut self,
    input: ConversationInput,
    participants: Vec<ParticipantInput>,
  ) -> ApiResult<&Conversation> {
    self.validate_conversation(&input)?;
    if participants.len() > 10 {
      return Err(ApiError::bad_request(
        20001,
        "At most 10 participants can be added in one request",
      ));
    }
    let mut identities = Vec::new();
    let mut bindings = Vec::new();
    for participant in &participants {
      Self::validate_participant(participant)?;
      if let Some(identity) = &participant.identity {
        if identities.contains(&identity) {
          return Err(ApiError::conflict(50437, "Group Participant already exists"));
        }
        identities.push(identity);
      }
      if let Some(binding) = &participant.binding {
        if bindings.contains(&binding) || self.bindings.contains_key(binding) {
          return Err(ApiError::conflict(
            50425,
            "Participant and proxy address pairs for one or more participants already in use.",
          ));
        }
        bindings.push(binding);
      }
    }
    let sid = self.insert_conversation(input);
    for participant in participants {
      self.add_participant(&sid, participant, "")?;
    }
    Ok(&self.conversations[&sid])
  }

  pub fn update_conversation(
    &mut self,
    sid_or_name: &str,
    input: ConversationInput,
    path: &str,
  ) -> ApiResult<&Conversation> {
    let sid = self.conversation_sid(sid_or_name, path)?;
    if self.conversations[&sid].state == ConvState::Closed {
      return Err(ApiError::closed());
    }
    if let Some(name) = input.unique_name.as_deref().filter(|n| !n.is_empty()) {
      self.check_unique_name(name, Some(&sid))?;
    }
    Self::check_attributes(input.attributes.as_deref())?;
    let conversation = self.conversation_mut(&sid, path)?;
    let old_name = conversation.unique_name.clone();
    if let Some(name) = input.unique_name {
      conversation.unique_name = Some(name).filter(|n| !n.is_empty());
    }
    if let Some(friendly_name) = input.friendly_name {
      conversation.friendly_name = Some(friendly_name);
    }
    if let Some(attributes) = input.attributes {
      conversation.attributes = attributes;
    }
    if let Some(state) = input.state {
      conversation.state = state;
    }
    conversation.date_updated = Utc::now();
    let new_name = conversation.unique_name.clone();
    let closed = conversation.state == ConvState::Closed;
    if old_name != new_name {
      if let Some(old) = old_name {
        self.unique_names.remove(&old);
      }
      if let Some(new) = new_name {
        self.unique_names.insert(new, sid.clone());
      }
    }
    if closed {
      // Closing releases the conversation's bindings: the pair may be used in a new conversation.
      self.bindings.retain(|_, holder| holder != &sid);
    }
    Ok(&self.conversations[&sid])
  }

  pub fn delete_conversation(&mut self, sid_or_name: &str, path: &str) -> ApiResult<()> {
    let sid = self.conversation_sid(sid_or_name, path)?;
    if let Some(conversation) = self.conversations.remove(&sid) {
      if let Some(name) = conversation.unique_name {
        self.unique_names.remove(&name);
      }
    }
    self.order.retain(|s| s != &sid);
    self.bindings.retain(|_, holder| holder != &sid);
    Ok(())
  }

  /// Conversations newest first, as the old module relied on.
  pub fn conversations_newest_first(&self) -> impl Iterator<Item = &Conversation> {
    self.order.iter().rev().filter_map(|sid| self.conversations.get(sid))
  }

  // ---- participants ----

  fn validate_participant(input: &ParticipantInput) -> ApiResult<()> {
    match (&input.identity, &input.binding) {
      (None, None) => Err(ApiError::bad_request(
        20001,
        "Either Identity or MessagingBinding.Address must be specified",
      )),
      (Some(identity), _) if identity.is_empty() => Err(ApiError::bad_request(20001, "Identity must not be empty")),
      (_, Some(binding)) => validate_binding(binding),
      _ => Self::check_attributes(input.attributes.as_deref()),
    }
  }

  pub fn add_participant(
    &mut self,
    conversation_sid: &str,
    input: ParticipantInput,
    path: &str,
  ) -> ApiResult<&Participant> {
    Self::validate_participant(&input)?;
    let conversation = self.conversation_by_sid(conversation_sid, path)?;
    if conversation.state == ConvState::Closed {
      return Err(ApiError::closed());
    }
    if let Some(identity) = &input.identity {
      if conversation
        .participants
        .iter()
        .any(|p| p.identity.as_ref() == Some(identity))
      {
        return Err(ApiError::conflict(50433, "Participant already exists"));
      }
    }
    if let Some(binding) = &input.binding {
      if let Some(holder) = self.bindings.get(binding) {
        return Err(ApiError::conflict(
          50416,
          format!("A binding for this participant and proxy address already exists in Conversation {holder}"),
        ));
      }
      self.bindings.insert(binding.clone(), conversation_sid.to_string());
    }
    let conversation = self.conversation_mut(conversation_sid, path)?;
    conversation.participants.push(Participant {
      sid: new_sid("MB"),
      identity: input.identity,
      binding: input.binding,
      attributes: input.attributes.unwrap_or_else(|| "{}".to_string()),
      role_sid: input.role_sid,
      date_created: Utc::now(),
    });
    Ok(conversation.participants.last().expect("just pushed"))
  }

  /// A participant by SID or, as Twilio allows, by identity.
  pub fn find_participant(&self, conversation_sid: &str, sid_or_identity: &str, path: &str) -> ApiResult<&Participant> {
    self
      .conversation_by_sid(conversation_sid, path)?
      .participants
      .iter()
      .find(|p| p.sid == sid_or_identity || p.identity.as_deref() == Some(sid_or_identity))
      .ok_or_else(|| ApiError::not_found(path))
  }

  pub fn remove_participant(&mut self, conversation_sid: &str, sid_or_identity: &str, path: &str) -> ApiResult<()> {
    let participant_sid = self
      .find_participant(conversation_sid, sid_or_identity, path)?
      .sid
      .clone();
    let conversation = self.conversation_mut(conversation_sid, path)?;
    let removed = conversation
      .participants
      .iter()
      .position(|p| p.sid == participant_sid)
      .map(|i| conversation.participants.remove(i));
    if let Some(binding) = removed.and_then(|p| p.binding) {
      if self.bindings.get(&binding).map(String::as_str) == Some(conversation_sid) {
        self.bindings.remove(&binding);
      }
    }
    Ok(())
  }

  /// ParticipantConversations: every conversation (closed ones too) with a participant of that address or
  /// identity, sorted by conversation SID.
  pub fn participant_conversations<'a>(
    &'a self,
    address: Option<&'a str>,
    identity: Option<&'a str>,
  ) -> Vec<(&'a Conversation, &'a Participant)> {
    let mut found: Vec<_> = self
      .conversations
      .values()
      .flat_map(|c| c.participants.iter().map(move |p| (c, p)))
      .filter(|(_, p)| match (address, identity) {
        (Some(address), _) => p.binding.as_ref().is_some_and(|b| b.address == address),
        (None, Some(identity)) => p.identity.as_deref() == Some(identity),
        (None, None) => false,
      })
      .collect();
    found.sort_by(|a, b| a.0.sid.cmp(&b.0.sid));
    found
  }

  // ---- conversation messages ----

  fn render_template(
    &self,
    content_sid: &str,
    variables: Option<&str>,
    code_invalid_sid: u32,
    code_invalid_vars: u32,
  ) -> ApiResult<String> {
    let template = self
      .templates
      .get(content_sid)
      .filter(|_| is_sid(content_sid, "HX"))
      .ok_or_else(|| ApiError::bad_request(code_invalid_sid, invalid_content_sid_message(code_invalid_sid)))?;
    let variables = match variables {
      None => serde_json::Map::new(),
      Some(text) => match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => {
          return Err(ApiError::bad_request(
            code_invalid_vars,
            invalid_variables_message(code_invalid_vars),
          ))
        }
      },
    };
    let mut body = template.body.clone();
    for (key, value) in variables {
      let text = match value {
        Value::String(s) => s,
        other => other.to_string(),
      };
      body = body.replace(&format!("{{{{{key}}}}}"), &text);
    }
    Ok(body)
  }

  pub fn add_message(&mut self, conversation_sid: &str, input: MessageInput, path: &str) -> ApiResult<&Message> {
    let conversation = self.conversation_by_sid(conversation_sid, path)?;
    if conversation.state == ConvState::Closed {
      return Err(ApiError::closed());
    }
    Self::check_attributes(input.attributes.as_deref())?;
    if input.content_variables.is_some() && input.content_sid.is_none() {
      return Err(ApiError::bad_request(50528, "Content SID is missing"));
    }
    // With a ContentSid, Body and MediaSid are ignored and the body is the rendered template.
    let (body, media_sid) = match input.content_sid.as_deref() {
      Some(content_sid) => (
        Some(self.render_template(content_sid, input.content_variables.as_deref(), 50526, 50527)?),
        None,
      ),
      None => (input.body, input.media_sid),
    };
    if body.as_ref().is_some_and(|b| b.chars().count() > MAX_BODY_CHARS) {
      return Err(ApiError::bad_request(
        21617,
        "The concatenated message body exceeds the 1600 character limit",
      ));
    }
    let media = match media_sid.as_deref() {
      None => None,
      Some(sid) => {
        let media = self
          .media
          .get(sid)
          .filter(|m| m.service_sid == self.account.chat_service_sid && m.message_sid.is_none())
          .ok_or_else(|| {
            ApiError::bad_request(
              50510,
              format!("Media {sid} does not exist or is already attached to a message"),
            )
          })?;
        Some(vec![MediaRef {
          sid: media.sid.clone(),
          size: media.bytes.len(),
          content_type: media.content_type.clone(),
          filename: media.filename.clone(),
        }])
      }
    };
    if body.as_deref().unwrap_or("").is_empty() && media.is_none() {
      return Err(ApiError::bad_request(
        21602,
        "Message body, media or content is required",
      ));
    }
    let author = input.author.unwrap_or_else(|| "system".to_string());
    let participant_sid = conversation
      .participants
      .iter()
      .find(|p| p.identity.as_deref() == Some(author.as_str()))
      .map(|p| p.sid.clone());
    let sid = new_sid("IM");
    if let Some(media_sid) = &media_sid {
      if let Some(stored) = self.media.get_mut(media_sid) {
        stored.message_sid = Some(sid.clone());
      }
    }
    let conversation = self.conversation_mut(conversation_sid, path)?;
    let now = input.date_created.unwrap_or_else(Utc::now);
    // Writing to an inactive conversation makes it active again.
    conversation.state = ConvState::Active;
    conversation.date_updated = now;
    let index = conversation.next_index;
    conversation.next_index += 1;
    conversation.messages.push(Message {
      sid,
      index,
      author,
      body,
      attributes: input.attributes.unwrap_or_else(|| "{}".to_string()),
      media,
      participant_sid,
      content_sid: input.content_sid,
      date_created: now,
    });
    Ok(conversation.messages.last().expect("just pushed"))
  }

  // ---- Programmable Messaging ----

  pub fn send_sms(&mut self, input: SmsInput) -> ApiResult<&SmsMessage> {
    if input.from.is_none() && input.messaging_service_sid.is_none() {
      return Err(ApiError::bad_request(21603, "A 'From' phone number is required."));
    }
    if input.content_variables.is_some() && input.content_sid.is_none() {
      return Err(ApiError::bad_request(21654, "ContentSid Required"));
    }
    let body = match input.content_sid.as_deref() {
      Some(content_sid) => self.render_template(content_sid, input.content_variables.as_deref(), 21655, 21656)?,
      None => input.body.unwrap_or_default(),
    };
    if body.is_empty() && input.media_urls.is_empty() {
      return Err(ApiError::bad_request(21602, "Message body is required."));
    }
    if body.chars().count() > MAX_BODY_CHARS {
      return Err(ApiError::bad_request(
        21617,
        "The concatenated message body exceeds the 1600 character limit",
      ));
    }
    if let Some(bad) = input
      .media_urls
      .iter()
      .find(|u| !(u.starts_with("https://") || u.starts_with("http://")))
    {
      return Err(ApiError::bad_request(21620, format!("Invalid media URL(s): {bad}")));
    }
    let whatsapp_to = input.to.starts_with("whatsapp:");
    if let Some(from) = &input.from {
      if whatsapp_to != from.starts_with("whatsapp:") {
        return Err(ApiError::bad_request(
          63007,
          "Twilio could not find a Channel with the specified From address",
        ));
      }
    }
    self.sms.push(SmsMessage {
      sid: new_sid("SM"),
      to: input.to,
      from: input.from,
      messaging_service_sid: input.messaging_service_sid,
      body,
      media_urls: input.media_urls,
      content_sid: input.content_sid,
      content_variables: input.content_variables,
      date_created: Utc::now(),
    });
    Ok(self.sms.last().expect("just pushed"))
  }

  // ---- Media Content Service ----

  pub fn add_media(
    &mut self,
    service_sid: &str,
    content_type: String,
    filename: Option<String>,
    category: Option<String>,
    bytes: Bytes,
  ) -> ApiResult<&Media> {
    if bytes.is_empty() {
      return Err(ApiError::bad_request(20001, "Media content is empty"));
    }
    let sid = new_sid("ME");
    self.media.insert(
      sid.clone(),
      Media {
        sid: sid.clone(),
        service_sid: service_sid.to_string(),
        content_type,
        filename,
        category: category.unwrap_or_else(|| "media".to_string()),
        bytes,
        message_sid: None,
        date_created: Utc::now(),
      },
    );
    Ok(&self.media[&sid])
  }
}

fn invalid_content_sid_message(code: u32) -> &'static str {
  if code == 21655 {
    "The ContentSid is Invalid"
  } else {
    "Invalid content SID"
  }
}

fn invalid_variables_message(code: u32) -> &'static str {
  if code == 21656 {
    "The Content Variables parameter is invalid."
  } else {
    "Invalid content variables format"
  }
}

/// An address and its proxy: E.164 numbers of one channel (`whatsapp:` on both or neither), not equal.
fn validate_binding(binding: &Binding) -> ApiResult<()> {
  if binding.proxy_address.is_empty() {
    return Err(ApiError::bad_request(50412, "Participant proxy address is empty"));
  }
  if !is_channel_address(&binding.address)
    || binding.address.starts_with("whatsapp:") != binding.proxy_address.starts_with("whatsapp:")
  {
    return Err(ApiError::bad_request(50407, "Invalid messaging binding address"));
  }
  if !is_channel_address(&binding.proxy_address) {
    return Err(ApiError::bad_request(50408, "Invalid messaging binding proxy address"));
  }
  if binding.address == binding.proxy_address {
    return Err(ApiError::bad_request(50409, "Participant address equals proxy address"));
  }
  Ok(())
}

/// `+` and 8 to 15 digits, optionally behind `whatsapp:`.
fn is_channel_address(address: &str) -> bool {
  let number = address.strip_prefix("whatsapp:").unwrap_or(address);
  number
    .strip_prefix('+')
    .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}
