//! The Media Content Service (mcs.us1.twilio.com): upload as raw bytes or multipart, fetch, download.
//! Twilio's OpenAPI files do not describe it, so its routes are not checked against the contract.

use axum::extract::FromRequest;
use axum::http::Method;
use bytes::Bytes;

use super::{created, ok};
use crate::app::{App, Incoming, Reply};
use crate::error::{ApiError, ApiResult};

/// A media resource of the default service, or its bytes.
pub fn fetch(app: &App, incoming: &Incoming, sid: &str, content: bool) -> ApiResult<Reply> {
  let state = app.lock();
  let media = state
    .media
    .get(sid)
    .ok_or_else(|| ApiError::not_found(&incoming.path))?;
  Ok(if content {
    Reply::Bytes(media.content_type.clone(), media.bytes.clone())
  } else {
    ok(app.rendering(&state, "").media(media))
  })
}

/// An upload to the default service, as raw bytes with their type or as multipart.
pub async fn upload(app: &App, incoming: &Incoming) -> ApiResult<Reply> {
  let content_type = incoming
    .content_type()
    .ok_or_else(|| ApiError::bad_request(20001, "Content-Type of the media is required"))?
    .to_string();
  let (content_type, filename, bytes) = if content_type.starts_with("multipart/form-data") {
    first_file(incoming, &content_type).await?
  } else {
    (
      content_type,
      incoming.query.get("Filename").map(str::to_string),
      incoming.body.clone(),
    )
  };
  let category = incoming.query.get("Category").map(str::to_string);
  let mut state = app.lock();
  let service = state.account.chat_service_sid.clone();
  let media = state
    .add_media(&service, content_type, filename, category, bytes)?
    .clone();
  let ctx = app.rendering(&state, "");
  Ok(created(ctx.media(&media)))
}

/// The first part of a multipart body: its content type, file name and bytes.
async fn first_file(incoming: &Incoming, content_type: &str) -> ApiResult<(String, Option<String>, Bytes)> {
  let bad = |why: String| ApiError::bad_request(20001, format!("Invalid multipart body: {why}"));
  let request = axum::http::Request::builder()
    .method(Method::POST)
    .header(axum::http::header::CONTENT_TYPE, content_type)
    .body(axum::body::Body::from(incoming.body.clone()))
    .map_err(|e| bad(e.to_string()))?;
  let mut multipart = axum::extract::Multipart::from_request(request, &())
    .await
    .map_err(|e| bad(e.body_text()))?;
  let field = multipart
    .next_field()
    .await
    .map_err(|e| bad(e.body_text()))?
    .ok_or_else(|| bad("no part".to_string()))?;
  let part_type = field.content_type().unwrap_or("application/octet-stream").to_string();
  let filename = field.file_name().map(str::to_string);
  let bytes = field.bytes().await.map_err(|e| bad(e.body_text()))?;
  Ok((part_type, filename, bytes))
}
