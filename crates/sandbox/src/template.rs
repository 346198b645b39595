//! Path templates as Twilio's OpenAPI files write them (`/v1/Conversations/{Sid}`,
//! `/2010-04-01/Accounts/{Sid}.json`): matched against a request's path, reading the values of their `{…}`
//! segments in the same pass.

#[derive(Debug, Clone)]
enum Segment {
  Literal(String),
  /// `{Name}` with whatever stands before and after it in the segment (`{Sid}.json`).
  Param {
    prefix: String,
    suffix: String,
  },
}

#[derive(Debug, Clone)]
pub struct Template {
  text: String,
  segments: Vec<Segment>,
}

impl Template {
  pub fn parse(text: &str) -> Self {
    let segments = text
      .trim_start_matches('/')
      .split('/')
      .map(|seg| match (seg.find('{'), seg.find('}')) {
        (Some(open), Some(close)) if open < close => Segment::Param {
          prefix: seg[..open].to_string(),
          suffix: seg[close + 1..].to_string(),
        },
        _ => Segment::Literal(seg.to_string()),
      })
      .collect();
    Self {
      text: text.to_string(),
      segments,
    }
  }

  pub fn text(&self) -> &str {
    &self.text
  }

  /// How many segments are literal: of two templates that fit a path, the one with more is more specific.
  pub fn literals(&self) -> usize {
    self
      .segments
      .iter()
      .filter(|s| matches!(s, Segment::Literal(_)))
      .count()
  }

  /// The values of the `{…}` segments, in order, when the path fits this template.
  pub fn capture(&self, path: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if parts.len() != self.segments.len() {
      return None;
    }
    let mut values = Vec::new();
    for (part, segment) in parts.iter().zip(&self.segments) {
      match segment {
        Segment::Literal(literal) if literal == part => {}
        Segment::Param { prefix, suffix }
          if part.len() > prefix.len() + suffix.len()
            && part.starts_with(prefix.as_str())
            && part.ends_with(suffix.as_str()) =>
        {
          values.push(part[prefix.len()..part.len() - suffix.len()].to_string());
        }
        _ => return None,
      }
    }
    Some(values)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_template_fits_its_paths_and_reads_their_values() {
    let template = Template::parse("/2010-04-01/Accounts/{AccountSid}/Messages.json");
    assert_eq!(
      template.capture("/2010-04-01/Accounts/AC1/Messages.json"),
      Some(vec!["AC1".to_string()])
    );
    let account = Template::parse("/2010-04-01/Accounts/{Sid}.json");
    assert_eq!(
      account.capture("/2010-04-01/Accounts/AC1.json"),
      Some(vec!["AC1".to_string()])
    );
    assert_eq!(
      account.capture("/2010-04-01/Accounts/.json"),
      None,
      "an empty value does not fit"
    );
    assert_eq!(template.capture("/2010-04-01/Accounts/AC1/Messages"), None);
    assert_eq!(template.literals(), 3);
  }
}
