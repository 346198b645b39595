//! The WhatsApp 24-hour window: free-form messages reach a customer only within 24 hours of their last message;
//! outside it only templates go (Twilio's 63016). The window is read from the conversation: the customer's
//! newest message, found newest first, and "now" as Twilio's answer dates it (its `Date` header), so that the
//! client's own clock does not matter. An open window is remembered until it closes (a new message only moves
//! its end later), which makes the `refuse` policy one read per customer per window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use crate::conversation::Conversations;
use crate::endpoints::Api;
use crate::error::{Error, Result};
use crate::phone::Customer;
use crate::sync::Unpoisoned;

/// How long after the customer's last message free-form messages may reach them.
pub const WINDOW: Duration = Duration::hours(24);
/// The most open windows remembered; beyond it the ones that closed are forgotten first.
const REMEMBERED: usize = 10_000;

#[derive(Debug, Clone, Default)]
pub struct Window {
  pub conversation_sid: Option<String>,
  pub open: bool,
  /// ISO-8601, as Twilio dates the message.
  pub last_inbound_at: Option<String>,
  pub closes_at: Option<String>,
}

pub struct Windows {
  api: Arc<Api>,
  conversations: Arc<Conversations>,
  /// Customers (by number) whose window is open, and until when on this machine's monotonic clock.
  open_until: Mutex<HashMap<u64, Instant>>,
}

fn iso(date: DateTime<Utc>) -> String {
  date.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Windows {
  pub fn new(api: Arc<Api>, conversations: Arc<Conversations>) -> Self {
    Self {
      api,
      conversations,
      open_until: Mutex::new(HashMap::new()),
    }
  }

  /// The customer's window, read from their conversation; closed when they have none or never wrote.
  pub async fn get(&self, phone: &str) -> Result<Window> {
    let customer = self.conversations.customer(phone)?;
    let Some(conversation) = self.conversations.existing(phone).await? else {
      return Ok(Window::default());
    };
    let address = customer.address();
    let (last, now) = self.api.newest_message_by(&conversation.sid, &address, WINDOW).await?;
    let Some(last) = last else {
      return Ok(Window {
        conversation_sid: Some(conversation.sid),
        ..Window::default()
      });
    };
    let closes = last + WINDOW;
    let open = closes > now;
    if open {
      // Twilio's dates are input: a message dated ahead of Twilio's clock leaves no more than a window.
      let left = (closes - now).min(WINDOW).to_std().unwrap_or_default();
      self.remember(customer.number(), Instant::now() + left);
    }
    Ok(Window {
      conversation_sid: Some(conversation.sid),
      open,
      last_inbound_at: Some(iso(last)),
      closes_at: Some(iso(closes)),
    })
  }

  /// Whether the customer's window is open: remembered while it is, else read.
  pub async fn is_open(&self, customer: &Customer) -> Result<bool> {
    let known_open = self
      .lock()
      .get(&customer.number())
      .is_some_and(|until| *until > Instant::now());
    Ok(known_open || self.get(&customer.e164()).await?.open)
  }

  /// Fails with `OUTSIDE_WHATSAPP_WINDOW` unless the customer's window is open.
  pub async fn require_open(&self, customer: &Customer) -> Result<()> {
    if self.is_open(customer).await? {
      return Ok(());
    }
    Err(Error::Refused {
      code: "OUTSIDE_WHATSAPP_WINDOW",
      message:
        "The customer's WhatsApp window is closed (no message from them in the last 24 hours): send a template instead"
          .to_string(),
    })
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Instant>> {
    self.open_until.locked()
  }

  fn remember(&self, number: u64, until: Instant) {
    let mut open = self.lock();
    if open.len() >= REMEMBERED {
      let now = Instant::now();
      open.retain(|_, until| *until > now);
    }
    if open.len() < REMEMBERED {
      open.insert(number, until);
    }
  }
}
