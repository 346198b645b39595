//! Resources as twilio-node presents them: top-level keys in camelCase (nested objects stay as Twilio sent
//! them, as twilio-node leaves them). Dates become `Date` objects in the JS entry.

use serde_json::{Map, Value};

pub fn camel_case(key: &str) -> String {
  let mut out = String::with_capacity(key.len());
  let mut upper = false;
  for c in key.chars() {
    if c == '_' {
      upper = true;
    } else if upper {
      out.extend(c.to_uppercase());
      upper = false;
    } else {
      out.push(c);
    }
  }
  out
}

pub fn resource(value: Value) -> Value {
  match value {
    Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (camel_case(&k), v)).collect::<Map<_, _>>()),
    other => other,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn top_level_keys_become_camel_case() {
    let value =
      resource(serde_json::json!({"account_sid": "AC1", "date_created": "x", "links": {"delivery_receipts": "u"}}));
    assert_eq!(value["accountSid"], "AC1");
    assert_eq!(value["dateCreated"], "x");
    assert_eq!(value["links"]["delivery_receipts"], "u");
  }
}
