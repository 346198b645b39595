//! The contract check: every request to a Twilio path is compared with Twilio's own OpenAPI descriptions
//! (vendored in `openapi/`, trimmed by `build.rs`). A parameter Twilio does not define, a missing required one, a repeated scalar, a
//! value outside an enum or an integer range is refused with 400 naming it: Twilio would often ignore such a
//! parameter silently, which is how a client's bug hides. The same table checks response bodies in tests.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::params::Params;
use crate::template::Template;

const SPECS: [&str; 3] = [
  include_str!(concat!(env!("OUT_DIR"), "/twilio_conversations_v1.json")),
  include_str!(concat!(env!("OUT_DIR"), "/twilio_content_v1.json")),
  include_str!(concat!(env!("OUT_DIR"), "/twilio_api_v2010.json")),
];

#[derive(Debug)]
struct ParamDef {
  name: String,
  required: bool,
  schema: Value,
}

#[derive(Debug)]
pub struct Operation {
  pub method: String,
  pub template: Template,
  query: Vec<ParamDef>,
  /// The request headers Twilio defines for it (`X-Twilio-Webhook-Enabled`).
  headers: Vec<ParamDef>,
  form: Vec<ParamDef>,
  /// The schema of a JSON request body (the Content API's), when the operation takes one.
  json_body: Option<Value>,
  responses: Vec<(u16, Option<Value>)>,
}

pub struct Contract {
  operations: Vec<Operation>,
}

/// The contract, parsed once per process.
pub fn contract() -> &'static Contract {
  static CONTRACT: OnceLock<Contract> = OnceLock::new();
  CONTRACT.get_or_init(Contract::load)
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
  match schema.get("$ref").and_then(Value::as_str) {
    Some(reference) => reference
      .strip_prefix("#/")
      .map(|p| p.split('/').fold(doc, |node, key| &node[key]))
      .unwrap_or(schema),
    None => schema,
  }
}

/// A schema with every `$ref` replaced by its target, so checks need no document.
fn inline(doc: &Value, schema: &Value, depth: u8) -> Value {
  let schema = resolve(doc, schema);
  if depth == 0 {
    return schema.clone();
  }
  match schema {
    Value::Object(map) => Value::Object(
      map
        .iter()
        .map(|(k, v)| (k.clone(), inline(doc, v, depth - 1)))
        .collect(),
    ),
    Value::Array(items) => Value::Array(items.iter().map(|v| inline(doc, v, depth - 1)).collect()),
    other => other.clone(),
  }
}

impl Contract {
  fn load() -> Self {
    let mut operations = Vec::new();
    for text in SPECS {
      let doc: Value = serde_json::from_str(text).expect("the vendored OpenAPI description is valid JSON");
      let Some(paths) = doc["paths"].as_object() else {
        continue;
      };
      for (template, item) in paths {
        for method in ["get", "post", "delete"] {
          let Some(op) = item.get(method) else { continue };
          let params: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
          let located = |place: &str| -> Vec<ParamDef> {
            params
              .iter()
              .map(|p| resolve(&doc, p))
              .filter(|p| p["in"] == place)
              .map(|p| ParamDef {
                name: p["name"].as_str().unwrap_or_default().to_string(),
                required: p["required"].as_bool().unwrap_or(false),
                schema: inline(&doc, &p["schema"], 4),
              })
              .collect()
          };
          let (query, headers) = (located("query"), located("header"));
          let body = &op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
          let required: Vec<&str> = body["required"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
          let form = body["properties"]
            .as_object()
            .map(|props| {
              props
                .iter()
                .map(|(name, schema)| ParamDef {
                  name: name.clone(),
                  required: required.contains(&name.as_str()),
                  schema: inline(&doc, schema, 4),
                })
                .collect()
            })
            .unwrap_or_default();
          let json_body = op["requestBody"]["content"]["application/json"]
            .get("schema")
            .map(|s| inline(&doc, s, 12));
          let responses = op["responses"]
            .as_object()
            .map(|r| {
              r.iter()
                .filter_map(|(code, resp)| {
                  let schema = resp["content"]["application/json"]
                    .get("schema")
                    .map(|s| inline(&doc, s, 8));
                  code.parse().ok().map(|c| (c, schema))
                })
                .collect()
            })
            .unwrap_or_default();
          operations.push(Operation {
            method: method.to_uppercase(),
            template: Template::parse(template),
            query,
            headers,
            form,
            json_body,
            responses,
          });
        }
      }
    }
    Self { operations }
  }

  /// The operation for a request, preferring the template with the most literal segments.
  pub fn find(&self, method: &str, path: &str) -> Option<&Operation> {
    self
      .operations
      .iter()
      .filter(|op| op.method == method && op.template.capture(path).is_some())
      .max_by_key(|op| op.template.literals())
  }

  /// The operation Twilio describes at exactly this method and template.
  pub fn operation(&self, method: &str, template: &str) -> Option<&Operation> {
    self
      .operations
      .iter()
      .find(|op| op.method == method && op.template.text() == template)
  }

  /// Whether Twilio defines the path at all, with any method.
  pub fn knows_path(&self, path: &str) -> bool {
    self.operations.iter().any(|op| op.template.capture(path).is_some())
  }
}

impl Operation {
  /// Checks query and form parameters against the description; the error names the parameter.
  pub fn check_request(&self, query: &Params, form: &Params) -> Result<(), String> {
    let where_ = format!("{} {}", self.method, self.template.text());
    check_params(&self.query, query, "query parameter", &where_)?;
    check_params(&self.form, form, "parameter", &where_)
  }

  /// Checks the Twilio headers of a request: `X-Twilio-Webhook-Enabled` only where Twilio defines it, with a value
  /// of its enum. `value` reads a header by its lower-case name.
  pub fn check_headers<'h>(&self, value: impl Fn(&str) -> Option<&'h str>) -> Result<(), String> {
    const HEADER: &str = "x-twilio-webhook-enabled";
    let Some(given) = value(HEADER) else {
      return Ok(());
    };
    let where_ = format!("{} {}", self.method, self.template.text());
    let def = self
      .headers
      .iter()
      .find(|d| d.name.eq_ignore_ascii_case(HEADER))
      .ok_or_else(|| format!("Twilio does not define the header 'X-Twilio-Webhook-Enabled' for {where_}"))?;
    check_value(&def.schema, given).map_err(|why| format!("The header 'X-Twilio-Webhook-Enabled' {why} for {where_}"))
  }

  /// Checks a JSON request body against the schema Twilio describes; the error names the field. `body` is `None`
  /// when the request's body is not JSON at all.
  pub fn check_json_body(&self, body: Option<&Value>) -> Result<(), String> {
    let Some(schema) = &self.json_body else {
      return Ok(());
    };
    let where_ = format!("{} {}", self.method, self.template.text());
    let body = body.ok_or_else(|| format!("The body must be JSON for {where_}"))?;
    check_json(schema, body, "").map_err(|why| format!("{why} for {where_}"))
  }

  pub fn declares_status(&self, status: u16) -> bool {
    self.responses.iter().any(|(code, _)| *code == status)
  }

  /// Differences between a response body and the schema Twilio describes for that status: missing and
  /// undescribed fields, at the top level and in each record of a list.
  pub fn check_response(&self, status: u16, body: &Value) -> Vec<String> {
    let Some((_, schema)) = self.responses.iter().find(|(code, _)| *code == status) else {
      return vec![format!(
        "{} {} does not declare status {status}",
        self.method,
        self.template.text()
      )];
    };
    match schema {
      Some(schema) => compare_fields(schema, body, ""),
      None => Vec::new(),
    }
  }
}

fn check_params(defs: &[ParamDef], given: &Params, kind: &str, where_: &str) -> Result<(), String> {
  let mut seen = BTreeSet::new();
  for (name, value) in &given.0 {
    let Some(def) = defs.iter().find(|d| &d.name == name) else {
      return Err(format!("Twilio does not define the {kind} '{name}' for {where_}"));
    };
    let is_array = def.schema["type"] == "array";
    if !seen.insert(name.as_str()) && !is_array {
      return Err(format!("The {kind} '{name}' is given more than once for {where_}"));
    }
    let item = if is_array { &def.schema["items"] } else { &def.schema };
    check_value(item, value).map_err(|why| format!("The {kind} '{name}' {why} for {where_}"))?;
  }
  match defs.iter().find(|d| d.required && !seen.contains(d.name.as_str())) {
    Some(missing) => Err(format!(
      "The required {kind} '{}' is missing for {where_}",
      missing.name
    )),
    None => Ok(()),
  }
}

fn check_value(schema: &Value, value: &str) -> Result<(), String> {
  if let Some(options) = schema["enum"].as_array() {
    if !options.iter().any(|o| o.as_str() == Some(value)) {
      let names: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
      return Err(format!("must be one of {}, not '{value}'", names.join(", ")));
    }
  }
  if schema["type"] == "integer" {
    let number: i64 = value
      .parse()
      .map_err(|_| format!("must be an integer, not '{value}'"))?;
    if schema["minimum"].as_i64().is_some_and(|min| number < min)
      || schema["maximum"].as_i64().is_some_and(|max| number > max)
    {
      return Err(format!(
        "must be between {} and {}, not {number}",
        schema["minimum"].as_i64().unwrap_or(i64::MIN),
        schema["maximum"].as_i64().unwrap_or(i64::MAX)
      ));
    }
  }
  if schema["type"] == "boolean" && value != "true" && value != "false" {
    return Err(format!("must be true or false, not '{value}'"));
  }
  Ok(())
}

/// A JSON value against a schema: its type, the required and the undescribed fields of objects (where the schema
/// forbids others), and every item of an array, recursively.
fn check_json(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
  let name = if at.is_empty() {
    "the body".to_string()
  } else {
    format!("'{at}'")
  };
  let kind_ok = match schema["type"].as_str() {
    Some("object") => value.is_object(),
    Some("array") => value.is_array(),
    Some("string") => value.is_string(),
    Some("number") => value.is_number(),
    Some("integer") => value.is_i64() || value.is_u64(),
    Some("boolean") => value.is_boolean(),
    _ => true,
  };
  let null_allowed = value.is_null() && schema["nullable"] == true;
  if !(kind_ok || null_allowed) {
    return Err(format!("{name} must be of type {}", schema["type"]));
  }
  if let Some(options) = schema["enum"].as_array() {
    if !value.is_null() && !options.contains(value) {
      return Err(format!("{name} must be one of {}", Value::Array(options.clone())));
    }
  }
  let field = |key: &str| {
    if at.is_empty() {
      key.to_string()
    } else {
      format!("{at}.{key}")
    }
  };
  if let Some(fields) = value.as_object() {
    let props = schema["properties"].as_object();
    for required in schema["required"]
      .as_array()
      .into_iter()
      .flatten()
      .filter_map(Value::as_str)
    {
      if !fields.contains_key(required) {
        return Err(format!("the required field '{}' is missing", field(required)));
      }
    }
    for (key, item) in fields {
      match (props.and_then(|p| p.get(key)), &schema["additionalProperties"]) {
        (Some(prop), _) => check_json(prop, item, &field(key))?,
        (None, Value::Bool(false)) => return Err(format!("Twilio does not define the field '{}'", field(key))),
        (None, extra @ Value::Object(_)) => check_json(extra, item, &field(key))?,
        (None, _) => {}
      }
    }
  }
  if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
    for (i, item) in values.iter().enumerate() {
      check_json(items, item, &format!("{at}[{i}]"))?;
    }
  }
  Ok(())
}

fn compare_fields(schema: &Value, body: &Value, at: &str) -> Vec<String> {
  let (Some(props), Some(fields)) = (schema["properties"].as_object(), body.as_object()) else {
    return Vec::new();
  };
  let mut problems: Vec<String> = props
    .keys()
    .filter(|k| !fields.contains_key(*k))
    .map(|k| format!("missing field {at}{k}"))
    .chain(
      fields
        .keys()
        .filter(|k| !props.contains_key(*k))
        .map(|k| format!("undescribed field {at}{k}")),
    )
    .collect();
  for (key, prop) in props {
    if let Some(value) = fields.get(key) {
      if let Some(why) = mistyped(prop, value) {
        problems.push(format!("field {at}{key} {why}"));
      }
    }
    match (&prop["type"], fields.get(key)) {
      (t, Some(Value::Array(items))) if t == "array" => {
        for (i, item) in items.iter().enumerate().take(3) {
          problems.extend(compare_fields(&prop["items"], item, &format!("{at}{key}[{i}].")));
        }
      }
      (t, Some(value @ Value::Object(_))) if t == "object" => {
        problems.extend(compare_fields(prop, value, &format!("{at}{key}.")));
      }
      _ => {}
    }
  }
  problems
}

/// Why a response field's value is not of its described type (null only where the description allows it).
fn mistyped(schema: &Value, value: &Value) -> Option<String> {
  let kind = schema["type"].as_str()?;
  let fits = match value {
    Value::Null => schema["nullable"].as_bool().unwrap_or(false),
    Value::String(_) => kind == "string",
    Value::Number(n) => kind == "number" || (kind == "integer" && (n.is_i64() || n.is_u64())),
    Value::Bool(_) => kind == "boolean",
    Value::Array(_) => kind == "array",
    Value::Object(_) => kind == "object",
  };
  (!fits).then(|| format!("is {value}, where Twilio describes {kind}"))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn conversation_sid_is_not_a_parameter_of_messages_json() {
    let op = contract()
      .find("POST", "/2010-04-01/Accounts/AC123/Messages.json")
      .unwrap();
    let form = Params(vec![
      ("To".into(), "whatsapp:+1".into()),
      ("ConversationSid".into(), "CH1".into()),
    ]);
    let err = op.check_request(&Params::default(), &form).unwrap_err();
    assert!(err.contains("'ConversationSid'"), "{err}");
  }

  #[test]
  fn a_missing_required_parameter_is_named() {
    let op = contract()
      .find("POST", "/2010-04-01/Accounts/AC123/Messages.json")
      .unwrap();
    let err = op
      .check_request(&Params::default(), &Params(vec![("Body".into(), "hi".into())]))
      .unwrap_err();
    assert!(err.contains("required parameter 'To'"), "{err}");
  }

  #[test]
  fn page_size_above_fifty_is_refused_for_participant_conversations() {
    let op = contract().find("GET", "/v1/ParticipantConversations").unwrap();
    let query = Params(vec![
      ("Address".into(), "whatsapp:+1".into()),
      ("PageSize".into(), "100".into()),
    ]);
    assert!(op
      .check_request(&query, &Params::default())
      .unwrap_err()
      .contains("between 1 and 50"));
  }

  #[test]
  fn participant_may_repeat_on_conversation_with_participants() {
    let op = contract().find("POST", "/v1/ConversationWithParticipants").unwrap();
    let form = Params(vec![
      ("Participant".into(), "{}".into()),
      ("Participant".into(), "{}".into()),
    ]);
    assert!(op.check_request(&Params::default(), &form).is_ok());
  }

  #[test]
  fn a_content_body_is_checked_against_its_json_schema() {
    let op = contract().find("POST", "/v1/Content").unwrap();
    let ok = serde_json::json!({"language": "en", "types": {"twilio/text": {"body": "Hi {{1}}"}}});
    assert_eq!(op.check_json_body(Some(&ok)), Ok(()));
    let missing = serde_json::json!({"types": {}});
    assert!(op.check_json_body(Some(&missing)).unwrap_err().contains("'language'"));
    let extra = serde_json::json!({"language": "en", "types": {"twilio/text": {"body": "x", "title": "t"}}});
    let error = op.check_json_body(Some(&extra)).unwrap_err();
    assert!(error.contains("'types.twilio/text.title'"), "{error}");
    let wrong = serde_json::json!({"language": "en", "types": {}, "variables": {"1": 5}});
    assert!(op.check_json_body(Some(&wrong)).unwrap_err().contains("'variables.1'"));
    assert!(op.check_json_body(None).unwrap_err().contains("must be JSON"));
  }

  #[test]
  fn literal_segments_win_over_parameters() {
    assert_eq!(
      contract()
        .find("GET", "/v1/Services/IS1/Configuration")
        .unwrap()
        .template
        .text(),
      "/v1/Services/{ChatServiceSid}/Configuration"
    );
    assert_eq!(
      contract()
        .find("GET", "/2010-04-01/Accounts/AC1.json")
        .unwrap()
        .template
        .text(),
      "/2010-04-01/Accounts/{Sid}.json"
    );
  }
}
