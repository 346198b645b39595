//! Resources as Twilio renders them: snake_case JSON, ISO-8601 dates for v1, RFC 2822 dates for 2010, and URLs
//! on the sandbox's own origin so that `next_page_url` and `links` can be followed.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::params::Params;
use crate::state::records::ScopedWebhook;
use crate::state::webhooks::WebhookConfig;
use crate::state::{Account, Content, Conversation, Media, Message, Participant, Receipt, SmsMessage, Timers};

/// What a rendering needs besides the resource: the origin, the account, and the path prefix of the request
/// (`/v1` or `/v1/Services/IS…`).
pub struct Rendering<'a> {
  pub base: &'a str,
  pub account: &'a Account,
  pub prefix: String,
}

pub fn iso(date: DateTime<Utc>) -> String {
  date.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// ISO-8601 with milliseconds, for the request log.
pub fn iso_millis(date: DateTime<Utc>) -> String {
  date.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// An HTTP `Date` header's value (RFC 9110's IMF-fixdate).
pub fn http_date(date: DateTime<Utc>) -> String {
  date.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub fn rfc2822(date: DateTime<Utc>) -> String {
  date.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// `{}` without timers, else both dates (`null` for one not set).
fn timers(timers: &Timers) -> Value {
  if !timers.is_set() {
    return json!({});
  }
  json!({
    "date_inactive": timers.date_inactive.map(iso),
    "date_closed": timers.date_closed.map(iso),
  })
}

impl Rendering<'_> {
  fn url(&self, path: &str) -> String {
    format!("{}{}{}", self.base, self.prefix, path)
  }

  /// A Content resource, as `GET /v1/Content/{Sid}` answers it.
  pub fn content(&self, c: &Content) -> Value {
    let url = self.url(&format!("/Content/{}", c.sid));
    let mut value = self.content_fields(c);
    value["url"] = json!(url);
    value["links"] = json!({
      "approval_create": format!("{url}/ApprovalRequests/whatsapp"),
      "approval_fetch": format!("{url}/ApprovalRequests"),
    });
    value
  }

  fn content_fields(&self, c: &Content) -> Value {
    json!({
      "date_created": iso(c.date_created),
      "date_updated": iso(c.date_updated),
      "sid": c.sid,
      "account_sid": self.account.account_sid,
      "friendly_name": c.friendly_name,
      "language": c.language,
      "variables": c.variables,
      "types": c.types,
    })
  }

  /// An item of `GET /v1/ContentAndApprovals`: the approval's fields directly under `approval_requests`, as the
  /// description's example has them.
  pub fn content_and_approvals(&self, c: &Content, now: DateTime<Utc>) -> Value {
    let mut value = self.content_fields(c);
    value["approval_requests"] = approval(c, now);
    value
  }

  /// `GET /v1/Content/{Sid}/ApprovalRequests`: the WhatsApp approval under `whatsapp`.
  pub fn approval_fetch(&self, c: &Content, now: DateTime<Utc>) -> Value {
    let mut whatsapp = approval(c, now);
    whatsapp["type"] = json!("whatsapp");
    json!({
      "sid": c.sid,
      "account_sid": self.account.account_sid,
      "whatsapp": whatsapp,
      "url": self.url(&format!("/Content/{}/ApprovalRequests", c.sid)),
    })
  }

  pub fn conversation(&self, c: &Conversation) -> Value {
    let url = self.url(&format!("/Conversations/{}", c.sid));
    json!({
      "account_sid": self.account.account_sid,
      "chat_service_sid": self.account.chat_service_sid,
      "messaging_service_sid": self.account.messaging_service_sid,
      "sid": c.sid,
      "friendly_name": c.friendly_name,
      "unique_name": c.unique_name,
      "attributes": c.attributes,
      "state": c.state.as_str(),
      "date_created": iso(c.date_created),
      "date_updated": iso(c.date_updated),
      "timers": timers(&c.timers),
      "url": url,
      "links": {
        "participants": format!("{url}/Participants"),
        "messages": format!("{url}/Messages"),
        "webhooks": format!("{url}/Webhooks"),
      },
      "bindings": {},
    })
  }

  /// Only the service-scoped Participant and Message resources name their chat service.
  fn scoped(&self, value: &mut Value) {
    if self.prefix.starts_with("/v1/Services/") {
      value["chat_service_sid"] = json!(self.account.chat_service_sid);
    }
  }

  pub fn participant(&self, c: &Conversation, p: &Participant) -> Value {
    let mut value = json!({
      "account_sid": self.account.account_sid,
      "conversation_sid": c.sid,
      "sid": p.sid,
      "identity": p.identity,
      "attributes": p.attributes,
      "messaging_binding": p.binding.as_ref().map(|b| json!({
        "type": b.channel(),
        "address": b.address,
        "proxy_address": b.proxy_address,
      })),
      "role_sid": p.role_sid,
      "date_created": iso(p.date_created),
      "date_updated": iso(p.date_created),
      "url": self.url(&format!("/Conversations/{}/Participants/{}", c.sid, p.sid)),
      "last_read_message_index": null,
      "last_read_timestamp": null,
    });
    self.scoped(&mut value);
    value
  }

  pub fn message(&self, c: &Conversation, m: &Message) -> Value {
    let url = self.url(&format!("/Conversations/{}/Messages/{}", c.sid, m.sid));
    let mut value = json!({
      "account_sid": self.account.account_sid,
      "conversation_sid": c.sid,
      "sid": m.sid,
      "index": m.index,
      "author": m.author,
      "body": m.body,
      "media": m.media.as_ref().map(|items| items.iter().map(|r| json!({
        "sid": r.sid,
        "size": r.size,
        "content_type": r.content_type,
        "filename": r.filename,
        "category": "media",
      })).collect::<Vec<_>>()),
      "attributes": m.attributes,
      "participant_sid": m.participant_sid,
      "date_created": iso(m.date_created),
      "date_updated": iso(m.date_created),
      "url": url,
      "delivery": delivery(&m.receipts),
      "links": {
        "delivery_receipts": format!("{url}/Receipts"),
        "channel_metadata": format!("{url}/ChannelMetadata"),
      },
      "content_sid": m.content_sid,
    });
    self.scoped(&mut value);
    value
  }

  pub fn participant_conversation(&self, c: &Conversation, p: &Participant) -> Value {
    json!({
      "account_sid": self.account.account_sid,
      "chat_service_sid": self.account.chat_service_sid,
      "participant_sid": p.sid,
      "participant_user_sid": null,
      "participant_identity": p.identity,
      "participant_messaging_binding": p.binding.as_ref().map(|b| json!({
        "type": b.channel(),
        "address": b.address,
        "proxy_address": b.proxy_address,
      })),
      "conversation_sid": c.sid,
      "conversation_unique_name": c.unique_name,
      "conversation_friendly_name": c.friendly_name,
      "conversation_attributes": c.attributes,
      "conversation_date_created": iso(c.date_created),
      "conversation_date_updated": iso(c.date_updated),
      "conversation_created_by": "system",
      "conversation_state": c.state.as_str(),
      "conversation_timers": timers(&c.timers),
      "links": {
        "participant": self.url(&format!("/Conversations/{}/Participants/{}", c.sid, p.sid)),
        "conversation": self.url(&format!("/Conversations/{}", c.sid)),
      },
    })
  }

  pub fn sms(&self, m: &SmsMessage) -> Value {
    let uri = format!(
      "/2010-04-01/Accounts/{}/Messages/{}.json",
      self.account.account_sid, m.sid
    );
    json!({
      "body": m.body,
      "num_segments": "1",
      "direction": "outbound-api",
      "from": m.from,
      "to": m.to,
      "date_updated": rfc2822(m.date_created),
      "price": null,
      "error_message": null,
      "uri": uri,
      "account_sid": self.account.account_sid,
      "num_media": m.media_urls.len().to_string(),
      "status": "queued",
      "messaging_service_sid": m.messaging_service_sid,
      "sid": m.sid,
      "date_sent": null,
      "date_created": rfc2822(m.date_created),
      "error_code": null,
      "price_unit": "USD",
      "api_version": "2010-04-01",
      "subresource_uris": {
        "media": uri.replace(".json", "/Media.json"),
        "feedback": uri.replace(".json", "/Feedback.json"),
      },
    })
  }

  pub fn media(&self, m: &Media) -> Value {
    let path = format!("/v1/Services/{}/Media/{}", m.service_sid, m.sid);
    json!({
      "sid": m.sid,
      "account_sid": self.account.account_sid,
      "service_sid": m.service_sid,
      "date_created": iso(m.date_created),
      "date_upload_updated": iso(m.date_created),
      "date_updated": iso(m.date_created),
      "links": {
        "content": format!("{path}/Content"),
        "content_direct_temporary": format!("{}{path}/Content", self.base),
      },
      "size": m.bytes.len(),
      "content_type": m.content_type,
      "filename": m.filename,
      "author": "system",
      "category": m.category,
      "message_sid": m.message_sid,
      "channel_sid": null,
      "url": path,
      "is_multipart_upstream": false,
    })
  }
}

/// The message's `delivery` summary: how many receipts, and whether all, some or none reached each status
/// (a receipt that was delivered was also sent). `null` without non-chat recipients.
fn delivery(receipts: &[Receipt]) -> Value {
  if receipts.is_empty() {
    return Value::Null;
  }
  let share = |reached: &[&str]| {
    let count = receipts
      .iter()
      .filter(|r| r.status.as_deref().is_some_and(|s| reached.contains(&s)))
      .count();
    match count {
      0 => "none",
      n if n == receipts.len() => "all",
      _ => "some",
    }
  };
  json!({
    "total": receipts.len(),
    "sent": share(&["sent", "delivered", "read"]),
    "delivered": share(&["delivered", "read"]),
    "read": share(&["read"]),
    "failed": share(&["failed"]),
    "undelivered": share(&["undelivered"]),
  })
}

impl Rendering<'_> {
  pub fn receipt(&self, conversation_sid: &str, message_sid: &str, r: &Receipt) -> Value {
    let mut value = json!({
      "account_sid": self.account.account_sid,
      "conversation_sid": conversation_sid,
      "message_sid": message_sid,
      "sid": r.sid,
      "channel_message_sid": r.channel_message_sid,
      "participant_sid": r.participant_sid,
      "status": r.status,
      // An integer in Twilio's spec, 0 for none.
      "error_code": r.error_code.unwrap_or(0),
      "date_created": iso(r.date_created),
      "date_updated": iso(r.date_updated),
      "url": self.url(&format!("/Conversations/{conversation_sid}/Messages/{message_sid}/Receipts/{}", r.sid)),
    });
    self.scoped(&mut value);
    value
  }

  /// The account's configuration (`service` `None`) or a service's.
  pub fn webhook_config(&self, config: &WebhookConfig, service: Option<&str>) -> Value {
    let mut value = json!({
      "account_sid": self.account.account_sid,
      "pre_webhook_url": config.pre_webhook_url,
      "post_webhook_url": config.post_webhook_url,
      "filters": config.filters,
      "method": config.method,
    });
    match service {
      Some(service) => {
        value["chat_service_sid"] = json!(service);
        value["url"] = json!(format!("{}/v1/Services/{service}/Configuration/Webhooks", self.base));
      }
      None => {
        value["target"] = json!(config.target);
        value["url"] = json!(format!("{}/v1/Configuration/Webhooks", self.base));
      }
    }
    value
  }

  pub fn scoped_webhook(&self, conversation_sid: &str, w: &ScopedWebhook) -> Value {
    let configuration = match w.target.as_str() {
      "studio" => json!({ "flow_sid": w.flow_sid }),
      "trigger" => json!({ "url": w.url, "method": w.method, "filters": w.triggers }),
      _ => json!({ "url": w.url, "method": w.method, "filters": w.filters }),
    };
    let mut value = json!({
      "sid": w.sid,
      "account_sid": self.account.account_sid,
      "conversation_sid": conversation_sid,
      "target": w.target,
      "url": self.url(&format!("/Conversations/{conversation_sid}/Webhooks/{}", w.sid)),
      "configuration": configuration,
      "date_created": iso(w.date_created),
      "date_updated": iso(w.date_updated),
    });
    self.scoped(&mut value);
    value
  }
}

/// A template's WhatsApp approval as Twilio renders it; empty fields and `unsubmitted` before any request.
pub fn approval(c: &Content, now: DateTime<Utc>) -> Value {
  let (name, category) = c
    .approval
    .as_ref()
    .map_or(("", ""), |a| (a.name.as_str(), a.category.as_str()));
  json!({
    "name": name,
    "category": category,
    "content_type": if c.approval.is_some() { c.sent_type().unwrap_or_default() } else { "" },
    "status": c.approval_status(now),
    "rejection_reason": c.approval.as_ref().map_or("", |a| a.rejection_reason.as_str()),
    "allow_category_change": true,
  })
}

/// Twilio's v1 list envelope over one page of `items`, with `meta.key` and a followable `next_page_url`.
/// `filters` are the query parameters (other than paging) that every page URL repeats.
pub fn page(
  base: &str,
  path: &str,
  key: &str,
  items: Vec<Value>,
  query: &Params,
  filters: &[&str],
  default_size: usize,
) -> Value {
  let size = query
    .get("PageSize")
    .and_then(|s| s.parse::<usize>().ok())
    .filter(|s| *s > 0)
    .unwrap_or(default_size);
  // As at Twilio, `Page` is the client's count, echoed back; the token positions. A token no page handed out
  // positions past the end: an empty page.
  let number = query.get("Page").and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
  let start = query.get("PageToken").map_or(0, |token| {
    token
      .strip_prefix("PT")
      .and_then(|offset| offset.parse::<usize>().ok())
      .unwrap_or(usize::MAX)
  });
  let extra: String = filters
    .iter()
    .filter_map(|name| query.get(name).map(|v| (name, v)))
    .map(|(name, v)| {
      format!(
        "&{name}={}",
        form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
      )
    })
    .collect();
  let url_of = |n: usize, offset: usize| {
    let token = if offset == 0 {
      String::new()
    } else {
      format!("&PageToken=PT{offset}")
    };
    format!("{base}{path}?PageSize={size}{extra}&Page={n}{token}")
  };
  let start = start.min(items.len());
  let end = start.saturating_add(size).min(items.len());
  let has_next = end < items.len();
  let records: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
  let previous = (number > 0).then(|| Value::String(url_of(number - 1, start.saturating_sub(size))));
  json!({
    key: records,
    "meta": {
      "page": number,
      "page_size": size,
      "first_page_url": url_of(0, 0),
      "previous_page_url": previous.unwrap_or(Value::Null),
      "url": url_of(number, start),
      "next_page_url": if has_next { Value::String(url_of(number + 1, end)) } else { Value::Null },
      "key": key,
    }
  })
}
