//! Where each Twilio host is reached: all at `baseUrl` (the sandbox, a proxy; https except to this machine), else
//! at the region's and edge's names, as twilio-node builds them.

use crate::error::{Error, Result};

/// Where each Twilio host is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
  pub api: String,
  pub conversations: String,
  pub media: String,
  /// The Content API: templates and their WhatsApp approval.
  pub content: String,
}

fn is_loopback(host: &str) -> bool {
  let host = host.trim_start_matches('[').trim_end_matches(']');
  host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The base URL's origin; credentials never travel over plain http except to this machine.
fn base_origin(value: &str) -> Result<String> {
  // Never the value itself: it may carry a password (`https://user:secret@host`).
  let invalid = |why: &str| Error::Config {
    message: format!("baseUrl {why}"),
  };
  let url = url::Url::parse(value).map_err(|_| invalid("is not a URL"))?;
  let host = url.host_str().ok_or_else(|| invalid("has no host"))?;
  match url.scheme() {
    "https" => {}
    "http" if is_loopback(host) => {}
    "http" => {
      return Err(invalid(
        "must use https: credentials are sent over plain http only to loopback hosts",
      ))
    }
    _ => return Err(invalid("must be an http(s) URL")),
  }
  Ok(value.trim_end_matches('/').to_string())
}

/// A region or edge becomes part of a host name: lowercase letters, digits and dashes only.
fn host_label(value: Option<String>, name: &str) -> Result<Option<String>> {
  match value {
    Some(label)
      if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
    {
      Err(Error::Config {
        message: format!("{name} must be lowercase letters, digits and dashes, like 'ie1' or 'dublin', not '{label}'"),
      })
    }
    other => Ok(other),
  }
}

fn twilio_hosts(region: Option<String>, edge: Option<String>) -> Hosts {
  // As twilio-node does: an edge without a region means us1.
  let region = region.or_else(|| edge.as_ref().map(|_| "us1".to_string()));
  let host = |product: &str| {
    let mut parts = vec![product.to_string()];
    parts.extend(edge.clone());
    parts.extend(region.clone());
    format!("https://{}.twilio.com", parts.join("."))
  };
  Hosts {
    api: host("api"),
    conversations: host("conversations"),
    content: host("content"),
    media: format!(
      "https://mcs.{}.twilio.com",
      region.clone().unwrap_or_else(|| "us1".to_string())
    ),
  }
}

/// Twilio's hosts: all at `baseUrl` when given (the sandbox, a proxy), else the region's and edge's.
pub(super) fn hosts(base_url: Option<String>, region: Option<String>, edge: Option<String>) -> Result<Hosts> {
  Ok(match base_url {
    Some(base) => {
      let origin = base_origin(&base)?;
      Hosts {
        api: origin.clone(),
        conversations: origin.clone(),
        content: origin.clone(),
        media: origin,
      }
    }
    None => twilio_hosts(host_label(region, "region")?, host_label(edge, "edge")?),
  })
}
