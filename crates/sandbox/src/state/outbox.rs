//! The events waiting for the webhooks: what happens in the state is recorded as an [`Event`] while anybody
//! listens; the delivery task renders, signs and sends them in order, never under the lock, and keeps each
//! attempt for the control API.

use super::records::Message;
use super::records::Participant;
use super::records::Receipt;
use super::records::{ConvState, Conversation};
use super::State;

/// Who made a change, as Twilio's `Source` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
  /// A REST request bearing `X-Twilio-Webhook-Enabled: true`.
  Api,
  /// A customer on a messaging channel.
  Sms,
}

impl Source {
  pub fn as_str(self) -> &'static str {
    match self {
      Self::Api => "API",
      Self::Sms => "SMS",
    }
  }
}

/// What happened, with copies of what the payload needs (the resource may be gone when it is rendered).
#[derive(Debug, Clone)]
pub enum Event {
  ConversationAdded(Conversation),
  ConversationUpdated(Conversation),
  ConversationRemoved(Conversation),
  ConversationStateUpdated {
    conversation: Conversation,
    from: ConvState,
    reason: &'static str,
  },
  ParticipantAdded(String, Participant),
  ParticipantRemoved(String, Participant),
  MessageAdded(String, Message),
  DeliveryUpdated(String, String, Receipt),
}

impl Event {
  pub fn event_type(&self) -> &'static str {
    match self {
      Self::ConversationAdded(_) => "onConversationAdded",
      Self::ConversationUpdated(_) => "onConversationUpdated",
      Self::ConversationRemoved(_) => "onConversationRemoved",
      Self::ConversationStateUpdated { .. } => "onConversationStateUpdated",
      Self::ParticipantAdded(..) => "onParticipantAdded",
      Self::ParticipantRemoved(..) => "onParticipantRemoved",
      Self::MessageAdded(..) => "onMessageAdded",
      Self::DeliveryUpdated(..) => "onDeliveryUpdated",
    }
  }

  pub fn conversation_sid(&self) -> &str {
    match self {
      Self::ConversationAdded(c) | Self::ConversationUpdated(c) | Self::ConversationRemoved(c) => &c.sid,
      Self::ConversationStateUpdated { conversation, .. } => &conversation.sid,
      Self::ParticipantAdded(sid, _)
      | Self::ParticipantRemoved(sid, _)
      | Self::MessageAdded(sid, _)
      | Self::DeliveryUpdated(sid, ..) => sid,
    }
  }
}

/// An event and who caused it, waiting for the delivery task.
#[derive(Debug, Clone)]
pub struct Pending {
  pub event: Event,
  pub source: Source,
}

/// One attempt to call a webhook, for `GET /__sandbox/webhooks`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attempt {
  pub seq: u64,
  pub at: String,
  pub event_type: String,
  pub scope: String,
  pub url: String,
  pub method: String,
  pub params: serde_json::Value,
  pub signature: String,
  /// Where the request went, when a route sent it elsewhere than the URL signed.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub delivered_to: Option<String>,
  /// `I-Twilio-Idempotency-Token`: one per event and target, the same on each retry.
  pub idempotency_token: String,
  /// 0 for the first attempt, then one more for each retry (the payload's `RetryCount`).
  pub retry: u32,
  /// The HTTP status answered; `None` when the call failed or timed out.
  pub status: Option<u16>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub error: Option<String>,
  pub duration_ms: u64,
}

#[derive(Debug, Default)]
pub struct Outbox {
  pub pending: Vec<Pending>,
  pub attempts: Vec<Attempt>,
  /// While held, events wait (a receiver that is down); released, they go in the order asked.
  pub held: bool,
  /// Signed URL prefix → the prefix the request is sent to: Twilio signs the public URL, a test server listens on
  /// loopback behind it.
  pub routes: Vec<(String, String)>,
}

impl Outbox {
  /// Where a request for `url` goes.
  pub fn route(&self, url: &str) -> Option<String> {
    self
      .routes
      .iter()
      .find_map(|(from, to)| url.strip_prefix(from.as_str()).map(|rest| format!("{to}{rest}")))
  }
}

impl State {
  /// Whether anybody would hear of a change to this conversation: events are only recorded then.
  pub fn listening(&self, conversation_sid: &str) -> bool {
    let (config, _) = self.webhooks.effective();
    config.post_webhook_url.is_some()
      || self
        .conversations
        .get(conversation_sid)
        .is_some_and(|c| !c.webhooks.is_empty())
  }

  /// Records what happened to a conversation, for the webhooks that listen; the events (copies of what
  /// the payloads need) are only made when some webhook does.
  pub fn emit(&mut self, conversation_sid: &str, source: Source, make: impl FnOnce(&State) -> Vec<Event>) {
    if self.listening(conversation_sid) {
      let events = make(self);
      self
        .outbox
        .pending
        .extend(events.into_iter().map(|event| Pending { event, source }));
    }
  }

  /// A change of the conversation's state from `from` to the one it is in now.
  pub fn state_change(&self, conversation_sid: &str, from: ConvState, reason: &'static str) -> Option<Event> {
    let conversation = self.conversations.get(conversation_sid)?;
    (conversation.state != from).then(|| Event::ConversationStateUpdated {
      conversation: conversation.summary(),
      from,
      reason,
    })
  }

  /// A new message's events: `onMessageAdded`, and `onConversationStateUpdated` when it woke the conversation.
  pub fn message_added(
    &self,
    conversation_sid: &str,
    message: &Message,
    before: ConvState,
    reason: &'static str,
  ) -> Vec<Event> {
    let mut events = vec![Event::MessageAdded(conversation_sid.to_string(), message.clone())];
    events.extend(self.state_change(conversation_sid, before, reason));
    events
  }
}
