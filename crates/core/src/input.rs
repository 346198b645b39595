//! Checks on everything a caller hands in, made before any request: a failure here means nothing was sent.

use serde_json::Value;

use crate::error::{Error, Result};

/// Twilio's limit for a message body.
pub const MAX_BODY_CHARS: usize = 1600;
pub const MAX_AUTHOR_CHARS: usize = 256;
pub const MAX_URL_CHARS: usize = 2048;
/// Twilio's limit for a participant's identity.
pub const MAX_IDENTITY_CHARS: usize = 256;
/// Twilio's limit for a conversation's attributes.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Twilio's limit for a participant's attributes.
pub const MAX_PARTICIPANT_ATTRIBUTES_BYTES: usize = 4 * 1024;
/// The most messages `getMessages` reads.
pub const MAX_MESSAGES: usize = 1000;

fn no_nul(value: &str, what: &str, code: &'static str) -> Result<()> {
  if value.contains('\0') {
    return Err(Error::invalid(code, format!("{what} must not contain NUL characters")));
  }
  Ok(())
}

/// A message body: not blank, at most 1600 characters.
pub fn text(value: &str) -> Result<&str> {
  if value.trim().is_empty() {
    return Err(Error::invalid("INVALID_TEXT", "Message text must not be empty"));
  }
  caption(value)
}

/// An optional body (a caption): at most 1600 characters when present.
pub fn caption(value: &str) -> Result<&str> {
  no_nul(value, "Message text", "INVALID_TEXT")?;
  let length = value.chars().count();
  if length > MAX_BODY_CHARS {
    return Err(Error::invalid(
      "TEXT_TOO_LONG",
      format!("Message text is {length} characters long; Twilio accepts at most {MAX_BODY_CHARS}"),
    ));
  }
  Ok(value)
}

pub fn author(value: &str) -> Result<&str> {
  if value.trim().is_empty() || value.chars().count() > MAX_AUTHOR_CHARS {
    return Err(Error::invalid(
      "INVALID_AUTHOR",
      format!("author must be a non-empty string of at most {MAX_AUTHOR_CHARS} characters"),
    ));
  }
  no_nul(value, "author", "INVALID_AUTHOR")?;
  Ok(value)
}

/// A caller's idempotency key: 1 to 256 characters, none of them a control character (it is stored in the
/// message's attributes and compared as it is).
pub fn idempotency_key(value: &str) -> Result<&str> {
  if value.trim().is_empty() || value.chars().count() > MAX_IDENTITY_CHARS || value.chars().any(char::is_control) {
    return Err(Error::invalid(
      "INVALID_IDEMPOTENCY_KEY",
      format!("idempotencyKey must be a non-empty string of at most {MAX_IDENTITY_CHARS} characters, without control characters"),
    ));
  }
  // JS hands a lone surrogate (a name cut mid-emoji) over as U+FFFD: two keys that differ only there would be one.
  if value.contains(char::REPLACEMENT_CHARACTER) {
    return Err(Error::invalid(
      "INVALID_IDEMPOTENCY_KEY",
      "idempotencyKey must be well-formed Unicode: it holds a lone surrogate (or U+FFFD), which cannot be kept as \
       written",
    ));
  }
  Ok(value)
}

/// An agent's chat identity: 1 to 256 characters, not blank, no NUL.
pub fn identity(value: &str) -> Result<&str> {
  if value.trim().is_empty() || value.chars().count() > MAX_IDENTITY_CHARS {
    return Err(Error::invalid(
      "INVALID_IDENTITY",
      format!("identity must be a non-empty string of at most {MAX_IDENTITY_CHARS} characters"),
    ));
  }
  no_nul(value, "identity", "INVALID_IDENTITY")?;
  Ok(value)
}

/// A JSON object text no larger than `max_bytes`: the attributes Twilio stores.
fn json_object(
  value: &str,
  name: &str,
  code: &'static str,
  too_large: &'static str,
  max_bytes: usize,
) -> Result<serde_json::Map<String, Value>> {
  let Ok(Value::Object(map)) = serde_json::from_str::<Value>(value) else {
    return Err(Error::invalid(
      code,
      format!("{name} must be a plain object or a JSON object string"),
    ));
  };
  if value.len() > max_bytes {
    return Err(Error::invalid(
      too_large,
      format!(
        "{name} is {} bytes as JSON; Twilio stores at most {max_bytes}",
        value.len()
      ),
    ));
  }
  Ok(map)
}

/// A metadata patch: a JSON object, at most Twilio's 16 KB for a conversation's attributes.
pub fn metadata(value: &str) -> Result<serde_json::Map<String, Value>> {
  json_object(
    value,
    "metadata",
    "INVALID_METADATA",
    "METADATA_TOO_LARGE",
    MAX_METADATA_BYTES,
  )
}

/// The conversation's attributes after a patch: still within Twilio's 16 KB.
pub fn metadata_size(attributes: &str) -> Result<()> {
  if attributes.len() > MAX_METADATA_BYTES {
    return Err(Error::invalid(
      "METADATA_TOO_LARGE",
      format!(
        "the conversation's metadata would be {} bytes as JSON; Twilio stores at most {MAX_METADATA_BYTES}",
        attributes.len()
      ),
    ));
  }
  Ok(())
}

/// An agent's attributes: a JSON object, at most Twilio's 4 KB for a participant.
pub fn participant_attributes(value: &str) -> Result<&str> {
  json_object(
    value,
    "attributes",
    "INVALID_ATTRIBUTES",
    "ATTRIBUTES_TOO_LARGE",
    MAX_PARTICIPANT_ATTRIBUTES_BYTES,
  )?;
  Ok(value)
}

/// A state a caller may set.
pub fn state(value: &str) -> Result<&str> {
  match value {
    "active" | "inactive" | "closed" => Ok(value),
    _ => Err(Error::invalid(
      "INVALID_STATE",
      "state must be 'active', 'inactive' or 'closed'",
    )),
  }
}

/// How many messages to read: a whole number from 1 to 1,000.
pub fn limit(value: f64) -> Result<usize> {
  if value.fract() != 0.0 || !(1.0..=MAX_MESSAGES as f64).contains(&value) {
    return Err(Error::invalid(
      "INVALID_LIMIT",
      format!("limit must be a whole number from 1 to {MAX_MESSAGES}"),
    ));
  }
  // Whole and within 1..=1000: exact.
  Ok(value as usize)
}

/// The order of messages: `asc` (oldest first) or `desc` (newest first).
pub fn order(value: &str) -> Result<&str> {
  match value {
    "asc" | "desc" => Ok(value),
    _ => Err(Error::invalid("INVALID_ORDER", "order must be 'asc' or 'desc'")),
  }
}

/// `HX` and 32 hex digits.
pub fn content_sid(value: &str) -> Result<&str> {
  if !crate::records::is_sid(value, "HX") {
    return Err(Error::invalid(
      "INVALID_CONTENT_SID",
      "contentSid must be HX followed by 32 hexadecimal digits",
    ));
  }
  Ok(value)
}

/// An http(s) URL with a host.
pub fn media_url(value: &str) -> Result<url::Url> {
  let invalid = |why: &str| Error::invalid("INVALID_MEDIA_URL", format!("Invalid media URL: {why}"));
  if value.chars().count() > MAX_URL_CHARS {
    return Err(invalid("it is longer than 2048 characters"));
  }
  let url = url::Url::parse(value.trim()).map_err(|e| invalid(&e.to_string()))?;
  if !matches!(url.scheme(), "http" | "https") {
    return Err(invalid("only http and https URLs can be fetched"));
  }
  if url.host_str().is_none_or(str::is_empty) {
    return Err(invalid("it has no host"));
  }
  if !url.username().is_empty() || url.password().is_some() {
    return Err(invalid("credentials in media URLs are not sent"));
  }
  Ok(url)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn text_is_not_blank_and_at_most_1600_characters() {
    assert!(text("hi\nthere").is_ok());
    assert_eq!(text(" \n").unwrap_err().code(), "INVALID_TEXT");
    assert_eq!(text("a\0b").unwrap_err().code(), "INVALID_TEXT");
    assert!(text(&"é".repeat(1600)).is_ok());
    assert_eq!(text(&"x".repeat(1601)).unwrap_err().code(), "TEXT_TOO_LONG");
  }

  #[test]
  fn content_sids_are_hx_and_32_hex_digits() {
    assert!(content_sid("HX0123456789abcdef0123456789ABCDEF").is_ok());
    for bad in [
      "",
      "HX123",
      "MX0123456789abcdef0123456789abcdef",
      "HX0123456789abcdef0123456789abcdeg",
    ] {
      assert_eq!(content_sid(bad).unwrap_err().code(), "INVALID_CONTENT_SID", "{bad}");
    }
  }

  #[test]
  fn media_urls_are_http_or_https_with_a_host() {
    assert!(media_url("https://example.com/a.png").is_ok());
    for bad in [
      "ftp://example.com/a.png",
      "file:///etc/passwd",
      "not a url",
      "https://user:pw@example.com/a.png",
      "javascript:alert(1)",
    ] {
      assert_eq!(media_url(bad).unwrap_err().code(), "INVALID_MEDIA_URL", "{bad}");
    }
  }

  proptest::proptest! {
    #[test]
    fn validators_never_panic(input in "\\PC{0,64}") {
      let _ = text(&input);
      let _ = author(&input);
      let _ = content_sid(&input);
      let _ = media_url(&input);
    }
  }
}
