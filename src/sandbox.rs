//! The Twilio sandbox inside the addon: `startSandbox()` and `npx twilio-sandbox` serve the emulator on the
//! addon's runtime, so an installed package needs no second binary and no Rust toolchain.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use napi::{Error, Result, Status};
use napi_derive::napi;
use twilio_sandbox::{Limits, Sandbox, SandboxConfig, DEFAULT_TEMPLATE_SID};

#[napi(object)]
pub struct SandboxOptions {
  /// 0 (the default) picks a free port.
  pub port: Option<u32>,
  /// An IP address; loopback by default.
  pub host: Option<String>,
  pub account_sid: Option<String>,
  pub auth_token: Option<String>,
  pub control_token: Option<String>,
  /// Changes to Twilio's limits: a number sets one, `null` switches it off.
  pub limits: Option<serde_json::Value>,
  /// Every limit off before `limits` is applied.
  pub no_limits: Option<bool>,
}

/// What a started sandbox answers: where it listens and what it accepts.
#[napi(object)]
pub struct SandboxStarted {
  pub url: String,
  pub account_sid: String,
  pub auth_token: String,
  pub chat_service_sid: String,
  pub template_sid: String,
  pub control_token: Option<String>,
}

/// Running sandboxes by URL. A sandbox lives until `stopSandbox` (or the process ends), not until its JS
/// handle is collected: code may keep only the URL and credentials, as it could from a child process.
fn running() -> &'static Mutex<HashMap<String, Sandbox>> {
  static RUNNING: OnceLock<Mutex<HashMap<String, Sandbox>>> = OnceLock::new();
  RUNNING.get_or_init(Default::default)
}

fn invalid(message: String) -> Error {
  Error::new(Status::InvalidArg, message)
}

fn config(options: SandboxOptions) -> Result<SandboxConfig> {
  let port = match options.port {
    None => 0,
    Some(port) => u16::try_from(port).map_err(|_| invalid(format!("port {port} is not a TCP port")))?,
  };
  let host = match options.host {
    None => None,
    Some(host) => Some(
      host
        .parse()
        .map_err(|_| invalid(format!("host {host:?} is not an IP address")))?,
    ),
  };
  let mut limits = if options.no_limits == Some(true) {
    Limits::none()
  } else {
    Limits::default()
  };
  if let Some(patch) = options.limits {
    limits = limits.patched(&patch).map_err(invalid)?;
  }
  Ok(SandboxConfig {
    port,
    host,
    account_sid: options.account_sid,
    auth_token: options.auth_token,
    limits,
    control_token: options.control_token,
  })
}

#[napi]
pub async fn start_sandbox(options: SandboxOptions) -> Result<SandboxStarted> {
  let sandbox = Sandbox::start(config(options)?)
    .await
    .map_err(|error| Error::new(Status::GenericFailure, format!("the sandbox cannot listen: {error}")))?;
  let started = SandboxStarted {
    url: sandbox.url().to_string(),
    account_sid: sandbox.account_sid(),
    auth_token: sandbox.auth_token(),
    chat_service_sid: sandbox.chat_service_sid(),
    template_sid: DEFAULT_TEMPLATE_SID.to_string(),
    control_token: sandbox.control_token().map(str::to_string),
  };
  lock().insert(started.url.clone(), sandbox);
  Ok(started)
}

/// Stops the sandbox at `url` and closes its connections, resolving once its port is free; false when none
/// runs there.
#[napi]
pub async fn stop_sandbox(url: String) -> bool {
  let Some(sandbox) = lock().remove(&url) else {
    return false;
  };
  sandbox.shutdown().await;
  true
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<String, Sandbox>> {
  // A panic elsewhere while holding the map leaves it usable: it only holds handles.
  running().lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
