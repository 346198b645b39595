//! A send's content variables as the caller handed them in (a plain object, or its JSON text), each value checked
//! by the rules Twilio and WhatsApp apply to any template, and written as the JSON text Twilio takes, every value
//! a string as Twilio would print it. The rules that need the template itself are in [`crate::templates`].
//!
//! Sources (`../shared/TWILIO-TEMPLATES.md` §4, docs/CONTRACT.md "Templates"): at most 100 variables a send; keys of
//! at most 16 characters (50540); a null or empty value fails (21656); new lines, tabs and more than four spaces in
//! a row break WhatsApp's rules (63013); a value is at most 256 characters in a conversation (50541) and 1,600
//! through Messages.json (21658).

use crate::error::{Error, Result};

/// The most variables one send may carry.
pub const MAX_VARIABLES: usize = 100;
/// The longest key Twilio takes (50540).
pub const MAX_KEY_CHARS: usize = 16;
/// The longest value a conversation message takes (50541).
pub const MAX_VALUE_CHARS: usize = 256;
/// The longest value Messages.json takes (21658).
pub const MAX_MESSAGING_VALUE_CHARS: usize = 1600;
/// WhatsApp refuses more spaces in a row than this in a value (63013).
const MAX_SPACES_IN_A_ROW: usize = 4;

pub const INVALID_CONTENT_VARIABLES: &str = "INVALID_CONTENT_VARIABLES";
pub const INVALID_TEMPLATE_VARIABLE: &str = "INVALID_TEMPLATE_VARIABLE";

/// One value as the caller gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
  Text(String),
  /// A finite number, as its decimal text (`42`, `2.5`).
  Number(String),
  Null,
  /// Anything else, by what it was (`a boolean`, `an object`, `a Date`, `a number (NaN)`).
  Other(String),
}

impl Value {
  /// A JavaScript number: its decimal text, or `Other` when it is not finite.
  pub fn number(n: f64) -> Self {
    if !n.is_finite() {
      return Self::Other(format!("a number ({})", if n.is_nan() { "NaN" } else { "Infinity" }));
    }
    // Rust writes whole floats without a fraction (`42`), as JavaScript does; only -0 differs.
    Self::Number(if n == 0.0 { "0".to_string() } else { n.to_string() })
  }
}

/// The variables of one send, in the caller's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Variables(pub Vec<(String, Value)>);

impl Variables {
  /// A JSON object's text, as the legacy signature also takes variables.
  pub fn parse(text: &str) -> Result<Self> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
      return Err(Error::invalid(
        INVALID_CONTENT_VARIABLES,
        "contentVariables must be a plain object or a JSON object string",
      ));
    };
    let value = |value: serde_json::Value| match value {
      serde_json::Value::String(text) => Value::Text(text),
      serde_json::Value::Number(n) => Value::Number(n.to_string()),
      serde_json::Value::Null => Value::Null,
      serde_json::Value::Bool(_) => Value::Other("a boolean".to_string()),
      serde_json::Value::Array(_) => Value::Other("an array".to_string()),
      serde_json::Value::Object(_) => Value::Other("an object".to_string()),
    };
    Ok(Self(map.into_iter().map(|(k, v)| (k, value(v))).collect()))
  }
}

/// Variables whose values passed every rule that holds for any template, each as the text Twilio is sent,
/// borrowed from the caller's and sorted by key (so that a template's keys are compared in one walk).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked<'v>(Vec<(&'v str, &'v str)>);

impl<'v> Checked<'v> {
  pub fn get(&self, key: &str) -> Option<&'v str> {
    let at = self.0.binary_search_by(|(k, _)| (*k).cmp(key)).ok()?;
    self.0.get(at).map(|(_, v)| *v)
  }

  /// The keys, in order.
  pub fn keys(&self) -> impl Iterator<Item = &'v str> + '_ {
    self.0.iter().map(|(k, _)| *k)
  }

  /// The `ContentVariables` parameter: `None` when there are none, so that nothing is sent.
  pub fn json(&self) -> Option<String> {
    if self.0.is_empty() {
      return None;
    }
    let map: std::collections::BTreeMap<&str, &str> = self.0.iter().copied().collect();
    serde_json::to_string(&map).ok()
  }
}

fn refuse(template: &str, why: String) -> Error {
  Error::invalid(INVALID_TEMPLATE_VARIABLE, format!("{template}: {why}"))
}

/// Why a value breaks a rule of WhatsApp's or Twilio's, if it does: one pass over it.
fn flaw(text: &str, max_chars: usize) -> Option<String> {
  let (mut length, mut spaces, mut blank) = (0, 0, true);
  for c in text.chars() {
    length += 1;
    match c {
      '\n' | '\r' => return Some("contains a line break, which WhatsApp refuses in a variable (63013)".to_string()),
      '\t' => return Some("contains a tab, which WhatsApp refuses in a variable (63013)".to_string()),
      c if c.is_control() => return Some("contains a control character".to_string()),
      ' ' => spaces += 1,
      c => {
        spaces = 0;
        blank &= c.is_whitespace();
      }
    }
    if spaces > MAX_SPACES_IN_A_ROW {
      return Some(format!(
        "has more than {MAX_SPACES_IN_A_ROW} spaces in a row, which WhatsApp refuses (63013)"
      ));
    }
  }
  if blank {
    return Some("is empty; Twilio refuses an empty value (21656)".to_string());
  }
  (length > max_chars).then(|| format!("is {length} characters long; Twilio takes at most {max_chars}"))
}

/// Checks every value (and the count and keys) by the rules that hold for any template; `template` names the
/// template in refusals, `max_chars` is the delivery's longest value. Values never appear in a refusal.
pub fn check<'v>(variables: &'v Variables, template: &str, max_chars: usize) -> Result<Checked<'v>> {
  let count = variables.0.len();
  if count > MAX_VARIABLES {
    return Err(refuse(
      template,
      format!("{count} variables given; Twilio takes at most {MAX_VARIABLES} a send"),
    ));
  }
  let mut checked = Vec::with_capacity(count);
  for (key, value) in &variables.0 {
    let keys = key.chars().count();
    if keys == 0 || keys > MAX_KEY_CHARS || key.chars().any(|c| c.is_whitespace() || c == '{' || c == '}') {
      return Err(refuse(
        template,
        format!("a variable's key must be 1 to {MAX_KEY_CHARS} characters without spaces or braces (50540)"),
      ));
    }
    let text = match value {
      Value::Text(text) | Value::Number(text) => text.as_str(),
      Value::Null => {
        return Err(refuse(
          template,
          format!("{{{{{key}}}}} is null; Twilio refuses it (21656)"),
        ))
      }
      Value::Other(kind) => {
        return Err(refuse(
          template,
          format!("{{{{{key}}}}} must be a string or a number, not {kind}"),
        ))
      }
    };
    if let Some(why) = flaw(text, max_chars) {
      return Err(refuse(template, format!("{{{{{key}}}}} {why}")));
    }
    checked.push((key.as_str(), text));
  }
  checked.sort_unstable_by(|a, b| a.0.cmp(b.0));
  Ok(Checked(checked))
}

#[cfg(test)]
mod tests {
  use super::*;

  fn text(pairs: &[(&str, &str)]) -> Variables {
    Variables(
      pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::Text(v.to_string())))
        .collect(),
    )
  }

  fn why(variables: &Variables) -> String {
    check(variables, "template HX1", MAX_VALUE_CHARS)
      .unwrap_err()
      .to_string()
  }

  #[test]
  fn values_become_the_text_twilio_is_sent() {
    let variables = Variables(vec![
      ("1".into(), Value::Text("Ann".into())),
      ("2".into(), Value::number(42.0)),
      ("3".into(), Value::number(2.5)),
      ("4".into(), Value::number(-0.0)),
    ]);
    let checked = check(&variables, "t", MAX_VALUE_CHARS).unwrap();
    assert_eq!(
      checked.json().as_deref(),
      Some(r#"{"1":"Ann","2":"42","3":"2.5","4":"0"}"#)
    );
    assert_eq!(check(&Variables::default(), "t", 1).unwrap().json(), None);
  }

  #[test]
  fn what_whatsapp_or_twilio_refuse_is_named_without_the_value() {
    let cases = [
      (text(&[("1", "")]), "{{1}} is empty"),
      (text(&[("1", "  ")]), "{{1}} is empty"),
      (text(&[("1", "Ann\nBob")]), "line break"),
      (text(&[("1", "a\tb")]), "tab"),
      (text(&[("1", "a     b")]), "more than 4 spaces"),
      (text(&[("1", &"x".repeat(257))]), "257 characters"),
      (text(&[("a_key_of_17_chars", "x")]), "1 to 16 characters"),
      (Variables(vec![("1".into(), Value::Null)]), "{{1}} is null"),
      (
        Variables(vec![("1".into(), Value::Other("a Date".into()))]),
        "not a Date",
      ),
      (
        Variables(vec![("1".into(), Value::number(f64::NAN))]),
        "not a number (NaN)",
      ),
    ];
    for (variables, expected) in cases {
      let message = why(&variables);
      assert!(message.contains(expected), "{message}");
      assert!(message.starts_with("template HX1: "), "{message}");
      assert!(!message.contains("Bob"), "{message}");
    }
    assert!(check(&text(&[("1", "a    b")]), "t", MAX_VALUE_CHARS).is_ok());
    let many = Variables((0..101).map(|i| (i.to_string(), Value::Text("x".into()))).collect());
    assert!(why(&many).contains("101 variables"));
  }

  #[test]
  fn json_text_is_read_as_values_of_their_kind() {
    let parsed = Variables::parse(r#"{"1":"a","2":3,"3":null,"4":true}"#).unwrap();
    assert_eq!(
      parsed.0,
      vec![
        ("1".to_string(), Value::Text("a".into())),
        ("2".to_string(), Value::Number("3".into())),
        ("3".to_string(), Value::Null),
        ("4".to_string(), Value::Other("a boolean".into())),
      ]
    );
    for bad in ["[]", "1", "\"x\"", "{bad", "null"] {
      assert_eq!(
        Variables::parse(bad).unwrap_err().code(),
        INVALID_CONTENT_VARIABLES,
        "{bad}"
      );
    }
  }

  proptest::proptest! {
    #[test]
    fn checks_never_panic(key in "\\PC{0,20}", value in "\\PC{0,300}") {
      let _ = check(&text(&[(&key, &value)]), "t", MAX_VALUE_CHARS);
      let _ = Variables::parse(&value);
    }
  }
}
