//! Form and query parameters as Twilio receives them: ordered name/value pairs, names may repeat.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
  pub fn parse(raw: &[u8]) -> Self {
    Self(form_urlencoded::parse(raw).into_owned().collect())
  }

  pub fn get(&self, name: &str) -> Option<&str> {
    self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
  }

  pub fn all(&self, name: &str) -> Vec<&str> {
    self
      .0
      .iter()
      .filter(|(k, _)| k == name)
      .map(|(_, v)| v.as_str())
      .collect()
  }

  /// For the request log: one key per name, repeated names become arrays.
  pub fn to_json(&self) -> Value {
    let mut map = Map::new();
    for (k, v) in &self.0 {
      match map.get_mut(k) {
        None => {
          map.insert(k.clone(), Value::String(v.clone()));
        }
        Some(Value::Array(items)) => items.push(Value::String(v.clone())),
        Some(existing) => {
          let first = existing.take();
          *existing = Value::Array(vec![first, Value::String(v.clone())]);
        }
      }
    }
    Value::Object(map)
  }
}
