//! The Media Content Service (mcs.us1.twilio.com): upload as raw bytes or multipart, fetch, download.
//! Twilio's OpenAPI files do not describe it, so these routes are matched here, before the contract check.

use axum::extract::FromRequest;
use axum::http::{Method, StatusCode};
use bytes::Bytes;

use crate::app::{App, Incoming, Reply};
use crate::error::{ApiError, ApiResult};

/// Answers the request when it is a Media Content Service path, else `None`.
pub fn route(app: &App, incoming: &Incoming) -> ApiResult<Option<Reply>> {
  let parts: Vec<&str> = incoming.path.trim_start_matches('/').split('/').collect();
  let (service, media, content) = match parts.as_slice() {
    ["v1", "Services", service, "Media"] => (*service, None, false),
    ["v1", "Services", service, "Media", media] => (*service, Some(*media), false),
    ["v1", "Services", service, "Media", media, "Content"] => (*service, Some(*media), true),
    _ => return Ok(None),
  };
  if service != app.lock().account.chat_service_sid {
    return Err(ApiError::not_found(&incoming.path));
  }
  match (&incoming.method, media) {
    (&Method::POST, None) => upload(app, incoming, service).map(Some),
    (&Method::GET, Some(sid)) => {
      let state = app.lock();
      let media = state
        .media
        .get(sid)
        .ok_or_else(|| ApiError::not_found(&incoming.path))?;
      Ok(Some(if content {
        Reply::Bytes(media.content_type.clone(), media.bytes.clone())
      } else {
        let ctx = app.ctx(&state, "");
        Reply::Json(StatusCode::OK, ctx.media(media))
      }))
    }
    _ => Err(ApiError::new(
      405,
      20004,
      format!("Method not allowed: {} {}", incoming.method, incoming.path),
    )),
  }
}

fn upload(app: &App, incoming: &Incoming, service: &str) -> ApiResult<Reply> {
  let content_type = incoming
    .content_type()
    .ok_or_else(|| ApiError::bad_request(20001, "Content-Type of the media is required"))?
    .to_string();
  let (content_type, filename, bytes) = if content_type.starts_with("multipart/form-data") {
    first_file(incoming, &content_type)?
  } else {
    (
      content_type,
      incoming.query.get("Filename").map(str::to_string),
      incoming.body.clone(),
    )
  };
  let category = incoming.query.get("Category").map(str::to_string);
  let mut state = app.lock();
  let media = state
    .add_media(service, content_type, filename, category, bytes)?
    .clone();
  let ctx = app.ctx(&state, "");
  Ok(Reply::Json(StatusCode::CREATED, ctx.media(&media)))
}

/// The first part of a multipart body: its content type, file name and bytes.
fn first_file(incoming: &Incoming, content_type: &str) -> ApiResult<(String, Option<String>, Bytes)> {
  let bad = |why: String| ApiError::bad_request(20001, format!("Invalid multipart body: {why}"));
  let request = axum::http::Request::builder()
    .method(Method::POST)
    .header(axum::http::header::CONTENT_TYPE, content_type)
    .body(axum::body::Body::from(incoming.body.clone()))
    .map_err(|e| bad(e.to_string()))?;
  // The body is already in memory, so this completes without waiting on I/O.
  futures::executor::block_on(async move {
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
  })
}
