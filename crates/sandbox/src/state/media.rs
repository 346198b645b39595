//! The Media Content Service: uploaded files, attached to at most one message.

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::State;
use crate::error::{ApiError, ApiResult};
use crate::sid::new_sid;

#[derive(Debug, Clone)]
pub struct Media {
  pub sid: String,
  pub service_sid: String,
  pub content_type: String,
  pub filename: Option<String>,
  pub category: String,
  pub bytes: Bytes,
  pub message_sid: Option<String>,
  pub date_created: DateTime<Utc>,
}

impl State {
  pub fn add_media(
    &mut self,
    service_sid: &str,
    content_type: String,
    filename: Option<String>,
    category: Option<String>,
    bytes: Bytes,
  ) -> ApiResult<&Media> {
    if bytes.is_empty() {
      return Err(ApiError::bad_request(20001, "Media content is empty"));
    }
    let sid = new_sid("ME");
    let now = self.now();
    self.media.insert(
      sid.clone(),
      Media {
        sid: sid.clone(),
        service_sid: service_sid.to_string(),
        content_type,
        filename,
        category: category.unwrap_or_else(|| "media".to_string()),
        bytes,
        message_sid: None,
        date_created: now,
      },
    );
    Ok(&self.media[&sid])
  }
}
