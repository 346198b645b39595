//! Twilio resource identifiers: a two-letter prefix and 32 lowercase hex digits.

use rand::Rng;

pub fn new_sid(prefix: &str) -> String {
  let mut rng = rand::rng();
  let mut sid = String::with_capacity(34);
  sid.push_str(prefix);
  for _ in 0..32 {
    let digit = rng.random_range(0..16u32);
    sid.push(char::from_digit(digit, 16).unwrap_or('0'));
  }
  sid
}

/// True when `value` is `prefix` followed by exactly 32 hex digits (either case, as Twilio's patterns allow).
pub fn is_sid(value: &str, prefix: &str) -> bool {
  value.len() == 34 && value.starts_with(prefix) && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn new_sids_match_twilios_pattern() {
    let sid = new_sid("CH");
    assert!(is_sid(&sid, "CH"), "{sid}");
    assert!(!is_sid(&sid, "IM"));
    assert!(!is_sid("CH123", "CH"));
  }
}
