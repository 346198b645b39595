//! The one error type of the sandbox: every refusal renders Twilio's legacy error body
//! `{code, message, more_info, status}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
  pub status: StatusCode,
  pub code: u32,
  pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
  pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
    Self {
      status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
      code,
      message: message.into(),
    }
  }

  pub fn authenticate() -> Self {
    Self::new(401, 20003, "Authenticate")
  }

  pub fn not_found(path: &str) -> Self {
    Self::new(404, 20404, format!("The requested resource {path} was not found"))
  }

  pub fn bad_request(code: u32, message: impl Into<String>) -> Self {
    Self::new(400, code, message)
  }

  pub fn conflict(code: u32, message: impl Into<String>) -> Self {
    Self::new(409, code, message)
  }

  /// 50377: every write to a closed conversation.
  pub fn closed() -> Self {
    Self::bad_request(50377, "Can't update conversation as it's in final closed state")
  }

  pub fn body(&self) -> serde_json::Value {
    json!({
      "code": self.code,
      "message": self.message,
      "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
      "status": self.status.as_u16(),
    })
  }
}

impl IntoResponse for ApiError {
  fn into_response(self) -> Response {
    let mut response = (self.status, axum::Json(self.body())).into_response();
    if self.status == StatusCode::UNAUTHORIZED {
      response.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Basic realm=\"Twilio API\""),
      );
    }
    response
  }
}
