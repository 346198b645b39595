//! The options that take one of a few words, each an enum with its default, and how a word is read.

use std::str::FromStr;

use strum::{EnumString, IntoStaticStr, VariantNames};

use super::non_empty;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum Delivery {
  /// Every message is a message of the customer's conversation.
  #[default]
  Conversations,
  /// Templates and images go through Messages.json, as the old module sent them.
  Messaging,
}

/// Whether the system identity joins the conversations the client creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum SystemParticipant {
  /// It joins while Twilio accepts it; when Twilio refuses a conversation because of it (its limit of 1,000
  /// conversations per identity), the conversation is made without it for a while.
  #[default]
  Auto,
  /// It joins, or the conversation is not created.
  Always,
  /// It never joins: messages are still authored by it, which Twilio allows without membership.
  Never,
}

/// What becomes of a free-form message to a WhatsApp customer who has not written in 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum OutsideWindow {
  /// It is sent; Twilio accepts it and its receipt ends `failed` with 63016.
  #[default]
  Send,
  /// It fails with `OUTSIDE_WHATSAPP_WINDOW` before any message request.
  Refuse,
}

/// What becomes of a template send when its definition cannot be read (the Content API does not answer, or the
/// credentials may not read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum TemplateUnavailable {
  /// It is sent, its variables checked on their own (values, keys, counts), with one warning per template.
  #[default]
  Send,
  /// It fails with `TEMPLATE_UNAVAILABLE` before any message request.
  Refuse,
}

/// What the JS entry passes to its logger: failures at `error` (input refused at `debug`), warnings at `warn` (at
/// every level), what the client changed (a conversation created, Redis answering) at `info`, one line per Twilio
/// request at `debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, EnumString, VariantNames, IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum LogLevel {
  #[default]
  Error,
  Warn,
  Info,
  Debug,
}

/// The option's value, else the environment's, else the default; a word it does not take is refused, naming them.
pub(super) fn choice<T: FromStr + VariantNames + Default>(
  name: &str,
  option: Option<String>,
  environment: Option<String>,
) -> Result<T> {
  let Some(word) = non_empty(option).or(environment) else {
    return Ok(T::default());
  };
  word.parse().map_err(|_| {
    let words = match T::VARIANTS.split_last() {
      Some((last, [])) => format!("'{last}'"),
      Some((last, rest)) => format!("'{}' or '{last}'", rest.join("', '")),
      None => String::new(),
    };
    Error::Config {
      message: format!("{name} must be {words}, not '{word}'"),
    }
  })
}
