//! Trims Twilio's OpenAPI descriptions to what the contract check reads, because the sandbox ships inside the
//! addon: api.twilio.com's paths other than the account and Messages are dropped, and so is every prose
//! `description` and `summary`. 2.7 MB of pretty-printed JSON become about 0.5 MB.

use std::path::Path;

use serde_json::Value;

/// Which of a description's paths the sandbox serves.
type KeepPath = fn(&str) -> bool;

const SPECS: [(&str, KeepPath); 3] = [
  ("twilio_conversations_v1.json", |_| true),
  ("twilio_content_v1.json", |_| true),
  ("twilio_api_v2010.json", |path| {
    path == "/2010-04-01/Accounts/{Sid}.json" || path.starts_with("/2010-04-01/Accounts/{AccountSid}/Messages")
  }),
];

/// Prose is a string under `description` or `summary`; a property of that name is an object, and stays.
fn without_prose(value: Value) -> Value {
  match value {
    Value::Object(map) => Value::Object(
      map
        .into_iter()
        .filter(|(key, value)| !(matches!(key.as_str(), "description" | "summary") && value.is_string()))
        .map(|(key, value)| (key, without_prose(value)))
        .collect(),
    ),
    Value::Array(items) => Value::Array(items.into_iter().map(without_prose).collect()),
    other => other,
  }
}

fn main() {
  let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
  for (file, keep_path) in SPECS {
    let source = Path::new("openapi").join(file);
    println!("cargo:rerun-if-changed={}", source.display());
    let text = std::fs::read_to_string(&source).expect("the vendored OpenAPI description is readable");
    let mut doc: Value = serde_json::from_str(&text).expect("the vendored OpenAPI description is valid JSON");
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
      paths.retain(|path, _| keep_path(path));
    }
    let trimmed = serde_json::to_string(&without_prose(doc)).expect("JSON serialises");
    std::fs::write(Path::new(&out).join(file), trimmed).expect("OUT_DIR is writable");
  }
}
