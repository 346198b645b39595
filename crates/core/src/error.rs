//! The one error type of the core. Twilio's error body is parsed into `Api`; input errors carry a stable
//! string code; every variant knows whether the request it ended may have taken effect.

use std::time::Duration;

use serde_json::Value;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
  /// Twilio answered with an error status; `code` and `more_info` come from its body when it had one.
  #[error("{message}")]
  Api {
    status: u16,
    code: Option<u32>,
    message: String,
    more_info: Option<String>,
    details: Option<Value>,
  },
  /// No answer: the connection failed or broke. `sent` tells whether the request may have reached Twilio.
  #[error("Network error talking to Twilio: {message}")]
  Transport { message: String, sent: bool },
  #[error("Twilio did not answer within {} ms", .after.as_millis())]
  Timeout { after: Duration },
  /// Twilio answered 2xx with a body that is not the JSON expected: the status it came with, serde's reason,
  /// and an excerpt of the body.
  #[error("Unexpected answer from Twilio (HTTP {status}): {reason}")]
  Decode { status: u16, reason: String, body: String },
  /// Bad input: nothing was sent.
  #[error("{message}")]
  InvalidInput { code: &'static str, message: String },
  /// A send the client's own policy stops before it is made (a closed WhatsApp window): nothing was sent.
  #[error("{message}")]
  Refused { code: &'static str, message: String },
  /// The send would wait longer than `maxQueueMs` for its pacing slot: it was refused before anything was
  /// reserved or sent.
  #[error(
    "This send would wait about {} s for Twilio's rate, longer than maxQueueMs allows ({} s): nothing was sent. \
     Retry after {} ms, or send fewer at once (sendBulk paces a campaign).",
    .wait.as_secs(), .max_queue.as_secs(), .retry_after.as_millis()
  )]
  QueueFull {
    wait: Duration,
    max_queue: Duration,
    retry_after: Duration,
  },
  #[error("{message}")]
  Config { message: String },
  /// A bug of ours (a panic caught at the boundary).
  #[error("Internal error: {message}")]
  Internal { message: String },
}

pub type Result<T> = std::result::Result<T, Error>;

/// What a failure is called: Twilio's numeric code when Twilio answered with one, else a stable name of this
/// package (`INVALID_PHONE_NUMBER`, `TIMEOUT`, `HTTP_502`, …). Never both, and never a number as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
  Twilio(u32),
  Named(String),
}

impl std::fmt::Display for Code {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    match self {
      Self::Twilio(code) => write!(f, "{code}"),
      Self::Named(name) => f.write_str(name),
    }
  }
}

impl PartialEq<&str> for Code {
  fn eq(&self, other: &&str) -> bool {
    matches!(self, Self::Named(name) if name == other)
  }
}

impl Error {
  pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
    Self::InvalidInput {
      code,
      message: message.into(),
    }
  }

  /// A 2xx answer that does not hold what the client needs; keeps serde's reason and an excerpt of the body.
  pub fn decode(status: u16, body: &str, reason: impl std::fmt::Display) -> Self {
    // serde's reason quotes the value it could not take (`invalid type: integer `14155550123``): masked.
    Self::Decode {
      status,
      reason: bounded(&redact_numbers(&reason.to_string())),
      body: redact_numbers(&body.chars().take(200).collect::<String>()),
    }
  }

  /// Parses Twilio's `{code, message, more_info, status, details}` (its message with phone numbers masked: Twilio
  /// names the number in some, such as 21211); a body that is not JSON (as a load balancer
  /// sends on 502) keeps the HTTP status and a short excerpt.
  pub fn from_response(status: u16, body: &[u8]) -> Self {
    match serde_json::from_slice::<Value>(body) {
      Ok(json) if json.get("message").is_some() || json.get("code").is_some() => Self::Api {
        status,
        code: json
          .get("code")
          .and_then(Value::as_u64)
          .and_then(|c| u32::try_from(c).ok()),
        message: explained(
          status,
          json.get("code").and_then(Value::as_u64),
          redact_numbers(json.get("message").and_then(Value::as_str).unwrap_or("Twilio error")),
        ),
        more_info: json.get("more_info").and_then(Value::as_str).map(redact_numbers),
        details: json.get("details").filter(|d| !d.is_null()).map(redact_json),
      },
      _ => {
        let text = String::from_utf8_lossy(body);
        let excerpt: String = text.chars().take(200).collect();
        Self::Api {
          status,
          code: None,
          message: if excerpt.trim().is_empty() {
            format!("Twilio answered HTTP {status}")
          } else {
            format!("Twilio answered HTTP {status}: {}", redact_numbers(excerpt.trim()))
          },
          more_info: None,
          details: None,
        }
      }
    }
  }

  /// The text shown to the caller: any number in it masked, at most [`MAX_ERROR_TEXT`] characters of it. Every
  /// failure of a call leaves the client through this, whatever its path (a construction error is the
  /// configuration's own text: it names options, never a secret's value).
  pub fn public_message(&self) -> String {
    bounded(&redact_numbers(&self.to_string()))
  }

  /// Twilio's numeric error code, when Twilio answered with one.
  pub fn twilio_code(&self) -> Option<u32> {
    match self {
      Self::Api { code, .. } => *code,
      _ => None,
    }
  }

  pub fn status(&self) -> Option<u16> {
    match self {
      Self::Api { status, .. } => Some(*status),
      _ => None,
    }
  }

  /// What the failure is called (see [`Code`]).
  pub fn code(&self) -> Code {
    let named = |name: &str| Code::Named(name.to_string());
    match self {
      Self::Api { code: Some(code), .. } => Code::Twilio(*code),
      Self::Api { status, .. } => Code::Named(format!("HTTP_{status}")),
      Self::Transport { .. } => named("NETWORK_ERROR"),
      Self::Timeout { .. } => named("TIMEOUT"),
      Self::Decode { .. } => named("DECODE_ERROR"),
      Self::InvalidInput { code, .. } | Self::Refused { code, .. } => named(code),
      Self::QueueFull { .. } => named("QUEUE_FULL"),
      Self::Config { .. } => named("CONFIG_ERROR"),
      Self::Internal { .. } => named("INTERNAL_ERROR"),
    }
  }

  /// The variant's name, for the binding.
  pub fn kind(&self) -> &'static str {
    match self {
      Self::Api { .. } => "api",
      Self::Transport { .. } => "transport",
      Self::Timeout { .. } => "timeout",
      Self::Decode { .. } => "decode",
      Self::InvalidInput { .. } => "input",
      Self::Refused { .. } => "refused",
      Self::QueueFull { .. } => "queue",
      Self::Config { .. } => "config",
      Self::Internal { .. } => "internal",
    }
  }

  /// When to try again, for a failure that says so.
  pub fn retry_after(&self) -> Option<Duration> {
    match self {
      Self::QueueFull { retry_after, .. } => Some(*retry_after),
      _ => None,
    }
  }

  pub fn is_not_found(&self) -> bool {
    matches!(self, Self::Api { status: 404, .. })
  }

  pub fn has_code(&self, wanted: u32) -> bool {
    self.twilio_code() == Some(wanted)
  }

  /// Twilio's 429 once no attempt is left: how many were made, over how long, and what bounds it.
  pub fn rate_limited_after(self, attempts: u32, over: Duration) -> Self {
    match self {
      Self::Api {
        status: 429,
        code,
        message,
        more_info,
        details,
      } => Self::Api {
        status: 429,
        code,
        message: format!(
          "{message}: Twilio answered 429 to all {attempts} attempts over {:.1} s. A 429 is repeated until the call's \
           deadline (deadlineMs, or the send's own {{ deadlineMs }}), since Twilio did not process it",
          over.as_secs_f64()
        ),
        more_info,
        details,
      },
      other => other,
    }
  }

  /// The request may have taken effect although no success came back: a lost response, a timeout, or a
  /// gateway error. A send that ends so must be checked before it is repeated.
  pub fn is_ambiguous(&self) -> bool {
    match self {
      Self::Transport { sent, .. } => *sent,
      Self::Timeout { .. } => true,
      Self::Api { status, .. } => matches!(status, 502..=504),
      _ => false,
    }
  }
}

/// Twilio's message, with what to do where Twilio's own words ("Authenticate") do not say it.
fn explained(status: u16, code: Option<u64>, message: String) -> String {
  if status == 401 || code == Some(20003) {
    return format!(
      "{message} (20003): Twilio refused the credentials. The account SID and auth token (or API key SID and \
       secret) do not belong together or are not the account's: copy them from the Twilio Console (Account Info, \
       or API keys), and check that baseUrl, region and edge point where the account lives"
    );
  }
  message
}

/// A JSON value from outside with every number in its texts masked, its texts and its size bounded: what an
/// error may carry of Twilio's `details`.
pub fn redact_json(value: &Value) -> Value {
  fn walk(value: &Value, depth: usize) -> Value {
    match value {
      Value::String(text) => Value::String(bounded(&redact_numbers(text))),
      // A number as long as a phone number is one, as far as an error can tell.
      Value::Number(n) if n.to_string().len() >= 7 => Value::String(redact_numbers(&n.to_string())),
      Value::Array(items) if depth < 8 => Value::Array(items.iter().take(50).map(|v| walk(v, depth + 1)).collect()),
      Value::Object(map) if depth < 8 => Value::Object(
        map
          .iter()
          .take(50)
          .map(|(k, v)| (bounded(&redact_numbers(k)), walk(v, depth + 1)))
          .collect(),
      ),
      Value::Array(_) | Value::Object(_) => Value::Null,
      other => other.clone(),
    }
  }
  walk(value, 0)
}

/// The most characters of outside text an error carries.
pub const MAX_ERROR_TEXT: usize = 300;

/// `text` on one line (every control or line-separating character a space: an outside party cannot forge a log
/// line), cut to [`MAX_ERROR_TEXT`] characters with `…` where it was cut.
pub fn bounded(text: &str) -> String {
  let mut cut: String = text.chars().take(MAX_ERROR_TEXT).map(one_line).collect();
  if text.chars().nth(MAX_ERROR_TEXT).is_some() {
    cut.push('…');
  }
  cut
}

/// A control character or a line or paragraph separator as a space.
pub fn one_line(c: char) -> char {
  if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') {
    ' '
  } else {
    c
  }
}

/// What a log line or an error may carry of text an outside party wrote (Redis's, a proxy's): one line, bounded,
/// numbers masked.
pub fn outside(text: &str) -> String {
  bounded(&redact_numbers(text))
}

/// Every phone number in `text`, however it is spelled (`+14155550142`, `+1 (415) 555-0142`, `415.555.0142`,
/// `%2B14155550142`), as `…` and its last 4 digits: what errors and logs may show of one. A number is a run of 7
/// or more digits, single separators between them allowed, that stands alone (not inside a SID or a word); a date
/// (`2026-12-07`) is not one.
pub fn redact_numbers(text: &str) -> String {
  let chars: Vec<char> = text.chars().collect();
  let at = |k: usize| chars.get(k).copied();
  let mut out = String::with_capacity(text.len());
  let mut i = 0;
  while let Some(c) = at(i) {
    if c == '%' && after_encoded_plus(&chars, i + 3) {
      out.push_str("%2B");
      i += 3;
      continue;
    }
    let follows_word =
      i.checked_sub(1).and_then(at).is_some_and(char::is_alphanumeric) && !after_encoded_plus(&chars, i);
    if !c.is_ascii_digit() || follows_word {
      out.push(c);
      i += 1;
      continue;
    }
    let (end, digits) = number_span(&chars, i);
    let word_follows = at(end).is_some_and(char::is_alphanumeric);
    let span: String = chars.get(i..end).unwrap_or_default().iter().collect();
    if digits.len() >= 7 && !word_follows && !is_date(&span) {
      out.push('…');
      out.push_str(digits.get(digits.len() - 4..).unwrap_or_default());
    } else if word_follows {
      // The digits run into a word (a SID): left whole, the word's digits included.
      while let Some(c) = at(i).filter(|c| c.is_alphanumeric()) {
        out.push(c);
        i += 1;
      }
      continue;
    } else {
      out.push_str(&span);
    }
    i = end;
  }
  out
}

/// Whether `chars[i]` follows `%2B`, a `+` as a URL encodes it.
fn after_encoded_plus(chars: &[char], i: usize) -> bool {
  i.checked_sub(3)
    .and_then(|start| chars.get(start..i))
    .is_some_and(|encoded| matches!(encoded, ['%', '2', 'b' | 'B']))
}

/// Where the number starting at `start` ends, and its digits: digits with single separators (a space, `-`, `.`, `/`,
/// parentheses, `%20`) between them.
fn number_span(chars: &[char], start: usize) -> (usize, String) {
  let at = |k: usize| chars.get(k).copied();
  let is_digit = |k: usize| at(k).is_some_and(|c| c.is_ascii_digit());
  let mut digits = String::new();
  let mut end = start;
  let mut i = start;
  while let Some(c) = at(i) {
    if c.is_ascii_digit() {
      digits.push(c);
      i += 1;
      end = i;
      continue;
    }
    // A separator, or two around a parenthesis (`) `, ` (`), then a digit, continue the number.
    let mut j = i;
    let mut separators = 0;
    while separators < 2 {
      let width = separator_width(chars, j);
      if width == 0 {
        break;
      }
      j += width;
      separators += 1;
    }
    let between = chars.get(i..j).unwrap_or_default();
    let paired = separators < 2 || between.iter().any(|c| matches!(c, '(' | ')'));
    if separators == 0 || !paired || !is_digit(j) {
      break;
    }
    // What a parenthesis opens is an area code, `(415)`, not a code of Twilio's after a figure, `1024 (63021)`.
    if between.contains(&'(') {
      let group = (j..).take_while(|&k| is_digit(k)).count();
      if group > 4 || at(j + group) != Some(')') {
        break;
      }
    }
    i = j;
  }
  (end, digits)
}

fn separator_width(chars: &[char], i: usize) -> usize {
  match chars.get(i..).unwrap_or_default() {
    [' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}', ..] => 1,
    ['%', '2', '0', ..] => 3,
    _ => 0,
  }
}

/// `2026-12-07`, `2026/12/07`: a date, whose digits are not a number's.
fn is_date(span: &str) -> bool {
  let groups: Vec<&str> = span.split(['-', '/']).collect();
  matches!(groups.as_slice(), [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn numbers_in_twilios_messages_are_masked_and_codes_and_sids_are_kept() {
    let body = br#"{"code":21211,"message":"The 'To' number +15551234567 is not a valid phone number.","status":400}"#;
    assert_eq!(
      Error::from_response(400, body).to_string(),
      "The 'To' number +…4567 is not a valid phone number."
    );
    assert_eq!(
      redact_numbers("Conversation CH0123456789abcdef, 50 of 1000"),
      "Conversation CH0123456789abcdef, 50 of 1000"
    );
  }

  #[test]
  fn every_spelling_of_a_number_is_masked() {
    for spelled in [
      "+14155550142",
      "+1 415-555-0142",
      "+1 (415) 555-0142",
      "(415) 555-0142",
      "415.555.0142",
      "%2B14155550142",
      "%2B1%20415%20555%200142",
      "whatsapp:+14155550142",
      "whatsapp%3A%2B14155550142",
      "1\u{a0}415\u{a0}555\u{a0}0142",
    ] {
      let text = format!("To {spelled}: refused");
      let masked = redact_numbers(&text);
      assert!(masked.contains("…0142"), "{spelled}: {masked}");
      assert!(!masked.contains("555"), "{spelled}: {masked}");
    }
    for kept in [
      "on 2026-12-07 at 14:22:58",
      "CH0123456789abcdef",
      "HX1234567890abcdef1234567890abcdef",
      "error 21211",
      "at most 1024 (63021)",
      "50 of 1000",
      "2026-12-07T14:22:58Z",
    ] {
      assert_eq!(redact_numbers(kept), kept);
    }
  }

  proptest::proptest! {
    #[test]
    fn masking_leaves_no_number_to_mask(text in "[0-9a-z +()%.-]{0,80}") {
      let masked = redact_numbers(&text);
      proptest::prop_assert_eq!(redact_numbers(&masked), masked.clone());
      proptest::prop_assert!(masked.chars().count() <= text.chars().count());
    }
  }

  #[test]
  fn twilios_error_body_is_parsed() {
    let body = br#"{"code":50353,"message":"Conversation with provided unique name already exists","more_info":"https://www.twilio.com/docs/errors/50353","status":409}"#;
    let error = Error::from_response(409, body);
    assert_eq!(error.twilio_code(), Some(50353));
    assert_eq!(error.status(), Some(409));
    assert_eq!(error.code(), Code::Twilio(50353));
    assert_eq!(
      error.to_string(),
      "Conversation with provided unique name already exists"
    );
  }

  #[test]
  fn a_body_that_is_not_json_keeps_the_status() {
    let error = Error::from_response(502, b"<html>Bad Gateway</html>");
    assert_eq!(error.twilio_code(), None);
    assert_eq!(error.code(), "HTTP_502");
    assert_eq!(error.to_string(), "Twilio answered HTTP 502: <html>Bad Gateway</html>");
    assert!(error.is_ambiguous());
  }

  #[test]
  fn only_answers_that_may_have_taken_effect_are_ambiguous() {
    let ambiguous = |error: Error| error.is_ambiguous();
    assert!(!ambiguous(Error::Transport {
      message: String::new(),
      sent: false
    }));
    assert!(ambiguous(Error::Transport {
      message: String::new(),
      sent: true
    }));
    assert!(ambiguous(Error::Timeout {
      after: std::time::Duration::ZERO
    }));
    for status in [502, 503, 504] {
      assert!(ambiguous(Error::from_response(status, b"")), "{status}");
    }
    for status in [400, 404, 409, 429, 500] {
      assert!(!ambiguous(Error::from_response(status, b"")), "{status}");
    }
  }
}
