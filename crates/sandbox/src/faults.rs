//! Fault injection: rules set through the control API, matched by method and path, that answer instead of
//! Twilio, slow a request down, or drop the connection before or after the request takes effect.

use rand::Rng;
use regex::Regex;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropWhen {
  /// The connection closes before the request is processed: nothing happened.
  Before,
  /// The request takes effect, then the connection closes: the client never hears.
  After,
}

/// One rule as the control API receives it.
#[derive(Debug, Clone, Deserialize)]
pub struct FaultSpec {
  /// HTTP method to match; any when absent.
  pub method: Option<String>,
  /// A regular expression matched against the request path.
  pub path: String,
  /// Matching requests to let through before the rule fires.
  #[serde(default)]
  pub after: u32,
  /// How many times the rule fires; 1 when absent, unlimited with `probability`.
  pub times: Option<u32>,
  /// Fire on this fraction of matching requests (0 to 1).
  pub probability: Option<f64>,
  /// Answer with this status instead of processing the request.
  pub status: Option<u16>,
  /// With `status`: process the request first, then answer the status in place of its own (a gateway error
  /// after the write took effect).
  #[serde(default)]
  pub after_write: bool,
  /// Seconds for a Retry-After header on that answer.
  pub retry_after: Option<u64>,
  pub code: Option<u32>,
  pub message: Option<String>,
  /// A non-JSON body for the answer (as load balancers send on 502/503).
  pub raw_body: Option<String>,
  /// Delay before the request is processed.
  pub latency_ms: Option<u64>,
  pub drop: Option<DropWhen>,
  /// Hold the request, unprocessed, until `POST /__sandbox/faults/release` (or the faults are cleared): a test
  /// orders what happens meanwhile by events, not by time.
  #[serde(default)]
  pub hold: bool,
}

/// The answer a `status` rule gives in place of Twilio's.
#[derive(Debug, Clone)]
pub struct Injected {
  pub status: u16,
  pub retry_after: Option<u64>,
  pub code: u32,
  pub message: String,
  pub raw_body: Option<String>,
}

#[derive(Debug, Clone)]
pub enum FaultAction {
  /// Answers `answer`; with `after_write` only after the request took effect.
  Respond {
    answer: Injected,
    after_write: bool,
  },
  Delay(u64),
  Drop(DropWhen),
  Hold,
}

impl FaultAction {
  pub fn label(&self) -> String {
    match self {
      Self::Respond {
        answer,
        after_write: true,
      } => format!("status {} after the write", answer.status),
      Self::Respond { answer, .. } => format!("status {}", answer.status),
      Self::Delay(ms) => format!("latency {ms}ms"),
      Self::Hold => "held".to_string(),
      Self::Drop(DropWhen::Before) => "drop before".to_string(),
      Self::Drop(DropWhen::After) => "drop after".to_string(),
    }
  }
}

#[derive(Debug, Clone)]
pub struct Fault {
  pub spec: FaultSpec,
  regex: Regex,
  seen: u32,
  pub fired: u32,
}

impl Fault {
  pub fn new(spec: FaultSpec) -> Result<Self, String> {
    let regex = Regex::new(&spec.path).map_err(|e| format!("invalid path pattern: {e}"))?;
    if spec.status.is_none() && spec.latency_ms.is_none() && spec.drop.is_none() && !spec.hold {
      return Err("a fault needs one of status, latency_ms, drop or hold".to_string());
    }
    Ok(Self {
      spec,
      regex,
      seen: 0,
      fired: 0,
    })
  }

  fn limit(&self) -> Option<u32> {
    match (self.spec.times, self.spec.probability) {
      (Some(times), _) => Some(times),
      (None, Some(_)) => None,
      (None, None) => Some(1),
    }
  }

  /// Called for each request; answers the action when this rule fires for it.
  pub fn fire(&mut self, method: &str, path: &str) -> Option<FaultAction> {
    if self
      .spec
      .method
      .as_ref()
      .is_some_and(|m| !m.eq_ignore_ascii_case(method))
      || !self.regex.is_match(path)
    {
      return None;
    }
    self.seen += 1;
    if self.seen <= self.spec.after || self.limit().is_some_and(|limit| self.fired >= limit) {
      return None;
    }
    if let Some(p) = self.spec.probability {
      if !rand::rng().random_bool(p.clamp(0.0, 1.0)) {
        return None;
      }
    }
    self.fired += 1;
    let spec = &self.spec;
    Some(if let Some(status) = spec.status {
      let code = spec.code.unwrap_or(match status {
        429 => 20429,
        500 => 20500,
        503 => 20503,
        _ => u32::from(status),
      });
      let message = spec.message.clone().unwrap_or_else(|| {
        match status {
          429 => "Too Many Requests",
          500 => "Internal Server Error",
          502 => "Bad Gateway",
          503 => "Service Unavailable",
          504 => "Gateway Timeout",
          _ => "Injected fault",
        }
        .to_string()
      });
      FaultAction::Respond {
        answer: Injected {
          status,
          retry_after: spec.retry_after,
          code,
          message,
          raw_body: spec.raw_body.clone(),
        },
        after_write: spec.after_write,
      }
    } else if let Some(when) = spec.drop {
      FaultAction::Drop(when)
    } else if spec.hold {
      FaultAction::Hold
    } else {
      FaultAction::Delay(spec.latency_ms.unwrap_or(0))
    })
  }

  pub fn to_json(&self) -> serde_json::Value {
    serde_json::json!({
      "method": self.spec.method,
      "path": self.spec.path,
      "after": self.spec.after,
      "times": self.spec.times,
      "probability": self.spec.probability,
      "status": self.spec.status,
      "after_write": self.spec.after_write,
      "latency_ms": self.spec.latency_ms,
      "drop": self.spec.drop.map(|d| if d == DropWhen::Before { "before" } else { "after" }),
      "hold": self.spec.hold,
      "seen": self.seen,
      "fired": self.fired,
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn spec(json: serde_json::Value) -> FaultSpec {
    serde_json::from_value(json).unwrap()
  }

  #[test]
  fn a_rule_fires_once_by_default_after_the_requests_it_lets_through() {
    let mut fault = Fault::new(spec(
      serde_json::json!({"method": "POST", "path": "/Messages$", "after": 1, "status": 503}),
    ))
    .unwrap();
    assert!(fault.fire("GET", "/v1/Conversations/CH1/Messages").is_none());
    assert!(fault.fire("POST", "/v1/Conversations/CH1/Messages").is_none());
    assert!(matches!(
      fault.fire("POST", "/v1/Conversations/CH1/Messages"),
      Some(FaultAction::Respond {
        answer: Injected {
          status: 503,
          code: 20503,
          ..
        },
        after_write: false,
      })
    ));
    assert!(fault.fire("POST", "/v1/Conversations/CH1/Messages").is_none());
  }

  #[test]
  fn a_rule_without_an_action_is_refused() {
    assert!(Fault::new(spec(serde_json::json!({"path": "x"}))).is_err());
  }
}
