//! Who the client authenticates as (an account SID and token, or an API key and secret) and what webhooks are
//! signed with; the credential type that never shows itself.

use std::fmt;

use super::{non_empty, Options, MISSING_CREDENTIALS};
use crate::error::{Error, Result};

/// A credential that never shows itself: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
  pub fn new(value: impl Into<String>) -> Self {
    Self(value.into())
  }

  pub fn expose(&self) -> &str {
    &self.0
  }
}

impl fmt::Debug for Secret {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("Secret([redacted])")
  }
}

impl fmt::Display for Secret {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("[redacted]")
  }
}

/// Who the client authenticates as, and what webhooks are signed with.
pub(super) struct Credentials {
  pub account_sid: String,
  pub username: String,
  pub password: Secret,
  pub webhook_auth_token: Option<Secret>,
}

/// A secret option, else its environment variable; blank is absent.
pub(super) fn secret(option: Option<Secret>, env: Option<String>) -> Option<Secret> {
  option
    .filter(|secret| !secret.expose().trim().is_empty())
    .or_else(|| env.map(Secret::new))
}

impl Credentials {
  /// An API key and secret when both are given, else the account SID and auth token.
  pub(super) fn resolve(options: &mut Options, env: &impl Fn(&str) -> Option<String>) -> Result<Self> {
    // The legacy module's sentence first (callers match it), then which value is missing and where it was looked for.
    let missing = |what: &str| Error::Config {
      message: format!("{MISSING_CREDENTIALS}: {what}"),
    };
    let account_sid = non_empty(options.account_sid.take())
      .or_else(|| env("TWILIO_ACCOUNT_SID"))
      .ok_or_else(|| {
        missing("the account SID is missing (looked for in the accountSid option and TWILIO_ACCOUNT_SID)")
      })?;
    if !account_sid.starts_with("AC") {
      let shape = if account_sid.starts_with("SK") {
        "an API key SID (SK…): give it as apiKey, with apiSecret, and the account SID (AC…) as accountSid"
      } else {
        "not an account SID: those start with AC (Twilio Console, Account Info)"
      };
      return Err(Error::Config {
        message: format!("accountSid (or TWILIO_ACCOUNT_SID) is {shape}"),
      });
    }
    let auth_token = secret(options.auth_token.take(), env("TWILIO_AUTH_TOKEN"));
    let api_key = non_empty(options.api_key.take()).or_else(|| env("TWILIO_API_KEY"));
    let api_secret = secret(options.api_secret.take(), env("TWILIO_API_SECRET"));
    let webhook_auth_token =
      secret(options.webhook_auth_token.take(), env("TWILIO_WEBHOOK_AUTH_TOKEN")).or_else(|| auth_token.clone());
    let (username, password) = match (api_key, api_secret, auth_token) {
      (Some(key), Some(secret), _) => (key, secret),
      (_, _, Some(token)) => (account_sid.clone(), token),
      (Some(_), None, None) => {
        return Err(missing(
          "apiKey (or TWILIO_API_KEY) is given without its apiSecret (TWILIO_API_SECRET), and there is no auth token",
        ))
      }
      _ => {
        return Err(missing(
          "the auth token is missing (looked for in the authToken option and TWILIO_AUTH_TOKEN; or give apiKey and \
           apiSecret)",
        ))
      }
    };
    Ok(Self {
      account_sid,
      username,
      password,
      webhook_auth_token,
    })
  }
}
