//! Phone numbers and the conversation identity derived from them.

use crate::error::{Error, Result};

pub const MIN_DIGITS: usize = 8;
pub const MAX_DIGITS: usize = 15;

/// A customer's number in E.164, without `+`, and the names derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Customer {
  digits: String,
}

/// Separators people type inside numbers: spaces, dashes, dots, slashes, parentheses.
fn is_separator(c: char) -> bool {
  matches!(c, ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}')
}

impl Customer {
  /// Accepts `+1 (234) 567-890`, `1234567890`, `whatsapp:+1234567890` (prefix in any case) alike; refuses
  /// anything else with a message that says what is wrong.
  pub fn parse(input: &str) -> Result<Self> {
    let invalid = |why: &str| Error::invalid("INVALID_PHONE_NUMBER", format!("Invalid phone number: {why}"));
    let trimmed = input.trim();
    if trimmed.is_empty() {
      return Err(invalid("it is empty"));
    }
    let number = match trimmed.get(..9) {
      Some(prefix) if prefix.eq_ignore_ascii_case("whatsapp:") => trimmed[9..].trim_start(),
      _ => trimmed,
    };
    let number = number.strip_prefix('+').unwrap_or(number);
    let mut digits = String::with_capacity(number.len());
    for c in number.chars() {
      if c.is_ascii_digit() {
        digits.push(c);
      } else if !is_separator(c) {
        return Err(invalid(
          "only digits, spaces, dashes, dots and parentheses may follow the optional + and whatsapp: prefix",
        ));
      }
    }
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
      return Err(invalid(&format!(
        "E.164 numbers have {MIN_DIGITS} to {MAX_DIGITS} digits, this one has {}",
        digits.len()
      )));
    }
    if digits.starts_with('0') {
      return Err(invalid("E.164 numbers start with a country code, never 0"));
    }
    Ok(Self { digits })
  }

  pub fn digits(&self) -> &str {
    &self.digits
  }

  /// `+1234567890`
  pub fn e164(&self) -> String {
    format!("+{}", self.digits)
  }

  /// `whatsapp:+1234567890`: the participant's address.
  pub fn address(&self) -> String {
    format!("whatsapp:+{}", self.digits)
  }

  /// The number as an integer: one per customer, since E.164 numbers have at most 15 digits and never start
  /// with 0 (both checked by [`Customer::parse`]).
  pub fn number(&self) -> u64 {
    self
      .digits
      .bytes()
      .fold(0u64, |number, digit| number * 10 + u64::from(digit - b'0'))
  }

  /// `whatsapp_1234567890` for the first conversation, `whatsapp_1234567890_2` for the one after a close.
  pub fn unique_name(&self, generation: u32) -> String {
    if generation <= 1 {
      format!("whatsapp_{}", self.digits)
    } else {
      format!("whatsapp_{}_{generation}", self.digits)
    }
  }

  /// The generation a unique name of this customer stands for, if it is one.
  pub fn generation_of(&self, unique_name: &str) -> Option<u32> {
    let base = self.unique_name(1);
    let rest = unique_name.strip_prefix(&base)?;
    if rest.is_empty() {
      return Some(1);
    }
    rest.strip_prefix('_')?.parse().ok().filter(|g| *g >= 2)
  }

  /// `Chat with +1234567890`
  pub fn friendly_name(&self) -> String {
    format!("Chat with +{}", self.digits)
  }
}

/// `…7890`: what logs may show of a number.
pub fn mask(number: &str) -> String {
  let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
  let tail: String = digits.iter().skip(digits.len().saturating_sub(4)).collect();
  format!("…{tail}")
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_three_documented_spellings_are_one_customer() {
    for input in [
      "+1 (234) 567-890",
      "1234567890",
      "whatsapp:+1234567890",
      "WhatsApp:+1234567890",
    ] {
      let customer = Customer::parse(input).unwrap();
      assert_eq!(customer.address(), "whatsapp:+1234567890", "{input}");
      assert_eq!(customer.number(), 1_234_567_890);
      assert_eq!(customer.unique_name(1), "whatsapp_1234567890");
      assert_eq!(customer.friendly_name(), "Chat with +1234567890");
    }
  }

  #[test]
  fn bad_numbers_are_refused_with_a_reason() {
    for input in [
      "",
      "   ",
      "abc",
      "+12",
      "1234567890123456",
      "+1234567890x",
      "whatsapp:",
      "0123456789",
      "12345６7890",
    ] {
      let error = Customer::parse(input).unwrap_err();
      assert_eq!(error.code(), "INVALID_PHONE_NUMBER", "{input}");
    }
  }

  #[test]
  fn generations_round_trip_through_unique_names() {
    let customer = Customer::parse("+1234567890").unwrap();
    assert_eq!(customer.generation_of("whatsapp_1234567890"), Some(1));
    assert_eq!(customer.generation_of(&customer.unique_name(3)), Some(3));
    assert_eq!(customer.generation_of("whatsapp_12345678901"), None);
    assert_eq!(customer.generation_of("whatsapp_1234567890_x"), None);
  }

  #[test]
  fn masks_keep_the_last_four_digits() {
    assert_eq!(mask("+1 (234) 567-890"), "…7890");
    assert_eq!(mask("12"), "…12");
  }

  proptest::proptest! {
    #[test]
    fn parse_never_panics_and_accepts_only_e164(input in "\\PC{0,40}") {
      if let Ok(customer) = Customer::parse(&input) {
        let digits = customer.digits();
        proptest::prop_assert!((MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()));
        proptest::prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        proptest::prop_assert_eq!(Customer::parse(&customer.address()).unwrap(), customer.clone());
      }
    }

    #[test]
    fn any_e164_number_is_accepted_in_every_spelling(digits in "[1-9][0-9]{7,14}") {
      for input in [digits.clone(), format!("+{digits}"), format!("whatsapp:+{digits}"), format!("WHATSAPP:{digits}")] {
        let customer = Customer::parse(&input).unwrap();
        proptest::prop_assert_eq!(customer.digits(), digits.as_str());
        // The cache key: the number itself, distinct for every customer.
        proptest::prop_assert_eq!(customer.number().to_string(), digits.clone());
      }
    }
  }
}
