//! `twilio-sandbox [--port N] [--host IP] [--account-sid AC…] [--auth-token …] [--limit NAME=N|off]… [--no-limits]
//! [--exit-on-stdin-close]`
//!
//! Twilio's documented limits are enforced by default; `--limit writes_per_second=off` switches one off,
//! `--limit conversations_per_identity=50` changes one, `--no-limits` switches them all off.
//!
//! Prints `TWILIO_BASE_URL=http://127.0.0.1:N` as its first line, then the credentials it accepts, and serves
//! until it is stopped (Ctrl-C, SIGTERM, or the end of standard input with `--exit-on-stdin-close`).

use std::io::Write;
use std::process::ExitCode;

use serde_json::Value;
use tokio::io::AsyncReadExt;
use twilio_sandbox::{Limits, Sandbox, SandboxConfig, DEFAULT_TEMPLATE_SID};

const USAGE: &str = "usage: twilio-sandbox [--port N] [--host IP] [--account-sid AC…] [--auth-token TOKEN] \
[--limit NAME=N|off]… [--no-limits] [--control-token TOKEN] [--exit-on-stdin-close]
Bound beyond loopback (--host 0.0.0.0), the control API demands a token in X-Sandbox-Token: the one given, or one
made up and printed as TWILIO_SANDBOX_CONTROL_TOKEN.
limits: conversations_per_identity participants_per_conversation non_chat_participants participants_per_request
        writes_per_second conversation_attributes_bytes message_attributes_bytes participant_attributes_bytes
        initializing_ms";

/// `NAME=N` or `NAME=off` applied to the limits.
fn limit(limits: &Limits, spec: &str) -> Result<Limits, String> {
  let (name, value) = spec
    .split_once('=')
    .ok_or_else(|| format!("--limit takes NAME=N or NAME=off, not {spec}"))?;
  let value = match value {
    "off" => Value::Null,
    number => Value::from(
      number
        .parse::<u64>()
        .map_err(|_| format!("--limit {name} takes a whole number or off"))?,
    ),
  };
  limits.patched(&serde_json::json!({ name: value }))
}

fn parse_args() -> Result<(SandboxConfig, bool), String> {
  let mut config = SandboxConfig::default();
  let mut exit_on_stdin_close = false;
  let mut args = std::env::args().skip(1);
  while let Some(arg) = args.next() {
    let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
    match arg.as_str() {
      "--port" => {
        config.port = value("--port")?
          .parse()
          .map_err(|_| "--port takes a number".to_string())?
      }
      "--host" => {
        config.host = Some(
          value("--host")?
            .parse()
            .map_err(|_| "--host takes an IP address".to_string())?,
        )
      }
      "--account-sid" => config.account_sid = Some(value("--account-sid")?),
      "--auth-token" => config.auth_token = Some(value("--auth-token")?),
      "--limit" => config.limits = limit(&config.limits, &value("--limit")?)?,
      "--no-limits" => config.limits = Limits::none(),
      "--control-token" => config.control_token = Some(value("--control-token")?),
      "--exit-on-stdin-close" => exit_on_stdin_close = true,
      "--help" | "-h" => return Err(String::new()),
      other => return Err(format!("unknown argument {other}")),
    }
  }
  Ok((config, exit_on_stdin_close))
}

async fn stopped(exit_on_stdin_close: bool) {
  let stdin_closed = async {
    if exit_on_stdin_close {
      let mut buffer = [0u8; 64];
      let mut stdin = tokio::io::stdin();
      while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
    } else {
      std::future::pending::<()>().await;
    }
  };
  #[cfg(unix)]
  let terminate = async {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
      Ok(mut signal) => {
        signal.recv().await;
      }
      Err(_) => std::future::pending::<()>().await,
    }
  };
  #[cfg(not(unix))]
  let terminate = std::future::pending::<()>();
  tokio::select! {
    _ = tokio::signal::ctrl_c() => {}
    _ = terminate => {}
    _ = stdin_closed => {}
  }
}

#[tokio::main]
async fn main() -> ExitCode {
  let (config, exit_on_stdin_close) = match parse_args() {
    Ok(parsed) => parsed,
    Err(message) => {
      if !message.is_empty() {
        eprintln!("twilio-sandbox: {message}");
      }
      eprintln!("{USAGE}");
      return ExitCode::from(2);
    }
  };
  let sandbox = match Sandbox::start(config).await {
    Ok(sandbox) => sandbox,
    Err(error) => {
      eprintln!("twilio-sandbox: cannot listen: {error}");
      return ExitCode::FAILURE;
    }
  };
  let mut out = std::io::stdout().lock();
  let _ = writeln!(out, "TWILIO_BASE_URL={}", sandbox.url());
  let _ = writeln!(out, "TWILIO_ACCOUNT_SID={}", sandbox.account_sid());
  let _ = writeln!(out, "TWILIO_AUTH_TOKEN={}", sandbox.auth_token());
  let _ = writeln!(out, "TWILIO_CHAT_SERVICE_SID={}", sandbox.chat_service_sid());
  if let Some(token) = sandbox.control_token() {
    let _ = writeln!(out, "TWILIO_SANDBOX_CONTROL_TOKEN={token}");
  }
  let _ = writeln!(out, "TWILIO_TEMPLATE_SID={DEFAULT_TEMPLATE_SID}");
  let _ = out.flush();
  drop(out);
  sandbox.serve_until(stopped(exit_on_stdin_close)).await;
  // Exit now: returning would wait for the blocking thread still reading standard input.
  std::process::exit(0)
}
