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

/// How customers' numbers are read: a number with `+` (or `whatsapp:+`) names its country; one without is read as
/// the legacy module read it (an international number missing its `+`) when libphonenumber's metadata holds it valid,
/// or as a national number of `defaultCountry`. A number that is valid for no country is refused: prefixing `+` to
/// a national number sends it to another country.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Numbers {
  default_country: Option<phonenumber::country::Id>,
}

impl Numbers {
  /// `country`: an ISO 3166-1 alpha-2 code (`US`, `gb`), the region national numbers are read in.
  pub fn new(country: Option<&str>) -> Result<Self> {
    let default_country = country
      .map(|code| {
        code.trim().to_ascii_uppercase().parse().map_err(|_| Error::Config {
          message: format!(
            "defaultCountry must be a two-letter ISO 3166 country code such as US or GB, not '{}'",
            crate::error::bounded(code)
          ),
        })
      })
      .transpose()?;
    Ok(Self { default_country })
  }

  /// Accepts `+1 (234) 567-890`, `14155550142`, `whatsapp:+14155550142` (prefix in any case) alike; refuses
  /// anything else with a message that says what is wrong, and never the number itself.
  pub fn read(&self, input: &str) -> Result<Customer> {
    let written = Written::parse(input)?;
    if written.plus {
      // The writer named the country and the number is taken as written (a lookup, not a parse: the common path of
      // every send); only a calling code no country has is refused.
      if !has_calling_code(&written.digits) {
        return Err(invalid("no country has the calling code it starts with"));
      }
      return Customer::from_digits(written.digits);
    }
    let valid = |number: phonenumber::PhoneNumber| phonenumber::is_valid(&number).then_some(number);
    let national = self
      .default_country
      .and_then(|country| phonenumber::parse(Some(country), &written.digits).ok())
      .and_then(valid);
    if let Some(number) = national {
      return Customer::from_valid(&number);
    }
    // As the legacy module read it, when that is a valid number: its digits as written.
    match phonenumber::parse(None, format!("+{}", written.digits))
      .ok()
      .and_then(valid)
    {
      Some(_) => Customer::from_digits(written.digits),
      None => Err(invalid(&self.no_country(&written.digits))),
    }
  }

  /// Why a number without `+` is valid for no country, and how it could be.
  fn no_country(&self, digits: &str) -> String {
    let country = match self.default_country {
      Some(country) => format!("not a number of {country:?}, and "),
      None => String::new(),
    };
    let guess = match digits.len() {
      // Ten digits are the most common national number: one of the United States, Canada and the +1 countries.
      10 if !digits.starts_with(['0', '1']) => format!(" (did you mean +1 {}…?)", digits.get(..3).unwrap_or_default()),
      _ => String::new(),
    };
    format!(
      "{country}written without + it is valid for no country: prefixing + would send it to another country. Write \
       it with + and its country code{guess}, or set defaultCountry (TWILIO_DEFAULT_COUNTRY) to read national \
       numbers"
    )
  }
}

/// Whether `digits` start with a country calling code: codes have 1 to 3 digits and none is the start of another.
fn has_calling_code(digits: &str) -> bool {
  (1..=3).any(|length| {
    digits
      .get(..length)
      .and_then(|code| code.parse::<u16>().ok())
      .is_some_and(|code| phonenumber::metadata::DATABASE.by_code(&code).is_some())
  })
}

fn invalid(why: &str) -> Error {
  Error::invalid("INVALID_PHONE_NUMBER", format!("Invalid phone number: {why}"))
}

/// A number as written: its digits, and whether it started with `+`.
struct Written {
  digits: String,
  plus: bool,
}

impl Written {
  fn parse(input: &str) -> Result<Self> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
      return Err(invalid("it is empty"));
    }
    let number = match trimmed.get(..9) {
      Some(prefix) if prefix.eq_ignore_ascii_case("whatsapp:") => trimmed[9..].trim_start(),
      _ => trimmed,
    };
    let (number, plus) = match number.strip_prefix('+') {
      Some(rest) => (rest, true),
      None => (number, false),
    };
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
    if plus && digits.starts_with('0') {
      return Err(invalid("E.164 numbers start with a country code, never 0"));
    }
    Ok(Self { digits, plus })
  }
}

impl Customer {
  /// A number read without a default country (see [`Numbers::read`]).
  pub fn parse(input: &str) -> Result<Self> {
    Numbers::default().read(input)
  }

  /// A national number as E.164 writes it (the trunk `0` dropped, Italy's leading 0 kept), which may be shorter
  /// than a number taken as written (`+290 1234`).
  fn from_valid(number: &phonenumber::PhoneNumber) -> Result<Self> {
    let text = number.format().mode(phonenumber::Mode::E164).to_string();
    let digits = text.trim_start_matches('+');
    if digits.len() > MAX_DIGITS || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
      return Err(invalid("E.164 numbers have at most 15 digits after a country code"));
    }
    Ok(Self {
      digits: digits.to_string(),
    })
  }

  fn from_digits(digits: String) -> Result<Self> {
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) || digits.starts_with('0') {
      return Err(invalid("E.164 numbers have 8 to 15 digits after a country code"));
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
  fn the_documented_spellings_are_one_customer() {
    for input in [
      "+1 (234) 567-890",
      "+1234567890",
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
  fn an_international_number_without_plus_keeps_working() {
    for input in [
      "14155550142",
      "whatsapp:14155550142",
      "447911123456",
      "390612345678",
      "310500000000",
    ] {
      let customer = Customer::parse(input).unwrap();
      assert_eq!(customer.e164(), format!("+{}", input.trim_start_matches("whatsapp:")));
    }
  }

  #[test]
  fn a_national_number_is_refused_with_a_hint_instead_of_going_to_another_country() {
    for input in ["5551234567", "4155550142", "1234567890", "07911 123456"] {
      let error = Customer::parse(input).unwrap_err();
      assert_eq!(error.code(), "INVALID_PHONE_NUMBER", "{input}");
      assert!(error.to_string().contains("defaultCountry"), "{error}");
      assert!(!error.to_string().contains("1234567"), "{error}");
    }
    assert!(Customer::parse("5551234567")
      .unwrap_err()
      .to_string()
      .contains("did you mean +1 555…?"));
  }

  #[test]
  fn national_numbers_are_read_in_the_default_country() {
    let us = Numbers::new(Some("US")).unwrap();
    assert_eq!(us.read("(415) 555-0142").unwrap().e164(), "+14155550142");
    assert_eq!(us.read("+447911123456").unwrap().e164(), "+447911123456");
    assert_eq!(us.read("447911123456").unwrap().e164(), "+447911123456");
    let gb = Numbers::new(Some("gb")).unwrap();
    assert_eq!(gb.read("07911 123456").unwrap().e164(), "+447911123456");
    assert_eq!(gb.read("14155550142").unwrap().e164(), "+14155550142");
    let error = us.read("5551234567").unwrap_err();
    assert!(error.to_string().contains("not a number of US"), "{error}");
    assert_eq!(Numbers::new(Some("USA")).unwrap_err().code(), "CONFIG_ERROR");
  }

  #[test]
  fn a_calling_code_no_country_has_is_refused() {
    let error = Customer::parse("+9991234567").unwrap_err();
    assert!(error.to_string().contains("calling code"), "{error}");
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
        proptest::prop_assert!((1..=MAX_DIGITS).contains(&digits.len()));
        proptest::prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        proptest::prop_assert_eq!(Customer::parse(&customer.address()).unwrap(), customer.clone());
      }
    }

    #[test]
    fn any_e164_number_is_accepted_in_every_spelling(digits in "[1-9][0-9]{7,14}") {
      proptest::prop_assume!(phonenumber::parse(None, format!("+{digits}")).is_ok());
      let customer = Customer::parse(&format!("+{digits}")).unwrap();
      for input in [format!("whatsapp:+{digits}"), format!("WHATSAPP: +{digits}")] {
        proptest::prop_assert_eq!(Customer::parse(&input).unwrap(), customer.clone());
      }
      // The cache key: the number itself, distinct for every customer.
      proptest::prop_assert_eq!(customer.number().to_string(), customer.digits());
      // Without +, only a number valid as an international one is read, as the same customer.
      if let Ok(bare) = Customer::parse(&digits) {
        proptest::prop_assert_eq!(bare, customer);
      }
    }

    #[test]
    fn reading_with_a_default_country_never_panics(input in "\\PC{0,30}", country in "[A-Z]{2}") {
      if let Ok(numbers) = Numbers::new(Some(&country)) {
        let _ = numbers.read(&input);
      }
    }
  }
}
