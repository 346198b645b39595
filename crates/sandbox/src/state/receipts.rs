//! Delivery receipts and the WhatsApp 24-hour window. A message gets one receipt per non-chat participant other
//! than its author. The receipt says `sent` just after and `delivered` a moment later on the sandbox's clock; a
//! free-form message to a WhatsApp customer whose last message is more than 24 hours old (or who never wrote)
//! never leaves Twilio and ends `failed` with 63016. An approved template always goes; an unapproved one only
//! within the window; a template WhatsApp refuses (see [`super::content`]) ends `failed` with WhatsApp's code. Each
//! change is an `onDeliveryUpdated`.

use chrono::{DateTime, Duration, Utc};

use super::outbox::{Event, Source};
use super::records::{Message, Participant, Receipt};
use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::new_sid;

/// How long after its creation a receipt reaches its final status, on the sandbox's clock.
pub const RECEIPT_DELAY: Duration = Duration::seconds(1);
/// How long after a customer's last message free-form messages may reach them.
pub const WHATSAPP_WINDOW: Duration = Duration::hours(24);
/// "Outside messaging window. For WhatsApp, use a Message Template instead."
pub const OUTSIDE_WINDOW_CODE: u32 = 63016;
pub const STATUSES: &[&str] = &["sent", "delivered", "read", "failed", "undelivered"];

/// Whether a WhatsApp customer can receive a free-form message now.
fn in_window(participant: &Participant, now: DateTime<Utc>) -> bool {
  participant
    .last_inbound
    .is_some_and(|last| now - last <= WHATSAPP_WINDOW)
}

/// What WhatsApp makes of a template message.
#[derive(Debug, Clone, Copy)]
pub(super) struct TemplateOutcome {
  pub approved: bool,
  /// The code its receipt fails with, whatever the window.
  pub refusal: Option<u32>,
}

/// The receipts of a new message (`template`: when it is one): one per non-chat participant but its author.
pub(super) fn receipts_for(
  participants: &[Participant],
  author: Option<&str>,
  template: Option<TemplateOutcome>,
  now: DateTime<Utc>,
) -> Vec<Receipt> {
  participants
    .iter()
    .filter(|p| p.binding.is_some() && Some(p.sid.as_str()) != author)
    .map(|p| {
      let whatsapp = p.binding.as_ref().is_some_and(|b| b.channel() == "whatsapp");
      let outside = || (!in_window(p, now)).then_some(OUTSIDE_WINDOW_CODE);
      let refused = match template {
        _ if !whatsapp => None,
        Some(TemplateOutcome {
          refusal: Some(code), ..
        }) => Some(code),
        Some(TemplateOutcome { approved: true, .. }) => None,
        _ => outside(),
      };
      Receipt {
        sid: new_sid("DY"),
        participant_sid: p.sid.clone(),
        channel_message_sid: new_sid("SM"),
        status: None,
        error_code: None,
        date_created: now,
        date_updated: now,
        steps: match refused {
          Some(code) => vec![(now + RECEIPT_DELAY, "failed", Some(code))],
          None => vec![(now, "sent", None), (now + RECEIPT_DELAY, "delivered", None)],
        },
      }
    })
    .collect()
}

impl State {
  /// Schedules the steps of a new message's receipts. The first falls due at once but is applied on the next
  /// look at the clock, so that its event follows the message's own.
  pub(super) fn start_receipts(&mut self, conversation_sid: &str, message: &Message) {
    let mut times: Vec<DateTime<Utc>> = message
      .receipts
      .iter()
      .flat_map(|r| r.steps.iter().map(|(when, ..)| *when))
      .collect();
    times.sort();
    times.dedup();
    for when in times {
      self.clock.schedule_receipts(when, conversation_sid, &message.sid);
    }
  }

  /// Applies the steps of a message's receipts that are due by `when`, each with its event.
  pub(super) fn settle_receipts(&mut self, conversation_sid: &str, message_sid: &str, when: DateTime<Utc>) {
    let Some(message) = self
      .conversations
      .get_mut(conversation_sid)
      .and_then(|c| c.messages.iter_mut().find(|m| m.sid == message_sid))
    else {
      return;
    };
    let mut changed = Vec::new();
    for receipt in &mut message.receipts {
      while receipt.steps.first().is_some_and(|(due, ..)| *due <= when) {
        let (due, status, error_code) = receipt.steps.remove(0);
        receipt.status = Some(status.to_string());
        receipt.error_code = error_code;
        receipt.date_updated = due;
        changed.push(receipt.clone());
      }
    }
    self.emit(conversation_sid, Source::Api, |_| {
      changed
        .into_iter()
        .map(|receipt| Event::DeliveryUpdated(conversation_sid.to_string(), message_sid.to_string(), receipt))
        .collect()
    });
  }

  /// Sets a receipt's status (for tests of what the channel reports), with its `onDeliveryUpdated`.
  pub fn set_receipt(&mut self, sid: &str, status: &str, error_code: Option<u32>) -> ApiResult<Receipt> {
    if !STATUSES.contains(&status) {
      return Err(ApiError::bad_request(
        20001,
        format!("status must be one of {}", STATUSES.join(", ")),
      ));
    }
    let now = self.now();
    let found = self.conversations.values_mut().find_map(|c| {
      c.messages.iter_mut().find_map(|m| {
        let sid_of_message = m.sid.clone();
        m.receipts
          .iter_mut()
          .find(|r| r.sid == sid)
          .map(|r| (c.sid.clone(), sid_of_message, r))
      })
    });
    let Some((conversation_sid, message_sid, receipt)) = found else {
      return Err(ApiError::not_found(&format!("/receipts/{sid}")));
    };
    receipt.status = Some(status.to_string());
    receipt.error_code = error_code;
    receipt.steps.clear();
    receipt.date_updated = now;
    let receipt = receipt.clone();
    let event = Event::DeliveryUpdated(conversation_sid.clone(), message_sid, receipt.clone());
    self.emit(&conversation_sid, Source::Api, |_| vec![event]);
    Ok(receipt)
  }
}
